"""The window's adaptive render scale, refinement, full-size screenshots, --geometry, autofit and --stats (Xvfb)."""

import json
import time

import numpy as np
import pytest

from actinr.engines.errors import ActinrError
from actinr.player import window as W
from actinr.player.adapt import FLOOR
from actinr.player.config import PlayConfig
from actinr.player.window import Player, autofit


class SlowDecoder:
    """The demo decoder, made slow: ``us_per_pixel`` of real sleep per rendered pixel (a machine too slow for
    its window)."""

    def __init__(self, dec, us_per_pixel: float):
        self.dec, self.us = dec, us_per_pixel
        self.info = dec.info
        self.sizes: list[tuple[int, int]] = []

    def render(self, t, size=None, viewport=None):
        w, h = size
        self.sizes.append((w, h))
        time.sleep(w * h * self.us * 1e-6)
        return self.dec.render(t, size, viewport)

    def __getattr__(self, name):
        return getattr(self.dec, name)


@pytest.fixture()
def window(xdisplay, demo_decoder, tmp_path):
    made = []

    def make(dec=None, window_size=(400, 327), **cfg):
        cfg.setdefault("osd", False)
        cfg.setdefault("vsync", False)
        cfg.setdefault("screenshots", str(tmp_path))
        made.append(Player(dec or demo_decoder, PlayConfig(**cfg), window_size=window_size))
        return made[-1]

    yield make
    for p in made:
        p.close()


def _press(p, key):
    p._on_key(p.window, key, 0, p.glfw.PRESS, 0)


def play_frames(p, n):
    for _ in range(n):
        p.frame()
        p.present()


def test_a_slow_decoder_lowers_the_scale_and_pausing_restores_full_size(window, demo_decoder):
    slow = SlowDecoder(demo_decoder, us_per_pixel=1.0)  # 131 ms at the full 400x327: 7.6 FPS
    p = window(slow, target_fps=30, start=0.5)
    assert p.full_size == (400, 327) and p.adapt is not None and p.scale == 1.0
    play_frames(p, 25)
    assert p.adapt.scale < 0.5 and p.render_size[0] < 200  # at most 1/4 of the pixels while playing
    assert slow.sizes[0] == (400, 327) and slow.sizes[-1] == p.render_size
    assert abs(p.render_size[0] / p.render_size[1] - 400 / 327) < 0.05  # the aspect ratio is kept
    _press(p, p.glfw.KEY_SPACE)  # pause: the still picture is rendered again at the full size
    assert p.scale == 1.0
    p.frame()
    assert p.last_render[1] == (400, 327) and slow.sizes[-1] == (400, 327)
    t = p.last_render[0]
    shown = p.read_pixels()
    assert np.abs(shown.astype(int) - demo_decoder.render(t, (400, 327))).max() <= 1


def test_a_screenshot_while_scaled_down_has_the_full_size(window, demo_decoder, tmp_path):
    from PIL import Image

    p = window(SlowDecoder(demo_decoder, us_per_pixel=1.0), target_fps=30, start=0.2)
    play_frames(p, 20)
    assert p.last_render[1][0] < 200
    t = p.last_render[0]
    _press(p, p.glfw.KEY_S)
    p.frame()  # the request is handled at the next frame, before it advances the clock's picture
    shot = np.asarray(Image.open(next(tmp_path.glob("*.png"))))
    assert shot.shape == (327, 400, 3)
    assert np.array_equal(shot, demo_decoder.render(t, (400, 327)))


def test_fast_decoding_keeps_full_size_and_target_zero_or_a_fixed_size_turn_it_off(window, demo_decoder):
    p = window(target_fps=30, start=0.1)  # the demo at 400x327 decodes in ~30 ms on 2 cores: may dip, must recover
    q = window(SlowDecoder(demo_decoder, us_per_pixel=1.0), target_fps=0, start=0.1)
    play_frames(q, 5)
    assert q.adapt is None and q.last_render[1] == (400, 327)
    r = window(SlowDecoder(demo_decoder, us_per_pixel=1.0), target_fps=30, size="200x164", start=0.1)
    play_frames(r, 5)
    assert r.adapt is None and r.last_render[1] == (200, 164)
    fast = window(target_fps=1, start=0.1)  # a budget of 1 s a frame: never scaled down
    play_frames(fast, 10)
    assert fast.scale == 1.0 and fast.adapt.changes == 0
    assert p.adapt.budget_ms == pytest.approx(1000 / 30)


class PaidDecoder:
    """A decoder that costs ``us_per_pixel`` of real sleep per pixel per GOP it evaluates (twice as much inside
    a GOP switch's window, as the real decoders do) and returns a grey frame: the decoding itself costs nothing,
    so the controller sees exactly the modelled cost."""

    def __init__(self, dec, us_per_pixel: float):
        self.dec, self.us = dec, us_per_pixel
        self.info = dec.info
        self.passes_seen: list[int] = []

    def render(self, t, size=None, viewport=None):
        w, h = size
        passes = self.dec.passes(t)
        self.passes_seen.append(passes)
        time.sleep(w * h * self.us * passes * 1e-6)
        return np.full((h, w, 3), 128, np.uint8)

    def __getattr__(self, name):
        return getattr(self.dec, name)


