import math

import pytest
import torch

from actinr.train import metrics


def test_psnr_known_value():
    a = torch.zeros(4, 4, 3)
    assert metrics.psnr(a, a + 0.1) == pytest.approx(20.0)
    assert metrics.psnr(a, a) == math.inf


def test_ssim_of_constant_images_is_the_luminance_term():
    a, b = torch.full((16, 16, 3), 0.2), torch.full((16, 16, 3), 0.6)
    expected = (2 * 0.2 * 0.6 + metrics.C1) / (0.2 ** 2 + 0.6 ** 2 + metrics.C1)
    assert metrics.ssim(a, b) == pytest.approx(expected, rel=1e-6)


def test_ssim_identical_and_degraded():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 32, 3, generator=g)
    assert metrics.ssim(x, x) == pytest.approx(1.0)
    noisy = (x + 0.2 * torch.randn(32, 32, 3, generator=g)).clamp(0, 1)
    assert 0.0 < metrics.ssim(x, noisy) < 0.9


def test_ms_ssim():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(176, 180, 3, generator=g)
    assert metrics.ms_ssim(x, x) == pytest.approx(1.0)
    assert metrics.ms_ssim(x, (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(0, 1)) < 0.99
    assert metrics.ms_ssim(x[:144], x[:144]) is None  # too small for five scales


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        metrics.ssim(torch.zeros(16, 16), torch.zeros(16, 16))
