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
  actinr train clip.mp4 -o run/ --workers 4           4 chains of GOPs in parallel (local Ray)
  actinr train clip.mp4 -o run/ --workers 8 --ray-address auto --device cuda   on a Ray cluster, a GPU per task

Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT) stops after the current step and writes a resumable checkpoint;
--resume continues with the run's own options (typing a different one is refused), with any
--workers: it fits only the GOPs not yet written (a parallel run writes each GOP as it ends). A lock
file (RUN/.lock) keeps a second process from training the same run. RUN and its missing
parent folders are created."""


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("source", nargs="?", help="video file (mp4/mkv/avi/mov) or folder of PNG/JPEG frames")
    parser.add_argument("-o", "--output", required=True, metavar="RUN",
                        help="run folder to write (created, with any missing parents)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in RUN")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summary lines")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="fit the GOPs in N parallel chains on Ray (pip install 'actinr[ray]'); each worker "
                             "reads only its GOPs' frames; 1 (the default): in this process, without Ray")
    parser.add_argument("--ray-address", metavar="ADDR",
                        help="with --workers: join this Ray cluster (auto, or host:port) instead of starting a "
                             "local Ray instance for the run; its nodes must see RUN and SOURCE at the same paths")
    parser.add_argument("--chain-start", choices=("first", "cold"), default="first",
                        help="with --workers: how each chain of GOPs but the first starts: first (from the clip's "
                             "first GOP, once it is fitted; the default: 0.29 dB from a sequential fit, against "
                             "0.72 dB for cold, docs/measurements.md) or cold (a fresh model, at once)")
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
        if args.ray_address is not None and args.workers < 2:
            raise ActinrError("--ray-address is for parallel fitting: give --workers N (2 or more) too")
        run = train(cfg, args.output, resume=args.resume, progress=not args.quiet, given=given,
                    workers=args.workers, ray_address=args.ray_address, chain_start=args.chain_start)
    except Interrupted as stop:
        print(f"actinr train: {stop}", file=sys.stderr)
        return exit_status(stop)
    if not args.quiet:
        done = run.results
        mean = sum(r.psnr for r in done) / len(done)
        secs = sum(r.seconds for r in done)
        detail = "" if run.detail is None else f", the frames' detail {run.detail:.1f} dB"
        print(f"{run.path}: {len(done)} GOPs of {run.layout.count} patches of {run.patch} px{detail}, "
              f"mean fit PSNR {mean:.2f} dB, {secs:.1f} s of training (hidden products in {run.config.matmul})")
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
