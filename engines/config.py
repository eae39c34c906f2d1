"""Dataclass configs become command-line flags: each field's ``help`` metadata is its --help text.

Shared by every stage (TrainConfig, later ExportConfig, PlayConfig, BenchConfig).
"""

from __future__ import annotations

import argparse
import dataclasses
import typing


def add_config_flags(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """Add one ``--flag`` per dataclass field of ``cls`` (underscores become dashes)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.metadata.get("help"):
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = hints[f.name]
        default = f.default if f.default is not dataclasses.MISSING else None
        extra = {}
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=f.metadata["help"])
            continue
        base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
        if f.metadata.get("choices"):
            extra["choices"] = f.metadata["choices"]
        shown = "" if default is None else f" (default: {default})"
        parser.add_argument(flag, type=base, default=default, metavar=f.metadata.get("metavar"),
                            help=f.metadata["help"] + shown, **extra)


def config_from_args(cls, args: argparse.Namespace, **overrides):
    """Build ``cls`` from parsed flags (fields without a flag keep their default)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    values.update(overrides)
    return cls(**values)
