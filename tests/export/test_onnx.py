"""The decoder and bias-INR graphs in ONNX Runtime (CPU) against the PyTorch model."""

import numpy as np
import onnx
import pytest
import torch

from actinr.engines import bias_inr
from actinr.engines import bundle as B
from actinr.engines.grid import sample_grid
from actinr.engines.manifest import Model
from actinr.engines.patch_mlp import decode
from actinr.engines.timeline import gop_for_frame, local_time
from actinr.export.onnx_graph import OPSET, bias_graph, decoder_graph

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is a dev dependency")


CARPHONE = Model(32, 1, 5.0, 7.0, -30.0)  # the carphone run's model (default widths)


def session(graph_bytes: bytes):
    return ort.InferenceSession(bytes(graph_bytes), providers=["CPUExecutionProvider"])


def run_bundle(bundle, g: int, t: float, coords: np.ndarray, precision: str = "fp32") -> np.ndarray:
    """Everything through ONNX Runtime from the bundle: exact biases from the bias graph, then the decoder."""
    feed = {"t": np.array([t], np.float32)}
    for i, params in enumerate(bundle.gop_bias_inrs(g)):
        feed.update({f"inr_{i}.{p}": v for p, v in params.items()})
    biases = session(bundle.bias_graph()).run(None, feed)  # [(P, 1, out)]
    weights = bundle.gop_weights(g)
    wdtype = np.float16 if precision == "fp16" else np.float32
    feed = {"coords": coords, **{f"weight_{i}": w.astype(wdtype) for i, w in enumerate(weights)},
            **{f"bias_{i}": b for i, b in enumerate(biases)}}
    return session(bundle.decoder_graph(precision)).run(None, feed)[0]


@torch.no_grad()
def reference(run, g: int, t: float, coords: np.ndarray) -> np.ndarray:
    model = run.load_model(g)
    biases = model.biases(torch.tensor([t], dtype=torch.float32))
    return decode(torch.from_numpy(coords)[:, None], model.weights(), biases, model.w0, model.s0)[:, 0].numpy()


# (frame position, note): frame times of both GOPs, the shared boundary frame, and times between frames
TIMES = [(0.0, "first frame"), (2.0, "frame"), (4.0, "shared boundary"), (7.0, "frame"), (8.0, "last frame"),
         (1.37, "between"), (3.5, "between"), (6.91, "between")]


@pytest.mark.parametrize("scale", [1, 2], ids=["native", "2x"])
def test_bundle_through_onnxruntime_equals_pytorch(carphone_run, carphone_bundle, scale):
    bundle = B.load(carphone_bundle)
    src = carphone_run.source
    grid = sample_grid(carphone_run.layout, (src.width * scale, src.height * scale))
    assert grid.coords.shape[0] == 30
    spans = carphone_run.spans
    for f, note in TIMES:
        g = gop_for_frame(spans, f)
        t = local_time(spans[g], f)
        got, want = run_bundle(bundle, g, t, grid.coords), reference(carphone_run, g, t, grid.coords)
        assert got.shape == want.shape == (30, grid.points, 3)
        assert np.abs(got - want).max() <= 1e-4, (f, note)
    assert gop_for_frame(spans, 4.0) == 1  # the boundary frame was rendered by the later GOP


def test_fp16_graph_is_close_to_fp32(carphone_run, carphone_bundle):
    bundle = B.load(carphone_bundle)
    grid = sample_grid(carphone_run.layout, (176, 144))
    full = run_bundle(bundle, 1, 0.3, grid.coords, "fp32")
    half = run_bundle(bundle, 1, 0.3, grid.coords, "fp16")
    valid = grid.weight > 0
    err = np.abs(np.clip(half, 0, 1) - np.clip(full, 0, 1))[valid]
    psnr = -10 * np.log10(np.mean(err ** 2))
    assert psnr >= 60.0, psnr  # measured 77.8 dB on the full carphone model
    assert err.max() < 0.02
    assert np.abs(half - full).max() > 0  # it really ran in fp16


