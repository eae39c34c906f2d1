"""GOP layout: which frames each group of pictures covers.

GOP g covers frames ``g (n - 1) .. g (n - 1) + n - 1``: neighbours share one
frame, so every time between two frames lies inside one GOP's training range
and a switch happens on a frame both GOPs were fitted to. A remainder at the
end of the clip shorter than half a GOP joins the last GOP rather than forming
a tiny GOP of its own (so 20 frames with n = 10 make 2 GOPs: 0-9 and 9-19);
this is the one departure from the fixed length in DESIGN.md.

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
