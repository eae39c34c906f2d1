"""How a GOP model moves in time: measurements of its bias trajectories, and the smoothness penalty.

ActINR's premise is that a first-layer bias shifts its Gabor atoms (layer 1 is
``u = W x + b``, so changing ``b`` by ``-W d`` moves the atom by ``d``): a
time-varying first-layer bias is motion. A hidden or output bias that changes
with time changes amplitudes instead, which between fitted times looks like a
cross-fade. :func:`temporal_energy` measures where a fitted model keeps its
temporal change, both in bias units per module and in what each group of
modules does to the picture; :func:`acceleration_penalty` is the training
term that keeps bias trajectories close to constant velocity between fitted
times (train/fit.py adds it to the loss).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from actinr.engines.patch_mlp import decode

GROUPS = ("first", "hidden", "output")


def module_groups(modules: int) -> list[str]:
    """The group of each biased module: ``first``, one ``hidden`` per hidden layer, ``output``."""
    return ["first"] + ["hidden"] * (modules - 2) + ["output"]


def second_difference(traj: Callable[[torch.Tensor], torch.Tensor], t: torch.Tensor, h: float,
                      scale: float = 1.0) -> torch.Tensor:
    """Central second difference of a trajectory ``traj(t) -> (P, T, W)`` at times ``t`` (T,) with step ``h``.

    ``scale`` converts the unit of time: the result is ``d^2 b / d s^2`` for ``s = t / scale``
    (train/fit.py measures time in fitted-frame intervals). Exact for quadratic trajectories.
    """
    both = traj(torch.cat([t - h, t, t + h]))  # one call for the three times
    a, b, c = both.chunk(3, dim=1)
    return (a - 2.0 * b + c) * (scale * scale / (h * h))


def first_difference(traj: Callable[[torch.Tensor], torch.Tensor], t: torch.Tensor, h: float,
                     scale: float = 1.0) -> torch.Tensor:
    """Central first difference ``d b / d s`` (``s = t / scale``) at times ``t``; exact for quadratics."""
    both = traj(torch.cat([t - h, t + h]))
    a, c = both.chunk(2, dim=1)
    return (c - a) * (scale / (2.0 * h))


def acceleration_penalty(traj: Callable[[torch.Tensor], torch.Tensor], t: torch.Tensor, h: float,
                         scale: float = 1.0) -> torch.Tensor:
    """Mean squared acceleration ``mean((d^2 b / d s^2)^2)`` of a trajectory at times ``t`` (a scalar)."""
    return second_difference(traj, t, h, scale).pow(2).mean()


def velocity_penalty(traj: Callable[[torch.Tensor], torch.Tensor], t: torch.Tensor, h: float,
                     scale: float = 1.0) -> torch.Tensor:
    """Mean squared velocity ``mean((d b / d s)^2)`` of a trajectory at times ``t`` (a scalar)."""
    return first_difference(traj, t, h, scale).pow(2).mean()


@torch.no_grad()
def temporal_energy(model, coords: torch.Tensor, samples: int = 33) -> dict:
    """Where a GOP model's temporal change lives.

    ``bias``: per module, the mean over patches and units of the variance of
    the bias over ``samples`` local times in [0, 1]. ``picture``: per group of
    modules (first, hidden, output), the mean squared temporal deviation of
    the output (0..1 RGB at ``coords`` (N, 2), every patch) when only that
    group's biases follow time and the others are held at their time-mean,
    and its share of the three (the shares need not add to 1: the groups
    interact). ``full`` is the same for the whole model.
    """
    t = torch.linspace(0.0, 1.0, samples, device=coords.device)
    biases = model.biases(t)  # [(P, T, W)]
    means = [b.mean(1, keepdim=True).expand_as(b) for b in biases]
    groups = module_groups(len(biases))
    weights = model.weights()
    pts = coords[None, None]  # (1, 1, N, 2)

    def picture_change(use) -> float:
        mixed = [b if use(g) else m for b, m, g in zip(biases, means, groups)]
        out = decode(pts, weights, mixed, model.w0, model.s0)  # (P, T, N, 3)
        return float((out - out.mean(1, keepdim=True)).pow(2).mean())

    picture = {g: picture_change(lambda x, g=g: x == g) for g in GROUPS}
    total = sum(picture.values())
    return {
        "bias": [{"module": i, "group": g, "variance": float(b.var(1, unbiased=False).mean())}
                 for i, (b, g) in enumerate(zip(biases, groups))],
        "picture": {g: {"change": v, "share": (v / total if total > 0 else 0.0)} for g, v in picture.items()},
        "full": picture_change(lambda g: True),
    }
