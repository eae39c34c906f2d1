"""CUDA-GL interop: the fallback is tested everywhere; the interop copy itself needs CUDA and an NVIDIA GL context."""

import numpy as np
import pytest

from actinr.player.config import PlayConfig
from actinr.player.interop import CudaGLUploader, make_uploader
from actinr.player.window import Player


@pytest.fixture()
def window(xdisplay, demo_decoder, tmp_path):
    p = Player(demo_decoder, PlayConfig(osd=False, vsync=False, pause=True), window_size=(176, 144))
    yield p
    p.close()


def test_host_upload_is_chosen_with_the_reason(window):
    r = window.renderer
    assert make_uploader(r, "cpu").path == "host upload (CPU decoder)"
    assert make_uploader(r, "cuda:0", interop=False).path == "host upload (--no-interop)"
    if "NVIDIA" not in r.vendor:  # Mesa here: registration cannot work, whatever CUDA has to say
        up = make_uploader(r, "cuda:0")
        assert not isinstance(up, CudaGLUploader)
        assert up.path.startswith(f"host upload (CUDA-GL interop unavailable on {r.renderer}: ")


def test_a_cuda_torch_without_a_driver_falls_back_to_the_host_upload(window, monkeypatch):
    """A CUDA build of torch on a machine without a working driver (seen with torch 2.11 on this CPU-only VM:
    torch.cuda.set_device raised RuntimeError, a traceback out of the player) gives the host upload and says why."""
    import torch

    import actinr.player.interop as interop

    r = window.renderer
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    up = make_uploader(r, "cuda:0")
    assert up.path == f"host upload (CUDA-GL interop unavailable on {r.renderer}: torch sees no CUDA GPU)"

    def no_driver(device):
        raise RuntimeError("Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU\nmore")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_device", no_driver)
    monkeypatch.setattr(interop, "_cudart", lambda: object())  # cuda-python need not be installed for this
    up = make_uploader(r, "cuda:0")
    assert not isinstance(up, CudaGLUploader)
    assert up.path == (f"host upload (CUDA-GL interop unavailable on {r.renderer}: CUDA device cuda:0: Found no "
                       "NVIDIA driver on your system. Please check that you have an NVIDIA GPU)")


def test_interop_frame_equals_the_decoders(xdisplay, tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("CUDA-GL interop needs a CUDA GPU; this machine has none")
    import actinr.engines as E
    from actinr.player.cli import DEMO

    dec = E.open(DEMO, backend="torch-cuda")
    try:
        p = Player(dec, PlayConfig(osd=False, vsync=False, pause=True, start=0.4), window_size=(352, 288))
        try:
            if "NVIDIA" not in p.renderer.vendor:
                pytest.skip(f"CUDA-GL interop needs an NVIDIA OpenGL context; this display's is {p.renderer.renderer}")
            assert isinstance(p.uploader, CudaGLUploader), p.uploader.path
            p.frame()
            ref = dec.render(0.4, (352, 288)).cpu().numpy()
            assert np.abs(p.read_pixels().astype(int) - ref).max() <= 1
            p.fixed_size = (176, 144)  # a new size re-registers the PBO; the texture is scaled 2x for display
            p.frame()
            assert p.renderer.frame.size == (176, 144) and p.uploader.nbytes == 176 * 144 * 3
            small = dec.render(0.4, (176, 144)).cpu().numpy().astype(float)
            assert np.abs(p.read_pixels()[1::2, 1::2].astype(float) - small).mean() < 8
        finally:
            p.close()
    finally:
        dec.close()


def test_interop_offscreen_frame_equals_the_decoders():
    """The same copy in an offscreen EGL context: how a headless GPU server (no X) runs it."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("CUDA-GL interop needs a CUDA GPU; this machine has none")
    import actinr.engines as E
    from actinr.engines.errors import ActinrError
    from actinr.player.cli import DEMO
    from actinr.player.gl import Renderer
    from actinr.player.offscreen import OffscreenGL

    try:
        ctx = OffscreenGL((352, 288), prefer_cuda=True)
    except ActinrError as exc:
        pytest.skip(f"no offscreen OpenGL here: {exc}")
    dec = E.open(DEMO, backend="torch-cuda")
    r = Renderer()
    try:
        if "NVIDIA" not in r.vendor:
            pytest.skip(f"CUDA-GL interop needs an NVIDIA OpenGL context; EGL gave {r.renderer}")
        up = make_uploader(r, "cuda:0")
        assert isinstance(up, CudaGLUploader), up.path
        for size in ((352, 288), (176, 144)):  # the second size re-registers the PBO
            ctx.resize(size)
            frame = dec.render(0.4, size)
            up.upload(frame)
            r.draw(ctx.fb_size, (0, 0, *size))
            assert np.array_equal(r.read_pixels(ctx.fb_size), frame.cpu().numpy())
            assert up.nbytes == size[0] * size[1] * 3
        up.close()
    finally:
        r.close()
        ctx.close()
        dec.close()
