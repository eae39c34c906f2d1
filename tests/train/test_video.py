import numpy as np
import pytest

from actinr.engines.errors import ActinrError
from actinr.engines.media import parse_size, write_png, write_video
from actinr.train.metrics import psnr
from actinr.train.video import read_video


def test_read_carphone(carphone):
    clip = read_video(carphone, start=10, frames=5)
    assert clip.frames.shape == (5, 144, 176, 3) and clip.frames.dtype == np.uint8
    assert clip.total == 120 and clip.fps == pytest.approx(30000 / 1001)
    whole = read_video(carphone, frames=15)
    assert np.array_equal(whole.frames[10:], clip.frames)
    assert 40 < clip.frames.mean() < 200  # real picture content, not black


def test_resize(carphone):
    clip = read_video(carphone, frames=2, resize=(88, 72))
    assert clip.frames.shape == (2, 72, 88, 3)
    full = read_video(carphone, frames=2).frames
    small = full.reshape(2, 72, 2, 88, 2, 3).mean(axis=(2, 4))
    assert np.abs(clip.frames.astype(float) - small).mean() < 6  # close to a box-filtered shrink


@pytest.mark.parametrize("start, frames, message", [
    (120, None, r"frames 120\.\.119 requested but the clip has 120 frames \(0\.\.119\)"),
    (100, 30, r"frames 100\.\.129 requested but the clip has 120 frames"),
    (0, 0, "--frames >= 1"),
])
def test_range_outside_clip(carphone, start, frames, message):
    with pytest.raises(ActinrError, match=message) as err:
        read_video(carphone, start=start, frames=frames)
    assert "carphone.mp4" in str(err.value)


def test_missing_unreadable_and_empty(tmp_path):
    with pytest.raises(ActinrError, match="nope.mp4: no such file"):
        read_video(tmp_path / "nope.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video at all" * 10)
    with pytest.raises(ActinrError, match="bad.mp4: cannot read as video"):
        read_video(bad)
    empty = tmp_path / "frames"
    empty.mkdir()
    with pytest.raises(ActinrError, match="frames: no video frames found"):
        read_video(empty)


def test_png_folder_round_trip(carphone, tmp_path):
    frames = read_video(carphone, frames=3).frames
    for i, f in enumerate(frames):
        write_png(tmp_path / f"{i:04d}.png", f)
    clip = read_video(tmp_path, start=1)
    assert np.array_equal(clip.frames, frames[1:]) and clip.total == 3


def test_mp4_round_trip(carphone, tmp_path):
    frames = read_video(carphone, frames=4).frames
    write_video(tmp_path / "out.mp4", frames, fps=25)
    back = read_video(tmp_path / "out.mp4")
    assert back.frames.shape == frames.shape and back.fps == pytest.approx(25)
    import torch

    assert psnr(torch.from_numpy(back.frames / 255.0), torch.from_numpy(frames / 255.0)) > 35
    assert not list(tmp_path.glob(".*"))  # no temp files left behind


def test_parse_size():
    assert parse_size("640x360") == (640, 360)
    for bad in ("640", "axb", "0x10", "-1x5"):
        with pytest.raises(ActinrError, match="WIDTHxHEIGHT|positive"):
            parse_size(bad)
