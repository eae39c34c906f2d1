import math

import numpy as np
import pytest
import torch

from actinr.engines.errors import ActinrError
from actinr.player.cli import main
from actinr.player.config import PlayConfig
from actinr.player.headless import output_times, render_video
from actinr.train.metrics import psnr
from actinr.train.video import read_video


def _psnr(a, b):
    return psnr(torch.from_numpy(a / 255.0), torch.from_numpy(b / 255.0))


def test_output_has_duration_times_fps_frames_that_match_the_decoder(demo_decoder, tmp_path):
    cfg = PlayConfig(output=str(tmp_path / "slow.mp4"), size="352x288", slowmo=4, start=0.2, duration=0.5, fps=24)
    done = render_video(demo_decoder, cfg, progress=False)
    clip = read_video(cfg.output)
    assert done["frames"] == 12 and clip.frames.shape == (12, 288, 352, 3) and clip.fps == pytest.approx(24)
    times, fps = output_times(demo_decoder.info, cfg)
    assert times == pytest.approx(0.2 + np.arange(12) * 0.25 / 24)  # a quarter of a source second per second
    for k in (0, 5, 11):
        ref = demo_decoder.render(times[k], (352, 288))
        assert _psnr(clip.frames[k], ref) >= 35.0
    # Slow motion renders the model between frames: neighbouring output frames differ, but only slightly.
    assert 0 < np.abs(clip.frames[1].astype(int) - clip.frames[0]).mean() < 10


def test_default_renders_every_source_frame_once(demo_decoder, tmp_path):
    info = demo_decoder.info
    times, fps = output_times(info, PlayConfig(output="x.mp4"))
    assert fps == info.fps and len(times) == info.frames
    assert times == pytest.approx(np.arange(info.frames) / info.fps)
    times, _ = output_times(info, PlayConfig(output="x.mp4", slowmo=10, start=0.5))
    assert len(times) == math.ceil((info.duration - 0.5) * 10 * info.fps) and times[-1] <= info.last_time


def test_loop_and_hold_past_the_end(demo_decoder):
    info = demo_decoder.info
    start = info.duration - 0.1
    held, _ = output_times(info, PlayConfig(output="x.mp4", start=start, duration=0.5, fps=10, loop=False))
    assert held[-1] == pytest.approx(info.last_time) and len(held) == 5
    looped, _ = output_times(info, PlayConfig(output="x.mp4", start=start, duration=0.5, fps=10))  # loops by default
    assert looped[2] == pytest.approx(0.1)  # wrapped past the loop period frames / fps


def test_errors_leave_no_file(demo_decoder, tmp_path, monkeypatch):
    with pytest.raises(ActinrError, match="use one of .mp4"):
        render_video(demo_decoder, PlayConfig(output=str(tmp_path / "a.gif")), progress=False)
    with pytest.raises(ActinrError, match="past the last frame"):
        render_video(demo_decoder, PlayConfig(output=str(tmp_path / "a.mp4"), start=5.0), progress=False)
    real, calls = demo_decoder.render, []

    def failing(*a, **k):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(demo_decoder, "render", failing)
    with pytest.raises(KeyboardInterrupt):
        render_video(demo_decoder, PlayConfig(output=str(tmp_path / "a.mp4")), progress=False)
    assert list(tmp_path.iterdir()) == []  # neither the video nor its temp file


def test_cli_renders_the_demo_without_a_display(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out = tmp_path / "demo.mkv"
    assert main(["--output", str(out), "--fps", "10", "--duration", "0.3", "--quiet"]) == 0
    assert read_video(out).frames.shape[0] == 3 and capsys.readouterr().out == ""
    assert main(["--output", str(out), "--fps", "10", "--duration", "0.5", "--backend", "onnxruntime-cpu"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}: 5 frames, 176x144 at 10.000 fps (0.50 s), onnxruntime-cpu on cpu" in printed
