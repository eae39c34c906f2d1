"""How much of each frame the guide's motion trust guides, measured on minterpolate's frames or on the targets.

``--guide-motion 1`` weighs the in-between targets per patch by how far they depart from a cross-fade of the
fitted frames (train/tasks.py ``motion_trust``); ``--guide-motion-of`` says what that departure is measured on:
the guide's minterpolate frames (``mci``, the default since the seventeenth session, when the flow's splat
blurred still texture and so departed from a cross-fade where nothing moved) or the targets themselves
(``targets``: 0.7 flow, cubic and on a parabola by default now, 0.3 minterpolate). This probe needs no fit: for
each clip and k it lays the GOPs out as training does (without scene cuts or margins), computes the guide with
the defaults, and reports the share of 24x24-pixel boxes (a patch's size, not the fit's overlapping windows)
whose departure, summed over a fitted interval's targets, is over the threshold (guided at all), and the mean
trust ``clip(d / L - 1, 0, 1)`` of the boxes, for each of the two.

    python benchmarks/guide_motion_share.py [--clips carphone,bikes,cockatoo,city] [--every 2,4,10] [--out DIR]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from actinr.engines.media import parse_size
from actinr.train.config import TrainConfig
from actinr.train.tasks import GUIDE_CONTEXT, fade_departure, fitted_frames, guide_targets, spans_for
from actinr.train.video import read_video

from clips import ACCEPTANCE, clip_path  # benchmarks/clips.py
from common import RESULTS, save_result  # benchmarks/common.py (this folder is on sys.path)
from slowmo_quality import CLIPS  # the slow-motion benchmark's ranges and sizes

# the tuning and validation clips; never the acceptance clip, which no choice may look at
NAMES = [c for c in CLIPS if c not in ACCEPTANCE]
BOX = 24


def share(frames: np.ndarray, every: int) -> dict:
    """{"mci" | "targets": {"guided": share of boxes over the threshold, "trust": their mean trust}}."""
    cfg = TrainConfig(task="interp", every=every)
    boxes = {"mci": [], "targets": []}
    fitted = fitted_frames(cfg, len(frames))
    for first, last in spans_for(cfg, len(frames)):
        keys = [f for f in fitted if first <= f <= last]
        context = [f for f in fitted if f < first][-GUIDE_CONTEXT:]
        img, times, mci = guide_targets(cfg, frames[keys], keys, frames[context] if context else None, motion=True)
        for name, src in (("mci", mci), ("targets", img)):
            # summed over a fitted interval's targets, as --guide-motion-span interval does
            d = fade_departure(src, frames[keys], keys, times) / (len(keys) - 1)
            h, w = (s // BOX * BOX for s in d.shape)
            boxes[name].append(d[:h, :w].reshape(h // BOX, BOX, w // BOX, BOX).mean((1, 3)).ravel())
    out = {}
    for name, b in boxes.items():
        b = np.concatenate(b) / cfg.guide_motion
        out[name] = {"guided": round(float((b > 1.0).mean()), 3), "trust": round(float(np.clip(b - 1, 0, 1).mean()), 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", default="carphone,bikes,cockatoo,city", help="comma-separated, of " + ", ".join(NAMES))
    ap.add_argument("--every", default="2,4,10", help="comma-separated k of --every k")
    ap.add_argument("--out", default=str(RESULTS), help="folder for the JSON result")
    args = ap.parse_args()
    clips = args.clips.split(",")
    if any(c not in NAMES for c in clips):
        ap.error(f"--clips: each of {', '.join(NAMES)}")
    try:
        ks = [int(k) for k in args.every.split(",")]
    except ValueError:
        ap.error(f"--every: comma-separated whole numbers, not {args.every!r}")
    rows, t0 = [], time.perf_counter()
    print(f"{'clip':9s} {'k':>3s}  {'guided, mci':>12s} {'guided, targets':>16s}  "
          f"{'trust, mci':>11s} {'trust, targets':>15s}")
    for clip in clips:
        start, count, size = CLIPS[clip]
        frames = read_video(clip_path(clip), start, count, parse_size(size, "resize") if size else None).frames
        for k in ks:
            r = share(frames, k)
            rows.append({"clip": clip, "every": k, **r})
            print(f"{clip:9s} {k:3d}  {r['mci']['guided']:12.3f} {r['targets']['guided']:16.3f}  "
                  f"{r['mci']['trust']:11.3f} {r['targets']['trust']:15.3f}", flush=True)
    save_result(args.out, "guide_motion_share",
                {"rows": rows, "box": BOX, "seconds": round(time.perf_counter() - t0, 1)})


if __name__ == "__main__":
    main()
