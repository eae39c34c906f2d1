"""The real player window under Xvfb (Mesa's llvmpipe OpenGL): pixels, keys, resize, zoom, screenshots."""

import time

import numpy as np
import pytest

from actinr.engines.errors import ActinrError
from actinr.player import window as W
from actinr.player.config import PlayConfig
from actinr.player.window import Player


@pytest.fixture()
def player(xdisplay, demo_decoder, fake_time, tmp_path):
    def make(window_size=(352, 288), **cfg):
        cfg.setdefault("osd", False)
        cfg.setdefault("vsync", False)
        cfg.setdefault("screenshots", str(tmp_path))
        made.append(Player(demo_decoder, PlayConfig(**cfg), now=fake_time, window_size=window_size))
        return made[-1]

    made = []
    yield make
    for p in made:
        p.close()


def _key(p, key, mods=0, action=None):
    glfw = p.glfw
    p._on_key(p.window, key, 0, glfw.PRESS if action is None else action, mods)


def test_window_shows_the_decoders_frame_exactly(player, demo_decoder):
    p = player(size="352x288", start=0.4, pause=True)
    assert p.fb_size == (352, 288) and p.rect == (0, 0, 352, 288) and p.uploader.path == "host upload (CPU decoder)"
    assert p.frame()
    shown = p.read_pixels()
    ref = demo_decoder.render(0.4, (352, 288))
    assert shown.shape == (288, 352, 3)
    assert np.abs(shown.astype(int) - ref).max() <= 1
    p.present()


def test_letterbox_and_fixed_size_scaling(player, demo_decoder):
    p = player(window_size=(500, 300), start=0.2, pause=True)  # wider than 176:144
    assert p.rect == (66, 0, 367, 300) and p.render_size == (367, 300)
    p.frame()
    shown = p.read_pixels()
    assert shown[:, :66].max() == 0 and shown[:, 66 + 367:].max() == 0  # black bars
    ref = demo_decoder.render(0.2, (367, 300))
    assert np.abs(shown[:, 66:66 + 367].astype(int) - ref).max() <= 1  # the INR rendered at the window's size
    q = player(window_size=(352, 288), size="176x144", start=0.2, pause=True)  # --size: rendered small, scaled up
    q.frame()
    assert q.last_render[1] == (176, 144)
    scaled = q.read_pixels().astype(float)
    small = demo_decoder.render(0.2, (176, 144)).astype(float)
    assert np.abs(scaled[1::2, 1::2] - small).mean() < 8  # bilinear 2x: close to the source pixels


def test_keys_drive_the_clock(player, fake_time):
    glfw = W.import_glfw()
    p = player(start=0.1, loop=False)  # a seek before the start then stops at 0 (looping, it wraps)
    fake_time.t += 0.2
    assert p.clock.time() == pytest.approx(0.3)
    _key(p, glfw.KEY_SPACE)  # pause holds time
    fake_time.t += 3.0
    assert p.clock.paused and p.clock.time() == pytest.approx(0.3)
    _key(p, glfw.KEY_SPACE, action=glfw.REPEAT)  # a held space does not toggle again
    assert p.clock.paused
    _key(p, glfw.KEY_P)
    _key(p, glfw.KEY_RIGHT_BRACKET)  # ] multiplies speed by 1.1
    assert p.clock.speed == pytest.approx(1.1)
    _key(p, glfw.KEY_RIGHT_BRACKET, glfw.MOD_SHIFT)  # } doubles
    assert p.clock.speed == pytest.approx(2.2)
    _key(p, glfw.KEY_BACKSPACE)
    assert p.clock.speed == 1.0
    _key(p, glfw.KEY_PERIOD)  # frame step: exactly one frame-time, paused
    t0 = p.clock.time()
    _key(p, glfw.KEY_PERIOD, action=glfw.REPEAT)
    assert p.clock.paused and p.clock.time() - t0 == pytest.approx(1 / p.dec.info.fps, abs=1e-12)
    _key(p, glfw.KEY_COMMA)
    assert p.clock.time() == pytest.approx(t0, abs=1e-12)
    _key(p, glfw.KEY_RIGHT, glfw.MOD_SHIFT)
    assert p.clock.time() - t0 == pytest.approx(1 / p.dec.info.fps, abs=1e-12)
    _key(p, glfw.KEY_LEFT)
    assert p.clock.time() == 0.0
    _key(p, glfw.KEY_Q)
    assert p.controls.requests.quit