def test_a_gop_switch_does_not_drop_the_scale(window, demo_decoder):
    """At 20 FPS a frame has 50 ms; this decoder takes 33 ms at the full 400x327, 65 ms inside the switch
    window of the demo's first GOP switch (source frame 27, two frames wide): judged per pass, it fits. Counted
    whole, two such frames in a row dropped the scale at every switch (then it climbed back: a pumping picture)."""
    spans = demo_decoder.spans
    shared = spans[1][0]
    fps = demo_decoder.info.fps
    assert demo_decoder.passes(shared / fps) == 2 and demo_decoder.passes((shared - 3) / fps) == 1
    assert demo_decoder.passes(0.0) == 1
    paid = PaidDecoder(demo_decoder, us_per_pixel=0.25)
    p = window(paid, target_fps=20, start=(shared - 1.2) / fps, slowmo=20)  # the window lasts 1.33 s of play
    play_frames(p, 45)
    assert paid.passes_seen.count(2) >= 8  # many frames of the switch window were played
    assert p.adapt.changes == 0 and p.scale == 1.0
    assert p.last_render[1] == (400, 327)


def test_the_osd_names_the_scale(window, demo_decoder):
    p = window(SlowDecoder(demo_decoder, us_per_pixel=1.0), target_fps=30, start=0.3, osd=True)
    play_frames(p, 20)
    p._osd_dirty = True
    p._update_osd()
    w, h = p.render_size
    assert f"{w}x{h} ({p.scale:.0%})" in p._osd_text[0]


def test_stats_file_summary_agrees_with_its_records(window, demo_decoder, tmp_path):
    # --slowmo 10: the 20 frames stay far from the clip's last frame time, where every time shows the last frame
    # and a frame is not decoded again (on a loaded machine 20 frames once took past the 4 s clip: 19 decodes)
    p = window(SlowDecoder(demo_decoder, us_per_pixel=1.0), target_fps=30, start=0.0, slowmo=10.0,
               stats=str(tmp_path / "s.json"))
    play_frames(p, 20)
    _press(p, p.glfw.KEY_SPACE)
    play_frames(p, 3)  # paused: one full-size decode, then the same picture presented again
    p.write_stats(tmp_path / "s.json")
    doc = json.loads((tmp_path / "s.json").read_text())
    rec, summary = doc["records"], doc["summary"]
    assert doc["schema"] == "actinr-play-stats/1" and len(rec) == summary["frames"] == 23
    assert summary["decoded"] == sum(r["decoded"] for r in rec) == 21
    walls = [r["wall"] for r in rec]
    assert walls == sorted(walls)
    assert summary["displayed_fps"] == pytest.approx((len(walls) - 1) / (walls[-1] - walls[0]), rel=1e-3)
    assert summary["scale_changes"] == p.adapt.changes >= 1
    assert {r["render"] for r in rec[-3:]} == {"400x327"} and rec[-1]["scale"] == 1.0
    assert all(r["decode_ms"] > 0 for r in rec if r["decoded"]) and not rec[-1]["decoded"]
    assert min(r["scale"] for r in rec) >= FLOOR


def test_geometry_and_autofit(xdisplay, demo_decoder):
    assert autofit((176, 144), (1280, 1024)) == (640, 524)  # small clips open at least 640 wide
    assert autofit((176, 144), None) == (640, 524)
    assert autofit((1920, 1080), (1280, 1024)) == (1152, 648)  # at most 90 % of the screen
    assert autofit((1280, 720), (1920, 1080)) == (1280, 720)
    p = Player(demo_decoder, PlayConfig(osd=False, geometry="300x200", pause=True))
    try:
        assert p.fb_size == (300, 200)
    finally:
        p.close()
    q = Player(demo_decoder, PlayConfig(osd=False, pause=True))  # no size given: autofit to Xvfb's 1280x1024
    try:
        assert q.fb_size == (640, 524)
    finally:
        q.close()


def test_refresh_rate_is_the_default_target(window, monkeypatch):
    monkeypatch.setattr(W, "_refresh_rate", lambda glfw: 75)
    assert window().target_fps == 75.0
    monkeypatch.setattr(W, "_refresh_rate", lambda glfw: None)
    assert window().target_fps == W.DEFAULT_TARGET_FPS


@pytest.mark.parametrize("cfg, message", [
    ({"target_fps": -1}, "--target-fps must be between 0 (off) and 1000, got -1"),
    ({"geometry": "big"}, "--geometry"),
    ({"output": "x.mp4", "stats": "s.json"}, "--stats: for the window, not --output"),
    ({"output": "x.mp4", "target_fps": 24, "geometry": "640x360"}, "--target-fps, --geometry: for the window"),
])
def test_bad_window_options(cfg, message):
    with pytest.raises(ActinrError, match=message.replace("(", r"\(").replace(")", r"\)")):
        PlayConfig(**cfg).validate()
