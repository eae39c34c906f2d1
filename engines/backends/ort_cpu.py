"""``onnxruntime-cpu``: the bundle's fp32 decoder graph on ONNX Runtime's CPU execution provider.

The same graph that TensorRT is built from, so this backend is also the check
that the graph renders what the PyTorch model renders. Points are packed into
the graph's P slots in tiles (base.pack_grid) of at most CHUNK_POINTS per
slot. The chunk-size sweep (benchmarks/decoders.py, now ``actinr bench --sweep``)
found no clearly best value on a 2-core CPU (128 to 2048 all within its run-to-run noise); whole-frame calls, whose
activations do not stay in cache, were slower in the export-stage measurements.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ActinrError, optional_import
from ..grid import SampleGrid
from .base import Backend, PackedGrid, pack_grid, require_cpu

CHUNK_POINTS = 256  # points per slot per run() call
CALL_COST = 200  # a run() call's overhead in points (about 0.15 ms against 0.8 us per point here)


def import_onnxruntime(extra: str):
    """onnxruntime, or the install hint for the CPU package (extra ``ort``) or the GPU one (``gpu``)."""
    return optional_import("onnxruntime", extra, "onnxruntime" if extra == "ort" else "onnxruntime-gpu")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class OrtCPU(Backend):
    name = "onnxruntime-cpu"
    sweep = {"chunk_points": (CHUNK_POINTS, 128, 512, 1024, 2048)}

    def __init__(self, *args, chunk_points: int = CHUNK_POINTS, **kwargs):
        super().__init__(*args, **kwargs)
        ort = import_onnxruntime("ort")
        self.chunk_points = chunk_points
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = cores()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # errors only
        # Idle pool threads sleep instead of spinning: spinning threads take the cores from whatever runs
        # between frames (the player, the next frame's bias interpolation) and made frame times erratic.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        graph = self.bundle.decoder_graph("fp32")
        try:
            self.session = ort.InferenceSession(graph, opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ActinrError(f"{self.bundle.path}: ONNX Runtime cannot load the decoder graph "
                              f"({str(exc).splitlines()[0]})") from None

    @classmethod
    def probe(cls, device: str) -> None:
        require_cpu(cls.name, device)
        import_onnxruntime("ort")

    def load_gop(self, weights: list[np.ndarray]) -> dict[str, np.ndarray]:
        return {f"weight_{i}": np.ascontiguousarray(w, dtype=np.float32) for i, w in enumerate(weights)}

    def prepare(self, grid: SampleGrid) -> tuple[PackedGrid, np.ndarray]:
        pg = pack_grid(grid, self.patches, self.chunk_points, "cpu", call_cost=CALL_COST)
        return pg, np.empty((pg.calls, self.patches, pg.points, 3), np.float32)  # (C, S, n, 3)

    def render(self, plan, gop: dict[str, np.ndarray], biases: list[np.ndarray]) -> np.ndarray:
        pg, out = plan
        identity = np.arange(self.patches)
        feeds = {}
        for c in range(pg.calls):
            slots = pg.patch[c]
            same = np.array_equal(slots, identity)  # a full-frame call needs no gathering
            for i, b in enumerate(biases):
                feeds[f"bias_{i}"] = (b if same else b[slots])[:, None, :]  # (S, 1, out)
            for k, w in gop.items():
                feeds[k] = w if same else w[slots]
            feeds["coords"] = pg.coords[c]
            out[c] = self.session.run(["rgb"], feeds)[0]  # (S, n, 3)
        return pg.gather.image(out.reshape(-1), 255.0)
