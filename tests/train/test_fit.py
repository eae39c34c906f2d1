"""Fitting, checkpoints, resume and tasks on real carphone frames (small, CPU)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from actinr.engines.errors import ActinrError
from actinr.train import baselines
from actinr.train.config import DETAIL_DB, TrainConfig, auto_batch, auto_overlap, auto_patch
from actinr.train.evaluate import evaluate, format_report
from actinr.train.fit import Interrupted, new_run, train
from actinr.train.render import RunRenderer
from actinr.train.run import ResumePoint, Run, option_changes
from actinr.train.scenes import detail_db, detail_sample
from actinr.train.video import read_video

# gop_shift 0: GOPs 0-3 and 3-6 wherever the picture is still (these tests are about fitting, not switch placement)
SMALL = dict(frames=7, gop=4, iters=60, batch=48, hidden=16, patch=32, compile=False, gop_shift=0)


def cfg(carphone, **kw) -> TrainConfig:
    return TrainConfig(source=str(carphone), **{**SMALL, **kw})


@pytest.fixture(scope="module")
def fitted(carphone, tmp_path_factory):
    """4 real frames, one GOP, fitted long enough to reach a stated quality."""
    out = tmp_path_factory.mktemp("fit") / "run"
    run = train(TrainConfig(source=str(carphone), frames=4, gop=4, iters=400, patch=32,
                            compile=False),
                out, progress=False)
    return run


def test_short_fit_reaches_stated_psnr(fitted):
    rep = evaluate(fitted.path)
    assert rep["overall"]["frames"] == 4
    assert rep["overall"]["psnr"] >= 29.5, rep["overall"]
    assert rep["overall"]["ssim"] >= 0.85
    # fit vs uint8 eval; the fit's PSNR is each patch's over its own window, the eval's of the blended picture (the
    # default overlapping windows): measured 31.17 against 30.55 dB here; without overlap they kept within 0.5
    assert fitted.results[0].psnr == pytest.approx(rep["overall"]["psnr"], abs=1.0)


def test_checkpoint_round_trip_reproduces_output(fitted):
    run = Run.load(fitted.path)
    assert run.config == fitted.config and run.spans == [(0, 3)] and run.complete
    a = RunRenderer(run).render(1.5)
    state = load_file(run.gop_file(0))
    assert all(v.dtype in (torch.float32,) for v in state.values())
    b = RunRenderer(Run.load(fitted.path)).render(1.5)
    assert torch.equal(a, b) and a.std() > 0.05


def test_run_folder_errors(fitted, tmp_path):
    import shutil

    bad = tmp_path / "run"
    shutil.copytree(fitted.path, bad)
    cfgfile = bad / "config.json"
    data = json.loads(cfgfile.read_text())
    cfgfile.write_text(json.dumps({**data, "format_version": 99}))
    with pytest.raises(ActinrError, match="version 99 is newer"):
        Run.load(bad)
    cfgfile.write_text("{not json")
    with pytest.raises(ActinrError, match="not valid JSON"):
        Run.load(bad)
    cfgfile.write_text(json.dumps(data))
    blob = (bad / "gop_000.safetensors").read_bytes()
    (bad / "gop_000.safetensors").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ActinrError, match="gop_000.safetensors: not a readable safetensors file"):
        Run.load(bad).load_model(0)
    (bad / "gop_000.safetensors").unlink()
    with pytest.raises(ActinrError, match="gop_000.safetensors: missing"):
        Run.load(bad)
    with pytest.raises(ActinrError, match="not a run folder"):
        Run.load(tmp_path)


def test_two_gops_share_the_boundary_frame_and_warm_start(carphone, tmp_path):
    run = train(cfg(carphone), tmp_path / "r", progress=False)
    assert run.spans == [(0, 3), (3, 6)] and run.gops_done == 2
    g0, g1 = run.load_model(0), run.load_model(1)
    # both GOPs were fitted to frame 3: rendered from either end, they agree closely
    rend = RunRenderer(run)
    from actinr.engines.grid import sample_grid

    grid = sample_grid(run.layout, (176, 144))
    coords = torch.from_numpy(grid.coords)[:, None]
    with torch.no_grad():
        a = g0(coords, torch.tensor([1.0]))
        b = g1(coords, torch.tensor([0.0]))
    assert (a - b).abs().mean() < 0.06
    assert rend.render(3.0).shape == (144, 176, 3)


def test_shared_weight_makes_neighbouring_gops_agree_on_their_shared_frame(carphone, tmp_path):
    from actinr.engines.grid import sample_grid

    gap = {}
    for w in (1.0, 8.0):
        # without --gop-margin, which also makes the GOPs agree there (0.0314 at weight 1 with it)
        # and without overlapping windows (with the default 4 pixels: 0.0349 -> 0.0314, 9.9% where this asks 10%),
        # at the learning rate it was measured with (Adam at 1e-2 with the warm-up: 0.0315 -> 0.0287, 8.9%)
        run = train(cfg(carphone, guide="off", shared_weight=w, iters=120, gop_margin=0, overlap=0, lr=5e-3,
                        lr_warmup=0.0), tmp_path / f"w{w}", progress=False)
        assert run.spans == [(0, 3), (3, 6)]
        coords = torch.from_numpy(sample_grid(run.layout, (176, 144)).coords)[:, None]
        with torch.no_grad():  # frame 3 from either GOP
            a = run.load_model(0)(coords, torch.tensor([1.0]))
            b = run.load_model(1)(coords, torch.tensor([0.0]))
        gap[w] = float((a - b).abs().mean())
    assert gap[8.0] < 0.9 * gap[1.0], gap  # measured: 0.0358 -> 0.0291 (mean |difference|, 0..1)
    with pytest.raises(ActinrError, match="--shared-weight"):
        TrainConfig(shared_weight=0.0).validate()


def test_gop_margin_fits_each_gop_past_its_shared_end(carphone, tmp_path):
    """GOPs 0-3 and 3-6: with --gop-margin 1 the later GOP is also fitted to frame 2 (local time -1/3) and the
    earlier to frame 4 (4/3), so each renders the other's neighbouring frame; without it that is a guess."""
    from actinr.engines.grid import FULL_VIEW
    from actinr.train.metrics import psnr

    truth = torch.from_numpy(np.asarray(read_video(str(carphone), 0, 7).frames)).float().div(255.0)
    got = {}
    for m in (0, 1):
        run = train(cfg(carphone, gop_margin=m, iters=200, batch=128), tmp_path / f"m{m}", progress=False)
        assert run.spans == [(0, 3), (3, 6)] and run.config.gop_margin == m
        rend = RunRenderer(run)  # each GOP alone, at a local time past its end
        with torch.no_grad():
            got[m] = [round(psnr(rend._render_gop(1, -1 / 3, None, FULL_VIEW), truth[2]), 2),
                      round(psnr(rend._render_gop(0, 4 / 3, None, FULL_VIEW), truth[4]), 2)]
    # measured (200 steps): 22.36 / 22.88 dB without the margin, 29.64 / 25.98 with it; 20.69 / 21.64 and
    # 29.66 / 26.17 with the defaults of 2026-12-07 (100 steps fall short: +2.65 / +0.76)
    assert all(a > b + 2 for a, b in zip(got[1], got[0])), got
    with pytest.raises(ActinrError, match="--gop-margin"):
        TrainConfig(gop_margin=-1).validate()


