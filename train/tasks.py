"""What each task fits: which frames, which targets, which pixels count in the loss."""

from __future__ import annotations

import numpy as np
import torch

from .config import TrainConfig
from .gop import gop_spans


def fitted_frames(cfg: TrainConfig, count: int) -> list[int]:
    """Frames (relative to the clip start) the loss sees."""
    if cfg.task == "interp":
        return list(range(0, count, cfg.every))
    return list(range(count))


def spans_for(cfg: TrainConfig, count: int) -> list[tuple[int, int]]:
    """GOP spans in frames; for interp they are laid out over the fitted frames, so GOPs meet on one."""
    if cfg.task == "interp":
        keys = fitted_frames(cfg, count)
        return [(keys[a], keys[b]) for a, b in gop_spans(len(keys), cfg.gop)]
    return gop_spans(count, cfg.gop)


def guide_split(cfg: TrainConfig) -> int:
    """Steps each fitted interval is cut into by the in-between targets (0: none)."""
    if cfg.guide == "off" or cfg.task == "inpaint" or cfg.guide_weight <= 0:
        return 0
    return cfg.guide_split or (cfg.every if cfg.task == "interp" else 2)


def guide_targets(cfg: TrainConfig, keys: np.ndarray, frames: list[int]) -> tuple[np.ndarray, list[float]]:
    """In-between targets of one GOP: ``keys`` (F, H, W, 3) uint8 are its fitted frames (numbers ``frames``,
    evenly spaced) as the loss sees them -> (G, H, W, 3) uint8 motion-compensated frames and their times in
    frames. Only the GOP's own fitted frames are used, so a GOP fitted alone (``--workers``) gets the same."""
    split = guide_split(cfg)
    if split == 0 or len(frames) < 2:
        return np.zeros((0, *keys.shape[1:]), np.uint8), []
    from .baselines import MCI2_OPTIONS, mixed_motion_frames, motion_frames

    if cfg.guide == "mci2":  # the weighted mean of two settings
        out = mixed_motion_frames(keys, split, MCI2_OPTIONS, lead=True)
    else:
        out = motion_frames(keys, split, lead=True)
    step = (frames[-1] - frames[0]) / (len(frames) - 1)
    inner = [i for i in range(out.shape[0]) if i % split]
    return out[inner], [frames[0] + i * step / split for i in inner]


def guide_check(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Leave-one-out check of the in-between targets on a GOP's fitted frames ``keys`` (F, H, W, 3) uint8:
    minterpolate of every other fitted frame predicts the ones between, as blending does -> their squared
    errors (H, W) float64 summed over those frames and the colours: (minterpolate, blending). None for
    fewer than three frames (nothing to leave out)."""
    if len(keys) < 3:
        return None
    from .baselines import motion_frames

    even = keys[::2]
    truth = keys[1::2][: len(even) - 1].astype(np.float64)
    mci = motion_frames(even, 2, lead=True)[1::2].astype(np.float64)
    blend = (even[:-1].astype(np.float64) + even[1:]) / 2.0
    return ((mci - truth) ** 2).sum((0, 3)), ((blend - truth) ** 2).sum((0, 3))


def guide_trust(cfg: TrainConfig, keys: np.ndarray, pixel: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """Per-patch weight in [0, 1] of the in-between targets (``--guide-gate``): ``pixel`` (P, K) indexes a
    patch's pixels in the flattened frame, ``weight`` (P, K) their loss weights. None: every patch weighs 1."""
    if cfg.guide_gate <= 0:
        return None
    check = guide_check(keys)
    if check is None:
        return None
    floor = 3.0 * (len(keys[::2]) - 1)  # a squared error of one grey level per colour and left-out frame
    mci, blend = ((e.reshape(-1)[pixel] * weight).sum(1) for e in check)
    n = weight.sum(1).clip(1.0, None)
    gain = 10.0 * np.log10((blend / n + floor) / (mci / n + floor))
    return np.clip(gain / cfg.guide_gate, 0.0, 1.0).astype(np.float32)


def inpaint_mask(cfg: TrainConfig, width: int, height: int) -> np.ndarray:
    """(H, W) bool, True where the pixel is hidden from the loss."""
    mask = np.zeros((height, width), bool)
    if cfg.mask == "center":
        mask[height // 4: height - height // 4, width // 4: width - width // 4] = True
    else:  # 12 boxes of 1/8 the frame size at seeded random places
        rng = np.random.default_rng(cfg.seed)
        bw, bh = max(1, width // 8), max(1, height // 8)
        for _ in range(12):
            x, y = rng.integers(0, width - bw + 1), rng.integers(0, height - bh + 1)
            mask[y:y + bh, x:x + bw] = True
    return mask


def training_targets(cfg: TrainConfig, frames: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(F, H, W, 3) uint8 -> uint8 targets (F, H*W, 3) and loss weights (H*W,).

    Targets stay uint8 (a long HD clip would not fit in memory as floats); the
    denoise task's noisy frames are quantised like a real noisy recording.
    """
    f, h, w, _ = frames.shape
    target = torch.from_numpy(np.ascontiguousarray(frames)).reshape(f, h * w, 3)
    if cfg.task == "denoise":
        gen = torch.Generator().manual_seed(cfg.seed + 7919)
        noisy = target.float() + (255.0 * cfg.noise) * torch.randn(target.shape, generator=gen)
        target = noisy.round_().clamp_(0, 255).to(torch.uint8)
    weight = torch.ones(h * w)
    if cfg.task == "inpaint":
        weight = torch.from_numpy(~inpaint_mask(cfg, w, h)).float().reshape(-1)
    return target, weight
