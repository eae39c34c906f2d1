"""``actinr export`` and ``actinr info`` from the command line."""

import json
import shutil
import subprocess
import sys

import pytest

from actinr.engines import bundle as B
from actinr.engines.cli import main
from actinr.engines.manifest import bias_name


def actinr(*args):
    proc = subprocess.run([sys.executable, "-m", "actinr.engines.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_export_and_info_end_to_end(carphone_run, tmp_path):
    out = tmp_path / "m16.engine"
    code, stdout, err = actinr("export", carphone_run.path, "-o", out, "--precision", "fp16", "--bias-rate", "2")
    assert code == 0, err
    bundle = B.load(out)
    assert bundle.manifest.precision == "fp16" and bundle.manifest.bias.rate == 2
    assert bundle.array(bias_name(1, 0)).shape == (9, 30, 64)  # 2 samples x 4 intervals + 1
    assert "fp16 weights" in stdout and "baked at 2 samples per frame interval" in stdout
    code, stdout, err = actinr("info", out)
    assert code == 0, err
    lines = stdout.splitlines()
    assert lines[0].startswith(f"{out}: actinr bundle v2, ")  # v2: the run moves only its first layer
    assert "clip       carphone.mp4: 176x144, 29.970 fps, 9 frames (0.27 s) from source frame 0" in lines
    assert "GOPs       2: frames 0-4, 4-8; switches mixed over 2 frames (through)" in lines
    assert "patches    30 (6x5) of 32 px, overlap 0" in lines
    assert any(line.startswith("plans      none") for line in lines)
    assert any(line.startswith("sections   14: graphs 2") for line in lines)
    code, stdout, _ = actinr("info", out, "--sections")
    assert "gop/001/weight/1" in stdout and "float16 [30, 2, 32, 64]" in stdout
    code, stdout, _ = actinr("info", out, "--json")
    assert json.loads(stdout)["gops"] == [{"first": 0, "last": 4}, {"first": 4, "last": 8}]


def test_export_help(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    out = capsys.readouterr().out
    assert "--bias-rate S" in out and "(default: 4)" in out and "--exact-bias" in out and "--tensorrt" in out


@pytest.mark.parametrize("args, message", [
    (["export", "{tmp}/none", "-o", "{tmp}/x.engine"], "none: no such run folder"),
    (["export", "{run}", "-o", "{tmp}/x.engine", "--bias-rate", "0"], "--bias-rate must be between 1 and 64"),
    (["export", "{run}", "-o", "{tmp}"], "is a folder; give the bundle's file name"),
    (["info", "{tmp}/none.engine"], "none.engine: no such file"),
    (["info", "{clip}"], "not an actinr bundle: this looks like an MP4/MOV video"),
])
def test_user_errors_are_one_line(tmp_path, carphone, carphone_run, args, message):
    args = [a.format(tmp=tmp_path, clip=carphone, run=carphone_run.path) for a in args]
    code, out, err = actinr(*args)
    assert code == 1, err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.engine").exists()


def test_tensorrt_without_tensorrt_or_gpu_says_which(tmp_path, carphone_run):
    from actinr.engines.tensorrt_build import machine_problems

    _, _, missing = machine_problems()
    if not missing:
        pytest.skip("this machine has TensorRT and a CUDA GPU (the build test covers it)")
    code, out, err = actinr("export", carphone_run.path, "-o", tmp_path / "x.engine", "--tensorrt")
    assert code == 1
    assert err.startswith("actinr export: error: --tensorrt needs ") and len(err.strip().splitlines()) == 1
    for what in missing:
        assert what in err
    assert not (tmp_path / "x.engine").exists()


def test_incomplete_run_exports_its_fitted_gops(carphone_run, tmp_path, capsys):
    partial = tmp_path / "partial"
    shutil.copytree(carphone_run.path, partial)
    cfg = json.loads((partial / "config.json").read_text())
    cfg["gops_done"] = 1  # as a run stopped in GOP 1 leaves it: one result, one GOP file
    cfg["results"] = [r for r in cfg["results"] if r["gop"] == 0]
    (partial / "config.json").write_text(json.dumps(cfg))
    (partial / "gop_001.safetensors").unlink()
    assert main(["export", str(partial), "-o", str(tmp_path / "p.engine")]) == 0
    out = capsys.readouterr().out
    assert "note: the run is incomplete: exporting the 1 fitted GOPs of 2 (frames 0-4)" in out
    m = B.load(tmp_path / "p.engine").manifest
    assert m.spans == [(0, 4)] and m.source.frames == 5


def test_info_into_a_closed_pipe_is_quiet(carphone_bundle):
    """`actinr info x.engine | head -1`: the reader goes away; no traceback, status 141 as after SIGPIPE."""
    proc = subprocess.Popen([sys.executable, "-m", "actinr.engines.cli", "info", str(carphone_bundle), "--sections"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command has written anything (its imports take far longer)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and err == ""
