"""Wall time of one GOP's in-between targets (``--guide``), with and without block grids (``--guide-grids``) and
the optical flow (``--guide-flow``).

The guide is made once at the start of each GOP (train/tasks.py ``guide_targets``), on the CPU, by
ffmpeg's minterpolate: ``mci2`` runs two settings, after a lead frame and after the fitted frames before
the GOP, each on ``--guide-grids`` block grids, on threads; ``--guide-flow`` adds OpenCV's DIS flow
both ways between each pair of fitted frames and forward splatting (1: the flow alone). This times it for
one GOP of an interp fit at k = 4 (7 fitted frames: 5 of its own and a margin frame each side, 2 before
it) at 1920x1080 (bikes resized), and for a regress GOP of carphone (frames 0-10 and 9-19). Minutes at
1080p; no fit.

    python benchmarks/guide_cost.py [--grids 0 4] [--flow 0 0.7 1] [--sizes 1920x1080]
"""

from __future__ import annotations

import argparse
import os
import time

from actinr.engines.media import parse_size
from actinr.train.config import TrainConfig
from actinr.train.tasks import guide_targets
from actinr.train.video import read_video

from clips import clip_path  # benchmarks/clips.py (this folder is on sys.path)
from common import machine  # benchmarks/common.py


def timed(cfg: TrainConfig, frames, fitted: list[int], before: list[int]) -> tuple[int, float]:
    t0 = time.perf_counter()
    _, times = guide_targets(cfg, frames[fitted], fitted, frames[before] if before else None)
    return len(times), time.perf_counter() - t0


def variants(args) -> list[tuple[int, float]]:
    """(grids, flow share) pairs: every --grids value with no flow, then each flow share above 0 at the last
    grids value (the flow alone does not run minterpolate, so its grids do not count)."""
    return [(g, 0.0) for g in args.grids] + [(args.grids[-1], f) for f in args.flow if f > 0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grids", type=int, nargs="+", default=[0, 4], help="--guide-grids values to time")
    ap.add_argument("--flow", type=float, nargs="+", default=[0.0, 0.7, 1.0],
                    help="--guide-flow shares to time, above 0 (with the last --grids value; 1 runs no minterpolate)")
    ap.add_argument("--sizes", nargs="+", default=["1920x1080"], help="sizes for the interp GOP (bikes resized)")
    args = ap.parse_args()
    print(f"machine: {machine()}, {os.cpu_count()} CPUs", flush=True)
    for size in args.sizes:
        bikes = read_video(clip_path("bikes"), 0, 33, parse_size(size, "size")).frames
        for grids, flow in variants(args):
            n, s = timed(TrainConfig(task="interp", every=4, guide_grids=grids, guide_flow=flow), bikes,
                         list(range(8, 33, 4)), [0, 4])
            print(f"interp k = 4, bikes {size}, 7 fitted frames + 2 before, --guide-grids {grids} --guide-flow "
                  f"{flow:g}: {n} targets in {s:.1f} s", flush=True)
    carphone = read_video(clip_path("carphone"), 0, 20, None).frames
    for grids, flow in variants(args):
        for fitted, before in ((list(range(0, 11)), []), (list(range(9, 20)), [7, 8])):
            n, s = timed(TrainConfig(guide_grids=grids, guide_flow=flow), carphone, fitted, before)
            print(f"regress, carphone 176x144 frames {fitted[0]}-{fitted[-1]}, --guide-grids {grids} --guide-flow "
                  f"{flow:g}: {n} targets in {s:.2f} s", flush=True)


if __name__ == "__main__":
    main()
