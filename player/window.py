"""The player window: GLFW events -> controls -> clock and view; decoder -> texture -> screen.

Each frame: read the clock, render the frame at the render size (the
letterboxed window area in pixels, or a fixed --size) and viewport, move it to
the texture (interop or host upload), draw, swap. While playing, the render
size is the window's times the adaptive scale (player/adapt.py: it holds
--target-fps by rendering fewer pixels, which the texture's linear filter
stretches); paused, ended or for a screenshot it is the full size again. While
paused nothing is decoded again unless the time, size or view changes, and the
loop sleeps in ``glfwWaitEventsTimeout`` instead of spinning.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import numpy as np

from actinr.engines.errors import ActinrError, optional_import
from actinr.engines.media import write_png

from .adapt import ScaleController, scaled_size
from .clock import PlaybackClock
from .config import PlayConfig
from .controls import Controls
from .gl import Renderer, letterbox, load_triton_first
from .headless import to_numpy
from .interop import make_uploader
from .osd import rasterise, status_line
from .worker import DecodeWorker

GL_VERSION = (3, 3)
OSD_REFRESH = 0.25  # seconds between rebuilds of the on-screen text (a key press rebuilds at once)
OSD_SECONDS = 3.0  # the on-screen line shows this long after a key, a seek or the start (mpv's habit)
STATS_WINDOW = 1.0  # seconds of frames averaged into decode ms and display FPS
DEFAULT_TARGET_FPS = 30.0  # --target-fps when GLFW reports no refresh rate
AUTOFIT_WIDTH = 640  # a window opens at least this wide (small clips are scaled up; mpv's autofit habit)
AUTOFIT_SCREEN = 0.9  # and at most this share of the screen
SPLIT_GRAB = 8  # --compare: a press within this many pixels of the divider drags it
REPEATING = {"left", "right", "shift+left", "shift+right", "[", "]", "{", "}", ".", ","}


def import_glfw():
    glfw = optional_import("glfw")
    glfw.ERROR_REPORTING = "ignore"  # we read glfwGetError where a call fails and raise our own error
    return glfw


def _glfw_error(glfw) -> str:
    code, text = glfw.get_error()
    return text.decode(errors="replace") if isinstance(text, bytes) and text else f"GLFW error {code}"


def _key_names(glfw) -> dict[int, str]:
    return {glfw.KEY_SPACE: "space", glfw.KEY_P: "p", glfw.KEY_LEFT: "left", glfw.KEY_RIGHT: "right",
            glfw.KEY_LEFT_BRACKET: "[", glfw.KEY_RIGHT_BRACKET: "]", glfw.KEY_BACKSPACE: "backspace",
            glfw.KEY_PERIOD: ".", glfw.KEY_COMMA: ",", glfw.KEY_F: "f", glfw.KEY_ESCAPE: "escape",
            glfw.KEY_S: "s", glfw.KEY_O: "o", glfw.KEY_0: "0", glfw.KEY_KP_0: "0", glfw.KEY_Q: "q",
            glfw.KEY_I: "i"}


def autofit(size: tuple[int, int], screen: tuple[int, int] | None) -> tuple[int, int]:
    """The window size for a ``size`` video: scaled up to AUTOFIT_WIDTH wide if narrower, and down to fit
    AUTOFIT_SCREEN of the ``screen`` (when known); the aspect ratio is kept."""
    w, h = size
    scale = max(1.0, AUTOFIT_WIDTH / w)
    if screen is not None and screen[0] > 0 and screen[1] > 0:
        scale = min(scale, AUTOFIT_SCREEN * screen[0] / w, AUTOFIT_SCREEN * screen[1] / h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _video_mode(glfw):
    monitor = glfw.get_primary_monitor()
    return glfw.get_video_mode(monitor) if monitor else None


def _screen_size(glfw) -> tuple[int, int] | None:
    mode = _video_mode(glfw)
    return (mode.size.width, mode.size.height) if mode else None


def _refresh_rate(glfw) -> int | None:
    mode = _video_mode(glfw)
    return mode.refresh_rate if mode and mode.refresh_rate > 0 else None


# shifted key names, by key position (US layout)
SHIFTED = {"left": "shift+left", "right": "shift+right", "[": "{", "]": "}", "i": "I", ",": "<", ".": ">"}
_open_players = 0  # players open now
# GLFW stays initialised between players (terminated at exit): each glfwInit/glfwTerminate cycle on Mesa's
# GLX leaves the X server refusing new connections after 20-180 cycles (seen under Xvfb here), so
# re-initialising per window would break a process that opens many (the tests, a notebook). It is initialised
# again only when no player is open and the display it was opened on is no longer the environment's.
_glfw_display: tuple | None = None
_EXIT_HOOK: list = []  # [True] once glfwTerminate is registered to run at exit


def _display_env() -> tuple:
    import os

    return os.environ.get("DISPLAY"), os.environ.get("WAYLAND_DISPLAY")


def _init_glfw(glfw) -> bool:
    global _glfw_display
    if _glfw_display is not None and (_open_players > 0 or _glfw_display == _display_env()):
        return True
    if _glfw_display is not None:
        glfw.terminate()
        _glfw_display = None
    if not glfw.init():
        return False
    if not _EXIT_HOOK:
        import atexit

        atexit.register(_terminate_glfw, glfw)
        _EXIT_HOOK.append(True)
    _glfw_display = _display_env()
    return True


def _terminate_glfw(glfw) -> None:
    global _glfw_display
    if _glfw_display is not None:
        glfw.terminate()
        _glfw_display = None


def release_display() -> None:
    """Terminate GLFW now if no player is open (before the X server it talks to goes away: Xlib ends the
    process on a lost connection). Otherwise it is terminated at exit."""
    if _open_players == 0 and _glfw_display is not None:
        _terminate_glfw(import_glfw())


class Player:
    """A GLFW window playing one decoder with ``cfg``; ``run()`` returns on q or when the window is closed.

    ``now`` is the wall clock (tests pass a fake one); ``visible=False`` keeps
    the window hidden (offscreen drawing for tests and benchmarks).
    """

    def __init__(self, decoder, cfg: PlayConfig, now=time.perf_counter, visible: bool = True,
                 window_size: tuple[int, int] | None = None):
        self.glfw = glfw = import_glfw()
        self.dec, self.cfg, self.now = decoder, cfg, now
        info = decoder.info
        self.clock = PlaybackClock(info.frames, info.fps, speed=cfg.play_speed, start=cfg.start, loop=cfg.loop,
                                   paused=cfg.pause, now=now)
        self.controls = Controls(self.clock)  # the OSD starts unpinned: shown for OSD_SECONDS, then hidden
        self.osd_auto = cfg.osd  # show the OSD after each key (--no-osd: only i, I and o show it)
        self._osd_until = now() + OSD_SECONDS if cfg.osd else -1e9
        self._osd_drawn = False  # whether the last draw showed it
        self.fixed_size = cfg.render_size
        self.aspect = info.width / info.height
        self.keys = _key_names(glfw)
        global _open_players
        load_triton_first()  # before the GL driver (Mesa's carries LLVM): see its docstring
        if not _init_glfw(glfw):
            raise ActinrError(f"no display to open a window on ({_glfw_error(glfw)}); "
                              "render to a file instead with --output out.mp4")
        _open_players += 1
        self.window, self._closed = None, False
        try:
            size = window_size or cfg.window_geometry or self.fixed_size or autofit(info.size, _screen_size(glfw))
            self._open_window(size, visible)
            self.renderer = Renderer()
        except Exception:
            self.close()
            raise
        self.uploader = make_uploader(self.renderer, info.device, cfg.interop)
        self.fb_size = tuple(glfw.get_framebuffer_size(self.window))
        self.last_render: tuple | None = None  # (t, size, viewport) of the frame on the texture
        self.image = None  # that frame, as the decoder returned it (screenshots)
        self.decode_ms: deque = deque()  # (wall time, ms)
        self.presents: deque = deque()  # wall times of presented frames
        target = cfg.target_fps if cfg.target_fps is not None else (_refresh_rate(glfw) or DEFAULT_TARGET_FPS)
        self.target_fps = float(target)
        # the render-scale controller; --size (a fixed render size) and --target-fps 0 turn it off
        self.adapt = ScaleController(self.target_fps) if self.target_fps > 0 and self.fixed_size is None else None
        self.records: list[dict] | None = [] if cfg.stats else None  # --stats: one per presented frame
        self._work: tuple[float, float] | None = None  # (decode ms, upload ms) of the frame drawn last
        self._worker: DecodeWorker | None = None  # while run() plays
        self._redraw = True  # the window changed: draw the picture again
        self.compare = None  # --compare: the source frames (player/compare.py)
        self._pair = None  # (INR image, source at the render size or None, split) on the texture
        self._match: tuple[int, float | None] | None = None  # (source frame, PSNR on a frame) for the OSD
        self._dragging_split = False
        if cfg.compare is not None:
            from .compare import SourceFrames

            src = decoder.manifest.source
            try:
                self.compare = SourceFrames(cfg.compare, src.start, info.frames, info.size, info.fps)
            except Exception:
                self.close()
                raise
            self.controls.split = cfg.compare_split
        self._osd_text, self._osd_at, self._osd_dirty = None, -1e9, True
        self._drag: tuple[float, float] | None = None
        self._windowed: tuple[int, int, int, int] | None = None
        if cfg.fullscreen:
            self.controls.requests.fullscreen = True

    # --- window -----------------------------------------------------------------------------------

    def _open_window(self, size: tuple[int, int], visible: bool) -> None:
        glfw = self.glfw
        glfw.default_window_hints()
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, GL_VERSION[0])
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, GL_VERSION[1])
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        glfw.window_hint(glfw.VISIBLE, visible)
        w, h = size
        self.window = glfw.create_window(w, h, f"{self.dec.info.name} - actinr", None, None)
        if not self.window:
            self.window = None
            raise ActinrError(f"OpenGL {GL_VERSION[0]}.{GL_VERSION[1]} core profile is not available "
                              f"({_glfw_error(glfw)}); update the graphics driver, or render to a file "
                              "with --output out.mp4")
        glfw.make_context_current(self.window)
        glfw.swap_interval(1 if self.cfg.vsync else 0)
        glfw.set_key_callback(self.window, self._on_key)
        glfw.set_framebuffer_size_callback(self.window, self._on_framebuffer_size)
        glfw.set_scroll_callback(self.window, self._on_scroll)
        glfw.set_mouse_button_callback(self.window, self._on_mouse_button)
        glfw.set_cursor_pos_callback(self.window, self._on_cursor)

    def close(self) -> None:
        global _open_players
        glfw = self.glfw
        if self._closed:
            return
        if getattr(self, "compare", None) is not None:
            self.compare.close()
        if self.window is not None:
            glfw.make_context_current(self.window)
            if hasattr(self, "uploader"):
                self.uploader.close()
            if hasattr(self, "renderer"):
                self.renderer.close()
            glfw.destroy_window(self.window)
            self.window = None
        self._closed = True
        _open_players -= 1

    def __enter__(self) -> Player:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _set_fullscreen(self, on: bool) -> None:
        glfw = self.glfw
        monitor = glfw.get_primary_monitor()
        if on and monitor:
            self._windowed = (*glfw.get_window_pos(self.window), *glfw.get_window_size(self.window))
            mode = glfw.get_video_mode(monitor)
            glfw.set_window_monitor(self.window, monitor, 0, 0, mode.size.width, mode.size.height, mode.refresh_rate)
        elif not on and self._windowed is not None:
            x, y, w, h = self._windowed
            glfw.set_window_monitor(self.window, None, x, y, w, h, 0)
        self.controls.fullscreen = on and bool(monitor)
        glfw.swap_interval(1 if self.cfg.vsync else 0)  # some drivers reset it with the mode

    # --- geometry ---------------------------------------------------------------------------------

    @property
    def rect(self) -> tuple[int, int, int, int]:
        """Where the frame is drawn: (x, y from the top, w, h) framebuffer pixels, letterboxed."""
        return letterbox(self.fb_size, self.aspect)

    @property
    def full_size(self) -> tuple[int, int] | None:
        """The full render size: --size, else the drawn rectangle (None while minimised)."""
        if self.fixed_size is not None:
            return self.fixed_size
        _, _, w, h = self.rect
        return (w, h) if w > 0 and h > 0 else None

    @property
    def playing(self) -> bool:
        return not (self.clock.paused or self.clock.ended)

    @property
    def scale(self) -> float:
        """The render scale in use now: the controller's while playing, else 1 (a still picture is refined)."""
        return self.adapt.scale if self.adapt is not None and self.playing else 1.0

    @property
    def render_size(self) -> tuple[int, int] | None:
        """What the decoder is asked for now: the full size times :attr:`scale`."""
        full = self.full_size
        return None if full is None else scaled_size(full, self.scale)

    def _image_point(self, x: float, y: float) -> tuple[float, float]:
        """Window cursor coordinates -> (u, v) across the drawn frame (0..1 inside it)."""
        ww, wh = self.glfw.get_window_size(self.window)
        sx, sy = self.fb_size[0] / max(ww, 1), self.fb_size[1] / max(wh, 1)  # HiDPI: framebuffer != window units
        rx, ry, rw, rh = self.rect
        return (x * sx - rx) / max(rw, 1), (y * sy - ry) / max(rh, 1)

    # --- callbacks (GLFW calls these from poll/wait; tests call them directly) ------------------------

    def _on_key(self, window, key, scancode, action, mods) -> None:
        glfw = self.glfw
        if action not in (glfw.PRESS, glfw.REPEAT):
            return
        name = self.keys.get(key)
        if name is None:
            return
        if mods & glfw.MOD_SHIFT:
            name = SHIFTED.get(name, name)
        if action == glfw.REPEAT and name not in REPEATING:
            return
        visible = self.osd_visible
        if not self.controls.key(name):
            return
        self._osd_dirty = True
        if name in ("o", "I"):  # toggles what is seen: shown for a while -> hidden; hidden -> on until toggled
            self.controls.osd = not visible
            self._osd_until = -1e9
        elif self.osd_auto:
            self._osd_until = self.now() + OSD_SECONDS

    def _on_framebuffer_size(self, window, width, height) -> None:
        self.fb_size = (width, height)
        self._redraw = True

    def _on_scroll(self, window, dx, dy) -> None:
        if dy:
            u, v = self._image_point(*self.glfw.get_cursor_pos(self.window))
            self.controls.view.zoom_at(min(max(u, 0.0), 1.0), min(max(v, 0.0), 1.0), dy)
            self._osd_dirty = True

    def _on_mouse_button(self, window, button, action, mods) -> None:
        glfw = self.glfw
        if button == glfw.MOUSE_BUTTON_LEFT:
            self._drag = glfw.get_cursor_pos(self.window) if action == glfw.PRESS else None
            self._dragging_split = False
            if self._drag is not None and self.compare is not None:
                u, _ = self._image_point(*self._drag)
                self._dragging_split = abs(u - self.controls.split) * max(self.rect[2], 1) <= SPLIT_GRAB

    def _on_cursor(self, window, x, y) -> None:
        if self._drag is not None and self._dragging_split:
            u, _ = self._image_point(x, y)
            self.controls.split = min(max(u, 0.0), 1.0)
            self._drag = (x, y)
        elif self._drag is not None:
            u0, v0 = self._image_point(*self._drag)
            u1, v1 = self._image_point(x, y)
            self.controls.view.pan(u1 - u0, v1 - v0)
            self._drag = (x, y)

    # --- frames -----------------------------------------------------------------------------------

    def _stats(self) -> tuple[float | None, float | None]:
        """(mean decode ms, display FPS) over the last STATS_WINDOW seconds."""
        now = self.now()
        while self.decode_ms and now - self.decode_ms[0][0] > STATS_WINDOW:
            self.decode_ms.popleft()
        while self.presents and now - self.presents[0] > STATS_WINDOW:
            self.presents.popleft()
        ms = sum(m for _, m in self.decode_ms) / len(self.decode_ms) if self.decode_ms else None
        fps = None
        if len(self.presents) >= 2 and self.presents[-1] > self.presents[0]:
            fps = (len(self.presents) - 1) / (self.presents[-1] - self.presents[0])
        return ms, fps

    @property
    def osd_visible(self) -> bool:
        """The on-screen line shows: pinned on (o / I), or within OSD_SECONDS of a key, a seek or the start."""
        return self.controls.osd or self.now() < self._osd_until

    def _update_osd(self) -> None:
        now = self.now()
        if not self.osd_visible:
            self._osd_dirty = False  # nothing shown, nothing to rebuild (a key that shows it marks it again)
            return
        if not self._osd_dirty and now - self._osd_at < OSD_REFRESH:
            return
        info, c = self.dec.info, self.controls
        t = self.clock.time()
        ms, fps = self._stats()
        size = self.render_size or (0, 0)
        note = c.message
        if self._match is not None:
            f, score = self._match
            src = f"source frame {f}" + ("" if score is None else f": {score:.2f} dB")
            note = f"{note} | {src}" if note else src
        text = status_line(t, info.duration, self.dec.frame_position(t), info.frames - 1, self.clock.speed, size,
                           info.backend, ms, fps, self.clock.paused, c.view.zoom, note, scale=self.scale)
        if (text, self.fb_size[0]) != self._osd_text:
            self.renderer.set_osd(rasterise(text, self.fb_size[0]))
            self._osd_text = (text, self.fb_size[0])
        self._osd_at, self._osd_dirty = now, False

    def _handle_requests(self) -> None:
        req = self.controls.requests
        if req.osd_flash:
            self._osd_until, self._osd_dirty, req.osd_flash = self.now() + OSD_SECONDS, True, False
        if req.fullscreen is not None:
            self._set_fullscreen(req.fullscreen)
            req.fullscreen = None
        while req.screenshots:
            req.screenshots -= 1
            path = self.screenshot()
            if path is not None:
                self.controls.message = f"saved {path.name}"
                self._osd_dirty = True
                print(f"screenshot: {path}")

    def _request(self):
        """What to decode now: ``((t, size, viewport), playing)``, or None while minimised."""
        size = self.render_size
        if size is None:
            return None
        return (self.clock.time(), size, self.controls.view.viewport), self.playing

    def _decode(self, request) -> tuple[object, float, tuple | None]:
        """Render a request's frame (on the decode thread in :meth:`run`) -> (image, decode ms, compare), where
        compare is None, or (source frame number, its frame at the render size or None while it is read,
        PSNR of the INR against it when the time is on a frame)."""
        (t, size, viewport), _ = request
        start = self.now()
        image = self.dec.render(t, size, viewport)
        self.dec.synchronize()
        ms = (self.now() - start) * 1e3
        if self.compare is None:
            return image, ms, None
        from .compare import psnr, resize

        pos = self.dec.frame_position(t)
        f = int(round(pos))
        src = self.compare.get(f)
        if src is None:
            return image, ms, (self.compare.start + f, None, None)
        score = None
        if abs(pos - f) < 1e-6:  # on a frame: the INR's frame at the bundle's own size against the source's
            native = image if (size == self.dec.info.size and viewport == (0.0, 0.0, 1.0, 1.0)) else \
                self.dec.render(t)
            score = psnr(to_numpy(native), src)
        return image, ms, (self.compare.start + f, resize(src, size, viewport), score)

    def _upload_view(self) -> None:
        """Upload the INR, or with --compare the split view at the current divider."""
        inr, src, _ = self._pair
        if self.compare is None:
            self.uploader.upload(inr)
        else:
            from .compare import compose

            self.uploader.upload(compose(inr, src, self.controls.split))
        self._pair = (inr, src, self.controls.split)

    def _show(self, request, image, decode_ms: float, compare: tuple | None = None) -> None:
        """Put a decoded frame on the texture; the render-scale controller learns what it cost."""
        key, playing = request
        start = self.now()
        if compare is not None:
            self._match = (compare[0], compare[2])
        self._pair = (image, None if compare is None else compare[1], self.controls.split)
        self._upload_view()
        done = self.now()
        self.decode_ms.append((done, decode_ms))
        self.image, self.last_render = image, key
        self._work = (decode_ms, (done - start) * 1e3)
        if self.adapt is not None and playing:
            # Per pass: a frame in a GOP switch's window decodes two GOPs, and those few frames' double cost
            # is not the machine getting slower (judged as it is, each switch dropped the scale and the
            # steps up after it made the picture pump).
            passes = max(1, int(self.dec.passes(key[0]))) if hasattr(self.dec, "passes") else 1
            if self.adapt.observe(decode_ms / passes + self._work[1]):
                self._osd_dirty = True  # the OSD shows the new render size

    def _draw(self) -> None:
        self._update_osd()
        self._osd_drawn = self.osd_visible
        self.renderer.draw(self.fb_size, self.rect, osd=self._osd_drawn)
        self._redraw = False

    def frame(self) -> bool:
        """Decode (if anything changed), upload and draw one frame, all on this thread; False when there is
        nothing to draw. (:meth:`run` decodes on a worker thread instead.)"""
        self._handle_requests()
        request = self._request()
        if request is None:
            return False
        self._work = None
        if request[0] != self.last_render:
            self._show(request, *self._decode(request))
        elif self._pair is not None and self._pair[2] != self.controls.split:
            self._upload_view()  # the divider moved: the same frames, split elsewhere
        self._draw()
        return True

    def present(self) -> None:
        start = self.now()
        self.glfw.swap_buffers(self.window)
        done = self.now()
        self.presents.append(done)
        if self.records is not None and self.last_render is not None:
            t, size, _ = self.last_render
            decode, upload = self._work or (0.0, 0.0)
            self.records.append({"t": round(t, 6), "render": f"{size[0]}x{size[1]}", "scale": round(self.scale, 4),
                                 "decoded": self._work is not None, "decode_ms": round(decode, 3),
                                 "upload_ms": round(upload, 3), "present_ms": round((done - start) * 1e3, 3),
                                 "wall": round(done, 6)})

    def stats(self) -> dict:
        """The --stats document: every presented frame's record and a summary (displayed FPS, frame times)."""
        records = self.records or []
        walls = np.array([r["wall"] for r in records])
        gaps = np.diff(walls) * 1e3 if walls.size > 1 else np.zeros(0)
        summary = {"frames": len(records), "decoded": sum(r["decoded"] for r in records),
                   "seconds": round(float(walls[-1] - walls[0]), 6) if walls.size > 1 else 0.0,
                   "displayed_fps": round(float(gaps.size / (walls[-1] - walls[0])), 3) if gaps.size else None,
                   "frame_ms_p50": round(float(np.percentile(gaps, 50)), 3) if gaps.size else None,
                   "frame_ms_p99": round(float(np.percentile(gaps, 99)), 3) if gaps.size else None,
                   "scale_changes": self.adapt.changes if self.adapt is not None else 0,
                   "target_fps": self.target_fps, "backend": self.dec.info.backend}
        return {"schema": "actinr-play-stats/1", "summary": summary, "records": records}

    def write_stats(self, path) -> None:
        import json

        from actinr.engines.files import write_text

        write_text(path, json.dumps(self.stats(), indent=1) + "\n")

    def run(self) -> None:
        """Play until q or the window is closed.

        Frames are decoded on a worker thread (player/worker.py) while this
        loop keeps reading events, so every key takes effect at once: q closes
        the window without waiting for the frame in progress, and a pause,
        seek or resize is in the next request. A new frame is drawn when it
        arrives; the picture on screen is drawn again when the OSD or the
        window changes, and while idle every OSD_REFRESH seconds.
        """
        glfw = self.glfw
        worker = self._worker = DecodeWorker(self._decode, wake=glfw.post_empty_event)
        try:
            while not glfw.window_should_close(self.window) and not self.controls.requests.quit:
                request = self._request()
                still = request is not None and request[0] == self.last_render
                changed = self._osd_dirty or self._redraw or self.osd_visible != self._osd_drawn
                if worker.busy or (still and not changed):
                    glfw.wait_events_timeout(OSD_REFRESH)  # woken by a finished frame or an event
                else:
                    glfw.poll_events()
                if glfw.window_should_close(self.window) or self.controls.requests.quit:
                    break
                self._handle_requests()
                done = worker.take()
                if done is not None:
                    self._show(done[0], *done[1])
                elif self._pair is not None and self._pair[2] != self.controls.split:
                    self._upload_view()
                    self._redraw = True
                request = self._request()
                if request is not None and not worker.busy and request[0] != self.last_render:
                    worker.submit(request)
                idle = request is not None and request[0] == self.last_render  # a still picture, shown
                changed = self._osd_dirty or self._redraw or self.osd_visible != self._osd_drawn
                if self.last_render is not None and (done is not None or idle or changed):
                    self._draw()
                    self.present()
                    self._work = None
        finally:
            glfw.hide_window(self.window)  # the window goes at once; the frame in progress finishes unseen
            worker.close()
            self._worker = None

    def read_pixels(self) -> np.ndarray:
        """What the window shows now (after :meth:`frame`): (h, w, 3) uint8, top row first."""
        return self.renderer.read_pixels(self.fb_size)

    def screenshot(self) -> Path | None:
        """Save the current time as PNG in the screenshots folder, rendered again at the full size whatever
        the adaptive scale was."""
        if self.image is None:
            return None
        t, size, viewport = self.last_render
        image, full = self.image, self.full_size
        if full is not None and size != full:
            if self._worker is not None:
                self._worker.wait_idle()  # the decoder is the worker's while it renders
            image = self.dec.render(t, full, viewport)
        folder = Path(self.cfg.screenshots)
        stem = f"{Path(self.dec.info.name).stem}-{t:08.3f}s"
        path, n = folder / f"{stem}.png", 1
        while path.exists():
            n += 1
            path = folder / f"{stem}-{n}.png"
        try:
            write_png(path, to_numpy(image))
        except OSError as exc:
            self.controls.message = f"screenshot failed: {exc.strerror or exc}"
            return None
        return path
