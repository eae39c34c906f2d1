"""How close each minterpolate setting comes to the held-out frames, computed as training computes its guide.

The in-between targets of ``--guide`` (train/tasks.py ``guide_targets``) are
minterpolate of each GOP's own fitted frames, the mean of the filter run after
the lead frame and after the two fitted frames before the GOP (``GUIDE_CONTEXT``;
GOPs laid out without scene cuts or margins here). A model
that fits them cannot be much better than they are, so this measures the
teacher itself: for each setting, and for weighted means of settings, the mean
PSNR of its frames at the held-out times against the true frames, on the
slow-motion benchmark's ranges (benchmarks/slowmo_quality.py) and on two
ranges away from them (bikes 140-180 and carphone 70-110, k = 4). Seconds each; no fit. The
rows with block grids (``--guide-grids``) pad the frames to whole 16-pixel blocks (edge pixels repeated);
"mci, padded to whole blocks" is the baseline's own setting on padded frames, which an ffmpeg user can
have too: the fair motion-compensated baseline where a side is not a multiple of 16. The "flow" rows are
the guide with ``--guide-flow`` (train/baselines.py ``flow_frames``, dense optical flow, alone or mixed
with mci2 on 4 grids at that share), computed by train/tasks.py ``guide_targets`` itself; "accel" rows add
``--guide-flow-accel`` (the flow's pixels on a parabola through the neighbouring fitted frames), "cubic" rows
``--guide-flow-sample cubic`` (the flow splatted, the fitted frames sampled bicubically along it), "auto" rows
the two mixed per pixel by a leave-one-out check.
``--clips cockatoo,city`` measures the validation footage (benchmarks/footage.py) at k = 2, 4, 10 instead.

    python benchmarks/guide_teacher.py            # the table, and a JSON in benchmarks/results/
    python benchmarks/guide_teacher.py --only baseline mci2   # two settings
    python benchmarks/guide_teacher.py --clips cockatoo,city --only flow   # the flow rows on validation footage
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from actinr.engines.media import parse_size
from actinr.train import baselines
from actinr.train.config import TrainConfig
from actinr.train.tasks import GUIDE_CONTEXT, fitted_frames, guide_targets, spans_for
from actinr.train.video import read_video

from clips import clip_path  # benchmarks/clips.py
from common import RESULTS, save_result  # benchmarks/common.py (this folder is on sys.path)

SETUPS = [("carphone", 0, None, 2), ("carphone", 0, None, 4), ("carphone", 0, None, 10), ("bikes", 0, "320x136", 2),
          ("bikes", 0, "320x136", 4), ("bikes", 0, "320x136", 10),
          # check ranges away from the benchmark's (slowmo_ablation.py bikes4check, carphone4check)
          ("bikes", 140, "320x136", 4), ("carphone", 70, None, 4)]
VALIDATION_SETUPS = [(c, 0, "320x180", k) for c in ("cockatoo", "city") for k in (2, 4, 10)]  # slowmo_quality's
FRAMES = 41  # frames start .. start + 40; start 0 is the benchmark's range
BASE = baselines.MCI_OPTIONS
SETTINGS = {  # name: (((options, weight), ...), block grids: baselines.mixed_motion_frames)
    "mci (the baseline's setting)": (((BASE, 1.0),), 0),
    "search 64": (((BASE + ":search_param=64", 1.0),), 0),
    "search 128": (((BASE + ":search_param=128", 1.0),), 0),
    "blocks 8": (((BASE + ":mb_size=8", 1.0),), 0),
    "blocks 8, search 64": (((BASE + ":mb_size=8:search_param=64", 1.0),), 0),
    "vsbmc": (((BASE + ":vsbmc=1", 1.0),), 0),
    "obmc": (((BASE.replace("aobmc", "obmc"), 1.0),), 0),
    "no scene-change test": (((BASE + ":scd=none", 1.0),), 0),
    "me umh": (((BASE + ":me=umh", 1.0),), 0),
    "me_mode bilat": (((BASE.replace("bidir", "bilat"), 1.0),), 0),
    "mean: mci, search 64": (((BASE, 0.5), (BASE + ":search_param=64", 0.5)), 0),
    "mean: search 64, blocks 8": (((BASE + ":search_param=64", 0.5), (BASE + ":mb_size=8", 0.5)), 0),
    "mci2: 2/3 search 64, 1/3 blocks 8": (baselines.MCI2_OPTIONS, 0),
    "mci2, padded to whole blocks (1 grid)": (baselines.MCI2_OPTIONS, 1),
    "mci2, 2 grids (offsets 0, 8)": (baselines.MCI2_OPTIONS, 2),
    "mci2, 3 grids (offsets 0, 5, 11)": (baselines.MCI2_OPTIONS, 3),
    "mci2, 4 grids (offsets 0, 4, 8, 12)": (baselines.MCI2_OPTIONS, 4),
    "mci, padded to whole blocks": (((BASE, 1.0),), 1),
    "mci, 4 grids": (((BASE, 1.0),), 4),
    # --guide-flow: the optical-flow frames (baselines.flow_frames) alone, or mixed in at that share
    "flow alone": ((), 0, 1.0),
    "mci2, 4 grids, flow 0.5": (baselines.MCI2_OPTIONS, 4, 0.5),
    "mci2, 4 grids, flow 0.7": (baselines.MCI2_OPTIONS, 4, 0.7),
    "mci2, 4 grids, flow 0.85": (baselines.MCI2_OPTIONS, 4, 0.85),
    # --guide-flow-accel: the flow's pixels on a parabola through the keys before and after (flow_frames accel)
    "flow alone, accel 0.5": ((), 0, 1.0, 0.5),
    "flow alone, accel 1": ((), 0, 1.0, 1.0),
    "mci2, 4 grids, flow 0.7, accel 0.5": (baselines.MCI2_OPTIONS, 4, 0.7, 0.5),
    "mci2, 4 grids, flow 0.7, accel 1": (baselines.MCI2_OPTIONS, 4, 0.7, 1.0),
    # --guide-flow-sample cubic: the flow moved instead of the colours, the frames sampled bicubically
    "flow alone, cubic": ((), 0, 1.0, 0.0, "cubic"),
    "mci2, 4 grids, flow 0.7, cubic": (baselines.MCI2_OPTIONS, 4, 0.7, 0.0, "cubic"),
    "mci2, 4 grids, flow 0.85, cubic": (baselines.MCI2_OPTIONS, 4, 0.85, 0.0, "cubic"),
    "flow alone, cubic, accel 1": ((), 0, 1.0, 1.0, "cubic"),
    "mci2, 4 grids, flow 0.7, cubic, accel 1": (baselines.MCI2_OPTIONS, 4, 0.7, 1.0, "cubic"),
    # --guide-flow-sample auto: the two mixed per pixel by a leave-one-out check (baselines.cubic_share)
    "flow alone, auto": ((), 0, 1.0, 0.0, "auto"),
    "mci2, 4 grids, flow 0.7, auto": (baselines.MCI2_OPTIONS, 4, 0.7, 0.0, "auto"),
}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def teacher_psnr(frames: np.ndarray, every: int, setting, grids: int = 0, flow: float = 0.0, accel: float = 0.0,
                 sample: str = "splat") -> float:
    """Mean PSNR of ``setting``'s in-between frames of each GOP at the held-out times (``flow``: the share of
    the optical-flow frames mixed in, as ``--guide-flow``, ``accel`` as ``--guide-flow-accel``, ``sample`` as
    ``--guide-flow-sample``: train/tasks.py ``guide_targets``)."""
    cfg = TrainConfig(task="interp", every=every, guide_grids=grids, guide_flow=flow, guide_flow_accel=accel,
                      guide_flow_sample=sample, guide="mci2" if setting == baselines.MCI2_OPTIONS else "mci")
    count, scores = len(frames), []
    for first, last in spans_for(cfg, count):
        keys = [f for f in fitted_frames(cfg, count) if first <= f <= last]
        context = [f for f in fitted_frames(cfg, count) if f < first][-GUIDE_CONTEXT:]
        if flow > 0:  # the guide itself (its minterpolate settings are --guide's)
            out = np.empty_like(frames[first:last + 1])
            out[0::every] = frames[keys]
            inner, _ = guide_targets(cfg, frames[keys], keys, frames[context] if context else None)
            out[[i for i in range(len(out)) if i % every]] = inner
        else:
            out = baselines.mean_frames(*baselines.guide_runs(frames[keys], every,
                                                              frames[context] if context else None, setting, grids))
        scores += [psnr(out[i], frames[first + i]) for i in range(out.shape[0]) if i % every]
    return float(np.mean(scores))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(RESULTS), help="folder for the JSON result")
    ap.add_argument("--only", nargs="+", metavar="TEXT",
                    help="only the settings whose name contains one of these (e.g. --only baseline mci2)")
    ap.add_argument("--clips", choices=("carphone,bikes", "cockatoo,city"), default="carphone,bikes",
                    help="the benchmark's clips and check ranges (default), or the validation footage")
    args = ap.parse_args()
    setups = SETUPS if args.clips == "carphone,bikes" else VALIDATION_SETUPS
    clips = {(c, s, r): read_video(clip_path(c), s, FRAMES, parse_size(r, "resize") if r else None).frames
             for c, s, r, _ in setups}
    names = [f"{c}{f' {s}-{s + FRAMES - 1}' if s else ''} k={k}" for c, s, _, k in setups]
    print(f"{'setting':36s} " + " ".join(f"{n:>18s}" for n in names))
    settings = {n: v for n, v in SETTINGS.items() if not args.only or any(t in n for t in args.only)}
    rows, t0 = [], time.perf_counter()
    for name, (setting, grids, *more) in settings.items():
        flow, accel, sample = (*more, *(0.0, 0.0, "splat")[len(more):])  # a setting's flow, accel, sample
        vals = [round(teacher_psnr(clips[(c, s, r)], k, setting, grids, flow, accel, sample), 3)
                for c, s, r, k in setups]
        rows.append({"setting": name, "options": [[o, w] for o, w in setting], "grids": grids, "flow": flow,
                     "accel": accel, "sample": sample,
                     **dict(zip(names, vals))})
        print(f"{name:36s} " + " ".join(f"{v:18.3f}" for v in vals), flush=True)
    print(f"{time.perf_counter() - t0:.0f} s")
    name = "guide_teacher" if args.clips == "carphone,bikes" else "guide_teacher-" + args.clips.replace(",", "-")
    save_result(args.out, name, {"frames": FRAMES, "clips": args.clips, "rows": rows})


if __name__ == "__main__":
    main()
