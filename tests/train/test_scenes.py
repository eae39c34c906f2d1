"""Scene cuts: detection among the fitted frames, the GOP layout around them, and the timeline's hard cut."""

import numpy as np
import pytest

from actinr.engines.timeline import gop_for_frame, is_cut, local_time, switch_mix
from actinr.train.config import TrainConfig
from actinr.train.scenes import find_cuts, key_differences, scenes
from actinr.train.tasks import spans_for


def test_key_differences_known_values():
    a = np.zeros((2, 2, 3), np.uint8)
    b = np.full((2, 2, 3), 51, np.uint8)  # 51 / 255 = 0.2
    c = b.copy()
    c[0, 0] = 255  # one pixel of four by 204 more: + 0.2
    d = key_differences(iter([a, b, c]))  # an iterator is enough (a streamed clip)
    assert d == pytest.approx([0.2, 0.2])
    assert key_differences(np.stack([a, a])) == [0.0]


def test_cut_needs_to_stand_out_from_its_neighbours():
    steady = [0.02, 0.03, 0.02, 0.4, 0.03, 0.02]
    assert find_cuts(steady, 0.1) == [3]
    fast = [0.3, 0.32, 0.31, 0.35, 0.3]  # large steady motion: every interval alike, no cut
    assert find_cuts(fast, 0.1) == []
    assert find_cuts(steady, 0.0) == []  # off
    assert find_cuts(steady, 0.5) == []  # above the threshold


def test_a_cut_that_would_leave_one_fitted_frame_alone_is_dropped():
    # a flash: frame 3 differs from both 2 and 4 -> cuts after 2 and after 3; the second would leave frame 3 alone
    d = [0.01, 0.01, 0.5, 0.5, 0.01, 0.01]
    assert find_cuts(d, 0.1) == []  # neither stands out from its neighbour by the threshold
    d = [0.01, 0.01, 0.6, 0.01, 0.6, 0.01, 0.01]  # cuts after 2 and 4: scenes 0-2, 3-4, 5-7
    assert find_cuts(d, 0.1) == [2, 4]
    d = [0.6, 0.01, 0.01]  # a cut right after the first frame would leave it alone
    assert find_cuts(d, 0.1) == []
    d = [0.01, 0.01, 0.6]  # ... or the last
    assert find_cuts(d, 0.1) == []
    assert scenes(8, [2, 4]) == [(0, 2), (3, 4), (5, 7)]
    assert scenes(5, []) == [(0, 4)]


def test_spans_end_and_start_at_a_cut():
    cfg = TrainConfig(task="interp", every=4, gop=10, gop_span=0)
    keys_after = spans_for(cfg, 41, [7])  # bikes frames 0-40 at k = 4: the cut lies between frames 28 and 32
    assert keys_after == [(0, 28), (32, 40)]
    assert spans_for(cfg, 41) == [(0, 40)]  # without it: one GOP across the cut
    cfg = TrainConfig(gop=10)
    assert spans_for(cfg, 41, [29]) == [(0, 9), (9, 18), (18, 29), (30, 40)]
    assert spans_for(cfg, 41) == [(0, 9), (9, 18), (18, 27), (27, 40)]


def test_gop_span_gives_far_apart_fitted_frames_shorter_gops():
    """--gop-span 18: at k = 4 a GOP holds 5 fitted frames (16 source frames), never fewer than 5; --gop caps it."""
    from actinr.engines.errors import ActinrError
    from actinr.train.tasks import gop_keys

    assert [gop_keys(TrainConfig(task="interp", every=k)) for k in (2, 3, 4, 5, 6, 10)] == [10, 7, 5, 5, 5, 5]
    assert gop_keys(TrainConfig(task="interp", every=3, gop_span=20)) == 7  # whole intervals: 20 // 3 = 6
    assert spans_for(TrainConfig(task="interp", every=4), 41) == [(0, 16), (16, 32), (32, 40)]  # carphone 0-40
    assert spans_for(TrainConfig(task="interp", every=4, gop_span=20), 41) == [(0, 20), (20, 40)]
    assert spans_for(TrainConfig(task="interp", every=4, gop_span=0), 41) == [(0, 40)]
    assert spans_for(TrainConfig(task="interp", every=10), 41) == [(0, 40)]  # 5 fitted frames: one GOP still
    assert spans_for(TrainConfig(task="interp", every=10), 81) == [(0, 40), (40, 80)]
    assert spans_for(TrainConfig(task="interp", every=4, gop=4), 41) == [(0, 12), (12, 24), (24, 40)]  # --gop caps
    assert spans_for(TrainConfig(task="interp", every=4), 41, [7]) == [(0, 16), (16, 28), (32, 40)]  # cut at 28-32
    assert gop_keys(TrainConfig(gop_span=5)) == 10  # other tasks fit every frame: --gop as it is
    old = {k: v for k, v in TrainConfig(task="interp", every=4).to_json().items() if k != "gop_span"}
    assert spans_for(TrainConfig.from_json(old), 41) == [(0, 40)]  # runs written before keep one GOP
    with pytest.raises(ActinrError, match="--gop-span must be >= 0, got -1"):
        TrainConfig(gop_span=-1).validate()


def test_timeline_cuts_hard_in_the_middle_of_the_gap():
    spans = [(0, 28), (32, 40)]
    assert is_cut(spans, 1) and not is_cut(spans, 0) and not is_cut([(0, 9), (9, 18)], 1)
    assert gop_for_frame(spans, 28.0) == 0  # the earlier scene's last fitted frame is its own
    assert gop_for_frame(spans, 30.0) == 0  # up to and including the middle
    assert gop_for_frame(spans, 30.01) == 1
    assert gop_for_frame(spans, 32.0) == 1
    assert local_time(spans[0], 29.5) == 1.0 and local_time(spans[1], 31.0) == 0.0  # each holds its picture
    assert switch_mix(spans, 28.2) is None and switch_mix(spans, 31.9) is None  # no blend at a cut
    mixed = [(0, 9), (9, 18), (20, 30)]
    assert switch_mix(mixed, 9.2) is not None  # a shared frame still mixes
    assert switch_mix(mixed, 19.9) is None and switch_mix(mixed, 18.2) is None


