"""The results of ``actinr bench``: the printed table, the JSON and the plot."""

from __future__ import annotations

import json
from pathlib import Path

from actinr.engines.errors import optional_import
from actinr.engines.files import write_atomic
from actinr.engines.manifest import layout_json

SCHEMA = "actinr-bench/1"
PAPER_FPS = 59.0  # the decoding speed the ActINR paper reports
GOAL_FPS = 2000.0  # ours at 1080p on one H100-class GPU


def label(row: dict) -> str:
    """A row's backend with its swept options, e.g. ``torch-cpu:chunk_points=2048``."""
    opts = row.get("options") or {}
    return row["backend"] + "".join(f":{k}={v}" for k, v in opts.items())


def bundle_summary(path, bundle) -> dict:
    """What the result file records about the bundle measured."""
    m = bundle.manifest
    return {"path": str(path), "bytes": bundle.size, "producer": m.producer, "created": m.created,
            "source": m.source.to_json(), "patch": layout_json(m.layout), "model": m.model.to_json(),
            "gops": len(m.gops), "precision": m.precision, "bias": m.bias.to_json(), "fit_psnr": m.training.psnr,
            "plans": [{"name": p.name, **p.meta()} for p in m.plans]}


def format_row(row: dict, width: int = 17) -> str:
    """One table line; ``width`` is the backend column's (the longest label of the run)."""
    d = row["decode"]
    if d is None:
        return f"{row['size']:>10s}  {label(row):<{width}s} {row['precision']:<5s} {row['error']}"
    text = (f"{row['size']:>10s}  {label(row):<{width}s} {row['precision']:<5s} {d['frames']:6d} {d['mean_ms']:9.2f} "
            f"{d['p50_ms']:9.2f} {d['p95_ms']:9.2f} {d['p99_ms']:9.2f} {d['max_ms']:9.2f} {d['fps']:9.1f} "
            + (f"{row['speedup']:7.1f}x" if row["speedup"] is not None else f"{'-':>8s}"))
    if row["display"] is not None:
        s = row["display"]
        text += (f"  {s['upload']['mean_ms']:8.2f} {s['present']['mean_ms']:8.2f} {s['total']['fps']:9.1f}")
    return text


def table_header(display: bool, width: int = 17) -> str:
    head = (f"{'size':>10s}  {'backend':<{width}s} {'prec':<5s} {'frames':>6s} {'mean ms':>9s} {'p50':>9s} {'p95':>9s} "
            f"{'p99':>9s} {'max':>9s} {'FPS':>9s} {'vs ref':>8s}")
    if display:
        head += f"  {'upload':>8s} {'present':>8s} {'disp FPS':>9s}"
    return head


def write_plot(result: dict, path) -> None:
    """FPS against output pixels per backend, log-log, with the paper's speed and our goal marked."""
    matplotlib = optional_import("matplotlib", "bench")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5), dpi=120)
    series: dict[tuple[str, str], list] = {}
    for row in result["rows"]:
        if row["decode"] is not None:
            series.setdefault((label(row), row["precision"]), []).append((row["pixels"], row["decode"]["fps"]))
            if row["display"] is not None:
                series.setdefault((label(row) + " + display", row["precision"]), []).append(
                    (row["pixels"], row["display"]["total"]["fps"]))
    colours = {}
    for (name, prec), points in series.items():
        points.sort()
        backend = name.split(" + ")[0]
        colour = colours.setdefault((backend, prec), f"C{len(colours) % 10}")  # its display line shares it
        style = "--" if name == "reference" else ":" if name != backend else "-"
        ax.plot([p for p, _ in points], [f for _, f in points], style, color=colour, marker="o",
                label=f"{name} ({prec})")
    for fps, text in ((PAPER_FPS, f"ActINR paper: {PAPER_FPS:g} FPS"), (GOAL_FPS, f"our goal: {GOAL_FPS:g} FPS")):
        ax.axhline(fps, color="grey", linewidth=0.8, linestyle="-.")
        ax.annotate(text, (0.01, fps), xycoords=("axes fraction", "data"), fontsize=8, color="grey",
                    va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    sizes = sorted({(r["pixels"], r["size"]) for r in result["rows"] if r["decode"] is not None})
    ax.set_xticks([p for p, _ in sizes], [size for _, size in sizes], rotation=30, fontsize=8)
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


def summary(result: dict, say) -> None:
    """The fastest backend per size, and at 1080p the distance to the paper's speed and to our goal."""
    lines = []
    for size in result["settings"]["sizes"]:
        rows = [r for r in result["rows"] if r["size"] == size and r["decode"] and r["backend"] != "reference"]
        if not rows:
            continue
        best = max(rows, key=lambda r: r["decode"]["fps"])
        fps = best["decode"]["fps"]
        line = f"{size}: fastest {label(best)} ({best['precision']}) {fps:.1f} FPS"
        if best["speedup"] is not None:
            line += f", {best['speedup']:.1f}x the reference"
        if size == "1920x1080":
            line += (f"; {fps / PAPER_FPS:.2f}x the paper's {PAPER_FPS:g} FPS, "
                     f"{fps / GOAL_FPS:.2f}x our {GOAL_FPS:g} FPS goal")
        lines.append(line)
    result["summary"] = lines
    if lines:
        say()
        for line in lines:
            say(line)
