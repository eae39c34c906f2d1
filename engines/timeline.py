"""Source time -> (GOP, local time): the one rule that training, export and every decoder share.

GOP g covers frames ``first .. last`` (inclusive; neighbours share one frame).
A frame position exactly on a shared frame is rendered by the GOP that starts
there (the later one); positions before the first or after the last frame
clamp. Inside a GOP the bias-INR takes the local time ``(f - first) / (last - first)``
in [0, 1]. Times in seconds become frame positions with :func:`frame_position`.
"""

from __future__ import annotations


def gop_for_frame(spans: list[tuple[int, int]], f: float) -> int:
    """Index of the GOP that renders continuous frame position ``f``."""
    for g, (_, last) in enumerate(spans):
        if f < last:
            return g
    return len(spans) - 1


def local_time(span: tuple[int, int], f: float) -> float:
    """Frame position ``f`` -> local time in [0, 1] of the GOP ``span`` (clamped)."""
    first, last = span
    if last == first:
        return 0.0
    return min(max((f - first) / (last - first), 0.0), 1.0)


def frame_position(t: float, fps: float, frames: int) -> float:
    """Seconds from the first frame -> continuous frame position, clamped to frames ``0 .. frames - 1``."""
    return min(max(float(t) * fps, 0.0), float(frames - 1))