def two_scenes(folder, frames: int = 12, size: int = 32) -> None:
    """Two unrelated textures, each drifting 1 px per frame, cut between frames 5 and 6 (PNG frames)."""
    from PIL import Image

    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        if i < 6:
            grey = 0.5 + 0.3 * np.sin((x - i) / 3.0) * np.cos(y / 4.0)
            rgb = np.stack([grey, grey * 0.8, 0.3 + 0 * grey], -1)
        else:
            grey = 0.5 + 0.35 * np.cos((x + y - i) / 2.5)
            rgb = np.stack([0.2 + 0 * grey, grey, 1.0 - grey], -1)
        Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)).save(folder / f"{i:03d}.png")


def test_a_clip_with_a_cut_trains_exports_and_plays_a_hard_cut(tmp_path, capsys):
    from actinr import engines
    from actinr.engines.bundle import load as load_bundle
    from actinr.engines.cli import main as engines_main
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.fit import new_run, train
    from actinr.train.video import read_video

    two_scenes(tmp_path / "frames")
    cfg = TrainConfig(source=str(tmp_path / "frames"), gop=6, patch=16, iters=150, compile=False, guide="off")
    assert new_run(cfg, tmp_path / "x", pixels=False)[0].spans == [(0, 5), (6, 11)]  # streamed, as --workers
    run = train(cfg, tmp_path / "run", progress=False)
    assert run.spans == [(0, 5), (6, 11)]
    export_run(run.path, tmp_path / "m.engine", ExportConfig())
    truth = read_video(tmp_path / "frames").frames.astype(np.float32)
    with engines.open(tmp_path / "m.engine", backend="torch-cpu") as dec:
        assert dec.info.gops == ((0, 5), (6, 11))
        fps = dec.info.fps
        at = {f: np.asarray(dec.render(f / fps), np.float32) for f in (5.0, 5.3, 5.5, 5.7, 6.0)}
    assert np.array_equal(at[5.3], at[5.0]) and np.array_equal(at[5.5], at[5.0])  # the old scene holds ...
    assert np.array_equal(at[5.7], at[6.0])  # ... and the new one starts after the middle: no dissolve
    assert np.abs(at[5.0] - truth[5]).mean() < 0.25 * np.abs(truth[6] - truth[5]).mean()
    assert np.abs(at[6.0] - truth[6]).mean() < 0.25 * np.abs(truth[6] - truth[5]).mean()
    assert load_bundle(tmp_path / "m.engine").version == 3
    engines_main(["info", str(tmp_path / "m.engine")])
    assert "GOPs       2: frames 0-5 | 6-11 (1 scene cut, at '|')" in capsys.readouterr().out
    # --scene-cut 0: one GOP layout over the whole clip; the switch then moves off the cut (--gop-shift) ...
    off = new_run(TrainConfig(source=cfg.source, gop=6, scene_cut=0.0), tmp_path / "y", pixels=True)[0]
    assert off.spans == [(0, 4), (4, 11)]
    # ... or stays on it, as before both options
    off = new_run(TrainConfig(source=cfg.source, gop=6, scene_cut=0.0, gop_shift=0), tmp_path / "y")[0]
    assert off.spans == [(0, 5), (5, 11)]


def test_a_parallel_driver_streams_the_same_layout_from_a_video_file(carphone, tmp_path):
    """--workers: the driver holds no pixels, so it streams the fitted frames (train/video.py frames_at) to find
    the switches and cuts; the layout must be the sequential run's."""
    from actinr.train.fit import new_run

    for kw in ({}, {"task": "interp", "every": 2}, {"resize": "88x72", "start": 3}):
        cfg = TrainConfig(source=str(carphone), frames=30, **kw)
        streamed, held = new_run(cfg, tmp_path / "a", pixels=False)[0], new_run(cfg, tmp_path / "b")[0]
        assert streamed.spans == held.spans and len(held.spans) == (2 if kw.get("task") else 3)
        assert held.spans != new_run(TrainConfig(source=str(carphone), frames=30, gop_shift=0, **kw),
                                     tmp_path / "c")[0].spans  # the switches did move here


def test_a_forced_gop_renders_its_own_side_of_a_cut_gap(tmp_path):
    """Decoder.render(t, gop=g) in a cut's gap: the GOP the timeline gives there is accepted (the benchmark
    renders one GOP at a time across the whole clip), the other side is refused."""
    from actinr import engines
    from actinr.engines.errors import ActinrError
    from actinr.export.exporter import ExportConfig, export_run
    from actinr.train.fit import train

    two_scenes(tmp_path / "frames")
    cfg = TrainConfig(source=str(tmp_path / "frames"), gop=6, patch=16, iters=5, hidden=4, compile=False)
    run = train(cfg, tmp_path / "run", progress=False)
    export_run(run.path, tmp_path / "m.engine", ExportConfig())
    with engines.open(tmp_path / "m.engine", backend="torch-cpu") as dec:
        fps = dec.info.fps
        assert np.array_equal(dec.render(5.4 / fps, gop=0), dec.render(5.4 / fps))
        assert np.array_equal(dec.render(5.6 / fps, gop=1), dec.render(5.6 / fps))
        with pytest.raises(ActinrError, match="GOP 1 does not contain frame position 5.4"):
            dec.render(5.4 / fps, gop=1)
