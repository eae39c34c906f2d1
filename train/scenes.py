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
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


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
