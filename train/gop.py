"""GOP layout: which frames each group of pictures covers.

GOP g covers frames ``g (n - 1) .. g (n - 1) + n - 1``: neighbours share one
frame, so every time between two frames lies inside one GOP's training range
and a switch happens on a frame both GOPs were fitted to. A remainder at the
end of the clip shorter than half a GOP joins the last GOP rather than forming
a tiny GOP of its own (so 20 frames with n = 10 make 2 GOPs: 0-9 and 9-19);
this is one departure from the fixed length in DESIGN.md. The others:
:func:`still_boundaries` moves each switch by up to ``--gop-shift`` frames to
where the picture changes least (a switch mixes two GOPs that differ by their
fitting errors: over a still picture that mix is invisible, over fast motion
it adds to the motion), and a scene cut ends a GOP without a shared frame
(train/scenes.py: one set of weights cannot hold two unrelated pictures).

A time exactly on a shared frame is rendered by the GOP that starts there (the
later one); times before the first or after the last frame clamp. That rule is
engines/timeline.py, shared with every decoder.
"""

from __future__ import annotations

import math

from actinr.engines.errors import ActinrError


def gop_spans(count: int, gop: int) -> list[tuple[int, int]]:
    """(first, last) frame of each GOP, inclusive, for ``count`` frames in GOPs of ``gop`` frames."""
    if gop < 2:
        raise ActinrError(f"--gop must be at least 2 frames, got {gop}")
    if count < 1:
        raise ActinrError(f"need at least one frame, got {count}")
    if count == 1:
        return [(0, 0)]
    step = gop - 1
    n = max(1, math.floor((count - 1) / step + 0.5))
    spans = [(g * step, g * step + step) for g in range(n)]
    spans[-1] = (spans[-1][0], count - 1)
    return spans


def still_boundaries(spans: list[tuple[int, int]], diffs: list[float], reach: int) -> list[tuple[int, int]]:
    """Move each boundary between ``spans`` (over frames ``0 .. n-1``) by up to ``reach`` frames to the frame
    where the picture changes least: the smallest larger of ``diffs[c - 1]`` and ``diffs[c]`` (``diffs[i]``:
    the change from frame ``i`` to ``i + 1``), ties to the nearest. A switch between two GOPs blends pictures
    that differ by both GOPs' fitting errors; where the picture is nearly still, the switch is too. Every GOP
    keeps at least half its length (``gop - 1`` steps) and two frames."""
    if reach <= 0 or len(spans) < 2:
        return spans
    step = max(spans[0][1] - spans[0][0], 1)
    least = max(1, step // 2)
    ends, prev = [], spans[0][0]  # where each GOP but the last now ends (and the next starts)
    for g in range(len(spans) - 1):
        nominal, after = spans[g][1], spans[g + 1][1]
        lo, hi = max(nominal - reach, prev + least), min(nominal + reach, after - least)
        if lo > hi:
            ends.append(nominal)
        else:
            ends.append(min(range(lo, hi + 1), key=lambda c: (max(diffs[c - 1], diffs[c]), abs(c - nominal))))
        prev = ends[-1]
    edges = [spans[0][0], *ends, spans[-1][1]]
    return list(zip(edges[:-1], edges[1:]))
