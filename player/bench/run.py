"""The ``actinr bench`` command: which backends, precisions and options to measure, and the run itself.

The measurement is described in this package's docstring (player/bench/__init__.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
from pathlib import Path
from typing import NamedTuple

from actinr.engines.config import add_config_flags, command_line, config_from_args
from actinr.engines.errors import ActinrError
from actinr.engines.files import check_output, write_text

from .config import CPU_SIZES, GPU_SIZES, MIN_FRAMES, BenchConfig, parse_backends, parse_precisions, parse_sizes
from .display import DisplayPath, has_display
from .report import SCHEMA, bundle_summary, format_row, label, summary, table_header, write_json, write_plot
from .stats import frame_times
from .system import device_slug, system_info
from .timing import measure

DESCRIPTION = """\
Measure how fast a bundle decodes (and, with --display, reaches the screen) with each backend at
each output size, next to train/'s plain PyTorch model, and write a table, JSON and a plot.
Without MODEL it measures the demo bundle shipped with actinr."""

EPILOG = """\
sizes: WxH, source (the clip's own size), 360p, 480p, 720p, 1080p, 1440p, 2160p (= 4k).
Default: 720p,1080p,2160p when a GPU backend is measured, else source,720p.

examples:
  actinr bench model.engine                               every backend that loads here
  actinr bench model.engine --backends torch-cuda,tensorrt --sizes 1080p --frames 500
  actinr bench model.engine --precision fp32,fp16         a row per precision on GPU backends
  actinr bench model.engine --sweep --sizes 176x144,640x360   the backends' tuning options, a row each
  actinr bench model.engine --display --json fps.json --plot fps.png
  actinr bench model.engine --display --save benchmarks/results
                                                          the committed form: JSON, plot and log"""


class Entry(NamedTuple):
    """One group of rows: a backend on a device in a precision, with options (``--sweep``) or its defaults."""

    backend: str
    device: str
    precision: str
    options: dict


def backend_plan(names: list[str] | None, precisions: list[str], bundle_precision: str,
                 sweep: bool = False) -> tuple[list[Entry], list[str]]:
    """(what to measure, why others were not): for each named backend (each of which must load, in at least
    one of the precisions) or every backend that loads, each precision it decodes; with ``sweep``, also each
    value of its tuning options (``Backend.sweep``; the first value is the default)."""
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
        options = [{}]
        if sweep:
            options += [{k: v} for k, values in cls.sweep.items() for v in values[1:]] + list(cls.sweep_pairs)
        plan += [Entry(name, device, p, opts) for p in wanted for opts in options]
    if not plan:
        raise ActinrError("no backend can run here: " + "; ".join(skipped))
    return plan, skipped


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    parser.add_argument("model", nargs="?", help="a .engine bundle from actinr export (default: the demo bundle)")
    add_config_flags(parser, BenchConfig)


def _bar(cfg: BenchConfig, desc: str, total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame", leave=False, file=sys.stderr,
                disable=True if cfg.quiet else None)


def _open(entry: Entry, path):
    """The decoder for one group of rows: a backend, or train/'s model for ``reference``."""
    if entry.backend == "reference":
        from actinr.train.render import BundleRenderer  # the one import of train/ (see the package docstring)

        return BundleRenderer(path, entry.device)
    import actinr.engines as E

    return E.open(path, backend=entry.backend, device=entry.device, precision=entry.precision, **entry.options)


def _row(entry: Entry, dec, size, warm, timed, cfg: BenchConfig, context) -> dict:
    import torch

    row = {"backend": entry.backend, "options": entry.options, "device": entry.device, "precision": entry.precision,
           "size": f"{size[0]}x{size[1]}", "width": size[0], "height": size[1], "pixels": size[0] * size[1],
           "error": None}
    render = dec.render_time if entry.backend == "reference" else dec.render
    display = None
    bar = _bar(cfg, f"{label(row)} {row['size']}", len(timed))
    try:
        if cfg.display and entry.backend != "reference":
            display = DisplayPath(dec, size, context)
        row.update(measure(lambda t: render(t, size), dec.synchronize, entry.device, warm, timed, cfg.max_seconds,
                           display, bar.update))
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        row.update(timer=None, decode=None, display=None, error="out of GPU memory")
    except ActinrError:  # a user's mistake (a display that cannot open, ...): the command stops with its line
        raise
    except Exception as exc:  # noqa: BLE001 (a row that fails, e.g. a kernel variant that does not build, is
        # recorded with its reason and the other rows still run; the command then exits 1)
        reason = (str(exc).strip().splitlines() or [""])[0][:300]
        row.update(timer=None, decode=None, display=None, error=f"failed: {type(exc).__name__}: {reason}")
    finally:
        bar.close()
        if display is not None:
            display.close()
    return row


def _write_outputs(result: dict, cfg: BenchConfig, path: Path, log_lines: list[str], say) -> None:
    outputs = []
    if cfg.json:
        outputs.append(("json", Path(cfg.json)))
    if cfg.plot:
        outputs.append(("plot", Path(cfg.plot)))
    log = None
    if cfg.save:
        stem = f"{result['date'][:10]}-{device_slug(result['system'])}-bench-{path.stem}"
        outputs += [("json", Path(cfg.save) / f"{stem}.json"), ("plot", Path(cfg.save) / f"{stem}.png")]
        log = Path(cfg.save) / f"{stem}.log"
    if outputs:
        say()
    # Each write is atomic and reports its own fault on one line (engines/files.py).
    for kind, out in outputs:
        (write_json if kind == "json" else write_plot)(result, out)
        say(f"wrote {out}")
    if log is not None:
        say(f"wrote {log}")
        write_text(log, "\n".join(log_lines) + "\n")


def run_bench(args: argparse.Namespace) -> int:
    cfg = config_from_args(BenchConfig, args)
    cfg.validate()
    return bench(cfg)


def bench(cfg: BenchConfig) -> int:
    """Measure what ``cfg`` asks for, print the table and write the files it names."""
    import torch

    from actinr.engines.bundle import load

    from ..cli import DEMO

    path = Path(cfg.model) if cfg.model else DEMO
    # Every output is checked before anything is measured, so a bad path fails now, not after the timings.
    for flag, out in (("--json", cfg.json), ("--plot", cfg.plot)):
        if out:
            check_output(out, what=flag)
    if cfg.save:
        check_output(cfg.save, folder=True, what="--save")
    bundle = load(path)
    m = bundle.manifest
    src = m.source
    log_lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        log_lines.append(line)

    plan, skipped = backend_plan(parse_backends(cfg.backends), parse_precisions(cfg.precision), m.precision,
                                 cfg.sweep)
    gpu = any(e.device.startswith("cuda") for e in plan)
    sizes = parse_sizes(cfg.sizes or (GPU_SIZES if gpu else CPU_SIZES), (src.width, src.height))
    times = frame_times(src.fps, src.frames, cfg.warmup + cfg.frames, cfg.slowmo)
    warm, timed = times[:cfg.warmup], times[cfg.warmup:]
    system = system_info(gpu)
    result = {
        "schema": SCHEMA, "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command_line("actinr bench", cfg, positional=("model",)), "config": dataclasses.asdict(cfg),
        "system": system, "bundle": bundle_summary(path, bundle),
        "settings": {"frames": cfg.frames, "warmup": cfg.warmup, "slowmo": cfg.slowmo,
                     "max_seconds": cfg.max_seconds, "min_frames": MIN_FRAMES, "precision": cfg.precision,
                     "display": cfg.display, "sizes": [f"{w}x{h}" for w, h in sizes]},
        "skipped": skipped, "gl": None, "reference": None, "rows": [], "summary": [],
    }
    bundle.close()
    say(f"actinr bench {path}: {src.name} {src.width}x{src.height} @ {src.fps:.3f} fps, {src.frames} frames in "
        f"{len(m.gops)} GOPs, {m.patches} patches, h {m.model.hidden}, {m.precision}")
    say(f"on {system['device']} ({system['cpu']}, {system['cores']} cores; torch {system['torch']}"
        + (f", CUDA {system['cuda']}, driver {system['driver']}" if system["gpu"] else "") + ")")
    say(f"{cfg.frames} frames per row (fewer, but {MIN_FRAMES} or more, after {cfg.max_seconds:g} s), "
        f"{cfg.warmup} warm-up, {1 / cfg.slowmo:g} source frame per rendered frame")
    for line in skipped:
        say(f"skipped: {line}")

    context = None
    stopped = None
    if cfg.display and (cfg.offscreen or not has_display()):
        from ..offscreen import OffscreenGL

        context = OffscreenGL(sizes[0], prefer_cuda=gpu)
    try:
        runs = ([Entry("reference", "cuda" if gpu else "cpu", "fp32", {})] if cfg.reference else []) + plan
        width = max(17, *(len(label(e._asdict())) for e in runs))
        say()
        say(table_header(cfg.display, width))
        ref_fps: dict[str, float] = {}
        for entry in runs:
            dec = _open(entry, path)
            if entry.backend == "reference":
                result["reference"] = {"model": "actinr.train.model.GOPModel",
                                       "renderer": "actinr.train.render.BundleRenderer", "device": entry.device,
                                       "precision": "fp32", "biases": dec.bias_source,
                                       "batch": "one frame time, every patch in one call"}
            try:
                dec.preload()
                for size in sizes:
                    row = _row(entry, dec, size, warm, timed, cfg, context)
                    fps = row["decode"]["fps"] if row["decode"] else None
                    if entry.backend == "reference" and fps:
                        ref_fps[row["size"]] = fps
                    ref = ref_fps.get(row["size"])
                    row["speedup"] = fps / ref if fps and ref else None
                    result["rows"].append(row)
                    say(format_row(row, width))
                    if row["display"] is not None and result["gl"] is None:
                        result["gl"] = row["display"]["gl"]
            finally:
                dec.close()
                if entry.device.startswith("cuda"):
                    torch.cuda.empty_cache()
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through engines/signals.py (a time limit's stop)
        stopped = exc
        result["stopped"] = str(exc) or "SIGINT"
        say()
        say(f"stopped ({result['stopped']}): writing the {len(result['rows'])} rows measured so far")
    finally:
        if context is not None:
            context.close()
    failed = [r for r in result["rows"] if (r["error"] or "").startswith("failed")]
    if failed:
        say()
        say(f"{len(failed)} row(s) failed: " + "; ".join(f"{label(r)} {r['precision']} {r['size']}" for r in failed))
    summary(result, say)
    _write_outputs(result, cfg, path, log_lines, say)
    if stopped is not None:
        raise stopped
    return 1 if failed else 0
