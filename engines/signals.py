"""Signals as exceptions: SIGTERM, SIGHUP and SIGQUIT stop a command the way Ctrl-C does.

A command run through ``actinr`` turns SIGTERM (``kill``, a scheduler's
timeout), SIGHUP (a closed terminal) and SIGQUIT (Ctrl-\\) into
:class:`Terminated`, a ``KeyboardInterrupt``, so the same cleanup runs for all: temporary
files are removed (engines/files.py), training writes its resume checkpoint
(train/fit.py), and the exit status is ``128 + signal number`` (130 for
SIGINT, 143 for SIGTERM), as a shell reports a process killed by it.
"""

from __future__ import annotations

import signal
import threading

# The signals a command stops on, cleanly.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
                     if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM, SIGHUP or SIGQUIT arrives."""

    def __init__(self, signum: int):
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_status(exc: BaseException) -> int:
    """The exit status for a command stopped by ``exc`` (a KeyboardInterrupt): 128 + its signal number."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


def _raise(signum, frame):
    raise Terminated(signum)


class StopOnSignals:
    """While active, SIGTERM, SIGHUP and SIGQUIT raise :class:`Terminated` (SIGINT keeps raising
    KeyboardInterrupt)."""

    def __enter__(self):
        self._old = {}
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                if sig != signal.SIGINT:
                    self._old[sig] = signal.signal(sig, _raise)
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
