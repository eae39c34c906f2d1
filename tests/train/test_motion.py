"""train/motion.py: the acceleration penalty and the split of temporal change between modules."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from actinr.engines.patch_mlp import decode
from actinr.train.config import TrainConfig
from actinr.train.model import GOPModel
from actinr.train.motion import acceleration_penalty, module_groups, second_difference, temporal_energy


def quadratic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor):
    """b(t) = a t^2 + b t + c per (patch, unit): a trajectory ``(T,) -> (P, T, W)``."""
    return lambda t: a[:, None] * t[None, :, None] ** 2 + b[:, None] * t[None, :, None] + c[:, None]


def test_second_difference_is_exact_on_a_quadratic_and_scales_the_time_unit():
    gen = torch.Generator().manual_seed(0)
    a, b, c = (torch.randn(3, 4, generator=gen, dtype=torch.float64) for _ in range(3))
    t = torch.tensor([0.2, 0.5, 0.7], dtype=torch.float64)
    acc = second_difference(quadratic(a, b, c), t, 0.05)
    assert acc.shape == (3, 3, 4)
    assert torch.allclose(acc, 2 * a[:, None].expand(3, 3, 4), atol=1e-9)
    # time in fitted intervals of 1/10: d^2 b / d s^2 = (1/10)^2 d^2 b / d t^2
    assert torch.allclose(second_difference(quadratic(a, b, c), t, 0.05, 0.1), 0.02 * a[:, None].expand(3, 3, 4),
                          atol=1e-9)


def test_acceleration_penalty_value():
    a = torch.tensor([[1.0, -2.0]], dtype=torch.float64)  # (P=1, W=2)
    zero = torch.zeros_like(a)
    t = torch.tensor([0.3, 0.6], dtype=torch.float64)
    # acceleration 2a = (2, -4): mean of squares (4 + 16) / 2 = 10
    assert float(acceleration_penalty(quadratic(a, zero, zero), t, 0.1)) == pytest.approx(10.0)
    # a straight line (constant velocity, the motion we want between fitted frames) costs nothing
    assert float(acceleration_penalty(quadratic(zero, a, zero + 3), t, 0.1)) == pytest.approx(0.0, abs=1e-12)


def moving_only(model: GOPModel, modules: set[int]) -> GOPModel:
    """Make only ``modules``' biases follow time (the others' time weights zeroed) with a visible motion."""
    with torch.no_grad():
        for i, inr in enumerate(model.bias_inrs):
            if i in modules:
                inr.w_3.mul_(10.0)  # the initial motion is deliberately small; make it count
            else:
                inr.w_t.zero_()
    return model


def coords(n: int = 12) -> torch.Tensor:
    x = torch.linspace(-1, 1, n)
    return torch.stack(torch.meshgrid(x, x, indexing="xy"), -1).reshape(-1, 2)


def test_temporal_energy_splits_a_first_layer_only_model():
    model = moving_only(GOPModel(patches=3, hidden=8, seed=1), {0})
    e = temporal_energy(model, coords())
    assert [b["group"] for b in e["bias"]] == ["first", "hidden", "output"]
    assert e["bias"][0]["variance"] > 1e-5
    assert e["bias"][1]["variance"] == pytest.approx(0.0, abs=1e-12)
    assert e["bias"][2]["variance"] == pytest.approx(0.0, abs=1e-12)
    assert e["picture"]["first"]["share"] == pytest.approx(1.0)
    assert e["picture"]["hidden"]["change"] == pytest.approx(0.0, abs=1e-12)
    assert e["full"] == pytest.approx(e["picture"]["first"]["change"], rel=1e-5)


def test_temporal_energy_of_an_output_bias_is_its_own_variance():
    model = moving_only(GOPModel(patches=2, hidden=8, seed=2), {2})
    e = temporal_energy(model, coords())
    assert e["picture"]["output"]["share"] == pytest.approx(1.0)
    assert e["picture"]["first"]["change"] == pytest.approx(0.0, abs=1e-12)
    # an output bias adds to every pixel: the picture's change is the bias's variance
    assert e["picture"]["output"]["change"] == pytest.approx(e["bias"][2]["variance"], rel=1e-4)


def test_module_groups():
    assert module_groups(4) == ["first", "hidden", "hidden", "output"]


def test_time_bias_first_holds_the_other_biases_constant():
    model = GOPModel(patches=2, hidden=4, layers=2, seed=3, time_bias="first")
    assert model.moving() == [0]
    t = torch.linspace(0, 1, 5)
    biases = model.biases(t)
    for b in biases[1:]:
        assert torch.equal(b, b[:, :1].expand_as(b))
    assert not torch.equal(biases[0], biases[0][:, :1].expand_as(biases[0]))
    assert [inr.w_t.requires_grad for inr in model.bias_inrs] == [True, False, False, False]
    with pytest.raises(ValueError, match="time_bias"):
        GOPModel(patches=1, time_bias="some")


@pytest.mark.parametrize("time_bias", ["first", "all"])
def test_a_step_evaluates_the_constant_biases_once(time_bias):
    """A training step evaluates the modules constant in time at one time, (P, 1, W): the same output as from
    every module's full (P, T, W) table, and the same gradients up to the order of the sums."""
    model = GOPModel(patches=3, hidden=4, layers=2, seed=5, time_bias=time_bias)
    with torch.no_grad():  # output biases other than their starting 0.5, different in every patch
        model.bias_inrs[-1].base.normal_()
    t = torch.tensor([0.0, 0.3, 0.55, 1.0])
    step = model.step_biases(t)
    widths = [b.shape[1:] for b in step]
    if time_bias == "first":
        assert widths == [(4, 8), (1, 16), (1, 16), (1, 3)]
    else:
        assert widths == [(4, 8), (4, 16), (4, 16), (4, 3)]
    coords = torch.rand(1, 4, 7, 2) * 2 - 1
    out = model(coords, t)
    out.square().sum().backward()
    grads = {k: v.grad.clone() for k, v in model.named_parameters() if v.grad is not None}
    model.zero_grad()
    full = decode(coords, model.weights(), model.biases(t), model.w0, model.s0)
    assert out.shape == (3, 4, 7, 3) and torch.equal(out, full)
    full.square().sum().backward()
    assert len(grads) == len([v for v in model.parameters() if v.requires_grad])
    for k, v in model.named_parameters():
        if v.grad is not None:
            torch.testing.assert_close(grads[k], v.grad, rtol=1e-5, atol=1e-6, msg=k)


