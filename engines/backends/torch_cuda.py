"""``torch-cuda``: the decoder with PyTorch on a CUDA GPU, fp32 or fp16, replayed as a CUDA graph.

The points are packed into calls of P slots (base.pack_grid) of up to
CALL_POINTS points in all, so memory stays bounded at 4K and zoomed viewports
cost what their pixels cost. With ``precision="fp16"`` the hidden and output
matmuls run in fp16 (tensor cores) while the first matmul, the Gabor
arguments, biases and sin/cos/exp stay fp32: the same split as the bundle's
fp16 ONNX graph.

A frame of a fixed size is a fixed sequence of kernels, so the first frame of
each size is captured into a CUDA graph and later frames replay it: per frame
the CPU copies the new biases into static buffers and launches one graph.
Weights live in static buffers too; a GOP switch copies the new GOP's weights
into them (device to device), so the captured graphs stay valid.

The arithmetic is device-agnostic: on a CPU device (tests only) it runs
without graphs, which is how its fp32 and fp16 paths are checked on machines
without a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..grid import SampleGrid
from ..patch_mlp import gabor_complex, gabor_first
from .base import GPU_CALL_COST, Backend, PackedGrid, pack_grid, require_cuda

CALL_POINTS = 1 << 20  # points per call over all slots: (S, n, 4h) fp32 activations of 512 MB at h = 32


@dataclass
class _Plan:
    packed: PackedGrid
    coords: torch.Tensor  # (C, S, n, 2) on the device
    patch: torch.Tensor  # (C, S) slot -> patch
    out: torch.Tensor  # (C, S, n, 3)
    image: torch.Tensor  # (h, w, 3) uint8, written by every render (and by the graph)
    graph: object = None


class TorchCUDA(Backend):
    name = "torch-cuda"
    gpu = True
    stripe_pixels = 1 << 22
    plan_pixels = 1 << 24
    precisions = ("fp32", "fp16")
    sweep = {"cuda_graphs": (True, False)}

    def __init__(self, *args, cuda_graphs: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.half = self.precision == "fp16"
        self.use_graphs = cuda_graphs and self.device.type == "cuda"
        self._weights: list[torch.Tensor] | None = None  # static, the current GOP's
        self._current = None
        self._biases = [torch.zeros(self.patches, 1, fout, device=self.device) for fout in self.model.widths]

    @classmethod
    def probe(cls, device: str) -> None:
        require_cuda(cls.name, device)

    def load_gop(self, weights: list[np.ndarray]) -> list[torch.Tensor]:
        ws = [torch.from_numpy(np.array(w, dtype=np.float32)).to(self.device) for w in weights]
        if self.half:
            ws[1:] = [w.half() for w in ws[1:]]  # the first matmul (K = 2) stays fp32: sample positions keep precision
        return ws

    def prepare(self, grid: SampleGrid) -> _Plan:
        p = self.patches
        pg = pack_grid(grid, p, max(1, CALL_POINTS // p), self.device, call_cost=GPU_CALL_COST)
        return _Plan(pg, torch.from_numpy(pg.coords).to(self.device), torch.from_numpy(pg.patch).to(self.device),
                     torch.empty(pg.calls, p, pg.points, 3, device=self.device),
                     torch.empty(grid.height, grid.width, 3, dtype=torch.uint8, device=self.device))

    def _mlp(self, coords: torch.Tensor, slots: torch.Tensor, out: torch.Tensor) -> None:
        """One call: coords (S, n, 2), slot patches (S,) -> out (S, n, 3) in 0..1."""
        ws = [w.index_select(0, slots) for w in self._weights]  # each slot takes its patch's weights
        bs = [b.index_select(0, slots) for b in self._biases]  # (S, 1, out)
        w0, s0 = self.model.w0, self.model.s0
        x = gabor_first(torch.baddbmm(bs[0], coords, ws[0]), w0, s0)  # (S, n, 2h)
        for i in range(1, len(ws)):
            if self.half:
                y = torch.bmm(x.half(), ws[i]).float().add_(bs[i])  # fp16 product, fp32 after
            else:
                y = torch.baddbmm(bs[i], x, ws[i])  # (S, n, out)
            x = gabor_complex(y, w0, s0) if i < len(ws) - 1 else y
        out.copy_(x)

    def _frame(self, plan: _Plan) -> None:
        for c in range(plan.packed.calls):
            self._mlp(plan.coords[c], plan.patch[c], plan.out[c])
        plan.image.copy_(plan.packed.gather.image(plan.out.view(-1), 255.0))

    def _capture(self, plan: _Plan) -> None:
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):  # warm-up outside the capture (cuBLAS handles, allocator)
            self._frame(plan)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._frame(plan)
        plan.graph = graph

    @torch.inference_mode()
    def render(self, plan: _Plan, gop: list[torch.Tensor], biases: list[np.ndarray]) -> torch.Tensor:
        if self._weights is None:
            self._weights = [torch.empty_like(w) for w in gop]
        if self._current is not gop:
            for dst, src in zip(self._weights, gop):
                dst.copy_(src)
            self._current = gop
        for dst, b in zip(self._biases, biases):
            dst.copy_(torch.from_numpy(b).unsqueeze(1))  # (P, 1, out); from pageable memory, so synchronous
        if not self.use_graphs:
            self._frame(plan)
        else:
            if plan.graph is None:
                self._capture(plan)
            plan.graph.replay()
        return plan.image.clone()  # the plan's buffer is rewritten by the next frame

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
