"""``triton``: the whole decoder in one fused Triton kernel launch per frame (engines/backends/triton_kernel.py).

The PyTorch backends run the patch MLP layer by layer, each layer's
activations a round trip through device memory, then gather the image. This
one launches one kernel per frame (per stripe of a frame larger than
``stripe_pixels``): each program takes a tile of output pixels that share their
owner patches, evaluates those patches' MLPs with the weights on chip, blends
overlapping windows in registers and writes the tile's uint8 RGB straight into
the image. Per frame the host copies the biases (one buffer, from pinned
memory, asynchronously) and launches the kernel; nothing else.

**Plan** (:func:`view_plan`, per output size and viewport): the grid is
separable (:func:`~actinr.engines.grid.axis_owners`, the per-axis maps that
:func:`~actinr.engines.grid.sample_grid` expands to every pixel), so the
pixels that share their owner patches form rectangles: a run of columns with
the same owners along x times a run of rows with the same owners along y.
Each rectangle, in pixel order, is cut into tiles of ``BLOCK`` pixels. A tile
lists its owners (up to 4) and, per pixel, the output index (-1 on padding)
and, per owner, the local coordinates and (with overlap) the blend weight,
stored for the tile's own owners only, one after the other. So a tile inside
a patch evaluates one MLP per pixel, one on an overlap strip two; padding is
at most ``BLOCK - 1`` pixels per rectangle. A corner small enough (16 pixels
at a 1080p source's own size) shares the half-empty last tile of the strip
before it instead of a tile of its own (:func:`_merge_corners`; the strip's
pixels get weight 0 under the corner's other two owners): about a tenth
fewer lane evaluations at native sizes. Built from the per-axis maps, a
plan takes 0.014 s on the host at 1080p and 0.06 s at 4K (0.6 and 4.2 s
through the per-pixel grid) and 20 bytes per pixel on the demo (52 with four
owner slots for every pixel); the kernel reads its points contiguously, as
before (docs/measurements.md "The fused Triton kernel").

**Weights** (:meth:`TritonFused.load_gop`) are laid out per patch as the
kernel's products read them (a hidden layer (2H, 4H), rows of Re z and Im z
interleaved unit by unit, columns in blocks of H; the output layer two
(H, 16) blocks), ``H`` the hidden width rounded up to a power of two of at
least 16 (tl.dot's smallest), padded with zeros; a padded unit computes ``psi = 1`` and
meets zero weights, so padding changes no pixel. fp16 keeps the hidden and
output weights in fp16 (tensor cores, fp32 accumulation); layer 1, biases and
every Gabor argument stay fp32, as in the other backends' fp16 paths.

**Precisions**: fp32 (IEEE products; ``tf32=True`` allows TF32 tensor-core
products, for measurement only: its parity is a GPU check) and fp16. The
tile and warps default by where the products run: 64 pixels and 4 warps on
the tensor cores (fp16, TF32), 16 pixels and 8 warps for IEEE fp32 on the
CUDA cores, where the larger tile spills.

**Programs of several tiles** (``tiles_per_program``, default 1): a program
renders up to that many consecutive tiles with the same owners
(:func:`group_tiles`): a rectangle inside a patch, and with ``group_strips``
(the default) a run of an overlap strip's tiles; per owner it loads the
patch's first hidden and output layer into shared memory once for all of
them, and a strip tile's blended sum waits for its second owner in a small
fp32 buffer (``_Plan.partial``, 768 bytes a tile). Compiled for Hopper a
tile after a program's first costs 22 % fewer instructions; summed over a
1080p frame, 7-13 % fewer than one tile a program on the demo and 10-17 % on
a 1080p fit (static counts, benchmarks/triton_aot.py), with 126-128
registers (16 resident warps per SM) under Triton 3.6 and 3.9. The weights
are held only with one product a hidden layer (``wide_products``, below).
All of it is a sweep option until a GPU has timed it, as is a register cap
(``max_registers``, ptxas's limit).

**One product a hidden layer** (``wide_products``, by default where the
Triton in use compiles it well: 3.6 and newer): a complex hidden layer is one
``tl.dot`` of the interleaved ``[Re z, Im z]`` (K = 2H) and the whole
(2H, 4H) matrix, whose output a reshape and two ``tl.split`` take apart into
Re u, Im u, Re v, Im v in registers; 952 instructions a one-tile program
against 1040 as eight H x H products (Triton 3.9; benchmarks/triton_aot.py),
which older Triton and IEEE fp32 keep.

**Fast math** (``fast_math=True``, the default on CUDA): the Gabor activation's
sin and cos are the GPU's approximate ones (one MUFU.SIN/COS instruction each)
and its exponential the bare ``ex2.approx.ftz`` (one MUFU.EX2; triton_kernel
``_exp2``) instead of libdevice's accurate sin and cos, whose range reduction
keeps a stack array: compiled ahead of time for Hopper
(benchmarks/triton_aot.py) the fp16 kernel has 128 registers, no stack and
952 instructions with it, and 166 registers, 32 stack bytes (spill traffic)
and 6040 instructions without (Triton 3.9; 3.6, the GPU image's, compiles
alike). Their error (about 1e-6 absolute at the arguments' scale) is far below
an 8-bit step; the GPU tests check the pixels. The interpreter always takes
the accurate ones.

**On the CPU**: with ``TRITON_INTERPRET=1`` set, Triton's interpreter runs the
same kernel on CPU tensors, so ``open(path, backend="triton", device="cpu")``
decodes through it. That is for tests and checks (it is very slow); without the
variable a CPU device is refused.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ActinrError, optional_import
from ..grid import FULL_VIEW, AxisOwners, PatchLayout, axis_owners
from .base import Backend, require_cuda

BLOCK_POINTS = 64  # output pixels per program (a tile); ``actinr bench --sweep`` times others
NUM_WARPS = 4
# Tiles per program: 1, a program per tile. More lets a program render that many tiles with the same owners with
# their weights loaded into shared memory once (compiled for Hopper, 22 % fewer instructions per tile after the
# first; benchmarks/triton_aot.py): a sweep option until a GPU has timed it.
TILES_PER_PROGRAM = 1
# fp32 with IEEE products runs its dots on the CUDA cores, whose operand fragments are larger: at 64-pixel
# tiles and 4 warps ptxas spills (compiled for Hopper: 6-9 kB of stack with Triton 3.6 and 3.9), at 16 pixels
# and 8 warps it does not (benchmarks/triton_aot.py).
IEEE_BLOCK_POINTS, IEEE_NUM_WARPS = 16, 8
OWNERS = 4  # owner slots per tile (triton_kernel.OWNERS)
OUT = 16  # output columns (triton_kernel.OUT)


# The oldest Triton the kernel is checked with: its interpreter tests pass under 3.2.0, 3.3.1, 3.4.0, 3.5.1, 3.6.0
# and 3.9.0 (with programs of several tiles and the helper functions, since 2026-12-06: 3.2.0, 3.6.0 and 3.9.0,
# benchmarks/results/2026-12-06-cpu-triton3.2-interpreter-tests.log); under 3.1.0 (torch 2.5's) the interpreter
# refuses the kernel's constexpr arguments to tl.arange.
MIN_TRITON = (3, 2)


def triton_version(triton) -> tuple[int, int]:
    """(major, minor) of an imported Triton or of a version string; (0, 0) when it does not say."""
    import re

    m = re.match(r"(\d+)\.(\d+)", triton if isinstance(triton, str) else getattr(triton, "__version__", None) or "")
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def interpreting() -> bool:
    """True when ``TRITON_INTERPRET`` asks for Triton's interpreter (CPU tensors)."""
    return os.environ.get("TRITON_INTERPRET", "0").strip().lower() in ("1", "true", "on", "yes")


