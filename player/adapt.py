"""Adaptive render scale: hold a target frame rate while playing by rendering fewer pixels.

A decoder's time per frame grows with the pixels it renders, so a window too
large for the machine would play at a few frames per second. While the clock
runs, the player renders at ``scale`` times the window's size (both sides, so
the aspect ratio is kept) and OpenGL's linear filter stretches the frame to the
window; when the picture stops (paused, at the end, a screenshot) it renders at
full size again, as instant-ngp's viewer refines a still view.

:class:`ScaleController` picks the scale from the measured work per frame
(decode and upload, not the wait for vsync; the player divides the decode by
the GOPs the frame evaluated, two inside a GOP switch's window, so a switch is
not taken for a slower machine). The scales form a ladder of
``2^(-1/4)`` steps from 1 down to a floor (1/8 by default: 1280x720 becomes
160x90). It assumes time grows with pixels (``scale^2``):

- **down** when the work exceeds the frame budget on ``down_after`` frames in a
  row, straight to the largest scale predicted to fit 90 % of the budget (at
  least one step);
- **up** one step when the next scale up is predicted to take at most
  ``headroom`` of the budget, on ``up_after`` frames in a row;
- **no oscillation**: a step up that has to be taken back within ``up_after``
  frames doubles the number of frames the next step up from there must wait
  (a level the machine cannot hold is not tried every second);
- the first frame after a change is not counted (its cost may be the old size's).
"""

from __future__ import annotations

import math

STEP = 2.0 ** -0.25  # one rung of the ladder: 0.84 of the side, 0.71 of the pixels
FLOOR = 1.0 / 8.0
MIN_SIDE = 16  # pixels: no render side below this (or below the full side, if smaller)


def scale_ladder(floor: float = FLOOR) -> list[float]:
    """1, 2^-1/4, 2^-1/2, ... down to ``floor`` (included)."""
    if not 0.0 < floor <= 1.0:
        raise ValueError(f"floor must be in (0, 1], got {floor}")
    levels = [1.0]
    while levels[-1] * STEP > floor * (1 + 1e-9):
        levels.append(levels[-1] * STEP)
    if levels[-1] > floor * (1 + 1e-9):
        levels.append(floor)
    return levels


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``size`` times ``scale``, each side rounded, at least MIN_SIDE (or the side itself, if smaller)."""
    w, h = size
    if scale >= 1.0:
        return w, h
    return (max(min(w, MIN_SIDE), round(w * scale)), max(min(h, MIN_SIDE), round(h * scale)))


class ScaleController:
    """Chooses the render scale from the measured work per frame; see the module docstring."""

    def __init__(self, target_fps: float, floor: float = FLOOR, down_after: int = 2, up_after: int = 12,
                 headroom: float = 0.75):
        if not (math.isfinite(target_fps) and target_fps > 0):
            raise ValueError(f"target_fps must be positive, got {target_fps}")
        self.target_fps = float(target_fps)
        self.budget_ms = 1000.0 / self.target_fps
        self.levels = scale_ladder(floor)
        self.down_after, self.up_after, self.headroom = down_after, up_after, headroom
        self.level = 0
        self.changes = 0  # scale changes so far (the stats summary reports them)
        self._over = self._under = 0
        self._skip = 0
        self._since_up: int | None = None  # frames since the last step up (None: the last change was down)
        self._wait = {}  # level -> frames a step up from it must wait (doubled after each failed try)

    @property
    def scale(self) -> float:
        return self.levels[self.level]

    def _move(self, level: int) -> None:
        if level < self.level:  # up
            self._since_up = 0
        else:
            if self._since_up is not None and self._since_up < self.up_after:
                # the step up to self.level did not hold: wait longer before trying it again
                self._wait[level] = self._wait.get(level, self.up_after) * 2
            self._since_up = None
        self.level = level
        self.changes += 1
        self._over = self._under = 0
        self._skip = 1

    def observe(self, work_ms: float) -> bool:
        """One frame's decode and upload time at the current scale; True when the scale changed."""
        if self._since_up is not None:
            self._since_up += 1
        if self._skip:
            self._skip -= 1
            return False
        s = self.scale
        if work_ms > self.budget_ms:
            self._over, self._under = self._over + 1, 0
            if self._over >= self.down_after and self.level < len(self.levels) - 1:
                want = s * math.sqrt(0.9 * self.budget_ms / work_ms)
                level = self.level + 1
                while level < len(self.levels) - 1 and self.levels[level] > want:
                    level += 1
                self._move(level)
                return True
            return False
        self._over = 0
        if self.level > 0 and work_ms * (self.levels[self.level - 1] / s) ** 2 <= self.headroom * self.budget_ms:
            self._under += 1
            if self._under >= self._wait.get(self.level, self.up_after):
                self._move(self.level - 1)
                return True
        else:
            self._under = 0
        return False
