"""The fused decoder kernel (Triton): a frame's patch MLPs, blend and uint8 conversion in one launch.

Imported only by the ``triton`` backend (engines/backends/triton_fused.py),
after it has checked that Triton is installed; that module describes the
layouts this kernel reads.

One program renders one *tile*: up to ``BLOCK`` output pixels that share the
same owner patches (one owner inside a patch, two on an overlap strip, four on
an overlap corner). For each owner it evaluates that patch's MLP at the tile's
sample points with the weights held on chip, adds the result with its blend
weight in registers, and finally scales, clamps, rounds and stores the tile's
RGB bytes straight into the image. No activation leaves the chip and every
pixel is written exactly once, by one program, so the image needs no atomics
and no second pass.

Per owner and layer the kernel follows engines/patch_mlp.py: layer 1 (K = 2)
as fp32 multiply-adds; every Gabor argument, envelope, bias and accumulator in
fp32; the hidden and output matmuls on ``tl.dot`` with inputs in ``DOT`` (fp32
with IEEE products, or fp16) and fp32 accumulation. A complex hidden layer is
eight ``H x H`` blocks (rows: Re z, Im z; columns: Re u, Im u, Re v, Im v), so
no register tensor is ever sliced; the output layer's 3 columns are padded to
``OUT`` = 16, the smallest ``tl.dot`` width.

``kernel()`` hands out the jitted function. It is made on first use, not at
import, because Triton decides at decoration time whether a function runs
compiled or in its interpreter (``TRITON_INTERPRET=1``, on CPU tensors), and
a process may ask for both (the tests do). The kernel calls only Triton's
builtins (``tl.full``, not ``tl.zeros``): the helpers of triton.language.standard
are themselves jitted when Triton is first imported, so in a process that
imported Triton before setting the variable (torch does, for its compiler) they
would refuse to run in the interpreter.
"""

from __future__ import annotations

import os

import triton
import triton.language as tl
from triton.language.extra import libdevice

# Globals a jitted function reads must be constexpr objects (the compiler refuses plain ints; the interpreter
# does not check).
OUT = tl.constexpr(16)  # output columns (RGB padded to tl.dot's smallest N)
OWNERS = tl.constexpr(4)  # owner slots per tile (bilinear blend: at most 2 x 2 patches)


