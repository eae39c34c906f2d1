"""A frame's way from the decoder to the screen (upload, present), timed by ``actinr bench --display``."""

from __future__ import annotations

import os

from actinr.engines.errors import ActinrError


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class DisplayPath:
    """A frame's way from the decoder to the screen, as the player takes it, with vsync off.

    In a player window (:class:`~actinr.player.window.Player`, ``--size`` =
    the render size) when there is a display, else offscreen into a
    framebuffer of the render size; ``context`` is the shared offscreen
    context, made by the caller.
    """

    def __init__(self, dec, size: tuple[int, int], context=None):
        from ..config import PlayConfig
        from ..gl import Renderer, letterbox
        from ..interop import make_uploader

        self.player = self.renderer = None
        if context is None:
            from ..window import Player

            try:
                self.player = Player(dec, PlayConfig(size=f"{size[0]}x{size[1]}", vsync=False, osd=False,
                                                     pause=True), window_size=_window_size(size))
            except ActinrError as exc:
                raise ActinrError(f"{exc} (actinr bench: --display --offscreen needs no window)") from None
            self.renderer, self.uploader = self.player.renderer, self.player.uploader
            self.where = f"window {self.player.fb_size[0]}x{self.player.fb_size[1]}"
        else:
            context.resize(size)
            self.renderer = Renderer()
            self.uploader = make_uploader(self.renderer, dec.info.device)
            self.where = f"offscreen {size[0]}x{size[1]}"
            self.fb_size, self.rect = size, letterbox(size, dec.info.width / dec.info.height)
        self.GL = self.renderer.GL
        r = self.renderer
        self.gl = {"where": "window" if self.player else "offscreen (EGL)", "vendor": r.vendor,
                   "renderer": r.renderer, "version": r.version}

    def upload(self, image) -> None:
        self.uploader.upload(image)
        self.GL.glFinish()

    def present(self) -> None:
        if self.player is not None:
            p = self.player
            p.renderer.draw(p.fb_size, p.rect)
            p.present()
        else:
            self.renderer.draw(self.fb_size, self.rect)
        self.GL.glFinish()

    def close(self) -> None:
        if self.player is not None:
            self.player.close()
        else:
            self.uploader.close()
            self.renderer.close()


def _window_size(size: tuple[int, int], limit: tuple[int, int] = (1920, 1080)) -> tuple[int, int]:
    """The render size, shrunk to fit ``limit`` (a 4K render in a window that fits an HD screen)."""
    scale = min(1.0, limit[0] / size[0], limit[1] / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))
