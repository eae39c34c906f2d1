"""--compare: the source reader, the split view in the window (Xvfb) and in --output, and its messages."""

import av
import numpy as np
import pytest
import torch

from actinr.engines.errors import ActinrError
from actinr.player import compare as C
from actinr.player.config import PlayConfig
from actinr.player.window import Player


@pytest.fixture(scope="module")
def carphone_frames(carphone):
    with av.open(str(carphone)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def test_compose_psnr_and_resize():
    inr = np.full((4, 10, 3), 10, np.uint8)
    src = np.full((4, 10, 3), 200, np.uint8)
    out = C.compose(inr, src, 0.5)
    assert (out[:, :4] == 10).all() and (out[:, 4] == 255).all() and (out[:, 5:] == 200).all()
    assert (C.compose(inr, src, 0.0) == 200).all() and (C.compose(inr, src, 1.0) == 10).all()
    assert C.compose(inr, None, 0.5) is inr  # no source frame yet: the INR alone
    assert torch.equal(C.compose(torch.from_numpy(inr), src, 0.5), torch.from_numpy(out))
    assert C.psnr(inr, inr) == float("inf")
    assert C.psnr(inr, inr + 1) == pytest.approx(48.1308, abs=1e-3)  # 20 log10(255)
    img = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    assert C.resize(img, (8, 8)) is img
    assert C.resize(img, (4, 4)).shape == (4, 4, 3)
    assert np.array_equal(C.resize(img, (4, 4), (0.0, 0.0, 0.5, 0.5)), C.resize(img[:4, :4], (4, 4)))  # the view


def test_source_frames_match_the_clip_and_seek_back_after_eviction(carphone, carphone_frames, monkeypatch):
    src = C.SourceFrames(carphone, 10, 20, (176, 144), 29.97)
    try:
        assert src.notes == ["bundle frame 0 is source frame 10"]
        for f in (0, 7, 19):
            assert np.array_equal(src.wait(f), carphone_frames[10 + f])
        assert src.wait(25) is src.wait(19)  # clamped to the bundle's frames
    finally:
        src.close()
    monkeypatch.setattr(C, "CACHE_BYTES", 3 * 176 * 144 * 3)  # three frames: the first ones are evicted
    small = C.SourceFrames(carphone, 0, 40, (176, 144), 29.97)
    try:
        assert np.array_equal(small.wait(39), carphone_frames[39])
        assert len(small._cache) == 3
        assert np.array_equal(small.wait(12), carphone_frames[12])  # read again, by seeking
    finally:
        small.close()


def test_a_folder_of_frames_of_another_size_is_resized_with_a_note(tmp_path, carphone_frames):
    from PIL import Image

    for i in range(3):
        Image.fromarray(carphone_frames[i]).resize((88, 72)).save(tmp_path / f"f{i:03d}.png")
    src = C.SourceFrames(tmp_path, 0, 3, (176, 144), 30.0)
    try:
        assert src.notes == ["source 88x72 resized to the bundle's 176x144"]
        want = C.resize(np.asarray(Image.open(tmp_path / "f002.png").convert("RGB")), (176, 144))
        assert np.array_equal(src.wait(2), want)
    finally:
        src.close()


def test_bad_sources_are_one_line(tmp_path, carphone):
    with pytest.raises(ActinrError, match="--compare .*nothing: no such file or folder"):
        C.SourceFrames(tmp_path / "nothing", 0, 10, (176, 144), 30.0)
    with pytest.raises(ActinrError, match="no PNG or JPEG frames in this folder"):
        C.SourceFrames(tmp_path, 0, 10, (176, 144), 30.0)
    (tmp_path / "x.mp4").write_bytes(b"not a video")
    with pytest.raises(ActinrError, match="x.mp4: cannot read as video"):
        C.SourceFrames(tmp_path / "x.mp4", 0, 10, (176, 144), 30.0)
    with pytest.raises(ActinrError, match=r"the bundle plays source frames 100\.\.129 but this clip has 120 frames"):
        C.SourceFrames(carphone, 100, 30, (176, 144), 30.0)


@pytest.fixture()
def compare_window(xdisplay, demo_decoder, carphone):
    made = []

    def make(**cfg):
        cfg.setdefault("osd", False)
        cfg.setdefault("vsync", False)
        made.append(Player(demo_decoder, PlayConfig(compare=str(carphone), **cfg), window_size=(352, 288)))
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_the_window_splits_the_inr_and_the_source(compare_window, demo_decoder, carphone_frames):
    fps = demo_decoder.info.fps
    t = 10 / fps
    p = compare_window(pause=True, start=t)
    p.compare.wait(10)
    p.frame()
    shown = p.read_pixels().astype(int)
    inr = demo_decoder.render(t, (352, 288)).astype(int)
    src = C.resize(carphone_frames[10], (352, 288)).astype(int)
    assert np.abs(shown[:, :175] - inr[:, :175]).max() <= 1  # left of the divider: the decoder's frame
    assert (shown[:, 175] == 255).all()  # the divider
    assert np.abs(shown[:, 176:] - src[:, 176:]).max() <= 1  # right of it: the source frame
    p._on_key(p.window, p.glfw.KEY_I, 0, p.glfw.PRESS, 0)  # i: the OSD, with the PSNR
    p.frame()
    score = C.psnr(demo_decoder.render(t), carphone_frames[10])  # at the bundle's own size
    assert 30 < score < 45 and f"source frame 10: {score:.2f} dB" in p._osd_text[0]
    calls = []
    real = demo_decoder.render
    p.dec.render = lambda *a, **k: calls.append(a) or real(*a, **k)
    p._on_key(p.window, p.glfw.KEY_PERIOD, 0, p.glfw.PRESS, p.glfw.MOD_SHIFT)  # '>': the divider moves right
    p.frame()
    assert p.controls.split == pytest.approx(0.55) and calls == []  # split again, not decoded again
    assert (p.read_pixels()[100:, round(0.55 * 352) - 1] == 255).all()  # (below the OSD the keys showed)


def test_dragging_the_divider(compare_window, monkeypatch):
    p = compare_window(pause=True, start=0.2)
    p.frame()
    press = p.glfw.PRESS
    monkeypatch.setattr(p.glfw, "get_cursor_pos", lambda w: (176.0, 100.0))  # on the divider (window coordinates)
    p._on_mouse_button(p.window, p.glfw.MOUSE_BUTTON_LEFT, press, 0)
    assert p._dragging_split
    p._on_cursor(p.window, 88.0, 100.0)
    assert p.controls.split == pytest.approx(0.25) and p.controls.view.zoom == 1.0  # not a pan
    p._on_mouse_button(p.window, p.glfw.MOUSE_BUTTON_LEFT, p.glfw.RELEASE, 0)
    assert not p._dragging_split


def test_output_renders_the_split_view(tmp_path, demo_decoder, carphone, carphone_frames):
    from actinr.player.headless import render_video

    out = tmp_path / "ab.mp4"
    done = render_video(demo_decoder, PlayConfig(output=str(out), compare=str(carphone), duration=0.2,
                                                 compare_split=0.25), progress=False)
    assert done["frames"] == 6 and done["notes"] == []
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(float)
    inr = demo_decoder.render(0.0).astype(float)
    assert np.abs(frame[:, :40] - inr[:, :40]).mean() < 3  # x264 at CRF 16: a few levels
    assert np.abs(frame[:, 48:] - carphone_frames[0][:, 48:].astype(float)).mean() < 3
    assert np.abs(frame[:, 48:] - inr[:, 48:]).mean() > np.abs(frame[:, 48:] - carphone_frames[0][:, 48:]).mean()


def test_compare_split_must_be_a_fraction():
    with pytest.raises(ActinrError, match="--compare-split must be between 0 and 1, got 2"):
        PlayConfig(compare="x.mp4", compare_split=2.0).validate()
