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

With ``GROUPED`` (the backend's ``tiles_per_program`` above 1) a program
renders several consecutive tiles that all have the same owners (a rectangle
inside one patch, or a run of an overlap strip's tiles): per owner, the
patch's first hidden layer and output layer are loaded once, before the loop
over the tiles, and stay in shared memory for Hopper's tensor cores, so each
tile after the first skips those loads (with IEEE fp32 products, on the CUDA
cores, they would sit in registers and spill: there they are loaded per
tile). With several owners the loop over the tiles runs once per owner, and a
tile's blended sum waits for the next owner in a small fp32 buffer instead of
registers. Each tile's arithmetic and the order of its sums are the same
either way, so are its pixels.

Per owner and layer the kernel follows engines/patch_mlp.py: layer 1 (K = 2)
as fp32 multiply-adds; every Gabor argument, envelope, bias and accumulator in
fp32; the hidden and output matmuls on ``tl.dot`` with inputs in ``DOT`` (fp32
with IEEE products, or fp16) and fp32 accumulation. A complex hidden layer's
(2H, 4H) matrix has the rows of Re z and Im z interleaved unit by unit and
the columns Re u, Im u, Re v, Im v in blocks of H: with ``WIDE`` it is one
product whose output is split into the four blocks in registers, else eight
products of its H x H blocks (``_block_products``); the output layer's 3
columns are padded to ``OUT`` = 16, the smallest ``tl.dot`` width.

``kernel()`` hands out the jitted function. It is made on first use, not at
import, because Triton decides at decoration time whether a function runs
compiled or in its interpreter (``TRITON_INTERPRET=1``, on CPU tensors), and
a process may ask for both (the tests do). For the same reason its two helpers
(``_owner_rgb``, one owner's MLP; ``_store_tile``) are made with it, for the
same mode (jitted for the compiler, plain for the interpreter), into a copy of
the kernel whose globals name them; beyond them the kernel calls only Triton's
builtins (``tl.full``, not ``tl.zeros``): the helpers
of triton.language.standard are themselves jitted when Triton is first imported,
so in a process that imported Triton before setting the variable (torch does,
for its compiler) they would refuse to run in the interpreter.
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


def _owner_rgb(x, y, p, b, w1_ptr, wh_ptr, wo_ptr, hw, o0, o1, w0, w0e, s0e,
               H: tl.constexpr, LAYERS: tl.constexpr, BLOCK: tl.constexpr, DOT: tl.constexpr, IEEE: tl.constexpr,
               FAST: tl.constexpr, HELD: tl.constexpr, WIDE: tl.constexpr):
    """One owner patch ``p``'s MLP at a tile's points ``x, y`` (BLOCK,) -> RGB (BLOCK, OUT) in fp32, 0..1, not
    yet weighted by the blend. ``b`` points at the patch's biases. ``HELD``: the first hidden layer's matrix
    ``hw`` (2H, 4H) and the output layer's blocks ``o0, o1`` (H, OUT) are given (loaded once for several tiles);
    else (the callers pass 0s) they are loaded here. The envelopes are powers of 2 (``_exp2``): ``w0e`` and ``s0e`` are
    ``w0`` and ``s0^2`` times log2(e). Unlike engines/patch_mlp.py the exponents are not clamped at
    ``MIN_EXPONENT``: the clamp keeps training's float32 out of denormals, and it changes an envelope only where
    it is below exp(-30) = 9e-14 (a unit's output of at most that much against the 1/255 of a level; on the GPU
    the flush-to-zero exponential gives 0 below 2^-126).

    With ``WIDE`` a complex layer is one product: its input ``[Re z, Im z]`` interleaved unit by unit
    (``tl.join``: row ``2k + s`` of the weights, s = 0 for Re z_k, 1 for Im z_k), its output
    ``[Re u | Im u | Re v | Im v]`` in blocks of H columns, split back into the four (``tl.split``; in the
    tensor cores' accumulator layout a thread holds its columns of all four blocks, so the split moves no data).
    Without, or with IEEE products, eight products of H x H blocks (``_block_products``)."""
    j = tl.arange(0, H)
    k = tl.arange(0, H)
    c = tl.arange(0, OUT)
    rows = tl.arange(0, 2 * H)
    cols = tl.arange(0, 4 * H)
    w1 = w1_ptr + p * (4 * H)  # [coordinate x|y][branch u|v][H]
    # x w + (y w + b): two fused multiply-adds (bias last took a multiply and two adds)
    u = x[:, None] * tl.load(w1 + j)[None, :] + (y[:, None] * tl.load(w1 + 2 * H + j)[None, :]
                                                 + tl.load(b + j)[None, :])
    v = x[:, None] * tl.load(w1 + H + j)[None, :] + (y[:, None] * tl.load(w1 + 3 * H + j)[None, :]
                                                     + tl.load(b + H + j)[None, :])
    env = _exp2(-s0e * (u * u + v * v), FAST)
    if FAST:  # the GPU's sin.approx / cos.approx (not in the interpreter, which has no extern functions)
        zr = env * libdevice.fast_cosf(w0 * u)
        zi = env * libdevice.fast_sinf(w0 * u)
    else:
        zr = env * tl.cos(w0 * u)
        zi = env * tl.sin(w0 * u)
    for layer in tl.static_range(LAYERS):
        w = wh_ptr + (p * LAYERS + layer) * (8 * H * H)  # (2H, 4H): rows 2k + s, columns [ur|ui|vr|vi] blocks
        bl = b + 2 * H + layer * (4 * H)
        # The biases are the products' first accumulators (as torch.baddbmm): no adds after them.
        if IEEE or not WIDE:  # eight products of K = H, each an H x H block of the layer's matrix
            ur, ui, vr, vi = _block_products(zr.to(DOT), zi.to(DOT), w, bl, H, BLOCK, IEEE)
        else:
            z = tl.reshape(tl.join(zr.to(DOT), zi.to(DOT)), (BLOCK, 2 * H))
            if HELD and layer == 0:
                weight = hw
            else:
                weight = tl.load(w + rows[:, None] * (4 * H) + cols[None, :])
            out = tl.dot(z, weight, tl.broadcast_to(tl.load(bl + cols)[None, :], (BLOCK, 4 * H)))
            out = tl.reshape(tl.permute(tl.reshape(out, (BLOCK, 4, H)), (0, 2, 1)), (BLOCK, H, 2, 2))
            real, imag = tl.split(out)  # [.., v, r|i]: the blocks' order ur, ui, vr, vi
            ur, vr = tl.split(real)
            ui, vi = tl.split(imag)
        env = _exp2(-w0e * ui - s0e * (ur * ur + ui * ui + vr * vr + vi * vi), FAST)
        if FAST:
            zr = env * libdevice.fast_cosf(w0 * ur)
            zi = env * libdevice.fast_sinf(w0 * ur)
        else:
            zr = env * tl.cos(w0 * ur)
            zi = env * tl.sin(w0 * ur)
    wo = wo_ptr + p * (2 * H * OUT)  # [row block Re z|Im z][H][OUT]
    out_block = k[:, None] * OUT + c[None, :]
    rgb = tl.broadcast_to(tl.load(b + 2 * H + LAYERS * 4 * H + c)[None, :], (BLOCK, OUT))
    # Two products of K = H (one of K = 2H over the interleaved input took 56 more instructions and, loaded
    # before the hidden layer's, 145 registers: benchmarks/triton_aot.py).
    if HELD:
        rgb = tl.dot(zi.to(DOT), o1, tl.dot(zr.to(DOT), o0, rgb))
    elif IEEE:
        rgb = tl.dot(zr.to(DOT), tl.load(wo + out_block), rgb, input_precision="ieee")
        rgb = tl.dot(zi.to(DOT), tl.load(wo + H * OUT + out_block), rgb, input_precision="ieee")
    else:
        rgb = tl.dot(zi.to(DOT), tl.load(wo + H * OUT + out_block), tl.dot(zr.to(DOT), tl.load(wo + out_block), rgb))
    return rgb


def _block_products(a, q, w, bl, H: tl.constexpr, BLOCK: tl.constexpr, IEEE: tl.constexpr):
    """A complex layer as eight products of K = H (Re z and Im z times each column block of the (2H, 4H) matrix at
    ``w``, rows ``2k + s``), the biases at ``bl`` the first accumulators: -> ur, ui, vr, vi (BLOCK, H). IEEE fp32
    on the CUDA cores, and the tensor-core path without ``WIDE``."""
    j = tl.arange(0, H)
    k = tl.arange(0, H)
    re = w + (2 * k[:, None]) * (4 * H) + j[None, :]  # the Re z rows of column block 0; Im z's are the next rows
    ur = tl.broadcast_to(tl.load(bl + j)[None, :], (BLOCK, H))
    ui = tl.broadcast_to(tl.load(bl + H + j)[None, :], (BLOCK, H))
    vr = tl.broadcast_to(tl.load(bl + 2 * H + j)[None, :], (BLOCK, H))
    vi = tl.broadcast_to(tl.load(bl + 3 * H + j)[None, :], (BLOCK, H))
    if IEEE:
        ur = tl.dot(q, tl.load(re + 4 * H), tl.dot(a, tl.load(re), ur, input_precision="ieee"), input_precision="ieee")
        ui = tl.dot(q, tl.load(re + 5 * H), tl.dot(a, tl.load(re + H), ui, input_precision="ieee"),
                    input_precision="ieee")
        vr = tl.dot(q, tl.load(re + 6 * H), tl.dot(a, tl.load(re + 2 * H), vr, input_precision="ieee"),
                    input_precision="ieee")
        vi = tl.dot(q, tl.load(re + 7 * H), tl.dot(a, tl.load(re + 3 * H), vi, input_precision="ieee"),
                    input_precision="ieee")
    else:
        ur = tl.dot(q, tl.load(re + 4 * H), tl.dot(a, tl.load(re), ur))
        ui = tl.dot(q, tl.load(re + 5 * H), tl.dot(a, tl.load(re + H), ui))
        vr = tl.dot(q, tl.load(re + 6 * H), tl.dot(a, tl.load(re + 2 * H), vr))
        vi = tl.dot(q, tl.load(re + 7 * H), tl.dot(a, tl.load(re + 3 * H), vi))
    return ur, ui, vr, vi


def _exp2(x, FAST: tl.constexpr):
    """2^x. On the GPU (``FAST``) the bare ``ex2.approx.ftz.f32``, one MUFU.EX2. ``tl.exp`` took four instructions
    more: a multiply by log2(e) (the callers fold it into their constants) and ptxas's guard around the plain
    ``ex2.approx.f32`` for a denormal result (a compare with -126 and two conditional multiplies). With ftz a
    result below 2^-126 is 0, which no pixel can tell from the denormal. The interpreter has no inline assembly:
    ``tl.exp2``."""
    if FAST:
        return tl.inline_asm_elementwise("ex2.approx.ftz.f32 $0, $1;", "=r,r", [x], dtype=tl.float32, is_pure=True,
                                         pack=1)
    else:
        return tl.exp2(x)


def _store_tile(acc, pixel_ptr, image_ptr, tile, BLOCK: tl.constexpr):
    """A tile's blended RGB (BLOCK, OUT) in 0..1 -> uint8 bytes at its pixels (-1: padding, not stored)."""
    offs = tl.arange(0, BLOCK)
    c = tl.arange(0, OUT)
    pixel = tl.load(pixel_ptr + tile * BLOCK + offs)
    level = tl.minimum(tl.maximum(acc * 255.0, 0.0), 255.0)
    byte = tl.floor(level + 0.5).to(tl.uint8)
    mask = (pixel >= 0)[:, None] & (c < 3)[None, :]
    tl.store(image_ptr + pixel[:, None] * 3 + c[None, :], byte, mask=mask)


def _decode(coord_ptr, weight_ptr, pixel_ptr, tile_ptr, owner_ptr, program_ptr, partial_ptr, w1_ptr, wh_ptr, wo_ptr,
            bias_ptr, image_ptr, w0, w0e, s0e,
            H: tl.constexpr, LAYERS: tl.constexpr, BLOCK: tl.constexpr, BSTRIDE: tl.constexpr,
            BLEND: tl.constexpr, DOT: tl.constexpr, IEEE: tl.constexpr, FAST: tl.constexpr, GROUPED: tl.constexpr,
            STRIPS: tl.constexpr, WIDE: tl.constexpr):
    prog = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    # While loops, not range(owners): Triton 3.6's interpreter (the GPU image's version) cannot turn a loaded
    # scalar into a Python int under NumPy 2 (fixed in later Triton). Compiled for Hopper it also takes fewer
    # registers than the for loop did (fp16 default: 128 against 156; benchmarks/triton_aot.py).
    if GROUPED:
        # A program renders `count` consecutive tiles with the same owners: one inside a patch, or with STRIPS
        # also two on an overlap strip (else a tile of several owners is a program of its own). Per owner its
        # first hidden layer and output layer are loaded once, into shared memory, for all the tiles (with IEEE
        # products, on the CUDA cores, they would spill: loaded per tile there). With STRIPS a tile's blended sum
        # so far waits for the next owner in `partial_ptr` (fp32 RGB, a row of BLOCK x 3 per tile), else in
        # registers: the same sums in the same order as the one-tile program's.
        first = tl.load(program_ptr + 2 * prog)
        count = tl.load(program_ptr + 2 * prog + 1)
        owners = tl.load(tile_ptr + 2 * first + 1)
        c = tl.arange(0, OUT)
        rows = tl.arange(0, 2 * H)
        cols = tl.arange(0, 4 * H)
        out_block = tl.arange(0, H)[:, None] * OUT + c[None, :]
        rgb_only = (c < 3)[None, :]
        acc = tl.full((BLOCK, OUT), 0.0, tl.float32)  # without STRIPS: a tile of several owners, in registers
        e = prog * 0
        while e < owners:
            p = tl.load(owner_ptr + first * OWNERS + e)
            if IEEE or not WIDE:  # loaded per tile by _owner_rgb
                hw, o0, o1 = 0, 0, 0
            else:
                hw = tl.load(wh_ptr + p * LAYERS * (8 * H * H) + rows[:, None] * (4 * H) + cols[None, :])
                wo = wo_ptr + p * (2 * H * OUT)
                o0 = tl.load(wo + out_block)
                o1 = tl.load(wo + H * OUT + out_block)
            if BLEND and STRIPS:
                tl.debug_barrier()  # the previous owner's partial sums are written, for every thread to read
            t = prog * 0
            while t < count:
                slot = tl.load(tile_ptr + 2 * (first + t)) + e  # the tile's first owner slot, plus this owner's
                x = tl.load(coord_ptr + slot * (2 * BLOCK) + offs)
                y = tl.load(coord_ptr + slot * (2 * BLOCK) + BLOCK + offs)
                rgb = _owner_rgb(x, y, p, bias_ptr + p * BSTRIDE, w1_ptr, wh_ptr, wo_ptr, hw, o0, o1, w0, w0e,
                                 s0e, H, LAYERS, BLOCK, DOT, IEEE, FAST, WIDE and not IEEE, WIDE)
                if BLEND and STRIPS:
                    rgb *= tl.load(weight_ptr + slot * BLOCK + offs)[:, None]
                    partial = partial_ptr + (first + t) * (3 * BLOCK) + offs[:, None] * 3 + c[None, :]
                    if e > 0:
                        rgb += tl.load(partial, mask=rgb_only, other=0.0)
                    if e < owners - 1:
                        tl.store(partial, rgb, mask=rgb_only)
                    else:  # the tile's last owner: it is done
                        _store_tile(rgb, pixel_ptr, image_ptr, first + t, BLOCK)
                elif BLEND:  # several owners only in a program of one tile
                    rgb *= tl.load(weight_ptr + slot * BLOCK + offs)[:, None]
                    acc += rgb
                    if e == owners - 1:
                        _store_tile(acc, pixel_ptr, image_ptr, first + t, BLOCK)
                        acc = tl.full((BLOCK, OUT), 0.0, tl.float32)
                else:  # one owner
                    _store_tile(rgb, pixel_ptr, image_ptr, first + t, BLOCK)
                t += 1
            e += 1
    else:  # a program per tile
        acc = tl.full((BLOCK, OUT), 0.0, tl.float32)  # tl.full, not tl.zeros: see kernel()
        base = tl.load(tile_ptr + 2 * prog)  # the tile's first owner slot in the coordinate and weight arrays
        owners = tl.load(tile_ptr + 2 * prog + 1)
        e = prog * 0  # the owner slot, an int32 scalar carried by the loop
        while e < owners:
            p = tl.load(owner_ptr + prog * OWNERS + e)
            x = tl.load(coord_ptr + (base + e) * (2 * BLOCK) + offs)
            y = tl.load(coord_ptr + (base + e) * (2 * BLOCK) + BLOCK + offs)
            rgb = _owner_rgb(x, y, p, bias_ptr + p * BSTRIDE, w1_ptr, wh_ptr, wo_ptr, 0, 0, 0, w0, w0e, s0e,
                             H, LAYERS, BLOCK, DOT, IEEE, FAST, False, WIDE)
            if BLEND:
                rgb *= tl.load(weight_ptr + (base + e) * BLOCK + offs)[:, None]
            acc += rgb
            e += 1
        _store_tile(acc, pixel_ptr, image_ptr, prog, BLOCK)


_KERNELS: dict[bool, object] = {}


def wide_products(triton_module) -> bool:
    """Whether the kernel takes a hidden layer as one product (``WIDE``) under this Triton: 3.6 and newer keep the
    split of its output in registers (one-tile program: 952 instructions against 1040, 128 registers, Hopper);
    3.2 does not (153 registers, 1560 against 1096 instructions), and 3.3-3.5 are not checked."""
    from .triton_fused import triton_version

    return triton_version(triton_module) >= (3, 6)


def _jit_all(interpret: bool = False):
    """The kernel jitted in the current mode, in a copy of ``_decode`` whose globals name its helpers made for
    that mode (the module's own functions stay plain, for either mode): jitted for the compiler; for the
    interpreter plain Python, which it runs with the kernel's own patched ``tl`` (a jitted helper would patch
    it again at every call: 10-20 % of the interpreter tests' time)."""
    import types

    scope = dict(globals())

    def copy(fn, jit=True):
        clone = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
        clone.__module__, clone.__qualname__, clone.__doc__ = fn.__module__, fn.__qualname__, fn.__doc__
        return triton.jit(clone) if jit else clone

    helpers = (_owner_rgb, _block_products, _store_tile, _exp2)
    for f in helpers:
        scope[f.__name__] = copy(f, not interpret)
    return copy(_decode)


def kernel():
    """The jitted kernel for the current mode: compiled, or Triton's interpreter with ``TRITON_INTERPRET=1``."""
    try:
        from triton import knobs  # Triton >= 3.4

        mode = bool(knobs.runtime.interpret)
    except (ImportError, AttributeError):
        mode = os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")
    if mode not in _KERNELS:
        _KERNELS[mode] = _jit_all(mode)
    return _KERNELS[mode]


def compile_for(arch: int = 90, num_warps: int = 4, *, hidden: int = 32, layers: int = 1, block: int = 64,
                blend: bool = False, fp16: bool = True, ieee: bool = False, fast: bool = True, grouped: bool = False,
                strips: bool = True, maxnreg: int | None = None, aligned: bool = True, wide: bool | None = None):
    """Compile the kernel ahead of time for CUDA compute capability ``arch`` (90: Hopper) without a GPU:
    Triton's own LLVM and ptxas make the PTX and the cubin, so registers, spills, shared memory and the
    machine code (tensor-core and special-function instructions) can be read on any machine
    (benchmarks/triton_aot.py, tests/engines/test_triton.py). ``hidden`` is the padded block width H;
    ``grouped``: programs of several tiles (the backend's ``tiles_per_program`` above 1), ``strips``: their runs
    of strip tiles too (``group_strips``); ``maxnreg``: ptxas's register cap (the backend's ``max_registers``);
    ``aligned``: every pointer argument known 16-byte aligned, as the JIT specializes a launch on torch's
    tensors (without it the compiler cannot vectorize the weight loads: 72 two-byte loads a thread and tile in
    the default kernel instead of 9 of 16 bytes, 18 % more instructions; the counts before 2026-12-06's
    eleventh session were made so).
    Works under Triton 3.2 (torch 2.6's; its own ``ASTSource`` form) and 3.6 or newer; 3.4-3.5 failed on the
    uint8 pointer type here (whether their JIT build on a GPU does too is not known), 3.3 is not checked."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    weights = "*fp16" if fp16 else "*fp32"
    signature = {"coord_ptr": "*fp32", "weight_ptr": "*fp32", "pixel_ptr": "*i32", "tile_ptr": "*i32",
                 "owner_ptr": "*i32", "program_ptr": "*i32", "partial_ptr": "*fp32", "w1_ptr": "*fp32",
                 "wh_ptr": weights, "wo_ptr": weights, "bias_ptr": "*fp32", "image_ptr": "*u8", "w0": "fp32",
                 "w0e": "fp32", "s0e": "fp32"}
    constants = {"H": hidden, "LAYERS": layers, "BLOCK": block, "BSTRIDE": 2 * hidden + 4 * hidden * layers + 16,
                 "BLEND": blend, "DOT": tl.float16 if fp16 else tl.float32, "IEEE": ieee, "FAST": fast,
                 "GROUPED": grouped, "STRIPS": strips, "WIDE": wide_products(triton) if wide is None else wide}
    signature.update({name: "constexpr" for name in constants})
    fn = _KERNELS.get(False)
    if fn is None:
        # Compiled, whatever the process's TRITON_INTERPRET says: Triton 3.2's jit reads it when it decorates.
        saved = os.environ.pop("TRITON_INTERPRET", None)
        try:
            fn = _jit_all()
        finally:
            if saved is not None:
                os.environ["TRITON_INTERPRET"] = saved
        if isinstance(fn, triton.runtime.JITFunction):
            _KERNELS[False] = fn
    # As Triton's JIT specializes a launch: every pointer argument 16-byte aligned (torch's allocations are; the
    # backend passes nothing else), so the compiler may vectorize their loads and stores.
    pointers = [fn.arg_names.index(name) for name, kind in signature.items() if kind.startswith("*")]
    import inspect

    if "constexprs" in inspect.signature(ASTSource).parameters:  # Triton >= 3.4
        attrs = {(i,): [["tt.divisibility", 16]] for i in pointers} if aligned else {}
        source = ASTSource(fn=fn, signature=signature, constexprs=constants, attrs=attrs)
    else:  # Triton 3.2's form (its constants by name, its alignment as an AttrsDescriptor)
        from triton.backends.compiler import AttrsDescriptor

        attrs = AttrsDescriptor.from_hints({i: 16 for i in pointers} if aligned else {})
        source = ASTSource(fn=fn, signature=signature, constants=constants, attrs=attrs)
    options = {"num_warps": num_warps, "enable_fp_fusion": True}
    if maxnreg is not None:
        options["maxnreg"] = maxnreg
    return triton.compile(source, target=GPUTarget("cuda", arch, 32), options=options)


def machine_code(compiled) -> dict:
    """Resources and instruction mix of a :func:`compile_for` result, read from its cubin with the cuobjdump
    that Triton ships: registers, stack bytes, shared bytes, SASS instructions in all and by opcode, and the
    instructions in the body of each loop that evaluates the MLP (ascending: the first is the loop over a
    program's tiles with ``grouped``, else the loop over a tile's owners) and the local loads and stores
    (spills) in each."""
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
    # An instruction line: its address, an optional predicate (@P0, @!UP1, @PT), the opcode and its operands.
    # (Before 2026-12-06, tenth session, predicated instructions were left out of the counts.)
    code = re.findall(r"^\s+/\*([0-9a-f]+)\*/\s+(?:@!?U?P[0-9T]+\s+)?([A-Z][A-Z0-9_.]*)([^;]*);", sass, re.M)
    ops = collections.Counter(op.split(".")[0] for _, op, _ in code)
    # The loops that evaluate the MLP (a branch back to an earlier address with a special-function instruction
    # between; the instructions from there to the branch are the body), not the small integer loops inside
    # libdevice's accurate sin/cos.
    at = [int(a, 16) for a, _, _ in code]
    bodies = []
    for here, (_, op, rest) in zip(at, code):
        m = re.search(r"0x([0-9a-f]+)", rest) if op.startswith("BRA") else None
        if m and int(m.group(1), 16) < here:
            body = [o for x, (_, o, _) in zip(at, code) if int(m.group(1), 16) <= x <= here]
            if any(o.startswith("MUFU") for o in body):
                bodies.append(body)
    bodies.sort(key=len)
    return {"registers": int(res.get("REG", 0)), "stack_bytes": int(res.get("STACK", 0)),
            "shared_bytes": int(compiled.metadata.shared), "local_bytes": int(res.get("LOCAL", 0)),
            "instructions": sum(ops.values()), "opcodes": dict(sorted(ops.items())),
            "loops": [len(b) for b in bodies],
            "loop_spills": [sum(o.startswith(("LDL", "STL")) for o in b) for b in bodies]}
