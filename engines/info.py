"""``actinr info``: what a bundle holds, read from its manifest (after the full validation)."""

from __future__ import annotations

import argparse
import json
import math

from . import bundle as B
from .manifest import DECODER_GRAPHS


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
    src, lay, model, bias = m.source, m.layout, m.model, m.bias
    per_gop = sum(math.prod(s) for s in model.stored_shapes(lay.count))
    # a scene cut (a GOP starting after the frame the one before ends) shows as " | " instead of ", "
    spans = "".join((" | " if g in m.cuts else ", ") * (g > 0) + f"{s.first}-{s.last}" for g, s in enumerate(m.gops))
    layers = model.layers
    lines = [
        f"{bundle.path}: actinr bundle v{bundle.version}, {_size(bundle.size)}, {m.producer or '?'}"
        + (f", {m.created}" if m.created else ""),
        f"clip       {src.name}: {src.width}x{src.height}, {src.fps:.3f} fps, {src.frames} frames "
        f"({(src.frames - 1) / src.fps:.2f} s) from source frame {src.start}",
        f"GOPs       {len(m.gops)}: frames {spans}"
        + (f" ({len(m.cuts)} scene cut{'s' * (len(m.cuts) > 1)}, at '|')" if m.cuts else "")
        + (f"; switches mixed over {m.switch[0]:g} frame{'s' * (m.switch[0] != 1)} ({m.switch[1]})"
           if len(m.gops) > len(m.cuts) + 1 else ""),
        f"patches    {lay.count} ({lay.nx}x{lay.ny}) of {lay.patch} px, overlap {lay.overlap}",
        f"model      WIRE-2D MLP per patch, h {model.hidden}, {layers} hidden layer{'s' * (layers > 1)}, "
        f"w0 {model.w0:g}, s0 {model.s0:g}; {per_gop:,} weights per GOP",
        f"precision  {m.precision} weights; decoder graphs: " + ", ".join(DECODER_GRAPHS),
        f"biases     baked at {bias.rate} sample{'s' * (bias.rate > 1)} per frame interval, {bias.interpolation} "
        f"interpolation, {bias.dtype}; exact bias-INR {'embedded' if bias.exact else 'not embedded'}"
        + (f"; module{'s' * (len(bias.still) > 1)} {', '.join(map(str, bias.still))} still (one row)"
           if bias.still else ""),
    ]
    psnrs = m.training.psnr
    if psnrs:
        lines.append(f"training   task {m.training.task or '?'}, fit PSNR per GOP "
                     + ", ".join(f"{p:.2f}" for p in psnrs) + f" dB (mean {sum(psnrs) / len(psnrs):.2f})")
    lines.append("plans      " + (", ".join(f"TensorRT {p.tensorrt} for sm{p.compute_capability} ({p.precision}, "
                                            f"{_size(bundle.sections[p.name].size)})" for p in m.plans)
                                  if m.plans else "none (ONNX only: any machine can play it)"))
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


EPILOG = """examples:
  actinr info model.engine              summary
  actinr info model.engine --sections   every section with its dtype, shape and size
  actinr info model.engine --json       the raw manifest"""


def add_info_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("bundle", help="a .engine bundle written by actinr export")
    parser.add_argument("--sections", action="store_true", help="list every section")
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON instead")


def run_info(args: argparse.Namespace) -> int:
    bundle = B.load(args.bundle)
    print(json.dumps(bundle.header, indent=2) if args.json else describe(bundle, args.sections))
    return 0
