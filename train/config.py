"""TrainConfig: everything that defines a fit. Stored in RUN/config.json and rebuilt from it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from actinr.engines.config import option

TASKS = ("regress", "interp", "denoise", "inpaint")
MASKS = ("center", "boxes")
TIME_BIAS = ("all", "first")
MATMULS = ("auto", "fp32", "bf16")
GUIDES = ("mci", "mci2", "off")
MOTION_SPANS = ("target", "interval")
MOTION_OF = ("targets", "mci")
FLOW_SAMPLES = ("splat", "cubic", "auto")  # train/baselines.py flow_frames' ``sample``
BATCH = 128  # --batch 0: pixels per patch and frame at the patch size the resolution gives
# --patch 0: footage whose frames are under this PSNR (dB) against their own 2x low-pass (train/scenes.py detail_db) is
# detailed and gets patches one step smaller. Carphone 176x144 is at 27.6 dB (patch 24 instead of 32 lifted its
# in-between frames 0.22 / 0.07 dB at k = 2 / 4, 0.10-0.22 at k = 2 over three seeds, for about 1.1x the training
# time), bikes 320x136 at 36.9 (fitted at 44 dB already): the threshold lies between the two
# (docs/measurements.md "A patch size from the footage's detail").
DETAIL_DB = 32.0
GOP_SPAN_KEYS = 5  # fitted frames a GOP holds at least under --gop-span (4 lost carphone 0-40 k = 5 0.27 dB, 3 lost
# carphone k = 10 0.07 dB: docs/measurements.md "Three GOPs at k = 4")
# Fields added after runs were first written, with the value that reproduces those runs.
LEGACY = {"time_bias": "all", "smooth": 0.0, "smooth_order": 2, "coarse_to_fine": 0.0, "atom_warmup": 0.0,
          "atom_start": 0.25,
          "guide": "off", "guide_weight": 0.5, "guide_split": 0,
          "guide_share": 1.0, "guide_gate": 0.0, "guide_motion": 0.0, "shared_weight": 1.0, "scene_cut": 0.0,
          "gop_shift": 0, "gop_margin": 0, "lr_warmup": 0.0, "guide_motion_span": "target", "gop_span": 0,
          "guide_grids": 0, "guide_flow": 0.0, "guide_motion_of": "targets", "guide_flow_accel": 0.0,
          "matmul": "fp32", "guide_fade": 0.0, "guide_flow_sample": "splat"}


@dataclass
class TrainConfig:
    """How to fit ActINR to a clip (defaults chosen by measurement: see docs/measurements.md "Defaults")."""

    source: str = ""
    start: int = option(0, "first source frame to fit")
    frames: int | None = option(None, "number of frames to fit (default: to the end of the clip)")
    resize: str | None = option(None, "resize the source frames to WxH before fitting", metavar="WxH")
    gop: int = option(10, "frames per group of pictures (GOPs overlap by one frame)")
    gop_span: int = option(18, "source frames a GOP may span: with --task interp --every K a GOP holds at most "
                            f"N // K + 1 fitted frames (and --gop), but at least {GOP_SPAN_KEYS}; 0: always --gop",
                            metavar="N")
    iters: int = option(2000, "optimisation steps per GOP")
    hidden: int = option(32, "hidden width h of each patch MLP (complex units; realified width 2h)")
    layers: int = option(1, "number of complex hidden layers")
    patch: int = option(0, "patch size in pixels (0: chosen from the resolution, about a fifth of the shorter "
                         "side, and one step of 8 smaller for detailed footage: fitted frames under "
                         f"{DETAIL_DB:g} dB PSNR against their own 2x low-pass)")
    overlap: int = option(-1, "pixels shared by neighbouring patches, blended bilinearly: removes seams and lets "
                           "moving content cross patch borders (-1: auto, 4 or a quarter of a smaller patch; "
                           "0: none)")
    w0: float = option(5.0, "WIRE frequency omega_0 of the Gabor activations")
    s0: float = option(7.0, "WIRE scale s_0 of the Gabor activations")
    time_freq: float = option(0.5, "standard deviation of the bias-INRs' 40 Gaussian time frequencies "
                               "(cycles per GOP): lower is smoother in time")
    time_bias: str = option("first", "which biases follow time: all modules', or the first layer's only (the "
                             "Gabor atoms move, amplitudes stay)", choices=TIME_BIAS)
    smooth: float = option(0.01, "weight of the penalty on the acceleration of the moving biases at random "
                            "in-between times (keeps motion steady between fitted frames)")
    smooth_order: int = option(2, "what --smooth penalises: 2 the acceleration (motion at a steady speed), "
                                "1 the velocity (as little motion as the fitted frames need)", choices=(1, 2))
    coarse_to_fine: float = option(0.0, "fraction of each GOP's iterations over which the bias-INRs' time "
                                    "frequencies are let in, lowest first (0: all from the start)")
    atom_warmup: float = option(0.0, "fraction of each GOP's iterations over which the Gabor atoms shrink from "
                                 "wider (w0 and s0 scaled by --atom-start) to their size, so that large motions are "
                                 "found first (0: off)")
    atom_start: float = option(0.25, "the scale of w0 and s0 when --atom-warmup starts", metavar="SCALE")
    guide: str = option("mci2", "in-between targets: the model also fits, between the fitted frames, ffmpeg's "
                         "motion-compensated interpolation of them (minterpolate, computed at the start of each "
                         "GOP), so that slow motion moves instead of cross-fading. 'mci2' fits a weighted mean of "
                         "two minterpolate settings (64-px search 2/3, 8-px blocks 1/3), closer to the true frames; "
                         "'mci' the setting the benchmarks compare with (mci/aobmc/bidir) alone, half as long to "
                         "make; 'off' fits the frames alone (see also --guide-grids, and --guide-flow, which mixes in "
                         "optical flow). "
                         "Not used by --task inpaint (the interpolation would see the hidden pixels)",
                         choices=GUIDES)
    guide_grids: int = option(4, "minterpolate block grids the in-between targets are the mean of: each run pads "
                               "the frames to whole 16-pixel blocks, each grid offset by 16/N pixels from the "
                               "last, so the guide takes N times as long (0: one run on the frames as they are, "
                               "as the ffmpeg command line does)", metavar="N")
    guide_flow: float = option(0.7, "share of optical flow in the in-between targets: the rest is minterpolate "
                                "(--guide, --guide-grids); the flow is dense (OpenCV's DIS) both ways between each "
                                "pair of fitted frames, both frames splatted forward to the in-between time, so it "
                                "follows motion per pixel where minterpolate moves 16-pixel blocks (1: the flow "
                                "alone, 0: minterpolate alone, as runs before it did)", metavar="SHARE")
    guide_flow_accel: float = option(1.0, "how much of each pixel's acceleration the flow's in-between frames "
                                      "follow: 1 moves pixels on a parabola through the fitted frames before and "
                                      "after where those exist (quadratic video interpolation), 0 on a line (as "
                                      "runs before 2026-12-08 did); from the same flows, so it costs nothing. Gains "
                                      "where motion is smooth over three fitted frames (cockatoo k = 2 / 4 +0.73 / "
                                      "+0.39 dB, bikes k = 4 +0.12), loses where it is jerky (carphone k = 4 -0.13)",
                                      metavar="SHARE")
    guide_flow_sample: str = option("cubic", "how the flow's in-between frames are drawn: 'splat' moves the "
                                     "fitted frames' colours, each landing bilinearly on four pixels (a picture "
                                     "moved by part of a pixel comes out low-passed); 'cubic' moves the flow and "
                                     "samples the fitted frames bicubically along it, keeping fine detail (city's "
                                     "night pan: in-between frames +1.1 / +1.6 dB at k = 10 / 4, bikes k = 2 +0.36; "
                                     "docs/measurements.md \"A sharper flow\"); 'auto' mixes the two per pixel by a "
                                     "leave-one-out check of both on each GOP's fitted frames",
                                     choices=FLOW_SAMPLES)
    guide_weight: float = option(0.75, "weight of the in-between targets' error against the fitted frames' (1)")
    guide_split: int = option(0, "in-between targets per fitted interval: its length in frames is cut into this "
                               "many steps (0: auto, every held-out frame for --task interp, else 2: half frames)")
    guide_share: float = option(0.5, "in-between targets drawn each step, as a fraction of the GOP's fitted frames "
                                 "(the step's cost grows by about this fraction)")
    guide_gate: float = option(0.0, "trust the in-between targets per patch by a leave-one-out check at the start "
                                "of each GOP: minterpolate of every other fitted frame predicts the ones between, "
                                "and a patch's guide weight is its gain over blending in dB divided by this "
                                "(capped at 1), so patches where motion compensation does not beat a cross-fade "
                                "are left to the model (0: off, every patch weighs 1)", metavar="DB")
    guide_fade: float = option(0.0, "fall back to the cross-fade where the guide does not beat it: at the start of "
                                "each GOP the guide run on every other fitted frame predicts the ones between, as "
                                "blending them does; a patch where the guide's gain over blending is 0 dB or less "
                                "gets the cross-fade of the fitted frames as its in-between targets, one with this "
                                "many dB or more the guide's, mixed linearly between (0: off). For fitted frames far "
                                "apart around motion no estimate follows: at k = 10, 1 gained cockatoo 0.37 dB and "
                                "lost bikes 0.14 (docs/measurements.md \"Validation footage\")", metavar="DB")
    guide_motion: float = option(1.0, "trust the in-between targets per patch by the motion they show: a patch "
                                  "whose targets depart from a cross-fade of the fitted frames by less than this many "
                                  "grey levels (mean absolute difference; see --guide-motion-span) is left to the "
                                  "model's own interpolation, by twice as much or more it follows them fully, "
                                  "linearly between (0: off)",
                                  metavar="LEVELS")
    guide_motion_span: str = option("interval", "what --guide-motion's departure is measured over: each "
                                     "in-between target (their mean), or each fitted interval (the sum over its "
                                     "targets, so that with k - 1 frames between fitted ones the threshold is "
                                     "LEVELS / (k - 1): the longer the gap, the less the model's own "
                                     "interpolation is trusted)", choices=MOTION_SPANS)
    guide_motion_of: str = option("mci", "what --guide-motion's departure from a cross-fade is measured on: "
                                  "'mci', the guide's minterpolate frames before --guide-flow mixes the flow in "
                                  "(the targets themselves with --guide-flow 1); 'targets', the targets. The flow's "
                                  "resampling departs from a cross-fade in still textured places too, and measured "
                                  "on the targets it guided three times the patches on carphone k = 2 (-0.12 dB)",
                                  choices=MOTION_OF)
    guide_motion_max: float = option(1.0, "with --guide-motion, the weight keeps growing past full with the motion "
                                      "the targets show, up to this many times --guide-weight (reached at "
                                      "1 + this many times LEVELS): where minterpolate moves things most, the model "
                                      "follows it most (1: never above --guide-weight)", metavar="X")
    shared_weight: float = option(1.0, "loss weight of a GOP's fitted frames that it shares with the GOP before or "
                                   "after it, against 1 for the others: higher makes the two GOPs agree better "
                                   "there, so the switch between them is smaller", metavar="W")
    gop_shift: int = option(2, "fitted frames a switch between two GOPs may move, from its place every --gop "
                             "frames, to land where the picture changes least (a switch is least visible there; 0: "
                             "fixed)", metavar="N")
    gop_margin: int = option(1, "fitted frames beyond each end a GOP shares with its neighbour that it is also "
                              "fitted to, so that both GOPs hold the pictures around the switch and the switch "
                              "window mixes two fits rather than one fit and one guess (0: each GOP its own frames)",
                              metavar="N")
    scene_cut: float = option(0.1, "scene cuts: an interval between fitted frames whose mean absolute difference "
                               "(0..1) is above this, and above each neighbouring interval's by as much again, is a "
                               "cut: no GOP is fitted across it and playback cuts hard in the middle of it instead of "
                               "cross-dissolving two scenes (0: off)", metavar="DIFF")
    lr: float = option(1e-2, "Adam learning rate of each GOP, after --lr-warmup")
    lr_warmup: float = option(0.05, "fraction of each GOP's iterations over which the learning rate ramps up "
                               "linearly to --lr, so that Adam's first steps do not undo the warm start from the "
                               "GOP before (0: none)", metavar="FRACTION")
    lr_decay: float = option(0.1, "factor the learning rate decays by over a GOP's iterations")
    batch: int = option(0, f"random pixels per patch and frame in each step (0: auto, {BATCH}; where --patch 0 makes "
                         "the patches smaller for detailed footage, fewer, so that a step samples as many pixels as "
                         "at the size the resolution gives)")
    task: str = option("regress", "what to fit", choices=TASKS)
    every: int = option(2, "interp: fit frames 0, k, 2k, ... only (k = --every)")
    noise: float = option(0.1, "denoise: standard deviation of the Gaussian noise added to the frames (0..1 scale)")
    mask: str = option("center", "inpaint: which pixels are hidden from the loss", choices=MASKS)
    seed: int = option(0, "random seed (fits are deterministic for a given seed, device and thread count)")
    device: str = option("auto", "where to train", choices=("auto", "cpu", "cuda"))
    matmul: str = option("auto", "number type of the hidden layer's matrix products in a training step: bf16 "
                         "rounds their inputs and results to bfloat16 (the weights, the biases, the Gabor "
                         "activations, the evaluation and the export stay fp32); on a CPU with AVX512-BF16 it took "
                         "0.74-0.87x the time, for 0.03 dB of carphone's fitted frames. auto: bf16 where the "
                         "training device computes "
                         "it natively (a CPU with AVX512-BF16 or AMX, a CUDA GPU of compute capability 8 or "
                         "later), else fp32", choices=MATMULS)
    compile: bool = option(True, "fuse the patch MLP with torch.compile (about 3.5x faster on CPU; falls back to "
                             "eager PyTorch where compiling fails, e.g. without a C++ compiler)")

    def validate(self) -> None:
        validate_config(self)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {sorted(unknown)}")
        return cls(**{**{k: v for k, v in LEGACY.items() if k not in data}, **data})


def auto_patch(width: int, height: int, detail: float | None = None) -> int:
    """Patch size for a resolution: about 1/5 of the shorter side, a multiple of 8, 16..96; one step of 8
    smaller (not below 16) for detailed footage, ``detail`` below :data:`DETAIL_DB` (train/scenes.py
    :func:`~actinr.train.scenes.detail_db`)."""
    patch = int(min(96, max(16, round(min(width, height) / 5 / 8) * 8)))
    if detail is not None and detail < DETAIL_DB:
        patch = max(16, patch - 8)
    return patch


def auto_batch(batch_at: int, patches_at: int, patches: int) -> int:
    """Pixels per patch and frame of a step with ``patches`` patches that samples as many pixels as
    ``batch_at`` per patch with ``patches_at`` (the layout the resolution alone gives)."""
    return max(1, round(batch_at * patches_at / patches))


def auto_overlap(patch: int) -> int:
    """Overlap for a patch size: 4 pixels (measured at patches 24 and 32), at most a quarter of the patch."""
    return min(4, patch // 4)


def _check(ok: bool, flag: str, rule: str, value) -> None:
    from actinr.engines.errors import ActinrError

    if not ok:
        raise ActinrError(f"{flag} must be {rule}, got {value}")


def validate_config(cfg: TrainConfig) -> None:
    """One-line errors naming the flag for values no fit can use."""
    _check(cfg.start >= 0, "--start", ">= 0", cfg.start)
    _check(cfg.frames is None or cfg.frames >= 1, "--frames", ">= 1", cfg.frames)
    _check(cfg.gop >= 2, "--gop", ">= 2", cfg.gop)
    _check(cfg.gop_span >= 0, "--gop-span", ">= 0", cfg.gop_span)
    _check(cfg.iters >= 1, "--iters", ">= 1", cfg.iters)
    _check(cfg.hidden >= 1, "--hidden", ">= 1", cfg.hidden)
    _check(cfg.layers >= 1, "--layers", ">= 1", cfg.layers)
    _check(cfg.patch == 0 or cfg.patch >= 2, "--patch", "0 (auto) or >= 2", cfg.patch)
    _check(cfg.overlap >= -1, "--overlap", "-1 (auto) or >= 0", cfg.overlap)
    _check(cfg.w0 > 0 and cfg.s0 > 0, "--w0 and --s0", "> 0", (cfg.w0, cfg.s0))
    _check(cfg.lr > 0, "--lr", "> 0", cfg.lr)
    _check(cfg.time_freq > 0, "--time-freq", "> 0", cfg.time_freq)
    _check(cfg.time_bias in TIME_BIAS, "--time-bias", f"one of {', '.join(TIME_BIAS)}", cfg.time_bias)
    _check(cfg.smooth >= 0, "--smooth", ">= 0", cfg.smooth)
    _check(cfg.smooth_order in (1, 2), "--smooth-order", "1 or 2", cfg.smooth_order)
    _check(0 <= cfg.coarse_to_fine < 1, "--coarse-to-fine", "in [0, 1)", cfg.coarse_to_fine)
    _check(0 <= cfg.atom_warmup < 1, "--atom-warmup", "in [0, 1)", cfg.atom_warmup)
    _check(0 < cfg.atom_start <= 1, "--atom-start", "in (0, 1]", cfg.atom_start)
    _check(cfg.guide in GUIDES, "--guide", f"one of {', '.join(GUIDES)}", cfg.guide)
    _check(0 <= cfg.guide_grids <= 16, "--guide-grids", "in [0, 16]", cfg.guide_grids)
    _check(0 <= cfg.guide_flow <= 1, "--guide-flow", "in [0, 1]", cfg.guide_flow)
    _check(0 <= cfg.guide_flow_accel <= 1, "--guide-flow-accel", "in [0, 1]", cfg.guide_flow_accel)
    _check(cfg.guide_flow_sample in FLOW_SAMPLES, "--guide-flow-sample", f"one of {', '.join(FLOW_SAMPLES)}",
           cfg.guide_flow_sample)
    _check(cfg.guide_weight >= 0, "--guide-weight", ">= 0", cfg.guide_weight)
    _check(cfg.guide_split == 0 or cfg.guide_split >= 2, "--guide-split", "0 (auto) or >= 2", cfg.guide_split)
    _check(0 < cfg.guide_share <= 1, "--guide-share", "in (0, 1]", cfg.guide_share)
    _check(cfg.guide_gate >= 0, "--guide-gate", ">= 0", cfg.guide_gate)
    _check(cfg.guide_fade >= 0, "--guide-fade", ">= 0", cfg.guide_fade)
    _check(cfg.guide_motion >= 0, "--guide-motion", ">= 0", cfg.guide_motion)
    _check(cfg.guide_motion_span in MOTION_SPANS, "--guide-motion-span", f"one of {', '.join(MOTION_SPANS)}",
           cfg.guide_motion_span)
    _check(cfg.guide_motion_of in MOTION_OF, "--guide-motion-of", f"one of {', '.join(MOTION_OF)}",
           cfg.guide_motion_of)
    _check(cfg.guide_motion_max >= 1, "--guide-motion-max", ">= 1", cfg.guide_motion_max)
    _check(cfg.shared_weight > 0, "--shared-weight", "> 0", cfg.shared_weight)
    _check(cfg.gop_margin >= 0, "--gop-margin", ">= 0", cfg.gop_margin)
    _check(cfg.gop_shift >= 0, "--gop-shift", ">= 0", cfg.gop_shift)
    _check(0 <= cfg.scene_cut <= 1, "--scene-cut", "in [0, 1]", cfg.scene_cut)
    _check(0 <= cfg.lr_warmup < 1, "--lr-warmup", "in [0, 1)", cfg.lr_warmup)
    _check(0 < cfg.lr_decay <= 1, "--lr-decay", "in (0, 1]", cfg.lr_decay)
    _check(cfg.batch >= 0, "--batch", "0 (auto) or >= 1", cfg.batch)
    _check(cfg.matmul in MATMULS, "--matmul", f"one of {', '.join(MATMULS)}", cfg.matmul)
    _check(cfg.every >= 2, "--every", ">= 2", cfg.every)
    _check(cfg.noise >= 0, "--noise", ">= 0", cfg.noise)
    _check(cfg.task in TASKS, "--task", f"one of {', '.join(TASKS)}", cfg.task)
    _check(cfg.mask in MASKS, "--mask", f"one of {', '.join(MASKS)}", cfg.mask)

