"""``actinr export``: a fitted run folder -> one ``.engine`` bundle.

The bundle (engines/bundle.py, docs/bundle.md) holds the decoder graph in both
precisions, each GOP's weights in the chosen precision, the baked bias tables,
optionally the exact bias-INR (graph and parameters) and optionally a TensorRT
plan for this machine's GPU. Everything is checked before anything is written,
and the file appears only once complete.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from actinr.engines import bundle as B
from actinr.engines.errors import ActinrError
from actinr.engines.patch_mlp import MIN_EXPONENT

BIAS_INTERPOLATION = "cubic"  # benchmarks/bias_rate.py: cubic is 6-12 dB closer to exact than linear at the same S >= 2


def _f(default, help: str, **meta):
    return field(default=default, metadata={"help": help, **meta})


@dataclass
class ExportConfig:
    """How to pack a run (stored in the bundle's manifest under "export")."""

    precision: str = _f("fp32", "weight storage and preferred decoder graph: fp32, or fp16 (half the size; "
                                "matmuls in fp16, Gabor activations in fp32)", choices=tuple(B.PRECISIONS))
    bias_rate: int = _f(4, "bias-INR samples per frame interval in the baked tables (see README: 4 is "
                           "indistinguishable from exact biases in slow motion)", metavar="S")
    exact_bias: bool = _f(False, "also embed the bias-INR itself (graph + parameters) for exact biases at any time")
    tensorrt: bool = _f(False, "also build a TensorRT plan for this machine's GPU (needs tensorrt and a CUDA GPU)")

    def validate(self) -> None:
        if self.precision not in B.PRECISIONS:
            raise ActinrError(f"--precision must be one of {', '.join(B.PRECISIONS)}, got {self.precision!r}")
        if not 1 <= self.bias_rate <= 64:
            raise ActinrError(f"--bias-rate must be between 1 and 64 samples per frame interval, got {self.bias_rate}")


def _manifest(run, cfg: ExportConfig, gops: int, first_model) -> dict:
    from actinr.train.run import package_version

    src, tc, layout = run.source, run.config, run.layout
    spans = run.spans[:gops]
    bias = {"rate": cfg.bias_rate, "dtype": B.PRECISIONS[cfg.precision], "interpolation": BIAS_INTERPOLATION,
            "exact": cfg.exact_bias}
    if cfg.exact_bias:
        inr = first_model.bias_inrs[0]
        bias["inr"] = {"freqs": int(inr.freqs.numel()), "latent": int(inr.latent.shape[1])}
    return {
        "producer": f"actinr {package_version()}",
        "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": {"name": Path(src["path"]).name, "width": src["width"], "height": src["height"],
                   "fps": src["fps"], "frames": spans[-1][1] + 1, "start": src["start"]},
        "patch": {"size": layout.patch, "overlap": layout.overlap, "nx": layout.nx, "ny": layout.ny,
                  "count": layout.count},
        "model": {"hidden": tc.hidden, "layers": tc.layers, "w0": tc.w0, "s0": tc.s0, "min_exponent": MIN_EXPONENT},
        "gops": [{"first": a, "last": b} for a, b in spans],
        "precision": cfg.precision,
        "bias": bias,
        "training": {"task": tc.task, "config": tc.to_json(), "results": run.results[:gops]},
        "export": dataclasses.asdict(cfg),
    }


def export_run(run_path, out, cfg: ExportConfig | None = None, progress: bool = False) -> dict:
    """Write the bundle for the run folder ``run_path`` to ``out``; returns a summary (sizes, sections)."""
    from actinr.train.run import Run

    from .bake import bake_biases
    from .onnx_graph import bias_graph, decoder_graph

    cfg = cfg or ExportConfig()
    cfg.validate()
    out = Path(out)
    if out.is_dir():
        raise ActinrError(f"{out}: is a folder; give the bundle's file name (e.g. {out / 'model.engine'})")
    builder = None
    if cfg.tensorrt:  # fail on a missing TensorRT or GPU before doing any work
        from actinr.engines.tensorrt_build import PlanBuilder

        builder = PlanBuilder.for_this_machine()
    run = Run.load(run_path)
    if run.gops_done == 0:
        raise ActinrError(f"{run.path}: no GOP has finished fitting yet; nothing to export")
    gops = run.gops_done
    notes = []
    if not run.complete:
        notes.append(f"the run is incomplete: exporting the {gops} fitted GOPs of {len(run.spans)} "
                     f"(frames 0-{run.spans[gops - 1][1]})")
    tc = run.config
    first_model = run.load_model(0)
    writer = B.BundleWriter(_manifest(run, cfg, gops, first_model))
    for prec, name in B.DECODER_GRAPHS.items():
        writer.add_bytes(name, "onnx", decoder_graph(run.layout.count, tc.hidden, tc.layers, tc.w0, tc.s0, prec)
                         .SerializeToString())
    if cfg.exact_bias:
        inr = writer.manifest["bias"]["inr"]
        writer.add_bytes(B.BIAS_GRAPH, "onnx", bias_graph(run.layout.count, tc.hidden, tc.layers, inr["freqs"],
                                                          inr["latent"]).SerializeToString())
    wdtype = np.dtype(B.PRECISIONS[cfg.precision])
    for g in tqdm(range(gops), desc="export", unit="GOP", disable=not progress, leave=False):
        model = first_model if g == 0 else run.load_model(g)
        hidden = [torch.stack([a, b], 1) for a, b in zip(model.hid_re, model.hid_im)]  # (P, 2, h, 2h) each
        for i, w in enumerate([model.w1, *hidden, model.wout]):
            writer.add_array(B.weight_name(g, i), w.detach().numpy().astype(wdtype))
        for i, table in enumerate(bake_biases(model, run.spans[g], cfg.bias_rate, wdtype)):
            writer.add_array(B.bias_name(g, i), table)
        if cfg.exact_bias:
            for i, inr in enumerate(model.bias_inrs):
                for param in B.INR_PARAMS:
                    writer.add_array(B.inr_name(g, i, param), getattr(inr, param).detach().numpy())
    if builder is not None:
        graph = writer.section_bytes(B.DECODER_GRAPHS[cfg.precision])
        key, plan = builder.build(graph, run.layout, progress=progress)
        writer.add_bytes(B.plan_name(key["compute_capability"], key["tensorrt"]), "tensorrt-plan", plan,
                         precision=cfg.precision, **key)
    size = writer.write(out)
    bundle = B.load(out)  # read back: what we wrote must pass the reader's checks
    return {"path": str(out), "bytes": size, "notes": notes, "sections": len(bundle.sections),
            "plans": [s.name for s in bundle.sections.values() if s.kind == "tensorrt-plan"]}
