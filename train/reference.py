"""The speed baseline: a bundle's GOPs as train/'s PyTorch model, evaluated the plain way.

``actinr bench`` times every decoder backend against this. Per frame it does
what the ActINR authors' code does to show a frame: one forward call of the
fp32 :class:`~actinr.train.model.GOPModel` over every patch's sample points for
a batch of one frame time (the bias-INRs evaluated at that time, the hidden
layers realified from their complex weights in the call), then the pixels are
gathered into the image and converted to uint8. No chunking, fp16, fused
kernels or CUDA graphs.

The weights come from the bundle (fp16 bundles are widened to fp32). The
bias-INRs are the bundle's own when it embeds them (``actinr export
--exact-bias``); otherwise the model takes the baked bias tables, interpolated
as every decoder does, and :attr:`biases` says so.
"""

from __future__ import annotations

import numpy as np
import torch

from actinr.engines import bias as bias_math
from actinr.engines import bundle as B
from actinr.engines.backends import ModelSpec
from actinr.engines.errors import ActinrError
from actinr.engines.grid import sample_grid
from actinr.engines.patch_mlp import decode
from actinr.engines.timeline import gop_for_frame, local_time

from .model import GOPModel


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(array, dtype=np.float32))  # a copy off the file map, in fp32


class ReferenceDecoder:
    """``render(t, size)`` -> uint8 ``(h, w, 3)`` tensor on ``device``, through :class:`GOPModel`."""

    name = "reference"

    def __init__(self, path, device: str = "cpu"):
        self.bundle = B.load(path)
        m = self.bundle.manifest
        self.spec = ModelSpec.from_manifest(m)
        self.device = torch.device(device)
        self.spans = [(g["first"], g["last"]) for g in m["gops"]]
        self.fps, self.frames = float(m["source"]["fps"]), int(m["source"]["frames"])
        self.exact = bool(m["bias"]["exact"])
        self.interpolation = m["bias"]["interpolation"]
        self.biases = "bias-INR" if self.exact else f"baked tables ({self.interpolation})"
        self._models: dict[int, GOPModel] = {}
        self._tables: dict[int, list[torch.Tensor]] = {}
        self._grids: dict[tuple[int, int], tuple] = {}

    def model(self, g: int) -> GOPModel:
        """GOP ``g`` as a fitted GOPModel on the device (built once)."""
        if g not in self._models:
            s = self.spec
            model = GOPModel(s.patches, s.hidden, s.layers, s.w0, s.s0)
            ws = [self.bundle.array(B.weight_name(g, i)) for i in range(s.layers + 2)]
            state = {"w1": _tensor(ws[0]), "wout": _tensor(ws[-1])}
            for i, w in enumerate(ws[1:-1]):  # stored (P, 2, h, 2h): real and imaginary parts
                state[f"hid_re.{i}"], state[f"hid_im.{i}"] = _tensor(w[:, 0]), _tensor(w[:, 1])
            if self.exact:
                for i in range(s.layers + 2):
                    for p in B.INR_PARAMS:
                        state[f"bias_inrs.{i}.{p}"] = _tensor(self.bundle.array(B.inr_name(g, i, p)))
            else:
                self._tables[g] = [_tensor(t).to(self.device) for t in self.bundle.gop_bias_tables(g)]
            try:
                model.load_state_dict(state, strict=self.exact)
            except RuntimeError as exc:
                raise ActinrError(f"{self.bundle.path}: GOP {g} does not fit train/'s model "
                                  f"({str(exc).splitlines()[0]})") from None
            self._models[g] = model.to(self.device).eval()
        return self._models[g]

    def preload(self) -> None:
        """Build every GOP's model now, so that no timed frame pays for it."""
        for g in range(len(self.spans)):
            self.model(g)

    def _grid(self, size: tuple[int, int]):
        if size not in self._grids:
            grid = sample_grid(self.spec.layout, size)
            self._grids[size] = (torch.from_numpy(grid.coords)[:, None].to(self.device),  # (P, 1, N, 2)
                                 torch.from_numpy(grid.pixel).reshape(-1).to(self.device),
                                 torch.from_numpy(grid.weight)[..., None].to(self.device))
        return self._grids[size]

    @torch.inference_mode()
    def render(self, t: float, size: tuple[int, int]) -> torch.Tensor:
        f = min(max(float(t) * self.fps, 0.0), float(self.frames - 1))
        g = gop_for_frame(self.spans, f)
        lt = local_time(self.spans[g], f)
        model = self.model(g)
        coords, pixel, weight = self._grid(size)
        if self.exact:
            out = model(coords, torch.tensor([lt], dtype=torch.float32, device=self.device))
        else:
            biases = [bias_math.interpolate(tab, lt, self.interpolation)[:, None] for tab in self._tables[g]]
            out = decode(coords, model.weights(), biases, model.w0, model.s0)
        w, h = size
        img = torch.zeros(w * h + 1, 3, device=self.device)  # the last row collects the padding
        img.index_add_(0, pixel, (out[:, 0] * weight).reshape(-1, 3))
        return (img[:-1].clamp_(0, 1) * 255).round_().to(torch.uint8).view(h, w, 3)

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def close(self) -> None:
        self._models.clear()
        self._tables.clear()
        self._grids.clear()
        self.bundle.close()
