"""The playback clock: wall time -> source time, with speed, pause, seek, frame step and loop.

Source time ``t`` is seconds from the bundle's first frame (as in the decoder).
While playing, ``t`` advances by ``speed`` source seconds per wall second, so
``speed = 1 / N`` (``--slowmo N``) plays 1/N second of video per second. Every
change (speed, pause, seek) re-anchors the mapping at the current instant, so
time is continuous across it. The wall clock is injectable for tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from actinr.engines.errors import ActinrError

MIN_SPEED, MAX_SPEED = 1 / 1000, 1000.0  # 1000x slow motion still moves; beyond that it is a pause


def check_speed(speed: float) -> float:
    speed = float(speed)
    if not (math.isfinite(speed) and MIN_SPEED <= speed <= MAX_SPEED):
        raise ActinrError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, got {speed:g}")
    return speed


class PlaybackClock:
    """Maps wall time to the source time of a clip of ``frames`` frames at ``fps``.

    Without ``loop`` time stops at the last frame (``ended`` becomes true) and
    holds there; with ``loop`` it wraps after ``frames / fps`` seconds, so the
    last frame is shown for its full frame time before frame 0 comes back.
    """

    def __init__(self, frames: int, fps: float, speed: float = 1.0, start: float = 0.0, loop: bool = False,
                 paused: bool = False, now: Callable[[], float] = time.perf_counter):
        self.frame_time = 1.0 / fps
        self.duration = frames / fps  # the loop period
        self.last_time = (frames - 1) / fps
        self.loop = loop
        self.now = now
        self.speed = check_speed(speed)
        self.paused = paused
        if not (math.isfinite(start) and 0.0 <= start <= self.last_time):
            raise ActinrError(f"--start must be between 0 and {self.last_time:.3f} s (the last frame), got {start:g}")
        self._anchor_wall = now()
        self._anchor_src = float(start)

    # --- reading ----------------------------------------------------------------------------------

    def _raw(self, wall: float | None = None) -> float:
        if self.paused:
            return self._anchor_src
        wall = self.now() if wall is None else wall
        return self._anchor_src + (wall - self._anchor_wall) * self.speed

    def wrap(self, t: float) -> float:
        """A raw (unbounded) time -> the time shown: wrapped with loop, clamped without."""
        if self.loop:
            t = math.fmod(t, self.duration)
            if t < 0:
                t += self.duration
        return min(max(t, 0.0), self.last_time)

    def time(self) -> float:
        """Source seconds to show now."""
        return self.wrap(self._raw())

    @property
    def ended(self) -> bool:
        """Playback ran past the last frame without loop (time holds there)."""
        return not self.loop and self._raw() >= self.last_time

    @property
    def step_size(self) -> float:
        """One source frame; in slow motion, one displayed frame (``speed`` frame-times)."""
        return self.frame_time * min(1.0, self.speed)

    # --- changing ---------------------------------------------------------------------------------

    def _now(self) -> tuple[float, float]:
        """(wall time, shown source time) read at one instant, so a change loses no time."""
        wall = self.now()
        return wall, self.wrap(self._raw(wall))

    def _rebase(self, t: float, wall: float | None = None) -> None:
        self._anchor_src = self.wrap(t)
        self._anchor_wall = self.now() if wall is None else wall

    def set_speed(self, speed: float) -> float:
        """Set the speed (clamped to the allowed range) from now on; returns it."""
        wall, t = self._now()
        self.speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        self._rebase(t, wall)
        return self.speed

    def set_paused(self, paused: bool) -> None:
        wall, t = self._now()
        if self.paused and not paused and not self.loop and t >= self.last_time:
            t = 0.0  # play at the end starts over, as players do
        self.paused = paused
        self._rebase(t, wall)

    def toggle_pause(self) -> None:
        self.set_paused(not self.paused)

    def seek(self, t: float) -> None:
        """Jump to ``t`` source seconds (wrapped or clamped like playback)."""
        self._rebase(float(t))

    def seek_by(self, delta: float) -> None:
        wall, t = self._now()
        self._rebase(t + delta, wall)

    def step(self, frames: int = 1) -> None:
        """Pause and move by ``frames`` steps of :attr:`step_size` (negative steps go back)."""
        wall, t = self._now()
        self.paused = True
        self._rebase(t + frames * self.step_size, wall)
