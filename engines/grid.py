"""The sampling grid: where each output pixel lands in the patch layout.

A source frame of ``W x H`` pixels is tiled by ``nx x ny`` square patches of
``k`` pixels, placed every ``stride = k - overlap`` pixels and padded at the
right and bottom to whole patches. Source pixel centres sit at integer
positions ``X = 0 .. W-1``. Pixel ``j`` of a patch is at local coordinate
``-1 + 2 j / (k - 1)``; a continuous position belongs to the patch whose pixel
span contains it, the half-pixel border included (so local coordinates reach
``1 / (k - 1)`` past +-1 at patch edges).

With ``overlap > 0`` neighbouring patches share ``overlap`` pixels, and a
position inside a shared strip is the blend of both patches with linear
weights that sum to one (partition of unity, bilinear in 2-D).

An output image of any size, optionally looking at a ``viewport``
``(x0, y0, x1, y1)`` in normalised source coordinates (0..1, edges of the
frame), maps output pixel centre ``(i + 0.5) / w`` to
``X = (x0 + (i + 0.5) / w * (x1 - x0)) * W - 0.5``; at the source size and the
full viewport this is the identity. Training, export tests and every decoder
backend sample through these functions, so all of them see the same points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ActinrError

FULL_VIEW = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class PatchLayout:
    """How a ``width x height`` frame is tiled by ``patch``-pixel patches."""

    width: int
    height: int
    patch: int
    overlap: int = 0

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ActinrError(f"frame size must be positive, got {self.width}x{self.height}")
        if self.patch < 2:
            raise ActinrError(f"patch size must be at least 2 pixels, got {self.patch}")
        if not 0 <= 2 * self.overlap <= self.patch:
            raise ActinrError(
                f"patch overlap must be between 0 and half the patch size ({self.patch // 2}), "
                f"got {self.overlap}"
            )

    @property
    def stride(self) -> int:
        return self.patch - self.overlap

    @property
    def nx(self) -> int:
        return max(1, math.ceil((self.width - self.overlap) / self.stride))

    @property
    def ny(self) -> int:
        return max(1, math.ceil((self.height - self.overlap) / self.stride))

    @property
    def count(self) -> int:
        return self.nx * self.ny

    def local(self, pos: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Local coordinate of source position ``pos`` inside patch ``index`` along one axis."""
        return -1.0 + 2.0 * (pos - index * self.stride) / (self.patch - 1)


@dataclass
class SampleGrid:
    """Per-patch sample points for one output image.

    ``coords`` (P, N, 2) local (x, y); ``pixel`` (P, N) flat output index
    ``y * w + x``, padded entries point at ``w * h`` (a spare slot);
    ``weight`` (P, N) blend weight, 0 on padded entries.
    """

    coords: np.ndarray
    pixel: np.ndarray
    weight: np.ndarray
    width: int
    height: int

    @property
    def points(self) -> int:
        return self.coords.shape[1]


def _axis(pos: np.ndarray, n: int, layout: PatchLayout) -> tuple[np.ndarray, ...]:
    """Owning patch indices and blend weights along one axis: (i0, w0, i1, w1)."""
    s, k, o = layout.stride, layout.patch, layout.overlap
    hi = np.clip(np.floor((pos + 0.5) / s), 0, n - 1).astype(np.int64)
    if o == 0:
        return hi, np.ones_like(pos), hi, np.zeros_like(pos)
    # Inside the strip shared with the previous patch: ramp from it to `hi`.
    shared = (hi >= 1) & (pos < (hi - 1) * s + k - 0.5)
    w_hi = np.where(shared, np.clip((pos - (hi * s - 0.5)) / o, 0.0, 1.0), 1.0)
    lo = np.where(shared, hi - 1, hi)
    return hi, w_hi, lo, np.where(shared, 1.0 - w_hi, 0.0)


def check_viewport(viewport) -> tuple[float, float, float, float]:
    """Validate a normalised ``(x0, y0, x1, y1)`` rectangle inside the frame."""
    try:
        x0, y0, x1, y1 = (float(v) for v in viewport)
    except (TypeError, ValueError):
        raise ActinrError(f"viewport must be four numbers (x0, y0, x1, y1), got {viewport!r}") from None
    if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
        raise ActinrError(
            f"viewport must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, got {(x0, y0, x1, y1)}"
        )
    return x0, y0, x1, y1


@dataclass
class AxisOwners:
    """The grid along one output axis: for each output column (or row), its owning patch indices along that axis
    and its local coordinate and blend weight in each: ``index`` (2, n) int64, ``local`` and ``weight`` (2, n)
    float64, row 0 the patch the position falls in (``hi``), row 1 the previous patch where the position lies in
    the strip they share (``lo``; elsewhere ``lo = hi`` with weight 0).

    The grid is separable: output pixel ``(r, c)`` is made of the patches ``iy * nx + ix`` for ``ix`` in
    ``x.index[:, c]`` and ``iy`` in ``y.index[:, r]`` whose weight ``x.weight * y.weight`` is above 0, at local
    ``(x.local, y.local)`` (:func:`sample_grid` builds exactly that, per pixel).
    """

    index: np.ndarray
    local: np.ndarray
    weight: np.ndarray

    @property
    def size(self) -> int:
        return self.index.shape[1]

    @property
    def shared(self) -> np.ndarray:
        """(n,) bool: the position lies in a strip two patches share (its two slots hold different patches)."""
        return self.index[0] != self.index[1]


