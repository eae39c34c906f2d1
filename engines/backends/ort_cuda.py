"""``onnxruntime-cuda``: the bundle's decoder graph on ONNX Runtime's CUDA execution provider, with IO binding.

Inputs and outputs are bound to torch CUDA tensors by address, so nothing
crosses to the host: coordinates and gather indices are uploaded once per
output size, weights once per GOP, and per frame only the biases (a few kB).
ONNX Runtime runs on torch's current CUDA stream (``user_compute_stream``), so
its work is ordered after the bias upload and before the image gather without
extra synchronisation.

Needs ``onnxruntime-gpu`` (``pip install 'actinr[gpu]'``), which replaces the
CPU-only ``onnxruntime`` package (both provide the same module).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ActinrError
from ..grid import SampleGrid
from .base import Backend, SlotPlan, fill_slots, require_cuda, slot_plan
from .ort_cpu import import_onnxruntime

CALL_POINTS = 1 << 20  # points per run over all slots (bounds ONNX Runtime's activation memory)


class OrtCUDA(Backend):
    name = "onnxruntime-cuda"
    gpu = True
    stripe_pixels = 1 << 22
    plan_pixels = 1 << 24
    precisions = ("fp32", "fp16")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ort = import_onnxruntime("gpu")
        self.wdtype = torch.float16 if self.precision == "fp16" else torch.float32
        stream = torch.cuda.current_stream(self.device).cuda_stream
        cuda = ("CUDAExecutionProvider", {"device_id": self.device.index or 0, "user_compute_stream": str(stream)})
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        graph = self.bundle.decoder_graph(self.precision)
        try:
            self.session = ort.InferenceSession(graph, opts, providers=[cuda])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ActinrError(f"{self.bundle.path}: ONNX Runtime (CUDA) cannot load the decoder graph "
                              f"({str(exc).splitlines()[0]})") from None
        if "CUDAExecutionProvider" not in self.session.get_providers():
            raise ActinrError("onnxruntime-cuda: ONNX Runtime fell back to the CPU (is the CUDA runtime it was "
                              "built for installed?)")

    @classmethod
    def probe(cls, device: str) -> None:
        require_cuda(cls.name, device)
        ort = import_onnxruntime("gpu")
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ActinrError(f"onnxruntime-cuda needs onnxruntime-gpu; the installed onnxruntime {ort.__version__} "
                              f"has only {', '.join(ort.get_available_providers())}: pip install 'actinr[gpu]'")

    def load_gop(self, weights: list[np.ndarray]) -> list[torch.Tensor]:
        return [torch.from_numpy(np.array(w)).to(self.device, self.wdtype) for w in weights]

    def _bind(self, io, name: str, t: torch.Tensor, output: bool = False) -> None:
        dtype = np.float16 if t.dtype == torch.float16 else np.float32
        bind = io.bind_output if output else io.bind_input
        bind(name, "cuda", self.device.index or 0, dtype, list(t.shape), t.data_ptr())

    def prepare(self, grid: SampleGrid) -> SlotPlan:
        plan = slot_plan(grid, self.model, self.patches, self.device, self.wdtype, max(1, CALL_POINTS // self.patches))
        for c in range(plan.packed.calls):
            io = self.session.io_binding()
            self._bind(io, "coords", plan.coords[c])
            for i, (w, b) in enumerate(zip(plan.slot_weights, plan.slot_biases)):
                self._bind(io, f"weight_{i}", w)
                self._bind(io, f"bias_{i}", b)
            self._bind(io, "rgb", plan.out[c], output=True)
            plan.calls.append(io)
        return plan

    @torch.inference_mode()
    def render(self, plan: SlotPlan, gop: list[torch.Tensor], biases: list[np.ndarray]) -> torch.Tensor:
        bs = [torch.from_numpy(b).to(self.device).unsqueeze(1) for b in biases]  # (P, 1, out)
        for c, io in enumerate(plan.calls):
            fill_slots(plan, c, gop, bs)
            self.session.run_with_iobinding(io)  # same stream as the copies above
        return plan.packed.gather.image(plan.out.view(-1), 255.0)

    def synchronize(self) -> None:
        torch.cuda.synchronize(self.device)
