"""engines/bias_inr.py: the one bias-INR forward, its shape table, and the same forward as ONNX nodes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from actinr.engines import bias_inr
from actinr.engines.manifest import InrSize, Model


def params(patches: int, width: int, freqs: int = 3, latent: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(shape, generator=gen) * 0.5
            for k, shape in bias_inr.param_shapes(patches, width, freqs, latent).items()}


def by_hand(p: dict[str, np.ndarray], t: float, patch: int) -> np.ndarray:
    """The formula in the module docstring, for one patch and one time, in float64 with math.erf."""
    def gelu(x):
        return np.array([0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x])

    phi = np.concatenate([np.cos(2 * math.pi * p["freqs"] * t), np.sin(2 * math.pi * p["freqs"] * t)])
    h = gelu(p["w_t"].T @ phi + p["w_z"].T @ p["latent"][patch] + p["b_1"])
    h = gelu(p["w_2"].T @ h + p["b_2"])
    return p["base"][patch] + p["w_3"].T @ h + p["b_3"]


def test_forward_is_the_documented_formula():
    p = params(patches=4, width=5)
    t = torch.tensor([0.0, 0.3, 1.0])
    out = bias_inr.forward(p, t)
    assert out.shape == (4, 3, 5) and out.dtype == torch.float32
    p64 = {k: v.double().numpy() for k, v in p.items()}
    for patch in range(4):
        for j, tt in enumerate(t.tolist()):
            np.testing.assert_allclose(out[patch, j].numpy(), by_hand(p64, tt, patch), rtol=0, atol=1e-5)
    assert not torch.allclose(out[:, 0], out[:, 1])  # it moves with time
    np.testing.assert_array_equal(bias_inr.bias_at(p, 0.3), out[:, 1].numpy())


def test_the_training_model_takes_the_shape_table():
    from actinr.train.model import GOPModel

    m = GOPModel(patches=6, hidden=4, layers=2, seed=0)
    for inr, width in zip(m.bias_inrs, Model(4, 2, 5.0, 7.0, -30.0).widths):
        table = bias_inr.param_shapes(6, width)
        assert {k: tuple(v.shape) for k, v in inr.params().items()} == table
        assert list(table) == list(bias_inr.PARAMS)
        with torch.no_grad():
            assert torch.equal(inr(torch.tensor([0.2, 0.9])), bias_inr.forward(inr.params(), torch.tensor([0.2, 0.9])))


def test_the_onnx_graph_is_the_same_forward():
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is a dev dependency")
    from actinr.export.onnx_graph import bias_graph

    model = Model(hidden=3, layers=1, w0=5.0, s0=7.0, min_exponent=-30.0)
    inr = InrSize(freqs=4, latent=2)
    graph = bias_graph(5, model, inr)
    shapes = model.inr_shapes(5, inr)
    inputs = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in graph.graph.input}
    for i, table in enumerate(shapes):  # the graph's inputs are declared from the same table
        for k in bias_inr.PARAMS:
            assert inputs[f"inr_{i}.{k}"] == list(table[k])
    ps = [params(5, w, 4, 2, seed=i) for i, w in enumerate(model.widths)]
    t = np.array([0.0, 0.25, 0.8], np.float32)
    feed = {"t": t, **{f"inr_{i}.{k}": v.numpy() for i, p in enumerate(ps) for k, v in p.items()}}
    got = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feed)
    for out, p in zip(got, ps):
        want = bias_inr.forward(p, torch.from_numpy(t)).numpy()
        assert out.shape == want.shape == (5, 3, want.shape[-1])
        assert np.abs(out - want).max() <= 1e-5
