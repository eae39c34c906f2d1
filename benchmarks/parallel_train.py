"""GOP-parallel training against sequential training on this machine (``actinr train --workers N``).

Fits carphone frames 0-59 twice with the same options (``--iters`` per GOP, default widths): in this process
with every core (``--workers 1``: torch's threads = the cores), and as 2 Ray workers with 1 thread each
(``--workers 2``: two chains of GOPs side by side), once with the second chain starting cold and once from
GOP 0 (``--chain-start first``). Reports the wall time
of each command (Ray's start and each worker's torch.compile included), the speed-up, and the fit PSNR per GOP
and its mean. Run it alone on the machine: both rows use every core.

    python benchmarks/parallel_train.py [--iters 1000]   # -> benchmarks/results/<date>-cpu-parallel_train.*
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT / "tests" / "data" / "carphone.mp4"


def fit(out: Path, workers: int, iters: int, frames: int, chain_start: str = "cold") -> dict:
    cmd = [sys.executable, "-c", "import sys; from actinr.engines.cli import main; sys.exit(main())", "train",
           str(CLIP), "-o", str(out), "--frames", str(frames), "--iters", str(iters), "--workers", str(workers),
           "--chain-start", chain_start, "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    cfg = json.loads((out / "config.json").read_text())
    results = sorted(cfg["results"], key=lambda r: r["gop"])
    psnr = [r["psnr"] for r in results]
    return {"workers": workers, "wall_s": round(wall, 1), "gops": len(results),
            "gop_psnr": psnr, "mean_psnr": round(sum(psnr) / len(psnr), 3),
            "gop_seconds": [r["seconds"] for r in results],
            "training_s": round(sum(r["seconds"] for r in results), 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iters", type=int, default=1000, help="steps per GOP (default 1000)")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)
    import torch

    work = Path(tempfile.mkdtemp(prefix="actinr-parallel-"))
    lines = []

    def say(text):
        print(text, flush=True)
        lines.append(text)

    try:
        say(f"carphone frames 0-{args.frames - 1}, {args.iters} steps per GOP, torch {torch.__version__}, "
            f"{os.cpu_count()} cores, {datetime.date.today().isoformat()}")
        rows = {"1 worker x all cores (in process)": fit(work / "seq", 1, args.iters, args.frames),
                "2 workers x 1 thread, chains start cold": fit(work / "cold", 2, args.iters, args.frames, "cold"),
                "2 workers x 1 thread, chains start from GOP 0": fit(work / "first", 2, args.iters, args.frames,
                                                                    "first")}
        seq = rows["1 worker x all cores (in process)"]
        summary = {}
        for name, r in rows.items():
            say(f"{name}: {r}")
            if r is not seq:
                summary[name] = {"speedup": round(seq["wall_s"] / r["wall_s"], 3),
                                 "mean_psnr_difference_db": round(r["mean_psnr"] - seq["mean_psnr"], 3)}
                say(f"  speed-up {summary[name]['speedup']:.2f}x, mean PSNR {r['mean_psnr']:.2f} vs "
                    f"{seq['mean_psnr']:.2f} dB ({summary[name]['mean_psnr_difference_db']:+.2f} dB)")
        stem = Path(args.out) / f"{datetime.date.today().isoformat()}-cpu-parallel_train"
        Path(f"{stem}.json").write_text(json.dumps({"settings": vars(args), "rows": rows, "summary": summary},
                                                   indent=2) + "\n")
        Path(f"{stem}.log").write_text("\n".join(lines) + "\n")
        say(f"wrote {stem}.json and .log")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