def test_interrupt_and_resume_is_bit_exact(carphone, tmp_path):
    ref = train(cfg(carphone), tmp_path / "ref", progress=False)

    def stop_at(g, step):
        if (g, step) == (1, 20):
            raise KeyboardInterrupt  # Ctrl-C arriving through the step hook: honoured like SIGINT

    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        train(cfg(carphone), out, progress=False, on_step=stop_at)
    assert Run.load(out).gops_done == 1

    flag = {}

    def sigint_at(g, step):
        if (g, step) == (1, 20) and not flag:
            flag["sent"] = True
            os.kill(os.getpid(), signal.SIGINT)

    out = tmp_path / "sig"
    with pytest.raises(Interrupted, match=r"GOP 2/2 at step 21"):
        train(cfg(carphone), out, progress=False, on_step=sigint_at)
    run = Run.load(out)
    assert run.resume == ResumePoint(1, 21) and (out / "resume.safetensors").exists()
    train(None, out, resume=True, progress=False)
    done = Run.load(out)
    assert done.complete and done.resume is None and not (out / "resume.safetensors").exists()
    for g in range(2):
        a, b = load_file(ref.gop_file(g)), load_file(done.gop_file(g))
        assert all(torch.equal(a[k], b[k]) for k in a), f"GOP {g} differs after resume"
    with pytest.raises(ActinrError, match="already complete"):
        train(None, out, resume=True, progress=False)


