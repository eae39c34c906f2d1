"""The ``actinr`` command: a table of subcommands, each implemented in its own stage.

The table names modules by string and imports only the one that runs, so this
module (at the bottom of the dependency chain) imports no stage, and
``actinr --help`` starts instantly. A stage module ``M`` listed as ``"M:name"``
provides ``add_name_arguments(parser)`` and ``run_name(args) -> int``.
A user error (:class:`ActinrError`) is printed on one line and exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .errors import ActinrError

COMMANDS = {
    "train": ("actinr.train.cli:train", "fit ActINR to a video clip (PyTorch)"),
    "eval": ("actinr.train.cli:eval", "render a fitted run and score it against its source"),
    "export": ("actinr.export.cli:export", "pack a fitted run into one .engine bundle (ONNX, optional TensorRT plan)"),
    "info": ("actinr.engines.info:info", "show what a .engine bundle holds"),
    "play": ("actinr.player.cli:play", "play a bundle in a window, or render it to a video file (= actinr-play)"),
    "bench": ("actinr.player.bench:bench", "frames per second per backend and output size, against plain PyTorch"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items())
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
    target, summary = COMMANDS[name]
    module_name, prefix = target.split(":")
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=prog, description=getattr(module, f"{prefix.upper()}_DESCRIPTION",
                                                                    summary[0].upper() + summary[1:] + "."),
                                     epilog=getattr(module, f"{prefix.upper()}_EPILOG", None),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    getattr(module, f"add_{prefix}_arguments")(parser)
    args = parser.parse_args(argv)
    try:
        return int(getattr(module, f"run_{prefix}")(args) or 0)
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
