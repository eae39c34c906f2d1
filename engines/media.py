"""Writing frames: H.264 video files and PNG images, atomically; ``WxH`` size parsing.

Shared by training (eval renders), the player (headless --output, screenshots)
and the benchmarks, so it lives at the bottom of the dependency chain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import ActinrError
from .files import write_atomic

# Above this many pixels (4K UHD) x264 runs with one reference picture, no B-frames and no look-ahead, which
# about halves the pictures it holds (benchmarks/memory.py; engines/memory.py counts them).
LOW_MEMORY_PIXELS = 3840 * 2160
X264_LOW_MEMORY = "ref=1:bframes=0:rc-lookahead=0:sync-lookahead=0:threads=2"
# Containers the writer can fill with H.264, by file suffix.
VIDEO_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


def parse_size(text: str, what: str = "size") -> tuple[int, int]:
    """``"WxH"`` -> (W, H) positive integers; ``what`` names the flag in the error."""
    m = re.fullmatch(r"\s*(-?\d+)\s*[xX]\s*(-?\d+)\s*", str(text))
    if not m:
        raise ActinrError(f"{what} must look like WIDTHxHEIGHT (e.g. 640x360), got {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if w < 1 or h < 1:
        raise ActinrError(f"{what} must be positive, got {text!r}")
    return w, h


def check_video_path(path) -> str:
    """The container format for ``path``'s suffix, or a one-line error listing the ones we write."""
    fmt = VIDEO_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ActinrError(f"{path}: cannot write this kind of video; use one of {', '.join(VIDEO_FORMATS)}")
    return fmt


def write_video(path, frames: Iterable[np.ndarray], fps: float, crf: int = 18,
                on_frame: Callable[[], None] | None = None) -> int:
    """Write RGB uint8 frames (an array or an iterable of (H, W, 3)) as H.264, atomically.

    The container follows the suffix (mp4, m4v, mov, mkv). Odd sides are padded
    by one edge pixel (yuv420p needs even sizes). ``on_frame`` is called after
    each frame (a progress bar). Returns the number of frames written.
    """
    import av

    path = Path(path)
    fmt = check_video_path(path)
    count = 0

    def write(tmp: str) -> None:
        nonlocal count
        with av.open(tmp, "w", format=fmt) as container:
            stream = None
            for frame in frames:
                if stream is None:
                    h, w = frame.shape[:2]
                    stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                    stream.width, stream.height = w + w % 2, h + h % 2
                    stream.pix_fmt = "yuv420p"
                    stream.options = {"crf": str(crf)}
                    if w * h > LOW_MEMORY_PIXELS:  # x264's pictures dominate memory above 4K: keep fewer
                        stream.options["x264-params"] = X264_LOW_MEMORY
                if frame.shape[0] % 2 or frame.shape[1] % 2:
                    frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), mode="edge")
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                container.mux(stream.encode(vf))
                count += 1
                if on_frame is not None:
                    on_frame()
            if stream is None:
                raise ActinrError(f"{path}: no frames to write")
            container.mux(stream.encode())

    write_atomic(path, write)
    return count


def write_png(path, frame: np.ndarray) -> None:
    """Write one (H, W, 3) uint8 frame as PNG, atomically."""
    from PIL import Image

    write_atomic(path, lambda tmp: Image.fromarray(np.ascontiguousarray(frame)).save(tmp, format="PNG"))
