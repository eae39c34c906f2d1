"""What a training step costs compiled once for each shape, with shapes marked dynamic, and eagerly.

A fit decodes (train/fit.py ``_Decoder``) each GOP's frames with their margins and its in-between targets, so each
GOP length is one more shape for torch.compile. Past dynamo's recompile limit (8 by default) a new shape runs
eagerly; ``DECODE_SHAPES`` raises the limit for the decoder instead. This times one step (the patch MLP forward and
backward at bikes 320x136's training shapes: 112 patches, a batch of 128 points, h = 32) for several frame counts,
each mode in a fresh process, with a fit's heap setting (``reused_heap``): the first call (compile included; inductor's
on-disk cache makes a repeated run's shorter) and the median of the next ones.

    python benchmarks/train_compile.py       # -> results/<date>-cpu-train_compile.{json,log}; about 3 min
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = {"static": False, "dynamic": True, "eager": None}  # torch.compile's ``dynamic``; None: not compiled
FRAMES = (12, 16, 20, 3)  # a GOP's fitted frames with margins (12-20 on bikes k = 4), and its in-between targets
PATCHES, POINTS, HIDDEN = 112, 128, 32


def one_mode(mode: str, repeat: int) -> list[dict]:
    import torch

    from actinr.engines.patch_mlp import decode
    from actinr.train.fit import reused_heap

    torch.manual_seed(0)
    fn = decode if MODES[mode] is None else torch.compile(decode, dynamic=MODES[mode])
    rows = []
    for f in FRAMES:
        h = HIDDEN
        coords = torch.rand(1, f, POINTS, 2) * 2 - 1
        weights = [torch.randn(PATCHES, 2, 2 * h), torch.randn(PATCHES, 2 * h, 4 * h) * 0.1,
                   torch.randn(PATCHES, 2 * h, 3) * 0.1]
        biases = [torch.randn(PATCHES, f, w.shape[-1]) for w in weights]
        for t in weights + biases:
            t.requires_grad_(True)

        def step(coords=coords, weights=weights, biases=biases):
            fn(coords, weights, biases, 5.0, 7.0).square().mean().backward()

        with reused_heap():  # as in a fit
            t0 = time.perf_counter()
            step()
            first = time.perf_counter() - t0
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                step()
                times.append((time.perf_counter() - t0) * 1e3)
        rows.append({"mode": mode, "frames": f, "first_s": round(first, 2),
                     "step_ms": round(statistics.median(times), 1)})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20, help="timed steps per shape")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="result folder")
    ap.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)  # one mode, in the child process
    args = ap.parse_args(argv)
    if args.mode:
        print(json.dumps(one_mode(args.mode, args.repeat)))
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import machine, save_result

    rows = []
    for mode in MODES:
        out = subprocess.run([sys.executable, __file__, "--mode", mode, "--repeat", str(args.repeat)],
                             capture_output=True, text=True, check=True).stdout
        rows += json.loads(out.strip().splitlines()[-1])
    static = {r["frames"]: r["step_ms"] for r in rows if r["mode"] == "static"}
    lines = [f"training step (forward + backward), {PATCHES} patches x {POINTS} points, h = {HIDDEN}; {machine()}",
             f"{'mode':8} {'frames':>6} {'first s':>8} {'step ms':>8} {'/ static':>8}"]
    for r in rows:
        lines.append(f"{r['mode']:8} {r['frames']:6d} {r['first_s']:8.2f} {r['step_ms']:8.1f} "
                     f"{r['step_ms'] / static[r['frames']]:8.2f}")
    text = "\n".join(lines)
    print(text)
    path = save_result(args.out, "train_compile", {"shape": {"patches": PATCHES, "points": POINTS, "hidden": HIDDEN},
                                                    "repeat": args.repeat, "rows": rows})
    path.with_suffix(".log").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
