"""The .engine bundle container: round trips, validation, fuzzing, foreign files."""

import hashlib
import io
import json
import pickle
import struct
import zipfile

import numpy as np
import pytest

from actinr.engines import bundle as B
from actinr.engines import manifest as M
from actinr.engines.errors import ActinrError

MINIMAL = {"producer": "test"}


def write_raw(path, manifest: dict, data: bytes = b"", version: int = B.VERSION) -> None:
    """A file with a hand-made manifest (hashed correctly), for manifests the writer would not produce."""
    text = json.dumps(manifest).encode()
    head = B.HEADER.pack(B.MAGIC, version, len(text), hashlib.sha256(text).digest()) + text
    start = -(-len(head) // B.ALIGN) * B.ALIGN
    path.write_bytes(head + bytes(start - len(head)) + data)


def replace_manifest(src, dst, edit) -> None:
    """Copy bundle ``src`` to ``dst`` with ``edit(manifest)`` applied and the manifest re-hashed."""
    blob = src.read_bytes()
    _, version, length, _ = B.HEADER.unpack(blob[:B.HEADER.size])
    manifest = json.loads(blob[B.HEADER.size:B.HEADER.size + length])
    data = blob[-(-(B.HEADER.size + length) // B.ALIGN) * B.ALIGN:]
    edit(manifest)
    write_raw(dst, manifest, data, version)


def test_container_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"a/f32": rng.normal(size=(3, 5, 7)).astype(np.float32),
              "a/f16": rng.normal(size=(11,)).astype(np.float16),
              "b/i64": np.arange(-4, 9, dtype=np.int64).reshape(13, 1), "b/u8": rng.integers(0, 255, (2, 3), np.uint8),
              "empty": np.zeros((0, 4), np.float32)}
    w = B.BundleWriter({"producer": "test", "anything": [1, 2.5, "x"]})
    for k, v in arrays.items():
        w.add_array(k, v)
    w.add_bytes("graph.onnx", "onnx", b"\x08\x07hello")
    raw = rng.integers(0, 255, 1001, np.uint8).tobytes()
    w.add_bytes("plan/sm90/trt10.7.0", "tensorrt-plan", raw, compute_capability="9.0", tensorrt="10.7.0")
    path = tmp_path / "x.engine"
    path.write_bytes(w.to_bytes())  # write() would refuse it: it holds no ActINR model
    blob = path.read_bytes()
    assert blob[:8] == B.MAGIC == b"\x89ACTINR\n" and struct.unpack("<I", blob[8:12])[0] == 1
    with pytest.raises(B.BundleError, match="no 'source' object"):
        B.load(path)
    bundle = B.open_container(path)
    header, sections = bundle.header, bundle.sections
    assert header["anything"] == [1, 2.5, "x"] and header["format"] == "actinr-bundle"
    assert bundle._start % 64 == 0 and all(s.offset % 64 == 0 for s in sections.values())
    assert list(sections) == [*arrays, "graph.onnx", "plan/sm90/trt10.7.0"]
    for k, v in arrays.items():
        got = bundle.array(k)
        assert got.dtype == v.dtype and got.shape == v.shape and np.array_equal(got, v)
        assert not got.flags.writeable
    assert bytes(bundle.raw("graph.onnx")) == b"\x08\x07hello"
    assert bytes(bundle.raw("plan/sm90/trt10.7.0")) == raw
    assert sections["plan/sm90/trt10.7.0"].meta == {"compute_capability": "9.0", "tensorrt": "10.7.0"}
    with pytest.raises(B.BundleError, match="is onnx, not an array"):
        bundle.array("graph.onnx")
    with pytest.raises(B.BundleError, match="no section 'nope'"):
        bundle.array("nope")


def test_writer_refuses_programming_errors():
    w = B.BundleWriter(MINIMAL)
    w.add_array("x", np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="duplicate"):
        w.add_array("x", np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="object"):
        w.add_array("o", np.array([{}, None], dtype=object))
    with pytest.raises(ValueError, match="float64"):
        w.add_array("d", np.zeros(2))
    with pytest.raises(ValueError, match="kind"):
        w.add_bytes("p", "pickle", b"")


def test_real_bundle_contents(carphone_run, carphone_bundle):
    bundle = B.load(carphone_bundle)
    h = bundle.header  # the file format, as docs/bundle.md documents it for other readers
    assert h["source"] == {"name": "carphone.mp4", "width": 176, "height": 144, "fps": pytest.approx(29.97, abs=0.01),
                           "frames": 9, "start": 0}
    assert h["gops"] == [{"first": 0, "last": 4}, {"first": 4, "last": 8}]
    assert h["patch"] == {"size": 32, "overlap": 0, "nx": 6, "ny": 5, "count": 30}
    assert h["model"] == {"hidden": 32, "layers": 1, "w0": 5.0, "s0": 7.0, "min_exponent": -30.0}
    assert h["precision"] == "fp32" and h["export"]["bias_rate"] == 4
    m = bundle.manifest  # the same, parsed
    assert (m.source.name, m.source.width, m.source.height, m.source.frames, m.source.start) == (
        "carphone.mp4", 176, 144, 9, 0)
    assert m.source.fps == pytest.approx(29.97, abs=0.01)
    assert m.gops == (M.Gop(0, 4), M.Gop(4, 8)) and m.spans == [(0, 4), (4, 8)]
    assert (m.layout.patch, m.layout.overlap, m.layout.nx, m.layout.ny, m.patches) == (32, 0, 6, 5, 30)
    assert m.model == M.Model(32, 1, 5.0, 7.0, -30.0) and m.precision == "fp32"
    assert m.bias == M.Bias(4, "float32", "cubic", M.InrSize(40, 10), still=(1, 2)) and m.bias.exact
    assert m.model.layer_shapes == [(2, 64), (64, 128), (64, 3)] and m.model.widths == [64, 128, 3]
    assert m.model.stored_shapes(30) == [(30, 2, 64), (30, 2, 32, 64), (30, 64, 3)]
    assert m.training.task == "regress" and len(m.training.psnr) == 2 and m.plans == ()
    # the typed manifest writes back exactly the content it was read from
    assert m.to_json() == {k: v for k, v in h.items() if k not in ("format", "format_version", "sections")}
    # and every array section is one the content implies, with the stored dtype and shape
    expected = {e.name: e for e in m.expected_sections()}
    arrays = {s.name: s for s in bundle.sections.values() if s.kind == "array"}
    assert set(arrays) == {n for n, e in expected.items() if e.kind == "array"}
    assert all((s.dtype, s.shape) == (expected[n].dtype, expected[n].shape) for n, s in arrays.items())
    for g in range(2):
        model = carphone_run.load_model(g)
        for got, want in zip(bundle.gop_weights(g), model.weights()):
            assert got.shape == tuple(want.shape)
            np.testing.assert_array_equal(got, want.detach().numpy())
        assert [t.shape for t in bundle.gop_bias_tables(g)] == [(17, 30, 64), (1, 30, 128), (1, 30, 3)]  # still: 1 row
        np.testing.assert_array_equal(bundle.array(M.inr_name(g, 1, "w_2")), model.bias_inrs[1].w_2.detach().numpy())


def test_fp16_bundle_halves_the_weights(carphone_run, carphone_bundle, tmp_path):
    from actinr.export.exporter import ExportConfig, export_run

    out = tmp_path / "half.engine"
    export_run(carphone_run.path, out, ExportConfig(precision="fp16"))
    half, full = B.load(out), B.load(carphone_bundle)
    w16, w32 = half.array(M.weight_name(1, 1)), full.array(M.weight_name(1, 1))
    assert w16.dtype == np.float16 and w16.nbytes * 2 == w32.nbytes
    np.testing.assert_allclose(w16.astype(np.float32), w32, rtol=1e-3, atol=1e-4)
    assert half.array(M.bias_name(0, 0)).dtype == np.float16 and half.manifest.bias.exact is False
    assert M.BIAS_GRAPH not in half and M.BIAS_GRAPH in full


def _expect_refused(path, *fragments):
    with pytest.raises(B.BundleError) as info:
        B.load(path)
    msg = str(info.value)
    assert isinstance(info.value, ActinrError)
    assert msg.startswith(f"{path}: ") and "\n" not in msg, msg
    for f in fragments:
        assert f in msg, msg
    return msg


def test_fuzz_truncations_and_bit_flips(carphone_bundle, tmp_path):
    """250 damaged copies of a real bundle: every one is refused with a one-line BundleError."""
    blob = carphone_bundle.read_bytes()
    rng = np.random.default_rng(1234)
    bad = tmp_path / "bad.engine"
    _, _, length, _ = B.HEADER.unpack(blob[:B.HEADER.size])
    regions = [(0, B.HEADER.size), (B.HEADER.size, B.HEADER.size + length), (B.HEADER.size + length, len(blob))]
    messages = set()
    for i in range(250):
        if i % 2 == 0:  # a truncation anywhere, the header included
            cut = int(rng.integers(0, len(blob))) if i % 6 else int(rng.integers(0, B.HEADER.size + length))
            bad.write_bytes(blob[:cut])
            expected = ("empty file",) if cut == 0 else ("truncated",) if cut >= 8 else ()
        else:  # 1-3 flipped bits, spread over header, manifest and data
            lo, hi = regions[i % 3]
            data = bytearray(blob)
            for _ in range(int(rng.integers(1, 4))):
                pos = int(rng.integers(lo, hi))
                data[pos] ^= 1 << int(rng.integers(0, 8))
            bad.write_bytes(bytes(data))
            expected = ()
        messages.add(_expect_refused(bad, *expected).split(": ", 1)[1].split(" (")[0][:40])
    assert len(messages) >= 5  # the messages say different things for different damage
    # a flip in the alignment padding (covered by no checksum) is caught too
    data = bytearray(blob)
    pad = B.HEADER.size + length
    assert pad % 64 != 0
    data[pad] ^= 4
    bad.write_bytes(bytes(data))
    _expect_refused(bad, "damaged padding")
    data = bytearray(blob)
    data[len(blob) - 5] ^= 0x10
    bad.write_bytes(bytes(data))
    _expect_refused(bad, "checksum mismatch", "section")
    bad.write_bytes(blob + b"\0")
    _expect_refused(bad, "1 unexpected bytes after the last section")


def test_foreign_files(carphone, tmp_path):
    cases = {}
    cases["video.mp4"] = (carphone.read_bytes()[:4096], "MP4")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.txt", "hello")
    cases["archive.zip"] = (z.getvalue(), "ZIP")
    cases["plan.engine"] = (b"ftrt" + bytes(range(256)) * 8, "raw TensorRT plan")
    cases["ultra.engine"] = (len(b'{"imgsz": 640}').to_bytes(4, "little") + b'{"imgsz": 640}' + b"ftrt" + bytes(64),
                             "Ultralytics")
    cases["empty.engine"] = (b"", "empty file")
    cases["config.json"] = (b'{"format": "actinr-run"}', "JSON")
    cases["model.pkl"] = (pickle.dumps({"w": [1, 2]}), "pickle")
    cases["noise.bin"] = (np.random.default_rng(0).integers(0, 255, 999, np.uint8).tobytes(), "unknown file type")
    cases["short.engine"] = (B.MAGIC[:5], "truncated")
    for name, (data, fragment) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        _expect_refused(path, fragment)
    with pytest.raises(B.BundleError, match="no such file"):
        B.load(tmp_path / "missing.engine")
    with pytest.raises(B.BundleError, match="not a file"):
        B.load(tmp_path)


def test_newer_and_damaged_versions(carphone_bundle, tmp_path):
    blob = bytearray(carphone_bundle.read_bytes())
    assert B.load(carphone_bundle).version == 2  # still bias tables (a --time-bias first run) need version 2
    for version, fragment in ((4, "format version 4 is newer than this actinr reads (3); upgrade actinr"),
                              (0, "bad bundle format version 0")):
        blob[8:12] = struct.pack("<I", version)
        path = tmp_path / f"v{version}.engine"
        path.write_bytes(bytes(blob))
        _expect_refused(path, fragment)
    path = tmp_path / "mv.engine"
    replace_manifest(carphone_bundle, path, lambda m: m.update(format_version=1))
    _expect_refused(path, "disagrees with the header")


def S(m: dict, name: str) -> dict:
    return next(e for e in m["sections"] if e["name"] == name)


W0, W1, B0 = "gop/000/weight/0", "gop/000/weight/1", "gop/000/bias/0"


@pytest.mark.parametrize("edit, fragment", [
    (lambda m: S(m, W0).update(shape=[30, 2, 65]), "needs 15600 bytes, the section has 15360"),
    (lambda m: S(m, W0).update(shape=[30, 64, 2]), "manifest implies float32 [30, 2, 64]"),
    (lambda m: S(m, W0).update(dtype="float16", shape=[30, 4, 64]), "manifest implies float32"),
    (lambda m: m["model"].update(hidden=16), "manifest implies"),
    (lambda m: m["patch"].update(count=31), "patch count 31 disagrees"),
    (lambda m: m["patch"].pop("ny"), "patch ny None disagrees with the layout (5)"),
    (lambda m: m["source"].update(frames=12), "GOPs end at frame 8 but the source has 12 frames"),
    (lambda m: m["gops"][1].update(first=3), "does not continue"),  # overlaps GOP 0 (a gap is a scene cut)
    (lambda m: m["bias"].update(rate=2), "manifest implies"),
    (lambda m: m["bias"].update(interpolation="sinc"), "interpolation 'sinc'"),
    (lambda m: m.update(precision="int8"), "precision 'int8'"),
    (lambda m: m.pop("source"), "no 'source' object"),
    (lambda m: S(m, "decoder/fp32.onnx").update(name="decoder/x.onnx"), "section 'decoder/fp32.onnx' is missing"),
    (lambda m: m["sections"].pop(0), "damaged padding before section 'decoder/fp16.onnx'"),
    (lambda m: S(m, W1).update(offset=S(m, W0)["offset"]), "overlaps"),
    (lambda m: S(m, W1).update(offset=S(m, W1)["offset"] + 1), "aligned"),
    (lambda m: S(m, B0).update(dtype="object"), "unsupported dtype 'object'"),
    (lambda m: S(m, B0).update(sha256="0" * 64), "checksum mismatch"),
    (lambda m: S(m, B0).update(name=W1), "appears twice"),
])
def test_manifest_that_disagrees_with_its_arrays(carphone_bundle, tmp_path, edit, fragment):
    path = tmp_path / "edited.engine"
    replace_manifest(carphone_bundle, path, edit)
    _expect_refused(path, fragment)


def test_plan_key_must_match_its_name(carphone_bundle, tmp_path):
    path = tmp_path / "plan.engine"
    w = B.BundleWriter({})
    b = B.load(carphone_bundle)
    w.content = {k: v for k, v in b.header.items() if k not in ("format", "format_version", "sections")}
    for s in b.sections.values():
        if s.kind == "array":
            w.add_array(s.name, b.array(s.name))
        else:
            w.add_bytes(s.name, s.kind, bytes(b.raw(s.name)))
    w.add_bytes("plan/sm90/trt10.7.0", "tensorrt-plan", b"ftrt1234", compute_capability="8.9", tensorrt="10.7.0")
    with pytest.raises(B.BundleError, match=f"^{path}: refusing to write an invalid bundle: .*damaged key"):
        w.write(path)
    assert not path.exists() and not list(tmp_path.iterdir())  # refused before the rename; no temp left


def test_write_is_atomic(carphone_bundle, tmp_path, monkeypatch):
    path = tmp_path / "keep.engine"
    path.write_bytes(carphone_bundle.read_bytes())
    w = B.BundleWriter({})
    w.add_array("x", np.zeros(3, np.float32))  # not a valid ActINR bundle: the read-back refuses it
    with pytest.raises(B.BundleError):
        w.write(path)
    assert path.read_bytes() == carphone_bundle.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["keep.engine"]


def test_fuzz_manifest_values(carphone_bundle, tmp_path):
    """400 well-formed, correctly hashed manifests with wrong values or types: BundleError, or a usable bundle."""
    import copy
    import random

    from actinr.engines.info import describe

    blob = carphone_bundle.read_bytes()
    _, _, length, _ = B.HEADER.unpack(blob[:B.HEADER.size])
    original = json.loads(blob[B.HEADER.size:B.HEADER.size + length])
    data = blob[-(-(B.HEADER.size + length) // B.ALIGN) * B.ALIGN:]

    def paths(o, p=()):
        if p:
            yield p
        items = o.items() if isinstance(o, dict) else enumerate(o) if isinstance(o, list) else ()
        for k, v in items:
            yield from paths(v, p + (k,))

    where = list(paths(original))
    values = [None, True, -1, 0, 1, 2.5, float("nan"), "x", [], {}, [1, 2], {"a": 1}, 10 ** 30]
    rnd = random.Random(0)
    path = tmp_path / "m.engine"
    refused = 0
    for _ in range(400):
        m = copy.deepcopy(original)
        for _ in range(rnd.randint(1, 3)):
            *parents, last = rnd.choice(where)
            try:
                o = m
                for k in parents:
                    o = o[k]
                if isinstance(o, dict) and rnd.random() < 0.15:
                    del o[last]
                else:
                    o[last] = rnd.choice(values)
            except (KeyError, IndexError, TypeError):
                pass  # an earlier edit removed the parent
        write_raw(path, m, data)
        try:
            bundle = B.load(path)
        except B.BundleError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
            refused += 1
            continue
        describe(bundle)  # what loads must be usable
        assert len(bundle.gop_weights(0)) == 3
    assert refused > 300
