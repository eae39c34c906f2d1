"""The bundle manifest as frozen dataclasses: parsed and validated once, read by attribute everywhere.

A bundle's JSON header (engines/bundle.py has the binary layout; docs/bundle.md
the format for readers in other languages) holds the container keys
``format``, ``format_version`` and ``sections`` (:class:`Section`) and the
ActINR content, :class:`Manifest`:

    source      Source     the clip: name, size, fps, frame count, first source frame
    patch       PatchLayout (engines/grid.py) stored as size, overlap and, for readers, nx, ny, count
    model       Model      the patch MLP: width, depth, activation constants; owns every shape
    gops        Gop...     frame spans, each continuing the one before on a shared frame, or after a gap (a
                           scene cut: engines/timeline.py)
    precision   "fp32" | "fp16" (how the weights are stored)
    bias        Bias       the baked tables' rate, dtype and interpolation; the embedded bias-INR's sizes
    switch      (width, warp)  how a player mixes two GOPs around a shared frame (engines/timeline.py);
                           absent in bundles fitted before --gop-margin: (1.0, "hold")
    training, export, producer, created   informational, never refused

This module is the only reader of that JSON: everything downstream reads
attributes. :meth:`Manifest.parse` raises :class:`BundleError` with one line
naming the file and the field (expected vs got), and
:meth:`Manifest.expected_sections` is the table of every section the
content implies, with its kind, dtype and shape, which the reader checks
against the section table.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import bias_inr
from .bias import INTERPOLATIONS, table_length
from .errors import ActinrError
from .grid import PatchLayout
from .patch_mlp import layer_shapes, stored_shapes
from .timeline import LEGACY_SWITCH, WARPS, is_cut

FORMAT = "actinr-bundle"
ALIGN = 64  # sections start at multiples of this from the data area
KINDS = ("array", "onnx", "tensorrt-plan", "json")
DTYPES = {"float32": 4, "float16": 2, "int64": 8, "uint8": 1}  # array sections (little-endian): bytes per item
PRECISIONS = {"fp32": "float32", "fp16": "float16"}  # weight precision -> stored dtype
DECODER_GRAPHS = {"fp32": "decoder/fp32.onnx", "fp16": "decoder/fp16.onnx"}
BIAS_GRAPH = "bias_inr.onnx"
MAX_INT = 2 ** 53  # larger numbers are damage (and would overflow float arithmetic on them)
MAX_SIDE = 1 << 16  # pixels, for a source frame's sides and a patch
MAX_SWITCH = 64.0  # frames, the widest GOP-switch window a manifest may ask for


class BundleError(ActinrError):
    """A file that is not a valid, complete bundle this version of actinr can read."""


def weight_name(g: int, i: int) -> str:
    return f"gop/{g:03d}/weight/{i}"


def bias_name(g: int, i: int) -> str:
    return f"gop/{g:03d}/bias/{i}"


def inr_name(g: int, i: int, param: str) -> str:
    return f"gop/{g:03d}/bias_inr/{i}/{param}"


def plan_name(compute_capability: str, tensorrt: str) -> str:
    """Section name of a TensorRT plan, e.g. ``plan/sm90/trt10.7.0`` for compute capability 9.0."""
    return f"plan/sm{compute_capability.replace('.', '')}/trt{tensorrt}"


# --- reading JSON fields --------------------------------------------------------------------------


class _Fields:
    """Typed reads of one JSON object's fields; any failure is one :class:`BundleError` line.

    ``where`` names the object in messages ("manifest source width must be ...").
    """

    def __init__(self, path, obj, where: str):
        self.path, self.obj, self.where = path, obj, where

    def fail(self, problem: str) -> BundleError:
        return BundleError(f"{self.path}: {problem}")

    def _get(self, key: str, default):
        if key in self.obj:
            return self.obj[key]
        if default is _REQUIRED:
            raise self.fail(f"{self.where} has no '{key}'")
        return default

    def _bad(self, key: str, rule: str, value) -> BundleError:
        return self.fail(f"{self.where} {key} must be {rule}, got {value!r}")

    def integer(self, key: str, low: int = 0, high: int = MAX_INT, default=None) -> int:
        v = self._get(key, _REQUIRED if default is None else default)
        if not (isinstance(v, int) and not isinstance(v, bool) and low <= v <= high):
            raise self._bad(key, f"an integer >= {low}" if high == MAX_INT else f"an integer from {low} to {high}", v)
        return v

    def number(self, key: str, positive: bool = False) -> float:
        v = self._get(key, _REQUIRED)
        number = isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= MAX_INT and math.isfinite(v)
        if not (number and (v > 0 or not positive)):
            raise self._bad(key, "a positive number" if positive else "a finite number", v)
        return float(v)

    def text(self, key: str, choices=None) -> str:
        v = self._get(key, _REQUIRED)
        if choices is not None and v not in choices:
            raise self.fail(f"{self.where} {key} {v!r} is unknown (known: {', '.join(choices)})")
        if not isinstance(v, str):
            raise self._bad(key, "a string", v)
        return v

    def flag(self, key: str) -> bool:
        v = self._get(key, _REQUIRED)
        if not isinstance(v, bool):
            raise self._bad(key, "true or false", v)
        return v

    def object(self, key: str) -> _Fields:
        v = self.obj.get(key)
        if not isinstance(v, dict):
            raise self.fail(f"{self.where} has no '{key}' object")
        return _Fields(self.path, v, f"{self.where} {key}")


_REQUIRED = object()


def _text(v) -> str | None:
    """An informational string field: kept when it is one, else dropped."""
    return v if isinstance(v, str) else None


# --- the section table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One entry of the section table: where a section lies (``offset`` from the data area) and what it holds."""

    name: str
    kind: str
    offset: int
    size: int
    sha256: str
    dtype: str | None = None
    shape: tuple[int, ...] | None = None
    meta: Mapping[str, Any] | None = None  # kind-specific fields (a plan's compute capability, ...)

    def to_json(self) -> dict:
        """The section table entry a writer stores."""
        out: dict = {"name": self.name, "kind": self.kind}
        if self.kind == "array":
            out.update(dtype=self.dtype, shape=list(self.shape))
        if self.meta:
            out["meta"] = dict(self.meta)
        return {**out, "offset": self.offset, "size": self.size, "sha256": self.sha256}


