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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from actinr.engines import bias_inr
from actinr.engines.bundle import BundleWriter, load
from actinr.engines.config import option
from actinr.engines.errors import ActinrError
from actinr.engines.files import check_output
from actinr.engines.manifest import (
    BIAS_GRAPH,
    DECODER_GRAPHS,
    PRECISIONS,
    Bias,
    Gop,
    InrSize,
    Manifest,
    Model,
    Source,
    Training,
    bias_name,
    inr_name,
    weight_name,
)
from actinr.engines.patch_mlp import MIN_EXPONENT
from actinr.engines.timeline import switch_window

BIAS_INTERPOLATION = "cubic"  # benchmarks/bias_rate.py: cubic is 6-12 dB closer to exact than linear at the same S >= 2


@dataclass
class ExportConfig:
    """How to pack a run (stored in the bundle's manifest under "export")."""

    precision: str = option("fp32", "weight storage and preferred decoder graph: fp32, or fp16 (half the size; "
                                    "matmuls in fp16, Gabor activations in fp32)", choices=tuple(PRECISIONS))
    bias_rate: int = option(4, "bias-INR samples per frame interval in the baked tables (docs/measurements.md: 4 "
                               "is indistinguishable from exact biases in slow motion)", metavar="S")
    exact_bias: bool = option(False, "also embed the bias-INR itself (graph + parameters) for exact biases at any "
                                     "time")
    tensorrt: bool = option(False, "also build a TensorRT plan for this machine's GPU (needs tensorrt and a CUDA GPU)")

    def validate(self) -> None:
        if self.precision not in PRECISIONS:
            raise ActinrError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not 1 <= self.bias_rate <= 64:
            raise ActinrError(f"--bias-rate must be between 1 and 64 samples per frame interval, got {self.bias_rate}")


def run_manifest(run, cfg: ExportConfig, gops: int) -> Manifest:
    """The manifest of the bundle of ``run``'s first ``gops`` GOPs."""
    from actinr.train.run import package_version

    src, tc = run.source, run.config
    spans = run.spans[:gops]
    return Manifest(
        source=Source(Path(src.path).name, src.width, src.height, src.fps, spans[-1][1] + 1, src.start),
        layout=run.layout,
        model=Model(tc.hidden, tc.layers, tc.w0, tc.s0, MIN_EXPONENT),
        gops=tuple(Gop(a, b) for a, b in spans),
        precision=cfg.precision,
        bias=Bias(cfg.bias_rate, PRECISIONS[cfg.precision], BIAS_INTERPOLATION,
                  InrSize(bias_inr.FREQS, bias_inr.LATENT) if cfg.exact_bias else None,
                  # --time-bias first: only the first layer's biases move; the others are stored as one row
                  tuple(range(1, tc.layers + 2)) if tc.time_bias == "first" else ()),
        producer=f"actinr {package_version()}",
        created=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        training=Training(tc.task, tc.to_json(), tuple(r.to_json() for r in run.results[:gops])),
        export=dataclasses.asdict(cfg),
        switch=switch_window(tc.gop_margin),  # each GOP fitted past its shared ends: both rendered there
    )


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
    check_output(out, what="-o")  # before any work; missing parent folders are created when writing
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
    manifest = run_manifest(run, cfg, gops)
    m, patches = manifest.model, manifest.patches
    writer = BundleWriter(manifest.to_json())
    for prec, name in DECODER_GRAPHS.items():
        writer.add_bytes(name, "onnx", decoder_graph(patches, m, prec).SerializeToString())
    if manifest.bias.exact:
        writer.add_bytes(BIAS_GRAPH, "onnx", bias_graph(patches, m, manifest.bias.inr).SerializeToString())
    wdtype = np.dtype(PRECISIONS[cfg.precision])
    for g in tqdm(range(gops), desc="export", unit="GOP", disable=not progress, leave=False):
        model = run.load_model(g)
        for i, w in enumerate(model.stored_weights()):
            writer.add_array(weight_name(g, i), w.astype(wdtype))
        for i, table in enumerate(bake_biases(model, run.spans[g], cfg.bias_rate, wdtype)):
            if i in manifest.bias.still:
                if not np.array_equal(table, np.broadcast_to(table[:1], table.shape)):
                    raise ActinrError(f"{run.gop_file(g)}: module {i}'s biases change with time although the run "
                                      "was fitted with --time-bias first (damaged run?)")
                table = table[:1]
            writer.add_array(bias_name(g, i), table)
        if manifest.bias.exact:
            for i, inr in enumerate(model.bias_inrs):
                for param, value in inr.params().items():
                    writer.add_array(inr_name(g, i, param), value.detach().numpy())
    if builder is not None:
        plan = builder.plan(cfg.precision)
        writer.add_bytes(plan.name, "tensorrt-plan",
                         builder.build(writer.section_bytes(DECODER_GRAPHS[cfg.precision]), run.layout,
                                       progress=progress), **plan.meta())
    size = writer.write(out)
    bundle = load(out)  # read back: what we wrote must pass the reader's checks
    return {"path": str(out), "bytes": size, "notes": notes, "sections": len(bundle.sections),
            "plans": [p.name for p in bundle.manifest.plans]}
