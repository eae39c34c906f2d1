"""Baked bias tables: sample times and play-time interpolation.

The export stage evaluates each GOP's bias-INR at ``K = rate * (last - first) + 1``
evenly spaced local times ``t_k = k / (K - 1)`` (``rate`` samples per frame
interval, frames included) and stores one table ``(K, P, width)`` per biased
module. A player reconstructs the biases at any local time ``t`` in [0, 1] (and a
little past either end, where a GOP switch mixes two GOPs) as a weighted sum of
a few table rows; :func:`taps` gives those rows and weights, so the same
arithmetic serves numpy arrays and torch tensors on any device.

Interpolation is ``linear`` (2 rows) or ``cubic`` (Catmull-Rom, 4 rows; at the
ends the missing neighbour is extrapolated quadratically,
``T[-1] = 3 T[0] - 3 T[1] + T[2]``, so the ends keep the interior's accuracy and
quadratics are reproduced exactly). Cubic passes through the samples like
linear does and follows the bias-INR's curvature between them.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ActinrError

INTERPOLATIONS = ("linear", "cubic")


def table_length(first: int, last: int, rate: int) -> int:
    """Rows of a GOP's bias table: ``rate`` per frame interval, both ends included."""
    return rate * max(last - first, 0) + 1


def sample_times(rows: int) -> np.ndarray:
    """The local times of a table's rows: (K,) float64 in [0, 1]."""
    return np.linspace(0.0, 1.0, rows) if rows > 1 else np.zeros(1)


EXTRAPOLATE = 0.5  # local time a table may be extrapolated past either end (a GOP switch renders both GOPs there)


def taps(rows: int, t: float, method: str = "cubic") -> list[tuple[int, float]]:
    """(row, weight) pairs whose weighted sum of table rows is the bias at local time ``t``.

    ``t`` is clamped to [-EXTRAPOLATE, 1 + EXTRAPOLATE]; outside [0, 1] the end segment's polynomial is
    continued (a GOP switch window renders each GOP up to a frame past its end, engines/timeline.py).
    Weights sum to one.
    """
    if method not in INTERPOLATIONS:
        raise ActinrError(f"unknown bias interpolation '{method}' (known: {', '.join(INTERPOLATIONS)})")
    if rows == 1:
        return [(0, 1.0)]
    x = min(max(float(t), -EXTRAPOLATE), 1.0 + EXTRAPOLATE) * (rows - 1)
    i = min(max(int(math.floor(x)), 0), rows - 2)
    a = x - i
    if method == "linear" or rows == 2:
        return [(i, 1.0 - a), (i + 1, a)]
    # Catmull-Rom on rows i-1 .. i+2.
    a2, a3 = a * a, a * a * a
    w = [(-a3 + 2 * a2 - a) / 2, (3 * a3 - 5 * a2 + 2) / 2, (-3 * a3 + 4 * a2 + a) / 2, (a3 - a2) / 2]
    # Missing neighbours at the ends are extrapolated quadratically, T[-1] = 3 T[0] - 3 T[1] + T[2]
    # (rows >= 3 here), which keeps the O(h^3) accuracy of the interior.
    ghost_lo = [(0, 3.0), (1, -3.0), (2, 1.0)]
    ghost_hi = [(rows - 1 - k, c) for k, c in ghost_lo]
    acc: dict[int, float] = {}
    for k, wk in zip(range(i - 1, i + 3), w):
        for row, c in ghost_lo if k < 0 else ghost_hi if k >= rows else [(k, 1.0)]:
            acc[row] = acc.get(row, 0.0) + c * wk
    return sorted(acc.items())


def interpolate(table, t: float, method: str = "cubic"):
    """Bias at local time ``t`` from a table ``(K, P, width)`` -> float32 ``(P, width)`` (numpy or torch)."""
    pairs = taps(table.shape[0], t, method)
    out = None
    for k, w in pairs:
        row = table[k]
        row = row.float() if hasattr(row, "float") else row.astype(np.float32)  # fp16 tables sum in fp32
        out = row * w if out is None else out + row * w
    return out
