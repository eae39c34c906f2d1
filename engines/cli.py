"""The ``actinr`` command: an explicit table of subcommands, each implemented in its own stage.

Each :class:`Command` names its module and that module's two functions:
``add_arguments(parser)`` declares the flags (and may set the parser's
description and epilog) and ``run(args) -> int`` runs it. The table names
modules by string and imports only the one that runs, so this module (at the
bottom of the dependency chain) imports no stage and ``actinr --help`` starts
instantly. A user error (:class:`ActinrError`) is printed on one line and
exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass

from .errors import ActinrError


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
    try:
        return int(getattr(module, command.run)(args) or 0)
    except ActinrError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. `| head -1`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit flush
        return 141


if __name__ == "__main__":
    sys.exit(main())