def test_sigint_from_the_command_line(carphone, tmp_path):
    out = tmp_path / "cli"
    args = [sys.executable, "-m", "actinr.engines.cli", "train", str(carphone), "-o", str(out),
            "--frames", "4", "--gop", "4", "--iters", "100000", "--batch", "16", "--hidden", "8", "--no-compile"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "config.json").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # let it take some steps
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "continue with: actinr train --resume -o" in err
    run = Run.load(out)
    assert run.resume.gop == 0 and run.resume.step > 0


@pytest.mark.parametrize("task, extra", [("interp", {"every": 2}), ("denoise", {"noise": 0.1}),
                                         ("inpaint", {"mask": "center"})])
def test_tasks_end_to_end(carphone, tmp_path, task, extra):
    run = train(cfg(carphone, task=task, **extra), tmp_path / task, progress=False)
    rep = evaluate(run.path)
    assert rep["task"] == task and rep["overall"]["frames"] == 7
    if task == "interp":
        assert run.fitted == [0, 2, 4, 6] and run.spans == [(0, 6)]
        held = rep["held_out"]
        assert held["model"]["frames"] == 3
        assert held["blend_baseline"]["psnr"] > 20 and held["repeat_baseline"]["psnr"] > 18
        assert held["blend_baseline"]["psnr"] > held["repeat_baseline"]["psnr"]
        # ffmpeg's minterpolate (PyAV's libavfilter) interpolates the same fitted frames; on carphone's small
        # motion it lands near blending, well above repeating
        mci = held["minterpolate_baseline"]
        assert mci["frames"] == 3 and mci["psnr"] > held["repeat_baseline"]["psnr"] + 0.5
        assert abs(mci["psnr"] - held["blend_baseline"]["psnr"]) < 3
        assert "minterpolate baseline:" in format_report(rep)
        assert [r["fitted"] for r in rep["frames"]] == [True, False] * 3 + [True]
    if task == "denoise":
        # the noisy input is ~20 dB; the fit smooths noise away, so it must beat it
        assert 19 < rep["overall"]["noisy_input_psnr"] < 21.5
        assert rep["overall"]["psnr"] > rep["overall"]["noisy_input_psnr"]
    if task == "inpaint":
        assert rep["overall"]["hidden_psnr"] < rep["overall"]["psnr"]


def test_minterpolate_returns_the_key_frames_and_moves_a_square():
    # a bright square moving 4 px per frame over a still grey ramp (on black, the filter's scene-change test
    # can take the first key pair for a cut and blend it)
    ramp = np.linspace(40, 120, 48).astype(np.uint8)[None, :, None]
    frames = np.repeat(np.repeat(ramp, 32, 0)[None], 5, 0).repeat(3, -1)
    for i in range(5):
        frames[i, 10:22, 4 + 4 * i: 16 + 4 * i] = 220
    out = baselines.minterpolate(frames, 2)
    assert out.shape == frames.shape
    err = [np.abs(out[f].astype(int) - frames[f]).mean() for f in range(5)]
    assert max(err[0], err[2], err[4]) < 1.0  # the key frames come back
    fade = [np.abs(baselines.blend(frames, [0, 2, 4], f).astype(int) - frames[f]).mean() for f in (1, 3)]
    assert err[3] < 0.6 * fade[1]  # motion compensation beats the cross-fade on a translating square
    # the first pair has no frame before it: without a lead-in the filter's scene-change test fades it
    assert err[1] > 0.9 * fade[0]
    led = baselines.motion_frames(frames[0::2], 2, lead=True)
    assert led.shape == frames.shape and np.array_equal(led[2:], out[2:])  # only the first interval changes
    assert np.abs(led[1].astype(int) - frames[1]).mean() < 0.75 * fade[0]
    assert np.abs(led[0].astype(int) - frames[0]).mean() < 1.0
    # frames smaller than the filter takes (two 16-pixel blocks a side) are padded and cropped back
    small = baselines.motion_frames(frames[0::2, :24, :20], 2)
    assert small.shape == (5, 24, 20, 3) and np.abs(small[2].astype(int) - frames[2, :24, :20]).mean() < 1.0


