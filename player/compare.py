"""A/B comparison: the INR next to the video it was fitted to (``actinr-play --compare SOURCE``).

The window (and ``--output``) shows a split view: the INR left of a movable
divider, the source frame nearest to the current time right of it, both at the
render size and viewport (the source is cropped to the zoomed view and
resized with Pillow's bilinear filter). When the time is on a frame, the OSD
gives the PSNR of the INR's frame against that source frame at the bundle's
own size (the fit's yardstick).

:class:`SourceFrames` reads the source with PyAV (or a folder of PNG/JPEG
frames) on a background thread: bundle frame ``f`` is source frame
``start + f`` (the manifest's ``source.start``), resized to the bundle's size
when the source's differs, kept in a cache bounded by CACHE_BYTES (frames past
it are decoded again on demand by seeking). The player never waits for it: a
frame not read yet shows the INR alone on both sides of the divider until it
arrives.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from actinr.engines.errors import ActinrError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
CACHE_BYTES = 1 << 30  # decoded source frames kept (at the bundle's size)
DIVIDER = 255  # the split line: white, 1 pixel wide


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (inf when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def resize(frame: np.ndarray, size: tuple[int, int], viewport=(0.0, 0.0, 1.0, 1.0)) -> np.ndarray:
    """``frame`` (h, w, 3) uint8 cropped to ``viewport`` (normalised x0, y0, x1, y1) and resized to ``size``."""
    from PIL import Image

    h, w = frame.shape[:2]
    x0, y0, x1, y1 = viewport
    if tuple(size) == (w, h) and tuple(viewport) == (0.0, 0.0, 1.0, 1.0):
        return frame
    img = Image.fromarray(frame).resize(tuple(size), Image.BILINEAR, box=(x0 * w, y0 * h, x1 * w, y1 * h))
    return np.asarray(img)


def compose(inr, source: np.ndarray | None, split: float):
    """The split view: ``inr`` left of column ``round(split * w)``, ``source`` (numpy, same size) right of it,
    with a 1-pixel divider. ``inr`` may be numpy or a torch tensor (on any device); so is the result. Without
    a source frame (not read yet) the INR fills the view."""
    if source is None:
        return inr
    w = inr.shape[1]
    x = min(max(round(split * w), 0), w)
    if isinstance(inr, np.ndarray):
        out = inr.copy()
        out[:, x:] = source[:, x:]
    else:
        import torch

        out = inr.clone()
        out[:, x:] = torch.from_numpy(np.ascontiguousarray(source[:, x:])).to(inr.device)
    if 0 < x < w:
        out[:, x - 1] = DIVIDER
    return out


class SourceFrames:
    """The source clip's frames ``start .. start + frames - 1`` at ``size``, read on a background thread.

    ``get(f)`` returns bundle frame ``f`` (numpy uint8 (h, w, 3)) or None while
    it is not read yet; ``notes`` says what was matched (resized, rate). A path
    that cannot be read, or a clip shorter than the bundle's frames, is an
    :class:`ActinrError` at construction.
    """

    def __init__(self, path, start: int, frames: int, size: tuple[int, int], fps: float):
        self.path, self.start, self.frames, self.size = Path(path), int(start), int(frames), tuple(size)
        self.notes: list[str] = []
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cap = max(2, CACHE_BYTES // (size[0] * size[1] * 3))
        self._cond = threading.Condition()
        self._wanted: int | None = None
        self._stop = False
        self._error: str | None = None
        p = self.path
        if not p.exists():
            raise ActinrError(f"--compare {p}: no such file or folder")
        if p.is_dir():
            self._files = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
            total, src_size, src_fps = len(self._files), self._image_size(), None
        else:
            self._files = None
            total, src_size, src_fps = self._probe()
        if total is not None and total < self.start + self.frames:
            raise ActinrError(f"--compare {p}: the bundle plays source frames {self.start}..{self.start + frames - 1} "
                              f"but this clip has {total} frames; give the clip the bundle was fitted to")
        if src_size != self.size:
            self.notes.append(f"source {src_size[0]}x{src_size[1]} resized to the bundle's {size[0]}x{size[1]}")
        if src_fps is not None and abs(src_fps - fps) > 1e-3 * fps:
            self.notes.append(f"source at {src_fps:.3f} fps, the bundle at {fps:.3f} fps: matched frame by frame")
        if self.start:
            self.notes.append(f"bundle frame 0 is source frame {self.start}")
        self._thread = threading.Thread(target=self._loop, name="actinr-compare", daemon=True)
        self._thread.start()

    # --- probing --------------------------------------------------------------------------------

    def _image_size(self) -> tuple[int, int]:
        from PIL import Image

        if not self._files:
            raise ActinrError(f"--compare {self.path}: no PNG or JPEG frames in this folder")
        with Image.open(self._files[0]) as im:
            return im.size

    def _probe(self) -> tuple[int | None, tuple[int, int], float | None]:
        import av

        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise ActinrError(f"--compare {self.path}: no video stream in this file")
                stream = container.streams.video[0]
                ctx = stream.codec_context
                rate = stream.average_rate or stream.guessed_rate
                return (stream.frames or None, (ctx.width, ctx.height), float(rate) if rate else None)
        except av.error.FFmpegError as exc:
            raise ActinrError(f"--compare {self.path}: cannot read as video "
                              f"({exc.strerror or type(exc).__name__})") from None

    # --- frames ---------------------------------------------------------------------------------

    def get(self, f: int) -> np.ndarray | None:
        """Bundle frame ``f`` (clamped to the clip), or None until it has been read."""
        f = min(max(int(f), 0), self.frames - 1)
        with self._cond:
            frame = self._cache.get(f)
            if frame is not None:
                self._cache.move_to_end(f)
                return frame
            if self._wanted is None:
                self._wanted = f
                self._cond.notify_all()
            return None

    def wait(self, f: int, timeout: float = 30.0) -> np.ndarray:
        """Bundle frame ``f``, waiting for it (headless rendering, tests)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.get(f) is not None or self._error is not None, timeout):
                raise ActinrError(f"--compare {self.path}: frame {self.start + f} was not read in {timeout:g} s")
            if self._error is not None:
                raise ActinrError(self._error)
            return self._cache[min(max(int(f), 0), self.frames - 1)]

    @property
    def error(self) -> str | None:
        return self._error

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(5.0)

    def _keep(self, f: int, frame: np.ndarray) -> None:
        if frame.shape[1::-1] != self.size:
            frame = resize(frame, self.size)
        with self._cond:
            self._cache[f] = np.ascontiguousarray(frame)
            self._cache.move_to_end(f)
            while len(self._cache) > self._cap:
                self._cache.popitem(last=False)
            if self._wanted is not None and self._wanted in self._cache:
                self._wanted = None
            self._cond.notify_all()

    def _loop(self) -> None:
        try:
            self._read(0)  # the whole range once, in order
            while True:  # then frames evicted from the cache, on demand
                with self._cond:
                    self._cond.wait_for(lambda: self._stop or (self._wanted is not None
                                                               and self._wanted not in self._cache))
                    if self._stop:
                        return
                    f = self._wanted
                self._read(f, only=True)
        except ActinrError as exc:
            with self._cond:
                self._error = str(exc)
                self._cond.notify_all()

    def _read(self, first: int, only: bool = False) -> None:
        """Read bundle frames from ``first`` (one frame with ``only``) into the cache."""
        if self._files is not None:
            from PIL import Image

            for f in range(first, first + 1 if only else self.frames):
                if self._stop:
                    return
                with Image.open(self._files[self.start + f]) as im:
                    self._keep(f, np.asarray(im.convert("RGB")))
            return
        import av

        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.guessed_rate or 30.0)
            index = 0
            if first > 0 and stream.time_base:  # seek to a keyframe at or before the frame, then decode forward
                target = int((self.start + first) / rate / stream.time_base) + (stream.start_time or 0)
                container.seek(target, stream=stream, backward=True, any_frame=False)
                index = None
            for frame in container.decode(stream):
                if self._stop:
                    return
                if index is None:  # after a seek: the frame's number from its time
                    t0 = float((stream.start_time or 0) * stream.time_base)
                    index = round((float(frame.time) - t0) * rate)
                f = index - self.start
                index += 1
                if f < first:
                    continue
                if f >= self.frames or (only and f > first):
                    return
                self._keep(f, frame.to_ndarray(format="rgb24"))
        if not only and len(self._cache) < min(self.frames, self._cap):
            raise ActinrError(f"--compare {self.path}: ended after {len(self._cache)} of the bundle's "
                              f"{self.frames} frames")
