"""Fitting: one GOP after another, each warm-started from the previous one.

Each step samples ``batch`` random pixels per patch from every fitted frame of
the GOP, evaluates all patches in one batched matmul and takes an Adam step on
the MSE (padding and hidden pixels weigh 0), plus ``guide_weight`` times the
MSE on in-between targets (``--guide mci2``/``mci``: ffmpeg's motion-compensated
interpolation of the GOP's fitted frames, the mean of the filter run after a lead
frame and after the two fitted frames before the GOP, train/tasks.py ``guide_targets``; a
random ``guide_share`` of the fitted frames' count is drawn each step; with
``guide_gate`` each patch's share of it follows a leave-one-out check,
``guide_trust``; with ``guide_fade`` a patch's targets lean to the cross-fade of
the fitted frames by the same kind of check, ``fade_share``), plus ``smooth``
times the mean squared acceleration of the moving biases at random in-between
times (train/motion.py), so the atoms travel at a steady speed between fitted
frames. Optional schedules: ``coarse_to_fine`` lets the time frequencies in,
lowest first; ``atom_warmup`` starts with wider atoms; ``shared_weight`` weighs the
frames a GOP shares with its neighbours. The learning rate ramps up over
the first ``lr_warmup`` of the GOP's steps, then decays exponentially by
``lr_decay`` over the GOP (``learning_rate``). Ctrl-C (or SIGTERM, SIGHUP,
SIGQUIT) finishes the current step, writes ``resume.safetensors`` and raises
:class:`Interrupted`; ``resume=True`` continues bit for
bit where it stopped (same device and thread count).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import math
import platform
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from actinr.engines.errors import ActinrError, optional_import
from actinr.engines.files import WriteError, check_output, make_folder
from actinr.engines.grid import PatchLayout, patch_windows
from actinr.engines.media import parse_size
from actinr.engines.patch_mlp import decode
from actinr.engines.signals import STOP_SIGNALS, Terminated, signal_name
from actinr.engines.timeline import is_cut

from .config import BATCH, TrainConfig, auto_batch, auto_overlap, auto_patch
from .model import GOPModel
from .motion import acceleration_penalty, velocity_penalty
from .run import GopResult, ResumePoint, Run, RunLock, RunSource, load_tensors, option_changes, save_tensors
from .scenes import Detail, detail_db, detail_sample, find_cuts, key_differences
from .tasks import (
    GUIDE_CONTEXT,
    fade_frames,
    fade_share,
    fitted_frames,
    guide_split,
    guide_targets,
    guide_trust,
    motion_trust,
    spans_for,
    training_targets,
)
from .video import clip_info, frames_at, read_video


class Interrupted(Exception):
    """Raised by :func:`train` after Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT), once the resume checkpoint is written."""

    def __init__(self, run: Run, signum: int = signal.SIGINT):
        r = run.resume
        how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal_name(signum)}"
        super().__init__(f"{how} in GOP {r.gop + 1}/{len(run.spans)} at step {r.step}; "
                         f"continue with: actinr train --resume -o {run.path}")
        self.run, self.signum = run, signum


# Shapes torch.compile may specialise :func:`decode` for, in one process. A fit compiles one graph per number of
# frames a step decodes (each GOP's frames with their margins, and its in-between targets); with adaptive GOP
# lengths the whole bikes clip takes 9 (--task interp) or 10 (regress), a benchmark's fits in one process more.
# Past dynamo's default of 8 every new shape ran eagerly, 2.4-2.7x as long a step on the CPU; shapes marked dynamic
# instead cost up to 36 % a step (docs/measurements.md "Past dynamo's recompile limit"). A compile takes seconds.
DECODE_SHAPES = 64


def _recompile_limit():
    """Raise dynamo's recompile limit to ``DECODE_SHAPES`` while a step runs (the name changed in torch 2.7)."""
    config = torch._dynamo.config
    name = "recompile_limit" if hasattr(config, "recompile_limit") else "cache_size_limit"
    return config.patch(**{name: max(getattr(config, name), DECODE_SHAPES)})


