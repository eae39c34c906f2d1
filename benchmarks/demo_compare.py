"""Two bundles of the same clip side by side: what a regenerated demo bundle gains and costs.

For each bundle (torch-cpu, fp32): the PSNR of its 120 frames against the clip it was fitted to (all of them
and the worst one), the GOP-switch steps (mean absolute change between renders 0.1 frame apart, median and
largest, and the source frame of the largest), and the decode time at the source size and at 1280x720,
timed interleaved (rounds that alternate which bundle goes first, the median of the rounds), so that the
machine's drift over a run falls on both alike.

    python benchmarks/demo_compare.py OLD.engine NEW.engine --clip tests/data/carphone.mp4 --out DIR
    # old demo: git show <commit>:player/data/demo.engine > /tmp/old.engine
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def quality(dec, clip: np.ndarray) -> dict:
    import torch

    from actinr.train.metrics import psnr

    n = min(len(clip), dec.info.frames)
    shown = np.stack([dec.render(f / dec.info.fps) for f in range(n)])
    per = [float(psnr(torch.from_numpy(shown[i] / 255.0), torch.from_numpy(clip[i] / 255.0))) for i in range(n)]
    whole = float(psnr(torch.from_numpy(shown / 255.0), torch.from_numpy(clip[:n] / 255.0)))
    frames = np.arange(0.0, n - 1 + 1e-9, 0.1)
    prev, steps = None, []
    for f in frames:
        image = dec.render(f / dec.info.fps).astype(np.int16)
        if prev is not None:
            steps.append(float(np.abs(image - prev).mean()))
        prev = image
    steps = np.array(steps)
    return {"psnr": round(whole, 3), "worst_frame_psnr": round(min(per), 2), "worst_frame": int(np.argmin(per)),
            "step_median": round(float(np.median(steps)), 3), "step_max": round(float(steps.max()), 3),
            "step_max_at_frame": round(float(frames[1:][steps.argmax()]), 1)}


def timing(decs, sizes, rounds: int) -> dict:
    out = {}
    for size in sizes:
        n = 50 if size[0] * size[1] < 200_000 else 5
        times = [[] for _ in decs]
        for d in decs:
            for _ in range(3):
                d.render(0.5, size)
        for r in range(rounds):
            order = list(enumerate(decs)) if r % 2 == 0 else list(enumerate(decs))[::-1]
            for i, d in order:
                t0 = time.perf_counter()
                for k in range(n):
                    d.render(0.2 + k / 100, size)  # frames 6 to 21: away from a GOP switch
                times[i].append((time.perf_counter() - t0) / n * 1e3)
        out[f"{size[0]}x{size[1]}"] = [{"median_ms": round(float(np.median(t)), 2), "min_ms": round(min(t), 2),
                                         "max_ms": round(max(t), 2)} for t in times]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundles", nargs=2, metavar="BUNDLE")
    ap.add_argument("--clip", default=str(ROOT / "tests" / "data" / "carphone.mp4"),
                    help="the clip both were fitted to")
    ap.add_argument("--rounds", type=int, default=10, help="timing rounds (default: 10)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="result folder")
    args = ap.parse_args(argv)

    import torch

    import actinr.engines as E
    from actinr.train.video import read_video

    decs = [E.open(b, backend="torch-cpu") for b in args.bundles]
    clip = read_video(args.clip, frames=max(d.info.frames for d in decs)).frames
    lines = [f"torch {torch.__version__}, {torch.get_num_threads()} threads, torch-cpu fp32, "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"]
    rows = {"bundles": args.bundles, "quality": [], "timing": {}}
    for path, d in zip(args.bundles, decs):
        q = quality(d, clip)
        rows["quality"].append(q)
        lines.append(f"{path}: {q}")
        print(lines[-1], flush=True)
    sizes = [decs[0].info.size, (1280, 720)]
    rows["timing"] = timing(decs, sizes, args.rounds)
    for size, ts in rows["timing"].items():
        for path, t in zip(args.bundles, ts):
            lines.append(f"{size} {path}: {t}")
            print(lines[-1], flush=True)
    for d in decs:
        d.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{datetime.date.today().isoformat()}-cpu-demo_compare"
    Path(f"{stem}.json").write_text(json.dumps(rows, indent=2) + "\n")
    Path(f"{stem}.log").write_text("\n".join(lines) + "\n")
    print(f"wrote {stem}.json and .log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
