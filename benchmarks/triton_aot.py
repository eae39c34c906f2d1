"""The fused kernel compiled ahead of time for a GPU this machine does not have: registers, spills, shared
memory and the instruction mix of each variant, read from the cubin (engines/backends/triton_kernel.py
``compile_for`` and ``machine_code``).

Triton carries its own LLVM and ptxas, so a kernel compiles for compute capability 9.0 (H100/H200) or 8.0
(A100) on a CPU-only machine. That measures what the compiler made, not how fast it runs: registers decide
how many warps fit on a multiprocessor (65536 registers each), a stack or local loads mean spills, HGMMA
(Hopper) or HMMA (Ampere) counts mean the matmuls are on tensor cores, MUFU counts are the special-function
instructions (exp2, sin, cos). The run time of each variant is for ``make gpu-check`` / ``actinr bench --sweep``.

    python benchmarks/triton_aot.py                # -> benchmarks/results/<date>-cpu-triton_aot.{json,log}
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
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="result folder")
    ap.add_argument("--tag", help="a suffix for the file names (e.g. triton3.6 when run under another Triton)")
    args = ap.parse_args(argv)
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
    # The file names carry the Triton version when it is not the one the project's CI installs (the GPU image's
    # Triton is older): <date>-cpu-triton_aot[-triton<version>].
    tag = "" if args.tag is None else f"-{args.tag}"
    stem = out / f"{date}-cpu-triton_aot{tag}"
    Path(f"{stem}.json").write_text(json.dumps({"schema": "actinr-triton-aot/1", "date": date,
                                                "triton": triton.__version__, "rows": rows}, indent=2) + "\n")
    Path(f"{stem}.log").write_text("\n".join(lines) + "\n")
    say(f"wrote {stem}.json and .log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
