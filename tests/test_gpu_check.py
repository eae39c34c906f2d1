"""``make gpu-check`` rehearsed without a GPU: every step of benchmarks/gpu_check.py runs, small, and writes
its log, JSON and plots, so the one call a lent GPU gets is not spent finding a typo in the script."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _triton_too_old() -> str | None:
    from actinr.engines.backends.triton_fused import MIN_TRITON, triton_version

    version = importlib.metadata.version("triton")
    oldest = ".".join(map(str, MIN_TRITON))
    return f"triton {version} is older than the fused kernel's {oldest} (the backend refuses it)" \
        if triton_version(version) < MIN_TRITON else None


@pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                    reason="triton is not installed (pip install triton; CI installs it)")
def test_the_rehearsal_runs_every_step_and_writes_the_results(tmp_path):
    if _triton_too_old():
        pytest.skip(_triton_too_old())  # the rehearsal's parity step decodes through the fused kernel
    proc = subprocess.run([sys.executable, ROOT / "benchmarks" / "gpu_check.py", "--rehearse", "--out", tmp_path,
                           "--budget", "400"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    reports = list(tmp_path.glob("*-gpu-check.json"))
    assert len(reports) == 1 and reports[0].name.endswith("-cpu-rehearsal-gpu-check.json")
    report = json.loads(reports[0].read_text())
    assert report["rehearsal"] and report["failed_steps"] == [] and report["row_errors"] == []
    counts = report["steps"]["tests"]["counts"]
    assert counts.get("passed", 0) >= 1 and "failed" not in counts
    assert [s["rc"] for s in report["steps"]["fit"]] == [0, 0]
    # parity: triton (interpreter) fp32 and fp16 on both bundles, two frames each, within the tests' bars
    parity = report["parity"]
    assert {(r["bundle"], r["precision"]) for r in parity} == {(b, p) for b in ("demo", "hd1080")
                                                                for p in ("fp32", "fp16")}
    assert len(parity) == 8 and all(r["max"] <= 2 and r["beyond_1"] <= 0.001 for r in parity)
    # bench: a row per bundle and size, each with its FPS and p99 in the log's summary lines
    rows = report["summary"]
    assert {(r["bundle"], r["size"]) for r in rows} == {(b, s) for b in ("demo", "hd1080") for s in ("64x48", "96x54")}
    assert all(r["backend"] == "torch-cpu" and r["fps"] > 0 and r["p99_ms"] > 0 for r in rows)
    log = (tmp_path / reports[0].name.replace(".json", ".log")).read_text()
    assert "== 7 summary" in log and "every step passed" in log
    lines = log.splitlines()
    assert sum(" FPS, p99 " in line and not line.strip().startswith("sweep") for line in lines) == len(rows) == 4
    for name in ("demo", "hd1080"):
        assert (tmp_path / reports[0].name.replace("gpu-check.json", f"bench-{name}.png")).stat().st_size > 1000
    assert not (tmp_path / ".work").exists()  # the rehearsal's fitted bundle is removed
    # the tuning sweep: a row per option value of the backend (torch-cpu's chunk sizes in the rehearsal)
    assert [r["options"] for r in report["sweep"]][:2] == [{}, {"chunk_points": 2048}] and len(report["sweep"]) == 5
    assert len(list(tmp_path.iterdir())) == 7  # the device tool brings back at most 8 files


def _gpu_check_module():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_step_out_of_time_is_stopped_even_when_silent_and_may_write_first(tmp_path, monkeypatch):
    """A step that hangs without printing is stopped at its limit (the output is read on a thread); it gets
    SIGTERM first and a grace to write what it has (actinr bench writes its rows), then SIGKILL."""
    gc = _gpu_check_module()
    monkeypatch.setattr(gc, "GRACE_SECONDS", 2)
    log = gc.Log(tmp_path / "log.txt")
    polite = ("import signal, sys, time, pathlib\n"
              "def stop(*_):\n    pathlib.Path(sys.argv[1]).write_text('partial'); sys.exit(143)\n"
              "signal.signal(signal.SIGTERM, stop)\nprint('started', flush=True)\ntime.sleep(60)\n")
    step = gc.run(log, [sys.executable, "-c", polite, tmp_path / "rows.json"], limit=5)
    assert step["timed_out"] and step["rc"] == 143 and step["seconds"] < 5 + 2 + 3
    assert (tmp_path / "rows.json").read_text() == "partial"
    stubborn = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)\n"
    step = gc.run(log, [sys.executable, "-c", stubborn], limit=5)
    assert step["timed_out"] and step["rc"] == -9 and 5 + 2 <= step["seconds"] < 5 + 2 + 3
    step = gc.run(log, [sys.executable, "-c", "print('done')"], limit=30)
    assert step == {"cmd": step["cmd"], "rc": 0, "seconds": step["seconds"], "timed_out": False}
    log.close()
    text = (tmp_path / "log.txt").read_text()
    assert "  started" in text and "(stopped: out of time)" in text and "  done" in text


def test_rows_without_a_measurement_are_listed_with_their_reason():
    gc = _gpu_check_module()
    result = {"rows": [
        {"backend": "triton", "options": {}, "precision": "fp16", "size": "1920x1080", "error": None,
         "decode": {"fps": 2500.0, "p99_ms": 0.5, "mean_ms": 0.4, "frames": 300}},
        {"backend": "triton", "options": {"block_points": 256, "num_warps": 8}, "precision": "fp16",
         "size": "1920x1080", "error": "failed: OutOfResources: out of resource: shared memory", "decode": None},
        {"backend": "torch-cuda", "options": {}, "precision": "fp32", "size": "3840x2160",
         "error": "out of GPU memory", "decode": None}]}
    assert [r["fps"] for r in gc.bench_rows(result, "demo")] == [2500.0]
    assert gc.error_rows(result, "sweep") == [
        "sweep triton,block_points=256,num_warps=8 fp16 1920x1080: failed: OutOfResources: out of resource: "
        "shared memory",
        "sweep torch-cuda fp32 3840x2160: out of GPU memory"]


def test_the_summary_names_the_fastest_sweep_row_against_the_defaults():
    gc = _gpu_check_module()
    rows = [{"options": {}, "fps": 2000.0, "p99_ms": 0.6}, {"options": {"num_warps": 8}, "fps": 1800.0, "p99_ms": 0.7},
            {"options": {"tiles_per_program": 4, "max_registers": 128}, "fps": 2300.0, "p99_ms": 0.5}]
    assert gc.fastest_sweep(rows) == ("sweep: fastest tiles_per_program=4,max_registers=128: 2300.0 FPS, p99 0.500 "
                                      "ms, 1.15x the defaults' 2000.0 FPS")
    assert gc.fastest_sweep(rows[:1]) == "sweep: fastest the defaults: 2000.0 FPS, p99 0.600 ms, 1.00x the defaults' " \
        "2000.0 FPS"
    assert gc.fastest_sweep(rows[1:]) is None and gc.fastest_sweep([]) is None
