import pytest

from actinr.engines.errors import ActinrError
from actinr.engines.timeline import gop_for_frame, local_time
from actinr.train.gop import gop_spans


@pytest.mark.parametrize("count, gop, spans", [
    (1, 10, [(0, 0)]),
    (5, 10, [(0, 4)]),
    (10, 10, [(0, 9)]),
    (14, 10, [(0, 13)]),  # remainder of 4 < half a GOP joins the last GOP
    (15, 10, [(0, 9), (9, 14)]),
    (20, 10, [(0, 9), (9, 19)]),
    (28, 10, [(0, 9), (9, 18), (18, 27)]),
    (120, 10, [(i * 9, i * 9 + 9) for i in range(12)] + [(108, 119)]),
    (7, 3, [(0, 2), (2, 4), (4, 6)]),
])
def test_spans(count, gop, spans):
    assert gop_spans(count, gop) == spans


def test_neighbouring_gops_share_one_frame():
    spans = gop_spans(100, 8)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert spans[0][0] == 0 and spans[-1][1] == 99


def test_boundary_frame_goes_to_the_later_gop():
    spans = [(0, 9), (9, 18), (18, 27)]
    assert gop_for_frame(spans, 8.99) == 0
    assert gop_for_frame(spans, 9.0) == 1
    assert gop_for_frame(spans, 18.0) == 2
    assert gop_for_frame(spans, 27.0) == 2
    assert gop_for_frame(spans, -3) == 0 and gop_for_frame(spans, 40) == 2
    assert local_time(spans[1], 9.0) == 0.0 and local_time(spans[0], 9.0) == 1.0
    assert local_time(spans[1], 13.5) == pytest.approx(0.5)
    assert local_time(spans[2], 99) == 1.0


def test_bad_gop():
    with pytest.raises(ActinrError, match="--gop"):
        gop_spans(10, 1)


def test_switches_move_to_the_stillest_frame_nearby():
    from actinr.train.gop import still_boundaries

    spans = gop_spans(28, 10)  # (0, 9), (9, 18), (18, 27)
    diffs = [0.05] * 27
    diffs[6] = diffs[7] = 0.01  # frame 7 is still on both sides
    diffs[19] = diffs[20] = 0.02  # frame 20 too, a little less so
    diffs[16] = diffs[17] = 0.015  # frame 17 more so, but its neighbour 16 is also within reach of 18
    assert still_boundaries(spans, diffs, 2) == [(0, 7), (7, 17), (17, 27)]
    assert still_boundaries(spans, diffs, 0) == spans  # off
    assert still_boundaries(spans, [0.05] * 27, 2) == spans  # all alike: ties stay where they were
    # a GOP keeps at least half its length: frames 2-4 are still alike, 2 and 3 would leave GOP 0 under 4 steps
    diffs = [0.05] * 27
    diffs[1:5] = [0.0] * 4
    assert still_boundaries(spans, diffs, 8)[0] == (0, 4)
    assert still_boundaries([(0, 9)], diffs, 2) == [(0, 9)]  # one GOP: nothing to move


def test_gop_margin_reaches_past_shared_ends_only():
    from types import SimpleNamespace

    from actinr.train.fit import gop_frames

    def run(spans, fitted, margin):
        return SimpleNamespace(spans=spans, fitted=fitted, config=SimpleNamespace(gop_margin=margin))

    r = run([(0, 8), (8, 16), (16, 20)], list(range(0, 21, 2)), 1)
    assert gop_frames(r, 0) == ([0, 2, 4, 6, 8], [0, 2, 4, 6, 8, 10])  # no frame before the clip
    assert gop_frames(r, 1) == ([8, 10, 12, 14, 16], [6, 8, 10, 12, 14, 16, 18])
    assert gop_frames(r, 2) == ([16, 18, 20], [14, 16, 18, 20])
    r.config.gop_margin = 3  # never past the neighbour's far end
    assert gop_frames(r, 2)[1] == [10, 12, 14, 16, 18, 20] and gop_frames(r, 1)[1] == list(range(2, 21, 2))
    r.config.gop_margin = 0
    assert gop_frames(r, 1) == ([8, 10, 12, 14, 16], [8, 10, 12, 14, 16])
    cut = run([(0, 8), (10, 18), (18, 24)], list(range(0, 25, 2)), 1)  # a scene cut between 8 and 10
    assert gop_frames(cut, 0)[1] == [0, 2, 4, 6, 8]  # nothing of the other scene
    assert gop_frames(cut, 1)[1] == [10, 12, 14, 16, 18, 20]
    assert gop_frames(cut, 2)[1] == [16, 18, 20, 22, 24]


def test_guide_context_is_the_two_fitted_frames_before_a_gop():
    """The in-between targets' motion search starts two fitted frames earlier, across a scene cut too (as
    minterpolate of the whole run would); none at the clip's start or without in-between targets."""
    from types import SimpleNamespace

    from actinr.train.config import TrainConfig
    from actinr.train.fit import guide_context

    r = SimpleNamespace(fitted=list(range(0, 25, 2)), config=TrainConfig(task="interp", every=2))
    assert guide_context(r, [0, 2, 4]) == [] and guide_context(r, [2, 4]) == [0]
    assert guide_context(r, [10, 12, 14]) == [6, 8]
    r.config = TrainConfig(task="interp", every=2, guide="off")
    assert guide_context(r, [10, 12, 14]) == []