def test_slowmo_plays_a_tenth_of_a_second_per_second(player, fake_time):
    p = player(slowmo=10)
    for _ in range(4):
        fake_time.t += 0.5
        p.frame()
    assert p.clock.time() == pytest.approx(0.2) and p.last_render[0] == pytest.approx(0.2)


def test_resize_changes_the_render_size(player):
    p = player(window_size=(352, 288), pause=True)
    p.frame()
    assert p.last_render[1] == (352, 288)
    p.glfw.set_window_size(p.window, 440, 360)
    deadline = time.monotonic() + 5
    while p.fb_size != (440, 360) and time.monotonic() < deadline:
        p.glfw.wait_events_timeout(0.05)
    assert p.fb_size == (440, 360)
    p.frame()
    assert p.last_render[1] == (440, 360)


def test_zoom_pan_and_reset_change_the_viewport(player, demo_decoder, fake_time):
    glfw = W.import_glfw()
    p = player(pause=True, start=0.5)
    p.glfw.set_cursor_pos(p.window, 88, 72)  # a quarter in from the top-left corner
    p._on_scroll(p.window, 0, 4)
    p.frame()
    vp = p.last_render[2]
    assert vp[2] - vp[0] == pytest.approx(1 / 1.25 ** 4)
    assert p.controls.view.point(0.25, 0.25) == pytest.approx((0.25, 0.25))  # the point under the cursor stays
    assert np.abs(p.read_pixels().astype(int) - demo_decoder.render(0.5, (352, 288), vp)).max() <= 1
    p._on_mouse_button(p.window, glfw.MOUSE_BUTTON_LEFT, glfw.PRESS, 0)
    p._on_cursor(p.window, 88 + 35.2, 72)  # drag right by a tenth of the width: the view moves left
    p._on_mouse_button(p.window, glfw.MOUSE_BUTTON_LEFT, glfw.RELEASE, 0)
    assert p.controls.view.viewport[0] == pytest.approx(vp[0] - 0.1 / 1.25 ** 4)
    _key(p, glfw.KEY_0)
    p.frame()
    assert p.last_render[2] == (0.0, 0.0, 1.0, 1.0)


def test_screenshot_osd_and_pause_skip_decoding(player, demo_decoder, tmp_path):
    from PIL import Image

    glfw = W.import_glfw()
    p = player(window_size=(400, 300), pause=True, start=0.3, osd=True)
    calls = []
    real = demo_decoder.render
    p.dec.render = lambda *a, **k: calls.append(a) or real(*a, **k)
    p.frame()
    with_osd = p.read_pixels()
    p.frame()
    assert len(calls) == 1  # paused, same size and view: nothing decoded again
    _key(p, glfw.KEY_O)
    p.frame()
    without = p.read_pixels()
    assert np.abs(with_osd[:12].astype(int) - without[:12]).max() > 100  # the line was drawn over the frame
    _key(p, glfw.KEY_S)
    p.frame()
    shots = list(tmp_path.glob("*.png"))
    assert [s.name for s in shots] == ["carphone-0000.300s.png"]
    img = np.asarray(Image.open(shots[0]))
    assert img.shape == (300, 367, 3) and np.array_equal(img, real(0.3, (367, 300)))


def test_unsupported_gl_version_is_one_error(xdisplay, demo_decoder, monkeypatch):
    monkeypatch.setattr(W, "GL_VERSION", (9, 9))
    with pytest.raises(ActinrError, match=r"OpenGL 9\.9 core profile is not available .*--output"):
        Player(demo_decoder, PlayConfig())


def test_start_past_the_end_is_one_error(xdisplay, demo_decoder):
    last = f"{demo_decoder.info.last_time:.3f}".replace(".", r"\.")
    with pytest.raises(ActinrError, match=rf"--start must be between 0 and {last} s \(the last frame\), got 5"):
        Player(demo_decoder, PlayConfig(start=5.0))


