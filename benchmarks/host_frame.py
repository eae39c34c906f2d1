"""The host's share of a frame on the fused Triton backend: everything `Decoder.render` does on the CPU for one
frame (time to GOP, bias interpolation, the bias upload into pinned memory, the output allocation), with the
kernel launch itself left out.

On a GPU the bench's frame time (CUDA events around `render`, then a sync) is this host time plus the kernel's,
so at the 2000 FPS goal (0.5 ms a frame) every 10 us here is 2 % there. Runs on any machine: the backend is made
on the CPU under Triton's interpreter and its kernel replaced by a no-op (Triton's own launch cost, about
what a compiled launch costs on the GPU machine, is not in it).

    python benchmarks/host_frame.py              # demo bundle, 1920x1080 -> results/<date>-cpu-host_frame.{json,log}
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", default=str(ROOT / "player" / "data" / "demo.engine"))
    ap.add_argument("--size", default="1920x1080", help="output size WxH")
    ap.add_argument("--frames", type=int, default=2000, help="timed frames per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="result folder")
    ap.add_argument("--tag", help="a suffix for the file names")
    args = ap.parse_args(argv)
    os.environ["TRITON_INTERPRET"] = "1"
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy as np

    import actinr.engines as E

    from common import save_result

    w, h = (int(v) for v in args.size.lower().split("x"))
    dec = E.open(args.bundle, backend="triton", device="cpu", precision="fp16")

    class NoLaunch:  # stands in for the jitted kernel: kernel[grid](...) does nothing
        def __getitem__(self, grid):
            return lambda *a, **k: None

    dec.backend._kernel = NoLaunch()
    # Times inside one GOP, away from a switch window (a frame there renders two GOPs and mixes them).
    first, last = dec.spans[0]
    positions = [p for p in np.linspace(first, last, args.frames) if dec.passes(p / dec.info.fps) == 1]
    times = [p / dec.info.fps for p in positions]
    dec.render(times[0], (w, h))  # the plan, the GOP's weights and tables
    rounds = []
    for _ in range(args.rounds):
        us = []
        for t in times:
            t0 = time.perf_counter()
            dec.render(t, (w, h))
            us.append((time.perf_counter() - t0) * 1e6)
        rounds.append({"median_us": round(statistics.median(us), 2),
                       "p99_us": round(float(np.percentile(us, 99)), 2), "mean_us": round(statistics.fmean(us), 2)})
    line = (f"host per frame, kernel launch left out, {w}x{h}, {len(times)} frames x {args.rounds} rounds: "
            + "; ".join(f"median {r['median_us']} us, p99 {r['p99_us']} us" for r in rounds))
    print(line)
    name = "host_frame" + (f"-{args.tag}" if args.tag else "")
    path = save_result(args.out, name, {"bundle": args.bundle, "size": [w, h], "rounds": rounds})
    path.with_suffix(".log").write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
