"""actinr slowmo-strip: the model's pictures of a region across in-between times above a cross-fade."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import actinr.engines as E
from actinr.engines.cli import run_command
from actinr.player.strip import GAP, strip


def test_strip_rows_are_the_model_and_the_cross_fade(demo_path):
    with E.open(demo_path, backend="torch-cpu") as dec:
        img = strip(dec, (40, 30, 32, 24), 0.25, 0.35, 5, 2.0)
        assert img.shape == (2 * 48 + GAP, 5 * 64 + 4 * GAP, 3)
        top = [img[:48, i * (64 + GAP): i * (64 + GAP) + 64] for i in range(5)]
        bottom = [img[48 + GAP:, i * (64 + GAP): i * (64 + GAP) + 64] for i in range(5)]
        # the top row is the bundle itself, rendered at that viewport and size
        want = dec.render(0.3, size=(64, 48), viewport=(40 / 176, 30 / 144, 72 / 176, 54 / 144))
        np.testing.assert_array_equal(top[2], want)
    # both rows start and end on the same pictures; in between the bottom row is their mix
    np.testing.assert_array_equal(top[0], bottom[0])
    np.testing.assert_array_equal(top[4], bottom[4])
    mix = np.rint(0.5 * top[0].astype(np.float32) + 0.5 * top[4].astype(np.float32)).astype(np.uint8)
    np.testing.assert_array_equal(bottom[2], mix)
    assert not np.array_equal(top[2], bottom[2])


def test_strip_command_writes_a_png(demo_path, tmp_path, capsys):
    out = tmp_path / "s.png"
    assert run_command("slowmo-strip", [str(demo_path), "--region", "10,10,40,30", "--t0", "0.1", "--t1", "0.2",
                                        "--steps", "4", "--scale", "1", "-o", str(out), "--backend", "torch-cpu"],
                       "actinr slowmo-strip") == 0
    with Image.open(out) as im:
        w, h = im.size
    assert h == 2 * 30 + GAP and w > 4 * 40 + 3 * GAP  # plus the label column
    assert "4 pictures of region 10,10,40,30" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--region", "10,10,400,30"], "must lie inside the 176x144 frame"),
    (["--region", "a,b"], "--region must be X,Y,W,H"),
    (["--region", "0,0,8,8", "--t1", "99"], "--t0 and --t1 must satisfy"),
    (["--region", "0,0,8,8", "--steps", "1"], "--steps must be from 2 to 64"),
])
def test_strip_refuses_bad_input_in_one_line(demo_path, tmp_path, capsys, args, message):
    base = {"--t0": "0.1", "--t1": "0.2"}
    argv = [str(demo_path), "-o", str(tmp_path / "s.png"), "--backend", "torch-cpu"]
    for k, v in base.items():
        if k not in args:
            argv += [k, v]
    assert run_command("slowmo-strip", argv + args, "actinr slowmo-strip") == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "s.png").exists()