class _Decoder:
    """:func:`decode` compiled with torch.compile on first use, once for each shape of step (up to
    ``DECODE_SHAPES`` in a process); eager if compiling fails (said once). ``matmul``: the run's
    ``--matmul``, resolved (fp32 or bf16)."""

    def __init__(self, enabled: bool, matmul: str = "fp32"):
        self.eager = functools.partial(decode, hidden_dtype=torch.bfloat16 if matmul == "bf16" else None)
        self.fn = torch.compile(self.eager, dynamic=False) if enabled else self.eager

    def __call__(self, *args):
        if self.fn is self.eager:
            return self.eager(*args)
        try:
            with _recompile_limit():
                return self.fn(*args)
        except Exception as exc:  # inductor needs a working C++ (CPU) or Triton (CUDA) toolchain
            tqdm.write(f"torch.compile is unavailable here ({type(exc).__name__}); training eagerly (slower)")
            self.fn = self.eager
            return self.eager(*args)


# glibc's mallopt() parameters and their defaults (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
TRIM_DEFAULT, MMAP_MAX_DEFAULT = 128 * 1024, 65536
HEAP_TRIM = 1 << 30  # bytes of free heap kept during a fit before any is given back


def _libc():
    """glibc's C library (for mallopt), or None elsewhere (musl, macOS, Windows)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        lib = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return lib if hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim") else None


@contextlib.contextmanager
def reused_heap():
    """Keep a fit's large CPU buffers in the heap between steps (glibc; elsewhere nothing changes).

    glibc serves every allocation above 32 MiB with a fresh mmap() and unmaps it when freed, so each
    training step faulted in anew the pages of its large activations (carphone's (P, F x N, 4h) fp32
    hidden pre-activations are 35 MB with --gop-margin 1): the hidden layer's forward matmul took twice
    as long as the same matmul into a reused buffer (docs/measurements.md "Training speed on the CPU").
    Inside this block allocations come from the heap and freed memory stays there for the next step (up
    to ``HEAP_TRIM`` bytes); on leaving, glibc's defaults return and the free heap is handed back.
    Results are unchanged to the bit: only where memory comes from differs."""
    lib = _libc()
    if lib is None:
        yield False
        return
    ok = bool(lib.mallopt(M_MMAP_MAX, 0)) and bool(lib.mallopt(M_TRIM_THRESHOLD, HEAP_TRIM))
    try:
        yield ok
    finally:
        lib.mallopt(M_MMAP_MAX, MMAP_MAX_DEFAULT)
        lib.mallopt(M_TRIM_THRESHOLD, TRIM_DEFAULT)
        lib.malloc_trim(0)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ActinrError(f"--device cuda: CUDA is not available to this torch ({torch.__version__}); "
                          "use --device cpu")
    return torch.device(name)


def native_bf16(device: str) -> bool:
    """Whether ``--device`` ``device`` (auto, cpu or cuda) computes bf16 matrix products natively: a CUDA GPU of
    compute capability 8 or later, a CPU with AVX512-BF16 or AMX (--matmul auto picks bf16 there)."""
    if device == "cuda" or (device == "auto" and torch.cuda.is_available()):
        return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux lists them (empty elsewhere, or unreadable)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def psnr_from_mse(mse: float) -> float:
    return float("inf") if mse <= 0 else -10.0 * math.log10(mse)


class _StopFlag:
    """SIGINT, SIGTERM, SIGHUP or SIGQUIT sets the flag (the loop stops after its current step and writes the resume
    checkpoint); a second signal aborts at once."""

    def __init__(self):
        self.set = False
        self.signum = signal.SIGINT
        self._old = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.set:
            raise KeyboardInterrupt if signum == signal.SIGINT else Terminated(signum)
        self.set, self.signum = True, signum

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)


def new_run(cfg: TrainConfig, out: Path, pixels: bool = True) -> tuple[Run, object]:
    """A new run folder's description, and the clip (without its pixels when ``pixels`` is False: a parallel
    run's workers read their own frames)."""
    resize = parse_size(cfg.resize, "--resize") if cfg.resize else None
    clip = (read_video if pixels else clip_info)(cfg.source, cfg.start, cfg.frames, resize)
    w, h = clip.size
    count = clip.frames.shape[0]
    if cfg.task == "interp" and count <= cfg.every:
        raise ActinrError(f"--task interp --every {cfg.every} needs more than {cfg.every} frames, got {count}")
    source = RunSource(str(Path(cfg.source).resolve()), w, h, clip.fps, clip.total, cfg.start, count)
    keys = fitted_frames(cfg, count)
    cuts, diffs, detail = [], None, None
    sample = detail_sample(keys) if cfg.patch == 0 else []
    if (cfg.scene_cut > 0 or cfg.gop_shift > 0) and len(keys) > 2:
        frames = clip.frames[keys] if pixels else frames_at(cfg.source, cfg.start, keys, resize)
        meter = Detail()  # the detail sample's frames measured in the same pass
        diffs = key_differences(_tap(zip(keys, frames), set(sample), meter))
        cuts = find_cuts(diffs, cfg.scene_cut)
        detail = meter.db
    elif sample:
        detail = detail_db(clip.frames[sample] if pixels else frames_at(cfg.source, cfg.start, sample, resize))
    patch = cfg.patch or auto_patch(w, h, detail)
    plain = cfg.patch or auto_patch(w, h)  # what the resolution alone gives
    # stored resolved, so that a later change of the rules leaves the run as it was
    if cfg.batch == 0:  # BATCH per patch; where the detail made the patches smaller, as many pixels a step
        def patches(p: int) -> int:
            return PatchLayout(w, h, p, auto_overlap(p) if cfg.overlap < 0 else cfg.overlap).count

        cfg = dataclasses.replace(cfg, batch=BATCH if patch == plain else auto_batch(BATCH, patches(plain),
                                                                                        patches(patch)))
    if cfg.overlap < 0:
        cfg = dataclasses.replace(cfg, overlap=auto_overlap(patch))
    if cfg.matmul == "auto":
        cfg = dataclasses.replace(cfg, matmul="bf16" if native_bf16(cfg.device) else "fp32")
    run = Run(out, cfg, source, patch, spans_for(cfg, count, cuts, diffs), keys, detail=detail)
    _ = run.layout  # validates patch and overlap before anything is written
    return run, clip


