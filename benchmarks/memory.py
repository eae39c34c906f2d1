"""Memory of large frames: peak resident memory beyond a warmed-up decoder, per output size (``make bench-memory``).

Each row runs in its own process (a fresh peak): open the bundle, render a
64x64 frame (imports, graphs, weights loaded), note the peak RSS, then render
the size twice (or write two frames of it with ``--output``) and report how
far the peak rose, against the output frame's own bytes (two frames are alive
while the second renders, so "beyond frame" includes one frame more than the
bound counts). Rows:

- ``render``: ``Decoder.render`` in stripes (engines/decoder.py), the default;
- ``render, no stripes``: the same with one call for the whole frame (how it was before issue 16);
- ``--output``: ``actinr-play --output`` (render + H.264 encode, x264's pictures included).

The tiny model (3 carphone frames at 32x24, hidden width 4) keeps the large
sizes quick; the demo bundle gives the same memory at a real model's widths
(the working set per stripe does not depend on the model's size much). The
figures set engines/memory.py's ``RENDER_OVERHEAD`` and ``ENCODE_BYTES_PER_PIXEL``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import RESULTS, ROOT, save_result

DEMO = ROOT / "player" / "data" / "demo.engine"

CHILD = r"""
import json, resource, sys, time
import torch
torch.set_num_threads(1)
import actinr.engines as E
path, w, h, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
dec = E.open(path, backend="torch-cpu")
dec.render(0.01, (64, 64))
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
base = peak()
started = time.perf_counter()
if mode == "output":
    from actinr.player.config import PlayConfig
    from actinr.player.headless import render_video
    cfg = PlayConfig(output=sys.argv[5], size=f"{w}x{h}", duration=2 / dec.info.fps)
    render_video(dec, cfg, progress=False)
else:
    if mode == "whole":
        dec.backend.stripe_pixels = w * h
    for t in (0.01, 0.02):
        img = dec.render(t, (w, h))
print(json.dumps({"extra": peak() - base, "seconds": time.perf_counter() - started}))
"""


def tiny_bundle(folder: Path) -> Path:
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.config import TrainConfig
    from actinr.train.fit import train

    train(TrainConfig(source=str(ROOT / "tests" / "data" / "carphone.mp4"), frames=3, resize="32x24", hidden=4,
                      iters=5, compile=False), folder / "run", progress=False)
    export_run(folder / "run", folder / "tiny.engine", ExportConfig())
    return folder / "tiny.engine"


def measure(bundle: Path, size: tuple[int, int], mode: str, tmp: Path) -> dict:
    w, h = size
    args = [sys.executable, "-c", CHILD, str(bundle), str(w), str(h), mode, str(tmp / "out.mp4")]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} at {w}x{h} failed:\n{proc.stderr}")
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    frame = w * h * 3
    return {"mode": mode, "size": [w, h], "frame_mb": frame / 2**20, "extra_mb": got["extra"] / 2**20,
            "beyond_frame_mb": (got["extra"] - frame) / 2**20, "bytes_per_pixel": got["extra"] / (w * h),
            "seconds": got["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(RESULTS), help="folder for the JSON result")
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tiny = tiny_bundle(tmp)
        big = [(1024, 1024), (2048, 2048)] if args.quick else [(1024, 1024), (2048, 2048), (4096, 4096), (8192, 8192)]
        plan = [("tiny", tiny, s, "render") for s in big]
        plan += [("tiny", tiny, s, "whole") for s in big[:2]]
        plan += [("demo", DEMO, (2048, 2048), "render"), ("demo", DEMO, (2048, 2048), "whole")]
        plan += [] if args.quick else [("demo", DEMO, (4096, 4096), "render")]
        plan += [("tiny", tiny, s, "output") for s in ([(2048, 2048)] if args.quick else [(2048, 2048), (4096, 4096),
                                                                                           (8192, 8192)])]
        print(f"{'bundle':<6} {'mode':<8} {'size':>11} {'frame MB':>9} {'peak rise MB':>13} {'beyond frame MB':>16} "
              f"{'B/px':>6} {'s':>6}")
        for name, bundle, size, mode in plan:
            row = {"bundle": name, **measure(bundle, size, mode, tmp)}
            rows.append(row)
            print(f"{name:<6} {mode:<8} {size[0]:>5}x{size[1]:<5} {row['frame_mb']:>9.0f} {row['extra_mb']:>13.0f} "
                  f"{row['beyond_frame_mb']:>16.0f} {row['bytes_per_pixel']:>6.1f} {row['seconds']:>6.1f}", flush=True)
    save_result(args.out, "memory", {"rows": rows, "threads": 1, "backend": "torch-cpu"})


if __name__ == "__main__":
    main()
