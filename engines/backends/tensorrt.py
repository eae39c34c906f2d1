"""``tensorrt``: the decoder graph as a TensorRT engine, enqueued on torch's CUDA stream.

Finding the plan is the loader's job (:meth:`TensorRT.load`, through
engines/tensorrt_build.py :func:`resolve_plan`): the bundle's plan when one
there matches this GPU's compute capability, this TensorRT version and the
requested precision; otherwise one built from the bundle's embedded ONNX graph
and kept in the plan cache (``$ACTINR_CACHE`` or ``~/.cache/actinr``), so only
the first start on a machine pays for the build. A plan for another GPU or
TensorRT version is never used. The backend itself only deserialises the
plan's bytes and runs it; every TensorRT call's result is checked, since
TensorRT reports most failures by a False or None return and a log line.

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

from ..bundle import Bundle
from ..errors import ActinrError, optional_import
from ..grid import SampleGrid
from .base import Backend, SlotPlan, fill_slots, require_cuda, slot_plan

CALL_POINTS = 1 << 21  # points per call over all slots, within the profile's maximum


def import_tensorrt():
    return optional_import("tensorrt", "tensorrt")


class TensorRT(Backend):
    name = "tensorrt"
    gpu = True
    stripe_pixels = 1 << 22
    plan_pixels = 1 << 24
    precisions = ("fp32", "fp16")

    def __init__(self, bundle: Bundle, device: str, precision: str, plan: bytes, plan_source: str = "bytes"):
        super().__init__(bundle, device, precision)
        trt = import_tensorrt()
        self.wdtype = torch.float16 if self.precision == "fp16" else torch.float32
        self.plan_source = plan_source
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(plan)
        if self.engine is None:
            raise ActinrError(f"TensorRT {trt.__version__} cannot load the decoder plan ({plan_source}); "
                              "delete the plan cache to rebuild it")
        self.context = self.engine.create_execution_context()
        if self.context is None:
            raise ActinrError(f"TensorRT {trt.__version__} cannot make an execution context for the decoder plan "
                              "(out of GPU memory?)")
        lo, _, hi = self.engine.get_tensor_profile_shape("coords", 0)  # (P, N, 2) each
        self.min_points, self.max_points = int(lo[1]), int(hi[1])

    @classmethod
    def load(cls, bundle: Bundle, device: str, precision: str, progress: bool = True) -> TensorRT:
        """Resolve the plan for this GPU (the bundle's, the cache's, or a fresh build), then deserialise it."""
        from ..tensorrt_build import PlanBuilder, resolve_plan

        major, minor = torch.cuda.get_device_capability(device)
        builder = PlanBuilder(import_tensorrt(), f"{major}.{minor}")
        plan, source = resolve_plan(bundle, builder, precision, progress=progress)
        return cls(bundle, device, precision, plan, source)

    @classmethod
    def probe(cls, device: str) -> None:
        require_cuda(cls.name, device)
        import_tensorrt()

    def load_gop(self, weights: list[np.ndarray]) -> list[torch.Tensor]:
        ws = [torch.from_numpy(np.array(w)).to(self.device, self.wdtype) for w in weights]
        return [w.contiguous() for w in ws]

    def prepare(self, grid: SampleGrid) -> SlotPlan:
        max_points = min(self.max_points, max(1, CALL_POINTS // self.patches))
        return slot_plan(grid, self.model, self.patches, self.device, self.wdtype, max_points,
                         min_points=self.min_points)

    def _address(self, name: str, tensor: torch.Tensor) -> None:
        if not self.context.set_tensor_address(name, tensor.data_ptr()):
            raise ActinrError(f"TensorRT refused the address of tensor {name!r} (see its log above)")

    def _bind(self, plan: SlotPlan) -> None:
        """Set the input shape of ``plan``'s calls and point the slot weights and biases at their buffers."""
        shape = tuple(plan.coords.shape[1:])  # (P, n, 2)
        if not self.context.set_input_shape("coords", shape):
            raise ActinrError(f"TensorRT refused the input shape {shape} (profile: {self.min_points} to "
                              f"{self.max_points} points per patch)")
        for i, (w, b) in enumerate(zip(plan.slot_weights, plan.slot_biases)):
            self._address(f"weight_{i}", w)
            self._address(f"bias_{i}", b)

    @torch.inference_mode()
    def render(self, plan: SlotPlan, gop: list[torch.Tensor], biases: list[np.ndarray]) -> torch.Tensor:
        stream = torch.cuda.current_stream(self.device).cuda_stream
        bs = [torch.from_numpy(b).to(self.device).unsqueeze(1) for b in biases]  # (P, 1, out)
        self._bind(plan)
        for c in range(plan.packed.calls):
            fill_slots(plan, c, gop, bs)
            self._address("coords", plan.coords[c])
            self._address("rgb", plan.out[c])
            # A refused enqueue records nothing; gathering after it would show the previous frame's pixels.
            if not self.context.execute_async_v3(stream):
                raise ActinrError("TensorRT refused to enqueue the decoder (see its log above)")
        return plan.packed.gather.image(plan.out.view(-1), 255.0)

    def synchronize(self) -> None:
        torch.cuda.synchronize(self.device)