def padded_width(hidden: int) -> int:
    """The kernel's hidden block width: ``hidden`` rounded up to a power of two, at least 16."""
    return max(16, 1 << max(0, math.ceil(math.log2(hidden))))


@dataclass
class ViewPlan:
    """An output image cut into tiles of ``block`` pixels that share their owner patches (numpy, host side).

    The grid is separable (:func:`~actinr.engines.grid.axis_owners`): the
    pixels with the same owners form rectangles, one per pair of a column run
    and a row run with the same owners along x and along y. Each rectangle
    (*group*), in row-major pixel order, is cut into tiles of ``block`` pixels.

    ``pixel`` (T*block,) int32 output index, -1 on padding; ``tile`` (T, 2)
    int32: the tile's first owner slot and its owner count; ``owner``
    (T, OWNERS) int32 patches in ascending order; per owner slot (S of them,
    each tile's owners one after the other from its first slot; a tile a corner
    was merged into uses the corner's slots, its own two are left unused)
    ``coords`` (S, 2, block) float32
    local (x, y) and ``weight`` (S, block) float32 blend weights, or None when
    no pixel has two owners along an axis (every weight 1). So a pixel holds
    4 bytes of index and 8 per owner (12 with blend weights): 12 bytes inside a
    patch without overlap, 16 with it, 28 on a strip two patches share, 52 on
    a corner of four.
    """

    pixel: np.ndarray
    tile: np.ndarray
    owner: np.ndarray
    coords: np.ndarray
    weight: np.ndarray | None
    block: int
    width: int
    height: int

    @property
    def tiles(self) -> int:
        return self.tile.shape[0]

    @property
    def nbytes(self) -> int:
        parts = (self.pixel, self.tile, self.owner, self.coords) + (() if self.weight is None else (self.weight,))
        return sum(a.nbytes for a in parts)


