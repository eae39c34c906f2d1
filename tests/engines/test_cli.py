"""The command table (engines/cli.py), optional imports and config <-> command line (engines/config.py)."""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass

import pytest

from actinr.engines.cli import COMMANDS, run_command
from actinr.engines.config import add_config_flags, command_line, config_from_args, option
from actinr.engines.errors import ActinrError, optional_import


def test_every_command_names_functions_that_exist():
    assert list(COMMANDS) == ["train", "eval", "export", "info", "play", "slowmo-strip", "bench"]
    for name, command in COMMANDS.items():
        module = importlib.import_module(command.module)
        assert callable(getattr(module, command.add_arguments)), name
        assert callable(getattr(module, command.run)), name
        assert command.summary and command.summary[0].islower(), name


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_of_every_command(name, capsys):
    with pytest.raises(SystemExit) as exc:
        run_command(name, ["--help"], f"actinr {name}")
    out = capsys.readouterr().out
    assert exc.value.code == 0 and out.startswith(f"usage: actinr {name}")
    if name in ("train", "export", "info", "play", "bench"):  # the ones with examples
        assert "examples:" in out


def test_optional_import_names_the_package_and_the_extra(monkeypatch):
    assert optional_import("json") is importlib.import_module("json")
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(ActinrError, match=r"^this needs the Python package 'tensorrt', which is not installed: "
                                          r"pip install 'actinr\[tensorrt\]'$"):
        optional_import("tensorrt", "tensorrt")
    with pytest.raises(ActinrError, match=r"package 'onnxruntime-gpu'.*pip install 'actinr\[gpu\]'"):
        optional_import("tensorrt", "gpu", "onnxruntime-gpu")
    with pytest.raises(ActinrError, match=r"package 'nosuchthing', which is not installed: pip install nosuchthing"):
        optional_import("nosuchthing.sub")
    # alternatives are tried in order: a package that moved its module
    assert optional_import(("nosuchthing.runtime", "json")) is importlib.import_module("json")


@dataclass
class Demo:
    model: str | None = None
    size: str | None = option(None, "a size", metavar="WxH")
    frames: int = option(200, "frames")
    speed: float = option(1.0, "speed")
    display: bool = option(False, "display")
    reference: bool = option(True, "reference")


def test_command_line_parses_back_to_the_same_config():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?")
    add_config_flags(parser, Demo)
    cfg = Demo(model="my model.engine", size="640x360", frames=12, speed=0.25, display=True, reference=False)
    text = command_line("actinr bench", cfg, positional=("model",))
    assert text == "actinr bench 'my model.engine' --size 640x360 --frames 12 --speed 0.25 --display --no-reference"
    import shlex

    again = config_from_args(Demo, parser.parse_args(shlex.split(text)[2:]))
    assert again == cfg
    assert command_line("actinr bench", Demo(), positional=("model",)) == "actinr bench"  # defaults are left out
