"""The ``actinr`` command: an explicit table of subcommands, each implemented in its own stage.

Each :class:`Command` names its module and that module's two functions:
``add_arguments(parser)`` declares the flags (and may set the parser's
description and epilog) and ``run(args) -> int`` runs it. The table names
modules by string and imports only the one that runs, so this module (at the
bottom of the dependency chain) imports no stage and ``actinr --help`` starts
instantly. A user error (:class:`ActinrError`) or an I/O fault is printed on
one line and exits 1; SIGINT, SIGTERM, SIGHUP and SIGQUIT stop a command cleanly and
exit with 128 + the signal's number (engines/signals.py).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass

from .errors import ActinrError
from .files import os_reason
from .signals import StopOnSignals, exit_status


@dataclass(frozen=True)
class Command:
    """One subcommand: ``module``'s ``add_arguments`` and ``run`` functions, and its one-line summary."""

    module: str
    add_arguments: str
    run: str
    summary: str


COMMANDS = {
    "train": Command("actinr.train.cli", "add_train_arguments", "run_train", "fit ActINR to a video clip (PyTorch)"),
    "eval": Command("actinr.train.cli", "add_eval_arguments", "run_eval",
                    "render a fitted run and score it against its source"),
    "export": Command("actinr.export.cli", "add_export_arguments", "run_export",
                      "pack a fitted run into one .engine bundle (ONNX, optional TensorRT plan)"),
    "info": Command("actinr.engines.info", "add_info_arguments", "run_info", "show what a .engine bundle holds"),
    "play": Command("actinr.player.cli", "add_play_arguments", "run_play",
                    "play a bundle in a window, or render it to a video file (= actinr-play)"),
    "slowmo-strip": Command("actinr.player.strip", "add_strip_arguments", "run_strip",
                            "a picture of one region across in-between times: the model above, blending below"),
    "bench": Command("actinr.player.bench.run", "add_bench_arguments", "run_bench",
                     "frames per second per backend and output size, against plain PyTorch"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {c.summary}" for name, c in COMMANDS.items())
    return (f"usage: actinr COMMAND [options]\n\nReal-time playback runtime for ActINR video INRs.\n\n"
            f"commands:\n{rows}\n\nRun 'actinr COMMAND --help' for a command's options.")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from importlib.metadata import version

        print(f"actinr {version('actinr')}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        print(f"actinr: unknown command '{name}' (commands: {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    return run_command(name, argv[1:], f"actinr {name}")


def run_command(name: str, argv: list[str], prog: str) -> int:
    """Parse ``argv`` for command ``name`` and run it; user errors -> one line and exit status 1."""
    command = COMMANDS[name]
    module = importlib.import_module(command.module)
    parser = argparse.ArgumentParser(prog=prog, description=command.summary[0].upper() + command.summary[1:] + ".",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    getattr(module, command.add_arguments)(parser)
    args = parser.parse_args(argv)
    args.given = given_flags(parser, argv)
    try:
        with StopOnSignals():
            return int(getattr(module, command.run)(args) or 0)
    except ActinrError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"{prog}: {f'stopped by {exc}' if hasattr(exc, 'signum') else 'interrupted'}", file=sys.stderr)
        return exit_status(exc)
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. `| head -1`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit flush
        return 141
    except OSError as exc:  # an I/O fault no check foresaw: still one line, never a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{prog}: error: {where}{os_reason(exc)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{prog}: error: out of memory (try a smaller --size, or close other programs)", file=sys.stderr)
        return 1


def given_flags(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The destinations of the options the user actually typed in ``argv`` (not those left at their defaults)."""
    saved = [(action, action.default) for action in parser._actions]
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        typed, _ = parser.parse_known_args(argv)
    finally:
        for action, default in saved:
            action.default = default
    return set(vars(typed))


if __name__ == "__main__":
    sys.exit(main())