def _decode(coord_ptr, weight_ptr, pixel_ptr, tile_ptr, owner_ptr, w1_ptr, wh_ptr, wo_ptr, bias_ptr, image_ptr,
            w0, s0sq, lo,
            H: tl.constexpr, LAYERS: tl.constexpr, BLOCK: tl.constexpr, BSTRIDE: tl.constexpr,
            BLEND: tl.constexpr, DOT: tl.constexpr, IEEE: tl.constexpr, FAST: tl.constexpr):
    tile = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    pixel = tl.load(pixel_ptr + tile * BLOCK + offs)  # -1 on the padding at a tile group's end
    j = tl.arange(0, H)
    k = tl.arange(0, H)
    c = tl.arange(0, OUT)
    block = k[:, None] * H + j[None, :]  # one H x H weight block
    acc = tl.full((BLOCK, OUT), 0.0, tl.float32)  # tl.full, not tl.zeros: see kernel()
    base = tl.load(tile_ptr + 2 * tile)  # the tile's first owner slot in the coordinate and weight arrays
    owners = tl.load(tile_ptr + 2 * tile + 1)
    e = tile * 0  # the owner slot, an int32 scalar carried by the loop
    # A while loop, not range(owners): Triton 3.6's interpreter (the GPU image's version) cannot turn a loaded
    # scalar into a Python int under NumPy 2 (fixed in later Triton). Compiled for Hopper it also takes fewer
    # registers than the for loop did (fp16 default: 128 against 156; benchmarks/triton_aot.py).
    while e < owners:
        p = tl.load(owner_ptr + tile * OWNERS + e)
        x = tl.load(coord_ptr + (base + e) * (2 * BLOCK) + offs)
        y = tl.load(coord_ptr + (base + e) * (2 * BLOCK) + BLOCK + offs)
        w1 = w1_ptr + p * (4 * H)  # [coordinate x|y][branch u|v][H]
        b = bias_ptr + p * BSTRIDE
        u = x[:, None] * tl.load(w1 + j)[None, :] + y[:, None] * tl.load(w1 + 2 * H + j)[None, :]
        u += tl.load(b + j)[None, :]
        v = x[:, None] * tl.load(w1 + H + j)[None, :] + y[:, None] * tl.load(w1 + 3 * H + j)[None, :]
        v += tl.load(b + H + j)[None, :]
        env = tl.exp(tl.maximum(-s0sq * (u * u + v * v), lo))
        if FAST:  # the GPU's sin.approx / cos.approx (not in the interpreter, which has no extern functions)
            zr = env * libdevice.fast_cosf(w0 * u)
            zi = env * libdevice.fast_sinf(w0 * u)
        else:
            zr = env * tl.cos(w0 * u)
            zi = env * tl.sin(w0 * u)
        for layer in tl.static_range(LAYERS):
            w = wh_ptr + (p * LAYERS + layer) * (8 * H * H)  # [row block Re z|Im z][column block][H][H]
            bl = b + 2 * H + layer * (4 * H)
            a = zr.to(DOT)
            q = zi.to(DOT)
            if IEEE:
                ur = tl.dot(a, tl.load(w + block), input_precision="ieee")
                ur = tl.dot(q, tl.load(w + 4 * H * H + block), ur, input_precision="ieee")
                ui = tl.dot(a, tl.load(w + H * H + block), input_precision="ieee")
                ui = tl.dot(q, tl.load(w + 5 * H * H + block), ui, input_precision="ieee")
                vr = tl.dot(a, tl.load(w + 2 * H * H + block), input_precision="ieee")
                vr = tl.dot(q, tl.load(w + 6 * H * H + block), vr, input_precision="ieee")
                vi = tl.dot(a, tl.load(w + 3 * H * H + block), input_precision="ieee")
                vi = tl.dot(q, tl.load(w + 7 * H * H + block), vi, input_precision="ieee")
            else:
                ur = tl.dot(q, tl.load(w + 4 * H * H + block), tl.dot(a, tl.load(w + block)))
                ui = tl.dot(q, tl.load(w + 5 * H * H + block), tl.dot(a, tl.load(w + H * H + block)))
                vr = tl.dot(q, tl.load(w + 6 * H * H + block), tl.dot(a, tl.load(w + 2 * H * H + block)))
                vi = tl.dot(q, tl.load(w + 7 * H * H + block), tl.dot(a, tl.load(w + 3 * H * H + block)))
            ur += tl.load(bl + j)[None, :]
            ui += tl.load(bl + H + j)[None, :]
            vr += tl.load(bl + 2 * H + j)[None, :]
            vi += tl.load(bl + 3 * H + j)[None, :]
            env = tl.exp(tl.maximum(-w0 * ui - s0sq * (ur * ur + ui * ui + vr * vr + vi * vi), lo))
            if FAST:
                zr = env * libdevice.fast_cosf(w0 * ur)
                zi = env * libdevice.fast_sinf(w0 * ur)
            else:
                zr = env * tl.cos(w0 * ur)
                zi = env * tl.sin(w0 * ur)
        wo = wo_ptr + p * (2 * H * OUT)  # [row block Re z|Im z][H][OUT]
        out_block = k[:, None] * OUT + c[None, :]
        if IEEE:
            rgb = tl.dot(zr.to(DOT), tl.load(wo + out_block), input_precision="ieee")
            rgb = tl.dot(zi.to(DOT), tl.load(wo + H * OUT + out_block), rgb, input_precision="ieee")
        else:
            rgb = tl.dot(zi.to(DOT), tl.load(wo + H * OUT + out_block), tl.dot(zr.to(DOT), tl.load(wo + out_block)))
        rgb += tl.load(b + 2 * H + LAYERS * 4 * H + c)[None, :]
        if BLEND:
            rgb *= tl.load(weight_ptr + (base + e) * BLOCK + offs)[:, None]
        acc += rgb
        e += 1
    level = tl.minimum(tl.maximum(acc * 255.0, 0.0), 255.0)
    byte = tl.floor(level + 0.5).to(tl.uint8)
    mask = (pixel >= 0)[:, None] & (c < 3)[None, :]
    tl.store(image_ptr + pixel[:, None] * 3 + c[None, :], byte, mask=mask)


