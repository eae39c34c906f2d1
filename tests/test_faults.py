"""I/O faults, signals and memory as a user meets them: one line, exit 1 (or 128 + signal), nothing half-written.

Each command's output is tried as a folder, an existing file where a folder is
wanted, a path nobody can write (/proc), a missing parent (created), and a
full disk: a real one (a 256 kB tmpfs, where this machine lets us mount one)
and an injected ENOSPC (always).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actinr.engines import files, memory
from actinr.engines.errors import ActinrError

DEMO = Path(__file__).resolve().parents[1] / "player" / "data" / "demo.engine"


def actinr(*args, timeout=180):
    proc = subprocess.run([sys.executable, "-m", "actinr.engines.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def one_line_error(code, err, message):
    assert code == 1, err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def leftovers(folder: Path) -> list[str]:
    """Everything in ``folder`` (temp files included: their names start with a dot)."""
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture()
def small_disk(tmp_path):
    """A 256 kB tmpfs: a disk that really fills up. Skipped, saying why, where mounting is not permitted (the
    injected-ENOSPC tests below cover the same code there)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({proc.stderr.strip() or proc.returncode}); "
                    "the injected-ENOSPC tests cover full disks")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


# --- the checks, one by one ---------------------------------------------------------------------


def test_check_output_refuses_what_cannot_be_written(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ActinrError, match="is a folder; give a file name"):
        files.check_output(tmp_path, what="-o")
    with pytest.raises(ActinrError, match="is a file, not a folder"):
        files.check_output(tmp_path / "file", folder=True)
    with pytest.raises(ActinrError, match="file is a file, not a folder"):
        files.check_output(tmp_path / "file" / "x.engine")
    with pytest.raises(ActinrError, match="cannot write in /proc"):
        files.check_output("/proc/x.engine")
    # a missing parent is fine (the write creates it), and the check leaves nothing behind
    assert files.check_output(tmp_path / "new" / "deeper" / "x.engine")
    assert leftovers(tmp_path) == ["file"]


def test_injected_disk_full_is_one_line_and_leaves_nothing(tmp_path):
    def full(tmp):
        Path(tmp).write_bytes(b"half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(files.WriteError, match=r"x.bin: cannot write: the disk is full \(no space left on device\)"):
        files.write_atomic(tmp_path / "x.bin", full)
    assert leftovers(tmp_path) == []


def test_real_disk_full_through_safetensors_and_av(small_disk):
    import numpy as np
    import torch

    from actinr.engines.media import write_video
    from actinr.train.run import save_tensors

    with pytest.raises(files.WriteError, match="disk is full"):
        save_tensors(small_disk / "big.safetensors", {"w": torch.zeros(200_000)})
    noise = np.random.default_rng(0).integers(0, 256, (30, 288, 352, 3), dtype=np.uint8)
    with pytest.raises(files.WriteError, match="disk is full"):
        write_video(small_disk / "noise.mp4", noise, 30.0)
    assert leftovers(small_disk) == []


# --- every command ------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["export", "{run}", "-o", "/proc/x.engine"], "-o /proc/x.engine: cannot write in /proc"),
    (["export", "{run}", "-o", "{tmp}"], "is a folder; give the bundle's file name"),
    (["export", "{run}", "-o", "{tmp}/file/x.engine"], "file is a file, not a folder"),
    (["play", str(DEMO), "--output", "/proc/x.mp4"], "--output /proc/x.mp4: cannot write in /proc"),
    (["play", str(DEMO), "--output", "{tmp}/dir.mp4"], "dir.mp4: is a folder"),
    (["play", str(DEMO), "--screenshots", "{tmp}/file"], "--screenshots {tmp}/file: is a file, not a folder"),
    (["play", str(DEMO), "--screenshots", "/proc/shots"], "--screenshots /proc/shots: cannot write in /proc"),
    (["eval", "{run}", "--json", "/proc/x.json"], "--json /proc/x.json: cannot write in /proc"),
    (["bench", str(DEMO), "--json", "/proc/x.json"], "--json /proc/x.json: cannot write in /proc"),
    (["bench", str(DEMO), "--save", "{tmp}/file"], "--save {tmp}/file: not a folder"),
    (["slowmo-strip", str(DEMO), "--region", "0,0,32,32", "--t0", "0", "--t1", "0.1", "-o", "/proc/x.png"],
     "-o /proc/x.png: cannot write in /proc"),
    (["train", "{clip}", "-o", "{tmp}/file"], "-o {tmp}/file: is a file, not a folder"),
    (["train", "{clip}", "-o", "/proc/run"], "-o /proc/run: cannot write in /proc"),
])
def test_bad_output_paths_fail_at_once(tmp_path, carphone, carphone_run, args, message):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir.mp4").mkdir()
    fill = dict(tmp=tmp_path, clip=carphone, run=carphone_run.path)
    started = time.perf_counter()
    code, out, err = actinr(*[a.format(**fill) for a in args])
    one_line_error(code, err, message.format(**fill))
    assert out == ""  # failed before any work: no report, no bench table
    assert time.perf_counter() - started < 60
    assert leftovers(tmp_path) == ["dir.mp4", "file"]


