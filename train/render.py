"""The plain PyTorch renderer of train/'s model: ``actinr eval``'s frames and ``actinr bench``'s reference row.

One render, two sources of GOP models: :class:`RunRenderer` takes them from a
fitted run folder, :class:`BundleRenderer` rebuilds them from a bundle (its
weights, fp16 widened to fp32, and its embedded bias-INRs, or else its baked
tables interpolated as every decoder does). A frame is what the ActINR
authors' code does to show one: the fp32 :class:`~actinr.train.model.GOPModel`
evaluated over every patch's sample points (engines/grid.py) for one frame
time, the pixels gathered into the image with their blend weights and
clamped. ``chunk`` cuts the points into calls of that many per patch (eval
uses it to bound memory at large sizes); the bench reference takes the whole
grid in one call, no chunking, fp16, fused kernels or CUDA graphs.
"""

from __future__ import annotations

import numpy as np
import torch

from actinr.engines import bias as bias_math
from actinr.engines.bundle import load
from actinr.engines.errors import ActinrError
from actinr.engines.grid import FULL_VIEW, PatchLayout, sample_grid
from actinr.engines.patch_mlp import decode
from actinr.engines.timeline import frame_position, gop_for_frame, local_time, mix_uint8, switch_mix, switch_window

from .model import GOPModel


def to_uint8(img: torch.Tensor) -> torch.Tensor:
    """A float image in [0, 1] -> uint8, rounded as every decoder rounds."""
    return (img * 255.0).round_().to(torch.uint8)


class Renderer:
    """Renders frame positions at any size and viewport; caches GOP models and grids. Subclasses load models."""

    bias_source = "bias-INR"  # what the biases come from, for a benchmark's record

    def __init__(self, spans: list[tuple[int, int]], layout: PatchLayout, fps: float, device="cpu",
                 chunk: int | None = None):
        self.spans, self.layout, self.fps = list(spans), layout, float(fps)
        self.frames = self.spans[-1][1] + 1
        self.device, self.chunk = torch.device(device), chunk
        self._models: dict[int, GOPModel] = {}
        self._grids: dict[tuple, tuple] = {}
        self.switch = switch_window(1)  # the GOP-switch window (width, warp): subclasses set their model's

    def _load(self, g: int) -> GOPModel:
        raise NotImplementedError

    def model(self, g: int) -> GOPModel:
        """GOP ``g``'s model on the device (loaded once)."""
        if g not in self._models:
            self._models[g] = self._load(g)
        return self._models[g]

    def preload(self) -> None:
        """Load every GOP's model now, so that no timed frame pays for it."""
        for g in range(len(self.spans)):
            self.model(g)

    def biases(self, g: int, t: float) -> list[torch.Tensor]:
        """Every module's bias at local time ``t``: ``[(P, 1, width), ...]`` on the device."""
        return self.model(g).biases(torch.tensor([float(t)], dtype=torch.float32, device=self.device))

    def grid(self, size, viewport=FULL_VIEW):
        key = (tuple(size), tuple(viewport))
        if key not in self._grids:
            grid = sample_grid(self.layout, size, viewport)
            self._grids[key] = (torch.from_numpy(grid.coords).to(self.device),  # (P, N, 2)
                                torch.from_numpy(grid.pixel).to(self.device),  # (P, N)
                                torch.from_numpy(grid.weight).to(self.device), grid.width, grid.height)
        return self._grids[key]

    @torch.no_grad()
    def render(self, f: float, size=None, viewport=FULL_VIEW, biases=None) -> torch.Tensor:
        """Frame position ``f`` (clamped to the clip) -> float (H, W, 3) in [0, 1] on the device.

        ``biases`` ``[(P, width), ...]`` replaces the model's own (e.g. baked biases).
        """
        f = min(max(float(f), 0.0), float(self.frames - 1))
        mix = switch_mix(self.spans, f, *self.switch) if biases is None else None
        if mix is not None:  # near a GOP switch (engines/timeline.py): both GOPs, mixed
            a = self._render_gop(mix.before, mix.t_before, size, viewport)
            b = self._render_gop(mix.after, mix.t_after, size, viewport)
            return a.mul_(1.0 - mix.weight).add_(b, alpha=mix.weight)
        g = gop_for_frame(self.spans, f)
        return self._render_gop(g, local_time(self.spans[g], f), size, viewport, biases)

    def _render_gop(self, g: int, t: float, size, viewport, biases=None) -> torch.Tensor:
        model = self.model(g)
        coords, pixel, weight, w, h = self.grid(size or (self.layout.width, self.layout.height), viewport)
        if biases is None:
            biases = self.biases(g, t)
        else:
            biases = [b[:, None].to(self.device) for b in biases]  # [(P, 1, width)]
        weights = model.weights()
        step = self.chunk or coords.shape[1]
        img = torch.zeros(w * h + 1, 3, device=self.device)  # the last row collects padded entries
        for s in range(0, coords.shape[1], step):
            out = decode(coords[:, None, s:s + step], weights, biases, model.w0, model.s0)[:, 0]  # (P, n, 3)
            vals = out * weight[:, s:s + step, None]
            img.index_add_(0, pixel[:, s:s + step].reshape(-1), vals.reshape(-1, 3))
        return img[:-1].view(h, w, 3).clamp_(0.0, 1.0)

    def render_u8(self, f: float, size=None, viewport=FULL_VIEW, biases=None) -> torch.Tensor:
        """:meth:`render` as uint8 on the device, as a decoder gives it: near a GOP switch each GOP's
        picture is rounded first and the two are mixed by engines/timeline.py ``mix_uint8``, as decoders do."""
        f = min(max(float(f), 0.0), float(self.frames - 1))
        mix = switch_mix(self.spans, f, *self.switch) if biases is None else None
        if mix is None:
            return to_uint8(self.render(f, size, viewport, biases))
        a = to_uint8(self._render_gop(mix.before, mix.t_before, size, viewport))
        b = to_uint8(self._render_gop(mix.after, mix.t_after, size, viewport))
        return mix_uint8(a, b, mix.weight)

    def render_uint8(self, f: float, size=None, viewport=FULL_VIEW, biases=None) -> np.ndarray:
        """:meth:`render_u8` as numpy, as a player shows it."""
        return self.render_u8(f, size, viewport, biases).cpu().numpy()

    def render_time(self, t: float, size) -> torch.Tensor:
        """The frame at ``t`` seconds as uint8 ``(h, w, 3)`` on the device (a decoder's ``render``)."""
        return self.render_u8(frame_position(t, self.fps, self.frames), size)

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def close(self) -> None:
        self._models.clear()
        self._grids.clear()


