"""The ONNX graphs of a bundle: the batched patch-MLP decoder and the exact bias-INR.

Both graphs take the per-GOP tensors as *inputs*, not initializers, so one graph
(and one TensorRT engine built from it) serves every GOP of a bundle; a player
switches GOPs by pointing the inputs at other buffers. They are written op by
op with ``onnx.helper`` (no tracing), so every dtype is explicit and the graph
is strongly typed, the form TensorRT 10/11 builds with ``STRONGLY_TYPED``.

Decoder (opset 17), ``P`` patches fixed, ``N`` points per patch dynamic::

    coords    float32   (P, N, 2)        local coordinates (engines/grid.py)
    weight_i  fp32|fp16 (P, in_i, out_i) realified matmuls (engines/bundle.py layer_shapes)
    bias_i    float32   (P, 1, out_i)    the biases at one time
    rgb       float32   (P, N, 3)        output, before blending and clamping

The math is engines/patch_mlp.py :func:`decode` (the tests hold the two equal).
In the fp16 graph every hidden and output matmul runs in fp16 through explicit
Casts (activations cast down, products cast back up) while the Gabor
arguments, the biases and sin/cos/exp stay fp32: the phase ``w0 u`` and the
envelope ``exp(-s0^2 |u|^2)`` are the precision-sensitive part. The first
layer's matmul (K = 2, a few multiply-adds per pixel) also stays fp32, with its
fp16 weights cast up, so sample positions are not rounded to fp16's 1/2048.
"""

from __future__ import annotations

import math

import numpy as np

from actinr.engines.bundle import INR_PARAMS, layer_shapes
from actinr.engines.errors import missing_package
from actinr.engines.patch_mlp import MIN_EXPONENT

OPSET = 17


def _onnx():
    try:
        import onnx
    except ImportError:
        raise missing_package("onnx") from None
    return onnx


class _Builder:
    """Appends nodes with generated output names; constants become initializers."""

    def __init__(self):
        self.onnx = _onnx()
        self.nodes, self.inits, self._n = [], [], 0

    def _name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def op(self, op_type: str, *inputs: str, outputs: int = 1, name: str | None = None, **attrs):
        outs = [name] if name else [self._name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), outs, **attrs))
        return outs[0] if outputs == 1 else outs

    def const(self, value, dtype=np.float32) -> str:
        name = self._name("const")
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def cast(self, x: str, to) -> str:
        return self.op("Cast", x, to=to)

    def model(self, name: str, inputs, outputs, doc: str):
        h = self.onnx.helper
        graph = h.make_graph(self.nodes, name, inputs, outputs, self.inits)
        m = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET)], producer_name="actinr", doc_string=doc)
        m.ir_version = 8  # opset 17's IR; readable by ONNX Runtime >= 1.13 and TensorRT 10
        self.onnx.checker.check_model(m, full_check=True)
        return m


