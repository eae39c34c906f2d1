"""Bias baking and play-time interpolation (engines/bias.py, export/bake.py)."""

import math

import numpy as np
import pytest
import torch

from actinr.engines import bundle as B
from actinr.engines.bias import EXTRAPOLATE, interpolate, sample_times, table_length, taps
from actinr.engines.errors import ActinrError
from actinr.engines.manifest import Bias, InrSize
from actinr.engines.timeline import gop_for_frame, local_time
from actinr.export.bake import bake_biases
from actinr.train.render import RunRenderer


def test_table_length_and_times():
    assert table_length(0, 9, 4) == 37
    assert table_length(9, 19, 1) == 11
    assert table_length(3, 3, 8) == 1
    np.testing.assert_allclose(sample_times(5), [0, 0.25, 0.5, 0.75, 1])


@pytest.mark.parametrize("method", ["linear", "cubic"])
def test_taps_known_values(method):
    for rows in (2, 3, 5, 37):
        for t in np.linspace(0, 1, 23):
            pairs = taps(rows, t, method)
            assert math.isclose(sum(w for _, w in pairs), 1.0, abs_tol=1e-12)
            assert all(0 <= k < rows for k, _ in pairs)
        for k in range(rows):  # both pass through the samples
            table = np.eye(rows)
            np.testing.assert_allclose(interpolate(table[:, None], k / (rows - 1), method)[0], table[k], atol=1e-12)
    # past the ends the end segment is continued, as far as EXTRAPOLATE (a switch window's 'through' warp)
    assert taps(5, -3.0, method) == taps(5, -EXTRAPOLATE, method) != taps(5, 0.0, method)
    assert taps(5, 7.0, method) == taps(5, 1.0 + EXTRAPOLATE, method) != taps(5, 1.0, method)
    assert math.isclose(sum(w for _, w in taps(5, 1.2, method)), 1.0, abs_tol=1e-12)
    assert taps(1, 0.4, method) == [(0, 1.0)]
    with pytest.raises(ActinrError, match="unknown bias interpolation 'nearest'"):
        taps(5, 0.1, "nearest")


def test_linear_taps_and_cubic_exact_on_quadratics():
    (i, a), (j, b) = taps(5, 0.3, "linear")
    assert (i, j) == (1, 2) and a == pytest.approx(0.8) and b == pytest.approx(0.2)
    rows = 9
    times = sample_times(rows)
    quad = (2 * times ** 2 - times + 0.3)[:, None, None]  # (K, 1, 1)
    for t in np.random.default_rng(0).uniform(0, 1, 50):  # ends included: the ghost rows extrapolate quadratically
        assert interpolate(quad, t, "cubic")[0, 0] == pytest.approx(2 * t * t - t + 0.3, abs=1e-6)
        assert interpolate(quad, t, "linear")[0, 0] != pytest.approx(2 * t * t - t + 0.3, abs=1e-6)


def test_extrapolation_continues_the_end_segment():
    rows = 9
    times = sample_times(rows)
    quad = (2 * times ** 2 - times + 0.3)[:, None, None]
    line = (0.7 * times - 0.2)[:, None, None]
    for t in (-EXTRAPOLATE, -0.2, -0.01, 1.01, 1.1, 1.0 + EXTRAPOLATE):  # cubic continues a quadratic exactly
        assert interpolate(quad, t, "cubic")[0, 0] == pytest.approx(2 * t * t - t + 0.3, abs=1e-6)
        assert interpolate(line, t, "linear")[0, 0] == pytest.approx(0.7 * t - 0.2, abs=1e-6)
    # a smooth curve sampled 4 times per frame of a 16-frame GOP, continued up to 1.5 frames past its end: the
    # error is the curve's own third-order term (f''' d^3 / 6 = 0.0037 at d = 1.5 / 16 for sin 3t), halving d
    # divides it by about 8
    table = np.sin(3 * sample_times(table_length(0, 16, 4)))[:, None, None]
    for d in (1.5 / 16, -1.5 / 16):
        t = d if d < 0 else 1 + d
        far = abs(interpolate(table, t, "cubic")[0, 0] - np.sin(3 * t))
        near = abs(interpolate(table, t - d / 2, "cubic")[0, 0] - np.sin(3 * (t - d / 2)))
        assert far < 0.01 and far / near > 5


def test_cubic_beats_linear_on_a_smooth_curve():
    def err(method, rate):
        rows = table_length(0, 9, rate)
        table = np.sin(5 * sample_times(rows))[:, None, None]
        t = np.random.default_rng(1).uniform(0, 1, 200)
        return max(abs(interpolate(table, x, method)[0, 0] - np.sin(5 * x)) for x in t)

    for rate in (1, 2, 4):
        assert err("cubic", rate) < err("linear", rate) / 3
    assert err("cubic", 2) / err("cubic", 4) > 6  # third order: 8x smaller per halving of the step
    assert err("cubic", 4) < 2e-4 < err("linear", 4)