def _runs(axis: AxisOwners) -> tuple[np.ndarray, ...]:
    """Runs of consecutive columns (rows) with the same owners along the axis: start, length, slot-0 patch
    index, shared (two owners)."""
    hi, shared = axis.index[0], axis.shared
    start = np.flatnonzero(np.r_[True, (hi[1:] != hi[:-1]) | (shared[1:] != shared[:-1])])
    return start, np.diff(np.r_[start, hi.size]), hi[start], shared[start]


def _rectangles(values: np.ndarray, length: int) -> np.ndarray:
    """``(B, h, w)`` rectangles -> ``(B, length)``: each in row-major order, its last value repeated to the end."""
    n = values.shape[1] * values.shape[2]
    out = np.empty((values.shape[0], length), values.dtype)
    view = out[:, :n].reshape(values.shape)  # a view: it only splits the contiguous last axis
    if not np.may_share_memory(view, out):
        raise AssertionError("numpy copied the rectangles' view")
    view[...] = values
    out[:, n:] = out[:, n - 1:n]
    return out


def view_plan(layout: PatchLayout, size: tuple[int, int], block: int, viewport=FULL_VIEW,
              rows: tuple[int, int] | None = None) -> ViewPlan:
    """The tiles of an output image of ``size`` (``rows``: only those output rows), built from the per-axis maps
    without the per-pixel grid: each pixel's coordinates and weights are its column's and row's (bit for bit what
    :func:`~actinr.engines.grid.sample_grid` gives it; tests/engines/test_triton.py)."""
    ax, ay = axis_owners(layout, size, viewport, rows)
    xs, xn, xi, xsh = _runs(ax)
    ys, yn, yi, ysh = _runs(ay)
    gy, gx = (a.ravel() for a in np.meshgrid(np.arange(ys.size), np.arange(xs.size), indexing="ij"))  # row-major
    # Owner candidates per group in ascending patch order: (y slot, x slot) = (1, 1), (1, 0), (0, 1), (0, 0).
    cand_y, cand_x = np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0])
    valid = ((cand_y == 0) | ysh[gy][:, None]) & ((cand_x == 0) | xsh[gx][:, None])  # (G, 4)
    front = np.argsort(~valid, axis=1, kind="stable")  # the valid candidates first, in their order
    sy, sx = cand_y[front], cand_x[front]  # (G, 4) slots along y and x of each owner
    patch = np.where(np.take_along_axis(valid, front, 1),
                     (yi[gy][:, None] - sy) * layout.nx + (xi[gx][:, None] - sx), 0).astype(np.int32)
    count = valid.sum(1)
    qn = xn[gx] * yn[gy]  # pixels per group
    tiles = -(-qn // block)
    group = np.repeat(np.arange(qn.size), tiles)  # per tile
    n_owners = count[group]
    base = np.cumsum(n_owners) - n_owners  # each tile's first owner slot
    blend = bool(xsh.any() or ysh.any())
    pixel = np.empty((group.size, block), np.int32)
    coords = np.empty((int(n_owners.sum()), 2, block), np.float32)
    weight = np.empty((coords.shape[0], block), np.float32) if blend else None
    x_local, y_local = ax.local.astype(np.float32), ay.local.astype(np.float32)  # as sample_grid casts them
    c0, cw, r0, rh = xs[gx], xn[gx], ys[gy], yn[gy]  # each group's rectangle
    tile0 = np.cumsum(tiles) - tiles  # each group's first tile
    # The rectangles come in a few shapes (a layout's interiors, strips and corners at one scale): per shape, its
    # groups at once, broadcast from their columns and rows, with no per-pixel division or gather. A group's
    # pixels in row-major order fill its tiles; the padding repeats its last pixel (never stored).
    shapes, which = np.unique(np.stack([cw, rh, count], 1), axis=0, return_inverse=True)
    for k, (w_, h_, c) in enumerate(shapes):
        idx = np.flatnonzero(which.reshape(-1) == k)
        nt = -(-w_ * h_ // block)
        rows_ = (tile0[idx, None] + np.arange(nt)).reshape(-1)  # the groups' tiles
        ys_ = (r0[idx, None] + np.arange(h_))[:, :, None]  # (B, h, 1) the rectangles' rows, (B, 1, w) columns
        xs_ = (c0[idx, None] + np.arange(w_))[:, None, :]
        tiled = _rectangles(ys_ * ax.size + xs_, nt * block)
        tiled[:, w_ * h_:] = -1
        pixel[rows_] = tiled.reshape(-1, block)
        for e in range(c):
            ex, ey = sx[idx, e][:, None, None], sy[idx, e][:, None, None]
            slot = ((base[tile0[idx]][:, None] + np.arange(nt) * c) + e).reshape(-1)  # owner e's slot per tile
            coords[slot, 0] = _rectangles(np.broadcast_to(x_local[ex, xs_], ys_.shape[:2] + (w_,)),
                                          nt * block).reshape(-1, block)
            coords[slot, 1] = _rectangles(np.broadcast_to(y_local[ey, ys_], ys_.shape[:2] + (w_,)),
                                          nt * block).reshape(-1, block)
            if blend:  # the product in float64, then float32, as sample_grid makes it
                weight[slot] = _rectangles((ay.weight[ey, ys_] * ax.weight[ex, xs_]).astype(np.float32),
                                           nt * block).reshape(-1, block)
    owner = patch[group]
    if blend:
        pixel, coords, weight, base, n_owners, owner = _merge_corners(
            pixel, coords, weight, base, n_owners, owner, gy, qn, count, tiles, tile0, block)
    tile = np.stack([base, n_owners], 1).astype(np.int32)
    return ViewPlan(pixel.reshape(-1), tile, owner, coords, weight, block, ax.size, ay.size)


def _merge_corners(pixel, coords, weight, base, n_owners, owner, gy, qn, count, tiles, tile0, block):
    """Put each corner rectangle that fits one tile (four owners) into the last tile of the strip before it in its
    row of rectangles (two of those owners), where that tile has room. The merged tile takes the corner's four
    owner slots, rewritten: the strip's pixels first, with weight 0 (and coordinates 0) under the two owners that
    are not theirs, then the corner's; the strip tile's own two slots are left unused and the corner's tile is
    dropped. At native resolution a corner is 16 pixels and a strip's last tile has 32 free lanes, so a patch costs
    1216 lane evaluations instead of 1344 (the corner's own tile: 4 x 64 lanes; two more owners on the strip's
    last tile: 2 x 64). -> the plan's arrays (coordinates and weights rewritten in place)."""
    g = np.flatnonzero((count == 4) & (tiles == 1))
    g = g[g > 0]
    g = g[(gy[g - 1] == gy[g]) & (count[g - 1] == 2)]
    n_s = qn[g - 1] - (tiles[g - 1] - 1) * block  # pixels in the strip's last tile
    g, n_s = g[n_s + qn[g] <= block], n_s[n_s + qn[g] <= block]
    st, ct = tile0[g - 1] + tiles[g - 1] - 1, tile0[g]  # the strip's last tile, the corner's tile
    # where each of the strip's two owners stands among the corner's four: only a strip whose owners are two of
    # the corner's (its neighbour along the row; with patches narrower than their overlap it may not be)
    at = np.argmax(owner[st, :2, None] == owner[ct, None, :], axis=2)  # (K, 2)
    ok = np.all(np.take_along_axis(owner[ct], at, 1) == owner[st, :2], axis=1)
    g, n_s, st, ct, at = g[ok], n_s[ok], st[ok], ct[ok], at[ok]
    if g.size == 0:
        return pixel, coords, weight, base, n_owners, owner
    # Per owner of the corner: zeros, the strip's lanes where the strip has that owner (its padding lanes come
    # along: never stored), then the corner's pixels after the strip's, sliced per (strip pixels, corner pixels)
    # shape, of which a layout at one scale has a few.
    shapes, which = np.unique(np.stack([n_s, qn[g]], 1), axis=0, return_inverse=True)
    groups = [(a, b, np.flatnonzero(which.reshape(-1) == i)) for i, (a, b) in enumerate(shapes)]
    for a, b, idx in groups:
        pixel[st[idx], a:a + b] = pixel[ct[idx], :b]
    for e in range(4):
        slot = base[ct] + e
        merged_coords = np.zeros((g.size, 2, block), np.float32)
        merged_weight = np.zeros((g.size, block), np.float32)
        for k in range(2):  # the strip slot holding this owner, if one does
            hit = at[:, k] == e
            merged_coords[hit], merged_weight[hit] = coords[base[st[hit]] + k], weight[base[st[hit]] + k]
        for a, b, idx in groups:
            merged_coords[idx, :, a:a + b] = coords[slot[idx], :, :b]
            merged_weight[idx, a:a + b] = weight[slot[idx], :b]
        coords[slot], weight[slot] = merged_coords, merged_weight
    base[st], n_owners[st], owner[st] = base[ct], 4, owner[ct]
    keep = np.ones(n_owners.size, bool)
    keep[ct] = False
    return pixel[keep], coords, weight, base[keep], n_owners[keep], owner[keep]


def group_tiles(vp: ViewPlan, per_program: int, strips: bool = True) -> np.ndarray:
    """Programs of up to ``per_program`` consecutive tiles that have the same owners in the same slots (a rectangle
    inside a patch, or with ``strips`` the run of an overlap strip's tiles; without, each tile of several owners is
    a program of its own), so the kernel loads each owner's weights once for them. -> (Q, 2) int32: each
    program's first tile and tile count, covering every tile once, in order."""
    t = vp.tiles
    owners = vp.tile[:, 1]
    slots = np.arange(vp.owner.shape[1])
    row = np.where(slots[None, :] < owners[:, None], vp.owner, -1)  # the owners a tile has; unused slots alike
    start = np.r_[True, (row[1:] != row[:-1]).any(1)]  # the runs of tiles with the same owners
    if not strips:
        start |= owners > 1
    run_first = np.flatnonzero(start)
    at = np.arange(t) - np.repeat(run_first, np.diff(np.r_[run_first, t]))  # a tile's place in its run
    first = np.flatnonzero(at % per_program == 0)
    return np.stack([first, np.diff(np.r_[first, t])], 1).astype(np.int32)


@dataclass
class _Plan:
    """A :class:`ViewPlan` on the device."""

    tiles: int
    programs: int  # kernel programs: the tiles, or with tiles_per_program > 1 their groups
    program: torch.Tensor  # (Q, 2) int32 first tile and count per program, or a small dummy (a tile each)
    partial: torch.Tensor  # fp32 RGB sums between owners, BLOCK x 3 per tile (programs of several tiles, overlap)
    pixel: torch.Tensor
    tile: torch.Tensor
    owner: torch.Tensor
    coords: torch.Tensor
    weight: torch.Tensor  # (S, block), or a 1-element dummy without a shared strip
    blend: bool
    width: int
    height: int


class TritonFused(Backend):
    name = "triton"
    gpu = True
    precisions = ("fp32", "fp16")
    # A 3840x2160 frame in one launch: the plan is 12 bytes per pixel without overlap, about 20 on the demo (16
    # inside a patch, 28 on a strip, 52 on a corner): 162 MB at 4K.
    stripe_pixels = 1 << 24
    plan_pixels = 1 << 24
    sweep = {"block_points": (BLOCK_POINTS, 32, 128, 256), "num_warps": (NUM_WARPS, 2, 8), "tf32": (False, True),
             "fast_math": (True, False), "tiles_per_program": (TILES_PER_PROGRAM, 4, 16)}
    # Larger tiles with more warps: compiled for Hopper (benchmarks/triton_aot.py) these keep about 128 registers
    # (16 warps per SM, as the default) and no stack, at 7-10 % fewer thread instructions per pixel than the
    # default; 256 px with 8 warps takes 23 % fewer at half the resident warps. Which is fastest is the GPU's say.
    # Programs of several tiles: under Triton 3.6 (the GPU image's) the default tile takes 142 registers grouped
    # (12 warps per SM), capped at 128 it keeps 16 with no spill (8 stack bytes with a blend); and grouped with
    # 256 px tiles and 16 warps.
    sweep_pairs = ({"block_points": 128, "num_warps": 8}, {"block_points": 256, "num_warps": 16},
                   {"block_points": 256, "num_warps": 8}, {"tiles_per_program": 4, "max_registers": 128},
                   {"block_points": 256, "num_warps": 16, "tiles_per_program": 4},
                   {"tiles_per_program": 4, "group_strips": False})

    def __init__(self, *args, block_points: int | None = None, num_warps: int | None = None, tf32: bool = False,
                 fast_math: bool = True, tiles_per_program: int = TILES_PER_PROGRAM, group_strips: bool = True,
                 max_registers: int | None = None, wide_products: bool | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        ieee = self.precision == "fp32" and not tf32  # default tile and warps by the products' unit (see above)
        if block_points is None:
            block_points = IEEE_BLOCK_POINTS if ieee else BLOCK_POINTS
        if num_warps is None:
            num_warps = IEEE_NUM_WARPS if ieee else NUM_WARPS
        if block_points < 16 or block_points & (block_points - 1):
            raise ActinrError(f"triton: block_points must be a power of two of at least 16, got {block_points}")
        if int(tiles_per_program) != tiles_per_program or tiles_per_program < 1:
            raise ActinrError(f"triton: tiles_per_program must be a positive integer, got {tiles_per_program}")
        if max_registers is not None and (int(max_registers) != max_registers or not 16 <= max_registers <= 255):
            raise ActinrError(f"triton: max_registers must be an integer from 16 to 255, got {max_registers}")
        self.tiles_per_program = int(tiles_per_program)
        # With tiles_per_program > 1, whether runs of an overlap strip's tiles (two owners) group too.
        self.group_strips = bool(group_strips)
        # ptxas's register cap per thread (None: its own choice): 128 keeps 16 warps of 4-warp programs resident.
        self.launch_options = {} if max_registers is None else {"maxnreg": int(max_registers)}
        from . import triton_kernel

        self._kernel = triton_kernel.kernel()
        # A hidden layer as one product of K = 2H, N = 4H (None: where the Triton in use compiles it well, 3.6+),
        # else as eight of H x H blocks (triton_kernel.wide_products).
        self.wide = triton_kernel.wide_products(triton_kernel.triton) if wide_products is None else bool(wide_products)
        self.block, self.num_warps, self.tf32 = int(block_points), int(num_warps), bool(tf32)
        # The GPU's approximate sin/cos (MUFU.SIN/COS); the interpreter has only the accurate ones.
        self.fast_math = bool(fast_math) and self.device.type == "cuda" and not interpreting()
        m = self.model
        self.h, self.hp, self.layers = m.hidden, padded_width(m.hidden), m.layers
        self.dot = torch.float16 if self.precision == "fp16" else torch.float32
        hp = self.hp
        self.bias_stride = 2 * hp + 4 * hp * self.layers + OUT
        self.cuda = self.device.type == "cuda"
        # Biases: one flat fp32 buffer per frame on the device; on CUDA filled from a ring of two pinned host
        # buffers (an event says when the copy out of one is done, so the next frame can write the other).
        shape = (self.patches, self.bias_stride)
        self._bias = torch.zeros(shape, device=self.device)
        self._host = [torch.zeros(shape, pin_memory=True) for _ in range(2)] if self.cuda else [self._bias]
        self._events = [torch.cuda.Event() for _ in range(2)] if self.cuda else []
        self._turn = 0
        self._views = [self._bias_views(t.numpy()) for t in self._host]
        self._dummy = torch.zeros(1, device=self.device)
        # The kernel's Gabor constants: w0 for the phase; w0 and s0^2 times log2(e) for the envelope, which the
        # kernel takes as a power of 2 (triton_kernel._exp2).
        log2e = 1.4426950408889634
        self._scalars = (float(m.w0), float(m.w0) * log2e, float(m.s0) ** 2 * log2e)
        self._dummy_int = torch.zeros(2, dtype=torch.int32, device=self.device)

    @classmethod
    def probe(cls, device: str) -> None:
        if torch.device(device).type == "cpu":
            if not interpreting():
                raise ActinrError("triton runs on a CUDA GPU; on the CPU only under Triton's interpreter, for tests "
                                  "and checks (set TRITON_INTERPRET=1; it is very slow)")
        else:
            require_cuda(cls.name, device)
        triton = optional_import("triton", "gpu")
        version = triton_version(triton)
        if version < MIN_TRITON:
            raise ActinrError(f"triton {triton.__version__} is too old for the fused kernel (it needs "
                              f"{'.'.join(map(str, MIN_TRITON))} or newer: torch 2.6 and later bring one)")

    def _bias_views(self, flat: np.ndarray) -> list[np.ndarray]:
        """Writable views of a (P, bias_stride) buffer, one per module, shaped like its bias ``(P, width)``'s
        blocks: (P, 2, h), (P, 4, h) per hidden layer, (P, 3)."""
        p, h, hp = self.patches, self.h, self.hp
        views = [flat[:, :2 * hp].reshape(p, 2, hp)[:, :, :h]]
        for layer in range(self.layers):
            a = 2 * hp + 4 * hp * layer
            views.append(flat[:, a:a + 4 * hp].reshape(p, 4, hp)[:, :, :h])
        a = 2 * hp + 4 * hp * self.layers
        views.append(flat[:, a:a + 3])
        assert all(np.shares_memory(v, flat) for v in views)
        return views

    def load_gop(self, weights: list[np.ndarray]) -> tuple[torch.Tensor, ...]:
        """Stored realified weights -> the kernel's padded layouts: w1 (P, 2, 2, H) fp32 [x|y][u|v]; hidden
        (P, L, 2H, 4H), row ``2k + s`` the input unit k's real (s = 0) or imaginary part, columns
        [Re u | Im u | Re v | Im v] in blocks of H; output (P, 2, H, OUT) [Re z|Im z]."""
        p, h, hp, n_layers = self.patches, self.h, self.hp, self.layers
        w = [np.asarray(x, dtype=np.float32) for x in weights]
        w1 = np.zeros((p, 2, 2, hp), np.float32)
        w1[..., :h] = w[0].reshape(p, 2, 2, h)
        wh = np.zeros((p, max(n_layers, 1), hp, 2, 4, hp), np.float32)
        for layer in range(n_layers):
            stored = w[1 + layer].reshape(p, 2, h, 4, h)  # (P, row block s, k, column block, j)
            wh[:, layer, :h, :, :, :h] = stored.transpose(0, 2, 1, 3, 4)
        wo = np.zeros((p, 2, hp, OUT), np.float32)
        wo[:, :, :h, :3] = w[-1].reshape(p, 2, h, 3)
        dev = self.device
        wh = wh.reshape(p, max(n_layers, 1), 2 * hp, 4 * hp)
        return (torch.from_numpy(w1).to(dev), torch.from_numpy(wh).to(dev, self.dot),
                torch.from_numpy(wo).to(dev, self.dot))

    def prepare_view(self, size: tuple[int, int], viewport=FULL_VIEW, rows: tuple[int, int] | None = None) -> _Plan:
        """The tiles for ``size`` and ``viewport`` straight from the per-axis maps, with no per-pixel grid: a new
        window size, zoom or pan costs the player tens of milliseconds on the host, not seconds
        (docs/measurements.md "The fused Triton kernel")."""
        vp = view_plan(self.layout, size, self.block, viewport, rows)
        dev = self.device
        blend = vp.weight is not None
        weight = torch.from_numpy(vp.weight).to(dev) if blend else self._dummy
        partial = self._dummy
        if self.tiles_per_program > 1:
            groups = group_tiles(vp, self.tiles_per_program, self.group_strips)
            programs, program = groups.shape[0], torch.from_numpy(groups).to(dev)
            if blend and self.group_strips:
                partial = torch.empty(vp.tiles * self.block * 3, device=dev)
        else:
            programs, program = vp.tiles, self._dummy_int
        return _Plan(vp.tiles, programs, program, partial,
                     *(torch.from_numpy(a).to(dev) for a in (vp.pixel, vp.tile, vp.owner, vp.coords)),
                     weight, blend, vp.width, vp.height)

    def _upload(self, biases: list[np.ndarray]) -> None:
        turn = self._turn
        if self.cuda:
            self._events[turn].synchronize()  # this host buffer's previous copy has left
        for view, b in zip(self._views[turn], biases):
            view[...] = b.reshape(view.shape)
        if self.cuda:
            self._bias.copy_(self._host[turn], non_blocking=True)
            self._events[turn].record()
            self._turn = 1 - turn

    def render(self, plan: _Plan, gop: tuple[torch.Tensor, ...], biases: list[np.ndarray]):
        self._upload(biases)
        image = torch.empty(plan.height, plan.width, 3, dtype=torch.uint8, device=self.device)
        w1, wh, wo = gop
        self._kernel[(plan.programs,)](
            plan.coords, plan.weight, plan.pixel, plan.tile, plan.owner, plan.program, plan.partial, w1, wh, wo,
            self._bias, image,
            *self._scalars,
            H=self.hp, LAYERS=self.layers, BLOCK=self.block, BSTRIDE=self.bias_stride, BLEND=plan.blend,
            DOT=triton_dtype(self.dot), IEEE=self.dot == torch.float32 and not self.tf32, FAST=self.fast_math,
            GROUPED=self.tiles_per_program > 1, STRIPS=self.group_strips, WIDE=self.wide, num_warps=self.num_warps,
            enable_fp_fusion=True,  # FMA contraction (said: Triton 3.9 warns otherwise)
            **self.launch_options)
        return image if self.cuda else image.numpy()

    def synchronize(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)


def triton_dtype(dtype: torch.dtype):
    import triton.language as tl

    return {torch.float32: tl.float32, torch.float16: tl.float16}[dtype]