def _gabor(b: _Builder, x: str, width: int, w0: float, s0: float, first: bool) -> str:
    """engines/patch_mlp.py gabor_first (first) or gabor_complex, on fp32 ``x``."""
    parts = 2 if first else 4
    pieces = b.op("Split", x, b.const([width // parts] * parts, np.int64), axis=-1, outputs=parts)
    squares = [b.op("Mul", p, p) for p in pieces]
    total = squares[0]
    for sq in squares[1:]:
        total = b.op("Add", total, sq)
    arg = b.op("Mul", total, b.const(-(s0 * s0)))
    if not first:  # exp(j w0 u) = exp(-w0 Im u) (cos w0 Re u + j sin w0 Re u)
        arg = b.op("Sub", arg, b.op("Mul", pieces[1], b.const(w0)))
    env = b.op("Exp", b.op("Max", arg, b.const(MIN_EXPONENT)))
    phase = b.op("Mul", pieces[0], b.const(w0))
    return b.op("Concat", b.op("Mul", env, b.op("Cos", phase)), b.op("Mul", env, b.op("Sin", phase)), axis=-1)


def decoder_graph(patches: int, hidden: int, layers: int, w0: float, s0: float, precision: str = "fp32"):
    """The decoder as an ``onnx.ModelProto`` (see the module docstring for its inputs and output)."""
    b = _Builder()
    T = b.onnx.TensorProto
    half = precision == "fp16"
    wtype = T.FLOAT16 if half else T.FLOAT
    shapes = layer_shapes(hidden, layers)
    vi = b.onnx.helper.make_tensor_value_info
    inputs = [vi("coords", T.FLOAT, [patches, "points", 2])]
    inputs += [vi(f"weight_{i}", wtype, [patches, fin, fout]) for i, (fin, fout) in enumerate(shapes)]
    inputs += [vi(f"bias_{i}", T.FLOAT, [patches, 1, fout]) for i, (_, fout) in enumerate(shapes)]
    x = "coords"
    last = len(shapes) - 1
    for i, (_, fout) in enumerate(shapes):
        w = f"weight_{i}"
        if half and i > 0:
            y = b.cast(b.op("MatMul", b.cast(x, T.FLOAT16), w), T.FLOAT)  # (P, N, out) fp16 product, fp32 after
        else:
            y = b.op("MatMul", x, b.cast(w, T.FLOAT) if half else w)  # (P, N, out)
        x = b.op("Add", y, f"bias_{i}", name="rgb" if i == last else None)
        if i < last:
            x = _gabor(b, x, fout, w0, s0, first=i == 0)  # (P, N, 2h) fp32
    outputs = [vi("rgb", T.FLOAT, [patches, "points", 3])]
    return b.model(f"actinr_decoder_{precision}", inputs, outputs,
                   f"ActINR batched patch MLP, {precision}: coords (P, N, 2) -> rgb (P, N, 3)")


def _gelu(b: _Builder, x: str) -> str:
    """Exact (erf) GELU, torch.nn.functional.gelu's default; opset 17 has no Gelu op."""
    e = b.op("Erf", b.op("Mul", x, b.const(1.0 / math.sqrt(2.0))))
    return b.op("Mul", b.op("Mul", x, b.const(0.5)), b.op("Add", e, b.const(1.0)))


def bias_graph(patches: int, hidden: int, layers: int, freqs: int = 40, latent: int = 10):
    """Every module's exact bias-INR: ``t`` (T,) local times -> ``bias_i`` (P, T, out_i).

    Inputs per module i: ``inr_i.<param>`` for the parameters in engines/bundle.py INR_PARAMS.
    Mirrors train/model.py BiasINR.forward.
    """
    b = _Builder()
    T = b.onnx.TensorProto
    vi = b.onnx.helper.make_tensor_value_info
    inputs = [vi("t", T.FLOAT, ["times"])]
    outputs = []
    tcol = b.op("Unsqueeze", "t", b.const([1], np.int64))  # (T, 1)
    for i, (_, w) in enumerate(layer_shapes(hidden, layers)):
        shapes = {"freqs": [freqs], "latent": [patches, latent], "base": [patches, w], "w_t": [2 * freqs, w],
                  "w_z": [latent, w], "b_1": [w], "w_2": [w, w], "b_2": [w], "w_3": [w, w], "b_3": [w]}
        p = {k: f"inr_{i}.{k}" for k in INR_PARAMS}
        inputs += [vi(p[k], T.FLOAT, shapes[k]) for k in INR_PARAMS]
        ang = b.op("Mul", b.op("Mul", tcol, p["freqs"]), b.const(2.0 * math.pi))  # (T, B)
        feats = b.op("Concat", b.op("Cos", ang), b.op("Sin", ang), axis=-1)  # (T, 2B)
        ht = b.op("Unsqueeze", b.op("MatMul", feats, p["w_t"]), b.const([0], np.int64))  # (1, T, W)
        hz = b.op("Unsqueeze", b.op("MatMul", p["latent"], p["w_z"]), b.const([1], np.int64))  # (P, 1, W)
        h = _gelu(b, b.op("Add", b.op("Add", ht, hz), p["b_1"]))  # (P, T, W)
        h = _gelu(b, b.op("Add", b.op("MatMul", h, p["w_2"]), p["b_2"]))
        out = b.op("Add", b.op("MatMul", h, p["w_3"]), p["b_3"])
        base = b.op("Unsqueeze", p["base"], b.const([1], np.int64))  # (P, 1, W)
        b.op("Add", base, out, name=f"bias_{i}")
        outputs.append(vi(f"bias_{i}", T.FLOAT, [patches, "times", w]))
    return b.model("actinr_bias_inr", inputs, outputs, "ActINR bias-INRs: local time t (T,) -> bias_i (P, T, out_i)")
