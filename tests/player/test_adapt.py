"""The adaptive render scale's controller on scripted decode times (no window)."""

import math

import pytest

from actinr.player.adapt import FLOOR, STEP, ScaleController, scale_ladder, scaled_size


def test_ladder_steps_and_floor():
    levels = scale_ladder()
    assert levels[0] == 1.0 and levels[-1] == pytest.approx(FLOOR)
    assert len(levels) == 13  # 12 steps of 2^-1/4 halve the side three times
    assert all(b / a == pytest.approx(STEP) for a, b in zip(levels, levels[1:]))
    assert scale_ladder(0.3)[-1] == 0.3 and scale_ladder(1.0) == [1.0]
    with pytest.raises(ValueError):
        scale_ladder(0.0)


def test_scaled_size_keeps_the_aspect_and_a_minimum_side():
    assert scaled_size((1280, 720), 1.0) == (1280, 720)
    assert scaled_size((1280, 720), 0.5) == (640, 360)
    assert scaled_size((1280, 720), FLOOR) == (160, 90)
    assert scaled_size((100, 50), FLOOR) == (16, 16)  # never below 16 pixels a side
    assert scaled_size((10, 8), 0.5) == (10, 8)  # a side already under 16 stays


def pixels_cost(ms_at_full: float, overhead: float = 0.0):
    """A decoder whose time grows with the pixels: ms_at_full at scale 1, plus a fixed overhead."""
    return lambda scale: overhead + ms_at_full * scale * scale


def play(ctrl: ScaleController, cost, frames: int) -> list[float]:
    scales = []
    for _ in range(frames):
        ctrl.observe(cost(ctrl.scale))
        scales.append(ctrl.scale)
    return scales


def test_goes_down_when_slow_and_settles_within_the_budget():
    ctrl = ScaleController(24.0)  # 41.7 ms a frame
    scales = play(ctrl, pixels_cost(389.0), 300)  # the demo at 1280x720 on this CPU: 389 ms a frame
    final = scales[-1]
    assert final < 0.4 and pixels_cost(389.0)(final) <= ctrl.budget_ms  # fits the budget
    assert pixels_cost(389.0)(final / STEP) > ctrl.headroom * ctrl.budget_ms  # and one step up would not
    assert ctrl.changes <= 3  # straight down, no hunting
    assert len(set(scales[30:])) == 1  # settled


def test_goes_up_when_fast_and_respects_the_floor():
    ctrl = ScaleController(30.0)
    play(ctrl, pixels_cost(10_000.0), 40)  # hopelessly slow: the floor, and no further
    assert ctrl.scale == pytest.approx(FLOOR)
    play(ctrl, pixels_cost(5.0), 400)  # the machine is fast again (a smaller window, another backend)
    assert ctrl.scale == 1.0


def test_no_oscillation_when_the_cost_model_is_wrong():
    """A fixed overhead the pixel model does not know: each step up looks affordable and is not. The waiting
    time for a step up that failed doubles, so over 10 s at 30 FPS the scale changes only a few times."""
    ctrl = ScaleController(30.0)  # 33.3 ms
    cost = lambda s: 30.0 + 40.0 * s * s if s > 0.3 else 5.0  # noqa: E731 (cheap below 0.3, dear above)
    play(ctrl, cost, 60)  # settle
    settled = ctrl.changes
    play(ctrl, cost, 300)
    assert ctrl.changes - settled <= 4


def test_jitter_inside_the_band_changes_nothing():
    ctrl = ScaleController(30.0)
    for i in range(200):
        ctrl.observe(20.0 + 8.0 * math.sin(i))  # 12-28 ms at full size: under the budget, nothing to change
    assert ctrl.scale == 1.0 and ctrl.changes == 0
    ctrl = ScaleController(30.0)
    play(ctrl, pixels_cost(100.0), 50)
    level = ctrl.scale
    changes = ctrl.changes
    for i in range(200):  # noise around the settled cost: no change
        ctrl.observe(pixels_cost(100.0)(level) * (1.0 + 0.05 * math.sin(i)))
    assert ctrl.changes == changes


def test_a_single_slow_frame_does_not_drop_the_scale():
    ctrl = ScaleController(30.0)
    for ms in [10.0] * 20 + [200.0] + [10.0] * 20:  # one hiccup (a GC pause, a plan built for a new size)
        ctrl.observe(ms)
    assert ctrl.scale == 1.0 and ctrl.changes == 0


def test_bad_target():
    with pytest.raises(ValueError):
        ScaleController(0.0)
