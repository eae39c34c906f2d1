"""Slow-motion ablation: one short interp fit per variant, its held-out frames against blending and minterpolate.

Each run fits ``--task interp --every K`` on a short range (the setups below),
scores the held-out frames with ``actinr eval``'s code (the run's own model,
fp32) and measures where the model keeps its temporal change
(train/motion.py ``temporal_energy``, GOP 1). Rows are appended to a JSON
file as they finish, so a long list can be run a few variants at a time:

    python benchmarks/slowmo_ablation.py bikes2 base first first+smooth=0.01 ...
    python benchmarks/slowmo_ablation.py --list

A variant is ``key=value[+key=value...]`` of TrainConfig fields, on top of
the defaults; ``base`` is the defaults alone and ``first`` is short for
``time_bias=first``. The setups are bikes 320x136 frames 0-20 (``bikes2``) or
0-40 (``bikes4``, k = 4; ``bikes2long`` at k = 2) and carphone frames 0-20 (``carphone2``) or 0-40 (``carphone2long``;
``carphone4`` at k = 4), and both clips' frames 0-40 at k = 10 (``carphone10``, ``bikes10``). ``bikes4check`` is
bikes 320x136 frames 140-180 at k = 4, away from every benchmark range, to check a setting chosen on them;
``carphone4check`` is carphone frames 70-110 at k = 4, for the same. ``carphone5`` and ``carphone5check`` are
carphone frames 0-40 and 70-110 at k = 5; ``carphone8`` and ``carphone8check`` are carphone frames 0-80 and 39-119 at
k = 8, ``bikes8`` and ``bikes8check`` bikes 320x136 frames 0-80 and 140-220.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from actinr.train import metrics
from actinr.train.baselines import minterpolate
from actinr.train.config import TrainConfig
from actinr.train.evaluate import evaluate
from actinr.train.fit import train
from actinr.train.motion import temporal_energy
from actinr.train.run import Run
from actinr.train.video import read_video

from clips import clip_path  # benchmarks/clips.py
from common import RESULTS, machine  # benchmarks/common.py (this folder is on sys.path)

SETUPS = {  # name: (clip, start, frames, resize, every)
    "bikes2": ("bikes", 0, 21, "320x136", 2),
    "bikes2long": ("bikes", 0, 41, "320x136", 2),  # the benchmark's bikes k = 2 run
    "bikes4": ("bikes", 0, 41, "320x136", 4),
    "carphone2": ("carphone", 0, 21, None, 2),
    "carphone2long": ("carphone", 0, 41, None, 2),  # the benchmark's carphone k = 2 range
    "carphone4": ("carphone", 0, 41, None, 4),  # the benchmark's carphone k = 4 run
    "carphone10": ("carphone", 0, 41, None, 10),  # the benchmark's k = 10 runs
    "bikes10": ("bikes", 0, 41, "320x136", 10),
    # a check range away from the benchmark's frames (one shot, 137-186): settings chosen on the benchmark ranges
    # are tried here before they become defaults
    "bikes4check": ("bikes", 140, 41, "320x136", 4),
    "carphone4check": ("carphone", 70, 41, None, 4),  # the same for carphone (frames 70-110; 2026-12-06)
    # k = 5, where whole intervals of 18 frames would give 4 fitted frames a GOP, --gop-span 20 gave 5 (5 kept)
    "carphone5": ("carphone", 0, 41, None, 5),
    "carphone5check": ("carphone", 70, 41, None, 5),
    # k = 8, where --gop-span 18's whole intervals give 3 fitted frames a GOP and GOP_SPAN_KEYS raises it to 5
    "carphone8": ("carphone", 0, 81, None, 8),
    "carphone8check": ("carphone", 39, 81, None, 8),  # the clip's last 81 frames, for the same
    "bikes8": ("bikes", 0, 81, "320x136", 8),
    "bikes8check": ("bikes", 140, 81, "320x136", 8),
}
SHORT = {"first": "time_bias=first"}


def parse_variant(text: str) -> dict:
    defaults = TrainConfig()
    out = {}
    for part in text.split("+"):
        part = SHORT.get(part, part)
        if part == "base":
            continue
        key, _, value = part.partition("=")
        if key not in TrainConfig.__dataclass_fields__ or not value:
            raise SystemExit(f"unknown variant part {part!r} (key=value of a TrainConfig field)")
        default = getattr(defaults, key)
        if isinstance(default, bool):
            out[key] = value.lower() in ("1", "true", "yes")
        elif isinstance(default, (int, float)):
            out[key] = type(default)(value)
        else:
            out[key] = value
    return out


def dumps(data: dict) -> str:
    """The results file, one row per line, so that an appended row is a one-line change."""
    head = {k: v for k, v in data.items() if k != "rows"}
    rows = ",\n".join(" " + json.dumps(r) for r in data["rows"])
    return json.dumps(head, indent=1)[:-2] + ',\n "rows": [\n' + rows + "\n ]\n}\n"


def u(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).float().div_(255.0)


def mci_scores(setup: str) -> dict:
    clip, start, frames, resize, every = SETUPS[setup]
    from actinr.engines.media import parse_size

    fr = read_video(clip_path(clip), start, frames, parse_size(resize, "resize") if resize else None).frames
    out = minterpolate(fr, every)
    held = [f for f in range(1, len(out) - 1) if f % every]
    p = [metrics.psnr(u(out[f]), u(fr[f])) for f in held]
    return {"psnr": round(float(np.mean(p)), 3), "worst": round(min(p), 3)}


def run_variant(setup: str, variant: str, work: Path) -> dict:
    clip, start, frames, resize, every = SETUPS[setup]
    over = parse_variant(variant)
    cfg = TrainConfig(source=str(clip_path(clip)), start=start, frames=frames, resize=resize, task="interp",
                      every=every, **over)
    cfg.validate()
    out = work / "run"
    t0 = time.perf_counter()
    run = train(cfg, out, progress=False)
    wall = time.perf_counter() - t0
    ev = evaluate(out)
    held = [r for r in ev["frames"] if not r["fitted"] and 0 < r["frame"] < max(run.fitted)]
    fitted = [r for r in ev["frames"] if r["fitted"]]
    run = Run.load(out)
    model = run.load_model(0)
    from actinr.engines.grid import patch_windows

    energy = temporal_energy(model, torch.from_numpy(patch_windows(run.layout).coords))
    h = ev["held_out"]
    return {"setup": setup, "variant": variant, "overrides": over,
            "held_out_psnr": h["model"]["psnr"], "held_out_worst": round(min(r["psnr"] for r in held), 3),
            "held_out_ssim": h["model"]["ssim"], "fitted_psnr": round(float(np.mean([r["psnr"] for r in fitted])), 3),
            "blend_psnr": h["blend_baseline"]["psnr"], "repeat_psnr": h["repeat_baseline"]["psnr"],
            "train_seconds": round(sum(r.seconds for r in run.results), 1), "wall_seconds": round(wall, 1),
            "picture_share": {g: round(v["share"], 3) for g, v in energy["picture"].items()},
            "bias_variance": [round(b["variance"], 6) for b in energy["bias"]]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("setup", nargs="?", choices=sorted(SETUPS))
    ap.add_argument("variants", nargs="*")
    ap.add_argument("--json", default=str(RESULTS / "slowmo_ablation.json"), help="rows are appended here")
    ap.add_argument("--list", action="store_true", help="print the rows so far as a table")
    ap.add_argument("--keep", metavar="DIR", help="copy each run folder into DIR")
    args = ap.parse_args()
    path = Path(args.json)
    data = json.loads(path.read_text()) if path.exists() else {"machine": machine(), "rows": [], "mci": {}}
    if args.list or not args.setup:
        for r in data["rows"]:
            mci = data["mci"].get(r["setup"], {}).get("psnr", "-")
            print(f"{r['setup']:10s} {r['variant']:40s} held {r['held_out_psnr']:6.2f} "
                  f"(worst {r['held_out_worst']:6.2f}) fit {r['fitted_psnr']:6.2f} blend {r['blend_psnr']:6.2f} "
                  f"mci {mci} {r['train_seconds']:6.1f} s  share {r['picture_share']}")
        return
    if args.setup not in data["mci"]:
        data["mci"][args.setup] = mci_scores(args.setup)
    for v in args.variants:
        work = Path(tempfile.mkdtemp(prefix="actinr-ablation-"))
        try:
            row = run_variant(args.setup, v, work)
            if args.keep:
                shutil.copytree(work / "run", Path(args.keep) / f"{args.setup}-{v}", dirs_exist_ok=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        data["rows"].append(row)
        path.write_text(dumps(data))
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
