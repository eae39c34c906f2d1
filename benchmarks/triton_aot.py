"""The fused kernel compiled ahead of time for a GPU this machine does not have: registers, spills, shared
memory and the instruction mix of each variant, read from the cubin (engines/backends/triton_kernel.py
``compile_for`` and ``machine_code``).

Triton carries its own LLVM and ptxas, so a kernel compiles for compute capability 9.0 (H100/H200) or 8.0
(A100) on a CPU-only machine, as the JIT compiles a launch on torch's tensors (every pointer 16-byte aligned).
That measures what the compiler made, not how fast it runs: registers decide
how many warps fit on a multiprocessor (65536 registers each), a stack or local loads mean spills, HGMMA
(Hopper) or HMMA (Ampere) counts mean the matmuls are on tensor cores, MUFU counts are the special-function
instructions (exp2, sin, cos). The run time of each variant is for ``make gpu-check`` / ``actinr bench --sweep``.

    python benchmarks/triton_aot.py                # -> benchmarks/results/<date>-cpu-triton_aot.{json,log}
    python benchmarks/triton_aot.py --estimate benchmarks/results/<file>.json   # a saved run's frame estimates
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, compile_for keywords): the default (fp16, fast math, 64-pixel tiles, 4 warps, no overlap, h 32),
# then one change at a time.
VARIANTS = [
    ("default: fp16, fast sin/cos, 64 px, 4 warps", {}),
    # Compiled as Triton's JIT compiles a launch: every pointer known 16-byte aligned (torch's allocations are),
    # so loads and stores vectorize. Without that (every count before the eleventh session of 2026-12-06):
    ("default, pointers not known aligned", {"aligned": False}),
    ("grouped, blend, pointers not known aligned", {"grouped": True, "blend": True, "aligned": False}),
    # A hidden layer as eight products of H x H blocks (the default under Triton before 3.6), not one of K = 2H,
    # N = 4H split into its blocks:
    ("eight products a hidden layer", {"wide": False}),
    ("grouped, eight products a hidden layer", {"grouped": True, "wide": False}),
    ("one product a hidden layer", {"wide": True}),
    ("accurate sin/cos", {"fast": False}),
    ("fp32, IEEE products (64 px, 4 warps)", {"fp16": False, "ieee": True}),
    ("fp32, IEEE products, 16 px, 8 warps (its own)", {"fp16": False, "ieee": True, "block": 16, "num_warps": 8}),
    ("fp32, TF32 products", {"fp16": False, "ieee": False}),
    ("overlap blend", {"blend": True}),
    ("2 hidden layers", {"layers": 2}),
    ("h 16", {"hidden": 16}),
    ("h 64", {"hidden": 64}),
    ("32 px tiles", {"block": 32}),
    ("128 px tiles", {"block": 128}),
    ("256 px tiles", {"block": 256}),
    ("2 warps", {"num_warps": 2}),
    ("8 warps", {"num_warps": 8}),
    ("128 px tiles, 8 warps", {"block": 128, "num_warps": 8}),
    ("128 px tiles, 16 warps", {"block": 128, "num_warps": 16}),
    ("256 px tiles, 8 warps", {"block": 256, "num_warps": 8}),
    ("256 px tiles, 16 warps", {"block": 256, "num_warps": 16}),
    ("A100 (sm 8.0)", {"arch": 80}),
    # Programs of several tiles (tiles_per_program > 1): the first hidden and the output layer's weights loaded
    # into shared memory once per program, then a loop over its tiles.
    ("grouped", {"grouped": True}),
    ("grouped, overlap blend", {"grouped": True, "blend": True}),
    ("grouped, 2 hidden layers", {"grouped": True, "layers": 2}),
    ("grouped, fp32 TF32 products", {"grouped": True, "fp16": False, "ieee": False}),
    ("grouped, fp32 IEEE, 16 px, 8 warps (per tile)", {"grouped": True, "fp16": False, "ieee": True, "block": 16,
                                                         "num_warps": 8}),
    ("grouped, 128 px tiles, 8 warps", {"grouped": True, "block": 128, "num_warps": 8}),
    ("grouped, 256 px tiles, 16 warps", {"grouped": True, "block": 256, "num_warps": 16}),
    ("grouped, 256 px tiles, 8 warps", {"grouped": True, "block": 256, "num_warps": 8}),
    ("grouped, A100 (sm 8.0)", {"grouped": True, "arch": 80}),
    ("grouped, capped at 128 registers", {"grouped": True, "maxnreg": 128}),
    ("grouped, overlap blend, capped at 128", {"grouped": True, "blend": True, "maxnreg": 128}),
    # Strip tiles left a program each (group_strips=False): no partial sums in memory, the code before strips grouped.
    ("grouped, overlap blend, strips apart", {"grouped": True, "blend": True, "strips": False}),
    ("grouped, blend, strips apart, capped at 128", {"grouped": True, "blend": True, "strips": False,
                                                      "maxnreg": 128}),
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="result folder")
    ap.add_argument("--tag", help="a suffix for the file names (e.g. triton3.6 when run under another Triton)")
    ap.add_argument("--estimate", metavar="JSON", help="only print the frame estimates from a saved result's counts")
    args = ap.parse_args(argv)
    if args.estimate:
        saved = json.loads(Path(args.estimate).read_text())
        for line in frame_estimates({r["variant"]: r for r in saved["rows"]}):
            print(line)
        return 0
    os.environ.pop("TRITON_INTERPRET", None)  # compiled, not interpreted
    import triton

    from actinr.engines.backends.triton_kernel import compile_for, machine_code

    date = datetime.date.today().isoformat()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines, rows = [], []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    say(f"fused kernel compiled ahead of time, triton {triton.__version__}, {date}, on a machine without a GPU")
    say(f"{'variant':46s} {'arch':>4s} {'regs':>4s} {'warps/SM':>8s} {'stack':>5s} {'shared':>6s} {'instr':>5s} "
        f"{'MMA':>4s} {'MUFU':>4s} {'LDL/STL':>7s} {'loop':>5s} {'instr/px':>8s} {'compile s':>9s}")
    for label, kw in VARIANTS:
        kw = dict(kw)
        arch = kw.pop("arch", 90)
        warps = kw.get("num_warps", 4)
        t0 = time.perf_counter()
        code = machine_code(compile_for(arch, **kw))
        seconds = time.perf_counter() - t0
        ops = code["opcodes"]
        mma = ops.get("HGMMA", 0) + ops.get("HMMA", 0)
        spill = ops.get("LDL", 0) + ops.get("STL", 0)
        # resident warps per multiprocessor by registers (65536 per SM, allocated per warp in units of 256)
        per_warp = -(-code["registers"] * 32 // 256) * 256
        resident = min(64, (65536 // per_warp) // warps * warps)
        # Thread instructions per pixel of a tile with one owner: every thread of a one-tile program runs the
        # kernel's code once (its owner loop once); grouped, each tile after a program's first costs the body of
        # the loop over its tiles (the weights were loaded before it). So this is the issue cost a pixel asks of
        # the SM, whatever the tile shape. (Before the tenth session of 2026-12-06 predicated instructions were
        # left out of every count: about 5 % of the default's.) "loop" is the MLP loop's body (machine_code).
        loop = code["loops"][0] if code["loops"] else code["instructions"]
        per_tile = loop if kw.get("grouped") else code["instructions"]
        per_pixel = per_tile * 32 * warps / kw.get("block", 64)
        rows.append({"variant": label, "arch": arch, **kw, **code, "resident_warps": resident,
                     "loop_instructions": loop,
                     "thread_instructions_per_pixel": round(per_pixel), "compile_seconds": round(seconds, 2)})
        say(f"{label:46s} {arch:4d} {code['registers']:4d} {resident:8d} {code['stack_bytes']:5d} "
            f"{code['shared_bytes']:6d} {code['instructions']:5d} {mma:4d} {ops.get('MUFU', 0):4d} {spill:7d} "
            f"{loop:5d} {per_pixel:8.0f} {seconds:9.1f}")
    say()
    for line in frame_estimates({r["variant"]: r for r in rows}):
        say(line)
    # The file names carry the Triton version when it is not the one the project's CI installs (the GPU image's
    # Triton is older): <date>-cpu-triton_aot[-triton<version>].
    tag = "" if args.tag is None else f"-{args.tag}"
    stem = out / f"{date}-cpu-triton_aot{tag}"
    Path(f"{stem}.json").write_text(json.dumps({"schema": "actinr-triton-aot/1", "date": date,
                                                "triton": triton.__version__, "rows": rows}, indent=2) + "\n")
    Path(f"{stem}.log").write_text("\n".join(lines) + "\n")
    say(f"wrote {stem}.json and .log")
    return 0


# Frames the estimate sums over, all rendered at 1920x1080: the demo bundle's layout; a 1080p source's as training
# chooses it (96-pixel patches sharing 4: the bundle `make gpu-check` fits); and one with 32-pixel patches (what
# `--patch 32` gives, benchmarks/plan_cost.py's 1920x1080/32/4).
FRAME_LAYOUTS = (("demo at 1920x1080", None), ("1080p fit (96 px patches)", (1920, 1080, 96, 4)),
                 ("1080p, 32 px patches", (1920, 1080, 32, 4)))


def program_cost(row: dict, owners: int, tiles: int, one_owner_body: int | None = None) -> int:
    """Thread instructions of one program from a variant's static counts: one-tile programs run the whole code
    once and the owner loop's body once more per extra owner; grouped ones run the code outside the owner loop
    once, per owner that loop's body less the tile loop's, and per owner and tile the tile loop's body. With
    strips grouped a tile of one owner skips the tile loop's code for partial sums (a branch around it):
    ``one_owner_body``, the tile loop of the same kernel without that code (strips apart), is what it runs."""
    loops = row["loops"]
    if len(loops) == 1:
        return row["instructions"] + (owners - 1) * loops[0]
    tile_body, owner_body = loops[0], loops[1]
    per_tile = one_owner_body if one_owner_body is not None and owners == 1 else tile_body
    return row["instructions"] - owner_body + owners * (owner_body - tile_body) + owners * tiles * per_tile


def frame_estimates(rows: dict) -> list[str]:
    """A 1080p frame's thread instructions summed over its programs (view_plan's tiles, group_tiles' programs),
    with the overlap-blend variants' counts (both layouts overlap): a static proxy for the frame's issue cost.
    Programs with strips grouped count a tile of two owners at the whole tile loop (its partial sums' load and
    store, of which the first owner runs only the store and the second only the load: a small overcount). A saved
    result from before strips were grouped has no strips-apart rows: its grouped rows are that kernel."""
    from actinr.engines.backends.triton_fused import group_tiles, view_plan
    from actinr.engines.grid import PatchLayout

    apart, apart_capped = "grouped, overlap blend, strips apart", "grouped, blend, strips apart, capped at 128"
    kinds = [("one tile a program", "overlap blend", 1, None)]
    for per in (4, 16):
        kinds += [(f"{per} tiles a program", "grouped, overlap blend", per, apart),
                  (f"{per} tiles, strips apart", apart, per, None),
                  (f"{per} tiles, capped at 128 registers", "grouped, overlap blend, capped at 128", per,
                   apart_capped)]
    lines = ["a 1920x1080 frame summed over its programs (thread instructions; 64 px tiles, 4 warps):"]
    for name, shape in FRAME_LAYOUTS:
        if shape is None:
            from actinr.engines.bundle import load

            layout = load(ROOT / "player" / "data" / "demo.engine").manifest.layout
        else:
            layout = PatchLayout(*shape)
        vp = view_plan(layout, (1920, 1080), 64)
        owners = vp.tile[:, 1]
        base = None
        for label, variant, per, one_owner in kinds:
            if variant not in rows:
                continue
            if one_owner is not None and one_owner not in rows:
                # a result from before strips were grouped (no strips-apart rows): its grouped kernel kept them apart
                if "apart" in label:
                    continue
                one_owner = None
            row = rows[variant]
            if per == 1:
                total = sum(program_cost(row, int(o), 1) for o in owners)
            else:
                programs = group_tiles(vp, per, strips=one_owner is not None)
                body = rows[one_owner]["loops"][0] if one_owner is not None else None
                total = sum(program_cost(row, int(owners[f]), int(n), body) for f, n in programs)
            base = base or total
            lines.append(f"  {name:26s} {label:34s} {total / 1e6:8.1f} M  {100 * (total / base - 1):+6.1f} %")
    return lines


if __name__ == "__main__":
    sys.exit(main())
