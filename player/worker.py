"""Decoding off the input path: one background thread renders the frames the window asks for.

A frame can take longer than a display refresh (a large window on a CPU, a
4K frame, a new size's first plan). If the window's loop decoded itself, a key
would wait for the frame in progress; with this thread the loop keeps reading
events while a frame decodes, so q, pause or a seek take effect at once and the
next request already carries them. The decoder is used from this thread only
while the window runs (a screenshot waits until it is idle); OpenGL stays on
the window's thread (uploads happen there).

PyTorch and NumPy release the GIL inside their kernels, so the two threads
run in parallel where it matters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class DecodeWorker:
    """Runs ``decode(request)`` on a daemon thread, one request at a time; the newest request wins.

    ``wake`` is called (from the worker thread) when a result is ready, to
    wake a loop sleeping in ``glfwWaitEventsTimeout`` (``glfw.post_empty_event``).
    """

    def __init__(self, decode: Callable, wake: Callable[[], None] | None = None):
        self._decode, self._wake = decode, wake
        self._cond = threading.Condition()
        self._job = None
        self._result = None  # (request, value) or (request, exception)
        self._busy = False
        self._stop = False
        self.submitted = None  # the last request handed over
        self._thread = threading.Thread(target=self._loop, name="actinr-decode", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._busy

    def submit(self, request) -> None:
        with self._cond:
            self._job, self._busy, self.submitted = request, True, request
            self._cond.notify_all()

    def take(self):
        """The finished ``(request, value)``, or None; a failure in ``decode`` is raised here."""
        with self._cond:
            done, self._result = self._result, None
        if done is not None and isinstance(done[1], BaseException):
            raise done[1]
        return done

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy, timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Stop after the frame in progress; True when the thread has ended within ``timeout``."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job is not None or self._stop)
                if self._stop:
                    self._busy = False
                    self._cond.notify_all()
                    return
                request, self._job = self._job, None
            try:
                value = self._decode(request)
            except BaseException as exc:  # noqa: BLE001 (handed to the window's thread, which raises it)
                value = exc
            with self._cond:
                self._result = (request, value)
                self._busy = self._job is not None
                self._cond.notify_all()
            if self._wake is not None:
                self._wake()
