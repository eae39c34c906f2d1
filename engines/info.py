"""``actinr info``: what a bundle holds, read from its manifest (after the full validation)."""

from __future__ import annotations

import argparse
import json
import math

from . import bundle as B


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}"


def _group(name: str) -> str:
    parts = name.split("/")
    if parts[0] == "gop":
        return {"weight": "weights", "bias": "bias tables", "bias_inr": "bias-INR parameters"}[parts[2]]
    if parts[0] == "plan":
        return "TensorRT plans"
    return "graphs"


def describe(bundle: B.Bundle, sections: bool = False) -> str:
    """A readable summary of a loaded bundle."""
    m = bundle.manifest
    src, patch, model, bias, gops = m["source"], m["patch"], m["model"], m["bias"], m["gops"]
    frames = src["frames"]
    layers = model["layers"]
    per_gop = sum(math.prod(s) for s in B.stored_shapes(patch["count"], model["hidden"], layers))
    spans = ", ".join(f"{g['first']}-{g['last']}" for g in gops)
    lines = [
        f"{bundle.path}: actinr bundle v{m['format_version']}, {_size(bundle.size)}, {m.get('producer', '?')}"
        + (f", {m['created']}" if m.get("created") else ""),
        f"clip       {src.get('name', '?')}: {src['width']}x{src['height']}, {src['fps']:.3f} fps, {frames} frames "
        f"({(frames - 1) / src['fps']:.2f} s) from source frame {src.get('start', 0)}",
        f"GOPs       {len(gops)}: frames {spans}",
        f"patches    {patch['count']} ({patch['nx']}x{patch['ny']}) of {patch['size']} px, overlap {patch['overlap']}",
        f"model      WIRE-2D MLP per patch, h {model['hidden']}, {layers} hidden layer{'s' * (layers > 1)}, "
        f"w0 {model['w0']:g}, s0 {model['s0']:g}; {per_gop:,} weights per GOP",
        f"precision  {m['precision']} weights; decoder graphs: "
        + ", ".join(p for p, g in B.DECODER_GRAPHS.items() if g in bundle),
        f"biases     baked at {bias['rate']} sample{'s' * (bias['rate'] > 1)} per frame interval, {bias['interpolation']} interpolation, "
        f"{bias['dtype']}; exact bias-INR {'embedded' if bias['exact'] else 'not embedded'}",
    ]
    training = m.get("training") if isinstance(m.get("training"), dict) else {}  # informational, unchecked
    results = training.get("results") if isinstance(training.get("results"), list) else []
    psnrs = [r.get("psnr") for r in results if isinstance(r, dict) and isinstance(r.get("psnr"), (int, float))]
    if psnrs:
        lines.append(f"training   task {training.get('task', '?')}, fit PSNR per GOP "
                     + ", ".join(f"{p:.2f}" for p in psnrs) + f" dB (mean {sum(psnrs) / len(psnrs):.2f})")
    plans = bundle.plans
    lines.append("plans      " + (", ".join(f"TensorRT {s.meta['tensorrt']} for sm{s.meta['compute_capability']}"
                                            f" ({_size(s.size)})" for s in plans)
                                  if plans else "none (ONNX only: any machine can play it)"))
    groups: dict[str, list] = {}
    for s in bundle.sections.values():
        groups.setdefault(_group(s.name), []).append(s)
    lines.append(f"sections   {len(bundle.sections)}: " + "; ".join(
        f"{k} {len(v)} ({_size(sum(s.size for s in v))})" for k, v in groups.items()))
    if sections:
        width = max(len(s.name) for s in bundle.sections.values())
        for s in bundle.sections.values():
            what = f"{s.dtype} {list(s.shape)}" if s.kind == "array" else s.kind
            lines.append(f"  {s.name:<{width}}  {_size(s.size):>9}  {what}")
    return "\n".join(lines)


INFO_EPILOG = """examples:
  actinr info model.engine              summary
  actinr info model.engine --sections   every section with its dtype, shape and size
  actinr info model.engine --json       the raw manifest"""


def add_info_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="a .engine bundle written by actinr export")
    parser.add_argument("--sections", action="store_true", help="list every section")
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON instead")


def run_info(args: argparse.Namespace) -> int:
    bundle = B.load(args.bundle)
    print(json.dumps(bundle.manifest, indent=2) if args.json else describe(bundle, args.sections))
    return 0
