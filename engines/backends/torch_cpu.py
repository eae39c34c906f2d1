"""``torch-cpu``: the decoder on the CPU with PyTorch, laid out for caches and for few operator calls.

Three things make it fast on a small CPU (docs/measurements.md "Decoders" has the numbers):

- **Points in chunks.** One call over every pixel streams (P, N, 4h) activations
  through memory a dozen times; chunks of a few thousand points keep them in
  the L2 cache (the prototype measured 3.7x between the two at 640x360).
- **No padding.** Patches are sorted by how many points they own (edge patches
  of a frame that is not a multiple of the patch size own fewer, zoomed
  viewports leave most patches empty); chunk ``s`` runs only the leading
  patches that still have points past ``s``, so padded points are never computed.
- **Features first.** Activations are (patches, features, points): the Gabor
  halves ``u, v`` (``Re u, Im u, Re v, Im v``) are contiguous row blocks, so the
  activation is a handful of in-place operator calls with no concatenation.

The output layer is pre-scaled by 255 so the gathered image is already in
0..255. Arithmetic is fp32 throughout; results equal the reference
(engines/patch_mlp.decode) up to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..grid import SampleGrid
from .base import Backend, Gather, gather_index, require_cpu

CHUNK_POINTS = 8192  # points (over all patches) per chunk; ``actinr bench --sweep`` times others


@dataclass
class _Plan:
    coords: torch.Tensor  # (P', 2, Np) the patches that own points, sorted by point count, descending
    order: np.ndarray  # (P',) patch index at each sorted position
    steps: list[tuple[int, int, int]]  # (first point, points, patches) per chunk
    out: torch.Tensor  # (P', 3, Np) the MLP's output, 0..255
    gather: Gather
    weights: tuple = field(default=(None, None))  # (gop state, its weights in this plan's patch order)


class TorchCPU(Backend):
    name = "torch-cpu"
    sweep = {"chunk_points": (CHUNK_POINTS, 2048, 4096, 16384, 32768)}

    def __init__(self, *args, chunk_points: int = CHUNK_POINTS, **kwargs):
        super().__init__(*args, **kwargs)
        self.chunk_points = chunk_points

    @classmethod
    def probe(cls, device: str) -> None:
        require_cpu(cls.name, device)

    def load_gop(self, weights: list[np.ndarray]) -> list[torch.Tensor]:
        ws = [torch.from_numpy(np.array(w, dtype=np.float32)).transpose(1, 2).contiguous() for w in weights]
        ws[-1].mul_(255.0)  # (P, 3, 2h): outputs straight in 0..255
        return ws  # [(P, out, in)]

    def prepare(self, grid: SampleGrid) -> _Plan:
        hw = grid.width * grid.height
        counts = (grid.pixel < hw).sum(1)  # (P,) real points per patch
        order = np.argsort(-counts, kind="stable")
        # Only the patches that own points get buffers (a stripe of a large frame, or a zoomed view, crosses few).
        order = order[:max(int((counts > 0).sum()), 1)]
        counts = counts[order]
        steps, s = [], 0
        while s < counts[0]:
            m = int((counts > s).sum())  # sorted: the first m patches have points past s
            n = int(min(max(16, self.chunk_points // m), counts[0] - s))
            steps.append((s, n, m))
            s += n
        n_pad = max(s, 1)
        coords = np.zeros((len(order), n_pad, 2), np.float32)
        coords[:, :grid.points] = grid.coords[order][:, :n_pad]
        rank = np.zeros(grid.coords.shape[0], np.int64)
        rank[order] = np.arange(len(order))  # patch index -> sorted position (patches without points: unused)
        gather = gather_index(grid, lambda p, j: rank[p] * 3 * n_pad + j, n_pad, "cpu")
        return _Plan(torch.from_numpy(coords).transpose(1, 2).contiguous(), order, steps,
                     torch.zeros(len(order), 3, n_pad), gather)

    @torch.inference_mode()
    def render(self, plan: _Plan, gop: list[torch.Tensor], biases: list[np.ndarray]) -> np.ndarray:
        if plan.weights[0] is not gop:
            plan.weights = (gop, [w[plan.order] for w in gop])  # (P, out, in), the plan's patch order
        ws = plan.weights[1]
        bs = [torch.from_numpy(b[plan.order]).unsqueeze(-1) for b in biases]  # [(P, out, 1)]
        bs[-1] = bs[-1] * 255.0
        h, w0, s0, lo = self.model.hidden, self.model.w0, self.model.s0, self.model.min_exponent
        ss = -(s0 * s0)
        for s, n, m in plan.steps:
            x = torch.baddbmm(bs[0][:m], ws[0][:m], plan.coords[:m, :, s:s + n])  # (m, 2h, n) = [u; v]
            z = torch.empty(m, 2 * h, n)
            u, v = x[:, :h], x[:, h:]
            env = torch.mul(u, u).addcmul_(v, v).mul_(ss).clamp_min_(lo).exp_()  # (m, h, n)
            u.mul_(w0)
            torch.cos(u, out=z[:, :h])
            torch.sin(u, out=z[:, h:])
            z.view(m, 2, h, n).mul_(env.unsqueeze(1))  # (m, 2h, n) = [Re psi; Im psi]
            for i in range(1, len(ws) - 1):
                y = torch.baddbmm(bs[i][:m], ws[i][:m], z).view(m, 4, h, n)  # [Re u; Im u; Re v; Im v]
                ur, ui, vr, vi = y.unbind(1)
                env = torch.mul(ur, ur).addcmul_(ui, ui).addcmul_(vr, vr).addcmul_(vi, vi)
                env.mul_(ss).add_(ui, alpha=-w0).clamp_min_(lo).exp_()  # (m, h, n)
                ur.mul_(w0)
                torch.cos(ur, out=z[:, :h])
                torch.sin(ur, out=z[:, h:])
                z.view(m, 2, h, n).mul_(env.unsqueeze(1))
            torch.baddbmm(bs[-1][:m], ws[-1][:m], z, out=plan.out[:m, :, s:s + n])  # (m, 3, n)
        return plan.gather.image(plan.out.view(-1)).numpy()