def test_super_resolution_eval(carphone, tmp_path):
    run = train(cfg(carphone, resize="88x72", frames=4), tmp_path / "sr", progress=False)
    rep = evaluate(run.path, size="176x144")
    assert rep["size"] == [176, 144] and rep["fitted_size"] == [88, 72]
    assert rep["baseline"].startswith("bicubic upscale of the fitted")
    assert 18 < rep["overall"]["baseline_psnr"] < 40 and rep["overall"]["psnr"] > 15


def test_existing_run_is_not_overwritten(fitted, carphone):
    with pytest.raises(ActinrError, match="already holds a run"):
        train(cfg(carphone), fitted.path, progress=False)


def test_deterministic_with_seed(carphone, tmp_path):
    c = cfg(carphone, frames=3, gop=3, iters=15)
    a = train(c, tmp_path / "a", progress=False)
    b = train(c, tmp_path / "b", progress=False)
    c2 = train(cfg(carphone, frames=3, gop=3, iters=15, seed=1), tmp_path / "c", progress=False)
    sa, sb, sc = (load_file(r.gop_file(0)) for r in (a, b, c2))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["w1"], sc["w1"])
    assert np.isfinite(a.results[0].psnr)


def test_overlapping_windows_blend_neighbouring_patches(carphone, tmp_path):
    run = train(cfg(carphone, frames=3, gop=3, overlap=8, iters=40), tmp_path / "ov", progress=False)
    lay = run.layout
    assert (lay.stride, lay.nx, lay.ny) == (24, 7, 6)
    img = RunRenderer(run).render(1.0)
    model = run.load_model(0)
    # source pixel (x=26, y=5) lies in the strip shared by patches 0 and 1 (x in 24..31), only patch row 0
    x, y, t = 26.0, 5.0, torch.tensor([0.5])
    c0 = torch.tensor([[-1 + 2 * x / 31, -1 + 2 * y / 31]])
    c1 = torch.tensor([[-1 + 2 * (x - 24) / 31, -1 + 2 * y / 31]])
    with torch.no_grad():
        out = model(torch.stack([c0, c1] + [c0] * (lay.count - 2))[:, None], t)[:, 0, 0]  # (P, 3)
    w1 = (x - (24 - 0.5)) / 8  # weight of patch 1 rises across the strip
    expected = ((1 - w1) * out[0] + w1 * out[1]).clamp(0, 1)
    assert torch.allclose(img[5, 26], expected, atol=1e-5)
    assert not torch.allclose(out[0], out[1], atol=1e-3)  # the two patches really differ there


def test_the_default_overlap_is_resolved_from_the_patch_and_stored(carphone, tmp_path):
    assert [auto_overlap(p) for p in (8, 12, 16, 24, 32, 96)] == [2, 3, 4, 4, 4, 4]
    run, _ = new_run(cfg(carphone, frames=3, gop=3), tmp_path / "r", pixels=False)  # patch 32 at 176x144
    assert TrainConfig().overlap == -1 and run.config.overlap == 4  # written as 4: a later rule leaves it so
    assert (run.layout.overlap, run.layout.stride, run.layout.nx, run.layout.ny) == (4, 28, 7, 5)
    run, _ = new_run(cfg(carphone, frames=3, gop=3, overlap=0), tmp_path / "r0", pixels=False)
    assert run.config.overlap == 0 and (run.layout.nx, run.layout.ny) == (6, 5)


def test_detail_measures_the_top_octave_of_spatial_frequencies(carphone):
    yy, xx = np.mgrid[0:64, 0:96]
    ramp = np.repeat(((xx + yy) * 1.5).astype(np.uint8)[..., None], 3, -1)  # smooth: bilinear rebuilds it
    noise = np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8)  # all detail
    flat = np.full((64, 96, 3), 77, np.uint8)
    assert detail_db([ramp]) > 45 and detail_db([noise]) < 15 and detail_db([flat]) == 99.0
    mixed = detail_db([ramp, noise])  # pooled over the frames' pixels, not a mean of dB
    assert abs(mixed - (detail_db([noise]) + 10 * np.log10(2))) < 0.05
    assert detail_db([]) is None and detail_db([noise[:1]]) is None  # nothing of 2x2 pixels: no measurement
    frames = read_video(str(carphone), 0, 20).frames
    assert 26.5 < detail_db(frames[detail_sample(list(range(20)))]) < 29.0  # the tuning clip: detailed
    assert detail_sample(list(range(0, 41, 2))) == [0, 6, 12, 18, 22, 28, 34, 40]
    assert detail_sample([0, 4, 8]) == [0, 4, 8]