def _tap(items, wanted: set, meter: Detail):
    """Yield the frames of ``(key, frame)`` pairs, measuring those whose key is in ``wanted`` on the way."""
    for key, frame in items:
        if key in wanted:
            meter.add(frame)
        yield frame


def train(cfg: TrainConfig | None, out, resume: bool = False, progress: bool = True,
          on_step: Callable[[int, int], None] | None = None, given: dict | None = None, workers: int = 1,
          ray_address: str | None = None, chain_start: str = "first") -> Run:
    """Fit ``cfg`` into run folder ``out`` (or continue the run there with ``resume=True``).

    ``given`` (with ``resume``): the options the user typed, TrainConfig field ->
    value; any that differs from the run's is refused. ``on_step(gop, step)`` is
    called after every step (tests use it to interrupt). ``workers`` > 1 fits
    the GOPs in parallel chains on Ray (train/parallel.py; ``ray_address``: a
    running cluster, or None for a local instance).
    """
    if workers < 1:
        raise ActinrError(f"--workers must be at least 1, got {workers}")
    if workers > 1:
        optional_import("ray", "ray")  # said before anything is read or written
    out = Path(out)
    # Products of small gradients can still reach float32 denormals (10-100x slower on x86).
    # Set before any parallel torch op: worker threads inherit the setting when they start.
    flush = torch.set_flush_denormal(True)
    try:
        with reused_heap():
            return _train(cfg, out, resume, progress, on_step, given or {}, workers, ray_address, chain_start)
    finally:
        if flush:
            torch.set_flush_denormal(False)


