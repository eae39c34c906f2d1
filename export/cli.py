"""``actinr export``."""

from __future__ import annotations

import argparse

from actinr.engines.config import add_config_flags, config_from_args

from .exporter import ExportConfig

EPILOG = """examples:
  actinr export run/ -o model.engine                     fp32, biases baked 4x per frame interval
  actinr export run/ -o model16.engine --precision fp16  half the size
  actinr export run/ -o model.engine --exact-bias        also embed the bias-INR
  actinr export run/ -o model.engine --tensorrt          add a TensorRT plan for this GPU

Without --tensorrt the bundle holds ONNX only and any machine can play it; a player
with TensorRT builds (and caches) a plan for its own GPU on first use."""


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("run", help="run folder written by actinr train")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="bundle to write (e.g. model.engine)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    add_config_flags(parser, ExportConfig)


def run_export(args: argparse.Namespace) -> int:
    from actinr.engines.bundle import load
    from actinr.engines.info import describe

    from .exporter import export_run

    cfg = config_from_args(ExportConfig, args)
    summary = export_run(args.run, args.output, cfg, progress=not args.quiet)
    if not args.quiet:
        for note in summary["notes"]:
            print(f"note: {note}")
        print(describe(load(summary["path"])))
    return 0
