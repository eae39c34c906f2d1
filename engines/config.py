"""Dataclass configs become command-line flags: each field's ``help`` metadata is its --help text.

Shared by every stage (TrainConfig, ExportConfig, PlayConfig, BenchConfig):
:func:`option` declares a field, :func:`add_config_flags` turns the fields into
flags, :func:`config_from_args` builds the config back, and
:func:`command_line` writes a config as the command that would make it.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import typing


def option(default, help: str, **meta):  # noqa: A002 (argparse's name)
    """A config field with a default and its --help text (``choices``, ``metavar`` pass through)."""
    return dataclasses.field(default=default, metadata={"help": help, **meta})


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_config_flags(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """Add one ``--flag`` per dataclass field of ``cls`` (underscores become dashes)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.metadata.get("help"):
            continue
        flag = flag_name(f.name)
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


def command_line(prog: str, cfg, positional: tuple[str, ...] = ()) -> str:
    """``cfg`` as the command that makes it: ``positional`` fields first, then every flag off its default."""
    parts = [str(getattr(cfg, name)) for name in positional if getattr(cfg, name) is not None]
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if f.name in positional or not f.metadata.get("help") or value == f.default:
            continue
        if isinstance(value, bool):
            parts.append(flag_name(f.name) if value else "--no-" + f.name.replace("_", "-"))
        else:
            parts += [flag_name(f.name), f"{value:g}" if isinstance(value, float) else str(value)]
    return " ".join([prog, shlex.join(parts)]) if parts else prog
