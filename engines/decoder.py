"""The decoder: a bundle plus a backend -> RGB frames at any time, size and viewport.

    dec = actinr.engines.open("model.engine")            # backend="auto", device="auto"
    img = dec.render(1.25, size=(1280, 720))              # uint8 (720, 1280, 3)
    img = dec.render(1.25, size=(640, 640), viewport=(0.25, 0.25, 0.75, 0.75))   # 2x zoom

Time ``t`` is in seconds from the bundle's first frame: frame ``f`` sits at
``t = f / fps``, and any time in between is a real frame of the continuous
model (slow motion without optical flow). Times outside ``[0, (frames-1)/fps]``
clamp to the first or last frame. The GOP for a time follows
engines/timeline.py: a time exactly on a frame shared by two GOPs belongs to
the later GOP, and within a frame of a shared frame both GOPs are
rendered and mixed, so the switch shows no jump (``render(..., gop=g)``
renders one GOP alone).

Per frame only the biases change: they are interpolated from the bundle's baked
tables (engines/bias.py) or, with ``exact_bias=True``, evaluated through the
bias-INR embedded in the bundle (engines/bias_inr.py). The sampling grid of
each (size, viewport) and each GOP's weights are prepared once on the
backend's device and cached.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from . import bias as bias_math
from . import bundle as B
from .backends import AUTO_ORDER, Backend, backend_class
from .bias_inr import bias_at
from .errors import ActinrError
from .grid import FULL_VIEW, check_viewport, sample_grid
from .manifest import PRECISIONS, Manifest
from .timeline import frame_position, gop_for_frame, local_time, mix_uint8, switch_mix

log = logging.getLogger("actinr")

MAX_SIDE = 16384  # output sides above this are refused (a 16K frame is 800 MB of uint8 already)
PLAN_CACHE = 4  # (size, viewport) plans kept; a player being resized makes a new one per size


@dataclass(frozen=True)
class DecoderInfo:
    """What a decoder plays: the source clip and how it is cut, and how it is decoded."""

    name: str
    width: int
    height: int
    fps: float
    frames: int
    gops: tuple[tuple[int, int], ...]
    backend: str
    device: str
    precision: str
    exact_bias: bool

    @property
    def duration(self) -> float:
        """Seconds of video: ``frames / fps`` (each frame is shown for 1/fps)."""
        return self.frames / self.fps

    @property
    def last_time(self) -> float:
        """Time of the last frame, ``(frames - 1) / fps``; later times show it."""
        return (self.frames - 1) / self.fps

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def check_size(size) -> tuple[int, int]:
    """A ``(w, h)`` output size -> two ints, or a one-line error."""
    try:
        w, h = size
        ok = all(float(v).is_integer() for v in (w, h))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ActinrError(f"size must be two whole numbers (width, height), got {size!r}")
    w, h = int(w), int(h)
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise ActinrError(f"size must be between 1x1 and {MAX_SIDE}x{MAX_SIDE} pixels, got {w}x{h}")
    return w, h


class Decoder:
    """Renders a bundle's video with one backend; made by :func:`open`."""

    def __init__(self, bundle: B.Bundle, backend_cls: type[Backend], device: str, precision: str,
                 exact_bias: bool = False, **backend_options):
        m = bundle.manifest
        if exact_bias and not m.bias.exact:
            raise ActinrError(f"{bundle.path}: has no embedded bias-INR, so exact biases are not available "
                              "(re-export with --exact-bias, or play with the baked tables)")
        self.bundle = bundle
        self.spans = m.spans
        self.exact_bias = exact_bias
        self.backend = backend_cls.load(bundle, device, precision, **backend_options)
        src = m.source
        self.info = DecoderInfo(src.name, src.width, src.height, src.fps, src.frames, tuple(self.spans),
                                backend_cls.name, device, precision, exact_bias)
        self._gops: dict[int, object] = {}
        self._tables: dict[int, list[np.ndarray]] = {}
        self._inrs: dict[int, list[dict]] = {}
        self._plans: OrderedDict = OrderedDict()
        self.skipped: list[str] = []  # why auto passed over the faster backends (set by open)
        # the GOP-switch window (engines/timeline.py switch_mix): benchmarks/switch_ablation.py varies them
        self.switch_width, self.switch_warp = m.switch  # the bundle's; the bundle before --gop-margin: hold, 1

    def __repr__(self) -> str:
        i = self.info
        return (f"<Decoder {i.name} {i.width}x{i.height} {i.frames} frames @ {i.fps:.3f} fps, "
                f"{i.backend} on {i.device} ({i.precision})>")

    def __enter__(self) -> Decoder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.backend.close()
        self._gops.clear()
        self._plans.clear()
        self._tables.clear()
        self._inrs.clear()
        self.bundle.close()

    @property
    def manifest(self) -> Manifest:
        """The bundle's typed manifest (engines/manifest.py)."""
        return self.bundle.manifest

    # --- time -------------------------------------------------------------------------------------

    def frame_position(self, t: float) -> float:
        """Seconds -> continuous frame position, clamped to the clip."""
        try:
            t = float(t)
        except (TypeError, ValueError):
            raise ActinrError(f"time must be a number of seconds, got {t!r}") from None
        if not math.isfinite(t):
            raise ActinrError(f"time must be a finite number of seconds, got {t}")
        return frame_position(t, self.info.fps, self.info.frames)

    def locate(self, t: float, gop: int | None = None) -> tuple[int, float]:
        """Seconds -> (GOP, local time in [0, 1]); ``gop`` forces a GOP that contains the time (or that holds
        its picture there, in a scene cut's gap)."""
        f = self.frame_position(t)
        own = gop_for_frame(self.spans, f)
        if gop is None:
            gop = own
        elif not (isinstance(gop, (int, np.integer)) and 0 <= gop < len(self.spans)
                  and (self.spans[gop][0] <= f <= self.spans[gop][1] or gop == own)):
            raise ActinrError(f"GOP {gop!r} does not contain frame position {f:g} "
                              f"(GOPs: {', '.join(f'{g}: {a}-{b}' for g, (a, b) in enumerate(self.spans))})")
        return int(gop), local_time(self.spans[gop], f)

    def passes(self, t: float) -> int:
        """How many GOPs :meth:`render` evaluates for the frame at ``t``: 2 inside a GOP switch's window (both
        GOPs, mixed), else 1. A frame's decoding time grows with it (the player's render-scale controller
        judges a frame's cost per pass, so a switch window does not drop the scale)."""
        return 1 if switch_mix(self.spans, self.frame_position(t), self.switch_width, self.switch_warp) is None else 2

    # --- biases -----------------------------------------------------------------------------------

    def biases(self, g: int, t: float) -> list[np.ndarray]:
        """Every module's bias ``(P, width)`` float32 for GOP ``g`` at local time ``t`` (a module whose biases do
        not move: the same array every time; do not write into it)."""
        if self.exact_bias:
            if g not in self._inrs:
                import torch

                self._inrs[g] = [{k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in params.items()}
                                 for params in self.bundle.gop_bias_inrs(g)]  # off the file map
            return [bias_at(p, t) for p in self._inrs[g]]
        if g not in self._tables:
            # Off the file map, in float32 once (fp16 tables are summed in fp32 anyway). A module whose biases do
            # not move has one row: that row is its bias at every time, handed out without a per-frame copy
            # (backends only read biases). Half the host time of a frame on the GPU backends (54 -> 28 us at
            # 1080p on the demo, benchmarks/host_frame.py).
            tables = [np.array(stored, dtype=np.float32) for stored in self.bundle.gop_bias_tables(g)]
            self._tables[g] = [tab[0] if tab.shape[0] == 1 else tab for tab in tables]
        how = self.manifest.bias.interpolation
        return [tab if tab.ndim == 2 else np.ascontiguousarray(bias_math.interpolate(tab, t, how))
                for tab in self._tables[g]]

    # --- rendering --------------------------------------------------------------------------------

    def _gop(self, g: int):
        if g not in self._gops:
            self._gops[g] = self.backend.load_gop(self.bundle.gop_weights(g))
        return self._gops[g]

    def preload(self, gops=None) -> None:
        """Move GOP weights to the backend now (every GOP by default), so no later frame pays for it."""
        for g in range(len(self.spans)) if gops is None else gops:
            self._gop(g)

    def stripes(self, size) -> list[tuple[int, int]]:
        """The row ranges ``(r0, r1)`` a frame of ``size`` is rendered in: one range up to the backend's
        ``stripe_pixels``, else stripes of whole rows with at most that many pixels each."""
        w, h = check_size(size)
        rows = max(1, self.backend.stripe_pixels // w)
        return [(r, min(r + rows, h)) for r in range(0, h, rows)]

    def plan(self, size=None, viewport=None, rows: tuple[int, int] | None = None):
        """The backend's prepared grid for ``size`` and ``viewport``, or for output ``rows`` of it.

        Plans are cached while a frame's plans cover at most the backend's
        ``plan_pixels`` output pixels (4.2 M on the CPU, 16.7 M on GPU backends);
        a larger frame's stripe plans are built for each frame and dropped
        (caching some of them would only evict the others), so memory stays
        bounded at any size (docs/measurements.md "Memory").
        """
        size = self.info.size if size is None else check_size(size)
        viewport = FULL_VIEW if viewport is None else check_viewport(viewport)
        rows = (0, size[1]) if rows is None else (int(rows[0]), int(rows[1]))
        limit = self.backend.plan_pixels
        if size[0] * size[1] > limit:
            return self.backend.prepare_view(size, viewport, rows)
        key = (size, viewport, rows)
        if key in self._plans:
            self._plans.move_to_end(key)
        else:
            self._plans[key] = self.backend.prepare_view(size, viewport, rows)
            # Keep at most `limit` output pixels in plans, and PLAN_CACHE (size, viewport) frames.
            while len(self._plans) > 1 and (
                    sum(w * (r[1] - r[0]) for (w, _), _, r in self._plans) > limit
                    or len({(sz, vp) for sz, vp, _ in self._plans}) > PLAN_CACHE):
                self._plans.popitem(last=False)
        return self._plans[key]

    def render(self, t: float, size=None, viewport=None, gop: int | None = None):
        """The frame at ``t`` seconds as uint8 RGB ``(h, w, 3)`` (numpy on CPU, a torch tensor on CUDA).

        ``size`` ``(w, h)`` defaults to the source size; ``viewport``
        ``(x0, y0, x1, y1)`` in 0..1 of the source frame defaults to all of it.
        A frame of more than the backend's ``stripe_pixels`` is rendered in
        stripes of rows into one output image, so the memory a render needs
        beyond the frame itself does not grow with the size (docs/measurements.md "Memory").
        """
        size = self.info.size if size is None else check_size(size)
        mix = None
        if gop is None:
            mix = switch_mix(self.spans, self.frame_position(t), self.switch_width, self.switch_warp)
        if mix is not None:  # near a GOP switch: both GOPs, mixed (engines/timeline.py)
            jobs = [(mix.before, self.biases(mix.before, mix.t_before)),
                    (mix.after, self.biases(mix.after, mix.t_after))]
        else:
            g, lt = self.locate(t, gop)
            jobs = [(g, self.biases(g, lt))]
        out = None
        stripes = self.stripes(size)
        for rows in stripes:
            plan = self.plan(size, viewport, rows)
            parts = [self.backend.render(plan, self._gop(g), biases) for g, biases in jobs]
            part = parts[0] if mix is None else mix_uint8(parts[0], parts[1], mix.weight)
            if len(stripes) == 1:
                return part
            if out is None:
                out = _empty_like(part, (size[1], size[0], 3))
            out[rows[0]:rows[1]] = part
            del parts, part
        return out

    def synchronize(self) -> None:
        """Wait until the device has finished the frames asked for (for timing)."""
        self.backend.synchronize()

    def reference(self, t: float, size=None, viewport=None, gop: int | None = None, device: str = "cpu",
                  local: float | None = None) -> np.ndarray:
        """The frame at ``t`` of one GOP (``gop``, default the time's own; no switch mix) by engines' plain fp32
        math, independent of the backend: :func:`~actinr.engines.patch_mlp.decode` at the grid's points, each
        pixel the weighted sum of its entries (:func:`~actinr.engines.grid.pixel_entries`), then 0..255,
        clamped and rounded. ``local`` replaces the GOP's local time (a switch window's times past a GOP's
        ends). Slow and memory-hungry (every activation at once, on ``device``): for checking backends
        (tests, ``make gpu-check``)."""
        import torch

        from .grid import pixel_entries
        from .patch_mlp import decode

        g, lt = self.locate(t, gop)
        lt = lt if local is None else float(local)
        w, h = self.info.size if size is None else check_size(size)
        grid = sample_grid(self.manifest.layout, (w, h), FULL_VIEW if viewport is None else check_viewport(viewport))
        weights = [torch.from_numpy(np.array(x, np.float32)).to(device) for x in self.bundle.gop_weights(g)]
        biases = [torch.from_numpy(b)[:, None].to(device) for b in self.biases(g, lt)]
        model = self.manifest.model
        with torch.inference_mode():
            out = decode(torch.from_numpy(grid.coords)[:, None].to(device), weights, biases, model.w0, model.s0)
            flat = torch.cat([out.reshape(-1, 3), torch.zeros(1, 3, device=device)])  # entry P*N: a spare slot
            entry, weight = pixel_entries(grid)
            img = (flat[torch.from_numpy(entry).to(device)] * torch.from_numpy(weight).to(device)[..., None]).sum(1)
            img = (img * 255.0).clamp_(0.0, 255.0).round_().to(torch.uint8).view(h, w, 3)
        return img.cpu().numpy()


def _empty_like(part, shape):
    """An uninitialised uint8 image of ``shape`` of the same kind (numpy, or torch on the same device) as ``part``."""
    if isinstance(part, np.ndarray):
        return np.empty(shape, np.uint8)
    import torch

    return torch.empty(shape, dtype=torch.uint8, device=part.device)


def _pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "auto"
    try:
        d = torch.device(device)
    except (RuntimeError, TypeError):
        raise ActinrError(f"unknown device {device!r} (use auto, cpu, cuda or cuda:N)") from None
    if d.type not in ("cpu", "cuda"):
        raise ActinrError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
    return str(d)


def auto_precision(cls: type[Backend], bundle_precision: str) -> str:
    """What ``precision="auto"`` means for a backend: the bundle's precision where it decodes it, else fp32."""
    return bundle_precision if bundle_precision in cls.precisions else "fp32"


def check_precision(cls: type[Backend], precision: str) -> None:
    """Raise :class:`ActinrError` unless backend ``cls`` decodes in ``precision``."""
    if precision not in cls.precisions:
        raise ActinrError(f"{cls.name} decodes in {' or '.join(cls.precisions)}, not {precision}"
                          + (" (fp16 is for GPU backends)" if not cls.gpu else ""))


def _resolve(backend: str, device: str, precision: str, bundle_precision: str):
    """(backend class, device, precision) for the request; for auto, the first that loads."""
    import torch

    if precision not in ("auto", *PRECISIONS):
        raise ActinrError(f"precision must be auto, {' or '.join(PRECISIONS)}, got {precision!r}")
    names = AUTO_ORDER if backend == "auto" else (backend,)
    skipped = []
    for name in names:
        cls = backend_class(name)
        dev = device if device != "auto" else ("cuda" if cls.gpu else "cpu")
        if backend == "auto" and torch.device(dev).type != ("cuda" if cls.gpu else "cpu"):
            skipped.append(f"{name}: not on {device}")
            continue
        prec = precision
        if prec == "auto":
            prec = auto_precision(cls, bundle_precision)
        try:
            cls.probe(dev)
            check_precision(cls, prec)
        except ActinrError as exc:
            if backend != "auto":
                raise
            skipped.append(str(exc))
            continue
        for line in skipped:
            log.info("backend skipped: %s", line)
        return cls, dev, prec, skipped
    raise ActinrError("no backend can run here: " + "; ".join(skipped))


def open(path, backend: str = "auto", device: str = "auto", precision: str = "auto",  # noqa: A001
         exact_bias: bool = False, **backend_options) -> Decoder:
    """Open a ``.engine`` bundle for rendering.

    ``backend``: auto or a name from engines/backends (triton, tensorrt, onnxruntime-cuda,
    torch-cuda, torch-cpu, onnxruntime-cpu); auto takes the fastest that loads
    and logs one line (logger ``actinr``) for each one it skipped.
    ``device``: auto, cpu, cuda or cuda:N. ``precision``: auto (the bundle's
    precision on GPU backends, fp32 on the CPU), fp32 or fp16 (GPU backends).
    ``exact_bias``: evaluate the embedded bias-INR instead of the baked tables.
    """
    if backend != "auto":
        backend_class(backend)  # an unknown name fails before the file is read
    device = _pick_device(device)
    bundle = B.load(path)
    cls, dev, prec, skipped = _resolve(backend, device, precision, bundle.manifest.precision)
    dec = Decoder(bundle, cls, dev, prec, exact_bias, **backend_options)
    dec.skipped = skipped
    return dec
