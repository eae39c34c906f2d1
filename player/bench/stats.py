"""Frame statistics and the frame times a benchmark row renders."""

from __future__ import annotations

import numpy as np


def frame_stats(ms) -> dict:
    """Frame times in ms -> mean, p50/p95/p99 (numpy's linear percentiles), max and FPS (= 1000 / mean)."""
    a = np.asarray(ms, dtype=np.float64)
    if a.size == 0:
        raise ValueError("statistics of no frames")
    mean = float(a.mean())
    p50, p95, p99 = (float(v) for v in np.percentile(a, [50, 95, 99]))
    return {"frames": int(a.size), "mean_ms": mean, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99,
            "max_ms": float(a.max()), "fps": 1e3 / mean}


def frame_times(fps: float, frames: int, count: int, slowmo: float) -> list[float]:
    """``count`` source times, ``1 / slowmo`` of a frame apart, wrapping after the clip's last frame interval."""
    duration = frames / fps
    return [((k / slowmo) / fps) % duration for k in range(count)]
