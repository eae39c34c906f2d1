"""Training quality benchmark: carphone frames 0-19 with default settings (2 GOPs).

Bar (issue 2): mean PSNR >= 35.0 dB in <= 300 s of training on a 2-core CPU.
Also fits ``--task interp --every 2`` on the same frames and reports the
held-out frames against the blending baseline. Prints a table and writes
``benchmarks/results/<date>-<machine>-train_quality.json``.

    python benchmarks/train_quality.py [--out DIR] [--iters N]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from actinr.train.config import MATMULS, TrainConfig
from actinr.train.evaluate import evaluate
from actinr.train.fit import train

from common import RESULTS, ROOT, machine, save_result  # benchmarks/common.py (this folder is on sys.path)

CLIP = ROOT / "tests" / "data" / "carphone.mp4"


def fit(cfg: TrainConfig, work: Path) -> tuple[dict, float]:
    out = work / cfg.task
    start = time.perf_counter()
    run = train(cfg, out)
    wall = time.perf_counter() - start
    return {"results": [r.to_json() for r in run.results], "eval": evaluate(out), "matmul": run.config.matmul}, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(RESULTS), help="folder for the JSON result")
    ap.add_argument("--iters", type=int, default=None, help="override the default iterations per GOP")
    ap.add_argument("--matmul", choices=MATMULS, default="auto",
                    help="the training steps' hidden products (actinr train --matmul), for an A/B of the types")
    args = ap.parse_args()
    extra = {"iters": args.iters} if args.iters else {}
    extra["matmul"] = args.matmul
    work = Path(tempfile.mkdtemp(prefix="actinr-bench-"))
    try:
        regress, wall = fit(TrainConfig(source=str(CLIP), start=0, frames=20, **extra), work)
        interp, wall_i = fit(TrainConfig(source=str(CLIP), start=0, frames=20, task="interp", every=2, **extra), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ev = regress["eval"]
    print(f"\nmachine: {machine()}")
    print(f"regress, carphone frames 0-19, defaults (hidden products in {regress['matmul']}):")
    for r, g in zip(regress["results"], ev["per_gop"]):
        print(f"  GOP {r['gop'] + 1} frames {r['first']}-{r['last']}: PSNR {g['psnr']:.2f} dB  SSIM {g['ssim']:.4f}  "
              f"{r['seconds']:.1f} s  {r['params']:,} parameters")
    train_s = sum(r["seconds"] for r in regress["results"])
    mean = ev["overall"]["psnr"]
    ok = mean >= 35.0 and train_s <= 300
    print(f"  mean PSNR {mean:.2f} dB, training {train_s:.1f} s (wall {wall:.1f} s with loading and saving) "
          f"-> bar (>= 35.0 dB in <= 300 s): {'met' if ok else 'NOT met'}")
    h = interp["eval"]["held_out"]
    print(f"interp --every 2: held-out frames ({h['model']['frames']}): model {h['model']['psnr']:.2f} dB, "
          f"blend baseline {h['blend_baseline']['psnr']:.2f} dB, "
          f"repeat baseline {h['repeat_baseline']['psnr']:.2f} dB; "
          f"fitted frames {interp['eval']['overall']['psnr']:.2f} dB overall")

    result = {"clip": "carphone frames 0-19",
              "regress": {"per_gop": regress["results"], "eval": ev["per_gop"], "overall": ev["overall"],
                          "training_seconds": round(train_s, 2), "wall_seconds": round(wall, 2), "bar_met": ok,
                          "matmul": regress["matmul"]},
              "interp_every_2": {"per_gop": interp["results"], "held_out": h, "overall": interp["eval"]["overall"],
                                 "wall_seconds": round(wall_i, 2)}}
    save_result(args.out, "train_quality", result)


if __name__ == "__main__":
    main()
