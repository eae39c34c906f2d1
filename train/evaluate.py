"""``actinr eval``: render a fitted run and compare it with its source clip.

Every frame is rendered by train/render.py's :class:`RunRenderer` through the
shared sampling grid (engines/grid.py), as uint8 as a player would show it,
and scored with PSNR, SSIM and (when the frame is large enough) MS-SSIM. The task decides the reference: the clean clip
for denoising, the whole frame (and the hidden region alone) for inpainting,
and for interpolation the held-out frames are reported apart, next to two
baselines computed in the same run: blending the two neighbouring fitted
frames, repeating the previous one, and ffmpeg's motion-compensated
``minterpolate`` on the fitted frames (train/baselines.py, through PyAV's
libavfilter, so no ffmpeg on PATH is needed).

Super-resolution (``size`` larger than the fitted frames): the reference is the
source file's frames resized (bicubic) to ``size`` -- the true frames when the
run was fitted on a ``--resize``d, smaller copy -- and the baseline is the
bicubic upscale of a downscaled source: the fitted frames themselves when they
are smaller than the file, otherwise the source shrunk by the same factor.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from actinr.engines.files import write_atomic
from actinr.engines.media import parse_size
from actinr.engines.timeline import gop_for_frame

from . import baselines, metrics
from .render import RunRenderer
from .run import Run
from .tasks import inpaint_mask, training_targets
from .video import read_video, resize_frames


def _scores(img: torch.Tensor, ref: torch.Tensor) -> dict:
    return {"psnr": round(metrics.psnr(img, ref), 4), "ssim": round(metrics.ssim(img, ref), 5),
            "ms_ssim": None if (v := metrics.ms_ssim(img, ref)) is None else round(v, 5)}


def _mean(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None and math.isfinite(r[key])]
    return round(float(np.mean(vals)), 4) if vals else None


def _summary(rows: list[dict]) -> dict:
    return {"frames": len(rows), **{k: _mean(rows, k) for k in ("psnr", "ssim", "ms_ssim")}}


def _u8(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0)


def evaluate(run_path, size: str | tuple | None = None, device: str = "cpu", progress: bool = False) -> dict:
    """Score every frame of a fitted run; returns the report (also what ``--json`` writes)."""
    run = Run.load(run_path)
    cfg, src = run.config, run.source
    renderer = RunRenderer(run, device)
    count = run.spans[run.gops_done - 1][1] + 1  # frames covered by the fitted GOPs
    fitted_size = (src.width, src.height)
    resize = parse_size(cfg.resize, "--resize") if cfg.resize else None
    clip = read_video(src.path, cfg.start, src.count, resize)
    frames = clip.frames[:count]  # what the model was fitted to (before noise/masks)
    out_size = parse_size(size, "--size") if isinstance(size, str) else (tuple(size) if size else fitted_size)

    report: dict = {"run": str(run.path), "task": cfg.task, "size": list(out_size), "fitted_size": list(fitted_size),
                    "gops_fitted": run.gops_done, "gops": len(run.spans)}
    sr = out_size != fitted_size
    if sr:
        original = read_video(src.path, cfg.start, count).frames
        reference = resize_frames(original, out_size) if original.shape[2:0:-1] != out_size else original
        if original.shape[2:0:-1] != fitted_size:
            low = frames
            report["baseline"] = "bicubic upscale of the fitted (downscaled) frames"
        else:
            low = resize_frames(frames, (max(1, round(fitted_size[0] ** 2 / out_size[0])),
                                         max(1, round(fitted_size[1] ** 2 / out_size[1]))))
            report["baseline"] = "bicubic upscale of the source shrunk by the same factor"
        baseline = resize_frames(low, out_size)
        report["reference"] = "source frames resized (bicubic) to the output size"
    else:
        reference, baseline = frames, None

    fitted = set(run.fitted)
    # the noise is drawn for the whole clip, exactly as training drew it
    noisy = training_targets(cfg, clip.frames)[0][:count].view(count, fitted_size[1], fitted_size[0], 3) \
        .float().div_(255.0) if cfg.task == "denoise" else None
    hidden = torch.from_numpy(inpaint_mask(cfg, *out_size)) if cfg.task == "inpaint" else None

    rows = []
    from tqdm.auto import tqdm

    for f in tqdm(range(count), desc="eval", disable=not progress, leave=False):
        img = _u8(renderer.render_uint8(f, out_size))
        ref = _u8(reference[f])
        row = {"frame": f, "gop": gop_for_frame(run.spans[: run.gops_done], f), **_scores(img, ref)}
        row["fitted"] = f in fitted
        if baseline is not None:
            row["baseline_psnr"] = round(metrics.psnr(_u8(baseline[f]), ref), 4)
        if noisy is not None:
            row["noisy_input_psnr"] = round(metrics.psnr(noisy[f], ref), 4)
        if hidden is not None:
            row["hidden_psnr"] = round(metrics.psnr(img[hidden], ref[hidden]), 4)
        rows.append(row)

    report["frames"] = rows
    report["overall"] = _summary(rows)
    report["per_gop"] = [{"gop": g, "first": a, "last": b, **_summary([r for r in rows if r["gop"] == g])}
                         for g, (a, b) in enumerate(run.spans[: run.gops_done])]
    if baseline is not None:
        report["overall"]["baseline_psnr"] = _mean(rows, "baseline_psnr")
    if noisy is not None:
        report["overall"]["noisy_input_psnr"] = _mean(rows, "noisy_input_psnr")
    if hidden is not None:
        report["overall"]["hidden_psnr"] = _mean(rows, "hidden_psnr")
    if cfg.task == "interp":
        report["held_out"] = _held_out(run, rows, frames, reference if not sr else None)
    return report


def _held_out(run: Run, rows: list[dict], frames: np.ndarray, reference) -> dict:
    """Held-out frames between two fitted ones, with the blend, repeat and ffmpeg minterpolate baselines."""
    keys = sorted(run.fitted)
    held = [r for r in rows if not r["fitted"] and keys[0] < r["frame"] < keys[-1]]
    out = {"model": _summary(held)}
    if reference is None or not held:
        return out
    out["blend_baseline"] = _summary([_scores(_u8(baselines.blend(frames, keys, r["frame"])),
                                              _u8(reference[r["frame"]])) for r in held])
    out["repeat_baseline"] = _summary([_scores(_u8(baselines.repeat(frames, keys, r["frame"])),
                                               _u8(reference[r["frame"]])) for r in held])
    every = run.config.every
    mci = baselines.minterpolate(frames[: keys[-1] + 1], every)
    out["minterpolate_baseline"] = _summary([_scores(_u8(mci[r["frame"]]), _u8(reference[r["frame"]]))
                                             for r in held])
    return out


def format_report(rep: dict) -> str:
    """A few readable lines for the terminal."""
    o = rep["overall"]
    fmt = lambda v, d=2: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    lines = [f"{rep['run']}: task {rep['task']}, {rep['gops_fitted']}/{rep['gops']} GOPs, "
             f"{o['frames']} frames at {rep['size'][0]}x{rep['size'][1]}"]
    for g in rep["per_gop"]:
        lines.append(f"  GOP {g['gop'] + 1} frames {g['first']}-{g['last']}: PSNR {fmt(g['psnr'])} dB  "
                     f"SSIM {fmt(g['ssim'], 4)}  MS-SSIM {fmt(g['ms_ssim'], 4)}")
    lines.append(f"  overall: PSNR {fmt(o['psnr'])} dB  SSIM {fmt(o['ssim'], 4)}  MS-SSIM {fmt(o['ms_ssim'], 4)}")
    if "baseline_psnr" in o:
        lines.append(f"  {rep['baseline']}: PSNR {fmt(o['baseline_psnr'])} dB (reference: {rep['reference']})")
    if "noisy_input_psnr" in o:
        lines.append(f"  noisy input against the clean clip: PSNR {fmt(o['noisy_input_psnr'])} dB")
    if "hidden_psnr" in o:
        lines.append(f"  hidden (inpainted) region alone: PSNR {fmt(o['hidden_psnr'])} dB")
    if "held_out" in rep:
        h = rep["held_out"]
        lines.append(f"  held-out frames ({h['model']['frames']}): model PSNR {fmt(h['model']['psnr'])} dB  "
                     f"SSIM {fmt(h['model']['ssim'], 4)}")
        for name in ("blend_baseline", "repeat_baseline", "minterpolate_baseline"):
            if name in h:
                lines.append(f"    {name.replace('_', ' ')}: PSNR {fmt(h[name]['psnr'])} dB  "
                             f"SSIM {fmt(h[name]['ssim'], 4)}")
    return "\n".join(lines)


def write_report(path, rep: dict) -> None:
    text = json.dumps(rep, indent=2)
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))
