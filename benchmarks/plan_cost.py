"""What a new output size or viewport costs the fused Triton backend on the host: its tile plan's build time and
bytes, against the per-pixel sampling grid the other backends (and, before 2026-12-06, this one) start from.

The player builds a plan for every window size, zoom and pan it shows (cached per size and viewport), so the
build time is a pause in playback; the plan's bytes live in GPU memory. The plan is built on the host (numpy),
so this runs anywhere: no GPU, no Triton needed.

    python benchmarks/plan_cost.py                # demo bundle -> benchmarks/results/<date>-cpu-plan_cost.{json,log}
    python benchmarks/plan_cost.py --bundle B --repeat 5 --out DIR
    python benchmarks/plan_cost.py --layout 1920x1080/32/4   # a layout without a bundle: source/patch/overlap,
                                                             # here a 1080p source's (2691 patches)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = [(1280, 720), (1920, 1080), (3840, 2160)]
VIEWS = {"full": (0.0, 0.0, 1.0, 1.0), "zoom 2x": (0.25, 0.25, 0.75, 0.75)}


def timed(repeat: int, fn, *args) -> tuple[float, object]:
    """The median seconds of ``repeat`` calls of ``fn(*args)`` after a warm one, and its result."""
    out = fn(*args)  # warm: first-touch page faults of the large temporaries
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", default=str(ROOT / "player" / "data" / "demo.engine"), help="bundle (its layout)")
    ap.add_argument("--repeat", type=int, default=5, help="timed builds per case (median)")
    ap.add_argument("--layout", metavar="WxH/K/O", help="a layout instead of the bundle's: source size, patch, overlap")
    ap.add_argument("--block", type=int, default=64, help="pixels per tile (the fp16 default)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="result folder")
    ap.add_argument("--tag", help="a suffix for the file names (a second run of the same code, say)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from actinr.engines.backends.triton_fused import view_plan
    from actinr.engines.bundle import load
    from actinr.engines.grid import sample_grid

    from common import save_result

    if args.layout:
        from actinr.engines.grid import PatchLayout

        size, patch, overlap = args.layout.split("/")
        w, h = (int(v) for v in size.lower().split("x"))
        layout = PatchLayout(w, h, int(patch), int(overlap))
    else:
        layout = load(args.bundle).manifest.layout
    rows, lines = [], []
    head = (f"layout {layout.width}x{layout.height}, patch {layout.patch}, overlap {layout.overlap} "
            f"({layout.count} patches); tiles of {args.block} px; median of {args.repeat}")
    print(head)
    lines.append(head)
    table = ["| size | view | triton plan s | bytes/pixel | tiles | owners/tile | tile fill | per-pixel grid s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    print("\n".join(table))
    for size in SIZES:
        for name, view in VIEWS.items():
            t_plan, vp = timed(args.repeat, view_plan, layout, size, args.block, view)
            t_grid, _ = timed(max(1, args.repeat // 2), sample_grid, layout, size, view)
            hw = size[0] * size[1]
            row = {"size": list(size), "view": name, "viewport": list(view), "plan_s": round(t_plan, 4),
                   "plan_bytes_per_pixel": round(vp.nbytes / hw, 2), "plan_mb": round(vp.nbytes / 1e6, 1),
                   "tiles": vp.tiles, "owners_per_tile": round(float(vp.tile[:, 1].mean()), 3),
                   "tile_fill": round(hw / vp.pixel.size, 4), "grid_s": round(t_grid, 4)}
            rows.append(row)
            table.append(f"| {size[0]}x{size[1]} | {name} | {t_plan:.3f} | {row['plan_bytes_per_pixel']} "
                         f"({row['plan_mb']} MB) | {vp.tiles} | {row['owners_per_tile']} | {row['tile_fill']} | "
                         f"{t_grid:.3f} |")
            print(table[-1], flush=True)
    lines += table
    name = "plan_cost"
    if args.layout:
        name += f"-{layout.width}x{layout.height}-{layout.patch}-{layout.overlap}"
    if args.tag:
        name += f"-{args.tag}"
    path = save_result(args.out, name, {"bundle": None if args.layout else str(args.bundle), "block": args.block,
                                        "layout": [layout.width, layout.height, layout.patch, layout.overlap],
                                               "repeat": args.repeat, "rows": rows})
    path.with_suffix(".log").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
