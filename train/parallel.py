"""GOP-parallel fitting on Ray: ``actinr train SRC -o RUN --workers N [--ray-address ADDR]``.

GOPs are nearly independent: only the warm start links a GOP to the one before.
The missing GOPs are split into N contiguous *chains*; each GOP is one Ray task
that takes the previous GOP of its chain as its warm start (a Ray object
reference, so Ray runs a chain in order and the chains side by side), and a
chain's first GOP starts from the fitted GOP before it when there is one on
disk, else (``chain_start``) from the first chain's first GOP once that is
fitted (``first``, the default: measured closer to a sequential fit) or cold
(``cold``: a fresh model, at once). Each task reads only its GOP's
frames from the source (seeking, train/video.py ``only=True``), so a worker's
memory is one GOP's frames, not the clip's.

The driver (this process) writes each GOP's file atomically as its task
finishes, then config.json: a run stopped at any point (Ctrl-C, a lost node, a
task that fails its retries) keeps every finished GOP, and ``--resume`` with
any number of workers fits only the missing ones. A failed task is retried by
Ray (``max_retries``), from its warm start, so a chain continues from its last
finished GOP. A finished run folder is the same as a sequential one.

Without ``--ray-address`` a local Ray instance with the machine's cores (and
GPUs) is started for the run and shut down after it, each of the N workers
taking an equal share of the cores as its torch threads; ``auto`` or an address
joins a running cluster (whose nodes must see RUN and SOURCE at the same paths).
``--device cuda`` asks one GPU per task. Ray is optional (``actinr[ray]``).

``ACTINR_TEST_FAIL_GOP=g`` (tests only) makes GOP ``g``'s first attempt fail,
once (a marker file in RUN records it); ``ACTINR_TEST_FAIL_GOP=g:always`` makes
every attempt fail.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from actinr.engines.errors import ActinrError, optional_import
from actinr.engines.grid import patch_windows
from actinr.engines.media import parse_size

from .run import GopResult, Run

MAX_RETRIES = 3
FAIL_ENV = "ACTINR_TEST_FAIL_GOP"


def chains(gops: list[int], workers: int) -> list[list[int]]:
    """Split sorted GOP indices into at most ``workers`` contiguous chains of near-equal length."""
    gops = sorted(gops)
    n = min(max(workers, 1), len(gops))
    out, start = [], 0
    for i in range(n):
        size = len(gops) // n + (1 if i < len(gops) % n else 0)
        out.append(gops[start:start + size])
        start += size
    return [c for c in out if c]


def _maybe_fail(run_path: Path, g: int) -> None:
    spec = os.environ.get(FAIL_ENV, "")
    if not spec:
        return
    gop, _, mode = spec.partition(":")
    if int(gop) != g:
        return
    marker = run_path / f".test-failed-{g}"
    if mode == "always" or not marker.exists():
        marker.touch()
        raise RuntimeError(f"{FAIL_ENV}: injected failure in GOP {g}")


class _NoStop:
    """A worker's stop flag: never set (signals are the driver's; Ray cancels a task by killing it)."""

    set = False


def fit_gop_task(run_path: str, g: int, warm, threads: int) -> dict:
    """One GOP in a Ray worker: read its frames, fit it from ``warm`` (a previous task's result, a state
    dict, or None for a cold start) and return ``{"gop", "state", "result"}`` (the driver writes the file)."""
    from .fit import _Decoder, _fit_gop, gop_frames, guide_context, pick_device, reused_heap
    from .tasks import training_targets
    from .video import read_video

    path = Path(run_path)
    _maybe_fail(path, g)
    torch.set_num_threads(max(1, int(threads)))
    flush = torch.set_flush_denormal(True)
    try:
        with reused_heap():  # as train() does in a single process
            run = Run.load(path)
            cfg = run.config
            _, frames = gop_frames(run, g)  # its own frames and those of --gop-margin beyond its shared ends
            first, last = (guide_context(run, frames) or frames)[0], frames[-1]  # and its guide's context before
            resize = parse_size(cfg.resize, "--resize") if cfg.resize else None
            clip = read_video(run.source.path, cfg.start + first, last - first + 1, resize, only=True)
            target, weight = training_targets(cfg, clip.frames)
            device = pick_device(cfg.device)
            windows = patch_windows(run.layout)
            pixel = torch.from_numpy(windows.pixel)
            loss_weight = (weight[pixel] * torch.from_numpy(windows.valid)).to(device)
            coords = torch.from_numpy(windows.coords).to(device)
            prev = None
            state = warm["state"] if isinstance(warm, dict) and "state" in warm else warm
            if state is not None:
                from .model import GOPModel

                prev = GOPModel(**run.model_args())
                prev.load_state_dict(state)
                prev = prev.to(device)
            model, result = _fit_gop(run, g, prev, target, pixel, loss_weight, coords, device, _NoStop(), False, None,
                                     _Decoder(cfg.compile, cfg.matmul), offset=first)
            return {"gop": g, "state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                    "result": result.to_json(), "frames_read": int(clip.frames.shape[0])}
    finally:
        if flush:
            torch.set_flush_denormal(False)


CHAIN_STARTS = ("first", "cold")


def train_parallel(run: Run, workers: int, address: str | None, progress: bool, chain_start: str = "first") -> Run:
    """Fit ``run``'s missing GOPs on Ray with ``workers`` chains; see the module docstring. ``chain_start``:
    how a chain's first GOP starts when the GOP before it is not fitted yet: ``cold`` (a fresh model, at once)
    or ``first`` (from the first chain's first GOP, once that is done)."""
    if chain_start not in CHAIN_STARTS:
        raise ActinrError(f"--chain-start must be one of {', '.join(CHAIN_STARTS)}, got {chain_start!r}")
    from .fit import record_gop

    ray = optional_import("ray", "ray")
    cfg = run.config
    cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
    started = False
    if not ray.is_initialized():
        if address is None:
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private local instance for this run
            ray.init(num_cpus=max(workers, os.cpu_count() or 1), num_gpus=torch.cuda.device_count() if cuda else 0,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        started = True
    try:
        # the cores shared out: a worker's torch threads, and the CPUs Ray reserves for its task
        threads = max(1, int(ray.cluster_resources().get("CPU", workers) // workers))
        task = ray.remote(fit_gop_task).options(num_cpus=threads, num_gpus=1 if cuda else 0,
                                                max_retries=MAX_RETRIES, retry_exceptions=True)
        pending, owner = [], {}
        todo = chains(run.missing, workers)
        head = None  # the first chain's first task (chain_start "first")
        for c, chain in enumerate(todo):
            warm, before = None, None
            for g in chain:
                if before != g - 1:  # a chain's first GOP, or one after a gap of GOPs fitted already
                    if g > 0 and g - 1 in run.finished:  # the GOP before it is on disk: warm-start from it
                        warm = {k: v for k, v in run.load_model(g - 1).state_dict().items()}
                    else:
                        warm = head if chain_start == "first" else None
                ref = task.remote(str(run.path), g, warm, threads)
                head = ref if head is None else head
                pending.append(ref)
                owner[ref] = c
                warm, before = ref, g  # the next GOP of the chain starts where this one ends
        bar = tqdm(total=len(run.spans), initial=len(run.finished), desc=f"{workers} workers", unit="GOP",
                   disable=None if progress else True, leave=False, dynamic_ncols=True)
        last_psnr: dict[int, float] = {}
        failed: list[str] = []
        t0 = time.perf_counter()
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                try:
                    out = ray.get(done[0])
                except ray.exceptions.RayError as exc:  # the other chains go on; this one's later GOPs fail too
                    failed.append(str(exc).strip().splitlines()[-1][:200])
                    continue
                result = GopResult(**out["result"])
                record_gop(run, out["state"], result, progress)
                last_psnr[owner[done[0]]] = result.psnr
                bar.update(1)
                bar.set_postfix_str(" ".join(f"w{c}: {p:.1f} dB" for c, p in sorted(last_psnr.items()))
                                    + f" | {time.perf_counter() - t0:.0f} s")
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            tqdm.write(f"stopped with {len(run.finished)} of {len(run.spans)} GOPs fitted (each one kept); "
                       f"continue with: actinr train --resume -o {run.path}")
            raise
        finally:
            bar.close()
        if failed:
            raise ActinrError(f"a worker failed fitting a GOP after {MAX_RETRIES} retries ({failed[0]}); "
                              f"{len(run.finished)} of {len(run.spans)} GOPs are fitted and kept: continue with: "
                              f"actinr train --resume -o {run.path}")
    finally:
        if started:
            ray.shutdown()
    return run
