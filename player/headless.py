"""Headless rendering: ``actinr-play model.engine --output out.mp4`` (no window, no display).

Output frame ``k`` shows source time ``start + k * speed / fps``, wrapped at the
end (--loop, the default) or held on the last frame (--no-loop), exactly as the window's clock
would show it at that wall time; so ``--slowmo 10 --fps 30`` of a 30 fps clip
gives ten output frames per source frame, each a real frame of the model.
"""

from __future__ import annotations

import math

import numpy as np

from actinr.engines.errors import ActinrError
from actinr.engines.media import check_video_path, write_video
from actinr.engines.memory import ENCODE_BYTES_PER_PIXEL, check_encodable, check_memory

from .clock import PlaybackClock
from .config import PlayConfig

CRF = 16  # x264 quality; the demo at 352x288 in slow motion measured 40.4 dB against the decoder's frames


def to_numpy(image) -> np.ndarray:
    """A decoder frame (numpy, or a torch tensor on any device) -> numpy uint8 (h, w, 3)."""
    return image if isinstance(image, np.ndarray) else image.cpu().numpy()


def output_times(info, cfg: PlayConfig) -> tuple[np.ndarray, float]:
    """(source time of each output frame, output fps) for ``cfg`` on a clip described by ``info``."""
    fps = cfg.fps or info.fps
    speed = cfg.play_speed
    if cfg.start > info.last_time:
        raise ActinrError(f"--start {cfg.start:g} s is past the last frame ({info.last_time:.3f} s)")
    clock = PlaybackClock(info.frames, info.fps, speed=speed, start=cfg.start, loop=cfg.loop, now=lambda: 0.0)
    if cfg.duration is not None:
        count = max(1, round(cfg.duration * fps))
    else:  # to the end of the clip: the source seconds left, stretched by 1/speed
        count = max(1, math.ceil((info.duration - cfg.start) * fps / speed - 1e-6))
    times = np.array([clock.wrap(cfg.start + k * speed / fps) for k in range(count)])
    return times, fps


def render_video(decoder, cfg: PlayConfig, progress: bool = True) -> dict:
    """Render ``cfg.output`` with ``decoder``; returns {path, frames, size, fps, seconds}."""
    from tqdm.auto import tqdm

    check_video_path(cfg.output)
    info = decoder.info
    size = cfg.render_size or info.size
    check_encodable(size)
    check_memory(size, ENCODE_BYTES_PER_PIXEL, "--output")
    times, fps = output_times(info, cfg)
    source = None
    if cfg.compare is not None:  # the split view, as the window shows it (the divider at --compare-split)
        from .compare import SourceFrames

        source = SourceFrames(cfg.compare, decoder.manifest.source.start, info.frames, info.size, info.fps)
    try:
        frames = (compared(decoder, source, t, size, cfg.compare_split) for t in times)
        with tqdm(total=len(times), unit="frame", desc=f"rendering {size[0]}x{size[1]}", disable=not progress,
                  leave=False) as bar:
            count = write_video(cfg.output, frames, fps, crf=CRF, on_frame=bar.update)
    finally:
        if source is not None:
            source.close()
    return {"path": cfg.output, "frames": count, "size": size, "fps": fps, "seconds": count / fps,
            "notes": [] if source is None else source.notes}


def compared(decoder, source, t: float, size: tuple[int, int], split: float) -> np.ndarray:
    """The frame at ``t``; with a ``source`` (player/compare.py) the split view against its nearest frame."""
    image = to_numpy(decoder.render(t, size))
    if source is None:
        return image
    from .compare import compose, resize

    frame = source.wait(int(round(decoder.frame_position(t))))
    return compose(image, resize(frame, size), split)

