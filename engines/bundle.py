"""The ``.engine`` bundle: one self-describing file holding everything a player needs.

Layout (all integers little-endian; docs/bundle.md is the reference for readers
in other languages)::

    0   8 bytes  magic  89 41 43 54 49 4E 52 0A  ("\\x89ACTINR\\n")
    8   uint32   format version (1; 2 when some bias tables are still: manifest bias.still; 3 when the GOPs
                 have a scene cut)
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

This module is the container (bytes, checksums, the memory map):
:func:`open_container` checks it alone; :func:`load` also parses the ActINR
content into a typed :class:`~actinr.engines.manifest.Manifest`
(engines/manifest.py, the only reader of the manifest's JSON).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import mmap
import struct
from pathlib import Path

import numpy as np

from . import bias_inr
from .files import write_atomic
from .manifest import (
    ALIGN,
    BIAS_GRAPH,
    DECODER_GRAPHS,
    DTYPES,
    KINDS,
    BundleError,
    Manifest,
    Plan,
    Section,
    bias_name,
    header_json,
    inr_name,
    parse_header,
    weight_name,
)
from .timeline import is_cut

MAGIC = b"\x89ACTINR\n"
VERSION = 3  # the newest format this actinr reads; 2 added still bias tables (manifest bias.still), 3 scene cuts
# (a GOP that starts after the frame the one before it ends: engines/timeline.py)
HEADER = struct.Struct("<8sII32s")  # magic, version, manifest length, manifest SHA-256
NUMPY = {name: np.dtype(name).newbyteorder("<") for name in DTYPES}
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

__all__ = ["BundleError", "BundleWriter", "Bundle", "Container", "load", "open_container"]


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
    """Collects sections, then writes the bundle atomically with :meth:`write`.

    ``content`` is the manifest's JSON without the container keys
    (:meth:`Manifest.to_json` for an ActINR bundle).
    """

    def __init__(self, content: dict):
        self.content = dict(content)
        self._sections: list[tuple[Section, bytes]] = []  # offsets and checksums are filled in by to_bytes

    def _add(self, section: Section, data: bytes) -> None:
        if any(s.name == section.name for s, _ in self._sections):
            raise ValueError(f"duplicate bundle section {section.name!r}")
        self._sections.append((section, data))

    def add_array(self, name: str, array) -> None:
        a = np.asarray(array)
        dtype = next((k for k, v in NUMPY.items() if a.dtype == v), None)
        if dtype is None:
            raise ValueError(f"section {name!r}: dtype {a.dtype} cannot be stored (allowed: {', '.join(DTYPES)})")
        data = np.ascontiguousarray(a, NUMPY[dtype]).tobytes()
        self._add(Section(name, "array", 0, len(data), "", dtype, tuple(a.shape)), data)

    def add_bytes(self, name: str, kind: str, data: bytes, **meta) -> None:
        if kind not in KINDS or kind == "array":
            raise ValueError(f"section {name!r}: kind must be one of {KINDS[1:]}, got {kind!r}")
        self._add(Section(name, kind, 0, len(data), "", meta=meta or None), bytes(data))

    def section_bytes(self, name: str) -> bytes:
        for section, data in self._sections:
            if section.name == name:
                return data
        raise KeyError(name)

    def to_bytes(self) -> bytes:
        entries, offset = [], 0
        for section, data in self._sections:
            offset = _align(offset)
            entries.append(dataclasses.replace(section, offset=offset, sha256=hashlib.sha256(data).hexdigest()))
            offset += len(data)
        table = [s.to_json() for s in entries]
        # The oldest version that holds the content, so older readers keep reading what they can.
        spans = [(g["first"], g["last"]) for g in self.content.get("gops") or []]
        cut = any(is_cut(spans, g) for g in range(1, len(spans)))
        version = 3 if cut else 2 if self.content.get("bias", {}).get("still") else 1
        text = json.dumps(header_json(self.content, table, version), indent=1, sort_keys=False).encode()
        head = HEADER.pack(MAGIC, version, len(text), hashlib.sha256(text).digest()) + text
        out = bytearray(head + bytes(_align(len(head)) - len(head)))
        start = len(out)
        for section, (_, data) in zip(entries, self._sections):
            out += bytes(start + section.offset - len(out))
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


class Container:
    """A validated file: the manifest's JSON ``header`` as stored, ``sections`` by name, memory-mapped data."""

    def __init__(self, path: Path, header: dict, sections: dict[str, Section], buf, start: int):
        self.path, self.header, self.sections = path, header, sections
        self._buf, self._start = buf, start

    def __contains__(self, name: str) -> bool:
        return name in self.sections

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def raw(self, name: str) -> memoryview:
        """A section's bytes (a read-only view of the mapped file)."""
        s = self._section(name)
        return memoryview(self._buf)[self._start + s.offset:self._start + s.offset + s.size].toreadonly()

    def array(self, name: str) -> np.ndarray:
        """An array section as a read-only numpy view of the mapped file."""
        s = self._section(name)
        if s.kind != "array":
            raise BundleError(f"{self.path}: section {name!r} is {s.kind}, not an array")
        return np.frombuffer(self._buf, NUMPY[s.dtype], math.prod(s.shape), self._start + s.offset).reshape(s.shape)

    def _section(self, name: str) -> Section:
        if name not in self.sections:
            raise BundleError(f"{self.path}: no section {name!r} (present: {', '.join(self.sections)})")
        return self.sections[name]

    @property
    def size(self) -> int:
        return len(self._buf)

    @property
    def version(self) -> int:
        """The file's format version (its header's)."""
        return HEADER.unpack(self._buf[:HEADER.size])[1]

    def close(self) -> None:
        """Unmap the file (arrays returned by :meth:`array` must no longer be in use)."""
        try:
            self._buf.close()
        except BufferError:  # numpy views still alive: the map stays until they are garbage
            pass