def parse_header(path, data, version: int) -> list[Section]:
    """The container keys of a header: its format and version, and the section table (in file order)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError(f"{path}: manifest is not an actinr bundle manifest")
    if data.get("format_version") != version:
        raise BundleError(f"{path}: manifest version {data.get('format_version')!r} disagrees with the header "
                          f"({version})")
    entries = data.get("sections")
    if not isinstance(entries, list):
        raise BundleError(f"{path}: manifest has no section list")
    return [_section(path, i, e) for i, e in enumerate(entries)]


def _section(path, i: int, e) -> Section:
    def fail(problem: str) -> BundleError:
        return BundleError(f"{path}: {problem}")

    if not isinstance(e, dict):
        raise fail(f"manifest section {i} is not an object")
    try:
        name, kind, offset, size, sha = e["name"], e["kind"], e["offset"], e["size"], e["sha256"]
    except KeyError as exc:
        raise fail(f"manifest section {i} lacks {exc}") from None
    if not isinstance(name, str) or not name:
        raise fail(f"manifest section {i} has no name")
    if not isinstance(kind, str) or kind not in KINDS:
        raise fail(f"section {name!r} has unknown kind {kind!r}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (offset, size)):
        raise fail(f"section {name!r} has a bad offset/size")
    if offset % ALIGN:
        raise fail(f"section {name!r} is not {ALIGN}-byte aligned")
    if not isinstance(sha, str) or len(sha) != 64:
        raise fail(f"section {name!r} has a bad checksum field")
    dtype = shape = None
    if kind == "array":
        dtype, shape = e.get("dtype"), e.get("shape")
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise fail(f"section {name!r} has unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                  for d in shape):
            raise fail(f"section {name!r} has a bad shape {shape!r}")
        shape = tuple(shape)
        if math.prod(shape) * DTYPES[dtype] != size:
            raise fail(f"section {name!r}: shape {list(shape)} of {dtype} needs "
                       f"{math.prod(shape) * DTYPES[dtype]} bytes, the section has {size}")
    meta = e.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise fail(f"section {name!r} has bad metadata")
    return Section(name, kind, offset, size, sha, dtype, shape, meta)


def header_json(content: Mapping, sections: list[dict], version: int) -> dict:
    """The header a writer stores: the content, then the container keys."""
    return {**content, "format": FORMAT, "format_version": version, "sections": sections}


# --- the content ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """The clip the bundle plays: ``frames`` frames of ``width x height`` at ``fps``, from source frame ``start``."""

    name: str
    width: int
    height: int
    fps: float
    frames: int
    start: int = 0

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Model:
    """The per-patch WIRE-2D MLP (engines/patch_mlp.py): its width, depth and activation constants.

    It owns every shape a bundle's arrays and graphs take (from the shape
    tables of engines/patch_mlp.py and engines/bias_inr.py).
    """

    hidden: int
    layers: int
    w0: float
    s0: float
    min_exponent: float

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        """(in, out) of each realified matmul, the decoder graph's weights ``(P, in, out)``."""
        return layer_shapes(self.hidden, self.layers)

    @property
    def widths(self) -> list[int]:
        """The bias width of each module."""
        return [out for _, out in self.layer_shapes]

    @property
    def modules(self) -> int:
        """Biased linear modules: the first layer, each hidden layer, the output layer."""
        return self.layers + 2

    def stored_shapes(self, patches: int) -> list[tuple[int, ...]]:
        """The shapes a GOP's weights are stored in."""
        return stored_shapes(patches, self.hidden, self.layers)

    def inr_shapes(self, patches: int, inr: InrSize) -> list[dict[str, tuple[int, ...]]]:
        """Each module's bias-INR parameter shapes."""
        return [bias_inr.param_shapes(patches, w, inr.freqs, inr.latent) for w in self.widths]

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class InrSize:
    """The embedded bias-INR's sizes: Gaussian time frequencies and latent values per patch."""

    freqs: int = bias_inr.FREQS
    latent: int = bias_inr.LATENT


