"""What every decoder backend shares: the base class and the frame assembly.

A backend runs the batched patch MLP and nothing else. The decoder
(engines/decoder.py) owns time, GOP choice, biases and caching. It makes a
backend with :meth:`Backend.load` (the loader: where a backend must find,
build or cache an artifact first, as TensorRT's plan, it does that there and
hands the constructor what to run) and drives it through three calls:

- ``load_gop(weights)``: one GOP's realified weights (numpy, as the bundle
  stores them) -> whatever the backend keeps on its device;
- ``prepare_view(size, viewport, rows)``: one output size and viewport (and
  stripe of rows) -> the backend's per-size state (sample points on the device,
  gather indices, buffers, a CUDA graph). By default that is
  ``prepare(sample_grid(...))``: the per-pixel :class:`SampleGrid`; a backend
  that computes each pixel's points itself (``triton``) plans from the per-axis
  maps instead;
- ``render(plan, gop, biases)``: one frame; ``biases`` are the modules'
  ``(P, width)`` float32 biases at the frame's time. Returns uint8 RGB
  ``(h, w, 3)``: numpy on the CPU, a torch tensor on CUDA.

Every backend computes the MLP's output for each grid entry into its own
buffer layout and then gathers the image from that buffer with
:func:`gather_index` (an output pixel is the weighted sum of at most 4 entries
with overlapping windows, exactly 1 without).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from ..bundle import Bundle
from ..errors import ActinrError
from ..grid import FULL_VIEW, SampleGrid, pixel_entries, sample_grid
from ..manifest import Model


class Backend:
    """One way to evaluate the decoder. Subclasses are registered by name in backends/__init__.py."""

    name: ClassVar[str] = ""
    gpu: ClassVar[bool] = False
    precisions: ClassVar[tuple[str, ...]] = ("fp32",)
    # Tuning options ``actinr bench --sweep`` times, each with the values it tries (the module's default first),
    # one option changed at a time; then ``sweep_pairs``, combinations of options it times as well.
    sweep: ClassVar[dict[str, tuple]] = {}
    sweep_pairs: ClassVar[tuple[dict, ...]] = ()
    # Output pixels rendered in one call: a larger frame is rendered in stripes of rows (engines/decoder.py),
    # so a backend's per-call memory (grid, plan, activations) is bounded whatever the size: 512 K pixels keep
    # a CPU backend's working set under about 200 MB (docs/measurements.md "Memory"); GPU backends take 4 M
    # (1080p in one call).
    stripe_pixels: ClassVar[int] = 1 << 19
    # Output pixels the decoder's cached plans may cover in all (engines/decoder.py): a larger frame builds its
    # stripes' plans for each frame. 4.2 M (two 1080p frames) for host memory; GPU backends hold their plans in
    # device memory and take 16.7 M (two 4K frames), so 4K plays from a cached plan.
    plan_pixels: ClassVar[int] = 1 << 22

    def __init__(self, bundle: Bundle, device: str, precision: str):
        self.bundle, self.precision = bundle, precision
        self.model, self.layout = bundle.manifest.model, bundle.manifest.layout
        self.patches = self.layout.count
        self.device = torch.device(device)

    @classmethod
    def load(cls, bundle: Bundle, device: str, precision: str, **options) -> Backend:
        """Make the backend for ``bundle`` (a loader: backends whose artifact needs finding override this)."""
        return cls(bundle, device, precision, **options)

    @classmethod
    def probe(cls, device: str) -> None:
        """Raise :class:`ActinrError` saying why this backend cannot run here on ``device``."""
        raise NotImplementedError

    def load_gop(self, weights: list[np.ndarray]) -> Any:
        raise NotImplementedError

    def prepare(self, grid: SampleGrid) -> Any:
        raise NotImplementedError

    def prepare_view(self, size: tuple[int, int], viewport=FULL_VIEW, rows: tuple[int, int] | None = None) -> Any:
        """The plan for output ``size``, ``viewport`` and ``rows`` (the decoder's call)."""
        return self.prepare(sample_grid(self.layout, size, viewport, rows))

    def render(self, plan: Any, gop: Any, biases: list[np.ndarray]):
        raise NotImplementedError

    def synchronize(self) -> None:
        """Wait for queued device work (timing needs it; CPU backends finish inside render)."""

    def close(self) -> None:
        """Release device resources (the decoder calls it once)."""


def require_cpu(name: str, device: str) -> None:
    if torch.device(device).type != "cpu":
        raise ActinrError(f"{name} runs on the CPU, not on {device}")


def require_cuda(name: str, device: str) -> None:
    if torch.device(device).type != "cuda":
        raise ActinrError(f"{name} runs on a CUDA GPU, not on {device}")
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise ActinrError(f"{name} needs a CUDA GPU and torch sees none (torch {torch.__version__} is {build})")
    index = torch.device(device).index or 0
    if index >= torch.cuda.device_count():
        raise ActinrError(f"{name}: there is no {device} (this machine has {torch.cuda.device_count()} GPU(s))")


@dataclass
class Gather:
    """How to assemble the image from a backend's output buffer (flattened).

    ``index`` (h*w, 3) int32: each pixel's first entry's element offsets (its one entry inside a patch).
    ``multi`` None (no overlapping windows) or (m,) int64: the pixels made of several entries (a strip two
    patches share, a corner of four), with ``multi_index`` (m, E, 3) int32 offsets and ``multi_weight``
    (m, E, 1) blend weights of their entries (a pixel of fewer than E points its spare slots at an entry
    every backend computes, with weight 0). So a frame gathers 3 values per pixel and 3 E more for the
    pixels that blend, not 3 E for every pixel.
    """

    index: torch.Tensor
    multi: torch.Tensor | None
    multi_index: torch.Tensor | None
    multi_weight: torch.Tensor | None
    width: int
    height: int

    def image(self, flat, scale: float = 1.0):
        """``flat`` buffer (torch tensor, or numpy array for a numpy result) -> uint8 (h, w, 3);
        ``scale`` maps the buffer's values to 0..255."""
        if isinstance(flat, np.ndarray):  # numpy, single-threaded: no torch worker threads to wake
            img = flat[self.index.numpy()]  # (h*w, 3)
            if self.multi is not None:
                img[self.multi.numpy()] = (flat[self.multi_index.numpy()] * self.multi_weight.numpy()).sum(1)
            img = np.rint(np.clip(img * scale, 0.0, 255.0))
            return img.astype(np.uint8).reshape(self.height, self.width, 3)
        img = flat.index_select(0, self.index.view(-1)).view(-1, 3)  # (h*w, 3)
        if self.multi is not None:
            m, e = self.multi_index.shape[:2]
            parts = flat.index_select(0, self.multi_index.view(-1)).view(m, e, 3)
            img.index_copy_(0, self.multi, (parts * self.multi_weight).sum(1))
        if scale != 1.0:
            img = img * scale
        return img.clamp_(0.0, 255.0).round_().to(torch.uint8).view(self.height, self.width, 3)


def gather_index(grid: SampleGrid, locate: Callable[[np.ndarray, np.ndarray], np.ndarray], channel_stride: int,
                 device) -> Gather:
    """The :class:`Gather` for a backend whose buffer holds entry (p, j), channel c at
    ``locate(p, j) + c * channel_stride``."""
    entry, weight = pixel_entries(grid)  # (h*w, E) into the flat (P, N) grid
    n, spare = grid.points, grid.pixel.size

    def offsets(entries: np.ndarray) -> torch.Tensor:
        # A spare slot (past the grid: a pixel of fewer than E entries) points at entry (0, 0), weight 0: every
        # backend computes that entry, so the product is a finite 0.
        entries = np.where(entries >= spare, 0, entries)
        p = entries // n
        base = locate(p, entries - p * n)
        if int(base.max(initial=0)) + 2 * channel_stride >= 1 << 31:
            raise AssertionError("a backend's output buffer is past int32 offsets")
        off = np.empty(base.shape + (3,), np.int32)
        for c in range(3):
            off[..., c] = base + c * channel_stride
        return torch.from_numpy(off).to(device)

    # A pixel blends if it has a second entry (its entries come first, in patch order) or a first of weight
    # below 1 (a pixel of no entry, were there one, too: its weights are all 0, so it is 0 as before).
    multi = weight[:, 0] != 1.0
    if entry.shape[1] > 1:
        multi |= entry[:, 1] < spare
    multi = np.flatnonzero(multi)
    if multi.size == 0:
        return Gather(offsets(entry[:, 0]), None, None, None, grid.width, grid.height)
    return Gather(offsets(entry[:, 0]), torch.from_numpy(multi).to(device), offsets(entry[multi]),
                  torch.from_numpy(weight[multi][..., None]).to(device), grid.width, grid.height)


@dataclass
class PackedGrid:
    """A grid packed into fixed-size calls of a graph with ``S`` patch slots.

    The decoder graph's batch dimension is a slot, not a patch: each slot gets
    the weights and biases of the patch it holds. A patch's points are cut into
    tiles of ``n`` points and the tiles fill the slots of ``C`` calls, so empty
    patches (a zoomed viewport) and frame padding cost nothing.

    ``coords`` (C, S, n, 2), unused points at (0, 0); ``patch`` (C, S) the
    patch in each slot (0 for an unused slot); ``gather`` assembles the image
    from the stacked outputs (C, S, n, 3).
    """

    coords: np.ndarray
    patch: np.ndarray
    gather: Gather

    @property
    def calls(self) -> int:
        return self.coords.shape[0]

    @property
    def points(self) -> int:
        return self.coords.shape[2]


# A GPU call's fixed cost (kernel launches, tens of microseconds) in points: an estimate, not a
# measurement; it only steers pack_grid towards few large calls on GPUs.
GPU_CALL_COST = 1 << 16


def tile_size(counts: np.ndarray, slots: int, max_points: int, min_points: int = 1, call_cost: int = 4096) -> int:
    """Points per tile that minimise ``calls * (slots * n + call_cost)`` for patches of ``counts`` points.

    Candidates split the largest patch evenly (``ceil(max / k)``); ``call_cost``
    is a call's fixed overhead in point-equivalents.
    """
    top = int(counts.max(initial=0))
    best, best_cost = None, None
    for k in range(1, 65):
        n = min(max(math.ceil(top / k), min_points), max(max_points, min_points))
        calls = math.ceil(int(np.ceil(counts / n).sum()) / slots)
        cost = calls * (slots * n + call_cost)
        if best_cost is None or cost < best_cost:
            best, best_cost = n, cost
        if math.ceil(top / k) <= min_points:
            break
    return max(best or 1, 1)


def pack_grid(grid: SampleGrid, slots: int, max_points: int, device, min_points: int = 1,
              call_cost: int = 4096) -> PackedGrid:
    """Pack ``grid``'s real points into calls of ``slots`` tiles of ``min_points`` to ``max_points`` points."""
    counts = (grid.pixel < grid.width * grid.height).sum(1)  # (P,) real points lead each patch's row
    n = tile_size(counts, slots, max_points, min_points, call_cost)
    tiles = np.ceil(counts / n).astype(np.int64)  # (P,)
    first_tile = np.cumsum(tiles) - tiles
    total = int(tiles.sum())
    calls = max(1, math.ceil(total / slots))
    tile_patch = np.repeat(np.arange(len(counts)), tiles)  # (T,)
    tile_start = (np.arange(total) - np.repeat(first_tile, tiles)) * n  # first point of each tile
    coords = np.zeros((calls * slots, n, 2), np.float32)
    j = tile_start[:, None] + np.arange(n)  # (T, n) point index inside the patch
    real = j < counts[tile_patch][:, None]
    coords[:total][real] = grid.coords[np.broadcast_to(tile_patch[:, None], j.shape)[real], j[real]]
    patch = np.zeros(calls * slots, np.int64)
    patch[:total] = tile_patch

    def locate(p, jj):
        return ((first_tile[p] + jj // n) * n + jj % n) * 3  # tile index t = c * S + s

    return PackedGrid(coords.reshape(calls, slots, n, 2), patch.reshape(calls, slots),
                      gather_index(grid, locate, 1, device))


@dataclass
class SlotPlan:
    """A packed grid on the device with the per-slot weight and bias buffers a fixed-P graph reads
    (the ONNX Runtime CUDA and TensorRT backends)."""

    packed: PackedGrid
    coords: torch.Tensor  # (C, S, n, 2)
    patch: torch.Tensor  # (C, S) slot -> patch
    out: torch.Tensor  # (C, S, n, 3)
    slot_weights: list[torch.Tensor]  # (S, in, out) per module, refilled for each call
    slot_biases: list[torch.Tensor]  # (S, 1, out)
    calls: list = field(default_factory=list)  # per-call backend state (ONNX Runtime's IO bindings)


def slot_plan(grid: SampleGrid, model: Model, slots: int, device, wdtype, max_points: int,
              min_points: int = 1) -> SlotPlan:
    """``grid`` packed for a graph of ``slots`` patch slots (the bundle's patch count), with its slot buffers."""
    pg = pack_grid(grid, slots, max_points, device, min_points=min_points, call_cost=GPU_CALL_COST)
    return SlotPlan(pg, torch.from_numpy(pg.coords).to(device), torch.from_numpy(pg.patch).to(device),
                    torch.empty(pg.calls, slots, pg.points, 3, device=device),
                    [torch.empty(slots, fin, fout, device=device, dtype=wdtype) for fin, fout in model.layer_shapes],
                    [torch.empty(slots, 1, fout, device=device) for _, fout in model.layer_shapes])


def fill_slots(plan: SlotPlan, c: int, weights: list[torch.Tensor], biases: list[torch.Tensor]) -> None:
    """Give every slot of call ``c`` its patch's weights and ``(P, 1, out)`` biases (queued on the current stream)."""
    slots = plan.patch[c]
    for dst, w in zip(plan.slot_weights, weights):
        torch.index_select(w, 0, slots, out=dst)
    for dst, b in zip(plan.slot_biases, biases):
        torch.index_select(b, 0, slots, out=dst)
