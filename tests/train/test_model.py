import math

import torch

from actinr.engines.patch_mlp import gabor_complex, gabor_first
from actinr.train.model import GOPModel

W0, S0 = 5.0, 10.0


def test_gabor_first_equals_complex_reference():
    g = torch.Generator().manual_seed(0)
    u, v = torch.randn(7, 4, generator=g) * 0.2, torch.randn(7, 4, generator=g) * 0.2
    ref = torch.exp(1j * W0 * u.to(torch.complex64)) * torch.exp(-(S0 ** 2) * (u ** 2 + v ** 2))
    out = gabor_first(torch.cat([u, v], -1), W0, S0)
    assert torch.allclose(out[:, :4], ref.real, atol=1e-6) and torch.allclose(out[:, 4:], ref.imag, atol=1e-6)


def test_gabor_complex_equals_complex_reference():
    g = torch.Generator().manual_seed(1)
    u = torch.complex(*(torch.randn(2, 5, 3, generator=g) * 0.1))
    v = torch.complex(*(torch.randn(2, 5, 3, generator=g) * 0.1))
    ref = torch.exp(1j * W0 * u - (S0 * u).abs() ** 2 - (S0 * v).abs() ** 2)
    out = gabor_complex(torch.cat([u.real, u.imag, v.real, v.imag], -1), W0, S0)
    assert torch.allclose(out[:, :3], ref.real, atol=1e-6) and torch.allclose(out[:, 3:], ref.imag, atol=1e-6)


def test_known_value():
    # u = 0.1, v = 0: exp(-100 * 0.01) * (cos 0.5, sin 0.5)
    out = gabor_first(torch.tensor([[0.1, 0.0]]), W0, S0)
    assert torch.allclose(out, torch.tensor([[math.exp(-1) * math.cos(0.5), math.exp(-1) * math.sin(0.5)]]))


def test_realified_block_matmul_equals_complex_matmul():
    m = GOPModel(patches=2, hidden=4, seed=3)
    w = m.weights()[1]  # (P, 2h, 4h)
    z = torch.complex(torch.randn(2, 6, 4), torch.randn(2, 6, 4))
    a, b = m.hid_re[0].detach(), m.hid_im[0].detach()
    wu, wv = torch.complex(a[..., :4], b[..., :4]), torch.complex(a[..., 4:], b[..., 4:])
    u, v = z @ wu, z @ wv
    out = torch.cat([z.real, z.imag], -1) @ w.detach()
    ref = torch.cat([u.real, u.imag, v.real, v.imag], -1)
    assert torch.allclose(out, ref, atol=1e-5)


def test_whole_model_equals_complex64_reference():
    torch.manual_seed(0)
    m = GOPModel(patches=3, hidden=4, w0=W0, s0=S0, seed=1)
    coords = torch.rand(3, 1, 9, 2) * 2 - 1
    t = torch.tensor([0.3])
    with torch.no_grad():
        out = m(coords, t)[:, 0]  # (P, N, 3)
        b1, b2, bo = (x[:, 0, None, :] for x in m.biases(t))
        x, h = coords[:, 0], 4
        u = x @ m.w1[..., :h] + b1[..., :h]
        v = x @ m.w1[..., h:] + b1[..., h:]
        z = torch.exp(1j * W0 * u.to(torch.complex64)) * torch.exp(-(S0 ** 2) * (u ** 2 + v ** 2))
        a, b = m.hid_re[0], m.hid_im[0]
        u2 = z @ torch.complex(a[..., :h], b[..., :h]) + torch.complex(b2[..., :h], b2[..., h:2 * h])
        v2 = z @ torch.complex(a[..., h:], b[..., h:]) + torch.complex(b2[..., 2 * h:3 * h], b2[..., 3 * h:])
        z2 = torch.exp(1j * W0 * u2 - (S0 * u2).abs() ** 2 - (S0 * v2).abs() ** 2)
        c = torch.complex(m.wout[:, :h], -m.wout[:, h:])  # Re(z c) = Re z Re c - Im z Im c
        ref = (z2 @ c).real + bo
    assert torch.allclose(out, ref, atol=1e-5)
    assert out.std() > 1e-3  # the comparison is not between two constants


