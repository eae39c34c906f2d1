"""The decoder math: a batch of per-patch WIRE-2D MLPs, realified.

One source of truth for the forward pass, used by the training model, the ONNX
export and the PyTorch backends. Complex values are carried as real pairs
(real parts first, then imaginary parts), so there is no complex dtype.

Layer 1 (real, 2 -> h, two branches u, v) and the Gabor activation
``psi = exp(j w0 u) exp(-s0^2 (u^2 + v^2))``; each hidden layer is a complex
linear map with two branches, realified into one (2h -> 4h) matmul producing
``[Re u, Im u, Re v, Im v]``, with ``psi = exp(j w0 u - |s0 u|^2 - |s0 v|^2)``;
the output layer keeps only the real part of a complex (h -> 3) map, which is
a real (2h -> 3) matmul.

The shape table (:func:`layer_shapes`, :func:`stored_shapes`) lives here too:
the bundle manifest, the ONNX graph and every backend take their shapes from it.
"""

from __future__ import annotations

import numpy as np
import torch

# Envelope exponents are clamped at -30: exp(-30) ~ 1e-13 is nothing in a
# picture, while unclamped exponents reach float32 denormals (below exp(-87))
# in the forward pass and, multiplied by small gradients, in the backward pass;
# x86 CPUs process denormals 10-100x slower.
MIN_EXPONENT = -30.0


def layer_shapes(hidden: int, layers: int) -> list[tuple[int, int]]:
    """(in, out) of each realified matmul: ``[(2, 2h), (2h, 4h) per hidden layer, (2h, 3)]``.

    ``out`` is also the width of that module's bias.
    """
    return [(2, 2 * hidden)] + [(2 * hidden, 4 * hidden)] * layers + [(2 * hidden, 3)]


def stored_shapes(patches: int, hidden: int, layers: int) -> list[tuple[int, ...]]:
    """How a GOP's weights are stored: ``[(P, 2, 2h), (P, 2, h, 2h) per hidden layer, (P, 2h, 3)]``.

    A hidden layer is kept as the real and imaginary parts of its complex
    weights ``[W_u | W_v]`` (half the size of the realified block matrix;
    :func:`realify_hidden` rebuilds that).
    """
    h = hidden
    return [(patches, 2, 2 * h)] + [(patches, 2, h, 2 * h)] * layers + [(patches, 2 * h, 3)]


def gabor_first(x: torch.Tensor, w0: float, s0: float) -> torch.Tensor:
    """(..., 2h) real ``[u, v]`` -> (..., 2h) ``[Re psi, Im psi]``."""
    u, v = x.chunk(2, dim=-1)
    env = torch.exp((-(s0 * s0) * (u * u + v * v)).clamp_min(MIN_EXPONENT))
    return torch.cat([env * torch.cos(w0 * u), env * torch.sin(w0 * u)], dim=-1)


def gabor_complex(x: torch.Tensor, w0: float, s0: float) -> torch.Tensor:
    """(..., 4h) ``[Re u, Im u, Re v, Im v]`` -> (..., 2h) ``[Re psi, Im psi]``.

    ``exp(j w0 u) = exp(-w0 Im u) (cos w0 Re u + j sin w0 Re u)``; the Gaussian
    term bounds the growth of ``exp(-w0 Im u)`` (its maximum is w0^2 / 4 s0^2).
    """
    ur, ui, vr, vi = x.chunk(4, dim=-1)
    env = torch.exp((-w0 * ui - (s0 * s0) * (ur * ur + ui * ui + vr * vr + vi * vi)).clamp_min(MIN_EXPONENT))
    return torch.cat([env * torch.cos(w0 * ur), env * torch.sin(w0 * ur)], dim=-1)


def realify_hidden(re, im):
    """A complex hidden layer's two branches -> its realified (P, 2h, 4h) matmul weight.

    ``re``/``im`` (P, h, 2h): real and imaginary parts of ``[W_u | W_v]``. Row
    block 1 multiplies ``Re z``, row block 2 ``Im z``; columns are
    ``[Re u, Im u, Re v, Im v]``. Works on torch tensors and numpy arrays.
    """
    cat = np.concatenate if isinstance(re, np.ndarray) else torch.cat
    h = re.shape[-2]
    au, av, bu, bv = re[..., :h], re[..., h:], im[..., :h], im[..., h:]
    top = cat([au, bu, av, bv], -1)  # rows that multiply Re z
    bottom = cat([-bu, au, -bv, av], -1)  # rows that multiply Im z
    return cat([top, bottom], -2)  # (P, 2h, 4h)


def decode(
    coords: torch.Tensor,
    weights: list[torch.Tensor],
    biases: list[torch.Tensor],
    w0: float,
    s0: float,
    hidden_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Evaluate every patch's MLP at its sample points for F frame times.

    coords (P, F, N, 2) or (P, 1, N, 2) local coordinates; weights
    ``[(P, 2, 2h), (P, 2h, 4h) per hidden layer, (P, 2h, 3)]``; biases the same
    modules' ``(P, F, width)`` (the first module's sets F; a later one constant in time may be
    ``(P, 1, width)``). Returns RGB (P, F, N, 3).

    ``hidden_dtype`` (``torch.bfloat16``, training only): the hidden layers' matrix products in that type
    (inputs rounded to it, the product accumulated in fp32 by the library and rounded to it, then widened
    back); the first and output layers, the biases and the Gabor activations stay fp32.
    """
    p, f = biases[0].shape[:2]
    n = coords.shape[2]
    x = coords.expand(p, f, n, 2).reshape(p, f * n, 2)
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases)):
        if hidden_dtype is not None and 0 < i < last:
            y = torch.bmm(x.to(hidden_dtype), w.to(hidden_dtype)).float()
        else:
            y = torch.bmm(x, w)
        x = y.view(p, f, n, -1) + b.unsqueeze(2)  # (P, F, N, width)
        if i == 0:
            x = gabor_first(x, w0, s0)
        elif i < last:
            x = gabor_complex(x, w0, s0)
        if i < last:
            x = x.view(p, f * n, -1)  # (P, F*N, 2h)
    return x
