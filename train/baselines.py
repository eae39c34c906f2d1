"""What a slow-motion frame is compared with: blending, repeating, and ffmpeg's motion-compensated interpolation.

Given the fitted ("key") frames of an interp run, each baseline predicts the
frames between them:

- ``blend``: the two neighbouring key frames mixed by the time between them
  (a cross-fade, what a model that does not move shows);
- ``repeat``: the previous key frame (a frame-rate drop);
- ``minterpolate``: ffmpeg's ``minterpolate`` filter (``mi_mode=mci``,
  ``mc_mode=aobmc``, ``me_mode=bidir``: bidirectional motion estimation and
  overlapped-block motion compensation), the optical-flow method a user
  compares us with. It runs on the key frames alone, in full-chroma YUV
  (yuv444p, so odd sizes and colour are not subsampled), through pipes.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from actinr.engines.errors import ActinrError

MCI_FILTER = "minterpolate=fps={fps}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir"


def neighbours(keys: list[int], f: int) -> tuple[int, int]:
    """The key frames either side of ``f`` (``keys`` sorted; ``keys[0] < f < keys[-1]``)."""
    a = max(k for k in keys if k < f)
    b = min(k for k in keys if k > f)
    return a, b


def blend(frames: np.ndarray, keys: list[int], f: int) -> np.ndarray:
    """uint8 cross-fade of the key frames either side of ``f``."""
    a, b = neighbours(keys, f)
    w = (f - a) / (b - a)
    mix = (1.0 - w) * frames[a].astype(np.float32) + w * frames[b].astype(np.float32)
    return np.clip(np.round(mix), 0, 255).astype(np.uint8)


def repeat(frames: np.ndarray, keys: list[int], f: int) -> np.ndarray:
    return frames[neighbours(keys, f)[0]]


def have_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


def minterpolate(frames: np.ndarray, every: int) -> np.ndarray:
    """ffmpeg's motion-compensated interpolation of key frames ``frames[0::every]`` back to every frame.

    ``frames`` (F, H, W, 3) uint8; only the key frames are given to ffmpeg,
    at 1 frame per ``every`` output frames. Returns (K, H, W, 3) uint8 for
    frames ``0 .. K-1`` with ``K = (F - 1) // every * every + 1`` (up to the
    last key frame); key frames come back as (nearly) themselves.
    """
    if not have_ffmpeg():
        raise ActinrError("ffmpeg is not on PATH (install it, e.g. apt-get install ffmpeg)")
    keys = frames[0::every]
    count = (len(keys) - 1) * every + 1
    h, w = frames.shape[1:3]
    # The filter holds back its last outputs until it sees a later frame: the last key is sent twice.
    feed = np.concatenate([keys, keys[-1:]], 0)
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", "1", "-i", "-", "-vf", f"format=yuv444p,{MCI_FILTER.format(fps=every)},format=rgb24",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.run(cmd, input=np.ascontiguousarray(feed).tobytes(), capture_output=True)
    if proc.returncode != 0:
        raise ActinrError(f"ffmpeg minterpolate failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")
    out = np.frombuffer(proc.stdout, np.uint8)
    n = out.size // (h * w * 3)
    if n < count:
        raise ActinrError(f"ffmpeg minterpolate returned {n} frames, expected at least {count}")
    return out[: count * h * w * 3].reshape(count, h, w, 3).copy()
