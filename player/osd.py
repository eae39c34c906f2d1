"""The on-screen line: status text rasterised once per change into a small RGBA image.

Pillow's built-in font draws the text (no font file to ship or find); the
window uploads the image as a texture and blends it over the frame's top-left
corner. The text is rebuilt a few times a second, not every frame.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

FONT_PX = 13
PAD = 4
SEP = " | "


@lru_cache(maxsize=1)
def _font():
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=FONT_PX)
    except TypeError:  # Pillow < 10.1: only the fixed bitmap font
        return ImageFont.load_default()


def _wrap(parts: list[str], width: int, measure) -> list[str]:
    """Greedy lines of ``SEP``-joined parts no wider than ``width`` (a part never splits)."""
    lines: list[str] = []
    for part in parts:
        if lines and measure(lines[-1] + SEP + part) <= width:
            lines[-1] += SEP + part
        else:
            lines.append(part)
    return lines


def rasterise(text: str, max_width: int | None = None) -> np.ndarray:
    """White ``text`` on a translucent black strip: (h, w, 4) uint8 RGBA.

    With ``max_width`` the line breaks at its `` | `` separators to fit that many pixels.
    """
    from PIL import Image, ImageDraw

    font = _font()
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    measure = lambda s: draw.textlength(s, font=font) + 2 * PAD  # noqa: E731
    lines = [text] if max_width is None else _wrap(text.split(SEP), max_width, measure)
    x0, y0, x1, y1 = draw.multiline_textbbox((0, 0), "\n".join(lines), font=font)
    w, h = int(x1 - min(x0, 0)) + 2 * PAD, int(y1 - min(y0, 0)) + 2 * PAD
    img = Image.new("RGBA", (w, h), (0, 0, 0, 160))
    ImageDraw.Draw(img).multiline_text((PAD - min(x0, 0), PAD - min(y0, 0)), "\n".join(lines), font=font,
                                       fill=(255, 255, 255, 255))
    return np.asarray(img)


def status_line(t: float, duration: float, frame: float, last_frame: int, speed: float, size, backend: str,
                decode_ms: float | None, fps: float | None, paused: bool, zoom: float, note: str = "",
                scale: float = 1.0) -> str:
    """The OSD text: time / duration, frame, speed, render size (and the adaptive scale below 1), backend,
    decode ms, display FPS; ``note`` (the last action) unless a part already says it."""
    parts = [f"{t:.3f} / {duration:.3f} s", f"frame {frame:.2f} / {last_frame}", f"speed {speed:.3g}x",
             f"{size[0]}x{size[1]}" + (f" ({scale:.0%})" if scale < 1.0 else ""), backend,
             "decode -- ms" if decode_ms is None else f"decode {decode_ms:.1f} ms",
             "-- fps" if fps is None else f"{fps:.1f} fps"]
    if zoom > 1.0:
        parts.append(f"zoom {zoom:.2f}x")
    if paused:
        parts.append("paused")
    if note and note not in parts:
        parts.append(note)
    return SEP.join(parts)
