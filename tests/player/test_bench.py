"""actinr bench: parsing, statistics, the timer, and real (tiny) CPU runs that write a table, JSON, PNG and log."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import time

import numpy as np
import pytest

from actinr.engines.cli import run_command
from actinr.engines.errors import ActinrError
from actinr.player.bench.config import MIN_FRAMES, parse_backends, parse_precisions, parse_sizes
from actinr.player.bench.run import Entry, backend_plan
from actinr.player.bench.stats import frame_stats, frame_times
from actinr.player.bench.system import device_slug
from actinr.player.bench.timing import FrameTimer, measure

SOURCE = (176, 144)


# --- parsing ------------------------------------------------------------------------------------------


def test_sizes_by_name_by_wxh_and_source_in_order_without_repeats():
    assert parse_sizes("720p,1080p,2160p", SOURCE) == [(1280, 720), (1920, 1080), (3840, 2160)]
    assert parse_sizes("source, 640x360 ,4K,2160p,176x144", SOURCE) == [(176, 144), (640, 360), (3840, 2160)]
    assert parse_sizes("352X288", SOURCE) == [(352, 288)]


@pytest.mark.parametrize("text, message", [
    ("720", "'720' is not WxH, source or one of 360p"),
    ("720p,,1080p", "'' is not WxH"),
    ("hd", "'hd' is not WxH"),
    ("0x100", "must be positive"),
    ("-5x100", "'-5x100' is not WxH"),
    ("20000x100", "--sizes: size must be between 1x1 and 16384x16384"),
])
def test_bad_sizes_say_what_is_wrong(text, message):
    with pytest.raises(ActinrError, match=message.replace("(", r"\(")):
        parse_sizes(text, SOURCE)


def test_backend_lists():
    assert parse_backends("auto") is None and parse_backends(" AUTO ") is None
    assert parse_backends("torch-cpu,onnxruntime-cpu,torch-cpu") == ["torch-cpu", "onnxruntime-cpu"]
    assert parse_backends("TensorRT, torch-cuda") == ["tensorrt", "torch-cuda"]
    with pytest.raises(ActinrError, match="unknown backend 'torch' .*torch-cpu"):
        parse_backends("torch")
    with pytest.raises(ActinrError, match="unknown backend 'auto'"):
        parse_backends("auto,torch-cpu")  # auto means all of them; it does not mix with names


# --- statistics ---------------------------------------------------------------------------------------


def test_percentiles_of_a_known_list():
    s = frame_stats(list(range(1, 11)))  # 1..10: rank (n-1) q/100, linear between neighbours
    assert s["p50_ms"] == pytest.approx(5.5) and s["max_ms"] == 10
    assert s["p95_ms"] == pytest.approx(9.55)
    assert s["p99_ms"] == pytest.approx(9.91)
    assert frame_stats([7, 1, 4])["p50_ms"] == 4  # order does not matter
    assert frame_stats([3.0])["p99_ms"] == 3.0
    with pytest.raises(ValueError):
        frame_stats([])


def test_frame_stats():
    s = frame_stats([10, 20, 30, 40])
    assert s["frames"] == 4 and s["mean_ms"] == 25 and s["fps"] == 40 and s["max_ms"] == 40
    assert s["p50_ms"] == 25 and s["p95_ms"] == pytest.approx(38.5) and s["p99_ms"] == pytest.approx(39.7)


def test_frame_times_advance_by_a_frame_over_slowmo_and_wrap():
    ts = frame_times(fps=30.0, frames=30, count=35, slowmo=1)
    assert ts[:3] == pytest.approx([0, 1 / 30, 2 / 30])
    assert ts[30] == pytest.approx(0) and ts[34] == pytest.approx(4 / 30)
    ts = frame_times(fps=25.0, frames=10, count=5, slowmo=10)
    assert np.diff(ts) == pytest.approx([1 / 250] * 4)


# --- the timer and one row ----------------------------------------------------------------------------


def test_cpu_timer_includes_the_sync_and_returns_the_result():
    calls = []
    timer = FrameTimer("cpu")
    out, ms = timer(lambda: calls.append("render") or 7, lambda: (calls.append("sync"), time.sleep(0.02)))
    assert out == 7 and timer.kind == "perf_counter"
    assert calls == ["sync", "render", "sync"]  # idle before, finished after
    assert 20 <= ms < 1000


def test_measure_warms_up_then_times_every_frame():
    seen = []
    row = measure(lambda t: seen.append(t), lambda: None, "cpu", warm=[0.5, 0.6], timed=[0.0, 0.1, 0.2],
                  max_seconds=10)
    assert seen == [0.5, 0.6, 0.0, 0.1, 0.2]
    d = row["decode"]
    assert d["frames"] == 3 and len(d["ms"]) == 3 and row["display"] is None and row["timer"] == "perf_counter"
    assert d["fps"] == pytest.approx(1e3 / d["mean_ms"])


def test_measure_stops_after_max_seconds_but_not_before_min_frames():
    row = measure(lambda t: time.sleep(0.004), lambda: None, "cpu", warm=[], timed=[0.0] * 100, max_seconds=0.001)
    assert row["decode"]["frames"] == MIN_FRAMES
    row = measure(lambda t: None, lambda: None, "cpu", warm=[], timed=[0.0] * 3, max_seconds=0.0001)
    assert row["decode"]["frames"] == 3  # fewer asked for than MIN_FRAMES: all of them


# --- real runs ----------------------------------------------------------------------------------------

REQUIRED = {
    "schema": str, "date": str, "command": str, "system": dict, "bundle": dict, "settings": dict, "skipped": list,
    "reference": dict, "rows": list, "summary": list,
}
SYSTEM = {"cpu": str, "cores": int, "os": str, "python": str, "torch": str, "device": str}
ROW = {"backend": str, "device": str, "precision": str, "size": str, "width": int, "height": int, "pixels": int,
       "timer": str, "decode": dict}
STATS = {"frames": int, "mean_ms": float, "p50_ms": float, "p95_ms": float, "p99_ms": float, "max_ms": float,
         "fps": float}


def _check_types(obj: dict, spec: dict, where: str) -> None:
    for key, kind in spec.items():
        assert key in obj, f"{where}: no {key!r}"
        assert isinstance(obj[key], kind), f"{where}.{key}: {type(obj[key]).__name__}, not {kind.__name__}"


def _check_stats(s: dict, frames: int, where: str) -> None:
    _check_types(s, STATS, where)
    assert s["frames"] == frames, where
    assert 0 < s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"] <= s["max_ms"], where
    assert 0 < s["mean_ms"] <= s["max_ms"], where
    assert s["fps"] == pytest.approx(1000.0 / s["mean_ms"], rel=1e-12), where


def _bench(argv, capsys):
    code = run_command("bench", [str(a) for a in argv], "actinr bench")
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory, demo_path):
    """One real run: the demo bundle, torch-cpu, two sizes, 12 frames, JSON and PNG -> (stdout, JSON, PNG path)."""
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("bench")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_command("bench", [str(demo_path), "--backends", "torch-cpu", "--sizes", "source,96x80",
                                     "--frames", "12", "--warmup", "2", "--json", str(tmp / "r.json"),
                                     "--plot", str(tmp / "r.png"), "--quiet"], "actinr bench")
    assert code == 0, err.getvalue()
    return out.getvalue(), json.loads((tmp / "r.json").read_text()), tmp / "r.png"


def test_cpu_run_json_follows_the_schema(cpu_run, demo_path):
    _, r, _ = cpu_run
    _check_types(r, REQUIRED, "result")
    assert r["schema"] == "actinr-bench/1"
    _check_types(r["system"], SYSTEM, "system")
    assert r["system"]["device"] == "cpu" and r["system"]["torch"] == __import__("torch").__version__
    assert r["system"]["onnxruntime"] == __import__("onnxruntime").__version__
    b = r["bundle"]
    assert b["path"] == str(demo_path) and b["bytes"] == demo_path.stat().st_size
    assert (b["source"]["width"], b["source"]["height"], b["gops"], b["precision"]) == (176, 144, 4, "fp16")
    s = r["settings"]
    assert (s["frames"], s["warmup"], s["slowmo"], s["sizes"]) == (12, 2, 1.0, ["176x144", "96x80"])
    assert r["reference"]["model"] == "actinr.train.model.GOPModel" and r["reference"]["device"] == "cpu"
    assert r["reference"]["biases"] == "baked tables (cubic)"
    assert [(row["backend"], row["size"]) for row in r["rows"]] == [
        ("reference", "176x144"), ("reference", "96x80"), ("torch-cpu", "176x144"), ("torch-cpu", "96x80")]
    for row in r["rows"]:
        _check_types(row, ROW, row["backend"])
        assert row["pixels"] == row["width"] * row["height"] and row["display"] is None and row["error"] is None
        _check_stats(row["decode"], 12, f"{row['backend']} {row['size']}")
        ms = row["decode"]["ms"]
        assert len(ms) == 12 and row["decode"]["mean_ms"] == pytest.approx(sum(ms) / 12, abs=1e-3)


def test_cpu_run_speedups_and_table_agree_with_the_json(cpu_run):
    out, r, _ = cpu_run
    ref = {row["size"]: row["decode"]["fps"] for row in r["rows"] if row["backend"] == "reference"}
    for row in r["rows"]:
        assert row["speedup"] == pytest.approx(row["decode"]["fps"] / ref[row["size"]])
        d = row["decode"]
        line = next(ln for ln in out.splitlines() if ln.split()[:2] == [row["size"], row["backend"]])
        cols = line.split()
        assert cols[2:4] == [row["precision"], "12"]
        assert [float(c) for c in cols[4:10]] == pytest.approx(
            [d["mean_ms"], d["p50_ms"], d["p95_ms"], d["p99_ms"], d["max_ms"], d["fps"]], abs=0.06)
        assert float(cols[10].rstrip("x")) == pytest.approx(row["speedup"], abs=0.06)
    assert any(line.startswith("176x144: fastest torch-cpu (fp32)") for line in r["summary"])
    assert f"wrote {r['bundle']['path']}" not in out and out.rstrip().endswith("r.png")


def test_auto_takes_every_backend_that_loads_and_says_why_others_did_not():
    torch = pytest.importorskip("torch")
    plan, skipped = backend_plan(None, ["auto"], "fp16")
    assert plan[-2:] == [Entry("torch-cpu", "cpu", "fp32", {}), Entry("onnxruntime-cpu", "cpu", "fp32", {})]  # fp32
    if not torch.cuda.is_available():
        assert len(plan) == 2
        assert [line.split(" ", 1)[0] for line in skipped] == ["triton", "tensorrt", "onnxruntime-cuda", "torch-cuda"]
        assert all("CUDA GPU" in line for line in skipped)
        with pytest.raises(ActinrError, match="no backend can run here: .*torch-cpu decodes in fp32, not fp16"):
            backend_plan(None, ["fp16"], "fp32")  # the CPU backends are fp32 only


def test_precision_lists():
    assert parse_precisions("auto") == ["auto"]
    assert parse_precisions("FP32, fp16,fp32") == ["fp32", "fp16"]
    with pytest.raises(ActinrError, match="'half' is not auto, fp32 or fp16"):
        parse_precisions("fp32,half")
    # a named CPU backend asked for fp32 and fp16: the fp32 row, and the reason there is no fp16 one
    plan, skipped = backend_plan(["torch-cpu"], ["fp32", "fp16", "auto"], "fp16")
    assert plan == [Entry("torch-cpu", "cpu", "fp32", {})]
    assert skipped == ["torch-cpu decodes in fp32, not fp16 (fp16 is for GPU backends)"]


def test_cpu_run_plot_is_a_png(cpu_run):
    from PIL import Image

    _, _, png = cpu_run
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == (900, 600)
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.std() > 10  # lines and text, not a blank canvas


def _egl_or_skip():
    from actinr.player.offscreen import OffscreenGL

    try:
        OffscreenGL((8, 8)).close()
    except ActinrError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"offscreen OpenGL is unavailable but CI=true (.ci/run installs libegl1, libegl-mesa0): {exc}")
        pytest.skip(f"offscreen OpenGL is unavailable here: {exc}")


def _check_display(row: dict, frames: int, where: str) -> None:
    d = row["display"]
    for stage in ("upload", "present", "total"):
        _check_stats(d[stage], frames, f"{row['backend']} {stage}")
    parts = row["decode"]["mean_ms"] + d["upload"]["mean_ms"] + d["present"]["mean_ms"]
    assert d["total"]["mean_ms"] == pytest.approx(parts, rel=1e-9)
    if where == "offscreen":
        assert d["where"] == f"offscreen {row['size']}"
    else:
        assert d["where"].startswith("window ")
    assert d["upload_path"] == "host upload (CPU decoder)"


def test_display_offscreen_splits_decode_upload_present(tmp_path, capsys, demo_path, monkeypatch):
    _egl_or_skip()
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, out, err = _bench([demo_path, "--backends", "torch-cpu", "--sizes", "source", "--frames", "5",
                             "--warmup", "1", "--display", "--no-reference", "--json", tmp_path / "d.json",
                             "--quiet"], capsys)
    assert code == 0, err
    r = json.loads((tmp_path / "d.json").read_text())
    assert r["reference"] is None and r["settings"]["display"] is True
    assert r["gl"]["where"] == "offscreen (EGL)" and r["gl"]["renderer"]
    (row,) = r["rows"]
    assert row["speedup"] is None
    _check_display(row, 5, "offscreen")
    assert "disp FPS" in out


def test_display_in_a_window(xdisplay, tmp_path, capsys, demo_path):
    code, out, err = _bench([demo_path, "--backends", "torch-cpu", "--sizes", "source", "--frames", "4",
                             "--warmup", "1", "--display", "--no-reference", "--json", tmp_path / "w.json",
                             "--quiet"], capsys)
    assert code == 0, err
    r = json.loads((tmp_path / "w.json").read_text())
    assert r["gl"]["where"] == "window"
    _check_display(r["rows"][0], 4, "window")


def test_save_writes_json_png_and_the_printed_log(tmp_path, capsys, demo_path):
    code, out, err = _bench([demo_path, "--backends", "torch-cpu", "--sizes", "64x48", "--frames", "3",
                             "--warmup", "0", "--save", tmp_path / "results", "--quiet"], capsys)
    assert code == 0, err
    files = sorted(p.name for p in (tmp_path / "results").iterdir())
    stem = files[0].rsplit(".", 1)[0]
    assert files == [f"{stem}.json", f"{stem}.log", f"{stem}.png"] and stem.endswith("-cpu-bench-demo")
    r = json.loads((tmp_path / "results" / f"{stem}.json").read_text())
    assert stem.startswith(r["date"][:10])
    assert (tmp_path / "results" / f"{stem}.log").read_text() == out  # the log is exactly what was printed


@pytest.mark.parametrize("argv, message", [
    (["--frames", "0"], "--frames must be at least 1"),
    (["--slowmo", "0"], "--slowmo must be a positive number"),
    (["--max-seconds", "nan"], "--max-seconds must be a positive number"),
    (["--plot", "fps.jpg"], "--plot writes PNG"),
    (["--offscreen"], "--offscreen is a way of --display"),
    (["--sizes", "big"], "'big' is not WxH"),
    (["--backends", "cuda"], "unknown backend 'cuda'"),
    (["--backends", "torch-cuda"], "torch-cuda needs a CUDA GPU"),
    (["--backends", "torch-cpu", "--precision", "fp16"], "torch-cpu decodes in fp32, not fp16"),
])
def test_user_errors_are_one_line(argv, message, capsys, demo_path):
    torch = pytest.importorskip("torch")
    if "torch-cuda" in argv and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU, so torch-cuda loads")
    code, out, err = _bench([demo_path, *argv], capsys)
    assert code == 1
    assert err.startswith("actinr bench: error: ") and message in err and err.count("\n") == 1


def test_missing_bundle_is_one_line(tmp_path, capsys):
    code, _, err = _bench([tmp_path / "none.engine"], capsys)
    assert code == 1 and "none.engine" in err and err.count("\n") == 1


def test_help_lists_the_sizes_and_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        run_command("bench", ["--help"], "actinr bench")
    out = capsys.readouterr().out
    assert exc.value.code == 0
    for text in ("--backends", "--sizes", "--frames", "--slowmo", "--display", "--json", "--plot", "2160p",
                 "--save benchmarks/results"):
        assert text in out


def test_device_slug():
    assert device_slug({"device": "cpu"}) == "cpu"
    assert device_slug({"device": "NVIDIA H100 80GB HBM3"}) == "nvidia-h100-80gb-hbm3"


def test_without_the_reference_bench_imports_neither_train_nor_export(demo_path):
    import subprocess
    import sys

    code = ("import sys; from actinr.engines.cli import main; "
            f"assert main(['bench', {str(demo_path)!r}, '--backends', 'torch-cpu', '--sizes', '32x32', '--frames', "
            "'2', '--warmup', '0', '--no-reference', '--quiet']) == 0; "
            "bad = sorted(m for m in sys.modules if m.startswith(('actinr.train', 'actinr.export'))); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, capture_output=True)


def test_a_plot_without_matplotlib_is_refused_before_the_run(capsys, demo_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    code, out, err = _bench([demo_path, "--plot", "x.png"], capsys)
    assert code == 1 and "pip install 'actinr[bench]'" in err and out == ""


def test_an_unwritable_result_is_one_line(tmp_path, capsys, demo_path):
    (tmp_path / "file").write_text("not a folder")
    code, out, err = _bench([demo_path, "--backends", "torch-cpu", "--sizes", "32x32", "--frames", "1", "--warmup",
                           "0", "--no-reference", "--json", tmp_path / "file" / "r.json", "--quiet"], capsys)
    assert code == 1 and f"--json {tmp_path / 'file' / 'r.json'}: {tmp_path / 'file'} is a file, not a folder" in err
    assert err.count("\n") == 1 and out == ""  # refused before anything was measured


def test_a_display_that_cannot_open_a_window_points_to_offscreen(capsys, demo_path, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":9999")  # no X server there
    code, _, err = _bench([demo_path, "--backends", "torch-cpu", "--sizes", "32x32", "--frames", "1",
                           "--no-reference", "--display", "--quiet"], capsys)
    assert code == 1 and err.count("\n") == 1 and "--display --offscreen needs no window" in err


def test_sweep_rows_each_option_value_of_a_backend():
    plan, _ = backend_plan(["torch-cpu", "onnxruntime-cpu"], ["auto"], "fp32", sweep=True)
    from actinr.engines.backends.ort_cpu import OrtCPU
    from actinr.engines.backends.torch_cpu import TorchCPU

    assert plan[0] == Entry("torch-cpu", "cpu", "fp32", {})  # the module's default first, without options
    assert [e.options for e in plan if e.backend == "torch-cpu"][1:] == [
        {"chunk_points": v} for v in TorchCPU.sweep["chunk_points"][1:]]
    assert len([e for e in plan if e.backend == "onnxruntime-cpu"]) == len(OrtCPU.sweep["chunk_points"])
    assert backend_plan(["torch-cpu"], ["auto"], "fp32")[0] == [Entry("torch-cpu", "cpu", "fp32", {})]


def test_sweep_rows_the_pairs_after_the_single_options(monkeypatch):
    """The fused kernel's sweep also times tile sizes with their warps (combinations one option at a time misses),
    after every single option's values."""
    from actinr.engines.backends.triton_fused import TritonFused  # the module imports Triton only when it runs

    monkeypatch.setattr(TritonFused, "probe", classmethod(lambda cls, device: None))  # as if on a GPU
    plan, _ = backend_plan(["triton"], ["fp16"], "fp16", sweep=True)
    options = [e.options for e in plan]
    singles = [{k: v} for k, values in TritonFused.sweep.items() for v in values[1:]]
    assert options == [{}] + singles + list(TritonFused.sweep_pairs)
    assert {"block_points": 128, "num_warps": 8} in options and len(TritonFused.sweep_pairs) == 6
    assert {"tiles_per_program": 4} in options and {"tiles_per_program": 4, "max_registers": 128} in options
    assert {"tiles_per_program": 4, "group_strips": False} in options  # strips grouped (the default) or apart


