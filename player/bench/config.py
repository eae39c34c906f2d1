"""BenchConfig: what ``actinr bench`` measures; its fields are the command's flags, and it is stored in the JSON."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from actinr.engines.config import option
from actinr.engines.errors import ActinrError, optional_import
from actinr.engines.media import parse_size

SIZE_NAMES = {"360p": (640, 360), "480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080),
              "1440p": (2560, 1440), "2160p": (3840, 2160), "4k": (3840, 2160)}
GPU_SIZES = "720p,1080p,2160p"
CPU_SIZES = "source,720p"
MIN_FRAMES = 10  # a row that hits --max-seconds still times at least this many frames


@dataclass
class BenchConfig:
    """One ``actinr bench`` run (``model`` is the positional argument; every other field is a flag)."""

    model: str | None = None
    backends: str = option("auto", "auto (every backend that loads here, each skipped one with its reason) or a "
                                   "list of triton, tensorrt, onnxruntime-cuda, torch-cuda, torch-cpu, onnxruntime-cpu",
                           metavar="auto|NAME,...")
    sizes: str | None = option(None, f"output sizes, e.g. 720p,1080p,2160p,640x360 (default: {GPU_SIZES} with a GPU "
                                     f"backend, else {CPU_SIZES})", metavar="LIST")
    frames: int = option(200, "timed frames per row", metavar="N")
    warmup: int = option(10, "untimed frames first", metavar="N")
    slowmo: float = option(1.0, "advance 1/N of a source frame per rendered frame, as --slowmo N plays (1: a new "
                                "source frame every frame)", metavar="N")
    precision: str = option("auto", "decoder precisions, e.g. fp32,fp16 for a row of each: auto (the bundle's on GPU "
                                    "backends, fp32 on the CPU), fp32, fp16 (GPU backends)",
                            metavar="auto|fp32|fp16,...")
    max_seconds: float = option(30.0, f"end a row after S seconds of timed frames once it has {MIN_FRAMES}",
                                metavar="S")
    display: bool = option(False, "also upload and present every frame the player's way (vsync off) and time each "
                                  "stage: in a window when there is a display, else offscreen")
    offscreen: bool = option(False, "with --display: offscreen (EGL) even with a display")
    reference: bool = option(True, "time train/'s plain PyTorch model too, for the speed-up column "
                                   "(--no-reference skips it)")
    sweep: bool = option(False, "also a row per value of each backend's tuning options (the CPU backends' chunk "
                                "sizes, torch-cuda without CUDA graphs)")
    json: str | None = option(None, "write the results as JSON", metavar="FILE")
    plot: str | None = option(None, "write a PNG of FPS against output pixels (log-log)", metavar="FILE.png")
    save: str | None = option(None, "write DIR/<date>-<device>-bench-<model>.json, .png and .log (the printed table)",
                              metavar="DIR")
    quiet: bool = option(False, "no progress bars")

    def validate(self) -> None:
        """Every check that needs no measurement, so a bad flag fails before the run, not after it."""
        if self.frames < 1:
            raise ActinrError(f"--frames must be at least 1, got {self.frames}")
        if self.warmup < 0:
            raise ActinrError(f"--warmup must be 0 or more, got {self.warmup}")
        for flag, v in (("--slowmo", self.slowmo), ("--max-seconds", self.max_seconds)):
            if not (math.isfinite(v) and v > 0):
                raise ActinrError(f"{flag} must be a positive number, got {v:g}")
        if self.offscreen and not self.display:
            raise ActinrError("--offscreen is a way of --display; give both")
        if self.plot and Path(self.plot).suffix.lower() != ".png":
            raise ActinrError(f"--plot writes PNG; give a .png file name, got {self.plot}")
        for flag, path in (("--json", self.json), ("--plot", self.plot)):
            if path and Path(path).is_dir():
                raise ActinrError(f"{flag} {path}: is a folder; give a file name")
        if self.save and Path(self.save).exists() and not Path(self.save).is_dir():
            raise ActinrError(f"--save {self.save}: not a folder")
        if self.plot or self.save:
            optional_import("matplotlib", "bench")  # said now, not after the whole run
        parse_backends(self.backends)
        parse_precisions(self.precision)


def parse_sizes(text: str, source: tuple[int, int]) -> list[tuple[int, int]]:
    """``--sizes`` -> distinct (w, h) in the given order; ``source`` is the clip's own size."""
    from actinr.engines.decoder import check_size

    sizes: list[tuple[int, int]] = []
    for token in str(text).split(","):
        token = token.strip().lower()
        if token == "source":
            size = tuple(source)
        elif token in SIZE_NAMES:
            size = SIZE_NAMES[token]
        elif re.fullmatch(r"\d+x\d+", token):
            size = parse_size(token, "--sizes")
        else:
            raise ActinrError(f"--sizes: {token!r} is not WxH, source or one of {', '.join(SIZE_NAMES)}")
        try:
            size = check_size(size)
        except ActinrError as exc:
            raise ActinrError(f"--sizes: {exc}") from None
        if size not in sizes:
            sizes.append(size)
    return sizes


def parse_backends(text: str) -> list[str] | None:
    """``--backends`` -> backend names in the given order, or None for auto (every one that loads)."""
    from actinr.engines.backends import BACKENDS

    names = [t.strip().lower() for t in str(text).split(",")]
    if names == ["auto"]:
        return None
    out: list[str] = []
    for name in names:
        if name not in BACKENDS:
            raise ActinrError(f"--backends: unknown backend {name!r} (auto, or a list of: {', '.join(BACKENDS)})")
        if name not in out:
            out.append(name)
    return out


def parse_precisions(text: str) -> list[str]:
    """``--precision`` -> distinct entries of auto, fp32, fp16 in the given order."""
    out: list[str] = []
    for token in str(text).split(","):
        token = token.strip().lower()
        if token not in ("auto", "fp32", "fp16"):
            raise ActinrError(f"--precision: {token!r} is not auto, fp32 or fp16")
        if token not in out:
            out.append(token)
    return out
