"""The ONNX graphs of a bundle: the batched patch-MLP decoder and the exact bias-INR.

Both graphs take the per-GOP tensors as *inputs*, not initializers, so one graph
(and one TensorRT engine built from it) serves every GOP of a bundle; a player
switches GOPs by pointing the inputs at other buffers. They are written op by
op with ``onnx.helper`` (no tracing), so every dtype is explicit and the graph
is strongly typed, the form TensorRT 10/11 builds with ``STRONGLY_TYPED``.

Decoder (opset 17), ``P`` patches fixed, ``N`` points per patch dynamic::

    coords    float32   (P, N, 2)        local coordinates (engines/grid.py)
    weight_i  fp32|fp16 (P, in_i, out_i) realified matmuls (engines/patch_mlp.py layer_shapes)
    bias_i    float32   (P, 1, out_i)    the biases at one time
    rgb       float32   (P, N, 3)        output, before blending and clamping

The math is engines/patch_mlp.py :func:`decode` (the tests hold the two equal).
In the fp16 graph every hidden and output matmul runs in fp16 through explicit
Casts (activations cast down, products cast back up) while the Gabor
arguments, the biases and sin/cos/exp stay fp32: the phase ``w0 u`` and the
envelope ``exp(-s0^2 |u|^2)`` are the precision-sensitive part. The first
layer's matmul (K = 2, a few multiply-adds per pixel) also stays fp32, with its
fp16 weights cast up, so sample positions are not rounded to fp16's 1/2048.

The bias graph is engines/bias_inr.py :func:`~actinr.engines.bias_inr.forward`
itself: :class:`OnnxOps` gives that function ONNX nodes for the operations it
is written in, so the graph cannot drift from the model; its inputs take the
shapes of the same table (``Model.inr_shapes``).
"""

from __future__ import annotations

import math

import numpy as np

from actinr.engines import bias_inr
from actinr.engines.errors import optional_import
from actinr.engines.manifest import InrSize, Model
from actinr.engines.patch_mlp import MIN_EXPONENT

OPSET = 17


class _Builder:
    """Appends nodes with generated output names; constants become initializers."""

    def __init__(self):
        self.onnx = optional_import("onnx")
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


def decoder_graph(patches: int, model: Model, precision: str = "fp32"):
    """The decoder as an ``onnx.ModelProto`` (see the module docstring for its inputs and output)."""
    b = _Builder()
    T = b.onnx.TensorProto
    half = precision == "fp16"
    wtype = T.FLOAT16 if half else T.FLOAT
    shapes = model.layer_shapes
    w0, s0 = model.w0, model.s0
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


class OnnxOps:
    """engines/bias_inr.py's operations as ONNX nodes: each call appends one and returns its output's name.

    Python numbers become float32 initializers.
    """

    def __init__(self, b: _Builder):
        self.b = b

    def _in(self, x) -> str:
        return self.b.const(x) if isinstance(x, (int, float)) else x

    def _op(self, op: str, *xs, **attrs) -> str:
        return self.b.op(op, *(self._in(x) for x in xs), **attrs)

    def matmul(self, a, b):
        return self._op("MatMul", a, b)

    def add(self, a, b):
        return self._op("Add", a, b)

    def mul(self, a, b):
        return self._op("Mul", a, b)

    def cos(self, x):
        return self._op("Cos", x)

    def sin(self, x):
        return self._op("Sin", x)

    def concat(self, xs, axis: int):
        return self._op("Concat", *xs, axis=axis)

    def unsqueeze(self, x, axis: int):
        return self._op("Unsqueeze", x, self.b.const([axis], np.int64))

    def gelu(self, x):
        """Exact (erf) GELU, torch.nn.functional.gelu's default; opset 17 has no Gelu op."""
        e = self._op("Erf", self.mul(x, 1.0 / math.sqrt(2.0)))
        return self.mul(self.mul(x, 0.5), self.add(e, 1.0))


def bias_graph(patches: int, model: Model, inr: InrSize | None = None):
    """Every module's exact bias-INR: ``t`` (T,) local times -> ``bias_i`` (P, T, out_i).

    Inputs per module i: ``inr_i.<param>`` for engines/bias_inr.py PARAMS, shaped as ``model.inr_shapes``;
    the nodes are engines/bias_inr.py :func:`forward` run through :class:`OnnxOps`.
    """
    inr = inr or InrSize()
    b = _Builder()
    T = b.onnx.TensorProto
    vi = b.onnx.helper.make_tensor_value_info
    ops = OnnxOps(b)
    inputs = [vi("t", T.FLOAT, ["times"])]
    outputs = []
    for i, (shapes, width) in enumerate(zip(model.inr_shapes(patches, inr), model.widths)):
        p = {k: f"inr_{i}.{k}" for k in bias_inr.PARAMS}
        inputs += [vi(p[k], T.FLOAT, list(shapes[k])) for k in bias_inr.PARAMS]
        b.op("Identity", bias_inr.forward(p, "t", ops), name=f"bias_{i}")  # (P, T, W)
        outputs.append(vi(f"bias_{i}", T.FLOAT, [patches, "times", width]))
    return b.model("actinr_bias_inr", inputs, outputs, "ActINR bias-INRs: local time t (T,) -> bias_i (P, T, out_i)")
