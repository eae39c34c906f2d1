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
  (yuv444p, so odd sizes and colour are not subsampled), through PyAV's own
  libavfilter (the same pixels as the ffmpeg command line; no ffmpeg on PATH
  needed). Training uses it too: :func:`motion_frames` gives the in-between
  targets of ``--guide mci`` and, mixed with a second setting, ``mci2`` (train/fit.py).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import numpy as np

from actinr.engines.errors import ActinrError

# the filter's options: the same as `ffmpeg -vf minterpolate=fps=N:mi_mode=mci:mc_mode=aobmc:me_mode=bidir`
MCI_OPTIONS = "fps={fps}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir"
# --guide mci2: a weighted mean of two other settings, one searching twice as far (64 px), one with 8-px blocks;
# their errors differ, so the mean is closer to the true frames than either (docs/measurements.md "A better teacher")
MCI2_OPTIONS = ((MCI_OPTIONS + ":search_param=64", 2.0 / 3.0), (MCI_OPTIONS + ":mb_size=8", 1.0 / 3.0))
MIN_SIDE = 32  # smaller frames are padded (edge pixels repeated) to this, and the result cropped
BLOCK = 16  # minterpolate's default block size (mb_size); a grid offset pads the frame to a multiple of it


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


def grid_offsets(grids: int) -> list[int]:
    """Block-grid offsets in pixels of ``grids`` (>= 1) runs: evenly spaced over one 16-pixel block."""
    return [round(i * BLOCK / grids) for i in range(grids)]


def motion_frames(keys: np.ndarray, split: int, lead: bool = False, options: str = MCI_OPTIONS,
                  grid: int | None = None) -> np.ndarray:
    """ffmpeg ``minterpolate`` of ``keys`` (K, H, W, 3) uint8 to ``split`` frames per key interval.

    Returns ((K - 1) * split + 1, H, W, 3) uint8: output ``i`` is time ``i / split``
    in key intervals, so every ``split``-th output is (nearly) a key frame itself.
    ``lead``: send ``keys[1]`` first, as if the clip ran backwards before its
    start. Without it the filter's scene-change test has no frame before the
    first pair and can take that pair for a cut, which it cross-fades (measured:
    a square moving over a ramp, first interval 10.2 grey levels off, 6.5 with
    the lead; the later intervals are the same). ``options``: the filter's
    settings (``{fps}`` stands for ``split``). ``grid``: None runs the filter on the frames as they are (what
    the ffmpeg command line does); a number of pixels pads them first (edge pixels repeated) by that many
    rows and columns at the top and left and to a multiple of 16 at the bottom and right, and crops the
    result back. The filter searches and compensates in 16-pixel blocks: a frame whose sides are not
    multiples of 16 leaves a partial row or column of blocks (bikes at 320x136: 8.5 block rows), and it
    interpolates much worse (the guide's ``mci2`` on bikes k = 4: 28.75 dB as they are, 29.40 padded; the
    mean of 4 grids 29.81; docs/measurements.md "Block grids"); runs at different offsets err in different
    places, so their mean is closer than any one.
    """
    import av
    import av.filter

    if "minterpolate" not in av.filter.filters_available:
        raise ActinrError(f"this PyAV ({av.__version__}) was built without ffmpeg's minterpolate filter")
    count, (h0, w0) = (len(keys) - 1) * split + 1, keys.shape[1:3]
    top = 0
    if grid is not None:
        top = grid
        h, w = max(h0 + top, MIN_SIDE), max(w0 + top, MIN_SIDE)
        keys = np.pad(keys, ((0, 0), (top, h - h0 - top + (-h % BLOCK)), (top, w - w0 - top + (-w % BLOCK)), (0, 0)),
                      mode="edge")
    elif h0 < MIN_SIDE or w0 < MIN_SIDE:  # the filter refuses frames under two of its 16-pixel blocks a side
        keys = np.pad(keys, ((0, 0), (0, max(MIN_SIDE - h0, 0)), (0, max(MIN_SIDE - w0, 0)), (0, 0)), mode="edge")
    h, w = keys.shape[1:3]
    graph = av.filter.Graph()
    chain = [graph.add_buffer(width=w, height=h, format="rgb24", time_base=Fraction(1, 1)),
             graph.add("format", "yuv444p"), graph.add("minterpolate", options.format(fps=split)),
             graph.add("format", "rgb24"), graph.add("buffersink")]
    for a, b in zip(chain, chain[1:]):
        a.link_to(b)
    graph.configure()
    out: list[np.ndarray] = []
    skip = split if lead and len(keys) > 1 else 0  # the outputs before keys[0]
    # The filter holds back its last outputs until it sees a later frame: the last key is sent twice.
    for i, key in enumerate([*keys[1:2]] * (skip > 0) + [*keys, keys[-1]]):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(key), format="rgb24")
        frame.pts, frame.time_base = i, Fraction(1, 1)
        graph.push(frame)
        while len(out) < skip + count:
            try:
                out.append(graph.pull().to_ndarray())
            except (av.error.BlockingIOError, av.error.EOFError):
                break
    if len(out) < skip + count:
        raise ActinrError(f"ffmpeg minterpolate returned {len(out) - skip} frames, expected {count}")
    return np.stack(out[skip:skip + count])[:, top:top + h0, top:top + w0]


