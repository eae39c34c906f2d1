"""``actinr bench``: frames per second of each decoder backend at each output size, against the plain model.

Per backend the decoder is opened once and every GOP's weights are loaded
first (a player keeps them, so steady playback never reloads). Per output
size: a warm-up (kernel selection, CUDA graph capture, grid upload) over the
first times of the run, then ``--frames`` frames at advancing times, each
``1 / --slowmo`` of a source frame after the last (``--slowmo 1``: one source
frame per rendered frame), wrapping at the end of the clip. So the biases
change every frame and GOP switches come as they do in playback.

Each frame is timed alone between device synchronisations: with CUDA events
on a GPU backend (start recorded once the device is idle, end recorded after
the decoder's ``synchronize``), with ``perf_counter`` on the CPU. A row stops
after ``--max-seconds`` of timed frames once it has ``MIN_FRAMES``, so slow
CPU rows end in bounded time; the row records how many frames it timed.

``--display`` sends every frame the player's way to the screen as well: the
decoded frame is uploaded (the CUDA-GL interop copy for a CUDA decoder whose
GL context is on an NVIDIA GPU, else a host upload), drawn and presented with
vsync off, in a player window when there is a display and offscreen otherwise
(EGL, player/offscreen.py). Those stages are timed with ``perf_counter``
after ``glFinish``; display FPS is 1000 / mean(decode + upload + present).

The reference is train/'s PyTorch fp32 model evaluated the plain way
(train/reference.py), on the GPU when GPU backends are benchmarked; every
backend's FPS is also given as a speed-up against it at the same size. This
is the one player module that imports train/, lazily and only for the
reference (``--no-reference`` skips it): a baseline has to be the training
code itself. The playing modules still never import train/ or export/.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.util
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from actinr.engines.errors import ActinrError, missing_package
from actinr.engines.files import write_atomic
from actinr.engines.media import parse_size

SCHEMA = "actinr-bench/1"
SIZE_NAMES = {"360p": (640, 360), "480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080),
              "1440p": (2560, 1440), "2160p": (3840, 2160), "4k": (3840, 2160)}
GPU_SIZES = "720p,1080p,2160p"
CPU_SIZES = "source,720p"
MIN_FRAMES = 10
PAPER_FPS = 59.0  # the decoding speed the ActINR paper reports
GOAL_FPS = 2000.0  # ours at 1080p on one H100-class GPU

BENCH_DESCRIPTION = """\
Measure how fast a bundle decodes (and, with --display, reaches the screen) with each backend at
each output size, next to train/'s plain PyTorch model, and write a table, JSON and a plot.
Without MODEL it measures the demo bundle shipped with actinr."""

BENCH_EPILOG = """\
sizes: WxH, source (the clip's own size), 360p, 480p, 720p, 1080p, 1440p, 2160p (= 4k).
Default: 720p,1080p,2160p when a GPU backend is measured, else source,720p.

examples:
  actinr bench model.engine                               every backend that loads here
  actinr bench model.engine --backends torch-cuda,tensorrt --sizes 1080p --frames 500
  actinr bench model.engine --precision fp32,fp16         a row per precision on GPU backends
  actinr bench model.engine --display --json fps.json --plot fps.png
  actinr bench model.engine --display --save benchmarks/results
                                                          the committed form: JSON, plot and log"""


# --- parsing ------------------------------------------------------------------------------------------


def parse_sizes(text: str, source: tuple[int, int]) -> list[tuple[int, int]]:
    """``--sizes`` -> distinct (w, h) in the given order; ``source`` is the clip's own size."""
    from actinr.engines.decoder import check_size

    sizes: list[tuple[int, int]] = []
    for token in str(text).split(","):
        token = token.strip().lower()
        if token == "source":
            size = tuple(source)
        elif token in SIZE_NAMES:
            size = SIZE_NAMES[token]
        elif re.fullmatch(r"\d+x\d+", token):
            size = parse_size(token, "--sizes")
        else:
            raise ActinrError(f"--sizes: {token!r} is not WxH, source or one of {', '.join(SIZE_NAMES)}")
        try:
            size = check_size(size)
        except ActinrError as exc:
            raise ActinrError(f"--sizes: {exc}") from None
        if size not in sizes:
            sizes.append(size)
    return sizes


def parse_backends(text: str) -> list[str] | None:
    """``--backends`` -> backend names in the given order, or None for auto (every one that loads)."""
    from actinr.engines.backends import BACKENDS

    names = [t.strip().lower() for t in str(text).split(",")]
    if names == ["auto"]:
        return None
    out: list[str] = []
    for name in names:
        if name not in BACKENDS:
            raise ActinrError(f"--backends: unknown backend {name!r} (auto, or a list of: {', '.join(BACKENDS)})")
        if name not in out:
            out.append(name)
    return out


def parse_precisions(text: str) -> list[str]:
    """``--precision`` -> distinct entries of auto, fp32, fp16 in the given order."""
    out: list[str] = []
    for token in str(text).split(","):
        token = token.strip().lower()
        if token not in ("auto", "fp32", "fp16"):
            raise ActinrError(f"--precision: {token!r} is not auto, fp32 or fp16")
        if token not in out:
            out.append(token)
    return out


# --- statistics ---------------------------------------------------------------------------------------


def percentile(values, q: float) -> float:
    """The ``q``-th percentile (0..100), linear between the two nearest ranks (numpy's default)."""
    xs = sorted(float(v) for v in values)
    if not xs:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be in 0..100, got {q}")
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def frame_stats(ms) -> dict:
    """Frame times in ms -> mean, p50/p95/p99, max and FPS (= 1000 / mean)."""
    ms = [float(v) for v in ms]
    mean = sum(ms) / len(ms)
    return {"frames": len(ms), "mean_ms": mean, "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
            "p99_ms": percentile(ms, 99), "max_ms": max(ms), "fps": 1e3 / mean}


def frame_times(fps: float, frames: int, count: int, slowmo: float) -> list[float]:
    """``count`` source times, ``1 / slowmo`` of a frame apart, wrapping after the clip's last frame interval."""
    duration = frames / fps
    return [((k / slowmo) / fps) % duration for k in range(count)]


# --- timing -------------------------------------------------------------------------------------------


class FrameTimer:
    """Times one call between device synchronisations: CUDA events on a CUDA device, else perf_counter."""

    def __init__(self, device: str):
        import torch

        self.cuda = str(device).startswith("cuda")
        self.kind = "cuda-events" if self.cuda else "perf_counter"
        if self.cuda:
            self.start = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)

    def __call__(self, fn, sync) -> tuple[object, float]:
        """Run ``fn()`` and ``sync()`` -> (fn's result, milliseconds)."""
        sync()
        if self.cuda:
            self.start.record()
            out = fn()
            sync()
            self.end.record()
            self.end.synchronize()
            return out, self.start.elapsed_time(self.end)
        t0 = time.perf_counter()
        out = fn()
        sync()
        return out, (time.perf_counter() - t0) * 1e3


