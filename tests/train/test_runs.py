"""Runs as processes meet them: SIGTERM behaves as Ctrl-C, --resume keeps the run's options, one trainer per run."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from actinr.engines.errors import ActinrError
from actinr.train.config import TrainConfig
from actinr.train.fit import Interrupted, train
from actinr.train.run import LOCK_NAME, Run, RunLock

SMALL = dict(frames=7, gop=4, iters=60, batch=48, hidden=16, patch=32, compile=False)
LONG = ["--frames", "4", "--gop", "4", "--iters", "100000", "--batch", "16", "--hidden", "8", "--no-compile"]


def cfg(carphone, **kw) -> TrainConfig:
    return TrainConfig(source=str(carphone), **{**SMALL, **kw})


def cli(*args, **kw):
    return [sys.executable, "-m", "actinr.engines.cli", *map(str, args)]


def start_training(carphone, out):
    """A long CLI training of ``out``, once it has written its config and taken some steps."""
    proc = subprocess.Popen(cli("train", carphone, "-o", out, *LONG), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "config.json").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    return proc


def test_sigterm_checkpoints_and_resume_equals_an_uninterrupted_run(carphone, tmp_path):
    ref = train(cfg(carphone), tmp_path / "ref", progress=False)
    sent = {}

    def sigterm_at(g, step):
        if (g, step) == (1, 20) and not sent:
            sent["yes"] = True
            os.kill(os.getpid(), signal.SIGTERM)

    out = tmp_path / "term"
    with pytest.raises(Interrupted, match=r"stopped by SIGTERM in GOP 2/2 at step 21") as stop:
        train(cfg(carphone), out, progress=False, on_step=sigterm_at)
    assert stop.value.signum == signal.SIGTERM
    assert (out / "resume.safetensors").exists() and not (out / LOCK_NAME).exists()
    train(None, out, resume=True, progress=False)
    done = Run.load(out)
    for g in range(2):
        a, b = load_file(ref.gop_file(g)), load_file(done.gop_file(g))
        assert all(torch.equal(a[k], b[k]) for k in a), f"GOP {g} differs after SIGTERM and resume"


def test_sigterm_from_the_command_line_exits_143_with_the_resume_hint(carphone, tmp_path):
    out = tmp_path / "cli"
    proc = start_training(carphone, out)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM in GOP 1/1" in err and f"continue with: actinr train --resume -o {out}" in err
    assert Run.load(out).resume.step > 0 and not (out / LOCK_NAME).exists()


def test_a_second_process_cannot_train_the_same_run(carphone, tmp_path):
    out = tmp_path / "busy"
    proc = start_training(carphone, out)
    try:
        second = subprocess.run(cli("train", "--resume", "-o", out), capture_output=True, text=True, timeout=120)
        assert second.returncode == 1, second.stderr
        assert f"{out}: is being trained by pid {proc.pid} on " in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 130


def test_a_stale_lock_of_a_killed_process_is_taken_over(carphone, tmp_path, capsys):
    out = tmp_path / "stale"
    proc = start_training(carphone, out)
    proc.kill()  # SIGKILL: no cleanup, the lock file stays
    proc.communicate(timeout=60)
    assert f"pid {proc.pid} on" in (out / LOCK_NAME).read_text()
    with pytest.raises(ActinrError, match="resume continues"):  # it gets past the lock to the option check
        train(None, out, resume=True, progress=True, given={"iters": 7})
    assert f"took over a stale lock (pid {proc.pid} on" in capsys.readouterr().err
    assert not (out / LOCK_NAME).exists()


def test_the_lock_in_process(tmp_path):
    with RunLock(tmp_path) as held:
        assert held.stale is None and f"pid {os.getpid()} on" in (tmp_path / LOCK_NAME).read_text()
        with pytest.raises(ActinrError, match=f"is being trained by pid {os.getpid()} on"):
            RunLock(tmp_path).__enter__()
    assert not (tmp_path / LOCK_NAME).exists()


def test_resume_refuses_changed_options_and_accepts_the_same(carphone, tmp_path):
    out = tmp_path / "run"
    stop = {}

    def halt(g, step):
        if step == 5 and not stop:
            stop["yes"] = True
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted):
        train(cfg(carphone, frames=4, gop=4), out, progress=False, on_step=halt)
    code = subprocess.run(cli("train", "--resume", "-o", out, "--iters", "500", "--hidden", "64", tmp_path / "o.mp4"),
                          capture_output=True, text=True, timeout=120)
    assert code.returncode == 1
    err = code.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"SOURCE {tmp_path / 'o.mp4'} (run: {carphone.resolve()})" in err
    assert "--iters 500 (run: 60)" in err and "--hidden 64 (run: 16)" in err
    assert Run.load(out).resume.step == 6  # untouched
    # the run's own values, typed again, are not a change
    ok = subprocess.run(cli("train", "--resume", "-o", out, "--iters", "60", carphone, "--quiet"),
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert Run.load(out).complete
