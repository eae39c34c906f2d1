"""``actinr train`` and ``actinr eval``."""

from __future__ import annotations

import argparse
import sys

from actinr.engines.config import add_config_flags, config_from_args
from actinr.engines.errors import ActinrError

from .config import TrainConfig

EPILOG = """examples:
  actinr train clip.mp4 -o run/                       fit the whole clip
  actinr train clip.mp4 -o run/ --frames 20 --iters 500
  actinr train clip.mp4 -o run/ --task interp --every 2
  actinr train --resume -o run/                       continue after Ctrl-C

Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT) stops after the current step and writes a resumable checkpoint;
--resume continues with the run's own options (typing a different one is refused). A lock
file (RUN/.lock) keeps a second process from training the same run. RUN and its missing
parent folders are created."""


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("source", nargs="?", help="video file (mp4/mkv/avi/mov) or folder of PNG/JPEG frames")
    parser.add_argument("-o", "--output", required=True, metavar="RUN",
                        help="run folder to write (created, with any missing parents)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in RUN")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summary lines")
    add_config_flags(parser, TrainConfig)


def run_train(args: argparse.Namespace) -> int:
    import dataclasses

    from actinr.engines.signals import exit_status

    from .fit import Interrupted, train

    if args.resume:
        cfg = None
        typed = getattr(args, "given", set())
        given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if f.name in typed}
        given["source"] = args.source
    else:
        if not args.source:
            raise ActinrError("a source video is required (or --resume to continue a run)")
        cfg = config_from_args(TrainConfig, args, source=args.source)
        cfg.validate()
        given = None
    try:
        run = train(cfg, args.output, resume=args.resume, progress=not args.quiet, given=given)
    except Interrupted as stop:
        print(f"actinr train: {stop}", file=sys.stderr)
        return exit_status(stop)
    if not args.quiet:
        done = run.results
        mean = sum(r.psnr for r in done) / len(done)
        secs = sum(r.seconds for r in done)
        print(f"{run.path}: {len(done)} GOPs, mean fit PSNR {mean:.2f} dB, {secs:.1f} s of training")
    return 0


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder written by actinr train")
    parser.add_argument("--size", metavar="WxH", help="render at this size (larger than the source: super-resolution)")
    parser.add_argument("--json", metavar="FILE", help="also write the full report (every frame) as JSON")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where to render (default: cpu)")


def run_eval(args: argparse.Namespace) -> int:
    from actinr.engines.files import check_output

    from .evaluate import evaluate, format_report, write_report
    from .fit import pick_device

    if args.json:
        check_output(args.json, what="--json")  # before the evaluation, not after it
    report = evaluate(args.run, args.size, pick_device(args.device), progress=sys.stderr.isatty())
    print(format_report(report))
    if args.json:
        write_report(args.json, report)
    return 0