def axis_owners(layout: PatchLayout, size: tuple[int, int], viewport=FULL_VIEW,
                rows: tuple[int, int] | None = None) -> tuple[AxisOwners, AxisOwners]:
    """The per-axis maps ``(x, y)`` of an output image of ``size = (w, h)`` (``rows = (r0, r1)``: only those
    output rows), O(w + h) work: what :func:`sample_grid` expands to every pixel, and what a decoder that computes
    each pixel's points itself (the fused Triton kernel) reads instead."""
    w, h = size
    if int(w) != w or int(h) != h or w < 1 or h < 1:
        raise ActinrError(f"output size must be two positive integers, got {size!r}")
    w, h = int(w), int(h)
    r0, r1 = (0, h) if rows is None else (int(rows[0]), int(rows[1]))
    if not 0 <= r0 < r1 <= h:
        raise ActinrError(f"rows must satisfy 0 <= r0 < r1 <= {h}, got {rows!r}")
    x0, y0, x1, y1 = check_viewport(viewport)
    px = (x0 + (np.arange(w) + 0.5) / w * (x1 - x0)) * layout.width - 0.5  # (w,)
    py = (y0 + (np.arange(r0, r1) + 0.5) / h * (y1 - y0)) * layout.height - 0.5  # (rows,)
    axes = []
    for pos, n in ((px, layout.nx), (py, layout.ny)):
        hi, w_hi, lo, w_lo = _axis(pos, n, layout)
        index = np.stack([hi, lo])
        axes.append(AxisOwners(index, layout.local(pos[None, :], index), np.stack([w_hi, w_lo])))
    return axes[0], axes[1]


def sample_grid(layout: PatchLayout, size: tuple[int, int], viewport=FULL_VIEW,
                rows: tuple[int, int] | None = None) -> SampleGrid:
    """Map every pixel of a ``size = (w, h)`` output image to (patch, local coordinate, weight).

    ``rows = (r0, r1)`` maps only output rows ``r0 .. r1 - 1`` (a stripe of the
    image, for rendering large frames in bounded memory): the grid is that of an
    ``w x (r1 - r0)`` image whose points are exactly those rows' points of the
    whole image.
    """
    ax, ay = axis_owners(layout, size, viewport, rows)
    w, h = ax.size, ay.size
    # The grid is separable: a patch's points for one pair of owner slots (x slot a, y slot b) are a rectangle,
    # the columns whose slot-a patch is its column of patches (with a weight above 0) times the rows likewise.
    # A patch lists its pairs (0, 0), (0, 1), (1, 0), (1, 1), each rectangle in pixel order. The rectangles come
    # in a few shapes, so all of one shape (and place in the patch) are written at once by broadcasting their
    # columns and rows: no per-pixel sort.
    x_first, x_len = _slot_runs(ax, layout.nx)  # (2, nx) first column and column count per slot and patch column
    y_first, y_len = _slot_runs(ay, layout.ny)
    py, px = np.divmod(np.arange(layout.count), layout.nx)
    pairs = [(a, b) for a in range(2) for b in range(2)]
    sizes = np.stack([x_len[a, px] * y_len[b, py] for a, b in pairs], 1)  # (P, 4) points per pair
    offset = np.cumsum(sizes, 1) - sizes  # where each pair's rectangle starts in its patch's slots
    n = max(int(sizes.sum(1).max()), 1)
    coords = np.zeros((layout.count, n, 2), np.float32)
    pixels = np.full((layout.count, n), w * h, np.int64)
    weights = np.zeros((layout.count, n), np.float32)
    for k, (a, b) in enumerate(pairs):
        shape = np.stack([x_len[a, px], y_len[b, py], offset[:, k]], 1)
        live = sizes[:, k] > 0
        if not live.any():
            continue
        kinds, which = np.unique(shape[live], axis=0, return_inverse=True)
        patches = np.flatnonzero(live)
        for j, (cw, rh, off) in enumerate(kinds):
            idx = patches[which.reshape(-1) == j]
            cols = x_first[a, px[idx]][:, None] + np.arange(cw)  # (B, w)
            rows_ = y_first[b, py[idx]][:, None] + np.arange(rh)  # (B, h)
            span, full = slice(off, off + cw * rh), (idx.size, rh, cw)
            pixels[idx, span] = _flat(rows_[:, :, None] * w + cols[:, None, :], full)
            coords[idx, span, 0] = _flat(ax.local[a, cols][:, None, :], full)
            coords[idx, span, 1] = _flat(ay.local[b, rows_][:, :, None], full)
            weights[idx, span] = _flat(ay.weight[b, rows_][:, :, None] * ax.weight[a, cols][:, None, :], full)
    return SampleGrid(coords, pixels, weights, w, h)


