import pytest

from actinr.engines.errors import ActinrError
from actinr.player.clock import PlaybackClock


class Wall:
    def __init__(self):
        self.t = 50.0

    def __call__(self):
        return self.t


def make(**kw):
    wall = Wall()
    kw.setdefault("frames", 30)
    kw.setdefault("fps", 30.0)
    return PlaybackClock(now=wall, **kw), wall


def test_plays_at_speed_and_slowmo():
    clock, wall = make(start=0.1)
    wall.t += 0.5
    assert clock.time() == pytest.approx(0.6)
    slow, wall = make(speed=1 / 10)  # --slowmo 10
    wall.t += 1.0
    assert slow.time() == pytest.approx(0.1)  # 0.1 s of source per wall second
    wall.t += 2.0
    assert slow.time() == pytest.approx(0.3)


def test_pause_holds_time_and_resumes_continuously():
    clock, wall = make()
    wall.t += 0.2
    clock.toggle_pause()
    wall.t += 5.0
    assert clock.paused and clock.time() == pytest.approx(0.2)
    clock.toggle_pause()
    wall.t += 0.1
    assert clock.time() == pytest.approx(0.3)


def test_speed_change_is_continuous():
    clock, wall = make()
    wall.t += 0.25
    clock.set_speed(2.0)
    assert clock.time() == pytest.approx(0.25)  # no jump at the change
    wall.t += 0.1
    assert clock.time() == pytest.approx(0.45)
    assert clock.set_speed(1e9) == 1000.0 and clock.set_speed(0.0) == pytest.approx(1e-3)  # clamped


def test_frame_step_is_one_frame_or_one_displayed_frame():
    clock, wall = make(fps=25.0, frames=50, start=0.4)
    clock.step()
    assert clock.paused and clock.time() == pytest.approx(0.44, abs=1e-12)
    clock.step(-2)
    assert clock.time() == pytest.approx(0.36, abs=1e-12)
    clock.set_speed(0.1)  # slow motion: a step is one displayed frame, a tenth of a source frame
    clock.step()
    assert clock.time() == pytest.approx(0.364, abs=1e-12)


def test_end_holds_without_loop_and_wraps_with_loop():
    clock, wall = make(frames=30, fps=30.0)
    wall.t += 10.0
    assert clock.ended and clock.time() == pytest.approx(29 / 30)
    clock.toggle_pause()  # pause at the end...
    clock.toggle_pause()  # ...then play starts over
    assert clock.time() == 0.0 and not clock.ended
    loop, wall = make(frames=30, fps=30.0, loop=True)
    wall.t += 1.25  # one period is frames / fps = 1 s
    assert loop.time() == pytest.approx(0.25) and not loop.ended
    loop.seek(-0.5)
    assert loop.time() == pytest.approx(0.5)


def test_seek_clamps_and_rejects_bad_start():
    clock, wall = make()
    clock.seek_by(-5.0)
    assert clock.time() == 0.0
    clock.seek_by(5.0)
    assert clock.time() == pytest.approx(29 / 30)
    with pytest.raises(ActinrError, match="start must be between 0 and 0.967"):
        make(start=2.0)
    with pytest.raises(ActinrError, match="speed"):
        make(speed=0.0)