def _train(cfg, out: Path, resume: bool, progress: bool, on_step, given: dict, workers: int = 1,
           ray_address: str | None = None, chain_start: str = "first") -> Run:
    if resume:
        Run.load(out)  # a clear error for a missing or damaged run before anything is touched
        created = False
    else:
        check_output(out, folder=True, what="-o")
        if (out / "config.json").exists():
            raise ActinrError(f"{out} already holds a run; continue it with --resume or choose another -o")
        created = make_folder(out)
    saved = resume
    try:
        with RunLock(out) as lock:
            if lock.stale and progress:
                tqdm.write(f"{out}: took over a stale lock ({lock.stale}: that process is gone)", file=sys.stderr)
            if resume:
                run = Run.load(out)  # again, under the lock
                changed = option_changes(run, given)
                if changed:
                    raise ActinrError(f"--resume continues {out} with the options it was started with; these "
                                      f"differ: {', '.join(changed)} (drop them, or start a new run with another -o)")
                if run.complete:
                    raise ActinrError(f"{out}: this run is already complete ({len(run.spans)} GOPs)")
                cfg = run.config
                clip = None
            else:
                run, clip = new_run(cfg, out, pixels=workers == 1)
                run.save()
                saved = True
            if workers > 1:
                from .parallel import train_parallel

                return train_parallel(run, workers, ray_address, progress, chain_start)
            if clip is None:
                resize = parse_size(cfg.resize, "--resize") if cfg.resize else None
                clip = read_video(run.source.path, cfg.start, run.source.count, resize)
            return _fit(run, clip, progress, on_step)
    except WriteError as exc:
        if not saved:
            raise
        raise WriteError(f"{exc}; every finished GOP is kept: free some space, then continue with: "
                         f"actinr train --resume -o {out}") from None
    finally:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # nothing was written: leave no empty folder behind


def _fit(run: Run, clip, progress: bool, on_step) -> Run:
    cfg = run.config  # resolved when the run was made (auto batch, overlap, matmul), not the options as given
    device = pick_device(cfg.device)
    target, weight = training_targets(cfg, clip.frames)
    windows = patch_windows(run.layout)
    pixel = torch.from_numpy(windows.pixel)
    loss_weight = (weight[pixel] * torch.from_numpy(windows.valid)).to(device)  # (P, K)
    coords = torch.from_numpy(windows.coords).to(device)  # (K, 2)

    prev, prev_g, decoder = None, None, _Decoder(cfg.compile, cfg.matmul)
    with _StopFlag() as stop:
        for g in run.missing:  # after a parallel run these need not be contiguous
            if prev_g != g - 1:  # warm start from the GOP before, when it is fitted; else a cold start
                prev = run.load_model(g - 1, device) if g > 0 and g - 1 in run.finished else None
            model, result = _fit_gop(run, g, prev, target, pixel, loss_weight, coords, device, stop, progress,
                                     on_step, decoder)
            record_gop(run, model.state_dict(), result, progress)
            prev, prev_g = model, g
    return run


def record_gop(run: Run, state: dict, result: GopResult, progress: bool) -> None:
    """Write a fitted GOP's model ``state`` atomically, then the run's config.json (the resume point, if it
    was this GOP's, is done with); say the per-GOP summary line."""
    save_tensors(run.gop_file(result.gop), state, {"gop": result.gop, "first": result.first, "last": result.last})
    run.finish(result)
    run.resume = None
    run.save()
    (run.path / "resume.safetensors").unlink(missing_ok=True)
    if progress:
        tqdm.write(f"GOP {result.gop + 1}/{len(run.spans)}  frames {result.first}-{result.last}  "
                   f"{result.psnr:.2f} dB (fit)  {result.seconds:.1f} s  {result.params:,} parameters")


def gop_frames(run: Run, g: int) -> tuple[list[int], list[int]]:
    """(GOP ``g``'s own fitted frames, those and up to ``--gop-margin`` fitted frames beyond each end it shares
    with a neighbour GOP, never past that neighbour's far end nor across a scene cut) -- what it is fitted to."""
    first, last = run.spans[g]
    own = [f for f in run.fitted if first <= f <= last]
    m = run.config.gop_margin
    if m <= 0:
        return own, own
    before = after = []
    if g > 0 and not is_cut(run.spans, g):
        before = [f for f in run.fitted if run.spans[g - 1][0] <= f < first][-m:]
    if g + 1 < len(run.spans) and not is_cut(run.spans, g + 1):
        after = [f for f in run.fitted if last < f <= run.spans[g + 1][1]][:m]
    return own, before + own + after