# --- the display path ---------------------------------------------------------------------------------


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class DisplayPath:
    """A frame's way from the decoder to the screen, as the player takes it, with vsync off.

    In a player window (:class:`~actinr.player.window.Player`, ``--size`` =
    the render size) when there is a display, else offscreen into a
    framebuffer of the render size; ``context`` is the shared offscreen
    context, made by the caller.
    """

    def __init__(self, dec, size: tuple[int, int], context=None):
        from .config import PlayConfig
        from .gl import Renderer, letterbox
        from .interop import make_uploader

        self.player = self.renderer = None
        if context is None:
            from .window import Player

            try:
                self.player = Player(dec, PlayConfig(size=f"{size[0]}x{size[1]}", vsync=False, osd=False,
                                                     pause=True), window_size=_window_size(size))
            except ActinrError as exc:
                raise ActinrError(f"{exc} (actinr bench: --display --offscreen needs no window)") from None
            self.renderer, self.uploader = self.player.renderer, self.player.uploader
            self.where = f"window {self.player.fb_size[0]}x{self.player.fb_size[1]}"
        else:
            context.resize(size)
            self.renderer = Renderer()
            self.uploader = make_uploader(self.renderer, dec.info.device)
            self.where = f"offscreen {size[0]}x{size[1]}"
            self.fb_size, self.rect = size, letterbox(size, dec.info.width / dec.info.height)
        self.GL = self.renderer.GL
        r = self.renderer
        self.gl = {"where": "window" if self.player else "offscreen (EGL)", "vendor": r.vendor,
                   "renderer": r.renderer, "version": r.version}

    def upload(self, image) -> None:
        self.uploader.upload(image)
        self.GL.glFinish()

    def present(self) -> None:
        if self.player is not None:
            p = self.player
            p.renderer.draw(p.fb_size, p.rect)
            p.present()
        else:
            self.renderer.draw(self.fb_size, self.rect)
        self.GL.glFinish()

    def close(self) -> None:
        if self.player is not None:
            self.player.close()
        else:
            self.uploader.close()
            self.renderer.close()