_KERNELS: dict[bool, object] = {}


def kernel():
    """The jitted kernel for the current mode: compiled, or Triton's interpreter with ``TRITON_INTERPRET=1``."""
    try:
        from triton import knobs  # Triton >= 3.4

        mode = bool(knobs.runtime.interpret)
    except (ImportError, AttributeError):
        mode = os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")
    if mode not in _KERNELS:
        _KERNELS[mode] = triton.jit(_decode)
    return _KERNELS[mode]


def compile_for(arch: int = 90, num_warps: int = 4, *, hidden: int = 32, layers: int = 1, block: int = 64,
                blend: bool = False, fp16: bool = True, ieee: bool = False, fast: bool = True):
    """Compile the kernel ahead of time for CUDA compute capability ``arch`` (90: Hopper) without a GPU:
    Triton's own LLVM and ptxas make the PTX and the cubin, so registers, spills, shared memory and the
    machine code (tensor-core and special-function instructions) can be read on any machine
    (benchmarks/triton_aot.py, tests/engines/test_triton.py). ``hidden`` is the padded block width H.
    Needs Triton 3.6 or newer (3.2-3.3 have no ``ASTSource(constexprs=)``; 3.4-3.5 fail on the uint8 pointer
    type here: whether their JIT build on a GPU does too is not known)."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    weights = "*fp16" if fp16 else "*fp32"
    signature = {"coord_ptr": "*fp32", "weight_ptr": "*fp32", "pixel_ptr": "*i32", "tile_ptr": "*i32",
                 "owner_ptr": "*i32", "w1_ptr": "*fp32", "wh_ptr": weights, "wo_ptr": weights, "bias_ptr": "*fp32",
                 "image_ptr": "*u8", "w0": "fp32", "s0sq": "fp32", "lo": "fp32"}
    constants = {"H": hidden, "LAYERS": layers, "BLOCK": block, "BSTRIDE": 2 * hidden + 4 * hidden * layers + 16,
                 "BLEND": blend, "DOT": tl.float16 if fp16 else tl.float32, "IEEE": ieee, "FAST": fast}
    signature.update({name: "constexpr" for name in constants})
    fn = _KERNELS.get(False) or triton.jit(_decode)
    if isinstance(fn, triton.runtime.JITFunction):
        _KERNELS[False] = fn
    source = ASTSource(fn=fn, signature=signature, constexprs=constants)
    return triton.compile(source, target=GPUTarget("cuda", arch, 32), options={"num_warps": num_warps,
                                                                                "enable_fp_fusion": True})


def machine_code(compiled) -> dict:
    """Resources and instruction mix of a :func:`compile_for` result, read from its cubin with the cuobjdump
    that Triton ships: registers, stack bytes, shared bytes, SASS instructions in all and by opcode."""
    import collections
    import re
    import subprocess
    import tempfile
    from pathlib import Path

    import triton.backends.nvidia as nvidia

    tool = Path(nvidia.__file__).parent / "bin" / "cuobjdump"
    with tempfile.TemporaryDirectory() as tmp:
        cubin = Path(tmp) / "kernel.cubin"
        cubin.write_bytes(compiled.asm["cubin"])
        usage = subprocess.run([tool, "-res-usage", cubin], capture_output=True, text=True, check=True).stdout
        sass = subprocess.run([tool, "-sass", cubin], capture_output=True, text=True, check=True).stdout
    res = dict(re.findall(r"\b(REG|STACK|SHARED|LOCAL):(\d+)", usage))
    ops = collections.Counter(op.split(".")[0] for op in re.findall(r"^\s+/\*[0-9a-f]+\*/\s+([A-Z][A-Z0-9_.]*)",
                                                                   sass, re.M))
    return {"registers": int(res.get("REG", 0)), "stack_bytes": int(res.get("STACK", 0)),
            "shared_bytes": int(compiled.metadata.shared), "local_bytes": int(res.get("LOCAL", 0)),
            "instructions": sum(ops.values()), "opcodes": dict(sorted(ops.items()))}
