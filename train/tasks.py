"""What each task fits: which frames, which targets, which pixels count in the loss."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .config import GOP_SPAN_KEYS, TrainConfig
from .gop import gop_spans, still_boundaries
from .scenes import scenes


def fitted_frames(cfg: TrainConfig, count: int) -> list[int]:
    """Frames (relative to the clip start) the loss sees."""
    if cfg.task == "interp":
        return list(range(0, count, cfg.every))
    return list(range(count))


def gop_keys(cfg: TrainConfig) -> int:
    """Fitted frames a GOP holds: ``--gop``, or fewer where ``--every`` spreads them over more than ``--gop-span``
    source frames (``--task interp``): as many whole ``--every`` intervals as ``--gop-span`` holds, but at least
    ``GOP_SPAN_KEYS`` fitted frames (four intervals). Over a long span one GOP's weights and bias network fit its
    pictures less well (carphone k = 4: 36.0 dB over 40 frames), and the frames between them with them; with too
    few intervals its bias network has too little motion to learn time from (docs/measurements.md "Shorter GOPs
    where the fitted frames are far apart", "Three GOPs at k = 4")."""
    if cfg.task != "interp" or cfg.gop_span <= 0:
        return cfg.gop
    return min(cfg.gop, max(GOP_SPAN_KEYS, cfg.gop_span // cfg.every + 1))


def spans_for(cfg: TrainConfig, count: int, cuts: list[int] = (), diffs: list[float] | None = None
              ) -> list[tuple[int, int]]:
    """GOP spans in frames, laid out over the fitted frames (for interp, so GOPs meet on one), scene by
    scene: ``cuts`` are the intervals between fitted frames ``i`` and ``i + 1`` that cut to another scene
    (train/scenes.py), where a GOP ends and the next starts one fitted frame later. With ``diffs`` (the
    change between consecutive fitted frames, train/scenes.py) and ``--gop-shift``, each switch between
    two GOPs of a scene moves to the stillest fitted frame nearby (train/gop.py ``still_boundaries``)."""
    keys = fitted_frames(cfg, count)
    out = []
    for first, last in scenes(len(keys), list(cuts)):
        spans = gop_spans(last - first + 1, gop_keys(cfg))
        if diffs is not None:
            spans = still_boundaries(spans, diffs[first:last], cfg.gop_shift)
        out += [(keys[first + a], keys[first + b]) for a, b in spans]
    return out


def guide_split(cfg: TrainConfig) -> int:
    """Steps each fitted interval is cut into by the in-between targets (0: none)."""
    if cfg.guide == "off" or cfg.task == "inpaint" or cfg.guide_weight <= 0:
        return 0
    return cfg.guide_split or (cfg.every if cfg.task == "interp" else 2)


GUIDE_CONTEXT = 2  # fitted frames before a GOP's first that the in-between targets' motion search starts from


def guide_targets(cfg: TrainConfig, keys: np.ndarray, frames: list[int], context: np.ndarray | None = None,
                  motion: bool = False) -> tuple:
    """In-between targets of one GOP: ``keys`` (F, H, W, 3) uint8 are its fitted frames (numbers ``frames``,
    evenly spaced) as the loss sees them -> (G, H, W, 3) uint8 motion-compensated frames and their times in
    frames. The GOP's frames go to minterpolate after the lead frame (``motion_frames``), and, given
    ``context`` (C, H, W, 3), the up to ``GUIDE_CONTEXT`` fitted frames just before ``frames[0]`` (fit.py
    ``guide_context``), also after those; the targets are the mean of the two. The filter's scene-change
    test compares each pair's change with the one before, and its motion search starts from the previous
    pair's vectors, so what comes first changes its output: after the frames before, it is minterpolate of
    the whole run's fitted frames (on bikes exactly), which after bikes' scene cut is 0.9 dB closer at
    k = 4 and 0.3 dB further at k = 10 than after the lead; the mean is within 0.01 dB of the better one or
    above both (docs/measurements.md). ``--guide-flow S`` mixes that with the optical-flow frames
    (``flow_frames``, of the GOP's own fitted frames), S of the flow to 1 - S (1: the flow alone, minterpolate
    not run). Only these frames are read, so a GOP fitted alone (``--workers``) gets the same. ``motion``:
    a third item, the frames ``motion_trust`` measures the motion on at the same times (``--guide-motion-of``:
    the targets, or the minterpolate frames before the flow is mixed in).
    """
    split = guide_split(cfg)
    if split == 0 or len(frames) < 2:
        none = np.zeros((0, *keys.shape[1:]), np.uint8)
        return (none, [], none) if motion else (none, [])
    from .baselines import MCI2_OPTIONS, flow_frames, guide_runs, mean_frames

    # the run after the lead frame, its mean with the run after the frames before (mci2: two settings each);
    # --guide-flow: that mixed with the optical-flow frames
    out = mci = None
    if cfg.guide_flow < 1:
        out = mci = mean_frames(*guide_runs(keys, split, context, MCI2_OPTIONS if cfg.guide == "mci2" else None,
                                            cfg.guide_grids))
    if cfg.guide_flow > 0:
        flow = flow_frames(keys, split, cfg.guide_flow_accel, cfg.guide_flow_sample).astype(np.float32)
        mix = flow if mci is None else cfg.guide_flow * flow + (1 - cfg.guide_flow) * mci.astype(np.float32)
        out = np.clip(np.round(mix), 0, 255).astype(np.uint8)
    step = (frames[-1] - frames[0]) / (len(frames) - 1)
    inner = [i for i in range(out.shape[0]) if i % split]
    times = [frames[0] + i * step / split for i in inner]
    if not motion:
        return out[inner], times
    return out[inner], times, (mci if cfg.guide_motion_of == "mci" and mci is not None else out)[inner]


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


def _fade(keys: np.ndarray, frames: list[int], t: float) -> np.ndarray:
    """The cross-fade of the fitted frames ``keys`` (F, H, W, 3) uint8 (numbers ``frames``, evenly spaced) at
    time ``t`` -> (H, W, 3) float32: its two neighbouring fitted frames, weighted by nearness."""
    x = (t - frames[0]) / ((frames[-1] - frames[0]) / (len(frames) - 1))
    i = min(int(x), len(keys) - 2)
    return (1.0 - (x - i)) * keys[i].astype(np.float32) + (x - i) * keys[i + 1].astype(np.float32)


def fade_frames(keys: np.ndarray, frames: list[int], times: list[float]) -> np.ndarray:
    """The cross-fade of the fitted frames ``keys`` (numbers ``frames``) at ``times`` -> (G, H, W, 3) uint8."""
    out = np.empty((len(times), *keys.shape[1:]), np.uint8)
    for j, t in enumerate(times):
        out[j] = np.clip(np.round(_fade(keys, frames, t)), 0, 255)
    return out


def fade_departure(img: np.ndarray, keys: np.ndarray, frames: list[int], times: list[float]) -> np.ndarray:
    """Per pixel, how far the frames ``img`` (G, H, W, 3) at ``times`` depart from the cross-fade of the fitted
    frames ``keys`` (numbers ``frames``) there: the mean absolute difference over the colours in grey levels,
    summed over the frames -> (H, W) float64."""
    diff = np.zeros(keys.shape[1:3], np.float64)
    for target, t in zip(img, times):
        diff += np.abs(target.astype(np.float32) - _fade(keys, frames, t)).mean(-1)
    return diff


def fade_share(cfg: TrainConfig, keys: np.ndarray, frames: list[int], pixel: np.ndarray,
               weight: np.ndarray) -> np.ndarray | None:
    """Per-patch share in [0, 1] of the guide in the in-between targets, the rest the cross-fade
    (``--guide-fade DB``): the guide (``guide_targets``, the same teacher) run on every other fitted frame of
    ``keys`` predicts the frames between, as blending their neighbours does; a patch's gain of the guide
    over blending in dB (squared errors over its pixels, with a floor of one grey level) over ``DB``,
    clipped to [0, 1]. Where fitted frames are far apart around motion that no estimate follows, blending,
    which predicts the mean, beats every motion-compensated frame, and a model pulled towards those does
    worse than blending (cockatoo k = 10: docs/measurements.md "Validation footage from the package
    registries"). ``pixel`` (P, K) indexes a patch's pixels in the flattened frame, ``weight`` (P, K)
    their loss weights. None: off, or fewer than three fitted frames (nothing to leave out)."""
    if cfg.guide_fade <= 0 or len(keys) < 3:
        return None
    even, numbers = keys[::2], frames[::2]
    truth = keys[1::2][: len(even) - 1].astype(np.float64)
    guided, _ = guide_targets(dataclasses.replace(cfg, guide_split=2, guide_fade=0.0), even, numbers)
    blend = (even[:-1].astype(np.float64) + even[1:]) / 2.0
    floor = 3.0 * len(truth)  # a squared error of one grey level per colour and left-out frame
    n = weight.sum(1).clip(1.0, None)
    err = [(((x - truth) ** 2).sum((0, 3)).reshape(-1)[pixel] * weight).sum(1) / n
           for x in (guided.astype(np.float64), blend)]
    gain = 10.0 * np.log10((err[1] + floor) / (err[0] + floor))
    return np.clip(gain / cfg.guide_fade, 0.0, 1.0).astype(np.float32)


def motion_trust(cfg: TrainConfig, keys: np.ndarray, frames: list[int], img: np.ndarray, times: list[float],
                 pixel: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """Per-patch weight of the in-between targets by the motion they show (``--guide-motion L``): ``d``, the
    mean absolute difference in grey levels between the targets ``img`` (G, H, W, 3) at ``times`` and
    blending the fitted frames ``keys`` (numbers ``frames``) there, summed over each fitted interval's targets
    (``--guide-motion-span interval``, the default; ``target``: their mean), gives ``d / L - 1`` clipped to
    [0, ``--guide-motion-max``]: 0 up to L levels, 1 from 2 L (by default), or growing on with the motion
    up to that maximum. Where motion compensation changes little that a cross-fade would not
    (minterpolate's colour conversion alone departs by about half a level), the model's own interpolation
    decides; where it moves things, the model follows it (with a maximum above 1, the more so the more it
    moves them; carphone k = 2's 24-px patches depart by 0.5-2.1 levels a target, bikes k = 4's by 1.9-21).
    Summed over an interval, one in-between frame (k = 2, or half frames) weighs as before, and a longer gap
    is guided where it moves less: across one missing frame the model's own interpolation beats fitting
    minterpolate's where that is near a cross-fade, across three or nine it does not (docs/measurements.md).
    ``img`` is what ``guide_targets(..., motion=True)`` gives as its third item (``--guide-motion-of``): by
    default the guide's minterpolate frames, not the targets with the optical flow mixed in, whose resampling
    departs from a cross-fade in still textured places too (measured on carphone k = 2: three times the
    patches guided, 0.12 dB lost; docs/measurements.md "An optical-flow teacher").
    ``pixel`` (P, K) indexes a patch's pixels in the flattened frame, ``weight`` (P, K) their loss weights.
    None: every patch weighs 1."""
    if cfg.guide_motion <= 0 or not times:
        return None
    diff = fade_departure(img, keys, frames, times)
    moved = (diff.reshape(-1)[pixel] * weight).sum(1) / weight.sum(1).clip(1.0, None) / len(times)
    if cfg.guide_motion_span == "interval":  # summed over an interval's targets: the mean times their number
        moved *= len(times) / (len(keys) - 1)
    return np.clip(moved / cfg.guide_motion - 1.0, 0.0, cfg.guide_motion_max).astype(np.float32)


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
