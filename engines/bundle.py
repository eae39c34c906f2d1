"""The ``.engine`` bundle: one self-describing file holding everything a player needs.

Layout (all integers little-endian; docs/bundle.md is the reference for readers
in other languages)::

    0   8 bytes  magic  89 41 43 54 49 4E 52 0A  ("\\x89ACTINR\\n")
    8   uint32   format version (1)
    12  uint32   manifest length L in bytes
    16  32 bytes SHA-256 of the manifest bytes
    48  L bytes  manifest, UTF-8 JSON
        zero bytes up to the data area, which starts at the first multiple of 64 >= 48 + L
        sections, each at a multiple of 64 from the data area's start, zero bytes between them;
        the file ends where the last section ends

Every byte is covered by a check: the header by its magic, version and the
manifest hash, the manifest by its hash, each section by its own SHA-256, the
gaps by being zero and the end by the expected length. So a truncated,
corrupted, foreign or newer file is refused with :class:`BundleError` naming
the file and the problem, and :func:`load` never returns a partly valid bundle.
Arrays are raw little-endian C-order data (no pickle, no object arrays) and are
returned as read-only views of a memory map.
"""

from __future__ import annotations

import hashlib
import json
import math
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ActinrError
from .files import write_atomic

MAGIC = b"\x89ACTINR\n"
FORMAT = "actinr-bundle"
VERSION = 1
HEADER = struct.Struct("<8sII32s")  # magic, version, manifest length, manifest SHA-256
ALIGN = 64
DTYPES = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "int64": np.dtype("<i8"), "uint8": np.dtype("u1")}
KINDS = ("array", "onnx", "tensorrt-plan", "json")
MAX_MANIFEST = 64 << 20  # a manifest is kilobytes; refuse absurd lengths before reading them

# Leading bytes of files people may mistake for a bundle, for a helpful message.
_FOREIGN = [
    (0, b"ftrt", "a raw TensorRT plan (trtexec output?); actinr bundles embed plans, make one with 'actinr export'"),
    (4, b"ftyp", "an MP4/MOV video; train on it with 'actinr train', then 'actinr export'"),
    (0, b"PK\x03\x04", "a ZIP archive"),
    (0, b"\x1aE\xdf\xa3", "a Matroska/WebM video"),
    (0, b"RIFF", "a RIFF file (AVI/WAV)"),
    (0, b"\x89PNG", "a PNG image"),
    (0, b"\x80", "a Python pickle (bundles never contain pickle)"),
    (0, b"{", "a JSON/text file (a run's config.json? export the run folder with 'actinr export')"),
]


class BundleError(ActinrError):
    """A file that is not a valid, complete bundle this version of actinr can read."""


@dataclass(frozen=True)
class Section:
    """One manifest entry: where a section lies (``offset`` from the data area) and what it holds."""

    name: str
    kind: str
    offset: int
    size: int
    sha256: str
    dtype: str | None = None
    shape: tuple[int, ...] | None = None
    meta: dict | None = None  # kind-specific fields (e.g. a plan's compute capability)


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _describe_foreign(head: bytes) -> str:
    for at, sig, what in _FOREIGN:
        if head[at:at + len(sig)] == sig:
            return what
    if head[4:5] == b"{" and 0 < int.from_bytes(head[:4], "little") < 1 << 20:
        return "an Ultralytics engine (JSON header + TensorRT plan)"
    return "an unknown file type"


