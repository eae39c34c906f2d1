"""What the keys do: one table from key name to action, the same one ``--help`` prints.

Keys follow mpv where mpv has one. The window (player/window.py) turns GLFW key
events into the names used here, so this module needs no display.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .clock import PlaybackClock
from .view import View

SEEK_SECONDS = 5.0
SPEED_STEP = 1.1
SPLIT_STEP = 0.05


@dataclass
class Requests:
    """Things the window does on its next frame (they need the GL context)."""

    quit: bool = False
    fullscreen: bool | None = None  # True/False: enter/leave; None: nothing asked
    screenshots: int = 0
    osd_flash: bool = False  # show the on-screen line for a few seconds (the i key)


@dataclass
class Controls:
    clock: PlaybackClock
    view: View = field(default_factory=View)
    osd: bool = False  # the on-screen line pinned on (o / I); the window also shows it for a few seconds after a key
    fullscreen: bool = False
    requests: Requests = field(default_factory=Requests)
    message: str = ""  # a short note the OSD shows (the last action)
    split: float = 0.5  # --compare: the divider, as a fraction of the frame's width (INR left of it)

    def key(self, name: str) -> bool:
        """Apply the key called ``name`` (see :data:`KEYS`); False for a key with no action."""
        entry = _ACTIONS.get(name)
        if entry is None:
            return False
        entry[0](self)
        return True

    def _speed(self, factor: float | None) -> None:
        speed = self.clock.set_speed(1.0 if factor is None else self.clock.speed * factor)
        self.message = f"speed {speed:.3g}x"

    def _seek(self, seconds: float) -> None:
        self.clock.seek_by(seconds)

    def _step(self, frames: int) -> None:
        self.clock.step(frames)

    def _pause(self) -> None:
        self.clock.toggle_pause()
        self.message = "paused" if self.clock.paused else "playing"

    def _fullscreen(self, on: bool | None) -> None:
        target = (not self.fullscreen) if on is None else on
        if target != self.fullscreen:
            self.requests.fullscreen = target

    def _osd(self) -> None:
        self.osd = not self.osd

    def _osd_flash(self) -> None:
        self.requests.osd_flash = True

    def _reset_view(self) -> None:
        self.view.reset()

    def _move_split(self, delta: float) -> None:
        self.split = min(max(self.split + delta, 0.0), 1.0)

    def _screenshot(self) -> None:
        self.requests.screenshots += 1

    def _quit(self) -> None:
        self.requests.quit = True


# name -> (action, help). Shifted names are what the window reports with shift held.
_ACTIONS = {
    "space": (Controls._pause, "pause / play"),
    "p": (Controls._pause, "pause / play"),
    "left": (lambda c: c._seek(-SEEK_SECONDS), f"seek back {SEEK_SECONDS:g} s"),
    "right": (lambda c: c._seek(SEEK_SECONDS), f"seek forward {SEEK_SECONDS:g} s"),
    "shift+left": (lambda c: c._seek(-c.clock.frame_time), "seek back one frame-time"),
    "shift+right": (lambda c: c._seek(c.clock.frame_time), "seek forward one frame-time"),
    "[": (lambda c: c._speed(1 / SPEED_STEP), f"speed / {SPEED_STEP:g}"),
    "]": (lambda c: c._speed(SPEED_STEP), f"speed x {SPEED_STEP:g}"),
    "{": (lambda c: c._speed(0.5), "speed / 2"),
    "}": (lambda c: c._speed(2.0), "speed x 2"),
    "backspace": (lambda c: c._speed(None), "speed 1"),
    ".": (lambda c: c._step(1), "step one frame forward (one displayed frame in slow motion); pauses"),
    ",": (lambda c: c._step(-1), "step one frame back; pauses"),
    "f": (lambda c: c._fullscreen(None), "fullscreen on / off"),
    "escape": (lambda c: c._fullscreen(False), "leave fullscreen"),
    "s": (Controls._screenshot, "screenshot: PNG at the render size"),
    "o": (Controls._osd, "on-screen line on / off (on: it stays)"),
    "I": (Controls._osd, "on-screen line on / off (on: it stays)"),
    "i": (Controls._osd_flash, "show the on-screen line for a few seconds (it also shows after any key)"),
    "0": (Controls._reset_view, "reset zoom and pan"),
    "<": (lambda c: c._move_split(-SPLIT_STEP), "--compare: divider left"),
    ">": (lambda c: c._move_split(SPLIT_STEP), "--compare: divider right"),
    "q": (Controls._quit, "quit"),
}

MOUSE_HELP = (("wheel", "zoom in / out at the cursor (samples the INR, not the pixels)"),
              ("drag", "pan the zoomed view; with --compare, drag the divider to move it"))


def keys_help() -> str:
    """The key table as ``--help`` prints it (keys with the same action share a line)."""
    rows: dict[str, list[str]] = {}
    for name, (_, text) in _ACTIONS.items():
        rows.setdefault(text, []).append(name)
    lines = [(" ".join(names), text) for text, names in rows.items()] + list(MOUSE_HELP)
    width = max(len(k) for k, _ in lines)
    return "\n".join(f"  {k:<{width}}  {text}" for k, text in lines)
