"""fp16 vs fp32 decoder graph: PSNR of whole uint8 frames rendered through ONNX Runtime (CPU).

Renders random times of a bundle through both graphs with the same baked
biases, blends the per-patch outputs into frames with the sampling grid, and
reports the PSNR of the fp16 frame against the fp32 frame, at the source size
and at 2x.

    python benchmarks/fp16_graph.py model.engine [--times 20] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from common import RESULTS, save_result  # benchmarks/common.py (this folder is on sys.path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle")
    ap.add_argument("--times", type=int, default=20)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()

    import onnxruntime as ort

    from actinr.engines import bundle as B
    from actinr.engines.bias import interpolate
    from actinr.engines.grid import sample_grid
    from actinr.engines.timeline import gop_for_frame, local_time

    bundle = B.load(args.bundle)
    m = bundle.manifest
    src, spans, layout = m.source, m.spans, m.layout
    sessions = {p: ort.InferenceSession(bundle.decoder_graph(p), providers=["CPUExecutionProvider"])
                for p in ("fp32", "fp16")}
    rng = np.random.default_rng(0)
    rows = {}
    for scale in (1, 2):
        grid = sample_grid(layout, (src.width * scale, src.height * scale))
        psnrs = []
        for f in rng.uniform(0, src.frames - 1, args.times):
            g = gop_for_frame(spans, f)
            t = local_time(spans[g], f)
            biases = {f"bias_{i}": interpolate(tab, t, m.bias.interpolation)[:, None]
                      for i, tab in enumerate(bundle.gop_bias_tables(g))}
            frames = {}
            for prec, sess in sessions.items():
                wdtype = np.float16 if prec == "fp16" else np.float32
                feed = {"coords": grid.coords, **biases,
                        **{f"weight_{i}": w.astype(wdtype) for i, w in enumerate(bundle.gop_weights(g))}}
                rgb = sess.run(None, feed)[0] * grid.weight[..., None]  # (P, N, 3)
                img = np.zeros((grid.width * grid.height + 1, 3), np.float32)
                np.add.at(img, grid.pixel.ravel(), rgb.reshape(-1, 3))
                frames[prec] = np.round(np.clip(img[:-1], 0, 1) * 255)
            mse = float(np.mean((frames["fp16"] - frames["fp32"]) ** 2))
            psnrs.append(math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse))
        rows[f"{grid.width}x{grid.height}"] = {"mean": round(float(np.mean(psnrs)), 2),
                                               "worst": round(float(np.min(psnrs)), 2)}
        print(f"{grid.width}x{grid.height}: fp16 graph vs fp32 graph over {args.times} random times: "
              f"mean {np.mean(psnrs):.2f} dB, worst {np.min(psnrs):.2f} dB")
    result = {"onnxruntime": ort.__version__, "bundle": str(args.bundle), "times": args.times, "psnr_db": rows}
    save_result(args.out, "fp16_graph", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