def _window_size(size: tuple[int, int], limit: tuple[int, int] = (1920, 1080)) -> tuple[int, int]:
    """The render size, shrunk to fit ``limit`` (a 4K render in a window that fits an HD screen)."""
    scale = min(1.0, limit[0] / size[0], limit[1] / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


# --- one row ------------------------------------------------------------------------------------------


def measure(render, sync, device: str, warm: list[float], timed: list[float], max_seconds: float,
            display: DisplayPath | None = None, progress=None) -> dict:
    """Warm up on ``warm``, then time ``render(t)`` (and the display stages) at each of ``timed``."""
    timer = FrameTimer(device)
    start = time.perf_counter()
    for t in warm:
        image = render(t)
        sync()
        if display is not None:
            display.upload(image)
            display.present()
        if time.perf_counter() - start > max_seconds / 4:
            break
    decode, upload, present = [], [], []
    spent = 0.0
    for t in timed:
        image, ms = timer(lambda: render(t), sync)
        decode.append(ms)
        spent += ms / 1e3
        if display is not None:
            t0 = time.perf_counter()
            display.upload(image)
            t1 = time.perf_counter()
            display.present()
            t2 = time.perf_counter()
            upload.append((t1 - t0) * 1e3)
            present.append((t2 - t1) * 1e3)
            spent += t2 - t0
        if progress is not None:
            progress()
        if spent > max_seconds and len(decode) >= MIN_FRAMES:
            break
    row = {"timer": timer.kind, "decode": {**frame_stats(decode), "ms": [round(v, 4) for v in decode]},
           "display": None}
    if display is not None:
        total = [a + b + c for a, b, c in zip(decode, upload, present)]
        row["display"] = {"where": display.where, "gl": display.gl, "upload_path": display.uploader.path,
                          "upload": frame_stats(upload), "present": frame_stats(present),
                          "total": frame_stats(total)}
    return row


# --- what ran where -----------------------------------------------------------------------------------


def _version(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    try:
        return str(importlib.import_module(module).__version__)
    except Exception as exc:  # a broken install is worth recording, not a reason to fail the run
        return f"unimportable ({type(exc).__name__})"


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _nvidia_driver() -> str | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        m = re.search(r"Kernel Module\s+([\d.]+)", Path("/proc/driver/nvidia/version").read_text())
        return m.group(1) if m else None
    except OSError:
        return None


def system_info(gpu: bool) -> dict:
    """Device, driver and library versions for the result file."""
    import torch

    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "os": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "numpy": np.__version__,
            "onnxruntime": _version("onnxruntime"), "tensorrt": _version("tensorrt"),
            "cuda": torch.version.cuda, "gpu": None, "compute_capability": None, "driver": None}
    if gpu and torch.cuda.is_available():
        cc = torch.cuda.get_device_capability()
        info.update(gpu=torch.cuda.get_device_name(), compute_capability=f"{cc[0]}.{cc[1]}", driver=_nvidia_driver())
    info["device"] = info["gpu"] or "cpu"
    return info


def bundle_summary(path, bundle) -> dict:
    m = bundle.manifest
    training = m.get("training") if isinstance(m.get("training"), dict) else {}
    results = training.get("results") if isinstance(training.get("results"), list) else []
    return {"path": str(path), "bytes": bundle.size, "producer": m.get("producer"), "created": m.get("created"),
            "source": m["source"], "patch": m["patch"], "model": m["model"], "gops": len(m["gops"]),
            "precision": m["precision"], "bias": m["bias"],
            "fit_psnr": [r.get("psnr") for r in results if isinstance(r, dict)],
            "plans": [dict(s.meta) for s in bundle.plans]}


def device_slug(system: dict) -> str:
    """``cpu`` or the GPU's name in file-name form, e.g. ``nvidia-h100-80gb-hbm3``."""
    return re.sub(r"[^a-z0-9]+", "-", system["device"].lower()).strip("-") or "cpu"


# --- output -------------------------------------------------------------------------------------------


def format_row(row: dict) -> str:
    d = row["decode"]
    if d is None:
        return f"{row['size']:>10s}  {row['backend']:<17s} {row['precision']:<5s} {row['error']}"
    text = (f"{row['size']:>10s}  {row['backend']:<17s} {row['precision']:<5s} {d['frames']:6d} {d['mean_ms']:9.2f} "
            f"{d['p50_ms']:9.2f} {d['p95_ms']:9.2f} {d['p99_ms']:9.2f} {d['max_ms']:9.2f} {d['fps']:9.1f} "
            + (f"{row['speedup']:7.1f}x" if row["speedup"] is not None else f"{'-':>8s}"))
    if row["display"] is not None:
        s = row["display"]
        text += (f"  {s['upload']['mean_ms']:8.2f} {s['present']['mean_ms']:8.2f} {s['total']['fps']:9.1f}")
    return text


def table_header(display: bool) -> str:
    head = (f"{'size':>10s}  {'backend':<17s} {'prec':<5s} {'frames':>6s} {'mean ms':>9s} {'p50':>9s} {'p95':>9s} "
            f"{'p99':>9s} {'max':>9s} {'FPS':>9s} {'vs ref':>8s}")
    if display:
        head += f"  {'upload':>8s} {'present':>8s} {'disp FPS':>9s}"
    return head


def write_plot(result: dict, path) -> None:
    """FPS against output pixels per backend, log-log, with the paper's speed and our goal marked."""
    try:
        import matplotlib
    except ImportError:
        raise missing_package("matplotlib", "bench") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5), dpi=120)
    series: dict[tuple[str, str], list] = {}
    for row in result["rows"]:
        if row["decode"] is not None:
            series.setdefault((row["backend"], row["precision"]), []).append((row["pixels"], row["decode"]["fps"]))
            if row["display"] is not None:
                series.setdefault((row["backend"] + " + display", row["precision"]), []).append(
                    (row["pixels"], row["display"]["total"]["fps"]))
    colours = {}
    for (name, prec), points in series.items():
        points.sort()
        backend = name.split(" + ")[0]
        colour = colours.setdefault((backend, prec), f"C{len(colours) % 10}")  # its display line shares it
        style = "--" if name == "reference" else ":" if name != backend else "-"
        ax.plot([p for p, _ in points], [f for _, f in points], style, color=colour, marker="o",
                label=f"{name} ({prec})")
    for fps, label in ((PAPER_FPS, f"ActINR paper: {PAPER_FPS:g} FPS"), (GOAL_FPS, f"our goal: {GOAL_FPS:g} FPS")):
        ax.axhline(fps, color="grey", linewidth=0.8, linestyle="-.")
        ax.annotate(label, (0.01, fps), xycoords=("axes fraction", "data"), fontsize=8, color="grey",
                    va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    sizes = sorted({(r["pixels"], r["size"]) for r in result["rows"] if r["decode"] is not None})
    ax.set_xticks([p for p, _ in sizes], [label for _, label in sizes], rotation=30, fontsize=8)
    ax.minorticks_off()
    ax.set_xlabel("output size (pixels per frame, log scale)")
    ax.set_ylabel("frames per second")
    b, s = result["bundle"], result["system"]
    ax.set_title(f"actinr bench: {b['source']['name']} on {s['device']}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    finally:
        plt.close(fig)


def write_json(result: dict, path) -> None:
    text = json.dumps(result, indent=2) + "\n"
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


# --- the command --------------------------------------------------------------------------------------


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", help="a .engine bundle from actinr export (default: the demo bundle)")
    parser.add_argument("--backends", default="auto", metavar="auto|NAME,...",
                        help="auto (default: every backend that loads here, each skipped one with its reason) or "
                             "a list of tensorrt, onnxruntime-cuda, torch-cuda, torch-cpu, onnxruntime-cpu")
    parser.add_argument("--sizes", default=None, metavar="LIST",
                        help=f"output sizes, e.g. 720p,1080p,2160p,640x360 (default: {GPU_SIZES} with a GPU "
                             f"backend, else {CPU_SIZES})")
    parser.add_argument("--frames", type=int, default=200, metavar="N", help="timed frames per row (default 200)")
    parser.add_argument("--warmup", type=int, default=10, metavar="N", help="untimed frames first (default 10)")
    parser.add_argument("--slowmo", type=float, default=1.0, metavar="N",
                        help="advance 1/N of a source frame per rendered frame, as --slowmo N plays "
                             "(default 1: a new source frame every frame)")
    parser.add_argument("--precision", default="auto", metavar="auto|fp32|fp16,...",
                        help="decoder precisions, e.g. fp32,fp16 for a row of each: auto (default: the bundle's "
                             "on GPU backends, fp32 on the CPU), fp32, fp16 (GPU backends)")
    parser.add_argument("--max-seconds", type=float, default=30.0, metavar="S",
                        help=f"end a row after S seconds of timed frames once it has {MIN_FRAMES} (default 30)")
    parser.add_argument("--display", action="store_true",
                        help="also upload and present every frame the player's way (vsync off) and time each "
                             "stage: in a window when there is a display, else offscreen")
    parser.add_argument("--offscreen", action="store_true", help="with --display: offscreen (EGL) even with a display")
    parser.add_argument("--no-reference", dest="reference", action="store_false",
                        help="skip the plain PyTorch baseline (no speed-up column)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="write a PNG of FPS against output pixels (log-log)")
    parser.add_argument("--save", metavar="DIR",
                        help="write DIR/<date>-<device>-bench-<model>.json, .png and .log (the printed table)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _check_args(args) -> None:
    if args.frames < 1:
        raise ActinrError(f"--frames must be at least 1, got {args.frames}")
    if args.warmup < 0:
        raise ActinrError(f"--warmup must be 0 or more, got {args.warmup}")
    for flag, v in (("--slowmo", args.slowmo), ("--max-seconds", args.max_seconds)):
        if not (math.isfinite(v) and v > 0):
            raise ActinrError(f"{flag} must be a positive number, got {v:g}")
    if args.offscreen and not args.display:
        raise ActinrError("--offscreen is a way of --display; give both")
    if args.plot and Path(args.plot).suffix.lower() != ".png":
        raise ActinrError(f"--plot writes PNG; give a .png file name, got {args.plot}")
    for flag, path in (("--json", args.json), ("--plot", args.plot)):
        if path and Path(path).is_dir():
            raise ActinrError(f"{flag} {path}: is a folder; give a file name")
    if args.save and Path(args.save).exists() and not Path(args.save).is_dir():
        raise ActinrError(f"--save {args.save}: not a folder")
    if (args.plot or args.save) and importlib.util.find_spec("matplotlib") is None:
        raise missing_package("matplotlib", "bench")  # said now, not after the whole run


def _backend_plan(names: list[str] | None, precisions: list[str],
                  bundle_precision: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """((backend, device, precision) to measure, why others were not): for each named backend (each of which
    must load, in at least one of the precisions) or every backend that loads, each precision it decodes."""
    from actinr.engines.backends import BACKENDS, backend_class
    from actinr.engines.decoder import auto_precision, check_precision

    plan, skipped = [], []
    for name in names or list(BACKENDS):
        cls = backend_class(name)
        device = "cuda" if cls.gpu else "cpu"
        try:
            cls.probe(device)
        except ActinrError as exc:
            if names is not None:
                raise
            skipped.append(str(exc))
            continue
        wanted = []
        for p in precisions:
            p = auto_precision(cls, bundle_precision) if p == "auto" else p
            try:
                check_precision(cls, p)
            except ActinrError as exc:
                skipped.append(str(exc))
                continue
            if p not in wanted:
                wanted.append(p)
        if not wanted and names is not None:
            raise ActinrError(skipped[-1])
        plan += [(name, device, p) for p in wanted]
    if not plan:
        raise ActinrError("no backend can run here: " + "; ".join(skipped))
    return plan, skipped


def _command_line(args) -> str:
    """The run's settings as one ``actinr bench`` command (for the result file)."""
    parts = ["actinr bench", args.model or "(demo)", "--backends", args.backends]
    if args.sizes:
        parts += ["--sizes", args.sizes]
    parts += ["--frames", str(args.frames), "--warmup", str(args.warmup), "--slowmo", f"{args.slowmo:g}",
              "--precision", args.precision, "--max-seconds", f"{args.max_seconds:g}"]
    parts += [flag for flag, on in (("--display", args.display), ("--offscreen", args.offscreen),
                                    ("--no-reference", not args.reference)) if on]
    return " ".join(parts)


def _bar(args, desc: str, total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame", leave=False, file=sys.stderr,
                disable=True if args.quiet else None)


def _open(name: str, device: str, path, precision: str):
    """The decoder for one group of rows: a backend, or train/'s model for ``reference``."""
    if name == "reference":
        from actinr.train.reference import ReferenceDecoder  # the one import of train/ (see the docstring)

        return ReferenceDecoder(path, device)
    import actinr.engines as E

    return E.open(path, backend=name, device=device, precision=precision)


def _row(name, device, precision, dec, size, warm, timed, args, context) -> dict:
    import torch

    row = {"backend": name, "device": device, "precision": precision, "size": f"{size[0]}x{size[1]}",
           "width": size[0], "height": size[1], "pixels": size[0] * size[1], "error": None}
    display = None
    bar = _bar(args, f"{name} {row['size']}", len(timed))
    try:
        if args.display and name != "reference":
            display = DisplayPath(dec, size, context)
        row.update(measure(lambda t: dec.render(t, size), dec.synchronize, device, warm, timed, args.max_seconds,
                           display, bar.update))
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        row.update(timer=None, decode=None, display=None, error="out of GPU memory")
    finally:
        bar.close()
        if display is not None:
            display.close()
    return row


def _summary(result: dict, say) -> None:
    """The fastest backend per size, and at 1080p the distance to the paper's speed and to our goal."""
    lines = []
    for label in result["settings"]["sizes"]:
        rows = [r for r in result["rows"] if r["size"] == label and r["decode"] and r["backend"] != "reference"]
        if not rows:
            continue
        best = max(rows, key=lambda r: r["decode"]["fps"])
        fps = best["decode"]["fps"]
        line = f"{label}: fastest {best['backend']} ({best['precision']}) {fps:.1f} FPS"
        if best["speedup"] is not None:
            line += f", {best['speedup']:.1f}x the reference"
        if label == "1920x1080":
            line += f"; {fps / PAPER_FPS:.2f}x the paper's {PAPER_FPS:g} FPS, {fps / GOAL_FPS:.2f}x our {GOAL_FPS:g} FPS goal"
        lines.append(line)
    result["summary"] = lines
    if lines:
        say()
        for line in lines:
            say(line)


def _write_outputs(result: dict, args, path: Path, log_lines: list[str], say) -> None:
    outputs = []
    if args.json:
        outputs.append(("json", Path(args.json)))
    if args.plot:
        outputs.append(("plot", Path(args.plot)))
    log = None
    if args.save:
        stem = f"{result['date'][:10]}-{device_slug(result['system'])}-bench-{path.stem}"
        outputs += [("json", Path(args.save) / f"{stem}.json"), ("plot", Path(args.save) / f"{stem}.png")]
        log = Path(args.save) / f"{stem}.log"
    if outputs:
        say()
    try:
        for kind, out in outputs:
            (write_json if kind == "json" else write_plot)(result, out)
            say(f"wrote {out}")
        if log is not None:
            out = log
            say(f"wrote {log}")
            text = "\n".join(log_lines) + "\n"
            write_atomic(log, lambda tmp: Path(tmp).write_text(text))
    except OSError as exc:
        raise ActinrError(f"{out}: cannot write ({exc.strerror or exc})") from None


def run_bench(args: argparse.Namespace) -> int:
    import torch

    from actinr.engines import bundle as B

    from .cli import DEMO

    _check_args(args)
    names = parse_backends(args.backends)
    precisions = parse_precisions(args.precision)
    path = Path(args.model) if args.model else DEMO
    bundle = B.load(path)
    m = bundle.manifest
    src = m["source"]
    log_lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        log_lines.append(line)

    plan, skipped = _backend_plan(names, precisions, m["precision"])
    gpu = any(dev.startswith("cuda") for _, dev, _ in plan)
    sizes = parse_sizes(args.sizes or (GPU_SIZES if gpu else CPU_SIZES), (src["width"], src["height"]))
    times = frame_times(float(src["fps"]), int(src["frames"]), args.warmup + args.frames, args.slowmo)
    warm, timed = times[:args.warmup], times[args.warmup:]
    system = system_info(gpu)
    result = {
        "schema": SCHEMA, "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": _command_line(args), "system": system, "bundle": bundle_summary(path, bundle),
        "settings": {"frames": args.frames, "warmup": args.warmup, "slowmo": args.slowmo,
                     "max_seconds": args.max_seconds, "min_frames": MIN_FRAMES, "precision": args.precision,
                     "display": args.display, "sizes": [f"{w}x{h}" for w, h in sizes]},
        "skipped": skipped, "gl": None, "reference": None, "rows": [], "summary": [],
    }
    bundle.close()
    say(f"actinr bench {path}: {src['name']} {src['width']}x{src['height']} @ {src['fps']:.3f} fps, "
        f"{src['frames']} frames in {len(m['gops'])} GOPs, {m['patch']['count']} patches, h {m['model']['hidden']}, "
        f"{m['precision']}")
    say(f"on {system['device']} ({system['cpu']}, {system['cores']} cores; torch {system['torch']}"
        + (f", CUDA {system['cuda']}, driver {system['driver']}" if system["gpu"] else "") + ")")
    say(f"{args.frames} frames per row (fewer, but {MIN_FRAMES} or more, after {args.max_seconds:g} s), "
        f"{args.warmup} warm-up, {1 / args.slowmo:g} source frame per rendered frame")
    for line in skipped:
        say(f"skipped: {line}")

    context = None
    if args.display and (args.offscreen or not _has_display()):
        from .offscreen import OffscreenGL

        context = OffscreenGL(sizes[0], prefer_cuda=gpu)
    try:
        say()
        say(table_header(args.display))
        runs = ([("reference", "cuda" if gpu else "cpu", "fp32")] if args.reference else []) + plan
        ref_fps: dict[str, float] = {}
        for name, dev, precision in runs:
            dec = _open(name, dev, path, precision)
            if name == "reference":
                result["reference"] = {"model": "actinr.train.model.GOPModel", "device": dev, "precision": "fp32",
                                       "biases": dec.biases, "batch": "one frame time, every patch in one call"}
            try:
                dec.preload()
                for size in sizes:
                    row = _row(name, dev, precision, dec, size, warm, timed, args, context)
                    fps = row["decode"]["fps"] if row["decode"] else None
                    if name == "reference" and fps:
                        ref_fps[row["size"]] = fps
                    ref = ref_fps.get(row["size"])
                    row["speedup"] = fps / ref if fps and ref else None
                    result["rows"].append(row)
                    say(format_row(row))
                    if row["display"] is not None and result["gl"] is None:
                        result["gl"] = row["display"]["gl"]
            finally:
                dec.close()
                if dev.startswith("cuda"):
                    torch.cuda.empty_cache()
    finally:
        if context is not None:
            context.close()
    _summary(result, say)
    _write_outputs(result, args, path, log_lines, say)
    return 0