def test_interpolate_torch_fp16_tables_sum_in_fp32():
    table = torch.rand(9, 4, 6).half()
    out = interpolate(table, 0.37)
    assert out.dtype == torch.float32 and out.shape == (4, 6)
    np.testing.assert_allclose(out.numpy(), interpolate(table.float().numpy(), 0.37), atol=1e-6)


def test_baked_rows_are_the_bias_inr_at_frame_times(carphone_run):
    model = carphone_run.load_model(1)
    span = carphone_run.spans[1]
    tables = bake_biases(model, span, 4)
    assert [t.shape for t in tables] == [(17, 30, 64), (17, 30, 128), (17, 30, 3)]
    frames = np.arange(span[0], span[1] + 1)
    with torch.no_grad():
        exact = model.biases(torch.tensor([local_time(span, f) for f in frames], dtype=torch.float32))
    for table, ex in zip(tables, exact):
        np.testing.assert_allclose(table[::4], ex.permute(1, 0, 2).numpy(), atol=1e-6)
    half = bake_biases(model, span, 2, np.float16)
    assert half[0].dtype == np.float16 and half[0].shape == (9, 30, 64)


# The stated tolerance of the default bake (4 samples per frame interval, cubic, float32
# tables): every frame rendered with baked biases is within 55 dB PSNR of the exact
# bias-INR's frame. benchmarks/bias_rate.py measured a worst case of 62.1 dB (mean 68.8 dB)
# over 100 random times on the fully fitted carphone model (docs/measurements.md "Bias baking").
BAKE_PSNR = 55.0


def test_baked_bundle_biases_match_exact_at_random_times(carphone_run, carphone_bundle):
    bundle = B.load(carphone_bundle)
    assert bundle.manifest.bias == Bias(4, "float32", "cubic", InrSize(40, 10), still=(1, 2))
    assert bundle.header["bias"] == {"rate": 4, "dtype": "float32", "interpolation": "cubic", "exact": True,
                                     "inr": {"freqs": 40, "latent": 10}, "still": [1, 2]}
    assert [t.shape[0] for t in bundle.gop_bias_tables(0)] == [17, 1, 1]  # only the first layer's biases move
    renderer = RunRenderer(carphone_run)
    spans = carphone_run.spans
    worst, worst_bias = math.inf, 0.0
    for f in np.random.default_rng(7).uniform(0, spans[-1][1], 100):
        g = gop_for_frame(spans, f)
        t = local_time(spans[g], f)
        baked = [torch.from_numpy(interpolate(tab, t, "cubic")) for tab in bundle.gop_bias_tables(g)]
        with torch.no_grad():
            exact = [b[:, 0] for b in renderer.model(g).biases(torch.tensor([t], dtype=torch.float32))]
        worst_bias = max(worst_bias, max(float((a - b).abs().max()) for a, b in zip(baked, exact)))
        a = renderer.render_uint8(f, biases=baked).astype(np.float64)
        b = renderer.render_uint8(f, biases=exact).astype(np.float64)  # GOP g alone, as ``a`` (no switch mix)
        mse = np.mean((a - b) ** 2)
        worst = min(worst, math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse))
    assert worst >= BAKE_PSNR, worst
    assert 0 < worst_bias < 5e-3  # baked, not exact: a small but real difference (1.2e-3 here)


def test_a_run_whose_biases_all_move_is_a_version_1_bundle(carphone, tmp_path):
    """--time-bias all: every module's table has its rows, no ``still``, and the bundle stays format version 1
    (readable by actinr before version 2); it plays like the run."""
    import actinr.engines as E
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.config import TrainConfig
    from actinr.train.fit import train

    run = train(TrainConfig(source=str(carphone), frames=3, gop=3, iters=20, hidden=8, compile=False,
                            time_bias="all"), tmp_path / "run", progress=False)
    export_run(run.path, tmp_path / "all.engine", ExportConfig())
    bundle = B.load(tmp_path / "all.engine")
    assert bundle.version == 1 and bundle.manifest.bias.still == () and "still" not in bundle.header["bias"]
    assert [t.shape[0] for t in bundle.gop_bias_tables(0)] == [9, 9, 9]  # 4 samples x 2 intervals + 1
    ref = RunRenderer(run)
    with E.open(tmp_path / "all.engine", backend="torch-cpu") as dec:
        got = dec.render(0.7 / dec.info.fps)
    want = ref.render_u8(0.7).numpy()  # frame position 0.7, between frames 0 and 1
    diff = np.abs(got.astype(int) - want.astype(int))
    assert (diff <= 1).mean() > 0.99 and diff.max() <= 3
