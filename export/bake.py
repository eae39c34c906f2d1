"""Bias baking: a GOP's bias-INR outputs sampled into tables a player interpolates.

``rate`` samples per frame interval (frames included), so a GOP spanning
frames ``first..last`` gets ``rate * (last - first) + 1`` rows at local times
``k / (K - 1)``; see engines/bias.py for the row layout and the interpolation.
The default rate and interpolation come from benchmarks/bias_rate.py
(docs/measurements.md "Bias baking").
"""

from __future__ import annotations

import numpy as np
import torch

from actinr.engines.bias import sample_times, table_length


@torch.no_grad()
def bake_biases(model, span: tuple[int, int], rate: int, dtype=np.float32) -> list[np.ndarray]:
    """Every module's bias table for one GOP: ``[(K, P, width), ...]`` in ``dtype``."""
    times = torch.from_numpy(sample_times(table_length(span[0], span[1], rate))).float()
    return [b.permute(1, 0, 2).cpu().numpy().astype(dtype) for b in model.biases(times)]  # (P, K, W) -> (K, P, W)
