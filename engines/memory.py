"""How much memory a frame needs, and a refusal before starting when the machine does not have it.

Rendering is bounded by design (engines/decoder.py renders large frames in
stripes), so what grows with the output size is the frame itself and, when
writing a video, the H.264 encoder's own frames (x264 keeps reference and
look-ahead pictures; media.py limits them for frames above 4K). The figures
below were measured with ``benchmarks/memory.py`` (docs/measurements.md "Memory").
"""

from __future__ import annotations

import os

from .errors import ActinrError

# Memory of rendering beyond the output frame: the cached plans (frames up to 4.2 M pixels, about 100 bytes per
# pixel) plus one stripe's working set. benchmarks/memory.py measured at most 191 MB up to 8192x8192; this is
# the bound stated and used, with margin for a player session's cached plans.
RENDER_OVERHEAD = 768 << 20
# Bytes per output pixel that --output needs: the frame (3), its copy into the encoder (3), and x264's pictures
# in yuv420p with the low-memory settings (about 12 of 1.5 bytes per pixel); measured in all: 21.5 at 8192x8192.
ENCODE_BYTES_PER_PIXEL = 3 + 3 + 18
# FFmpeg refuses pictures with (w + 128) * (h + 128) >= 2^31 / 8 (av_image_check_size).
FFMPEG_MAX_AREA = (1 << 31) // 8


def available_bytes() -> int | None:
    """Memory the system can give without swapping (Linux ``MemAvailable``), or None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def mb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def check_memory(size: tuple[int, int], bytes_per_pixel: float, what: str) -> int:
    """Refuse (one line saying how much it needs) a ``size`` whose frames need more memory than is available.

    ``bytes_per_pixel`` is what the task holds per output pixel; the rendering
    overhead is added. Returns the bytes needed.
    """
    w, h = size
    need = int(w * h * bytes_per_pixel + RENDER_OVERHEAD)
    free = available_bytes()
    if free is not None and need > free:
        raise ActinrError(f"{what} at {w}x{h} needs about {mb(need)} of memory ({mb(w * h * bytes_per_pixel)} for "
                          f"the frames, up to {mb(RENDER_OVERHEAD)} to render) and this machine has {mb(free)} "
                          "available; choose a smaller --size")
    return need


def check_encodable(size: tuple[int, int]) -> None:
    """Refuse a frame size FFmpeg's H.264 encoder cannot take, before any frame is rendered."""
    w, h = size
    w, h = w + w % 2, h + h % 2
    if (w + 128) * (h + 128) >= FFMPEG_MAX_AREA:
        raise ActinrError(f"--output cannot encode {size[0]}x{size[1]} frames: FFmpeg takes pictures of at most "
                          f"(w + 128) x (h + 128) < 2^28 pixels (e.g. 16384x8192); choose a smaller --size")