def test_missing_parent_folders_are_created(tmp_path, carphone_run):
    code, _, err = actinr("export", carphone_run.path, "-o", tmp_path / "a" / "b" / "m.engine", "--quiet")
    assert code == 0, err
    assert (tmp_path / "a" / "b" / "m.engine").is_file() and leftovers(tmp_path / "a" / "b") == ["m.engine"]


def test_disk_full_during_export_and_output(small_disk, carphone_run):
    code, _, err = actinr("export", carphone_run.path, "-o", small_disk / "m.engine", "--quiet")
    one_line_error(code, err, f"{small_disk / 'm.engine'}: cannot write: the disk is full")
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "filler").write_bytes(b"\0" * (free - 16384))  # 16 kB left: less than the video needs
    code, _, err = actinr("play", DEMO, "--output", small_disk / "demo.mp4", "--size", "352x288", "--quiet")
    one_line_error(code, err, f"{small_disk / 'demo.mp4'}: cannot write: the disk is full")
    assert leftovers(small_disk) == ["filler"]


def test_disk_full_during_training_keeps_a_resumable_run(small_disk, carphone):
    out = small_disk / "run"
    code, _, err = actinr("train", carphone, "-o", out, "--frames", "4", "--gop", "4", "--iters", "5",
                          "--no-compile", "--quiet")
    one_line_error(code, err, f"{out / 'gop_000.safetensors'}: cannot write: the disk is full")
    assert f"continue with: actinr train --resume -o {out}" in err
    assert leftovers(out) == ["config.json"]  # no temp file, no lock, and the run loads
    from actinr.train.run import Run

    assert Run.load(out).gops_done == 0


def test_sigterm_during_output_removes_the_temp_file(tmp_path):
    out = tmp_path / "slow.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "actinr.engines.cli", "play", str(DEMO), "--output", str(out),
                             "--slowmo", "50", "--size", "704x576", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any(p.name.startswith(".slow.") for p in tmp_path.iterdir()) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # some frames into the file
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    assert leftovers(tmp_path) == []


# --- memory -------------------------------------------------------------------------------------


def test_a_frame_that_cannot_fit_is_refused_before_starting(monkeypatch, tmp_path):
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 << 30)
    with pytest.raises(ActinrError, match=r"--output at 12000x12000 needs about 4\.0 GB of memory .* this machine "
                                          r"has 2\.0 GB available"):
        memory.check_memory((12000, 12000), memory.ENCODE_BYTES_PER_PIXEL, "--output")
    code, _, err = actinr("play", DEMO, "--output", tmp_path / "x.mp4", "--size", "16384x16384")
    one_line_error(code, err, "--output cannot encode 16384x16384 frames")
    assert leftovers(tmp_path) == []


def test_large_frames_render_in_bounded_memory(tiny_bundle):
    """A 4096x4096 frame (50 MB) of a tiny model: without stripes the grid and plan alone took about 2.2 GB."""
    script = (
        "import resource, sys, torch\n"
        "torch.set_num_threads(1)\n"
        "import actinr.engines as E\n"
        "from actinr.engines.memory import RENDER_OVERHEAD\n"
        "d = E.open(sys.argv[1], backend='torch-cpu')\n"
        "d.render(0.01, (64, 64))\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "img = d.render(0.01, (4096, 4096))\n"
        "extra = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base\n"
        "print(json.dumps([list(img.shape), img.nbytes, extra, RENDER_OVERHEAD]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", "import json\n" + script, str(tiny_bundle)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    shape, nbytes, extra, bound = json.loads(proc.stdout)
    assert shape == [4096, 4096, 3]
    assert extra < nbytes + bound, f"{extra / 2**20:.0f} MB beyond the start for a {nbytes / 2**20:.0f} MB frame"
