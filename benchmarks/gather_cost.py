"""What the image gather costs the CPU backends: each new output size or viewport builds a gather plan
(engines/backends/base.py ``gather_index``), and each frame assembles the image from the MLP's outputs with it
(``Gather.image``: one entry per pixel inside a patch, the blend of 2-4 on the strips that overlapping windows
share). Per backend and size: the plan's build time (the backend's whole ``prepare``, grid included) and bytes,
the gather per frame, and the whole frame, at advancing times inside one GOP.

    python benchmarks/gather_cost.py                 # demo bundle -> results/<date>-cpu-gather_cost.{json,log}
    python benchmarks/gather_cost.py --tag before    # the same, named for a run of another commit
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = [(176, 144), (352, 288), (640, 480), (1280, 720)]


def median_ms(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", default=str(ROOT / "player" / "data" / "demo.engine"))
    ap.add_argument("--backends", default="torch-cpu,onnxruntime-cpu")
    ap.add_argument("--frames", type=int, default=30, help="timed frames per size (whole frames; the gather 3x)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="result folder")
    ap.add_argument("--tag", help="a suffix for the file names")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy as np
    import torch

    import actinr.engines as E

    from common import save_result

    lines = [f"actinr.engines from {Path(E.__file__).parent}, torch {torch.__version__}, {torch.get_num_threads()} "
             f"threads; bundle {args.bundle}"]
    head = "| backend | size | plan ms | gather plan MB | gather ms/frame | frame ms |"
    lines += [head, "| --- | --- | --- | --- | --- | --- |"]
    print("\n".join(lines), flush=True)
    rows = []
    for name in args.backends.split(","):
        dec = E.open(args.bundle, backend=name)
        first, last = dec.spans[0]
        positions = [p for p in np.linspace(first, last, args.frames) if dec.passes(p / dec.info.fps) == 1]
        times = [p / dec.info.fps for p in positions]
        for size in SIZES:
            plan_ms = median_ms(lambda b=dec.backend, s=size: b.prepare_view(s), 3)
            plan = dec.plan(size)
            if name == "torch-cpu":
                gather, buffer, scale = plan.gather, plan.out.view(-1), 1.0
            else:  # the graph backends: (packed grid, output buffer)
                gather, buffer, scale = plan[0].gather, plan[1].reshape(-1), 255.0
            dec.render(times[0], size)
            gather_ms = median_ms(lambda g=gather, b=buffer, s=scale: g.image(b, s), 3 * args.frames)
            tensors = [v for v in vars(gather).values() if isinstance(v, torch.Tensor)]
            mb = sum(v.numel() * v.element_size() for v in tensors) / 1e6
            frame = []
            for t in times:
                t0 = time.perf_counter()
                dec.render(t, size)
                frame.append((time.perf_counter() - t0) * 1e3)
            frame_ms = statistics.median(frame)
            rows.append({"backend": name, "size": list(size), "plan_ms": round(plan_ms, 2), "gather_mb": round(mb, 2),
                         "gather_ms": round(gather_ms, 3), "frame_ms": round(frame_ms, 2), "frames": len(frame)})
            line = (f"| {name} | {size[0]}x{size[1]} | {plan_ms:.1f} | {mb:.1f} | {gather_ms:.2f} | "
                    f"{frame_ms:.1f} |")
            print(line, flush=True)
            lines.append(line)
        dec.close()
    name = "gather_cost" + (f"-{args.tag}" if args.tag else "")
    path = save_result(args.out, name, {"bundle": args.bundle, "rows": rows})
    path.with_suffix(".log").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