def test_detailed_footage_gets_smaller_patches_and_the_same_pixels_a_step(carphone, tmp_path):
    assert DETAIL_DB == 32.0 and [auto_patch(176, 144, d) for d in (None, 40.0, 32.0, 27.6)] == [32, 32, 32, 24]
    assert auto_patch(320, 136, 36.9) == 24 and auto_patch(320, 136, 20.0) == 16 and auto_patch(90, 80, 5.0) == 16
    assert auto_batch(128, 35, 63) == 71 and auto_batch(128, 35, 35) == 128
    small = dict(frames=9, gop=9, batch=0)
    run, _ = new_run(cfg(carphone, patch=0, **small), tmp_path / "auto", pixels=False)
    assert run.patch == 24 and 26.5 < run.detail < 29.0
    # 63 patches of 24 sample as many pixels a step as 35 of 32 at 128 each: 35 * 128 / 63 = 71.1
    assert (run.layout.count, run.config.batch, run.config.overlap) == (63, 71, 4)
    run.save()
    back = Run.load(run.path)
    assert back.detail == run.detail and back.config.batch == 71 and back.patch == 24
    assert option_changes(back, {"batch": 0, "overlap": -1, "patch": 0}) == []  # auto matches what it resolved to
    assert option_changes(back, {"batch": 128}) == ["--batch 128 (run: 71)"]
    with_pixels, _ = new_run(cfg(carphone, patch=0, **small), tmp_path / "px")  # the same from the frames in memory
    assert with_pixels.detail == pytest.approx(run.detail, abs=1e-9) and with_pixels.config.batch == 71
    still, _ = new_run(cfg(carphone, patch=0, scene_cut=0.0, **small), tmp_path / "nc", pixels=False)
    assert still.detail == pytest.approx(run.detail, abs=1e-9)  # measured without the scene-cut pass too
    given, _ = new_run(cfg(carphone, patch=32, **small), tmp_path / "given", pixels=False)
    assert (given.patch, given.detail, given.config.batch) == (32, None, 128)  # a given patch: no measurement
    typed, _ = new_run(cfg(carphone, patch=0, frames=9, gop=9, batch=100), tmp_path / "typed", pixels=False)
    assert (typed.patch, typed.config.batch) == (24, 100)