class Bundle(Container):
    """A bundle holding a valid ActINR model: ``manifest`` (typed) and its arrays and graphs by GOP."""

    def __init__(self, path: Path, header: dict, sections: dict[str, Section], buf, start: int, manifest: Manifest):
        super().__init__(path, header, sections, buf, start)
        self.manifest = manifest

    def gop_weights(self, g: int) -> list[np.ndarray]:
        """GOP ``g``'s decoder weights as the graph takes them: ``[(P, 2, 2h), (P, 2h, 4h)..., (P, 2h, 3)]``."""
        from .patch_mlp import realify_hidden

        ws = self.stored_weights(g)
        return [ws[0]] + [realify_hidden(w[:, 0], w[:, 1]) for w in ws[1:-1]] + [ws[-1]]

    def stored_weights(self, g: int) -> list[np.ndarray]:
        """GOP ``g``'s weights as stored (hidden layers as real and imaginary parts, ``Model.stored_shapes``)."""
        return [self.array(weight_name(g, i)) for i in range(self.manifest.model.modules)]

    def gop_bias_tables(self, g: int) -> list[np.ndarray]:
        """GOP ``g``'s baked bias tables ``[(K, P, out_i), ...]`` (see engines/bias.py)."""
        return [self.array(bias_name(g, i)) for i in range(self.manifest.model.modules)]

    def gop_bias_inrs(self, g: int) -> list[dict[str, np.ndarray]]:
        """GOP ``g``'s embedded bias-INR parameters, one dict per module (engines/bias_inr.py PARAMS)."""
        if not self.manifest.bias.exact:
            raise BundleError(f"{self.path}: has no embedded bias-INR (re-export with --exact-bias)")
        return [{k: self.array(inr_name(g, i, k)) for k in bias_inr.PARAMS} for i in range(self.manifest.model.modules)]

    def decoder_graph(self, precision: str) -> bytes:
        """The decoder ONNX graph for ``precision`` (fp32 or fp16)."""
        return bytes(self.raw(DECODER_GRAPHS[precision]))

    def bias_graph(self) -> bytes:
        """The embedded bias-INR's ONNX graph (``actinr export --exact-bias``)."""
        return bytes(self.raw(BIAS_GRAPH))

    def plan(self, plan: Plan) -> bytes:
        """A TensorRT plan's serialized bytes."""
        return bytes(self.raw(plan.name))


def _fail(path, problem: str) -> BundleError:
    return BundleError(f"{path}: {problem}")


def _map(path: Path):
    if not path.exists():
        raise BundleError(f"{path}: no such file")
    if not path.is_file():
        raise BundleError(f"{path}: not a file")
    try:
        with open(path, "rb") as fh:
            if fh.seek(0, 2) == 0:
                raise _fail(path, "empty file, not an actinr bundle")
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror or exc})") from None


def open_container(path) -> Container:
    """Open and check the container only (header, manifest JSON, sections, checksums), not the ActINR content."""
    path = Path(path)
    buf = _map(path)
    try:
        header, sections, start = _validate(path, buf)
        return Container(path, header, sections, buf, start)
    except BundleError:
        buf.close()  # validation only slices the map into bytes, so no view keeps it open
        raise


def load(path) -> Bundle:
    """Open and validate a bundle; raises :class:`BundleError` for anything but a complete, intact one."""
    path = Path(path)
    buf = _map(path)
    try:
        header, sections, start = _validate(path, buf)
        return Bundle(path, header, sections, buf, start, Manifest.parse(path, header, sections))
    except BundleError:
        buf.close()
        raise


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
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _fail(path, f"manifest is not valid JSON ({type(exc).__name__}: {exc})") from None

    start = _align(HEADER.size + length)
    sections: dict[str, Section] = {}
    end = 0  # relative to the data area
    for s in parse_header(path, header, version):
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
    return header, sections, start