class RunRenderer(Renderer):
    """The fitted GOPs of a run folder (frame positions relative to the clip's start)."""

    def __init__(self, run, device="cpu", chunk: int | None = 8192):
        if run.gops_done == 0:
            raise ActinrError(f"{run.path}: no GOP has finished fitting yet")
        super().__init__(run.spans[: run.gops_done], run.layout, run.source.fps, device, chunk)
        self.run = run
        self.switch = switch_window(run.config.gop_margin)

    def _load(self, g: int) -> GOPModel:
        return self.run.load_model(g, self.device)


class BundleRenderer(Renderer):
    """A bundle's GOPs as train/'s model (``actinr bench``'s reference row)."""

    def __init__(self, path, device="cpu", chunk: int | None = None):
        self.bundle = load(path)
        m = self.bundle.manifest
        super().__init__(m.spans, m.layout, m.source.fps, device, chunk)
        self.config = m.model
        self.exact = m.bias.exact
        self.interpolation = m.bias.interpolation
        self.switch = m.switch
        self.bias_source = "bias-INR" if self.exact else f"baked tables ({self.interpolation})"
        self._tables: dict[int, list[torch.Tensor]] = {}

    def _load(self, g: int) -> GOPModel:
        c = self.config
        model = GOPModel(self.layout.count, c.hidden, c.layers, c.w0, c.s0)
        inrs = self.bundle.gop_bias_inrs(g) if self.exact else None
        model.load_stored(self.bundle.stored_weights(g), inrs, f"{self.bundle.path}: GOP {g}")
        if not self.exact:
            self._tables[g] = [torch.from_numpy(np.array(t, dtype=np.float32)).to(self.device)
                               for t in self.bundle.gop_bias_tables(g)]
        return model.to(self.device).eval()

    def biases(self, g: int, t: float) -> list[torch.Tensor]:
        if self.exact:
            return super().biases(g, t)
        self.model(g)
        return [bias_math.interpolate(tab, t, self.interpolation)[:, None] for tab in self._tables[g]]

    def close(self) -> None:
        super().close()
        self._tables.clear()
        self.bundle.close()
