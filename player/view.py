"""The view into the INR: a zoomable, pannable viewport ``(x0, y0, x1, y1)`` in 0..1 of the source frame.

Zooming does not magnify pixels: the decoder samples the continuous model on
the new grid, so a 4x zoom at the window's size shows detail at 4x the source
sampling rate (whatever the model learned there).
"""

from __future__ import annotations

from actinr.engines.grid import FULL_VIEW

MAX_ZOOM = 64.0
ZOOM_STEP = 1.25  # per wheel notch


class View:
    """Zoom ``>= 1`` and the visible rectangle's centre, kept inside the frame."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.zoom, self.cx, self.cy = 1.0, 0.5, 0.5

    @property
    def viewport(self) -> tuple[float, float, float, float]:
        if self.zoom == 1.0:
            return FULL_VIEW
        half = 0.5 / self.zoom
        rect = (self.cx - half, self.cy - half, self.cx + half, self.cy + half)
        return tuple(min(max(v, 0.0), 1.0) for v in rect)  # rounding may step past an edge by 1 ulp

    def _clamp(self) -> None:
        half = 0.5 / self.zoom
        self.cx = min(max(self.cx, half), 1.0 - half)
        self.cy = min(max(self.cy, half), 1.0 - half)

    def point(self, u: float, v: float) -> tuple[float, float]:
        """Where ``(u, v)`` (0..1 across the displayed image) lies in the source frame."""
        x0, y0, x1, y1 = self.viewport
        return x0 + u * (x1 - x0), y0 + v * (y1 - y0)

    def zoom_at(self, u: float, v: float, notches: float) -> None:
        """Zoom by ``ZOOM_STEP ** notches`` keeping the source point under ``(u, v)`` in place."""
        px, py = self.point(u, v)
        self.zoom = min(max(self.zoom * ZOOM_STEP ** notches, 1.0), MAX_ZOOM)
        half = 0.5 / self.zoom
        self.cx, self.cy = px - (u - 0.5) * 2 * half, py - (v - 0.5) * 2 * half
        self._clamp()

    def pan(self, du: float, dv: float) -> None:
        """Drag the image by ``(du, dv)`` displayed-image widths/heights."""
        self.cx -= du / self.zoom
        self.cy -= dv / self.zoom
        self._clamp()