class BundleWriter:
    """Collects sections, then writes the bundle atomically with :meth:`write`."""

    def __init__(self, manifest: dict):
        self.manifest = dict(manifest)
        self._sections: list[tuple[dict, bytes]] = []

    def _add(self, entry: dict, data: bytes) -> None:
        if any(e["name"] == entry["name"] for e, _ in self._sections):
            raise ValueError(f"duplicate bundle section {entry['name']!r}")
        self._sections.append((entry, data))

    def add_array(self, name: str, array) -> None:
        a = np.asarray(array)
        dtype = next((k for k, v in DTYPES.items() if a.dtype == v), None)
        if dtype is None:
            raise ValueError(f"section {name!r}: dtype {a.dtype} cannot be stored (allowed: {', '.join(DTYPES)})")
        self._add({"name": name, "kind": "array", "dtype": dtype, "shape": list(a.shape)},
                  np.ascontiguousarray(a, DTYPES[dtype]).tobytes())

    def add_bytes(self, name: str, kind: str, data: bytes, **meta) -> None:
        if kind not in KINDS or kind == "array":
            raise ValueError(f"section {name!r}: kind must be one of {KINDS[1:]}, got {kind!r}")
        self._add({"name": name, "kind": kind, **({"meta": meta} if meta else {})}, bytes(data))

    def section_bytes(self, name: str) -> bytes:
        for entry, data in self._sections:
            if entry["name"] == name:
                return data
        raise KeyError(name)

    def to_bytes(self) -> bytes:
        entries, offset = [], 0
        for entry, data in self._sections:
            offset = _align(offset)
            entries.append({**entry, "offset": offset, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
            offset += len(data)
        manifest = {**self.manifest, "format": FORMAT, "format_version": VERSION, "sections": entries}
        text = json.dumps(manifest, indent=1, sort_keys=False).encode()
        head = HEADER.pack(MAGIC, VERSION, len(text), hashlib.sha256(text).digest()) + text
        out = bytearray(head + bytes(_align(len(head)) - len(head)))
        start = len(out)
        for entry, (_, data) in zip(entries, self._sections):
            out += bytes(start + entry["offset"] - len(out))
            out += data
        return bytes(out)

    def write(self, path) -> int:
        """Write the bundle to ``path`` atomically; returns its size in bytes.

        The temp file is read back through :func:`load` before it replaces ``path``,
        so a bundle the reader would refuse is never left behind.
        """
        blob = self.to_bytes()

        def write(tmp: str) -> None:
            Path(tmp).write_bytes(blob)
            try:
                load(tmp).close()
            except BundleError as exc:
                raise BundleError(f"{path}: refusing to write an invalid bundle: "
                                  f"{str(exc).split(': ', 1)[1]}") from None

        write_atomic(path, write)
        return len(blob)


class Bundle:
    """A validated bundle: ``manifest`` (dict), ``sections`` by name, and memory-mapped data."""

    def __init__(self, path: Path, manifest: dict, sections: dict[str, Section], buf, start: int):
        self.path, self.manifest, self.sections = path, manifest, sections
        self._buf, self._start = buf, start

    def __contains__(self, name: str) -> bool:
        return name in self.sections

    def raw(self, name: str) -> memoryview:
        """A section's bytes (a read-only view of the mapped file)."""
        s = self._section(name)
        return memoryview(self._buf)[self._start + s.offset:self._start + s.offset + s.size].toreadonly()

    def array(self, name: str) -> np.ndarray:
        """An array section as a read-only numpy view of the mapped file."""
        s = self._section(name)
        if s.kind != "array":
            raise BundleError(f"{self.path}: section {name!r} is {s.kind}, not an array")
        return np.frombuffer(self._buf, DTYPES[s.dtype], math.prod(s.shape), self._start + s.offset).reshape(s.shape)

    def gop_weights(self, g: int) -> list[np.ndarray]:
        """GOP ``g``'s decoder weights as the graph takes them: ``[(P, 2, 2h), (P, 2h, 4h)..., (P, 2h, 3)]``."""
        from .patch_mlp import realify_hidden

        n = self.manifest["model"]["layers"] + 2
        ws = [self.array(weight_name(g, i)) for i in range(n)]
        return [ws[0]] + [realify_hidden(w[:, 0], w[:, 1]) for w in ws[1:-1]] + [ws[-1]]

    def gop_bias_tables(self, g: int) -> list[np.ndarray]:
        """GOP ``g``'s baked bias tables ``[(K, P, out_i), ...]`` (see engines/bias.py)."""
        return [self.array(bias_name(g, i)) for i in range(self.manifest["model"]["layers"] + 2)]

    def _section(self, name: str) -> Section:
        if name not in self.sections:
            raise BundleError(f"{self.path}: no section {name!r} (present: {', '.join(self.sections)})")
        return self.sections[name]

    @property
    def size(self) -> int:
        return len(self._buf)

    @property
    def plans(self) -> list[Section]:
        """The TensorRT plan sections (``meta`` holds their compute capability and TensorRT version)."""
        return [s for s in self.sections.values() if s.kind == "tensorrt-plan"]

    def close(self) -> None:
        """Unmap the file (arrays returned by :meth:`array` must no longer be in use)."""
        try:
            self._buf.close()
        except BufferError:  # numpy views still alive: the map stays until they are garbage
            pass


def _fail(path, problem: str) -> BundleError:
    return BundleError(f"{path}: {problem}")


def _parse_section(path, i: int, e) -> Section:
    if not isinstance(e, dict):
        raise _fail(path, f"manifest section {i} is not an object")
    try:
        name, kind, offset, size, sha = e["name"], e["kind"], e["offset"], e["size"], e["sha256"]
    except KeyError as exc:
        raise _fail(path, f"manifest section {i} lacks {exc}") from None
    if not isinstance(name, str) or not name:
        raise _fail(path, f"manifest section {i} has no name")
    if not isinstance(kind, str) or kind not in KINDS:
        raise _fail(path, f"section {name!r} has unknown kind {kind!r}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (offset, size)):
        raise _fail(path, f"section {name!r} has a bad offset/size")
    if offset % ALIGN:
        raise _fail(path, f"section {name!r} is not {ALIGN}-byte aligned")
    if not isinstance(sha, str) or len(sha) != 64:
        raise _fail(path, f"section {name!r} has a bad checksum field")
    dtype = shape = None
    if kind == "array":
        dtype, shape = e.get("dtype"), e.get("shape")
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise _fail(path, f"section {name!r} has unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                  for d in shape):
            raise _fail(path, f"section {name!r} has a bad shape {shape!r}")
        shape = tuple(shape)
        if math.prod(shape) * DTYPES[dtype].itemsize != size:
            raise _fail(path, f"section {name!r}: shape {list(shape)} of {dtype} needs "
                              f"{math.prod(shape) * DTYPES[dtype].itemsize} bytes, the section has {size}")
    meta = e.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise _fail(path, f"section {name!r} has bad metadata")
    return Section(name, kind, offset, size, sha, dtype, shape, meta)


def load(path, content: bool = True) -> Bundle:
    """Open and validate a bundle; raises :class:`BundleError` for anything but a complete, intact one.

    ``content=False`` checks the container only (header, manifest, sections, checksums),
    not that the manifest describes an ActINR model.
    """
    path = Path(path)
    if not path.exists():
        raise BundleError(f"{path}: no such file")
    if not path.is_file():
        raise BundleError(f"{path}: not a file")
    try:
        with open(path, "rb") as fh:
            if fh.seek(0, 2) == 0:
                raise _fail(path, "empty file, not an actinr bundle")
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror or exc})") from None
    try:
        manifest, sections, start = _validate(path, buf)
        if content:
            check_manifest(path, manifest, sections)
    except BundleError:
        buf.close()  # validation only slices the map into bytes, so no view keeps it open
        raise
    return Bundle(path, manifest, sections, buf, start)


def _validate(path: Path, buf) -> tuple[dict, dict[str, Section], int]:
    """The container checks: header, manifest hash and JSON, section table, padding, length, checksums."""
    size = len(buf)
    head = buf[:HEADER.size]
    if head[:8] != MAGIC:
        if size < len(MAGIC) and MAGIC.startswith(head):
            raise _fail(path, f"truncated: {size} bytes, shorter than the {HEADER.size}-byte header")
        raise _fail(path, f"not an actinr bundle: this looks like {_describe_foreign(head)}")
    if size < HEADER.size:
        raise _fail(path, f"truncated: {size} bytes, shorter than the {HEADER.size}-byte header")
    _, version, length, digest = HEADER.unpack(head)
    if version > VERSION:
        raise _fail(path, f"bundle format version {version} is newer than this actinr reads ({VERSION}); "
                          "upgrade actinr")
    if version < 1:
        raise _fail(path, f"bad bundle format version {version} (damaged header)")
    if length > MAX_MANIFEST:
        raise _fail(path, f"damaged header (manifest length {length} bytes)")
    if HEADER.size + length > size:
        raise _fail(path, f"truncated: {size} bytes, the manifest alone needs {HEADER.size + length}")
    text = buf[HEADER.size:HEADER.size + length]
    if hashlib.sha256(text).digest() != digest:
        raise _fail(path, "manifest checksum mismatch (the file is damaged)")
    try:
        manifest = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _fail(path, f"manifest is not valid JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _fail(path, "manifest is not an actinr bundle manifest")
    if manifest.get("format_version") != version:
        raise _fail(path, f"manifest version {manifest.get('format_version')!r} disagrees with the header ({version})")
    entries = manifest.get("sections")
    if not isinstance(entries, list):
        raise _fail(path, "manifest has no section list")

    start = _align(HEADER.size + length)
    sections: dict[str, Section] = {}
    end = 0  # relative to the data area
    for i, e in enumerate(entries):
        s = _parse_section(path, i, e)
        if s.name in sections:
            raise _fail(path, f"section {s.name!r} appears twice")
        if s.offset < end:
            raise _fail(path, f"section {s.name!r} overlaps the one before it")
        sections[s.name] = s
        end = s.offset + s.size
    expected = start + end if sections else HEADER.size + length
    if size < expected:
        raise _fail(path, f"truncated: {size} bytes, the manifest describes {expected}")
    if size > expected:
        raise _fail(path, f"{size - expected} unexpected bytes after the last section")

    pos = HEADER.size + length
    for s in sections.values():  # every gap (alignment padding) must be zeros
        gap = buf[pos:start + s.offset]
        if gap.count(0) != len(gap):
            raise _fail(path, f"damaged padding before section {s.name!r}")
        pos = start + s.offset + s.size
    for s in sections.values():
        if hashlib.sha256(buf[start + s.offset:start + s.offset + s.size]).hexdigest() != s.sha256:
            raise _fail(path, f"section {s.name!r} checksum mismatch (the file is damaged)")
    return manifest, sections, start


# --- the ActINR content of a bundle -------------------------------------------------------------

PRECISIONS = {"fp32": "float32", "fp16": "float16"}
DECODER_GRAPHS = {"fp32": "decoder/fp32.onnx", "fp16": "decoder/fp16.onnx"}
BIAS_GRAPH = "bias_inr.onnx"
# The parameters of one module's bias-INR (train/model.py BiasINR), in the bias graph's input order.
INR_PARAMS = ("freqs", "latent", "base", "w_t", "w_z", "b_1", "w_2", "b_2", "w_3", "b_3")


def weight_name(g: int, i: int) -> str:
    return f"gop/{g:03d}/weight/{i}"


def bias_name(g: int, i: int) -> str:
    return f"gop/{g:03d}/bias/{i}"


def inr_name(g: int, i: int, param: str) -> str:
    return f"gop/{g:03d}/bias_inr/{i}/{param}"


def plan_name(compute_capability: str, tensorrt: str) -> str:
    """Section name of a TensorRT plan, e.g. ``plan/sm90/trt10.7.0`` for compute capability 9.0."""
    return f"plan/sm{compute_capability.replace('.', '')}/trt{tensorrt}"


def layer_shapes(hidden: int, layers: int) -> list[tuple[int, int]]:
    """(in, out) of each realified matmul: ``[(2, 2h), (2h, 4h) per hidden layer, (2h, 3)]``."""
    return [(2, 2 * hidden)] + [(2 * hidden, 4 * hidden)] * layers + [(2 * hidden, 3)]


def stored_shapes(patches: int, hidden: int, layers: int) -> list[tuple[int, ...]]:
    """Shapes of a GOP's weight sections: ``[(P, 2, 2h), (P, 2, h, 2h) per hidden layer, (P, 2h, 3)]``.

    A hidden layer is stored as the real and imaginary parts of its complex
    weights (half the size of the realified block matrix the graph takes).
    """
    h = hidden
    return [(patches, 2, 2 * h)] + [(patches, 2, h, 2 * h)] * layers + [(patches, 2 * h, 3)]


def _need(path, ok: bool, what: str) -> None:
    if not ok:
        raise _fail(path, f"manifest {what}")


def _int(v, low: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _dict(path, m: dict, key: str) -> dict:
    v = m.get(key)
    _need(path, isinstance(v, dict), f"has no '{key}' object")
    return v


def check_manifest(path, m: dict, sections: dict[str, Section]) -> None:
    """The model checks: the manifest's fields are sane and every array it implies is there with its shape."""
    src, patch, model, bias = (_dict(path, m, k) for k in ("source", "patch", "model", "bias"))
    _need(path, _int(src.get("width"), 1) and _int(src.get("height"), 1), "source size is not two positive integers")
    _need(path, _num(src.get("fps")) and src["fps"] > 0, "source fps is not a positive number")
    _need(path, _int(src.get("frames"), 1), "source frame count is not a positive integer")
    _need(path, _int(patch.get("size"), 2) and _int(patch.get("overlap")), "patch layout is damaged")
    from .grid import PatchLayout

    try:
        layout = PatchLayout(src["width"], src["height"], patch["size"], patch["overlap"])
    except ActinrError as exc:
        raise _fail(path, f"manifest patch layout is invalid ({exc})") from None
    for key in ("count", "nx", "ny"):
        _need(path, patch.get(key) == getattr(layout, key), f"patch {key} {patch.get(key)!r} disagrees with the "
                                                            f"layout ({getattr(layout, key)})")
    _need(path, _int(model.get("hidden"), 1) and _int(model.get("layers"), 1), "model width/depth is damaged")
    _need(path, all(_num(model.get(k)) for k in ("w0", "s0", "min_exponent")), "activation constants are damaged")
    _need(path, isinstance(m.get("precision"), str) and m["precision"] in PRECISIONS,
          f"precision {m.get('precision')!r} is unknown")
    _need(path, _int(bias.get("rate"), 1), "bias rate is not a positive integer")
    _need(path, bias.get("dtype") in ("float32", "float16"), f"bias dtype {bias.get('dtype')!r} is unknown")
    from .bias import INTERPOLATIONS, table_length

    _need(path, bias.get("interpolation") in INTERPOLATIONS, f"bias interpolation {bias.get('interpolation')!r} "
                                                             "is unknown")
    _need(path, isinstance(bias.get("exact"), bool), "bias 'exact' flag is damaged")
    gops = m.get("gops")
    _need(path, isinstance(gops, list) and len(gops) >= 1, "has no GOP list")
    prev = 0
    for g, span in enumerate(gops):
        _need(path, isinstance(span, dict) and _int(span.get("first")) and _int(span.get("last")),
              f"GOP {g} is damaged")
        _need(path, span["first"] == prev and span["last"] >= span["first"] and (span["last"] > span["first"]
                                                                                 or len(gops) == 1),
              f"GOP {g} ({span['first']}-{span['last']}) does not continue the GOP before it")
        prev = span["last"]
    _need(path, prev == src["frames"] - 1, f"GOPs end at frame {prev} but the source has {src['frames']} frames")

    def expect(name: str, kind: str, dtype: str | None = None, shape: tuple | None = None) -> None:
        s = sections.get(name)
        if s is None:
            raise _fail(path, f"section {name!r} is missing")
        if s.kind != kind:
            raise _fail(path, f"section {name!r} is {s.kind}, expected {kind}")
        if dtype is not None and (s.dtype != dtype or s.shape != shape):
            raise _fail(path, f"section {name!r} is {s.dtype} {list(s.shape)}, the manifest implies "
                              f"{dtype} {list(shape)}")

    for graph in DECODER_GRAPHS.values():
        expect(graph, "onnx")
    p, h = layout.count, model["hidden"]
    shapes = layer_shapes(h, model["layers"])
    stored = stored_shapes(p, h, model["layers"])
    wdtype = PRECISIONS[m["precision"]]
    inr = bias.get("inr") if bias["exact"] else None
    if bias["exact"]:
        expect(BIAS_GRAPH, "onnx")
        _need(path, isinstance(inr, dict) and _int(inr.get("freqs"), 1) and _int(inr.get("latent"), 1),
              "bias-INR sizes are damaged")
    for g, span in enumerate(gops):
        rows = table_length(span["first"], span["last"], bias["rate"])
        for i, (fan_in, out) in enumerate(shapes):
            expect(weight_name(g, i), "array", wdtype, stored[i])
            expect(bias_name(g, i), "array", bias["dtype"], (rows, p, out))
            if inr:
                nb, nz = inr["freqs"], inr["latent"]
                want = {"freqs": (nb,), "latent": (p, nz), "base": (p, out), "w_t": (2 * nb, out), "w_z": (nz, out),
                        "b_1": (out,), "w_2": (out, out), "b_2": (out,), "w_3": (out, out), "b_3": (out,)}
                for param in INR_PARAMS:
                    expect(inr_name(g, i, param), "array", "float32", want[param])
    for s in sections.values():
        if s.kind == "tensorrt-plan":
            meta = s.meta or {}
            _need(path, isinstance(meta.get("compute_capability"), str) and isinstance(meta.get("tensorrt"), str)
                  and s.name == plan_name(meta["compute_capability"], meta["tensorrt"]),
                  f"plan section {s.name!r} has a damaged key")
