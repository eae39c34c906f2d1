"""GOP-parallel fitting on a local Ray instance (train/parallel.py), its reader, retries and resume."""

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import actinr.engines as E
from actinr.engines.errors import ActinrError
from actinr.train import parallel as P
from actinr.train.config import TrainConfig
from actinr.train.fit import train
from actinr.train.run import Run
from actinr.train.video import clip_info, read_video

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="ray is not installed (pip install 'actinr[ray]'; CI installs it)")


def tiny(carphone, **kw):
    """7 frames at 32x24 in 3 GOPs (0-2, 2-4, 4-6), hidden width 4, a few steps: seconds per GOP."""
    kw = {"frames": 7, "gop": 3, "resize": "32x24", "hidden": 4, "iters": 15, "batch": 16, "compile": False,
          "gop_shift": 0, **kw}
    return TrainConfig(source=str(carphone), **kw)


def test_chains_split_gops_into_contiguous_runs():
    assert P.chains([0, 1, 2, 3, 4, 5], 2) == [[0, 1, 2], [3, 4, 5]]
    assert P.chains([0, 1, 2, 3, 4], 2) == [[0, 1, 2], [3, 4]]
    assert P.chains([0, 1, 2], 4) == [[0], [1], [2]]
    assert P.chains([1, 4, 5], 2) == [[1, 4], [5]]
    assert P.chains([], 3) == []


def test_a_worker_reads_only_its_gops_frames(carphone):
    full = read_video(carphone, 0, 40)
    for start, count in ((0, 5), (13, 4), (31, 9)):
        part = read_video(carphone, start, count, only=True)
        assert part.frames.shape[0] == count and np.array_equal(part.frames, full.frames[start:start + count])
    info = clip_info(carphone, 2, 10, (32, 24))
    assert (info.size, info.frames.shape[0], info.total, info.start) == ((32, 24), 10, 120, 2)
    assert info.frames.nbytes == 0  # no pixels held
    with pytest.raises(ActinrError, match=r"frames 115\.\.124 requested but the clip ended after 120 frames"):
        read_video(carphone, 115, 10, only=True)


def test_the_task_reads_one_gop_and_fits_it(carphone, tmp_path, monkeypatch):
    """fit_gop_task in this process (as a Ray worker runs it): the reader is asked for exactly the frames the GOP
    is fitted to."""
    from actinr.train import fit

    run, _ = fit.new_run(tiny(carphone), tmp_path / "run", pixels=False)
    (tmp_path / "run").mkdir()
    run.save()
    calls = []
    real = read_video

    def spy(path, start=0, frames=None, resize=None, only=False):
        calls.append((start, frames, only))
        return real(path, start, frames, resize, only)

    monkeypatch.setattr("actinr.train.video.read_video", spy)
    out = P.fit_gop_task(str(tmp_path / "run"), 2, None, 1)
    # GOP 2 is frames 4-6, fitted with frame 3 too (--gop-margin 1: one fitted frame past its shared end), its
    # in-between targets' motion search started from frames 1 and 2 (train/tasks.py GUIDE_CONTEXT)
    assert calls == [(1, 6, True)] and out["frames_read"] == 6
    assert out["gop"] == 2 and out["result"]["first"] == 4 and set(out["state"]) == set(
        run_model_keys(run))


def run_model_keys(run):
    from actinr.train.model import GOPModel

    return GOPModel(**run.model_args()).state_dict().keys()


def test_workers_without_ray_say_what_to_install(carphone, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ActinrError, match=r"package 'ray', which is not installed: pip install 'actinr\[ray\]'"):
        train(tiny(carphone), tmp_path / "run", progress=False, workers=2)
    assert not (tmp_path / "run").exists()  # said before anything was written


@needs_ray
def test_two_workers_fit_the_same_layout_and_the_bundle_plays(carphone, tmp_path):
    from actinr.export.exporter import ExportConfig, export_run

    run = train(tiny(carphone), tmp_path / "par", progress=False, workers=2)
    seq = train(tiny(carphone), tmp_path / "seq", progress=False)
    assert run.complete and run.gops_done == 3 and run.spans == seq.spans == [(0, 2), (2, 4), (4, 6)]
    assert [r.gop for r in Run.load(run.path).results] == [0, 1, 2]
    export_run(run.path, tmp_path / "par.engine", ExportConfig())
    dec = E.open(tmp_path / "par.engine", backend="torch-cpu")
    img = dec.render(3.5 / dec.info.fps)
    assert img.shape == (24, 32, 3) and img.std() > 5  # a picture, not a blank
    # chain 0 = GOPs 0, 1 (1 warm-started from 0), chain 1 = GOP 2 (warm-started from GOP 0): GOP 1 is the
    # sequential fit from the same warm start, so it is within reach of it
    par = {r.gop: r.psnr for r in run.results}
    ref = {r.gop: r.psnr for r in seq.results}
    assert abs(par[1] - ref[1]) < 1.0


