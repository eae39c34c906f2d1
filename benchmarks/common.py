"""What every benchmark script shares: the machine description and the result file."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def machine() -> str:
    """CPU model, core count, torch version and threads, e.g. for a result's "machine" field."""
    import torch

    from actinr.player.bench.system import cpu_name

    return f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def save_result(out, benchmark: str, result: dict, device: str = "cpu") -> Path:
    """Write ``<out>/<date>-<device>-<benchmark>.json`` with the date, machine and benchmark name added."""
    date = datetime.date.today().isoformat()
    result = {"benchmark": benchmark, "date": date, "machine": machine(), **result}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{date}-{device}-{benchmark}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return path