def guide_context(run: Run, frames: list[int]) -> list[int]:
    """The fitted frames just before ``frames`` (a GOP's, ``gop_frames``) that its in-between targets'
    motion search starts from (tasks.py ``guide_targets``), across a scene cut as minterpolate of the whole
    run would; none at the clip's start or without ``--guide``."""
    if guide_split(run.config) == 0:
        return []
    return [f for f in run.fitted if f < frames[0]][-GUIDE_CONTEXT:]


def _fit_gop(run: Run, g: int, prev: GOPModel | None, target, pixel, loss_weight, coords, device,
             stop: _StopFlag, progress: bool, on_step, decoder, offset: int = 0) -> tuple[GOPModel, GopResult]:
    """Fit GOP ``g`` (warm-started from ``prev``) -> (model, result); ``target`` holds the frames from
    ``offset`` on (the whole clip, or only this GOP's frames in a parallel worker)."""
    cfg = run.config
    first, last = run.spans[g]
    own, frames = gop_frames(run, g)  # frames: own and --gop-margin beyond the shared ends (local times past 0, 1)
    t = torch.tensor([(f - first) / max(last - first, 1) for f in frames], device=device)  # (F,)
    keys = target[[f - offset for f in frames]]  # (F, H*W, 3) uint8
    tgt = keys[:, pixel].permute(1, 0, 2, 3).to(device).float().div_(255.0)
    p, nf, k, _ = tgt.shape
    # in-between targets (--guide): motion-compensated frames between the fitted ones, a random ng of them a step
    key_img = keys.view(nf, run.source.height, run.source.width, 3).numpy()
    before = guide_context(run, frames)
    ctx = target[[f - offset for f in before]].view(len(before), *key_img.shape[1:]).numpy() if before else None
    img, times, moving = guide_targets(cfg, key_img, frames, ctx, motion=True)
    ng = min(len(times), max(1, round(nf * cfg.guide_share)))
    trust = None  # (P, 1, 1): the guide's weight in each patch (--guide-gate); None: 1 everywhere
    if ng:
        g_t = torch.tensor([(f - first) / max(last - first, 1) for f in times], device=device)
        g_tgt = torch.from_numpy(img).view(len(times), -1, 3)[:, pixel].permute(1, 0, 2, 3).to(device)
        g_tgt = g_tgt.float().div_(255.0).reshape(p, len(times) * k, 3)  # (P, G*K, 3)
        share = fade_share(cfg, key_img, frames, pixel.numpy(), loss_weight.cpu().numpy())
        if share is not None:  # --guide-fade: the cross-fade where the guide does not beat it
            fade = torch.from_numpy(fade_frames(key_img, frames, times)).view(len(times), -1, 3)[:, pixel]
            fade = fade.permute(1, 0, 2, 3).to(device).float().div_(255.0).reshape(p, len(times) * k, 3)
            g_tgt = fade.lerp_(g_tgt, torch.from_numpy(share)[:, None, None].to(device))
        fw = torch.cat([torch.full((nf,), 1.0 / nf), torch.full((ng,), cfg.guide_weight / ng)]).to(device)
        gates = [guide_trust(cfg, key_img, pixel.numpy(), loss_weight.cpu().numpy()),
                 motion_trust(cfg, key_img, frames, moving, times, pixel.numpy(), loss_weight.cpu().numpy())]
        gates = [v for v in gates if v is not None]
        if gates:
            trust = torch.from_numpy(np.prod(gates, 0))[:, None, None].to(device)
    shared = None  # (F,) loss weights of the fitted frames, the ones shared with a neighbour GOP higher
    if cfg.shared_weight != 1.0 and nf > 1:
        shared = torch.ones(nf)
        if g > 0 and own[0] == first == run.spans[g - 1][1]:
            shared[frames.index(first)] = cfg.shared_weight
        if g + 1 < len(run.spans) and own[-1] == last == run.spans[g + 1][0]:
            shared[frames.index(last)] = cfg.shared_weight
        shared = shared.to(device)
        if ng:
            fw[:nf] *= shared
    # the local times the fit covers, and one fitted interval in local time (the smoothness penalty's unit)
    span = (float(t[0]), float(t[-1]), 1.0 / max(len(own) - 1, 1))
    model = GOPModel(**run.model_args(), seed=cfg.seed).to(device)
    if prev is not None:  # warm start from the previous GOP
        model.load_state_dict(prev.state_dict())
    opt = torch.optim.Adam([v for v in model.parameters() if v.requires_grad], lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + g)
    step0, elapsed = 0, 0.0
    resume_file = run.path / "resume.safetensors"
    if run.resume is not None and run.resume.gop == g:
        step0, elapsed = _load_resume(resume_file, model, opt, gen)

    bar = tqdm(range(step0, cfg.iters), desc=f"GOP {g + 1}/{len(run.spans)}", total=cfg.iters, initial=step0,
               disable=None if progress else True, leave=False, dynamic_ncols=True)
    ema, started = None, time.perf_counter()
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step)
        if cfg.coarse_to_fine > 0:
            _set_band(model, step / (cfg.coarse_to_fine * cfg.iters))
        if cfg.atom_warmup > 0:
            progress = min(step / (cfg.atom_warmup * cfg.iters), 1.0)
            # a tensor even at 1.0, so the compiled step is not compiled again when the warm-up ends
            model.atom_scale = torch.tensor(cfg.atom_start + (1 - cfg.atom_start) * progress, device=device)
        idx = torch.randint(0, k, (nf, cfg.batch), generator=gen).to(device)  # (F, B)
        y = torch.gather(tgt, 2, idx[None, :, :, None].expand(p, nf, cfg.batch, 3))  # (P, F, B, 3)
        if ng:
            sel = torch.randperm(len(times), generator=gen)[:ng].to(device)
            g_idx = torch.randint(0, k, (ng, cfg.batch), generator=gen).to(device)
            flat = (sel[:, None] * k + g_idx).reshape(1, -1, 1).expand(p, -1, 3)  # target sel[j], pixel g_idx[j]
            g_y = torch.gather(g_tgt, 1, flat).view(p, ng, cfg.batch, 3)
            idx, y, tt = torch.cat([idx, g_idx]), torch.cat([y, g_y], 1), torch.cat([t, g_t[sel]])
        w = loss_weight[:, idx]  # (P, F, B)
        out = model(coords[idx][None], tt if ng else t, decoder)  # (P, F, B, 3)
        err = ((out - y) ** 2).mean(-1) * w
        if trust is not None:  # only the in-between targets' errors, the fitted frames' stay as they are
            err = torch.cat([err[:, :nf], err[:, nf:] * trust], 1)
        if ng:  # fitted frames' MSE + guide_weight x in-between targets' MSE
            loss = (err.sum((0, 2)) / w.sum((0, 2)).clamp_min(1.0) * fw).sum()
        else:  # pooled over the fitted frames, those shared with a neighbour GOP weighing --shared-weight
            s = 1.0 if shared is None else shared[None, :, None]  # x 1.0 is exact: the same loss as without
            loss = (err * s).sum() / (w * s).sum().clamp_min(1.0)
        if cfg.smooth > 0 and nf > 1:
            loss = loss + cfg.smooth * _roughness(model, span, gen, device, cfg.smooth_order)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if on_step is not None:
            on_step(g, step)
        if step % 25 == 0:
            ema = loss.item() if ema is None else 0.7 * ema + 0.3 * loss.item()
            bar.set_postfix_str(f"{psnr_from_mse(ema):.2f} dB")
        if stop.set and step + 1 < cfg.iters:
            _save_resume(resume_file, model, opt, gen, step + 1, elapsed + time.perf_counter() - started)
            run.resume = ResumePoint(g, step + 1)
            run.save()
            bar.close()
            raise Interrupted(run, stop.signum)
    bar.close()
    _set_band(model, None)
    model.atom_scale = None
    seconds = elapsed + time.perf_counter() - started

    mine = [i for i, f in enumerate(frames) if first <= f <= last]  # the reported fit: the GOP's own frames
    mse = _fit_mse(model, coords, t[mine], tgt[:, mine], loss_weight)
    result = GopResult(g, first, last, round(psnr_from_mse(mse), 3), round(seconds, 2),
                       sum(v.numel() for v in model.parameters()), cfg.iters)
    return model, result


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Step ``step``'s learning rate: ``--lr`` decaying exponentially by ``--lr-decay`` over the GOP, ramped up
    linearly from lr / n over the first n = ``--lr-warmup`` x iters steps (Adam's first steps move every
    weight by about the learning rate, whatever its gradient)."""
    lr = cfg.lr * cfg.lr_decay ** (step / cfg.iters)
    ramp = cfg.lr_warmup * cfg.iters
    return lr * min(1.0, (step + 1) / ramp) if ramp > 1 else lr


def _set_band(model: GOPModel, progress: float | None) -> None:
    """Coarse to fine: at ``progress`` 0 only frequencies below one cycle per GOP pass, at 1 all of them."""
    for inr in model.bias_inrs:
        top = float(inr.freqs.abs().max())
        inr.set_band(None if progress is None or progress >= 1.0 else progress * top)


SMOOTH_TIMES = 8  # random in-between times per step for the smoothness penalty


def _roughness(model: GOPModel, span: tuple[float, float, float], gen: torch.Generator, device,
               order: int = 2) -> torch.Tensor:
    """Mean squared acceleration (order 2) or velocity (order 1) of the moving biases, time measured in
    fitted-frame intervals, at random in-between times; ``span``: (first and last local time fitted, one
    fitted interval in local time)."""
    lo, hi, step = span
    h = 0.5 * step  # half a fitted interval
    t = (lo + h + torch.rand(SMOOTH_TIMES, generator=gen) * (hi - lo - 2.0 * h)).to(device)
    penalty = acceleration_penalty if order == 2 else velocity_penalty
    terms = [penalty(model.bias_inrs[i], t, h, step) for i in model.moving()]
    return torch.stack(terms).mean()


@torch.no_grad()
def _fit_mse(model: GOPModel, coords, t, tgt, loss_weight) -> float:
    """Weighted MSE over every fitted pixel of the GOP, one frame at a time (outputs clamped to [0, 1])."""
    total = 0.0
    for i in range(t.shape[0]):
        out = model(coords[None, None], t[i:i + 1]).clamp(0, 1)  # (P, 1, K, 3)
        total += float(((out - tgt[:, i:i + 1]) ** 2).mean(-1)[:, 0].mul(loss_weight).sum())
    return total / max(float(loss_weight.sum()) * t.shape[0], 1.0)


def _save_resume(path: Path, model, opt, gen, step: int, elapsed: float) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    for i, p in enumerate(model.parameters()):
        state = opt.state.get(p, {})
        for key in ("exp_avg", "exp_avg_sq", "step"):
            if key in state:
                tensors[f"adam.{i}.{key}"] = torch.as_tensor(state[key]).reshape(-1)
    tensors["sampler"] = gen.get_state()
    save_tensors(path, tensors, {"step": step, "elapsed": elapsed})


def _load_resume(path: Path, model, opt, gen) -> tuple[int, float]:
    from safetensors import safe_open

    tensors = load_tensors(path)
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        for i, p in enumerate(model.parameters()):
            if f"adam.{i}.exp_avg" in tensors:
                opt.state[p] = {
                    "step": tensors[f"adam.{i}.step"].reshape(()).clone(),
                    "exp_avg": tensors[f"adam.{i}.exp_avg"].reshape(p.shape).to(p.device),
                    "exp_avg_sq": tensors[f"adam.{i}.exp_avg_sq"].reshape(p.shape).to(p.device),
                }
        gen.set_state(tensors["sampler"])
        return int(meta["step"]), float(meta["elapsed"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise ActinrError(f"{path}: damaged resume checkpoint ({type(exc).__name__}: {exc})") from None