def test_runs_written_before_the_motion_options_keep_their_behaviour():
    old = TrainConfig().to_json()
    del old["time_bias"], old["smooth"]
    cfg = TrainConfig.from_json(old)
    assert cfg.time_bias == "all" and cfg.smooth == 0.0
    # and those written before the in-between targets fit their frames alone
    old = TrainConfig().to_json()
    del old["guide"], old["guide_weight"], old["guide_split"], old["guide_share"]
    assert TrainConfig.from_json(old).guide == "off" and TrainConfig().guide == "mci2"


def test_motion_options_train_and_export(carphone, tmp_path):
    """Every motion option in one short fit: the loss stays finite, the warm-ups end switched off, and with
    ``time_bias=first`` the exported tables of the other modules hold one value over the whole GOP."""
    from actinr.engines.bundle import load
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.fit import train

    cfg = TrainConfig(source=str(carphone), frames=5, gop=5, iters=30, batch=32, hidden=8, patch=32, compile=False,
                      task="interp", every=2, time_bias="first", smooth=0.05, coarse_to_fine=0.5, atom_warmup=0.5,
                      atom_start=0.5)
    run = train(cfg, tmp_path / "run", progress=False)
    assert run.results[0].psnr > 10
    model = run.load_model(0)
    assert model.atom_scale is None and all(inr.band is None for inr in model.bias_inrs)
    assert run.config.time_bias == "first" and run.model_args()["time_bias"] == "first"
    export_run(run.path, tmp_path / "m.engine", ExportConfig())
    with load(tmp_path / "m.engine") as bundle:
        tables = bundle.gop_bias_tables(0)  # [(K, P, width)]
        first, *rest = (np.asarray(t) for t in tables)
    assert first.shape[0] > 2 and np.ptp(first, axis=0).max() > 1e-4  # the atoms move
    for t in rest:
        assert np.ptp(t, axis=0).max() == 0.0  # amplitudes stay


def test_bad_motion_options_are_one_line_errors():
    from actinr.engines.errors import ActinrError

    for field, value, message in (("smooth", -1.0, "--smooth must be >= 0"),
                                  ("atom_warmup", 1.0, "--atom-warmup must be in [0, 1)"),
                                  ("atom_start", 0.0, "--atom-start must be in (0, 1]"),
                                  ("time_bias", "x", "--time-bias must be one of all, first"),
                                  ("smooth_order", 3, "--smooth-order must be 1 or 2"),
                                  ("guide", "flow", "--guide must be one of mci, mci2, off"),
                                  ("guide_weight", -0.5, "--guide-weight must be >= 0"),
                                  ("guide_split", 1, "--guide-split must be 0 (auto) or >= 2"),
                                  ("guide_share", 0.0, "--guide-share must be in (0, 1]")):
        with pytest.raises(ActinrError, match=re.escape(message)):
            TrainConfig(**{field: value}).validate()
