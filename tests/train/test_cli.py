"""The command line: help texts, and user mistakes as one line with exit status 1."""

import subprocess
import sys

import pytest

from actinr.engines.cli import main


def actinr(*args):
    proc = subprocess.run([sys.executable, "-m", "actinr.engines.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "train" in out and "eval" in out


def test_train_help_comes_from_the_config_docs(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "frames per group of pictures" in out and "(default: 10)" in out and "--resume" in out


def test_unknown_command(capsys):
    assert main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["train", "{tmp}/missing.mp4", "-o", "{tmp}/r"], "missing.mp4: no such file or folder"),
    (["train", "{clip}", "-o", "{tmp}/r", "--start", "500"], "frames 500..119 requested but the clip has 120 frames"),
    (["train", "{clip}", "-o", "{tmp}/r", "--resize", "big"], "--resize must look like WIDTHxHEIGHT"),
    (["train", "{clip}", "-o", "{tmp}/r", "--gop", "1"], "--gop must be >= 2, got 1"),
    (["train", "{clip}", "-o", "{tmp}/r", "--overlap", "30"], "patch overlap must be between 0 and half"),
    (["train", "{clip}", "-o", "{tmp}/r", "--overlap", "-2"], "--overlap must be -1 (auto) or >= 0, got -2"),
    (["train", "-o", "{tmp}/r"], "a source video is required"),
    (["train", "--resume", "-o", "{tmp}/nothing"], "nothing: no such run folder"),
    (["eval", "{tmp}"], "not a run folder (no config.json)"),
])
def test_user_errors_are_one_line(tmp_path, carphone, args, message):
    args = [a.format(tmp=tmp_path, clip=carphone) for a in args]
    code, out, err = actinr(*args)
    assert code == 1, err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r").exists()  # nothing half-written


def test_train_and_eval_end_to_end(tmp_path, carphone):
    code, out, err = actinr("train", carphone, "-o", tmp_path / "r", "--frames", "3", "--iters", "20",
                            "--hidden", "8", "--batch", "16", "--no-compile")
    assert code == 0, err
    assert "GOP 1/1  frames 0-2" in out + err and "mean fit PSNR" in out
    # --patch 0 on carphone's detailed frames (about 27.6 dB against their 2x low-pass): 24 px, not 32
    assert "1 GOPs of 63 patches of 24 px, the frames' detail 27." in out
    from actinr.train.fit import native_bf16  # --matmul auto: bf16 where this CPU computes it natively

    assert f"of training (hidden products in {'bf16' if native_bf16('auto') else 'fp32'})" in out
    code, out, err = actinr("eval", tmp_path / "r", "--json", tmp_path / "e.json")
    assert code == 0, err
    import json

    rep = json.loads((tmp_path / "e.json").read_text())
    assert len(rep["frames"]) == 3 and rep["overall"]["psnr"] > 10
    assert f"{rep['overall']['psnr']:.2f} dB" in out
