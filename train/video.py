"""Reading video: mp4/mkv/avi/mov files and folders of PNG/JPEG frames (writers: engines/media.py).

Video files are decoded with PyAV; single PNG/JPEG frames are read with Pillow
(PyAV's image path would need Pillow for the conversion anyway). Frames are uint8 RGB arrays shaped (F, H, W, 3).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from actinr.engines.errors import ActinrError

VIDEO_SUFFIXES = {".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
FOLDER_FPS = 30.0  # a folder of frames carries no rate; this one is assumed


@dataclass
class Clip:
    """Frames (F, H, W, 3) uint8 read from ``path``; ``total`` frames in the source, ``start`` the first read."""

    frames: np.ndarray
    fps: float
    path: str
    start: int
    total: int

    @property
    def size(self) -> tuple[int, int]:
        return self.frames.shape[2], self.frames.shape[1]


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _check_range(path, start: int, frames: int | None, total: int) -> int:
    if total == 0:
        raise ActinrError(f"{path}: no video frames found")
    if start < 0 or (frames is not None and frames < 1):
        raise ActinrError(f"{path}: --start must be >= 0 and --frames >= 1, got start {start}, frames {frames}")
    count = total - start if frames is None else frames
    if start >= total or start + count > total:
        raise ActinrError(
            f"{path}: frames {start}..{start + count - 1} requested but the clip has {total} frames (0..{total - 1})"
        )
    return count


def read_video(path, start: int = 0, frames: int | None = None, resize: tuple[int, int] | None = None,
               only: bool = False) -> Clip:
    """Read ``frames`` frames from ``start`` of a video file or a folder of images, as RGB uint8.

    ``only`` (a parallel worker reading its GOPs): hold only those frames and stop after them, seeking to
    the keyframe before ``start`` instead of decoding from the beginning; ``total`` is then not counted
    (it is reported as ``start + frames``).
    """
    if only and frames is not None and not Path(path).is_dir() and Path(path).suffix.lower() not in IMAGE_SUFFIXES:
        return _read_range(Path(path), start, frames, resize)

    p = Path(path)
    if not p.exists():
        raise ActinrError(f"{p}: no such file or folder")
    if p.is_dir():
        files = _image_files(p)
        count = _check_range(p, start, frames, len(files))
        out = []
        for f in files[start:start + count]:
            out.append(_read_image(f))
            if out[-1].shape != out[0].shape:
                raise ActinrError(f"{f}: frame size {out[-1].shape[1]}x{out[-1].shape[0]} differs from "
                                  f"{out[0].shape[1]}x{out[0].shape[0]} of the first frame")
        clip = Clip(np.stack(out), FOLDER_FPS, str(p), start, len(files))
    elif p.suffix.lower() in IMAGE_SUFFIXES:
        _check_range(p, start, frames, 1)
        clip = Clip(_read_image(p)[None], FOLDER_FPS, str(p), 0, 1)
    else:
        with _video(p) as (container, stream, fps):
            out = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        count = _check_range(p, start, frames, len(out))
        clip = Clip(np.stack(out[start:start + count]), fps, str(p), start, len(out))
    if resize is not None and tuple(resize) != clip.size:
        clip.frames = resize_frames(clip.frames, resize)
    return clip


def clip_info(path, start: int = 0, frames: int | None = None, resize: tuple[int, int] | None = None) -> Clip:
    """What :func:`read_video` would return, without holding the frames (``frames`` is a (count, 0) stand-in
    whose first dimension is the frame count): a parallel run's driver reads no pixels. Frames are still
    decoded once to be counted."""

    p = Path(path)
    if not p.exists():
        raise ActinrError(f"{p}: no such file or folder")
    if p.is_dir() or p.suffix.lower() in IMAGE_SUFFIXES:
        files = _image_files(p) if p.is_dir() else [p]
        count = _check_range(p, start, frames, len(files))
        size = tuple(resize) if resize else _read_image(files[start]).shape[1::-1]
        return _Info(np.zeros((count, 0)), FOLDER_FPS, str(p), start, len(files), size)
    with _video(p) as (container, stream, fps):
        total = sum(1 for _ in container.decode(stream))
        size = (stream.codec_context.width, stream.codec_context.height)
    count = _check_range(p, start, frames, total)
    return _Info(np.zeros((count, 0)), fps, str(p), start, total, tuple(resize) if resize else size)


def frames_at(path, start: int, wanted: list[int], resize: tuple[int, int] | None = None):
    """Yield frames ``start + i`` for ``i`` in ``wanted`` (ascending), each (H, W, 3) uint8 as :func:`read_video`
    returns it, decoding the clip once and holding one frame at a time (a parallel run's driver looks for
    scene cuts this way without reading the clip into memory)."""
    p, want = Path(path), set(wanted)
    if p.is_dir() or p.suffix.lower() in IMAGE_SUFFIXES:
        files = _image_files(p) if p.is_dir() else [p]
        source = (_read_image(files[start + i]) for i in wanted)
    else:
        def decoded():
            with _video(p) as (container, stream, _):
                for i, frame in enumerate(container.decode(stream)):
                    if i - start in want:
                        yield frame.to_ndarray(format="rgb24")
                    if i - start >= wanted[-1]:
                        return
        source = decoded()
    for frame in source:
        if resize is not None and tuple(resize) != (frame.shape[1], frame.shape[0]):
            frame = resize_frames(frame[None], resize)[0]
        yield frame


@dataclass
class _Info(Clip):
    """A :class:`Clip` without pixels (:func:`clip_info`)."""

    known_size: tuple[int, int] = (0, 0)

    @property
    def size(self) -> tuple[int, int]:
        return self.known_size


def _read_range(p: Path, start: int, frames: int, resize) -> Clip:
    """Frames ``start .. start + frames - 1`` of a video file, seeking near ``start`` and holding only those."""

    if not p.exists():
        raise ActinrError(f"{p}: no such file or folder")
    out: list[np.ndarray] = []
    with _video(p) as (container, stream, fps):
        base = stream.start_time or 0
        if start > 0 and stream.time_base:
            container.seek(base + int(start / fps / stream.time_base), stream=stream, backward=True)
        for frame in container.decode(stream):
            index = round((frame.pts - base) * float(stream.time_base) * fps) if frame.pts is not None else None
            if index is None or index < start:
                continue
            out.append(frame.to_ndarray(format="rgb24"))
            if len(out) == frames:
                break
    if len(out) < frames:
        raise ActinrError(f"{p}: frames {start}..{start + frames - 1} requested but the clip ended after "
                          f"{start + len(out)} frames")
    clip = Clip(np.stack(out), fps, str(p), start, start + frames)
    if resize is not None and tuple(resize) != clip.size:
        clip.frames = resize_frames(clip.frames, resize)
    return clip


@contextmanager
def _video(p: Path):
    """``(container, stream, fps)`` of a video file's first video stream; PyAV's errors, inside the block
    too, become one-line ActinrErrors."""
    import av

    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                raise ActinrError(f"{p}: no video stream in this file")
            stream = container.streams.video[0]
            yield container, stream, float(stream.average_rate or stream.guessed_rate or FOLDER_FPS)
    except av.error.FFmpegError as exc:
        raise ActinrError(f"{p}: cannot read as video ({exc.strerror or type(exc).__name__})") from None


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ActinrError(f"{path}: cannot read as an image ({exc})") from None


def resize_frames(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize (antialiased when shrinking) of (F, H, W, 3) uint8 frames to ``size = (w, h)``."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    x = torch.nn.functional.interpolate(x, size=(size[1], size[0]), mode="bicubic", antialias=True,
                                        align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