def test_bias_inr_shapes_and_time_dependence():
    m = GOPModel(patches=5, hidden=8, layers=2, seed=0)
    b = m.biases(torch.tensor([0.0, 0.5, 1.0]))
    assert [tuple(x.shape) for x in b] == [(5, 3, 16), (5, 3, 32), (5, 3, 32), (5, 3, 3)]
    assert not torch.allclose(b[0][:, 0], b[0][:, 2])  # biases move with time
    assert not torch.allclose(b[0][0], b[0][1])  # and differ per patch


def test_same_seed_same_model():
    a, b = GOPModel(patches=2, hidden=4, seed=7), GOPModel(patches=2, hidden=4, seed=7)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_compiled_decoder_matches_eager():
    from actinr.train.fit import _Decoder

    m = GOPModel(patches=3, hidden=8, seed=2)
    coords = torch.rand(1, 2, 40, 2) * 2 - 1
    t = torch.tensor([0.0, 0.7])
    eager = m(coords, t)
    fast = m(coords, t, _Decoder(True))
    assert torch.allclose(eager, fast, atol=1e-5) and eager.std() > 1e-3


def test_compiled_decoder_keeps_compiling_past_dynamo_s_limit():
    """Each GOP length is one more shape: past dynamo's recompile limit a step must not fall back to eager."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    from actinr.train.fit import _Decoder

    m = GOPModel(patches=2, hidden=4, seed=3)
    config = torch._dynamo.config
    name = "recompile_limit" if hasattr(config, "recompile_limit") else "cache_size_limit"
    torch._dynamo.reset()
    counters.clear()
    decoder = _Decoder(True)
    with config.patch(**{name: 1}), torch.no_grad():  # a low limit stands in for the default 8
        for frames in (1, 2, 3):
            m(torch.rand(1, frames, 6, 2), torch.linspace(0, 1, frames), decoder)
        assert getattr(config, name) == 1  # the raised limit holds only inside a step
    assert counters["stats"]["unique_graphs"] == 3  # one graph a shape; 1 when the limit stops it
    torch._dynamo.reset()


def test_stored_weights_round_trip_and_refuse_other_shapes():
    import numpy as np
    import pytest

    from actinr.engines.errors import ActinrError
    from actinr.engines.patch_mlp import stored_shapes

    a, b = GOPModel(patches=3, hidden=4, layers=2, seed=1), GOPModel(patches=3, hidden=4, layers=2, seed=2)
    stored = a.stored_weights()
    assert [w.shape for w in stored] == stored_shapes(3, 4, 2)  # the bundle's shape table
    inrs = [{k: v.detach().numpy() for k, v in inr.params().items()} for inr in a.bias_inrs]
    b.load_stored([w.astype(np.float16) for w in stored], inrs)  # fp16 weights widen to fp32
    coords, t = torch.rand(3, 1, 11, 2) * 2 - 1, torch.tensor([0.4])
    with torch.no_grad():
        assert torch.allclose(a(coords, t), b(coords, t), atol=2e-3) and b.w1.dtype == torch.float32
        b.load_stored(stored, inrs)
        assert torch.equal(a(coords, t), b(coords, t))  # exactly the same model
        c = GOPModel(patches=3, hidden=4, layers=2, seed=3)
        c.load_stored(stored)  # weights only: the bias-INRs stay c's own
        assert torch.equal(c.w1, a.w1) and not torch.equal(c.bias_inrs[0].w_2, a.bias_inrs[0].w_2)
    with pytest.raises(ActinrError, match="GOP 7 does not fit train/'s model"):
        GOPModel(patches=3, hidden=8, layers=2).load_stored(stored, where="GOP 7")