def _flat(values: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Rectangles broadcast to ``shape`` (B, h, w) -> (B, h*w), each in pixel order."""
    return np.broadcast_to(values, shape).reshape(shape[0], -1)


def _slot_runs(axis: AxisOwners, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each owner slot (0, 1) and patch index along the axis (``n`` of them), the first output column (row)
    whose slot holds that patch with a weight above 0, and how many do: (2, n) each. Those columns are
    consecutive: a slot's patch index does not decrease along the axis, and a weight of 0 in slot 0 sits only at
    the first column of a run (a position exactly on a strip's start), in slot 1 only outside the strips."""
    first, count = np.zeros((2, n), np.int64), np.zeros((2, n), np.int64)
    for s in range(2):
        at = np.flatnonzero(axis.weight[s] > 0)
        if at.size == 0:
            continue
        patch = axis.index[s, at]
        step, gap = np.diff(patch), np.diff(at)
        if np.any(step < 0) or np.any((step == 0) & (gap != 1)):
            raise AssertionError("an owner slot's columns with one patch are not consecutive")
        count[s] = np.bincount(patch, minlength=n)
        first[s] = at[np.minimum(np.searchsorted(patch, np.arange(n)), at.size - 1)]
    return first, count


def pixel_entries(grid: SampleGrid) -> tuple[np.ndarray, np.ndarray]:
    """Which grid entries make each output pixel: ``(entry, weight)``, both (h*w, E).

    ``entry`` indexes the flattened (P, N) grid (``p * N + j``); a pixel made of
    fewer than E entries (E = 1 without overlap, up to 4 with) points the rest
    at ``P * N`` with weight 0. Decoders gather their outputs with it instead of
    scattering, so an output pixel is written once.
    """
    hw = grid.width * grid.height
    # A pixel's entries in patch order (a patch holds a pixel at most once): an entry's slot is how many earlier
    # patches hold its pixel, counted patch by patch instead of sorting every entry by pixel (35-42 % less time at
    # 1080p). Padding points at hw; its counts wrap and are never read.
    seen = np.zeros(hw + 1, np.int8)
    slot = np.empty(grid.pixel.shape, np.int8)
    for p, row in enumerate(grid.pixel):
        slot[p] = seen[row]
        seen[row] += 1
    seen[hw] = 0
    e = max(int(seen.max(initial=0)), 1)
    flat_pixel = grid.pixel.ravel()
    real = np.flatnonzero(flat_pixel < hw)  # entries in (P, N) order
    pixel, rank = flat_pixel[real], slot.ravel()[real]
    entry = np.full((hw, e), grid.pixel.size, np.int64)
    weight = np.zeros((hw, e), np.float32)
    entry[pixel, rank] = real
    weight[pixel, rank] = grid.weight.ravel()[real]
    return entry, weight


def points_per_patch(layout: PatchLayout, size: tuple[int, int], viewport=FULL_VIEW) -> int:
    """``sample_grid(layout, size, viewport).points`` without building the grid (cheap at 4K)."""
    w, h = size
    x0, y0, x1, y1 = check_viewport(viewport)
    counts = []
    for n, lo, hi, extent, m in ((w, x0, x1, layout.width, layout.nx), (h, y0, y1, layout.height, layout.ny)):
        pos = (lo + (np.arange(n) + 0.5) / n * (hi - lo)) * extent - 0.5
        i0, w0, i1, w1 = _axis(pos, m, layout)
        counts.append(int((np.bincount(i0[w0 > 0], minlength=m) + np.bincount(i1[w1 > 0], minlength=m)).max()))
    return max(counts[0] * counts[1], 1)


@dataclass
class PatchWindows:
    """Every patch's full ``k x k`` pixel window in the source frame (for training).

    ``coords`` (k*k, 2) local (x, y), the same for all patches; ``pixel``
    (P, k*k) flat source index (0 where padded); ``valid`` (P, k*k) False on
    padding outside the frame.
    """

    coords: np.ndarray
    pixel: np.ndarray
    valid: np.ndarray


def patch_windows(layout: PatchLayout) -> PatchWindows:
    """The source pixels each patch is fitted to, its overlap strips included."""
    k, s = layout.patch, layout.stride
    j = np.arange(k)
    local = layout.local(j.astype(np.float64), np.zeros(k, np.int64)).astype(np.float32)
    coords = np.stack(np.broadcast_arrays(local[None, :], local[:, None]), -1).reshape(-1, 2)
    py, px = np.meshgrid(j, j, indexing="ij")  # (k, k)
    iy, ix = np.divmod(np.arange(layout.count), layout.nx)
    x = ix[:, None] * s + px.ravel()[None, :]  # (P, k*k)
    y = iy[:, None] * s + py.ravel()[None, :]
    valid = (x < layout.width) & (y < layout.height)
    pixel = np.where(valid, y * layout.width + x, 0)
    return PatchWindows(coords, pixel.astype(np.int64), valid)
