"""The ActINR model of one group of pictures (GOP).

Per patch, a WIRE-2D MLP (see :mod:`actinr.engines.patch_mlp`) whose weights
are shared by every frame of the GOP; every linear module's bias is a function
of the local time ``t`` in [0, 1], produced by that module's bias-INR.

Bias-INR: ``b(t, p) = base_p + MLP([cos 2 pi B t, sin 2 pi B t], z_p)`` with
40 frozen Gaussian frequencies ``B``, a learned 10-value latent ``z_p`` per
patch, GELU hidden layers as wide as the target bias. ``base_p`` is a learned
per-patch offset (an affine skip from the patch identity): it starts at the
usual linear-layer bias initialisation, so the Gabor atoms start spread over
the patch instead of all centred at its origin, and the MLP only learns the
motion, which starts near zero.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from actinr.engines.patch_mlp import decode, realify_hidden


def _uniform(shape, bound: float, gen: torch.Generator) -> torch.Tensor:
    return (torch.rand(shape, generator=gen) * 2.0 - 1.0) * bound


class BiasINR(nn.Module):
    """Time -> per-patch bias of one linear module: ``(T,) -> (P, T, width)``."""

    def __init__(self, patches: int, width: int, base: torch.Tensor, gen: torch.Generator,
                 freqs: int = 40, freq_scale: float = 1.0, latent: int = 10):
        super().__init__()
        self.register_buffer("freqs", torch.randn(freqs, generator=gen) * freq_scale)  # frozen
        self.latent = nn.Parameter(torch.randn(patches, latent, generator=gen) * 0.1)  # (P, L)
        self.base = nn.Parameter(base.clone())  # (P, width)
        fin = 2 * freqs + latent
        b = 1.0 / math.sqrt(fin)
        self.w_t = nn.Parameter(_uniform((2 * freqs, width), b, gen))
        self.w_z = nn.Parameter(_uniform((latent, width), b, gen))
        self.b_1 = nn.Parameter(_uniform((width,), b, gen))
        b = 1.0 / math.sqrt(width)
        self.w_2 = nn.Parameter(_uniform((width, width), b, gen))
        self.b_2 = nn.Parameter(_uniform((width,), b, gen))
        # Motion starts small: the last layer is scaled down so b(t) ~ base at first.
        self.w_3 = nn.Parameter(_uniform((width, width), 0.1 * b, gen))
        self.b_3 = nn.Parameter(torch.zeros(width))

    def features(self, t: torch.Tensor) -> torch.Tensor:
        ang = 2.0 * math.pi * t[:, None] * self.freqs[None, :]  # (T, B)
        return torch.cat([torch.cos(ang), torch.sin(ang)], dim=-1)  # (T, 2B)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        # The first layer on [features(t), z_p] splits into a time part and a patch part.
        h = (self.features(t) @ self.w_t)[None] + (self.latent @ self.w_z)[:, None] + self.b_1  # (P, T, W)
        h = nn.functional.gelu(h)
        h = nn.functional.gelu(h @ self.w_2 + self.b_2)
        return self.base[:, None, :] + h @ self.w_3 + self.b_3  # (P, T, W)


class GOPModel(nn.Module):
    """All patches of one GOP: ``forward(coords (P|1, F, N, 2), t (F,)) -> RGB (P, F, N, 3)``."""

    def __init__(self, patches: int, hidden: int = 32, layers: int = 1, w0: float = 5.0,
                 s0: float = 7.0, freq_scale: float = 1.0, seed: int = 0):
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

    def forward(self, coords: torch.Tensor, t: torch.Tensor, decoder=decode) -> torch.Tensor:
        """``decoder`` may be a compiled :func:`decode` (the training loop passes one)."""
        return decoder(coords, self.weights(), self.biases(t), self.w0, self.s0)