@needs_ray
def test_a_failed_task_is_retried_and_resume_fits_only_what_is_missing(carphone, tmp_path, monkeypatch):
    monkeypatch.setenv(P.FAIL_ENV, "1")  # GOP 1's first attempt fails; Ray retries it
    run = train(tiny(carphone), tmp_path / "retry", progress=False, workers=2, chain_start="cold")
    assert run.complete and (tmp_path / "retry" / ".test-failed-1").exists()
    with pytest.raises(ActinrError, match="--chain-start must be one of first, cold, got 'warm'"):
        P.train_parallel(run, 2, None, False, chain_start="warm")

    monkeypatch.setenv(P.FAIL_ENV, "1:always")  # GOP 1 fails every retry: the run stops, GOPs 0 and 2 are kept
    out = tmp_path / "broken"
    with pytest.raises(ActinrError, match=r"a worker failed fitting a GOP after 3 retries \(.*injected failure in "
                                          r"GOP 1\); 4 of 6 GOPs are fitted and kept: continue with: actinr train "
                                          r"--resume -o"):
        train(tiny(carphone, gop=2), out, progress=False, workers=2)  # GOPs 0-1, 1-2, ..., 5-6
    stopped = Run.load(out)  # chain 0-2 stopped at GOP 1 (and 2, which starts from it); chain 3-5 finished
    assert stopped.finished == {0, 3, 4, 5} and stopped.gops_done == 1 and not stopped.complete
    kept = {g: stopped.gop_file(g).stat().st_mtime_ns for g in stopped.finished}
    assert kept and 0 in kept
    monkeypatch.delenv(P.FAIL_ENV)
    done = train(None, out, resume=True, progress=False, workers=2)
    assert done.complete and Run.load(out).gops_done == len(done.spans)
    for g, mtime in kept.items():  # the GOPs finished before are not fitted again
        assert done.gop_file(g).stat().st_mtime_ns == mtime
    assert done.gop_file(1).is_file()


def test_sequential_resume_after_a_partial_parallel_run(carphone, tmp_path):
    """A run folder with GOPs finished out of order (as a stopped parallel run leaves it): --resume with one
    worker fits only the missing GOP, warm-started from the one before it."""
    out = tmp_path / "run"
    run = train(tiny(carphone), out, progress=False)
    mtimes = {g: run.gop_file(g).stat().st_mtime_ns for g in (0, 2)}
    run.gop_file(1).unlink()
    run.results = [r for r in run.results if r.gop != 1]
    run.gops_done = 1
    run.save()
    partial = Run.load(out)
    assert partial.finished == {0, 2} and partial.missing == [1]
    done = train(None, out, resume=True, progress=False)
    assert done.complete and done.gops_done == 3 and done.gop_file(1).is_file()
    assert {g: done.gop_file(g).stat().st_mtime_ns for g in (0, 2)} == mtimes


@needs_ray
def test_joining_a_running_ray_cluster(carphone, tmp_path, monkeypatch):
    """--ray-address: a Ray head started outside the run (as a cluster is), joined by address and left running."""
    import shutil
    import subprocess

    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    assert ray_cli, "the ray command line comes with the ray package"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    port = "6391"
    subprocess.run([ray_cli, "start", "--head", "--num-cpus", "2", "--port", port, "--include-dashboard", "false",
                    "--disable-usage-stats"], check=True, capture_output=True, env=env, timeout=120)
    try:
        monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
        run = train(tiny(carphone), tmp_path / "run", progress=False, workers=2, ray_address=f"127.0.0.1:{port}")
        assert run.complete and run.gops_done == 3
        status = subprocess.run([ray_cli, "status", "--address", f"127.0.0.1:{port}"], capture_output=True,
                                text=True, env=env, timeout=60)
        assert status.returncode == 0  # the cluster is still up: the run joined it and did not shut it down
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, env=env, timeout=120)
