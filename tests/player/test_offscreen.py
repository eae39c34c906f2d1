"""The offscreen OpenGL context (EGL, no window): the renderer draws into it pixel for pixel."""

from __future__ import annotations

import os

import numpy as np
import pytest

from actinr.engines.errors import ActinrError
from actinr.player.gl import Renderer, letterbox
from actinr.player.offscreen import OffscreenGL


@pytest.fixture()
def context():
    try:
        ctx = OffscreenGL((176, 144))
    except ActinrError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"offscreen OpenGL is unavailable but CI=true (.ci/run installs libegl1, libegl-mesa0): {exc}")
        pytest.skip(f"offscreen OpenGL is unavailable here: {exc}")
    yield ctx
    ctx.close()


def test_a_core_context_draws_the_frame_exactly(context, demo_decoder):
    r = Renderer()
    try:
        assert r.version.split()[0] >= "3.3"
        frame = demo_decoder.render(0.4, (176, 144))
        r.upload(frame)
        r.draw(context.fb_size, (0, 0, 176, 144))
        assert np.array_equal(r.read_pixels(context.fb_size), frame)
        # a wider framebuffer letterboxes the same frame between black bars
        context.resize((300, 144))
        rect = letterbox(context.fb_size, 176 / 144)
        assert rect == (62, 0, 176, 144)
        r.draw(context.fb_size, rect)
        shown = r.read_pixels(context.fb_size)
        assert shown.shape == (144, 300, 3)
        assert np.array_equal(shown[:, 62:238], frame) and shown[:, :62].max() == 0 and shown[:, 238:].max() == 0
    finally:
        r.close()


def test_close_releases_and_a_new_context_works(context):
    context.close()
    context.close()  # twice is harmless
    with OffscreenGL((8, 4)) as again:
        r = Renderer()
        r.upload(np.full((4, 8, 3), 200, np.uint8))
        r.draw(again.fb_size, (0, 0, 8, 4))
        assert (r.read_pixels(again.fb_size) == 200).all()
        r.close()