def test_no_display_is_one_error(demo_decoder, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(ActinrError, match="no display to open a window on .*--output out.mp4"):
        Player(demo_decoder, PlayConfig())


def _drive(monkeypatch, p, on_tick):
    """Call ``on_tick()`` at every event poll or wait of ``p.run()`` (where GLFW would deliver input)."""
    glfw = p.glfw
    poll, wait = glfw.poll_events, glfw.wait_events_timeout

    def tick(*timeout):
        on_tick()
        return wait(min(timeout[0], 0.01)) if timeout else poll()

    monkeypatch.setattr(glfw, "poll_events", tick)
    monkeypatch.setattr(glfw, "wait_events_timeout", tick)


def test_run_loop_presents_frames_until_quit(player, fake_time, monkeypatch):
    glfw = W.import_glfw()
    p = player(window_size=(176, 144))

    def tick():
        fake_time.t += 0.01
        if len(p.presents) == 5:
            _key(p, glfw.KEY_Q)

    _drive(monkeypatch, p, tick)
    p.run()
    assert len(p.presents) == 5 and len(p.decode_ms) == 5  # playing: each frame shown is a new one
    shown = [t for t, _ in p.decode_ms]
    assert shown == sorted(shown) and len(set(shown)) == 5  # time follows the wall clock
    assert p._worker is None  # the decode thread has ended


def test_keys_do_not_wait_for_a_slow_frame(player, demo_decoder, monkeypatch):
    """A frame that takes 0.6 s to decode: q closes the window at once, not when the frame is done."""
    import threading

    glfw = W.import_glfw()
    p = player(window_size=(176, 144))
    p.now = p.clock.now = time.perf_counter
    real = demo_decoder.render
    decoding = threading.Event()

    def slow(*a, **k):
        if p.presents:  # the first frame is quick, the next ones are slow
            decoding.set()
            time.sleep(0.6)
        return real(*a, **k)

    p.dec.render = slow
    pressed, hidden = [], []

    def tick():
        if decoding.is_set() and not pressed:
            pressed.append(time.perf_counter())
            _key(p, glfw.KEY_Q)

    _drive(monkeypatch, p, tick)
    monkeypatch.setattr(glfw, "hide_window", lambda w, hide=glfw.hide_window: hidden.append(time.perf_counter())
                        or hide(w))
    p.run()
    assert pressed and hidden and hidden[0] - pressed[0] < 0.2  # the window went within 0.2 s of q
    assert p.presents and all(ms < 500 for _, ms in p.decode_ms)  # the slow frame in progress was never shown


def test_a_decoder_error_in_the_worker_reaches_the_caller(player, monkeypatch):
    p = player(window_size=(176, 144))

    def broken(*a, **k):
        raise ActinrError("the decoder broke")

    p.dec.render = broken
    _drive(monkeypatch, p, lambda: None)
    with pytest.raises(ActinrError, match="the decoder broke"):
        p.run()
    assert p._worker is None


def test_closing_one_window_keeps_another_alive(player, demo_decoder):
    p = player(pause=True, start=0.1)
    q = player(pause=True, start=0.1)
    p.close()
    p.close()  # twice is harmless
    q.glfw.make_context_current(q.window)
    assert q.frame()
    assert np.abs(q.read_pixels().astype(int) - demo_decoder.render(0.1, (352, 288))).max() <= 1


def test_the_window_loops_by_default_and_no_loop_stops(player, fake_time):
    looping = player()
    duration = looping.dec.info.duration
    fake_time.t += duration + 0.5  # past the end: starts again
    assert looping.clock.loop and not looping.clock.ended
    assert looping.clock.time() == pytest.approx(0.5)
    held = player(loop=False)
    fake_time.t += duration + 0.5
    assert held.clock.ended and held.clock.time() == pytest.approx(held.dec.info.last_time)


def test_the_osd_shows_for_a_few_seconds_after_a_key_and_o_pins_it(player, fake_time):
    glfw = W.import_glfw()
    p = player(window_size=(400, 327), pause=True, start=0.3, osd=True)

    def shown():
        p.frame()
        return p._osd_drawn

    assert shown()  # at the start
    fake_time.t += W.OSD_SECONDS + 0.1
    assert not shown()  # then it hides
    _key(p, glfw.KEY_RIGHT)  # a seek shows it again
    assert shown()
    fake_time.t += W.OSD_SECONDS + 0.1
    assert not shown()
    _key(p, glfw.KEY_O)  # o: on, and it stays
    fake_time.t += 60
    assert shown()
    _key(p, glfw.KEY_I, mods=glfw.MOD_SHIFT)  # I: the same toggle, off
    assert not shown()
    q = player(window_size=(400, 327), pause=True, start=0.3, osd=False)  # --no-osd: keys do not show it
    q.frame()
    assert not q._osd_drawn
    _key(q, glfw.KEY_RIGHT)
    q.frame()
    assert not q._osd_drawn
    _key(q, glfw.KEY_I)  # i: for a few seconds
    q.frame()
    assert q._osd_drawn and "paused" in q._osd_text[0]
    assert q._osd_text[0].count("paused") == 1  # no word twice (the pause note is the paused flag)
    fake_time.t += W.OSD_SECONDS + 0.1
    q.frame()
    assert not q._osd_drawn