def mixed_motion_frames(keys: np.ndarray, split: int, setting, lead: bool = False, grids: int = 0) -> np.ndarray:
    """:func:`motion_frames` under each ``(options, weight)`` of ``setting`` (None: the baseline's setting
    alone), at each of ``grids`` block-grid offsets (:func:`grid_offsets`; 0: the frames as they are), their
    weighted mean as uint8."""
    setting = ((MCI_OPTIONS, 1.0),) if setting is None else setting
    offsets = grid_offsets(grids) if grids else [None]
    jobs = [(o, w / len(offsets), g) for o, w in setting for g in offsets]

    def job(j: tuple) -> np.ndarray:
        return motion_frames(keys, split, lead=lead, options=j[0], grid=j[2])

    # The runs are independent and libavfilter runs without the GIL: threads use every core (1.85x on 2 cores,
    # measured at 1280x720). Each run is added as it comes, in the jobs' order (so the result does not depend on
    # the threads, and only the runs in flight are held, not all of them).
    workers = min(len(jobs), os.cpu_count() or 1)
    out = None
    with ThreadPoolExecutor(workers) as pool:
        for (_, w, _), run in zip(jobs, pool.map(job, jobs) if workers > 1 else map(job, jobs)):
            term = w * run.astype(np.float32)
            out = term if out is None else out + term
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def guide_runs(keys: np.ndarray, split: int, context: np.ndarray | None = None, setting=None, grids: int = 0
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """The two minterpolate runs the guide (train/tasks.py ``guide_targets``) averages, of ``keys`` (K, H, W, 3)
    uint8 to ``split`` frames per interval: after the lead frame, and, given ``context`` (C, H, W, 3), the
    fitted frames just before ``keys``, after those (their outputs dropped; None without them). ``setting``:
    ``(options, weight)`` pairs (:func:`mixed_motion_frames`), None for the baseline's own; ``grids``: block-grid
    offsets each is run at (0: the frames as they are). Each run ((K - 1) * split + 1, H, W, 3) uint8;
    :func:`mean_frames` mixes them."""
    def run(frames: np.ndarray, lead: bool) -> np.ndarray:
        return mixed_motion_frames(frames, split, setting, lead=lead, grids=grids)

    after = None
    if context is not None and len(context):
        after = run(np.concatenate([context, keys]), False)[len(context) * split:]
    return run(keys, True), after


def mean_frames(a: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The rounded mean of two uint8 runs of :func:`guide_runs` (``a`` itself when ``b`` is None)."""
    return a if b is None else np.round((a.astype(np.float32) + b) / 2.0).astype(np.uint8)


def minterpolate(frames: np.ndarray, every: int) -> np.ndarray:
    """ffmpeg's motion-compensated interpolation of key frames ``frames[0::every]`` back to every frame.

    ``frames`` (F, H, W, 3) uint8; only the key frames are used. Returns
    (K, H, W, 3) uint8 for frames ``0 .. K-1`` with ``K = (F - 1) // every * every + 1``
    (up to the last key frame); key frames come back as (nearly) themselves.
    """
    return motion_frames(frames[0::every], every)
