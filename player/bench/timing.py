"""Timing one frame between device synchronisations, and one benchmark row (warm-up, then timed frames)."""

from __future__ import annotations

import time

from .config import MIN_FRAMES
from .stats import frame_stats


class FrameTimer:
    """Times one call between device synchronisations: CUDA events on a CUDA device, else perf_counter."""

    def __init__(self, device: str):
        import torch

        self.cuda = str(device).startswith("cuda")
        self.kind = "cuda-events" if self.cuda else "perf_counter"
        if self.cuda:
            self.start = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)

    def __call__(self, fn, sync) -> tuple[object, float]:
        """Run ``fn()`` and ``sync()`` -> (fn's result, milliseconds)."""
        sync()
        if self.cuda:
            self.start.record()
            out = fn()
            sync()
            self.end.record()
            self.end.synchronize()
            return out, self.start.elapsed_time(self.end)
        t0 = time.perf_counter()
        out = fn()
        sync()
        return out, (time.perf_counter() - t0) * 1e3


def measure(render, sync, device: str, warm: list[float], timed: list[float], max_seconds: float,
            display=None, progress=None) -> dict:
    """Warm up on ``warm``, then time ``render(t)`` (and the display stages) at each of ``timed``."""
    timer = FrameTimer(device)
    start = time.perf_counter()
    for t in warm:
        image = render(t)
        sync()
        if display is not None:
            display.upload(image)
            display.present()
        if time.perf_counter() - start > max_seconds / 4:
            break
    decode, upload, present = [], [], []
    spent = 0.0
    for t in timed:
        image, ms = timer(lambda t=t: render(t), sync)
        decode.append(ms)
        spent += ms / 1e3
        if display is not None:
            t0 = time.perf_counter()
            display.upload(image)
            t1 = time.perf_counter()
            display.present()
            t2 = time.perf_counter()
            upload.append((t1 - t0) * 1e3)
            present.append((t2 - t1) * 1e3)
            spent += t2 - t0
        if progress is not None:
            progress()
        if spent > max_seconds and len(decode) >= MIN_FRAMES:
            break
    row = {"timer": timer.kind, "decode": {**frame_stats(decode), "ms": [round(v, 4) for v in decode]},
           "display": None}
    if display is not None:
        total = [a + b + c for a, b, c in zip(decode, upload, present)]
        row["display"] = {"where": display.where, "gl": display.gl, "upload_path": display.uploader.path,
                          "upload": frame_stats(upload), "present": frame_stats(present),
                          "total": frame_stats(total)}
    return row