@dataclass(frozen=True)
class Bias:
    """How biases are stored: baked tables (``rate`` samples per frame interval) and, if ``inr``, the bias-INR."""

    rate: int
    dtype: str
    interpolation: str
    inr: InrSize | None = None  # the embedded bias-INR (``actinr export --exact-bias``), or None
    # Modules whose biases do not change with time (a run fitted with --time-bias first): their tables hold one
    # row, the same at every time (bundle format version 2; version 1 bundles have none).
    still: tuple[int, ...] = ()

    @property
    def exact(self) -> bool:
        return self.inr is not None

    def to_json(self) -> dict:
        out = {"rate": self.rate, "dtype": self.dtype, "interpolation": self.interpolation, "exact": self.exact}
        if self.inr is not None:
            out["inr"] = {"freqs": self.inr.freqs, "latent": self.inr.latent}
        if self.still:
            out["still"] = list(self.still)
        return out


@dataclass(frozen=True)
class Gop:
    """A group of pictures: frames ``first .. last`` inclusive."""

    first: int
    last: int

    @property
    def span(self) -> tuple[int, int]:
        return self.first, self.last


@dataclass(frozen=True)
class Training:
    """What the producer says about the fit (informational: odd values are dropped, never refused)."""

    task: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    results: tuple[Mapping[str, Any], ...] = ()

    @property
    def psnr(self) -> list[float]:
        """The fit PSNR of each GOP that reports one."""
        return [float(r["psnr"]) for r in self.results
                if isinstance(r.get("psnr"), (int, float)) and not isinstance(r.get("psnr"), bool)]

    @classmethod
    def parse(cls, data) -> Training:
        if not isinstance(data, dict):
            return cls()
        results = data.get("results")
        return cls(_text(data.get("task")), data["config"] if isinstance(data.get("config"), dict) else {},
                   tuple(r for r in results if isinstance(r, dict)) if isinstance(results, list) else ())

    def to_json(self) -> dict:
        return {"task": self.task, "config": dict(self.config), "results": [dict(r) for r in self.results]}


