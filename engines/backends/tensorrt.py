"""``tensorrt``: the decoder graph as a TensorRT engine, enqueued on torch's CUDA stream.

The plan comes from the bundle when one there matches this GPU's compute
capability, this TensorRT version and the requested precision; otherwise it
is built from the bundle's embedded ONNX graph (engines/tensorrt_build.py) and
kept in the plan cache (``$ACTINR_CACHE`` or ``~/.cache/actinr``), so only the
first start on a machine pays for the build. A plan for another GPU or
TensorRT version is never used.

Execution is the TensorRT 10/11 API: the input shape is set per call,
``set_tensor_address`` points every input and the output at torch CUDA
tensors, and ``execute_async_v3`` enqueues on torch's current stream, so the
bias upload before and the image gather after need no extra synchronisation.
Points are packed into calls (base.pack_grid) whose points per slot stay
inside the plan's optimization profile.

This workplace has no TensorRT builder, so this module has not run here; its
tests skip with that reason.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import bundle as B
from ..errors import ActinrError, missing_package
from ..grid import SampleGrid
from .base import Backend, SlotPlan, fill_slots, require_cuda, slot_plan

CALL_POINTS = 1 << 21  # points per call over all slots, within the profile's maximum


def _import_tensorrt():
    try:
        import tensorrt
    except ImportError:
        raise missing_package("tensorrt", "tensorrt") from None
    return tensorrt


class TensorRT(Backend):
    name = "tensorrt"
    gpu = True
    precisions = ("fp32", "fp16")

    def __init__(self, *args, progress: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        from ..tensorrt_build import PlanBuilder, cached_plan

        trt = _import_tensorrt()
        major, minor = torch.cuda.get_device_capability(self.device)
        builder = PlanBuilder(trt, f"{major}.{minor}")
        self.wdtype = torch.float16 if self.precision == "fp16" else torch.float32
        plan, self.plan_source = None, "bundle"
        for s in self.bundle.plans:
            meta = s.meta or {}
            if (meta == {**meta, **builder.key}
                    and meta.get("precision", self.bundle.manifest["precision"]) == self.precision):
                plan = bytes(self.bundle.raw(s.name))
        if plan is None:
            self.plan_source = "cache"
            graph = bytes(self.bundle.raw(B.DECODER_GRAPHS[self.precision]))
            plan = cached_plan(builder, graph, self.spec.layout, progress=progress)
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(plan)
        if self.engine is None:
            raise ActinrError(f"TensorRT {trt.__version__} cannot load the decoder plan ({self.plan_source}); "
                              "delete the plan cache to rebuild it")
        self.context = self.engine.create_execution_context()
        lo, _, hi = self.engine.get_tensor_profile_shape("coords", 0)  # (P, N, 2) each
        self.min_points, self.max_points = int(lo[1]), int(hi[1])

    @classmethod
    def probe(cls, device: str) -> None:
        require_cuda(cls.name, device)
        _import_tensorrt()

    def load_gop(self, weights: list[np.ndarray]) -> list[torch.Tensor]:
        ws = [torch.from_numpy(np.array(w)).to(self.device, self.wdtype) for w in weights]
        return [w.contiguous() for w in ws]

    def prepare(self, grid: SampleGrid) -> SlotPlan:
        max_points = min(self.max_points, max(1, CALL_POINTS // self.spec.patches))
        return slot_plan(grid, self.spec, self.device, self.wdtype, max_points, min_points=self.min_points)

    @torch.inference_mode()
    def render(self, plan: SlotPlan, gop: list[torch.Tensor], biases: list[np.ndarray]) -> torch.Tensor:
        ctx = self.context
        stream = torch.cuda.current_stream(self.device).cuda_stream
        bs = [torch.from_numpy(b).to(self.device).unsqueeze(1) for b in biases]  # (P, 1, out)
        ctx.set_input_shape("coords", tuple(plan.coords.shape[1:]))
        for i, (w, b) in enumerate(zip(plan.slot_weights, plan.slot_biases)):
            ctx.set_tensor_address(f"weight_{i}", w.data_ptr())
            ctx.set_tensor_address(f"bias_{i}", b.data_ptr())
        for c in range(plan.packed.calls):
            fill_slots(plan, c, gop, bs)
            ctx.set_tensor_address("coords", plan.coords[c].data_ptr())
            ctx.set_tensor_address("rgb", plan.out[c].data_ptr())
            # A refused enqueue records nothing; gathering after it would show the previous frame's pixels.
            if not ctx.execute_async_v3(stream):
                raise ActinrError("TensorRT refused to enqueue the decoder (see its log above)")
        return plan.packed.gather.image(plan.out.view(-1), 255.0)

    def synchronize(self) -> None:
        torch.cuda.synchronize(self.device)