def test_a_sweep_run_labels_its_rows_and_stores_its_config(tmp_path, capsys, demo_path):
    from actinr.engines.config import config_from_args
    from actinr.player.bench.config import BenchConfig
    from actinr.player.bench.run import add_bench_arguments

    argv = [demo_path, "--backends", "torch-cpu", "--sizes", "32x24", "--frames", "2", "--warmup", "0", "--sweep",
            "--no-reference", "--json", tmp_path / "s.json", "--quiet"]
    code, out, err = _bench(argv, capsys)
    assert code == 0, err
    r = json.loads((tmp_path / "s.json").read_text())
    assert [row["options"] for row in r["rows"]] == [{}, *({"chunk_points": v} for v in (2048, 4096, 16384, 32768))]
    assert "torch-cpu:chunk_points=2048" in out.split() and all(row["decode"]["frames"] == 2 for row in r["rows"])
    # the stored config is the command's, and the stored command line rebuilds it
    assert r["config"] == {**BenchConfig().__dict__, "model": str(demo_path), "backends": "torch-cpu",
                           "sizes": "32x24", "frames": 2, "warmup": 0, "sweep": True, "reference": False,
                           "json": str(tmp_path / "s.json"), "quiet": True}
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    assert config_from_args(BenchConfig, parser.parse_args(shlex.split(r["command"])[2:])).__dict__ == r["config"]


