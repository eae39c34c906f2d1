import numpy as np
import pytest

from actinr.engines.errors import ActinrError
from actinr.engines.grid import FULL_VIEW, PatchLayout, patch_windows, pixel_entries, points_per_patch, sample_grid


def entries(grid):
    """{pixel: [(patch, lx, ly, weight), ...]} of the non-padded entries."""
    out = {}
    for p in range(grid.pixel.shape[0]):
        for n in range(grid.pixel.shape[1]):
            if grid.weight[p, n] > 0:
                out.setdefault(int(grid.pixel[p, n]), []).append(
                    (p, float(grid.coords[p, n, 0]), float(grid.coords[p, n, 1]), float(grid.weight[p, n])))
    return out


def test_layout_counts_and_padding():
    lay = PatchLayout(176, 144, 32)
    assert (lay.nx, lay.ny, lay.count, lay.stride) == (6, 5, 30, 32)
    lay = PatchLayout(176, 144, 32, overlap=8)
    # stride 24: patches start at 0, 24, ..., 144 along x (7 patches reach 176)
    assert (lay.nx, lay.ny) == (7, 6)


def test_known_pixels_map_to_known_patch_and_coordinate():
    lay = PatchLayout(176, 144, 32)
    e = entries(sample_grid(lay, (176, 144)))
    assert e[0] == [(0, -1.0, -1.0, 1.0)]  # top-left pixel: patch 0, corner
    p, lx, ly, w = e[33][0]  # pixel (x=33, y=0): second patch, one pixel in
    assert (p, w) == (1, 1.0) and lx == pytest.approx(-1 + 2 / 31) and ly == -1.0
    p, lx, ly, w = e[143 * 176 + 175][0]  # bottom-right pixel (175, 143): patch (5, 4)
    assert p == 4 * 6 + 5
    assert lx == pytest.approx(-1 + 2 * 15 / 31) and ly == pytest.approx(-1 + 2 * 15 / 31)
    assert all(len(v) == 1 for v in e.values()) and len(e) == 176 * 144


def test_double_size_samples_half_pixel_positions():
    lay = PatchLayout(64, 32, 32)
    e = entries(sample_grid(lay, (128, 64)))
    # output pixel 0 centre lies at source X = 0.25 - 0.5 = -0.25: patch 0, half-pixel border
    p, lx, ly, w = e[0][0]
    assert p == 0 and lx == pytest.approx(-1 + 2 * -0.25 / 31) and ly == pytest.approx(lx)
    # output pixel 64 (x) is X = 31.75: past patch 0's last pixel, inside patch 1's border
    p, lx, _, _ = e[64][0]
    assert p == 1 and lx == pytest.approx(-1 + 2 * -0.25 / 31)


def test_overlap_weights_are_a_partition_of_unity():
    lay = PatchLayout(50, 40, 16, overlap=4)
    grid = sample_grid(lay, (73, 61))
    total = np.zeros(73 * 61 + 1)
    np.add.at(total, grid.pixel.ravel(), grid.weight.ravel())
    assert np.allclose(total[:-1], 1.0)
    # a pixel in a shared strip along x only belongs to two patches with weights 1/8, 7/8 (o = 4)
    e = entries(sample_grid(lay, (50, 40)))
    ws = sorted(w for _, _, _, w in e[12])  # x = 12 = stride: first pixel of the strip, y = 0
    assert ws == pytest.approx([0.125, 0.875])


def test_native_grid_equals_training_windows():
    lay = PatchLayout(70, 45, 16)
    win = patch_windows(lay)
    e = entries(sample_grid(lay, (70, 45)))
    for p in range(lay.count):
        for n in np.flatnonzero(win.valid[p]):
            (q, lx, ly, w), = e[int(win.pixel[p, n])]
            assert q == p and (lx, ly) == pytest.approx(tuple(win.coords[n]))


def test_viewport_zoom_maps_into_the_frame():
    lay = PatchLayout(64, 64, 32)
    e = entries(sample_grid(lay, (2, 2), viewport=(0.5, 0.5, 1.0, 1.0)))
    # output pixel 0 centre: X = (0.5 + 0.25 * 0.5) * 64 - 0.5 = 39.5 -> patch (1, 1)
    p, lx, ly, _ = e[0][0]
    assert p == 3 and lx == pytest.approx(-1 + 2 * 7.5 / 31)


@pytest.mark.parametrize("size", [(0, 10), (10, -1), (1.5, 3)])
def test_bad_size(size):
    with pytest.raises(ActinrError, match="output size"):
        sample_grid(PatchLayout(32, 32, 16), size)


@pytest.mark.parametrize("vp", [(0, 0, 1.2, 1), (0.5, 0, 0.5, 1), (0, 0, 1), "abc"])
def test_bad_viewport(vp):
    with pytest.raises(ActinrError, match="viewport"):
        sample_grid(PatchLayout(32, 32, 16), (8, 8), vp)


def test_bad_layout():
    with pytest.raises(ActinrError, match="overlap"):
        PatchLayout(32, 32, 16, overlap=9)
    with pytest.raises(ActinrError, match="patch size"):
        PatchLayout(32, 32, 1)


@pytest.mark.parametrize("layout", [PatchLayout(176, 144, 32), PatchLayout(176, 144, 32, 4),
                                    PatchLayout(100, 37, 16, 8),
                                    PatchLayout(640, 272, 48, 6)])
def test_points_per_patch_equals_the_grid(layout):
    for size in [(64, 64), (176, 144), (301, 247), (13, 400)]:
        for viewport in [FULL_VIEW, (0.1, 0.2, 0.35, 0.5)]:
            assert points_per_patch(layout, size, viewport) == sample_grid(layout, size, viewport).points


def test_pixel_entries_lists_each_pixels_entries_in_patch_order():
    """pixel_entries against its definition, on seeded random layouts, sizes and viewports (overlap or not, down-
    and upscaled, tiny): per pixel the flat indices of the grid entries that make it, in (P, N) order, with their
    weights; the spare slots point past the grid with weight 0."""
    rng = np.random.default_rng(11)
    for _ in range(25):
        patch = int(rng.integers(4, 20))
        layout = PatchLayout(int(rng.integers(patch, 70)), int(rng.integers(patch, 50)), patch,
                             overlap=int(rng.integers(0, patch // 4 + 1)))
        size = (int(rng.integers(1, 90)), int(rng.integers(1, 60)))
        x0, y0 = rng.uniform(0, 0.5, 2)
        viewport = FULL_VIEW if rng.random() < 0.4 else (x0, y0, x0 + rng.uniform(0.2, 0.5), y0 + rng.uniform(0.2, 0.5))
        grid = sample_grid(layout, size, viewport)
        entry, weight = pixel_entries(grid)
        hw, total = size[0] * size[1], grid.pixel.size
        flat, w = grid.pixel.ravel(), grid.weight.ravel()
        want = [[] for _ in range(hw)]
        for i in np.flatnonzero(flat < hw):  # in (P, N) order
            want[flat[i]].append(i)
        e = max(max(len(x) for x in want), 1)
        assert entry.shape == weight.shape == (hw, e), (layout, size)
        for px in range(hw):
            n = len(want[px])
            assert list(entry[px, :n]) == want[px] and np.all(entry[px, n:] == total)
            assert np.array_equal(weight[px, :n], w[want[px]]) and np.all(weight[px, n:] == 0)
