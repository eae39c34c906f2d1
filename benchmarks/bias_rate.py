"""Bias bake rate: how much picture quality baked bias tables lose against the exact bias-INR.

For a fitted run (default: carphone frames 0-19 with the default TrainConfig,
trained here first, about 3 minutes on 2 CPU cores), renders N random times
spread over the clip (continuous, so nearly all fall between frames: slow
motion) with the exact bias-INR and with baked tables at S = 1, 2, 4, 8 samples
per frame interval, linear and cubic interpolation, float32 and float16
tables, and reports the PSNR of each baked render against the exact one (uint8
frames, as a player shows them: mean over times and the worst time). At the
fitted frame times it also compares both with the source frames. Then it
exports the bundle for each (precision, S) and records its size.

    python benchmarks/bias_rate.py [--run RUN] [--times 100] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from common import RESULTS, ROOT, save_result  # benchmarks/common.py (this folder is on sys.path)

RATES = (1, 2, 4, 8)
METHODS = ("linear", "cubic")
DTYPES = {"float32": np.float32, "float16": np.float16}


def psnr_u8(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def summary(mses: list[float]) -> dict:
    mses = np.asarray(mses)
    to_db = lambda m: None if m == 0 else round(10 * math.log10(255.0 ** 2 / m), 2)  # noqa: E731
    return {"psnr_mean_mse": to_db(mses.mean()), "psnr_worst": to_db(mses.max()),
            "identical": round(float((mses == 0).mean()), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", help="a fitted run folder (default: fit carphone frames 0-19 first)")
    ap.add_argument("--times", type=int, default=100, help="random times to render")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS), help="folder for the JSON result")
    args = ap.parse_args()

    from actinr.engines.bias import interpolate
    from actinr.engines.timeline import gop_for_frame, local_time
    from actinr.export.bake import bake_biases
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.config import TrainConfig
    from actinr.train.fit import train
    from actinr.train.render import RunRenderer
    from actinr.train.run import Run
    from actinr.train.video import read_video

    work = Path(tempfile.mkdtemp(prefix="actinr-bias-rate-"))
    run_path = args.run
    if run_path is None:
        run_path = work / "carphone"
        print("fitting carphone frames 0-19 (default TrainConfig) ...", flush=True)
        train(TrainConfig(source=str(ROOT / "tests" / "data" / "carphone.mp4"), frames=20), run_path, progress=False)
    run = Run.load(run_path)
    spans = run.spans[: run.gops_done]
    last = spans[-1][1]
    renderer = RunRenderer(run)
    tables = {(g, s, d): bake_biases(renderer.model(g), spans[g], s, dt)
              for g in range(len(spans)) for s in RATES for d, dt in DTYPES.items()}

    def render_all(f: float, out: dict, exact: np.ndarray) -> None:
        g = gop_for_frame(spans, f)
        t = local_time(spans[g], f)
        for (gg, s, d), tab in tables.items():
            if gg != g:
                continue
            for m in METHODS:
                img = renderer.render_uint8(f, biases=[interpolate(torch.from_numpy(x), t, m) for x in tab])
                diff = img.astype(np.float64) - exact
                out.setdefault(f"S={s} {m} {d}", []).append(float(np.mean(diff ** 2)))

    rng = np.random.default_rng(args.seed)
    times = np.sort(rng.uniform(0.0, last, args.times))
    between: dict = {}
    for i, f in enumerate(times):
        render_all(float(f), between, renderer.render_uint8(float(f)).astype(np.float64))
        print(f"\r{i + 1}/{len(times)} random times", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    frames = read_video(run.source.path, run.config.start, last + 1).frames
    at_frames: dict = {}
    exact_vs_source = []
    for f in range(last + 1):
        exact = renderer.render_uint8(float(f))
        exact_vs_source.append(psnr_u8(exact, frames[f]))
        render_all(float(f), at_frames, exact.astype(np.float64))

    sizes = {}
    for prec in ("fp32", "fp16"):
        for s in RATES:
            sizes[f"{prec} S={s}"] = export_run(run_path, work / f"{prec}-{s}.engine",
                                                ExportConfig(precision=prec, bias_rate=s))["bytes"]
    sizes["fp32 S=4 exact-bias"] = export_run(run_path, work / "exact.engine",
                                              ExportConfig(bias_rate=4, exact_bias=True))["bytes"]

    rows = {k: {"between_frames": summary(v), "at_frames": summary(at_frames[k])} for k, v in between.items()}
    print(f"\n{run.path}: {len(spans)} GOPs, frames 0-{last}; {len(times)} random times in [0, {last}] "
          "(PSNR of the baked render against the exact bias-INR render, uint8; inf = identical)")
    print(f"{'tables':<22}{'mean dB':>9}{'worst dB':>10}{'identical':>11}   at frame times: mean / worst dB")
    fmt = lambda v: "inf" if v is None else f"{v:.2f}"  # noqa: E731
    for k, r in rows.items():
        b, a = r["between_frames"], r["at_frames"]
        print(f"{k:<22}{fmt(b['psnr_mean_mse']):>9}{fmt(b['psnr_worst']):>10}{b['identical']:>11.2f}   "
              f"{fmt(a['psnr_mean_mse'])} / {fmt(a['psnr_worst'])}")
    print(f"exact bias-INR vs source frames: mean {np.mean(exact_vs_source):.2f} dB")
    print("bundle sizes: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items()))

    result = {
        "run": str(run.path), "gops": [list(s) for s in spans], "times": len(times), "seed": args.seed,
        "rows": rows, "exact_vs_source_psnr": round(float(np.mean(exact_vs_source)), 3), "bundle_bytes": sizes,
    }
    save_result(args.out, "bias_rate", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