def test_a_run_stopped_by_sigterm_writes_the_rows_it_measured(tmp_path, capsys, demo_path, monkeypatch):
    """A time limit's SIGTERM (make gpu-check's, after a step runs out) stops the bench cleanly: the rows measured
    so far are in the JSON with the stop recorded, and the exit status is 143 as for a process killed by it."""
    import actinr.player.bench.run as bench_run
    from actinr.engines.signals import Terminated

    real_row, calls = bench_run._row, []

    def row_then_stop(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Terminated(15)
        return real_row(*args, **kwargs)

    monkeypatch.setattr(bench_run, "_row", row_then_stop)
    argv = [demo_path, "--backends", "torch-cpu", "--sizes", "32x24,48x32", "--frames", "2", "--warmup", "0",
            "--sweep", "--no-reference", "--json", tmp_path / "s.json", "--quiet"]
    code, out, err = _bench(argv, capsys)
    assert code == 143 and "stopped by SIGTERM" in err
    r = json.loads((tmp_path / "s.json").read_text())
    assert r["stopped"] == "SIGTERM" and len(r["rows"]) == 2 and len(calls) == 3
    assert [row["size"] for row in r["rows"]] == ["32x24", "48x32"] and all(row["decode"] for row in r["rows"])
    assert "stopped (SIGTERM): writing the 2 rows measured so far" in out


def test_a_failing_row_is_recorded_and_the_others_still_run(tmp_path, capsys, demo_path, monkeypatch):
    """A row that raises (on a GPU: a kernel variant that does not build, a driver error) is a row with its reason,
    not the end of the table: the other rows are measured and written, and the command exits 1."""
    import actinr.player.bench.run as bench_run

    real_measure, calls = bench_run.measure, []

    def measure_or_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("PTX .version 9.9 does not support .target sm_99\nsecond line")
        return real_measure(*args, **kwargs)

    monkeypatch.setattr(bench_run, "measure", measure_or_fail)
    argv = [demo_path, "--backends", "torch-cpu", "--sizes", "32x24,48x32,40x30", "--frames", "2", "--warmup", "0",
            "--no-reference", "--json", tmp_path / "s.json", "--quiet"]
    code, out, err = _bench(argv, capsys)
    assert code == 1 and len(calls) == 3
    rows = json.loads((tmp_path / "s.json").read_text())["rows"]
    assert [bool(r["decode"]) for r in rows] == [True, False, True]
    assert rows[1]["error"] == "failed: RuntimeError: PTX .version 9.9 does not support .target sm_99"
    assert "1 row(s) failed: torch-cpu fp32 48x32" in out and "failed: RuntimeError" in out
