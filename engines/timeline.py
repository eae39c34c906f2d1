"""Source time -> (GOP, local time): the one rule that training, export and every decoder share.

GOP g covers frames ``first .. last`` (inclusive; neighbours share one frame).
A frame position exactly on a shared frame is rendered by the GOP that starts
there (the later one); positions before the first or after the last frame
clamp. Inside a GOP the bias-INR takes the local time ``(f - first) / (last - first)``
in [0, 1]. Times in seconds become frame positions with :func:`frame_position`.

Scene cuts: where a GOP starts after the frame the GOP before it ends (a gap
``last < f < first``: the clip cuts to another scene somewhere between two
fitted frames, train/scenes.py), no GOP is fitted across the gap. Each scene
holds its picture, the earlier up to and including the middle of the gap and
the later after it -- a hard cut, as the source has, never a cross-dissolve
of two unrelated pictures -- and no switch blend is made there.

GOP switches are blended: both GOPs were fitted to the shared frame, but each
only up to its fitting error, so switching from one to the other in a single
step shows a jump (a shimmer once per GOP in slow motion). Within
:data:`SWITCH_BLEND` / 2 frames of a shared frame a decoder renders both
GOPs at the frame position itself -- each GOP continued past its end by up to
a frame, where it was fitted too (``--gop-margin``, train/fit.py; its baked
tables are continued, engines/bias.py), so both keep moving -- and mixes the
two pictures, the weight of the later GOP rising linearly from 0 to 1 across
the window (:func:`switch_mix`, warp ``through``; a window is never wider than
either GOP it joins). A bundle names its window (engines/manifest.py
``switch``): bundles fitted without the margin hold each GOP at its end,
within half a frame (:data:`LEGACY_SWITCH`). Every decoder and ``actinr eval``
follow this rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SWITCH_BLEND = 2.0  # frames: the width of the window, centred on a shared frame, in which two GOPs are mixed
SWITCH_WARP = "through"  # at which times the two GOPs are rendered inside it (switch_mix)
WARPS = ("hold", "ease", "through")
# the window of runs and bundles fitted without --gop-margin (before 2026-12-05): each GOP held at its end,
# since past it a GOP was never fitted
LEGACY_SWITCH = (1.0, "hold")


def switch_window(margin: int) -> tuple[float, str]:
    """The switch window ``(width, warp)`` for GOPs fitted ``margin`` fitted frames past their shared ends."""
    return (SWITCH_BLEND, SWITCH_WARP) if margin > 0 else LEGACY_SWITCH


@dataclass(frozen=True)
class Mix:
    """A frame position in a switch window: ``(1 - weight) * GOP before + weight * GOP after``."""

    before: int  # GOP index (the earlier one)
    t_before: float  # its local time (past 1 in the window's later half, warp 'through')
    t_after: float  # the later GOP's local time (below 0 in the window's earlier half, warp 'through')
    weight: float  # of the later GOP, in (0, 1)

    @property
    def after(self) -> int:
        return self.before + 1


def is_cut(spans: list[tuple[int, int]], g: int) -> bool:
    """True if GOP ``g`` starts a new scene: it begins after the frame GOP ``g - 1`` ends on."""
    return 0 < g < len(spans) and spans[g][0] > spans[g - 1][1]


def gop_for_frame(spans: list[tuple[int, int]], f: float) -> int:
    """Index of the GOP that renders continuous frame position ``f``."""
    for g, (_, last) in enumerate(spans):
        if f < last:
            return g
        if is_cut(spans, g + 1) and f <= (last + spans[g + 1][0]) / 2.0:
            return g  # in a scene cut's gap: the earlier scene holds up to the middle
    return len(spans) - 1


def local_time(span: tuple[int, int], f: float, clamp: bool = True) -> float:
    """Frame position ``f`` -> local time in [0, 1] of the GOP ``span`` (clamped; unclamped for a switch
    window's 'through' warp, which renders a GOP past its ends)."""
    first, last = span
    if last == first:
        return 0.0
    t = (f - first) / (last - first)
    return min(max(t, 0.0), 1.0) if clamp else t


def frame_position(t: float, fps: float, frames: int) -> float:
    """Seconds from the first frame -> continuous frame position, clamped to frames ``0 .. frames - 1``."""
    return min(max(float(t) * fps, 0.0), float(frames - 1))


def switch_mix(spans: list[tuple[int, int]], f: float, width: float = SWITCH_BLEND,
               warp: str = SWITCH_WARP) -> Mix | None:
    """The two GOPs to mix at frame position ``f``, or None away from a GOP switch (one GOP renders it).

    ``warp`` says at which times the two GOPs are rendered, ``w`` being the later GOP's weight and ``h``
    half the window: ``hold`` renders the earlier at ``min(f, shared)`` and the later at ``max(f, shared)``;
    ``ease`` slows the earlier GOP to a stop at the shared frame as its weight falls (``shared - h (1 - w)^2``)
    and starts the later one from it (``shared + h w^2``), so the picture keeps moving across the window;
    ``through`` renders both at ``f`` itself, each GOP's bias-INR continued past its end (by up to ``h``
    frames), so both keep their own motion and only their difference is faded.

    A window is never wider than either GOP it joins (``h`` at most half of each one's length), so the
    windows of two switches never overlap.
    """
    for g in range(1, len(spans)):
        shared = spans[g][0]
        half = min(width / 2.0, (spans[g - 1][1] - spans[g - 1][0]) / 2.0, (spans[g][1] - spans[g][0]) / 2.0)
        if half > 0 and abs(f - shared) < half and not is_cut(spans, g):
            weight = (f - (shared - half)) / (2.0 * half)
            if warp == "through":  # both at f itself, each continued past its end by up to half the window
                return Mix(g - 1, local_time(spans[g - 1], f, False), local_time(spans[g], f, False), weight)
            if warp == "ease":
                fa, fb = shared - half * (1.0 - weight) ** 2, shared + half * weight ** 2
            elif warp == "hold":
                fa, fb = min(f, shared), max(f, shared)
            else:
                raise ValueError(f"unknown switch warp {warp!r} (known: {', '.join(WARPS)})")
            return Mix(g - 1, local_time(spans[g - 1], fa), local_time(spans[g], fb), weight)
    return None


def mix_uint8(a, b, weight: float):
    """``(1 - weight) a + weight b`` of two uint8 pictures (numpy or torch), rounded half to even, as uint8."""
    if isinstance(a, np.ndarray):
        mixed = (1.0 - weight) * a.astype(np.float32) + weight * b.astype(np.float32)
        return np.rint(mixed).astype(np.uint8)
    mixed = (1.0 - weight) * a.float() + weight * b.float()
    return mixed.round_().to(a.dtype)
