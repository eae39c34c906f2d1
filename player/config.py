"""PlayConfig: how ``actinr-play`` plays or renders a bundle (field help is the --help text)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from actinr.engines.config import option
from actinr.engines.errors import ActinrError
from actinr.engines.media import parse_size

from .clock import MAX_SPEED, MIN_SPEED


@dataclass
class PlayConfig:
    """Playback (a window) or headless rendering (``output``) of one bundle."""

    size: str | None = option(None, "fixed render size WxH, scaled to the window for display; by default frames "
                                "are rendered at the window's pixel size (or the source size with --output)",
                          metavar="WxH")
    speed: float = option(1.0, "playback speed (0.5 = half speed, 2 = double)", metavar="X")
    slowmo: float | None = option(None, "slow motion: play N times slower (speed 1/N); no optical flow, the INR "
                                    "is continuous in time", metavar="N")
    start: float = option(0.0, "start at this many seconds into the clip", metavar="T")
    loop: bool = option(True, "loop playback: at the end, start again (--no-loop stops on the last frame; with "
                             "--output, a --duration past the end wraps or holds the last frame)")
    pause: bool = option(False, "start paused")
    vsync: bool = option(True, "wait for the display's refresh (--no-vsync to measure speed)")
    fullscreen: bool = option(False, "start fullscreen")
    osd: bool = option(True, "show the on-screen line for a few seconds at the start and after each key or seek "
                             "(--no-osd: only when i asks; o or I pins it on or off)")
    interop: bool = option(True, "on a CUDA decoder, hand frames to OpenGL through CUDA-GL interop (--no-interop "
                             "copies through the host, to compare)")
    backend: str = option("auto", "decoder backend: auto, triton, tensorrt, onnxruntime-cuda, torch-cuda, "
                              "torch-cpu or onnxruntime-cpu")
    device: str = option("auto", "auto, cpu, cuda or cuda:N")
    precision: str = option("auto", "auto, fp32 or fp16 (GPU backends)")
    exact_bias: bool = option(False, "evaluate the bundle's bias-INR instead of its baked tables")
    output: str | None = option(None, "render to this video file (mp4, mkv or mov) instead of a window; needs no "
                                  "display", metavar="FILE")
    fps: float | None = option(None, "--output frame rate (default: the source's)", metavar="F")
    duration: float | None = option(None, "--output length in seconds of output video (default: to the end of "
                                      "the clip at the chosen speed)", metavar="D")
    screenshots: str = option(".", "folder for screenshots (the s key)", metavar="DIR")
    target_fps: float | None = option(None, "while playing, hold this many displayed frames per second by rendering "
                                        "fewer pixels (stretched to the window), then refine to full size when "
                                        "paused; default: the monitor's refresh rate, else 30; 0: always full size",
                                      metavar="N")
    geometry: str | None = option(None, "open the window at WxH (as mpv); default: the video's size, at least 640 "
                                    "pixels wide and at most 90%% of the screen", metavar="WxH")
    compare: str | None = option(None, "show the source video (a file or a folder of frames: the clip the bundle was "
                                   "fitted to) beside the INR, split by a divider (drag it, or < and >), with the "
                                   "PSNR when the time is on a frame; with --output too", metavar="SOURCE")
    compare_split: float = option(0.5, "--compare: where the divider starts, 0 (all source) to 1 (all INR)",
                                  metavar="X")
    stats: str | None = option(None, "on exit, write one JSON record per displayed frame (video time, render size, "
                                 "decode / upload / present ms, wall time) and a summary to FILE", metavar="FILE")

    @property
    def window_geometry(self) -> tuple[int, int] | None:
        return None if self.geometry is None else parse_size(self.geometry, "--geometry")

    @property
    def play_speed(self) -> float:
        """The clock's speed: ``speed / slowmo``."""
        return self.speed / (self.slowmo or 1.0)

    @property
    def render_size(self) -> tuple[int, int] | None:
        return None if self.size is None else parse_size(self.size, "--size")

    def validate(self) -> None:
        """Check every value; raise one :class:`ActinrError` naming the flag."""
        self.render_size  # noqa: B018 (parses)
        for flag, value in (("--speed", self.speed), ("--slowmo", self.slowmo), ("--fps", self.fps),
                            ("--duration", self.duration)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ActinrError(f"{flag} must be a positive number, got {value:g}")
        if not MIN_SPEED <= self.play_speed <= MAX_SPEED:
            raise ActinrError(f"--speed / --slowmo must give a speed between {MIN_SPEED:g} and {MAX_SPEED:g}, "
                              f"got {self.play_speed:g}")
        if not (math.isfinite(self.start) and self.start >= 0):
            raise ActinrError(f"--start must be zero or more seconds, got {self.start:g}")
        if self.fps is not None and self.fps > 1000:
            raise ActinrError(f"--fps must be at most 1000, got {self.fps:g}")
        if self.output is None and (self.fps is not None or self.duration is not None):
            raise ActinrError("--fps and --duration are for --output (a window plays in real time)")
        if self.target_fps is not None and not (math.isfinite(self.target_fps) and 0 <= self.target_fps <= 1000):
            raise ActinrError(f"--target-fps must be between 0 (off) and 1000, got {self.target_fps:g}")
        self.window_geometry  # noqa: B018 (parses)
        if not (math.isfinite(self.compare_split) and 0.0 <= self.compare_split <= 1.0):
            raise ActinrError(f"--compare-split must be between 0 and 1, got {self.compare_split:g}")
        if self.output is not None:
            given = [flag for flag, v in (("--target-fps", self.target_fps), ("--geometry", self.geometry),
                                          ("--stats", self.stats)) if v is not None]
            if given:
                raise ActinrError(f"{', '.join(given)}: for the window, not --output (a file is rendered at --size)")