@dataclass(frozen=True)
class Plan:
    """A TensorRT plan section and the (GPU, TensorRT, precision) it was built for."""

    name: str  # the section holding it
    compute_capability: str
    tensorrt: str
    precision: str

    def meta(self) -> dict:
        """The section metadata a writer stores."""
        return {"precision": self.precision, "compute_capability": self.compute_capability,
                "tensorrt": self.tensorrt}


@dataclass(frozen=True)
class Expected:
    """A section the content implies: its name, kind and, for arrays, dtype and shape."""

    name: str
    kind: str
    dtype: str | None = None
    shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Manifest:
    """The ActINR content of a bundle (see the module docstring)."""

    source: Source
    layout: PatchLayout
    model: Model
    gops: tuple[Gop, ...]
    precision: str
    bias: Bias
    producer: str | None = None
    created: str | None = None
    training: Training = field(default_factory=Training)
    export: Mapping[str, Any] = field(default_factory=dict)
    plans: tuple[Plan, ...] = ()  # from the section table
    switch: tuple[float, str] = LEGACY_SWITCH  # the GOP-switch window: width in frames, warp

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Each GOP's (first, last) frame, as engines/timeline.py takes them."""
        return [g.span for g in self.gops]

    @property
    def patches(self) -> int:
        return self.layout.count

    @property
    def cuts(self) -> list[int]:
        """GOPs that start a new scene (after a gap: engines/timeline.py)."""
        return [g for g in range(1, len(self.gops)) if is_cut(self.spans, g)]

    def table_rows(self, g: int, module: int = 0) -> int:
        """Rows of GOP ``g``'s baked bias table of ``module`` (1 for a module whose biases stay still)."""
        if module in self.bias.still:
            return 1
        return table_length(self.gops[g].first, self.gops[g].last, self.bias.rate)

    def expected_sections(self) -> list[Expected]:
        """Every section the content implies (plans are optional and not listed)."""
        out = [Expected(graph, "onnx") for graph in DECODER_GRAPHS.values()]
        if self.bias.exact:
            out.append(Expected(BIAS_GRAPH, "onnx"))
        p, m = self.patches, self.model
        stored = m.stored_shapes(p)
        inrs = m.inr_shapes(p, self.bias.inr) if self.bias.exact else None
        for g in range(len(self.gops)):
            for i, width in enumerate(m.widths):
                out.append(Expected(weight_name(g, i), "array", PRECISIONS[self.precision], stored[i]))
                out.append(Expected(bias_name(g, i), "array", self.bias.dtype, (self.table_rows(g, i), p, width)))
                if inrs:
                    out += [Expected(inr_name(g, i, k), "array", "float32", inrs[i][k]) for k in bias_inr.PARAMS]
        return out

    def to_json(self) -> dict:
        """The content as a writer stores it (the container adds format, version and sections)."""
        return {
            "producer": self.producer, "created": self.created, "source": self.source.to_json(),
            "patch": layout_json(self.layout),
            "model": self.model.to_json(), "gops": [{"first": g.first, "last": g.last} for g in self.gops],
            "precision": self.precision, "bias": self.bias.to_json(), "training": self.training.to_json(),
            "export": dict(self.export), "switch": {"width": self.switch[0], "warp": self.switch[1]},
        }

    @classmethod
    def parse(cls, path, data: dict, sections: Mapping[str, Section]) -> Manifest:
        """Validate the content of header ``data`` against ``sections``; :class:`BundleError` on any problem."""
        top = _Fields(path, data, "manifest")
        src, patch, model, bias = (top.object(k) for k in ("source", "patch", "model", "bias"))
        source = Source(src.text("name"), src.integer("width", 1, MAX_SIDE), src.integer("height", 1, MAX_SIDE),
                        src.number("fps", positive=True), src.integer("frames", 1), src.integer("start", 0, default=0))
        size, overlap = patch.integer("size", 2, MAX_SIDE), patch.integer("overlap")
        try:
            layout = PatchLayout(source.width, source.height, size, overlap)
        except ActinrError as exc:
            raise top.fail(f"manifest patch layout is invalid ({exc})") from None
        for key in ("count", "nx", "ny"):
            if patch.obj.get(key) != getattr(layout, key):
                raise top.fail(f"manifest patch {key} {patch.obj.get(key)!r} disagrees with the layout "
                               f"({getattr(layout, key)})")
        # Bounds far beyond any real model keep a damaged file from asking for absurd shape tables.
        mdl = Model(model.integer("hidden", 1, 1 << 16), model.integer("layers", 1, 1024), model.number("w0"),
                    model.number("s0"), model.number("min_exponent"))
        precision = top.text("precision", tuple(PRECISIONS))
        exact = bias.flag("exact")
        inr = None
        if exact:
            sizes = bias.object("inr")
            inr = InrSize(sizes.integer("freqs", 1, 1 << 16), sizes.integer("latent", 1, 1 << 16))
        still = bias.obj.get("still", [])
        if not (isinstance(still, list) and all(type(i) is int and 0 <= i < mdl.modules for i in still)
                and len(set(still)) == len(still)):
            raise top.fail(f"manifest bias still must list distinct module numbers below {mdl.modules}, got "
                           f"{still!r}")
        b = Bias(bias.integer("rate", 1), bias.text("dtype", ("float32", "float16")),
                 bias.text("interpolation", INTERPOLATIONS), inr, tuple(still))
        gops = _gops(top, source.frames)
        plans = tuple(_plan(top, s, precision) for s in sections.values() if s.kind == "tensorrt-plan")
        export = data.get("export")
        switch = LEGACY_SWITCH
        if "switch" in data:
            sw = top.object("switch")
            width = sw.number("width")
            if not 0 <= width <= MAX_SWITCH:
                raise top.fail(f"manifest switch width must be between 0 and {MAX_SWITCH:g} frames, got {width:g}")
            switch = (width, sw.text("warp", WARPS))
        manifest = cls(source, layout, mdl, gops, precision, b, _text(data.get("producer")),
                       _text(data.get("created")), Training.parse(data.get("training")),
                       export if isinstance(export, dict) else {}, plans, switch)
        manifest._check_sections(path, sections)
        return manifest

    def _check_sections(self, path, sections: Mapping[str, Section]) -> None:
        for want in self.expected_sections():
            s = sections.get(want.name)
            if s is None:
                raise BundleError(f"{path}: section {want.name!r} is missing")
            if s.kind != want.kind:
                raise BundleError(f"{path}: section {want.name!r} is {s.kind}, expected {want.kind}")
            if want.dtype is not None and (s.dtype != want.dtype or s.shape != want.shape):
                raise BundleError(f"{path}: section {want.name!r} is {s.dtype} {list(s.shape)}, the manifest "
                                  f"implies {want.dtype} {list(want.shape)}")


