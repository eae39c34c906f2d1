"""The ActINR model of one group of pictures (GOP).

Per patch, a WIRE-2D MLP (see :mod:`actinr.engines.patch_mlp`) whose weights
are shared by every frame of the GOP; every linear module's bias is a function
of the local time ``t`` in [0, 1], produced by that module's bias-INR.

Bias-INR (engines/bias_inr.py, its one forward pass and shape table):
``b(t, p) = base_p + MLP([cos 2 pi B t, sin 2 pi B t], z_p)`` with 40 frozen
Gaussian frequencies ``B``, a learned 10-value latent ``z_p`` per patch, GELU
hidden layers as wide as the target bias. ``base_p`` is a learned per-patch
offset (an affine skip from the patch identity): it starts at the usual
linear-layer bias initialisation, so the Gabor atoms start spread over the
patch instead of all centred at its origin, and the MLP only learns the
motion, which starts near zero.

With ``time_bias="first"`` (the default, chosen by the slow-motion
measurements in docs/measurements.md) only the first layer's bias-INR sees time: a
first-layer bias shifts its Gabor atoms, so the change between frames is
motion of the atoms; the hidden and output bias-INRs have their time weights
zeroed and frozen, so their biases are one value per patch for the whole GOP
(the bundle format is unchanged: their baked tables are constant).

A bundle stores a GOP's weights as :meth:`GOPModel.stored_weights` gives them
and :meth:`GOPModel.load_stored` takes them back (export and the renderer of
a bundle, train/render.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from actinr.engines import bias_inr
from actinr.engines.errors import ActinrError
from actinr.engines.patch_mlp import decode, realify_hidden


def _uniform(shape, bound: float, gen: torch.Generator) -> torch.Tensor:
    return (torch.rand(shape, generator=gen) * 2.0 - 1.0) * bound


class BiasINR(nn.Module):
    """Time -> per-patch bias of one linear module: ``(T,) -> (P, T, width)``."""

    def __init__(self, patches: int, width: int, base: torch.Tensor, gen: torch.Generator,
                 freqs: int = bias_inr.FREQS, freq_scale: float = 1.0, latent: int = bias_inr.LATENT):
        super().__init__()
        shape = bias_inr.param_shapes(patches, width, freqs, latent)
        self.register_buffer("freqs", torch.randn(shape["freqs"], generator=gen) * freq_scale)  # frozen
        self.latent = nn.Parameter(torch.randn(shape["latent"], generator=gen) * 0.1)  # (P, L)
        self.base = nn.Parameter(base.clone())  # (P, width)
        b = 1.0 / math.sqrt(2 * freqs + latent)  # the first layer's fan-in: [features(t), z_p]
        self.w_t = nn.Parameter(_uniform(shape["w_t"], b, gen))
        self.w_z = nn.Parameter(_uniform(shape["w_z"], b, gen))
        self.b_1 = nn.Parameter(_uniform(shape["b_1"], b, gen))
        b = 1.0 / math.sqrt(width)
        self.w_2 = nn.Parameter(_uniform(shape["w_2"], b, gen))
        self.b_2 = nn.Parameter(_uniform(shape["b_2"], b, gen))
        # Motion starts small: the last layer is scaled down so b(t) ~ base at first.
        self.w_3 = nn.Parameter(_uniform(shape["w_3"], 0.1 * b, gen))
        self.b_3 = nn.Parameter(torch.zeros(shape["b_3"]))
        self.band: float | None = None  # coarse-to-fine training: see set_band

    def params(self) -> dict[str, torch.Tensor]:
        """The parameters by their engines/bias_inr.py names."""
        return {k: getattr(self, k) for k in bias_inr.PARAMS}

    def set_band(self, band: float | None) -> None:
        """Let only time frequencies up to ``band`` cycles per GOP through (a smooth edge one cycle wide);
        ``None`` lets all through. A training schedule widens it; the exported model has it off."""
        self.band = band

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        p = self.params()
        if self.band is not None:
            keep = (self.band + 1.0 - self.freqs.abs()).clamp(0.0, 1.0)  # (B,)
            p["w_t"] = p["w_t"] * torch.cat([keep, keep])[:, None]  # rows: cos features, then sin features
        return bias_inr.forward(p, t)  # (P, T, W)


class GOPModel(nn.Module):
    """All patches of one GOP: ``forward(coords (P|1, F, N, 2), t (F,)) -> RGB (P, F, N, 3)``."""

    def __init__(self, patches: int, hidden: int = 32, layers: int = 1, w0: float = 5.0,
                 s0: float = 7.0, freq_scale: float = 1.0, seed: int = 0, time_bias: str = "all"):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.w0, self.s0, self.hidden, self.layers = float(w0), float(s0), hidden, layers
        h, p = hidden, patches
        # Layer 1: real (2 -> h) branches u | v, packed as (P, 2, 2h).
        # Initialisation bounds are the usual 1/sqrt(fan_in) of a linear layer (as in WIRE).
        self.w1 = nn.Parameter(_uniform((p, 2, 2 * h), 1 / math.sqrt(2), gen))
        widths = [2 * h] + [4 * h] * layers + [3]
        bases = [_uniform((p, 2 * h), 1 / math.sqrt(2), gen)]
        # Hidden complex (h -> h) branches u | v: real parts A and imaginary parts B, each (P, h, 2h).
        bound = 1 / math.sqrt(h)
        self.hid_re = nn.ParameterList([nn.Parameter(_uniform((p, h, 2 * h), bound, gen)) for _ in range(layers)])
        self.hid_im = nn.ParameterList([nn.Parameter(_uniform((p, h, 2 * h), bound, gen)) for _ in range(layers)])
        bases += [_uniform((p, 4 * h), bound, gen) for _ in range(layers)]
        # Output: the real part of a complex (h -> 3) map is a real (2h -> 3) map.
        self.wout = nn.Parameter(_uniform((p, 2 * h, 3), 1.0 / math.sqrt(2 * h), gen))
        bases.append(torch.full((p, 3), 0.5))
        self.bias_inrs = nn.ModuleList(
            BiasINR(p, w, base, gen, freq_scale=freq_scale) for w, base in zip(widths, bases)
        )
        self.time_bias = time_bias
        self.atom_scale: torch.Tensor | None = None  # training only: scales w0 and s0 (None: the model's own)
        if time_bias == "first":  # only the atoms move: the other modules' biases are constant in time
            for inr in self.bias_inrs[1:]:
                inr.w_t.data.zero_()
                inr.w_t.requires_grad_(False)
        elif time_bias != "all":
            raise ValueError(f"time_bias must be 'all' or 'first', got {time_bias!r}")

    def moving(self) -> list[int]:
        """The modules whose biases follow time."""
        return list(range(len(self.bias_inrs))) if self.time_bias == "all" else [0]

    @property
    def patches(self) -> int:
        return self.w1.shape[0]

    def weights(self) -> list[torch.Tensor]:
        """The realified weight matrices: ``[(P, 2, 2h), (P, 2h, 4h)..., (P, 2h, 3)]``."""
        out = [self.w1]
        out += [realify_hidden(a, b) for a, b in zip(self.hid_re, self.hid_im)]  # (P, 2h, 4h) each
        out.append(self.wout)
        return out

    def biases(self, t: torch.Tensor) -> list[torch.Tensor]:
        """Every module's bias at local times t (T,): ``[(P, T, width), ...]``."""
        return [inr(t) for inr in self.bias_inrs]

    def step_biases(self, t: torch.Tensor) -> list[torch.Tensor]:
        """:meth:`biases` as a training step needs them: the modules that do not follow time evaluated once,
        ``(P, 1, width)`` (broadcast over the frames by :func:`decode`), the moving ones ``(P, T, width)``.
        The values are the same: a constant module's time weights are zero."""
        moving = self.moving()
        return [inr(t if i in moving else t[:1]) for i, inr in enumerate(self.bias_inrs)]

    def forward(self, coords: torch.Tensor, t: torch.Tensor, decoder=decode) -> torch.Tensor:
        """``decoder`` may be a compiled :func:`decode` (the training loop passes one)."""
        w0, s0 = self.w0, self.s0
        if self.atom_scale is not None:  # coarse-to-fine training: wider, smoother atoms (tensors: no recompiles)
            w0, s0 = self.atom_scale * w0, self.atom_scale * s0
        return decoder(coords, self.weights(), self.step_biases(t), w0, s0)

    def stored_weights(self) -> list[np.ndarray]:
        """The weights as a bundle stores them: ``[(P, 2, 2h), (P, 2, h, 2h) per hidden layer, (P, 2h, 3)]``."""
        hidden = [torch.stack([a, b], 1) for a, b in zip(self.hid_re, self.hid_im)]  # (P, 2, h, 2h)
        return [w.detach().cpu().numpy() for w in (self.w1, *hidden, self.wout)]

    def load_stored(self, weights: list[np.ndarray], inrs: list[dict] | None = None, where: str = "a GOP") -> None:
        """Take weights as :meth:`stored_weights` gives them (fp16 is widened) and, if given, every module's
        bias-INR parameters; a shape that does not fit is an :class:`ActinrError` naming ``where``."""
        def tensor(a) -> torch.Tensor:
            return torch.from_numpy(np.array(a, dtype=np.float32))  # a copy (off a file map), in fp32

        state = {"w1": tensor(weights[0]), "wout": tensor(weights[-1])}
        for i, w in enumerate(weights[1:-1]):  # (P, 2, h, 2h): real and imaginary parts
            state[f"hid_re.{i}"], state[f"hid_im.{i}"] = tensor(w[:, 0]), tensor(w[:, 1])
        for i, params in enumerate(inrs or []):
            state.update({f"bias_inrs.{i}.{k}": tensor(v) for k, v in params.items()})
        try:
            self.load_state_dict(state, strict=inrs is not None)
        except RuntimeError as exc:
            raise ActinrError(f"{where} does not fit train/'s model ({str(exc).splitlines()[0]})") from None
