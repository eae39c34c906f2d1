"""Scene cuts among the fitted frames: where one GOP must end and the next begin without sharing a frame.

A GOP's weights are shared by all of its frames and only the biases move with
time, so a GOP fitted across a cut has to draw two unrelated pictures with one
set of weights (every frame of it fits worse), and between the two fitted
frames either side of the cut its biases slide from one scene to the other: a
cross-dissolve of two scenes, which no frame of the source shows. A cut is
therefore a GOP boundary of its own kind: the GOP before it ends on the last
fitted frame of the old scene, the GOP after it starts on the first fitted
frame of the new one, and the player cuts from one to the other in the middle
of the gap (engines/timeline.py).

A cut is an interval between consecutive fitted frames whose mean absolute
difference (0..1 scale, over pixels and colours) is above ``--scene-cut`` and
above each neighbouring interval's by as much again, so that steady fast
motion, which changes every interval alike, is not taken for a cut. A cut that
would leave a scene of a single fitted frame (a flash, or a cut next to either
end) is dropped: that frame stays in the GOP of its neighbours.

Also here: the footage's detail (:func:`detail_db`), which ``--patch 0`` takes
into the patch size (train/config.py ``auto_patch``): a frame whose top octave
of spatial frequencies holds much of it is fitted less closely by the same
patch MLP, and a smaller patch gives it more of them.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F

DETAIL_FRAMES = 8  # fitted frames the detail is measured on, spread over the clip


def key_differences(frames: Iterable[np.ndarray]) -> list[float]:
    """Mean absolute difference (0..1) between each pair of consecutive frames, (H, W, 3) uint8 each; an
    iterable, so that a long clip's fitted frames can be streamed (two are held at a time)."""
    out, prev = [], None
    for frame in frames:
        cur = np.asarray(frame, dtype=np.int16)
        if prev is not None:
            out.append(float(np.abs(cur - prev).mean()) / 255.0)
        prev = cur
    return out


def find_cuts(diffs: list[float], threshold: float) -> list[int]:
    """Intervals ``i`` (between fitted frames ``i`` and ``i + 1``) that are scene cuts (module docstring);
    ``threshold`` 0 finds none."""
    if threshold <= 0:
        return []
    cuts = []
    for i, d in enumerate(diffs):
        around = max(diffs[i - 1] if i > 0 else 0.0, diffs[i + 1] if i + 1 < len(diffs) else 0.0)
        if d > threshold and d - around > threshold:
            cuts.append(i)
    # a scene needs two fitted frames to be fitted as GOPs of its own: a cut that would leave one alone is dropped
    keep, first, count = [], 0, len(diffs) + 1
    for i in cuts:
        if i - first + 1 >= 2 and count - (i + 1) >= 2:
            keep.append(i)
            first = i + 1
    return keep


def scenes(count: int, cuts: list[int]) -> list[tuple[int, int]]:
    """(first, last) indices, inclusive, of the runs of ``count`` fitted frames between the cuts."""
    out, first = [], 0
    for i in cuts:
        out.append((first, i))
        first = i + 1
    out.append((first, count - 1))
    return out


def detail_sample(keys: list[int]) -> list[int]:
    """Up to :data:`DETAIL_FRAMES` of the fitted frames ``keys``, evenly spread, ascending."""
    if len(keys) <= DETAIL_FRAMES:
        return list(keys)
    at = np.linspace(0, len(keys) - 1, DETAIL_FRAMES).round().astype(int)
    return [keys[i] for i in sorted(set(at.tolist()))]


class Detail:
    """How much of a clip lies in the top octave of spatial frequencies: the PSNR (dB, 0..255) of frames (H, W, 3)
    uint8 against their own 2x low-pass (means of 2x2 pixels, bilinear back to the full size), pooled over the
    frames given to :meth:`add` one at a time (none is kept). Low is detailed (grass, hair, text: carphone
    27.6 dB), high is smooth (bikes at 320x136 36.9 dB); a flat or blocky frame, equal to its low-pass, 99."""

    def __init__(self):
        self.se, self.n = 0.0, 0

    def add(self, frame: np.ndarray) -> None:
        x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
        h, w = x.shape[-2:]
        if h < 2 or w < 2:
            return
        low = F.interpolate(F.avg_pool2d(x, 2), size=(h, w), mode="bilinear", align_corners=False)
        self.se += float(((x - low) ** 2).sum(dtype=torch.float64))
        self.n += x.numel()

    @property
    def db(self) -> float | None:
        """The detail in dB, or None before any frame of at least 2x2 pixels."""
        if self.n == 0:
            return None
        mse = self.se / self.n
        return 99.0 if mse <= 255.0 ** 2 * 10 ** -9.9 else float(10 * np.log10(255.0 ** 2 / mse))


def detail_db(frames: Iterable[np.ndarray]) -> float | None:
    """:class:`Detail` of ``frames``, in dB."""
    meter = Detail()
    for frame in frames:
        meter.add(frame)
    return meter.db
