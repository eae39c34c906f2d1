"""What starts minterpolate's motion search for a GOP's in-between targets: the lead frame, the fitted
frames before the GOP, or the mean of the two (train/tasks.py ``guide_targets``, which uses the mean).

For each clip and k of the slow-motion benchmark (frames 0-40, bikes 320x136), the GOPs are laid out as
``actinr train`` lays them out (scene cuts, still switches, margins) and each GOP's targets are scored
against the true frames at the held-out times inside its span (mean PSNR). Seconds; no fit.

    python benchmarks/guide_context.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from actinr.train import baselines
from actinr.train.config import TrainConfig
from actinr.train.fit import gop_frames, guide_context, new_run
from actinr.train.video import read_video

from clips import clip_path  # benchmarks/clips.py
from common import machine  # benchmarks/common.py (this folder is on sys.path)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def main() -> None:
    print(machine())
    for clip, resize in (("carphone", None), ("bikes", "320x136")):
        frames = read_video(clip_path(clip), 0, 41, (320, 136) if resize else None).frames
        for k in (2, 4, 10):
            cfg = TrainConfig(source=str(clip_path(clip)), frames=41, resize=resize, task="interp", every=k)
            run, _ = new_run(cfg, Path(tempfile.mkdtemp()) / "run", pixels=False)
            scores: dict[str, list[float]] = {"lead": [], "before": [], "mean": []}
            for g, (first, last) in enumerate(run.spans):
                _, fit = gop_frames(run, g)
                before = guide_context(run, fit)
                lead, after = baselines.guide_runs(frames[fit], k, frames[before] if before else None)
                mean = baselines.mean_frames(lead, after)
                after = lead if after is None else after  # at the clip's start there is nothing before
                for i in range(lead.shape[0]):
                    f = fit[0] + i
                    if i % k and first < f < last:
                        for name, out in (("lead", lead), ("before", after), ("mean", mean)):
                            scores[name].append(psnr(out[i], frames[f]))
            means = "  ".join(f"{n} {np.mean(v):.3f}" for n, v in scores.items())
            print(f"{clip:9s} k={k:<3d} GOPs {run.spans}  {len(scores['lead'])} frames  {means}", flush=True)


if __name__ == "__main__":
    main()
