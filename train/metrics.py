"""Image quality metrics on float images in [0, 1], shaped (..., H, W, 3)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# Wang et al. (2003) weights for the five MS-SSIM scales.
MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW, SIGMA = 11, 1.5
C1, C2 = 0.01 ** 2, 0.03 ** 2


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB (peak 1.0); ``inf`` for identical images."""
    mse = float(torch.mean((a.double() - b.double()) ** 2))
    return float("inf") if mse == 0 else -10.0 * math.log10(mse)


def _window(device) -> torch.Tensor:
    x = torch.arange(WINDOW, dtype=torch.float64, device=device) - (WINDOW - 1) / 2
    g = torch.exp(-(x ** 2) / (2 * SIGMA ** 2))
    return g / g.sum()


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter, 'valid' borders; x (N, C, H, W)."""
    c = x.shape[1]
    x = F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _ssim_terms(x: torch.Tensor, y: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image mean SSIM and mean contrast-structure term, each (N,)."""
    mx, my = _blur(x, g), _blur(y, g)
    vx = _blur(x * x, g) - mx * mx
    vy = _blur(y * y, g) - my * my
    cxy = _blur(x * y, g) - mx * my
    cs = (2 * cxy + C2) / (vx + vy + C2)
    lum = (2 * mx * my + C1) / (mx * mx + my * my + C1)
    return (lum * cs).mean(dim=(1, 2, 3)), cs.mean(dim=(1, 2, 3))


def _nchw(img: torch.Tensor) -> torch.Tensor:
    if img.shape[-1] != 3 or img.dim() not in (3, 4):
        raise ValueError(f"expected (H, W, 3) or (N, H, W, 3) images, got {tuple(img.shape)}")
    img = img if img.dim() == 4 else img[None]
    return img.permute(0, 3, 1, 2).double()


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean SSIM over the RGB channels (11-tap Gaussian window, sigma 1.5)."""
    x, y = _nchw(a), _nchw(b)
    if min(x.shape[-2:]) < WINDOW:
        raise ValueError(f"SSIM needs images of at least {WINDOW}x{WINDOW} pixels, got {tuple(a.shape)}")
    return float(_ssim_terms(x, y, _window(x.device))[0].mean())


def ms_ssim_possible(height: int, width: int) -> bool:
    """MS-SSIM's coarsest of five scales must still hold one window."""
    return min(height, width) >= WINDOW * 2 ** (len(MS_WEIGHTS) - 1)


def ms_ssim(a: torch.Tensor, b: torch.Tensor) -> float | None:
    """Five-scale MS-SSIM, or None if the image is too small for it."""
    x, y = _nchw(a), _nchw(b)
    if not ms_ssim_possible(*x.shape[-2:]):
        return None
    g = _window(x.device)
    value = torch.ones(x.shape[0], dtype=torch.float64, device=x.device)
    for i, w in enumerate(MS_WEIGHTS):
        s, cs = _ssim_terms(x, y, g)
        if i == len(MS_WEIGHTS) - 1:
            value = value * s.clamp_min(0) ** w
        else:
            value = value * cs.clamp_min(0) ** w
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return float(value.mean())
