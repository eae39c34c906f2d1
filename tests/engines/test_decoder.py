"""Decoders: every backend on this machine renders the PyTorch fp32 reference's pixels, at any size and view."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch

import actinr.engines as E
from actinr.engines import bundle as B
from actinr.engines.backends import BACKENDS, backend_class
from actinr.engines.backends.base import gather_index, pack_grid, tile_size
from actinr.engines.errors import ActinrError
from actinr.engines.grid import PatchLayout, pixel_entries, sample_grid
from actinr.engines.timeline import gop_for_frame, local_time

# (size factor or explicit size, viewport): native, 2.5x, a non-integer scale, a 2.5x zoom into the face
VIEWS = {
    "native": (None, None),
    "2.5x": ((440, 360), None),
    "301x247": ((301, 247), None),
    "zoom": ((176, 144), (0.3, 0.2, 0.7, 0.6)),
}
# frame positions: first frame, a frame and between-frame times of both GOPs, the shared frame 4 and times in
# the switch window around it (both GOPs mixed), the last frame
FRAMES = [0.0, 1.37, 3.0, 3.8, 4.0, 4.3, 5.5, 6.91, 8.0]
# the enlarged and zoomed views at three of them (a between-frame time in each GOP, one in the switch window): the
# times' arithmetic does not depend on the view, and the reference takes 0.35 s a frame at these views
FEW_FRAMES = [1.37, 4.3, 6.91]


def backend_or_skip(name: str) -> str:
    cls = backend_class(name)
    try:
        cls.probe("cuda" if cls.gpu else "cpu")
    except ActinrError as exc:
        pytest.skip(f"{name} cannot run here: {exc}")
    return name


def lsb_report(got: np.ndarray, want: np.ndarray) -> tuple[float, int]:
    """(fraction of pixels more than 1 LSB off, largest difference)."""
    d = np.abs(got.astype(np.int16) - want.astype(np.int16)).max(-1)
    return float((d > 1).mean()), int(d.max())


@pytest.fixture(scope="module")
def renderer(carphone_run):
    from actinr.train.render import RunRenderer

    return RunRenderer(carphone_run)


def to_numpy(img) -> np.ndarray:
    return img.cpu().numpy() if torch.is_tensor(img) else img


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("name", list(BACKENDS))
def test_backend_renders_the_reference_pixels(name, view, carphone_bundle, carphone_run, renderer):
    """Baked-table biases on the backend vs the train/ model fed the same biases (one GOP: the times' own);
    exact biases vs the model itself (with the switch mix)."""
    backend_or_skip(name)
    size, viewport = VIEWS[view]
    dec = E.open(carphone_bundle, backend=name, precision="fp32")
    exact = E.open(carphone_bundle, backend=name, precision="fp32", exact_bias=True)
    fps = dec.info.fps
    for f in FRAMES if view in ("native", "301x247") else FEW_FRAMES:
        g, t = dec.locate(f / fps)
        tables = dec.biases(g, t)
        got = to_numpy(dec.render(f / fps, size, viewport, gop=g))
        want = renderer.render_uint8(f, size, viewport or (0, 0, 1, 1), biases=[torch.from_numpy(b) for b in tables])
        assert got.shape == want.shape == ((size or (176, 144))[1], (size or (176, 144))[0], 3)
        assert got.dtype == np.uint8
        frac, worst = lsb_report(got, want)
        assert frac <= 0.001 and worst <= 2, f"{name} {view} frame {f}: {frac:.4%} pixels > 1 LSB, worst {worst}"
        got = to_numpy(exact.render(f / fps, size, viewport))
        frac, worst = lsb_report(got, renderer.render_uint8(f, size, viewport or (0, 0, 1, 1)))
        assert frac <= 0.001 and worst <= 2, f"{name} {view} exact frame {f}: {frac:.4%} > 1 LSB, worst {worst}"


def test_gop_switch_mixes_both_gops(carphone_bundle):
    from actinr.engines.timeline import SWITCH_BLEND, SWITCH_WARP, mix_uint8, switch_mix

    dec = E.open(carphone_bundle, backend="torch-cpu")
    fps, spans = dec.info.fps, dec.info.gops
    assert spans == ((0, 4), (4, 8)) and (SWITCH_BLEND, SWITCH_WARP) == (2.0, "through")
    plan = dec.plan()

    def at(g, t):  # GOP g alone at local time t, past its ends too
        return dec.backend.render(plan, dec._gop(g), dec.biases(g, t))

    for f in (3.05, 3.6, 4.0, 4.7, 4.95):
        mix = switch_mix(spans, f)
        assert (mix.before, mix.after) == (0, 1) and mix.weight == pytest.approx((f - 3) / 2)
        assert (mix.t_before, mix.t_after) == (pytest.approx(f / 4), pytest.approx((f - 4) / 4))
        np.testing.assert_array_equal(dec.render(f / fps), mix_uint8(at(0, f / 4), at(1, (f - 4) / 4), mix.weight))
        assert dec.passes(f / fps) == 2  # what the player's render-scale controller divides a frame's cost by
    # past its end the earlier GOP keeps moving (its table continued): not its last frame held
    assert np.abs(at(0, 4.9 / 4).astype(int) - at(0, 1.0).astype(int)).mean() > 0.5
    # ... and its continued table agrees with its exact bias-INR there (measured: mean 0.15 / 0.08 grey levels,
    # largest 6 / 2 at 3.2 / 4.4; 0.00 / 1 at the shared frame)
    with E.open(carphone_bundle, backend="torch-cpu", exact_bias=True) as exact:
        for f in (3.2, 4.0, 4.4):
            d = np.abs(exact.render(f / fps).astype(int) - dec.render(f / fps).astype(int))
            assert d.mean() < 0.3 and d.max() <= 10
    for f in (2.9, 5.1):  # outside the window: one GOP
        assert switch_mix(spans, f) is None and dec.passes(f / fps) == 1
        np.testing.assert_array_equal(dec.render(f / fps), dec.render(f / fps, gop=gop_for_frame(spans, f)))
    # the window's edges meet the single-GOP pictures without a jump
    edge = [np.abs(dec.render(x / fps).astype(int) - dec.render(y / fps).astype(int)).mean()
            for x, y in ((2.99, 3.01), (4.99, 5.01))]
    assert max(edge) < 0.5
    dec.switch_width, dec.switch_warp = 1.0, "hold"  # the rule before 2026-12-05: each GOP held at its end
    for f in (3.55, 4.3):
        a, b = dec.render(min(f, 4.0) / fps, gop=0), dec.render(max(f, 4.0) / fps, gop=1)
        np.testing.assert_array_equal(dec.render(f / fps), mix_uint8(a, b, f - 3.5))
    dec.close()


def test_decoder_switch_window_is_its_own_setting(carphone_bundle):
    from actinr.engines.timeline import local_time, mix_uint8, switch_mix

    dec = E.open(carphone_bundle, backend="torch-cpu")
    fps, spans = dec.info.fps, dec.info.gops
    f = 2.7  # outside the default 2-frame window, inside a 3-frame one
    single = dec.render(f / fps)
    dec.switch_width, dec.switch_warp = 3.0, "ease"
    mix = switch_mix(spans, f, width=3.0, warp="ease")
    t_a = (spans[0][0] + mix.t_before * (spans[0][1] - spans[0][0])) / fps
    t_b = (spans[1][0] + mix.t_after * (spans[1][1] - spans[1][0])) / fps
    assert local_time(spans[0], t_a * fps) == pytest.approx(mix.t_before)
    a, b = dec.render(t_a, gop=0), dec.render(t_b, gop=1)
    got = dec.render(f / fps)
    # the same mix (local times through seconds and back may round the last bit: at most 1 grey level)
    assert np.abs(got.astype(int) - mix_uint8(a, b, mix.weight).astype(int)).max() <= 1
    assert not np.array_equal(got, single)  # the wider window changed the picture there
    dec.switch_warp = "jump"
    with pytest.raises(ValueError, match="warp"):
        dec.render(f / fps)
    dec.close()


def test_switch_mix_rule():
    from actinr.engines.timeline import mix_uint8, switch_mix

    spans = [(0, 9), (9, 18), (18, 20)]
    assert switch_mix(spans, 5.0) is None and switch_mix(spans, 0.0) is None and switch_mix(spans, 20.0) is None
    m = switch_mix(spans, 17.75, width=1.0, warp="hold")
    assert (m.before, m.after, m.t_before, m.t_after, m.weight) == (1, 2, pytest.approx(8.75 / 9), 0.0, 0.25)
    m = switch_mix(spans, 9.0, width=1.0, warp="hold")
    assert (m.before, m.t_before, m.t_after, m.weight) == (0, 1.0, 0.0, 0.5)
    m = switch_mix(spans, 9.0)  # the default: 'through', 2 frames wide
    assert (m.before, m.t_before, m.t_after, m.weight) == (0, 1.0, 0.0, 0.5)
    m = switch_mix(spans, 8.5)
    assert (m.before, m.t_before, m.t_after, m.weight) == (0, pytest.approx(8.5 / 9), pytest.approx(-0.5 / 9), 0.25)
    m = switch_mix(spans, 17.5, width=3.0)  # next to the 2-frame GOP 18-20: a window of 2 frames
    assert (m.before, m.t_before, m.t_after, m.weight) == (1, pytest.approx(8.5 / 9), -0.25, pytest.approx(0.25))
    assert switch_mix(spans, 9.0, width=0.0) is None
    a, b = np.full((2, 2, 3), 10, np.uint8), np.full((2, 2, 3), 20, np.uint8)
    assert mix_uint8(a, b, 0.25).dtype == np.uint8 and (mix_uint8(a, b, 0.25) == 12).all()  # 12.5 -> 12 (even)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    assert torch.equal(mix_uint8(ta, tb, 0.25), torch.from_numpy(mix_uint8(a, b, 0.25)))


def test_switch_mix_through_renders_both_gops_at_the_time_itself():
    from actinr.engines.timeline import switch_mix

    spans = [(0, 10), (10, 20), (20, 22), (22, 30)]
    m = switch_mix(spans, 11.2, width=3.0, warp="through")  # 1.2 frames past the shared frame 10
    assert (m.before, m.after) == (0, 1) and m.weight == pytest.approx((11.2 - 8.5) / 3)
    assert m.t_before == pytest.approx(1.12) and m.t_after == pytest.approx(0.12)  # the earlier GOP continued
    m = switch_mix(spans, 8.6, width=3.0, warp="through")
    assert (m.t_before, m.t_after, m.weight) == (pytest.approx(0.86), pytest.approx(-0.14), pytest.approx(0.1 / 3))
    assert switch_mix(spans, 8.5, width=3.0, warp="through") is None  # the window's edge: the earlier GOP alone
    # the 2-frame GOP 20-22 narrows both windows beside it to half its length (1 frame), so they never overlap
    assert switch_mix(spans, 18.95, width=3.0, warp="through") is None
    m = switch_mix(spans, 19.5, width=3.0, warp="through")
    assert (m.before, m.weight) == (1, pytest.approx(0.25)) and m.t_after == pytest.approx(-0.25)
    assert switch_mix(spans, 21.0, width=3.0, warp="through") is None
    m = switch_mix(spans, 21.5, width=3.0, warp="through")
    assert (m.before, m.weight, m.t_before) == (2, pytest.approx(0.25), pytest.approx(0.75))
    # a scene cut's gap is never mixed
    assert switch_mix([(0, 10), (11, 20)], 10.5, width=3.0, warp="through") is None


def test_switch_mix_ease_keeps_both_gops_moving():
    from actinr.engines.timeline import switch_mix

    spans = [(0, 10), (10, 20)]
    at = {f: switch_mix(spans, f, width=2.0, warp="ease") for f in (9.0, 9.001, 9.5, 10.0, 10.5, 10.999)}
    # the earlier GOP at 10 - (1 - w)^2, the later at 10 + w^2 (h = 1, w = f - 9)
    assert at[9.0] is None  # the window's edge: the earlier GOP alone
    assert at[9.001].t_before == pytest.approx(0.9, abs=1e-3) and at[9.001].t_after == pytest.approx(0.0, abs=1e-6)
    assert at[9.5].t_before == pytest.approx(0.94375) and at[9.5].t_after == pytest.approx(0.00625)
    assert at[10.0].t_before == pytest.approx(0.975) and at[10.0].t_after == pytest.approx(0.025)
    assert at[10.5].weight == pytest.approx(0.75) and at[10.5].t_after == pytest.approx(0.05625)
    assert at[10.999].t_after == pytest.approx(0.1, abs=1e-3)  # meets the later GOP alone at the window's end
    ts = [switch_mix(spans, 9.0 + i / 100, width=2.0, warp="ease") for i in range(1, 200)]
    assert all(a.t_before <= b.t_before and a.t_after <= b.t_after for a, b in zip(ts, ts[1:]))  # never back
    assert all(m.t_before <= 1.0 and m.t_after >= 0.0 for m in ts)  # neither leaves the range it was fitted on
    with pytest.raises(ValueError, match="warp"):
        switch_mix(spans, 10.0, warp="jump")


def test_exact_bias_equals_the_bias_inrs(carphone_bundle, carphone_run):
    dec = E.open(carphone_bundle, backend="torch-cpu", exact_bias=True)
    for g in range(2):
        model = carphone_run.load_model(g)
        for t in (0.0, 0.123, 0.5, 1.0):
            want = [b[:, 0].detach().numpy() for b in model.biases(torch.tensor([t], dtype=torch.float32))]
            for got, w in zip(dec.biases(g, t), want):
                np.testing.assert_allclose(got, w, rtol=0, atol=1e-6)


def test_torch_cuda_arithmetic_on_the_cpu(carphone_bundle, carphone_run, renderer):
    """The torch-cuda backend's math (fp32 and fp16) checked without a GPU: same class, CPU tensors, no graphs."""
    from actinr.engines.backends.torch_cuda import TorchCUDA
    from actinr.engines.decoder import Decoder

    bundle = B.load(carphone_bundle)
    for precision, tolerance in (("fp32", None), ("fp16", 40.0)):
        dec = Decoder(bundle, TorchCUDA, "cpu", precision)
        assert dec.backend.use_graphs is False
        for f, (size, viewport) in zip((1.37, 4.0, 6.91), VIEWS.values()):
            g, t = dec.locate(f / dec.info.fps)
            got = to_numpy(dec.render(f / dec.info.fps, size, viewport, gop=g))
            want = renderer.render_uint8(f, size, viewport or (0, 0, 1, 1),
                                         biases=[torch.from_numpy(b) for b in dec.biases(g, t)])
            if tolerance is None:
                frac, worst = lsb_report(got, want)
                assert frac <= 0.001 and worst <= 2
            else:
                mse = np.mean((got.astype(np.float64) - want) ** 2)
                assert 10 * math.log10(255 ** 2 / max(mse, 1e-12)) >= tolerance


def test_fp16_bundle_plays_on_the_cpu_in_fp32(carphone_run, carphone_bundle, tmp_path):
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.metrics import psnr

    export_run(carphone_run.path, tmp_path / "half.engine", ExportConfig(precision="fp16"))
    half = E.open(tmp_path / "half.engine", backend="torch-cpu")
    assert half.manifest.precision == "fp16" and half.info.precision == "fp32"
    full = E.open(carphone_bundle, backend="torch-cpu")
    for f in (1.37, 4.0, 6.91):
        a, b = (torch.from_numpy(d.render(f / full.info.fps)).float() / 255 for d in (half, full))
        assert psnr(a, b) >= 50.0  # fp16-rounded weights and tables only


def test_overlapping_windows_are_blended_like_the_reference(carphone, tmp_path):
    """A model with overlapping patch windows: every pixel is the weighted sum of up to 4 patches."""
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.config import TrainConfig
    from actinr.train.fit import train
    from actinr.train.render import RunRenderer

    run = train(TrainConfig(source=str(carphone), frames=3, gop=2, iters=20, batch=32, patch=32, overlap=8,
                            compile=False), tmp_path / "run", progress=False)
    export_run(run.path, tmp_path / "o.engine", ExportConfig(bias_rate=2))
    ref = RunRenderer(run)
    names = [n for n in ("torch-cpu", "onnxruntime-cpu") if n != "onnxruntime-cpu" or _has_ort()]
    for name in names:
        dec = E.open(tmp_path / "o.engine", backend=name)
        for f, (size, viewport) in zip((0.5, 1.0, 1.5, 2.0), VIEWS.values()):
            g, t = dec.locate(f / dec.info.fps)
            got = dec.render(f / dec.info.fps, size, viewport, gop=g)
            want = ref.render_uint8(f, size, viewport or (0, 0, 1, 1),
                                    biases=[torch.from_numpy(b) for b in dec.biases(g, t)])
            frac, worst = lsb_report(got, want)
            assert frac <= 0.001 and worst <= 2, f"{name} frame {f}"


def _has_ort() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def test_shared_boundary_frame_from_either_gop(carphone_bundle, carphone):
    """Frame 4 is GOP 0's last frame (local time 1) and GOP 1's first (local time 0). Rendered from either
    GOP it is reconstructed as well as that GOP reconstructs its frames (its fit PSNR, the manifest's
    training results): within 1 dB. A wrong local time or GOP at the edge would cost far more."""
    from actinr.train.metrics import psnr
    from actinr.train.video import read_video

    source = torch.from_numpy(read_video(carphone, 0, 9).frames[4]).float() / 255.0
    dec = E.open(carphone_bundle, backend="torch-cpu")
    fit = dec.manifest.training.psnr
    t = 4 / dec.info.fps
    for g in (0, 1):
        assert dec.locate(t, gop=g) == (g, 1.0 if g == 0 else 0.0)
        score = psnr(torch.from_numpy(dec.render(t, gop=g)).float() / 255.0, source)
        assert abs(score - fit[g]) < 1.0, (g, score, fit[g])
        # the same GOP one frame further in (3 in GOP 0, 5 in GOP 1) matches frame 4 less well
        other = torch.from_numpy(dec.render((3 if g == 0 else 5) / dec.info.fps, gop=g)).float() / 255.0
        assert psnr(other, source) < score
    # the rule: a time on the shared frame belongs to the later GOP, and is shown as the two GOPs mixed half
    # and half (the middle of the switch window)
    from actinr.engines.timeline import mix_uint8

    assert dec.locate(t)[0] == 1
    np.testing.assert_array_equal(dec.render(t), mix_uint8(dec.render(t, gop=0), dec.render(t, gop=1), 0.5))


def test_info_and_time_clamping(carphone_bundle):
    dec = E.open(carphone_bundle, backend="torch-cpu")
    info = dec.info
    assert (info.width, info.height, info.frames) == (176, 144, 9)
    assert info.gops == ((0, 4), (4, 8))
    assert info.fps == pytest.approx(30000 / 1001)
    assert info.duration == pytest.approx(9 / info.fps)
    assert info.last_time == pytest.approx(8 / info.fps)
    assert (info.backend, info.device, info.precision, info.exact_bias) == ("torch-cpu", "cpu", "fp32", False)
    np.testing.assert_array_equal(dec.render(-3.0), dec.render(0.0))
    np.testing.assert_array_equal(dec.render(1e6), dec.render(info.last_time))
    assert not np.array_equal(dec.render(0.0), dec.render(info.last_time))
    # time is continuous: a between-frame time is neither neighbour
    a, mid, b = dec.render(2 / info.fps), dec.render(2.5 / info.fps), dec.render(3 / info.fps)
    assert not np.array_equal(mid, a) and not np.array_equal(mid, b)
    # GOP of a time and its local time follow engines/timeline.py
    for f in (0.0, 3.99, 4.0, 6.5, 8.0):
        g = gop_for_frame([(0, 4), (4, 8)], f)
        assert dec.locate(f / info.fps) == (g, pytest.approx(local_time(info.gops[g], f)))


def test_auto_takes_the_first_backend_that_loads_and_logs_the_rest(carphone_bundle, caplog):
    caplog.set_level(logging.INFO, logger="actinr")
    dec = E.open(carphone_bundle)
    runnable = []
    for name in BACKENDS:
        cls = backend_class(name)
        try:
            cls.probe("cuda" if cls.gpu else "cpu")
            runnable.append(name)
        except ActinrError:
            pass
    assert dec.info.backend == runnable[0]
    skipped = [r.getMessage() for r in caplog.records if "backend skipped" in r.getMessage()]
    assert len(skipped) == list(BACKENDS).index(runnable[0]) == len(dec.skipped)
    if not torch.cuda.is_available():
        assert dec.info.backend == "torch-cpu"
        assert all("CUDA GPU" in line for line in skipped)
    assert E.open(carphone_bundle, device="cpu").info.backend == "torch-cpu"


@pytest.mark.parametrize("size, message", [
    ((0, 10), "between 1x1"), ((10.5, 3), "whole numbers"), ("big", "whole numbers"), ((20000, 10), "between 1x1"),
    ((3,), "whole numbers"),
])
def test_bad_sizes(carphone_bundle, size, message):
    dec = E.open(carphone_bundle, backend="torch-cpu")
    with pytest.raises(ActinrError, match=message):
        dec.render(0.0, size)


@pytest.mark.parametrize("viewport", [(0.5, 0.0, 0.4, 1.0), (0.0, 0.0, 1.2, 1.0), "x", (0, 0, 1)])
def test_bad_viewports(carphone_bundle, viewport):
    dec = E.open(carphone_bundle, backend="torch-cpu")
    with pytest.raises(ActinrError, match="viewport must"):
        dec.render(0.0, (64, 64), viewport)


def test_bad_requests(carphone_bundle, tmp_path):
    with pytest.raises(ActinrError, match=r"unknown backend 'trt' \(backends: auto, triton, tensorrt"):
        E.open(carphone_bundle, backend="trt")
    with pytest.raises(ActinrError, match="unknown device"):
        E.open(carphone_bundle, device="gpu0")
    with pytest.raises(ActinrError, match="precision must be"):
        E.open(carphone_bundle, precision="int8")
    with pytest.raises(ActinrError, match="torch-cpu decodes in fp32, not fp16"):
        E.open(carphone_bundle, backend="torch-cpu", precision="fp16")
    with pytest.raises(ActinrError, match="torch-cpu runs on the CPU"):
        E.open(carphone_bundle, backend="torch-cpu", device="cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ActinrError, match="torch-cuda needs a CUDA GPU and torch sees none"):
            E.open(carphone_bundle, backend="torch-cuda")
    with pytest.raises(ActinrError, match="no such file|not found|does not exist"):
        E.open(tmp_path / "missing.engine")
    dec = E.open(carphone_bundle, backend="torch-cpu")
    for t in (float("nan"), "soon", None):
        with pytest.raises(ActinrError, match="time must be"):
            dec.render(t)
    with pytest.raises(ActinrError, match="GOP 0 does not contain frame position 6"):
        dec.render(6 / dec.info.fps, gop=0)


def test_exact_bias_needs_the_embedded_inr(carphone_run, tmp_path):
    from actinr.export.exporter import ExportConfig, export_run

    export_run(carphone_run.path, tmp_path / "baked.engine", ExportConfig())
    with pytest.raises(ActinrError, match="has no embedded bias-INR"):
        E.open(tmp_path / "baked.engine", backend="torch-cpu", exact_bias=True)


def test_missing_onnxruntime_names_the_extra(carphone_bundle, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    with pytest.raises(ActinrError, match=r"pip install 'actinr\[ort\]'"):
        E.open(carphone_bundle, backend="onnxruntime-cpu")
    dec = E.open(carphone_bundle, device="cpu")  # auto goes on to torch-cpu
    assert dec.info.backend == "torch-cpu"


def test_pack_grid_places_every_point_once():
    layout = PatchLayout(176, 144, 32)
    grid = sample_grid(layout, (300, 260), (0.3, 0.2, 0.7, 0.6))
    counts = (grid.pixel < 300 * 260).sum(1)
    assert (counts == 0).sum() >= 15  # the zoom leaves half the patches empty
    pg = pack_grid(grid, layout.count, 2048, "cpu")
    used = pg.coords.shape[0] * pg.coords.shape[1] * pg.coords.shape[2]
    assert used < 1.1 * counts.sum() + pg.points * layout.count  # no empty patches, little padding
    # every real grid point appears in the slot of its own patch
    for p in np.flatnonzero(counts)[:5]:
        slots = pg.coords[pg.patch == p]  # (tiles, n, 2)
        pts = slots.reshape(-1, 2)[: counts[p]]
        np.testing.assert_array_equal(pts, grid.coords[p, : counts[p]])


@pytest.mark.parametrize("overlap", [0, 4])
def test_gather_blends_only_the_shared_pixels_and_equals_the_padded_sum(overlap):
    """Gather.image reads each pixel's one entry and blends only the pixels that have several (strips and corners
    of overlapping windows), giving bit for bit the padded every-pixel blend it replaced (each pixel the sum of
    its E entries times their weights, spare slots weight 0), through torch and through numpy."""
    layout = PatchLayout(64, 48, 16, overlap=overlap)
    grid = sample_grid(layout, (150, 97), (0.05, 0.1, 0.95, 0.8))
    p, n = grid.coords.shape[:2]
    stride = p * n + 5  # a buffer of channel planes: entry (p, j), channel c at p * n + j + c * stride

    g = gather_index(grid, lambda pp, jj: pp * n + jj, stride, "cpu")
    flat = torch.rand(3 * stride, generator=torch.Generator().manual_seed(3)) * 300.0 - 20.0
    entry, weight = pixel_entries(grid)
    count = (entry < grid.pixel.size).sum(1)
    base = np.where(entry < grid.pixel.size, entry, 0)
    padded = (flat[torch.from_numpy(base[..., None] + np.arange(3) * stride)] * torch.from_numpy(weight)[..., None])
    want = padded.sum(1).mul(0.9).clamp(0.0, 255.0).round().to(torch.uint8).view(97, 150, 3).numpy()
    assert g.index.dtype == torch.int32 and g.index.shape == (150 * 97, 3)
    if overlap == 0:
        assert g.multi is None and count.max() == 1
    else:
        assert np.array_equal(g.multi.numpy(), np.flatnonzero(count > 1)) and g.multi_index.dtype == torch.int32
        assert 0.05 < g.multi.numel() / (150 * 97) < 0.6  # the strips blend, the patches' insides do not
    assert np.array_equal(g.image(flat, 0.9).numpy(), want)
    assert np.array_equal(g.image(flat.numpy(), 0.9), want)


def test_tile_size_fills_the_slots():
    counts = np.array([1024] * 20 + [512] * 9 + [256])  # carphone at its native size
    n = tile_size(counts, 30, 256)
    assert n <= 256
    tiles = np.ceil(counts / n).sum()
    assert tiles / (math.ceil(tiles / 30) * 30) > 0.9  # slots at least 90% used
    assert tile_size(counts, 30, 4096) == 1024  # a whole patch per slot when it fits
    assert tile_size(np.array([9, 3]), 2, 100, min_points=180) == 180  # a profile's minimum wins


def test_every_backend_takes_its_shapes_from_the_manifest(carphone_bundle):
    dec = E.open(carphone_bundle, backend="torch-cpu")
    backend = dec.backend
    assert (backend.patches, backend.model.hidden, backend.model.layers) == (30, 32, 1)
    assert backend.model.layer_shapes == [(2, 64), (64, 128), (64, 3)] and backend.layout == dec.manifest.layout


def test_slot_plan_path_of_the_gpu_graph_backends(carphone_bundle, renderer):
    """onnxruntime-cuda and tensorrt feed the graph from a SlotPlan; the same buffers on the CPU, run by
    ONNX Runtime CPU, must give the reference pixels (packing, slot filling and gathering, without a GPU)."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is a dev dependency")
    from actinr.engines.backends.base import fill_slots, slot_plan

    dec = E.open(carphone_bundle, backend="torch-cpu")
    session = ort.InferenceSession(dec.bundle.decoder_graph("fp32"), providers=["CPUExecutionProvider"])
    size, viewport = (300, 260), (0.3, 0.2, 0.7, 0.6)
    grid = sample_grid(dec.manifest.layout, size, viewport)
    plan = slot_plan(grid, dec.manifest.model, dec.manifest.patches, "cpu", torch.float32, max_points=700,
                     min_points=180)
    assert plan.packed.calls > 1 and 180 <= plan.packed.points <= 700
    f = 5.5
    g, t = dec.locate(f / dec.info.fps)
    biases = dec.biases(g, t)
    weights = [torch.from_numpy(np.array(w)) for w in dec.bundle.gop_weights(g)]
    for c in range(plan.packed.calls):
        fill_slots(plan, c, weights, [torch.from_numpy(b).unsqueeze(1) for b in biases])
        feeds = {"coords": plan.coords[c].numpy()}
        feeds.update({f"weight_{i}": w.numpy() for i, w in enumerate(plan.slot_weights)})
        feeds.update({f"bias_{i}": b.numpy() for i, b in enumerate(plan.slot_biases)})
        plan.out[c] = torch.from_numpy(session.run(["rgb"], feeds)[0])
    got = plan.packed.gather.image(plan.out.view(-1), 255.0).numpy()
    want = renderer.render_uint8(f, size, viewport, biases=[torch.from_numpy(b) for b in biases])
    frac, worst = lsb_report(got, want)
    assert frac <= 0.001 and worst <= 2


@pytest.mark.parametrize("name", ["torch-cpu", "onnxruntime-cpu"])
def test_stripes_render_the_same_frame(name, carphone_bundle, carphone):
    """A frame rendered in stripes of rows (large sizes, bounded memory) is the frame rendered whole."""

    whole = E.open(carphone_bundle, backend=backend_or_skip(name))
    striped = E.open(carphone_bundle, backend=name)
    striped.backend.stripe_pixels = 997  # a few rows per stripe, not a divisor of any size below
    for size, view in [((440, 360), None), ((301, 247), None), ((300, 260), (0.3, 0.2, 0.7, 0.6))]:
        assert len(striped.stripes(size)) > 50
        for f in (1.37, 3.8, 4.0, 6.91):  # in-between times, the switch window (both GOPs), a frame
            a = whole.render(f / whole.info.fps, size, view)
            b = striped.render(f / whole.info.fps, size, view)
            assert b.shape == a.shape
            off, worst = lsb_report(b, a)
            assert off == 0.0 and worst <= 1, (size, view, f, worst)
            assert (b == a).mean() > 0.999


def test_stripes_cover_every_row_once(carphone_bundle):
    dec = E.open(carphone_bundle, backend="torch-cpu")
    assert dec.stripes((176, 144)) == [(0, 144)]  # small frames: one call, as before
    rows = dec.stripes((4096, 2160))
    assert rows[0][0] == 0 and rows[-1][1] == 2160 and all(a[1] == b[0] for a, b in zip(rows, rows[1:]))
    assert max((b - a) * 4096 for a, b in rows) <= dec.backend.stripe_pixels
    grid = sample_grid(dec.manifest.layout, (301, 247), rows=(100, 140))
    full = sample_grid(dec.manifest.layout, (301, 247))
    assert grid.height == 40 and (grid.pixel < 301 * 40).sum() == 301 * 40
    # the stripe's points are exactly those rows' points of the whole grid
    pts = {tuple(c) for c, px in zip(grid.coords.reshape(-1, 2), grid.pixel.ravel()) if px < 301 * 40}
    want = {tuple(c) for c, px in zip(full.coords.reshape(-1, 2), full.pixel.ravel())
            if 100 * 301 <= px < 140 * 301}
    assert pts == want


def test_baked_biases_are_the_tables_interpolated(carphone_bundle):
    """The decoder keeps each GOP's tables in float32 once and hands out a static module's one row without a
    per-frame copy: the biases are still exactly the stored tables interpolated in fp32."""
    from actinr.engines.bias import interpolate

    dec = E.open(carphone_bundle, backend="torch-cpu")
    stored = B.load(carphone_bundle)
    how = dec.manifest.bias.interpolation
    rows = set()
    for g in range(len(dec.spans)):
        tables = stored.gop_bias_tables(g)
        for t in (0.0, 0.37, 1.0):
            got = dec.biases(g, t)
            assert len(got) == len(tables)
            for b, tab in zip(got, tables):
                rows.add(tab.shape[0])
                assert b.dtype == np.float32 and b.shape == tab.shape[1:]
                np.testing.assert_array_equal(b, interpolate(np.array(tab), t, how))
        again = dec.biases(g, 0.5)
        for b, first, tab in zip(again, dec.biases(g, 0.0), tables):
            assert (b is first) == (tab.shape[0] == 1)  # a static module: one array, no copy
    assert 1 in rows and max(rows) > 1  # both kinds of module were checked
