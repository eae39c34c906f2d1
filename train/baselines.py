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

Training's guide also mixes in :func:`flow_frames`, dense optical flow (OpenCV's DIS) both ways between
each pair of fitted frames, both frames splatted forward to the in-between time (``--guide-flow``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import numpy as np

from actinr.engines.errors import ActinrError

from .config import FLOW_SAMPLES

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


FLOW_SIGMA = 2.0  # px: a pixel whose flow there and back misses it by this much splats with weight 1/e
FLOW_HOLE = 0.05  # total splat weight under which a pixel takes the backward-warped estimate instead


def _warp(img: np.ndarray, flow: np.ndarray, cubic: bool = False) -> np.ndarray:
    """``img`` sampled (bilinear, or bicubic with ``cubic``; edges repeated) at each pixel plus ``flow`` (H, W, 2)
    in pixels (x, y)."""
    import cv2

    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def _consistency(flow: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Per pixel, how well ``flow`` (H, W, 2) comes back along ``other``, the flow the other way:
    ``exp(-miss / FLOW_SIGMA)`` in (0, 1]."""
    return np.exp(-np.linalg.norm(flow + _warp(other, flow), axis=-1) / FLOW_SIGMA)


def _acceleration(ahead: np.ndarray, behind: np.ndarray, behind_back: np.ndarray, share: float):
    """A key's pixels' acceleration (H, W, 2) over one key interval from its flows to the next key ``ahead``
    and to the one behind it ``behind`` (whose own flow back is ``behind_back``), times ``share`` and the
    consistency of ``behind``; 0.0 when ``share`` is 0. Its path ``s (ahead - behind) / 2 + s^2 (ahead +
    behind) / 2`` departs from ``s * ahead`` by ``-s (1 - s) / 2`` times this."""
    if share <= 0:
        return 0.0
    return (ahead + behind) * (share * _consistency(behind, behind_back))[..., None]


def _splat(img: np.ndarray, flow: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Forward splatting: each pixel of ``img`` (H, W, 3) float32 moved by ``flow`` (H, W, 2) and spread over
    the four pixels around where it lands (bilinear), times ``weight`` (H, W) -> (4, H * W) float64: the
    weighted colour sums and the weight sum."""
    h, w = weight.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    x, y = (gx + flow[..., 0]).ravel(), (gy + flow[..., 1]).ravel()
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    vals = np.concatenate([img.reshape(-1, 3) * weight.reshape(-1, 1), weight.reshape(-1, 1)], 1)
    out = np.zeros((4, h * w))
    for dx, dy, share in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = x0 + dx, y0 + dy
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        at, k = (yi * w + xi)[inside], share[inside]
        for c in range(4):
            out[c] += np.bincount(at, weights=vals[inside, c] * k, minlength=h * w)
    return out


def _splat_flow(move: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flow back from where each pixel lands: every pixel moved by ``move`` (H, W, 2) carries ``-move``,
    forward-splatted (:func:`_splat`) with ``weight`` (H, W) -> the weighted mean (H, W, 2) float32 and the weight
    sum (H, W) at each pixel of the frame landed in."""
    h, w = weight.shape
    field = np.concatenate([-move, np.zeros((h, w, 1), move.dtype)], -1)
    acc = _splat(field, move, weight)
    back = (acc[:2] / np.maximum(acc[3], 1e-12)).T.reshape(h, w, 2)
    return back.astype(np.float32), acc[3].reshape(h, w)


def flow_frames(keys: np.ndarray, split: int, accel: float = 0.0, sample: str = "splat") -> np.ndarray:
    """Optical-flow interpolation of ``keys`` (K, H, W, 3) uint8 to ``split`` frames per key interval.

    Returns ((K - 1) * split + 1, H, W, 3) uint8, output ``i`` at time ``i / split`` in key intervals (every
    ``split``-th the key itself), as :func:`motion_frames` does. For each pair of keys, dense flow both ways on
    their luma (OpenCV's DIS, its medium preset: a coarse-to-fine patch search with variational refinement);
    at time t the first frame is splatted forward along t times its flow and the second along 1 - t times
    its own, each pixel weighted by (1 - t) or t and by how well its flow comes back (forward-backward
    consistency, ``exp(-miss / FLOW_SIGMA)``: occluded pixels weigh little), and the sums normalised. A
    pixel that nothing lands on takes both frames warped backward along the flows estimated at t (the
    linear approximation of Super SloMo, Jiang et al. 2018). Unlike minterpolate's 16-pixel blocks, the
    flow is per pixel: on bikes k = 4 the teacher was 32.5 dB against minterpolate's 29.8 on 4 block grids
    (docs/measurements.md "An optical-flow teacher").

    ``accel`` (``--guide-flow-accel``): how much of each pixel's acceleration its path follows, where the key
    on its far side exists (the key before the first frame of the pair, after the second). Through the
    flows to both neighbours, ``f_1`` and ``f_-1``, a pixel moves ``t (f_1 - f_-1) / 2 + t^2 (f_1 + f_-1) / 2``
    by time t (a parabola through the three keys, as in quadratic video interpolation, Xu et al. 2019) rather
    than ``t f_1``; the difference is added times ``accel`` and times the backward flow's own
    forward-backward consistency (an occluded neighbour gives no acceleration). The flows are the same ones:
    no more flow is computed.

    ``sample`` (``--guide-flow-sample``): ``splat`` moves the colours as above; each lands bilinearly on four
    pixels, so a picture that moves by a fraction of a pixel comes out low-passed (point lights at night lose
    most). ``cubic`` moves the flow instead: the flow back to each key is splatted to time t the same way (the
    same weights), and the keys are sampled bicubically along it, each weighted by (1 - t) or t and by the
    consistency that landed there; a pixel that no flow reaches takes the linear approximation's flow. The
    flow field is smooth, so its low-pass costs little, and the picture keeps its detail: on city's night pan
    4-5 dB closer to the held-out frames, about 0.1-0.4 dB either way elsewhere (docs/measurements.md).
    ``auto`` mixes the two per pixel by :func:`cubic_share`, a leave-one-out check of both on the keys.
    """
    if sample not in FLOW_SAMPLES:
        raise ActinrError(f"flow sample must be one of {', '.join(FLOW_SAMPLES)}, not {sample!r}")
    if sample == "auto":
        share = cubic_share(keys, accel)
        splat = flow_frames(keys, split, accel, "splat")
        if share is None:
            return splat
        cubic = flow_frames(keys, split, accel, "cubic").astype(np.float32)
        mix = share[..., None] * cubic + (1.0 - share[..., None]) * splat.astype(np.float32)
        return np.clip(np.round(mix), 0, 255).astype(np.uint8)
    try:
        import cv2
    except ImportError as e:
        raise ActinrError("--guide-flow needs OpenCV: pip install opencv-python-headless "
                          "(or --guide-flow 0 for minterpolate alone)") from e

    count, (h0, w0) = (len(keys) - 1) * split + 1, keys.shape[1:3]
    if h0 < MIN_SIDE or w0 < MIN_SIDE:  # DIS wants 12 pixels a side; small frames are padded as for minterpolate
        keys = np.pad(keys, ((0, 0), (0, max(MIN_SIDE - h0, 0)), (0, max(MIN_SIDE - w0, 0)), (0, 0)), mode="edge")
    h, w = keys.shape[1:3]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    out = np.empty((count, h, w, 3), np.uint8)
    out[::split] = keys
    gray = [cv2.cvtColor(np.ascontiguousarray(k), cv2.COLOR_RGB2GRAY) for k in keys]
    fwd = [dis.calc(gray[n], gray[n + 1], None) for n in range(len(keys) - 1)]  # key n -> n + 1
    bwd = [dis.calc(gray[n + 1], gray[n], None) for n in range(len(keys) - 1)]  # key n + 1 -> n
    for n in range(len(keys) - 1):
        a, b = keys[n].astype(np.float32), keys[n + 1].astype(np.float32)
        f01, f10 = fwd[n], bwd[n]
        trust0, trust1 = _consistency(f01, f10), _consistency(f10, f01)
        # the acceleration each frame's pixels follow (t (1 - t) / 2 times it is the path's departure from a
        # line), 0 without a key on the far side
        curve0 = _acceleration(f01, bwd[n - 1], fwd[n - 1], accel) if n > 0 else 0.0
        curve1 = _acceleration(f10, fwd[n + 1], bwd[n + 1], accel) if n + 2 < len(keys) else 0.0
        for i in range(1, split):
            t = i / split
            bend = t * (1 - t) / 2
            move0, move1 = t * f01 - bend * curve0, (1 - t) * f10 - bend * curve1
            if sample == "cubic":
                out[n * split + i] = _sampled(a, b, t, f01, f10, move0, move1, trust0, trust1)
                continue
            acc = _splat(a, move0, (1 - t) * trust0) + _splat(b, move1, t * trust1)
            mix = (acc[:3] / np.maximum(acc[3], 1e-12)).T.reshape(h, w, 3)
            hole = (acc[3] < FLOW_HOLE).reshape(h, w)
            if hole.any():
                back = (1 - t) * _warp(a, t * t * f10 - (1 - t) * t * f01) + t * _warp(b, (1 - t) ** 2 * f01
                                                                                      - t * (1 - t) * f10)
                mix[hole] = back[hole]
            out[n * split + i] = np.clip(np.round(mix), 0, 255).astype(np.uint8)
    return out[:, :h0, :w0]


SHARE_WINDOW = 24  # px: the box the leave-one-out errors are summed over (a patch's size)
SHARE_DB = 0.25  # dB of gain of the cubic frames over the splat's at which they are taken alone


def cubic_share(keys: np.ndarray, accel: float = 0.0) -> np.ndarray | None:
    """Per pixel, the share in [0, 1] of the ``cubic`` flow frames against the ``splat`` ones (:func:`flow_frames`
    ``sample="auto"``), from a leave-one-out check on ``keys`` (K, H, W, 3) uint8: both, run on every other key,
    predict the keys between; their squared errors, summed over those keys, the colours and a ``SHARE_WINDOW``
    box around the pixel (with a floor of one grey level), give the gain of cubic over splat in dB, and the
    share is that over ``SHARE_DB``, clipped. Fine detail that moves by parts of a pixel and is followed well
    goes to the cubic frames (city's night pan: a mean share of 0.94 / 0.89 at k = 4 / 10); where the splat's
    low-pass was worth more, in motion that no flow follows exactly, the splat stays (cockatoo 0.03 / 0.10,
    carphone 0.26 / 0.08, bikes 0.12 / 0.09). The check runs over twice the gap, so motion that is a whole
    pixel there tells the two apart no better than none. None for fewer than three keys (nothing to leave
    out)."""
    if len(keys) < 3:
        return None
    import cv2

    even = keys[::2]
    truth = keys[1::2][: len(even) - 1].astype(np.float32)
    err = [((flow_frames(even, 2, accel, s)[1::2].astype(np.float32) - truth) ** 2).sum((0, 3))
           for s in ("splat", "cubic")]
    floor = 3.0 * len(truth)  # a squared error of one grey level per colour and left-out key
    box = [cv2.blur(e, (SHARE_WINDOW, SHARE_WINDOW), borderType=cv2.BORDER_REFLECT) + floor for e in err]
    return np.clip(10.0 * np.log10(box[0] / box[1]) / SHARE_DB, 0.0, 1.0).astype(np.float32)


def _sampled(a: np.ndarray, b: np.ndarray, t: float, f01: np.ndarray, f10: np.ndarray, move0: np.ndarray,
             move1: np.ndarray, trust0: np.ndarray, trust1: np.ndarray) -> np.ndarray:
    """One in-between frame of :func:`flow_frames` with ``sample="cubic"``: keys ``a`` and ``b`` (H, W, 3) float32
    at time ``t`` sampled along their flows back from t (``_splat_flow`` of the moves ``move0``, ``move1`` with the
    consistencies ``trust0``, ``trust1``) -> (H, W, 3) uint8."""
    back0, land0 = _splat_flow(move0, trust0)
    back1, land1 = _splat_flow(move1, trust1)
    # where no pixel lands: the linear approximation of the flow back from t (as the splat's holes take)
    back0 = np.where((land0 < FLOW_HOLE)[..., None], t * t * f10 - (1 - t) * t * f01, back0)
    back1 = np.where((land1 < FLOW_HOLE)[..., None], (1 - t) ** 2 * f01 - t * (1 - t) * f10, back1)
    # each key weighs by its nearness in time and the consistency landed there (at most 1: a pixel many land on
    # is no surer); a small floor keeps a pixel that neither reaches at the nearness alone
    wa = (1 - t) * (np.minimum(land0, 1.0) + 1e-3)
    wb = t * (np.minimum(land1, 1.0) + 1e-3)
    mix = (wa[..., None] * _warp(a, back0, True) + wb[..., None] * _warp(b, back1, True)) / (wa + wb)[..., None]
    return np.clip(np.round(mix), 0, 255).astype(np.uint8)


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
