import pytest

from actinr.engines.errors import ActinrError
from actinr.player.clock import PlaybackClock
from actinr.player.config import PlayConfig
from actinr.player.controls import Controls, keys_help
from actinr.player.osd import SEP, rasterise, status_line


def controls():
    wall = [0.0]
    c = Controls(PlaybackClock(60, 30.0, start=0.5, now=lambda: wall[0]))
    return c, wall


def test_speed_keys():
    c, _ = controls()
    c.key("]")
    assert c.clock.speed == pytest.approx(1.1)
    c.key("[")
    c.key("[")
    assert c.clock.speed == pytest.approx(1 / 1.1)
    c.key("}")
    assert c.clock.speed == pytest.approx(2 / 1.1)
    c.key("{")
    c.key("{")
    assert c.clock.speed == pytest.approx(0.5 / 1.1)
    c.key("backspace")
    assert c.clock.speed == 1.0 and c.message == "speed 1x"


def test_seek_step_and_flags():
    c, _ = controls()
    c.key("shift+right")
    assert c.clock.time() == pytest.approx(0.5 + 1 / 30)
    c.key("shift+left")
    c.key("shift+left")
    assert c.clock.time() == pytest.approx(0.5 - 1 / 30)
    c.key("right")
    assert c.clock.time() == pytest.approx(59 / 30)  # +5 s clamps to the last frame
    c.key("left")
    assert c.clock.time() == 0.0
    c.key(".")
    assert c.clock.paused and c.clock.time() == pytest.approx(1 / 30)
    c.key("o")
    assert c.osd is True  # pinned on (the window shows it for a few seconds after any key anyway)
    c.key("I")
    assert c.osd is False
    c.key("i")
    assert c.requests.osd_flash and c.osd is False
    c.key("f")
    assert c.requests.fullscreen is True
    c.fullscreen, c.requests.fullscreen = True, None
    c.key("escape")
    assert c.requests.fullscreen is False
    c.key("s")
    c.key("s")
    assert c.requests.screenshots == 2
    c.view.zoom_at(0.5, 0.5, 2)
    c.key("0")
    assert c.view.zoom == 1.0
    assert not c.requests.quit and c.key("q") and c.requests.quit
    assert c.key("x") is False


def test_help_lists_every_key():
    text = keys_help()
    for key in ("space p", "shift+left", "[", "]", "{", "}", "backspace", ".", ",", "escape", "wheel", "drag"):
        assert key in text
    assert "speed x 1.1" in text and "seek forward 5 s" in text


def test_config_validation():
    assert PlayConfig(slowmo=10).play_speed == pytest.approx(0.1)
    assert PlayConfig(size="640x360").render_size == (640, 360)
    for cfg, match in ((PlayConfig(size="640"), "--size must look like WIDTHxHEIGHT"),
                       (PlayConfig(speed=0), "--speed must be a positive number"),
                       (PlayConfig(slowmo=-2), "--slowmo must be a positive"),
                       (PlayConfig(slowmo=1e6), "between 0.001 and 1000"),
                       (PlayConfig(start=-1), "--start"),
                       (PlayConfig(fps=24), "--fps and --duration are for --output"),
                       (PlayConfig(output="a.mp4", fps=5000), "--fps must be at most 1000")):
        with pytest.raises(ActinrError, match=match):
            cfg.validate()


def test_osd_line_and_wrapping():
    text = status_line(1.5, 4.0, 45.0, 119, 0.1, (704, 576), "torch-cpu", 9.46, 59.94, True, 2.0)
    assert text.split(SEP) == ["1.500 / 4.000 s", "frame 45.00 / 119", "speed 0.1x", "704x576", "torch-cpu",
                               "decode 9.5 ms", "59.9 fps", "zoom 2.00x", "paused"]
    one = rasterise(text)
    narrow = rasterise(text, max_width=250)
    assert one.shape[2] == 4 and narrow.shape[1] <= 250 < one.shape[1]
    assert narrow.shape[0] > 2 * one.shape[0]  # wrapped onto several lines
    assert one[..., 0].max() == 255 and one[0, 0, 3] == 160  # white text on the translucent strip


def test_the_osd_says_nothing_twice():
    text = status_line(1.0, 4.0, 30.0, 119, 1.0, (640, 524), "torch-cpu", 9.0, 30.0, True, 1.0, "paused")
    assert text.count("paused") == 1
    scaled = status_line(1.0, 4.0, 30.0, 119, 1.0, (160, 131), "torch-cpu", 9.0, 30.0, False, 1.0, "playing",
                         scale=0.25)
    assert "160x131 (25%)" in scaled and scaled.endswith("playing")