def test_matmul_auto_picks_bf16_where_the_device_has_it_and_stores_it(carphone, tmp_path, monkeypatch):
    import actinr.train.fit as fit

    monkeypatch.setattr(fit, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert fit.native_bf16("cpu") and (torch.cuda.is_available() or fit.native_bf16("auto"))
    small = dict(frames=5, gop=5)
    run, _ = new_run(cfg(carphone, matmul="auto", **small), tmp_path / "bf16", pixels=False)
    assert run.config.matmul == "bf16"  # stored resolved
    run.save()
    back = Run.load(run.path)
    assert back.config.matmul == "bf16"
    assert option_changes(back, {"matmul": "auto"}) == []  # auto matches what it resolved to
    assert option_changes(back, {"matmul": "fp32"}) == ["--matmul fp32 (run: bf16)"]
    given, _ = new_run(cfg(carphone, matmul="fp32", **small), tmp_path / "given", pixels=False)
    assert given.config.matmul == "fp32"  # a given type is kept
    monkeypatch.setattr(fit, "cpu_flags", lambda: {"avx2", "fma"})  # no bf16 arithmetic: it would be emulated
    assert not fit.native_bf16("cpu")
    plain, _ = new_run(cfg(carphone, matmul="auto", **small), tmp_path / "plain", pixels=False)
    assert plain.config.matmul == "fp32"
    old = run.config.to_json()
    del old["matmul"]
    assert TrainConfig.from_json(old).matmul == "fp32"  # runs from before the option were trained in fp32
    with pytest.raises(ActinrError, match="--matmul must be one of auto, fp32, bf16"):
        cfg(carphone, matmul="fp16").validate()


def test_a_bf16_fit_trains_its_hidden_products_in_bf16_and_fits_as_well(carphone, tmp_path):
    """The training decoder of a bf16 run rounds the hidden layer's products (not the fp32 one's); a short fit
    reaches within a tenth of a dB of the same fit in fp32."""
    from actinr.engines.patch_mlp import decode
    from actinr.train.fit import _Decoder
    from actinr.train.model import GOPModel

    model = GOPModel(patches=2, hidden=8, seed=1, time_bias="first")
    coords, t = torch.rand(1, 3, 50, 2) * 2 - 1, torch.tensor([0.0, 0.5, 1.0])
    fp32 = model(coords, t, _Decoder(False, "fp32"))
    bf16 = model(coords, t, _Decoder(False, "bf16"))
    assert torch.equal(fp32, model(coords, t, decode)) and bf16.dtype == torch.float32
    diff = (bf16 - fp32).abs().max().item()
    assert 1e-5 < diff < 0.05, diff
    bf16.sum().backward()
    assert model.hid_re[0].grad.dtype == torch.float32 and model.hid_re[0].grad.abs().sum() > 0
    psnr = {}
    for matmul in ("fp32", "bf16"):
        run = train(cfg(carphone, frames=3, gop=3, iters=150, matmul=matmul), tmp_path / matmul, progress=False)
        assert run.config.matmul == matmul
        psnr[matmul] = run.results[0].psnr
    assert psnr["fp32"] > 22 and abs(psnr["bf16"] - psnr["fp32"]) < 0.1, psnr


# Measured in a fresh interpreter: glibc's allocation settings are process-wide, and in a long pytest process
# whatever ran before could leave the heap in another state (a run of the whole suite once measured 0 faults for
# glibc's defaults here, which a fresh process never has).
_HEAP_PROBE = """
import resource, sys, torch
from actinr.train.fit import _libc, reused_heap

def refaults(nbytes):  # page faults taken by a second buffer of nbytes written after a first one was freed
    torch.ones(nbytes // 4).sum()  # allocate, touch every page, free
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(nbytes // 4).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

if _libc() is None:
    print("no-glibc")
    sys.exit(0)
size = int(sys.argv[1])
refaults(size)
default = refaults(size)
with reused_heap() as on:
    # the first rounds may place the aligned buffers apart; then they settle, as a fit's do: the fewest of 6
    inside = min(refaults(size) for _ in range(6))
print(default, int(on), inside, refaults(size))
"""


def test_reused_heap_keeps_large_buffers_between_steps():
    size = 64 << 20  # above glibc's largest mmap threshold (32 MiB): a fresh mmap for each buffer by default
    pages = size // 4096
    out = subprocess.run([sys.executable, "-c", _HEAP_PROBE, str(size)], capture_output=True, text=True, check=True,
                         timeout=120).stdout.split()
    if out == ["no-glibc"]:
        pytest.skip("reused_heap changes nothing without glibc's mallopt (this is not Linux with glibc)")
    default, on, inside, after = (int(v) for v in out)
    assert default > pages // 2  # by default each buffer faults its pages in again
    assert on == 1 and inside < pages // 10  # inside, each buffer reuses the pages of the one before
    assert after > pages // 2  # and glibc's defaults are back after it


def test_learning_rate_ramps_up_then_decays():
    from actinr.train.fit import learning_rate

    cfg = TrainConfig(lr=0.01, lr_decay=0.1, lr_warmup=0.05, iters=1000)
    # the first 50 steps ramp from lr / 50 to the decayed lr, then the exponential decay alone
    assert learning_rate(cfg, 0) == pytest.approx(0.01 / 50 * 0.1 ** 0)
    assert learning_rate(cfg, 24) == pytest.approx(0.01 * 0.1 ** 0.024 * 25 / 50)
    assert learning_rate(cfg, 49) == pytest.approx(0.01 * 0.1 ** 0.049)
    assert learning_rate(cfg, 500) == pytest.approx(0.01 * 0.1 ** 0.5)
    assert learning_rate(cfg, 999) == pytest.approx(0.01 * 0.1 ** 0.999)
    ramp = [learning_rate(cfg, s) for s in range(50)]
    assert all(a < b for a, b in zip(ramp, ramp[1:]))
    flat = TrainConfig(lr=0.01, lr_decay=0.1, lr_warmup=0.0, iters=1000)
    assert learning_rate(flat, 0) == 0.01  # no warm-up: the runs before it, step for step
    with pytest.raises(ActinrError, match="--lr-warmup"):
        TrainConfig(lr_warmup=1.0).validate()
