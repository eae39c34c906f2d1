"""The bias-INR: local time -> the bias of one linear module for every patch.

One source of truth for its forward pass and its parameters, used by the
training model (train/model.py), the decoder's exact-bias path and the ONNX
bias graph (export/onnx_graph.py). Per GOP and biased module::

    b(t, p) = base_p + W_3 g(W_2 g(W_t phi(t) + W_z z_p + b_1) + b_2) + b_3
    phi(t)  = [cos 2 pi B t, sin 2 pi B t]          (B: frozen Gaussian frequencies)

with ``g`` the exact (erf) GELU, ``z_p`` a learned latent per patch and
``base_p`` a learned per-patch offset. ``t`` is the local time in [0, 1].

:func:`forward` is written once against a small set of array operations
(:class:`TorchOps` here; the ONNX graph builder implements the same names and
emits a node for each), so training, the decoder and the graph evaluate the
same expression in the same order. :func:`param_shapes` is the shape table
the model, the bundle manifest and the graph's inputs all take.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

FREQS = 40  # Gaussian time frequencies (the paper's)
LATENT = 10  # latent values per patch
# The parameters of one module's bias-INR, in the bias graph's input order.
PARAMS = ("freqs", "latent", "base", "w_t", "w_z", "b_1", "w_2", "b_2", "w_3", "b_3")


def param_shapes(patches: int, width: int, freqs: int = FREQS, latent: int = LATENT) -> dict[str, tuple[int, ...]]:
    """The shape of each parameter of a bias-INR whose output is ``(P, width)``."""
    return {"freqs": (freqs,), "latent": (patches, latent), "base": (patches, width), "w_t": (2 * freqs, width),
            "w_z": (latent, width), "b_1": (width,), "w_2": (width, width), "b_2": (width,),
            "w_3": (width, width), "b_3": (width,)}


class TorchOps:
    """The operations :func:`forward` is written in, on torch tensors."""

    matmul = staticmethod(torch.matmul)
    add = staticmethod(torch.add)
    mul = staticmethod(torch.mul)
    cos = staticmethod(torch.cos)
    sin = staticmethod(torch.sin)
    gelu = staticmethod(torch.nn.functional.gelu)  # exact (erf) GELU

    @staticmethod
    def concat(xs, axis: int):
        return torch.cat(xs, axis)

    @staticmethod
    def unsqueeze(x, axis: int):
        return x.unsqueeze(axis)


TORCH = TorchOps()


def forward(p: Mapping, t, ops=TORCH):
    """Local times ``t`` (T,) -> biases (P, T, W) from parameters ``p`` (named as :data:`PARAMS`)."""
    ang = ops.mul(ops.mul(ops.unsqueeze(t, 1), p["freqs"]), 2.0 * math.pi)  # (T, B)
    feats = ops.concat([ops.cos(ang), ops.sin(ang)], -1)  # (T, 2B)
    # The first layer on [phi(t), z_p] splits into a time part and a patch part.
    ht = ops.unsqueeze(ops.matmul(feats, p["w_t"]), 0)  # (1, T, W)
    hz = ops.unsqueeze(ops.matmul(p["latent"], p["w_z"]), 1)  # (P, 1, W)
    h = ops.gelu(ops.add(ops.add(ht, hz), p["b_1"]))  # (P, T, W)
    h = ops.gelu(ops.add(ops.matmul(h, p["w_2"]), p["b_2"]))
    return ops.add(ops.unsqueeze(p["base"], 1), ops.add(ops.matmul(h, p["w_3"]), p["b_3"]))  # (P, T, W)


@torch.inference_mode()
def bias_at(p: Mapping[str, torch.Tensor], t: float) -> np.ndarray:
    """One module's bias at local time ``t``: float32 ``(P, W)`` numpy (the decoder's exact-bias path)."""
    return forward(p, torch.tensor([float(t)], dtype=torch.float32))[:, 0].numpy()
