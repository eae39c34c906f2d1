import subprocess
import sys

import pytest

from actinr.engines import bundle as B
from actinr.engines.cli import main as actinr_main
from actinr.player.cli import DEMO, main


def test_help_lists_keys_and_flags(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for text in ("usage: actinr-play", "--slowmo N", "--no-vsync", "--size WxH", "--output FILE", "--loop",
                 "shift+left", "speed x 1.1", "screenshot", "wheel", "actinr-play model.engine --slowmo 10"):
        assert text in out


@pytest.mark.parametrize("argv, message", [
    (["/no/such.engine", "--output", "x.mp4"], "actinr-play: error: /no/such.engine: no such file"),
    (["--size", "big"], "actinr-play: error: --size must look like WIDTHxHEIGHT"),
    (["--slowmo", "0"], "actinr-play: error: --slowmo must be a positive number"),
    (["--output", "x.avi"], "actinr-play: error: x.avi: cannot write this kind of video"),
    (["--backend", "nope", "--output", "x.mp4"], "actinr-play: error: unknown backend 'nope'"),
])
def test_user_errors_are_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_invalid_bundle_and_no_display(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "cut.engine"
    bad.write_bytes(DEMO.read_bytes()[:100_000])  # a truncated download
    assert main([str(bad), "--output", str(tmp_path / "x.mp4")]) == 1
    assert "cut.engine" in capsys.readouterr().err
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert actinr_main(["play"]) == 1  # the same command as `actinr play`
    err = capsys.readouterr().err
    assert err.startswith("actinr play: error: no display to open a window on") and err.count("\n") == 1


def test_demo_bundle_is_small_and_plays_the_real_clip(demo_decoder, carphone):
    import numpy as np
    import torch

    from actinr.train.metrics import psnr
    from actinr.train.video import read_video

    assert DEMO.stat().st_size < 2_000_000
    b = B.load(DEMO)
    assert b.manifest.source.name == "carphone.mp4" and b.manifest.source.frames == 120
    assert b.manifest.bias.still == (1, 2)  # only the first layer's biases move: one row for the others
    b.close()
    assert demo_decoder.info.duration > 3.5  # several seconds, long enough to show motion
    clip = read_video(carphone, frames=120).frames
    shown = np.stack([demo_decoder.render(f / demo_decoder.info.fps) for f in range(120)])
    score = psnr(torch.from_numpy(shown / 255.0), torch.from_numpy(clip / 255.0))
    assert score > 35.0  # a real fit of all 120 carphone frames (37.18 dB measured), not a placeholder
    moved = np.abs(shown[0].astype(int) - shown[-1]).mean()
    assert moved > 15  # the picture changes over the clip (the source's first and last frames differ by 24.7)


def test_player_imports_neither_train_nor_export(tmp_path):
    code = (f"import sys; from actinr.player.cli import main; from actinr.player import window; "
            f"assert main(['--output', {str(tmp_path / 'a.mp4')!r}, '--duration', '0.1', '--quiet']) == 0; "
            f"bad = sorted(m for m in sys.modules if m.startswith(('actinr.train', 'actinr.export'))); "
            f"assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