def test_bias_graph_equals_bias_inrs(carphone_run):
    model = carphone_run.load_model(0)
    graph = bias_graph(30, CARPHONE)
    times = np.random.default_rng(0).uniform(0, 1, 100).astype(np.float32)
    feed = {"t": times}
    for i, inr in enumerate(model.bias_inrs):
        for p in bias_inr.PARAMS:
            feed[f"inr_{i}.{p}"] = getattr(inr, p).detach().numpy()
    got = session(graph.SerializeToString()).run(None, feed)
    with torch.no_grad():
        want = model.biases(torch.from_numpy(times))
    for a, b in zip(got, want):
        assert a.shape == tuple(b.shape) == (30, 100, a.shape[-1])
        assert np.abs(a - b.numpy()).max() <= 1e-5


def test_inr_param_names_match_the_model(carphone_run):
    params = dict(carphone_run.load_model(0).bias_inrs[0].named_parameters())
    params.update(carphone_run.load_model(0).bias_inrs[0].named_buffers())
    assert set(params) == set(bias_inr.PARAMS)


def _types(model) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    g = inferred.graph
    return {v.name: v.type.tensor_type.elem_type for v in [*g.input, *g.value_info, *g.output]} | \
        {i.name: i.data_type for i in g.initializer}


@pytest.mark.parametrize("layers", [1, 2])
def test_fp16_graph_keeps_gabor_math_in_fp32(layers):
    model = decoder_graph(12, Model(16, layers, 5.0, 7.0, -30.0), "fp16")
    assert model.opset_import[0].version == OPSET >= 17
    types = _types(model)
    F, H = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16
    ops = {n.op_type for n in model.graph.node}
    assert {"Sin", "Cos", "Exp", "MatMul", "Cast"} <= ops
    for n in model.graph.node:
        if n.op_type in ("Sin", "Cos", "Exp", "Max", "Add", "Sub"):
            assert all(types[x] == F for x in n.input), n
        if n.op_type == "MatMul":
            kinds = {types[x] for x in n.input}
            assert kinds == ({F} if n.input[1] == "weight_0" or "cast" in n.input[1] else {H}), n
    matmuls = [n for n in model.graph.node if n.op_type == "MatMul"]
    assert len(matmuls) == layers + 2
    assert sum(types[n.input[0]] == H for n in matmuls) == layers + 1  # every matmul but the first in fp16
    assert types["rgb"] == F
    # no complex dtype anywhere, in either precision
    for prec in ("fp32", "fp16"):
        assert not {onnx.TensorProto.COMPLEX64, onnx.TensorProto.COMPLEX128} & set(
            _types(decoder_graph(12, Model(16, layers, 5.0, 7.0, -30.0), prec)).values())


def test_decoder_graph_has_dynamic_points_and_fixed_patches():
    model = decoder_graph(30, CARPHONE)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_value == 30 and dims[1].dim_param == "points" and dims[2].dim_value == 2
    s = session(model.SerializeToString())
    rng = np.random.default_rng(0)
    feeds = {f"weight_{i}": rng.normal(size=shape).astype(np.float32) * 0.3
             for i, shape in enumerate([(30, 2, 64), (30, 64, 128), (30, 64, 3)])}
    feeds.update({f"bias_{i}": rng.normal(size=(30, 1, w)).astype(np.float32) * 0.3
                  for i, w in enumerate([64, 128, 3])})
    for n in (1, 7, 300):
        coords = rng.uniform(-1, 1, (30, n, 2)).astype(np.float32)
        out = s.run(None, {"coords": coords, **feeds})[0]
        w = [torch.from_numpy(feeds[f"weight_{i}"]) for i in range(3)]
        b = [torch.from_numpy(feeds[f"bias_{i}"]) for i in range(3)]
        ref = decode(torch.from_numpy(coords)[:, None], w, b, 5.0, 7.0)[:, 0].numpy()
        assert out.shape == (30, n, 3)
        assert np.abs(out - ref).max() <= 1e-4


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_decoder_graph_inputs_are_the_shape_table(precision):
    model = Model(16, 2, 5.0, 7.0, -30.0)
    graph = decoder_graph(12, model, precision)
    dims = {i.name: [d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim] for i in graph.graph.input}
    for i, (fin, fout) in enumerate(model.layer_shapes):
        assert dims[f"weight_{i}"] == [12, fin, fout] and dims[f"bias_{i}"] == [12, 1, fout]
    assert dims["coords"] == [12, "points", 2] and len(dims) == 1 + 2 * model.modules