def layout_json(lay: PatchLayout) -> dict:
    """A patch layout as the manifest stores it (nx, ny and count for readers in other languages)."""
    return {"size": lay.patch, "overlap": lay.overlap, "nx": lay.nx, "ny": lay.ny, "count": lay.count}


def _gops(top: _Fields, frames: int) -> tuple[Gop, ...]:
    spans = top.obj.get("gops")
    if not isinstance(spans, list) or not spans:
        raise top.fail("manifest has no GOP list")
    gops, prev = [], 0
    for g, span in enumerate(spans):
        if not isinstance(span, dict):
            raise top.fail(f"manifest GOP {g} is not an object")
        f = _Fields(top.path, span, f"manifest GOP {g}")
        first, last = f.integer("first"), f.integer("last")
        if first < prev or (g == 0 and first != 0) or last < first or (last == first and len(spans) > 1):
            raise top.fail(f"manifest GOP {g} ({first}-{last}) does not continue the GOP before it")
        gops.append(Gop(first, last))
        prev = last
    if prev != frames - 1:
        raise top.fail(f"manifest GOPs end at frame {prev} but the source has {frames} frames")
    return tuple(gops)


def _plan(top: _Fields, s: Section, precision: str) -> Plan:
    meta = s.meta or {}
    cc, trt = meta.get("compute_capability"), meta.get("tensorrt")
    prec = meta.get("precision", precision)  # plans written before the precision was recorded: the bundle's
    if not (isinstance(cc, str) and isinstance(trt, str) and s.name == plan_name(cc, trt) and prec in PRECISIONS):
        raise top.fail(f"manifest plan section {s.name!r} has a damaged key")
    return Plan(s.name, cc, trt, prec)
