"""``make gpu-check``: every GPU check of the project in one call, for a machine that has a CUDA GPU for a while.

Assumes the packages such a machine comes with (torch with CUDA, Triton, cuda-bindings, CuPy, a CPU
onnxruntime; no TensorRT, no internet, no display) and leaves them alone:

1. **environment**: Python, torch, CUDA, Triton, the GPU and its driver, into the log;
2. **install**: the project with ``pip install --no-deps --no-build-isolation -e .`` (torch untouched), then
   each missing runtime or test dependency (PyAV, GLFW, PyOpenGL, ...) from wheels in ``.whl/`` when there
   are any (``make gpu-wheels`` downloads them on a machine with internet), else from PyPI;
   OpenGL's loaders from ``.gl/*.deb`` when EGL is missing (``make gpu-wheels`` fetches those too);
3. **tests**: every test that runs a GPU path: torch-cuda and triton against engines' fp32 math at every
   view (tests/engines/test_decoder.py, tests/engines/test_triton.py, 1080p and 4K included), the backend
   choice, the CUDA-GL interop in an EGL context (tests/player/test_interop.py) and bench's GPU rows;
4. **fit**: a bundle at 1920x1080 (5 carphone frames resized, one GOP, 300 steps on the GPU, fp16 export);
5. **parity**: triton fp32 / fp32 with TF32 products / fp16 and torch-cuda fp32 / fp16 against
   ``Decoder.reference`` (engines' fp32 math on the GPU) at 1920x1080 on both bundles: the share of pixels
   1 LSB off and more than 1 LSB off, and the largest difference;
6. **bench**: ``actinr bench`` with torch-cuda and triton, fp32 and fp16, at 1280x720, 1920x1080 and
   3840x2160, on the demo bundle and on the 1080p bundle; then, in the time left (about a minute), the
   triton tuning sweep (``--sweep``: tile size, warps, TF32, fast sin/cos, tiles per program) at 1080p in fp16;
7. **summary**: one line per (bundle, backend, precision, size) with FPS and p99, the sweep's rows and its
   fastest against the defaults (the default to change to, if any), and the issue's targets
   (triton fp16 at 1080p >= 2000 FPS with p99 < 1 ms, at 4K >= 500 FPS, >= 5x torch-cuda fp16 at 1080p),
   each met or missed by how much.

Everything goes into one folder, ``$OUT`` when set, else benchmarks/results/:
``<date>-<device>-gpu-check.log`` (the raw log of every step), ``...-gpu-check.json`` (steps, parity,
summary, targets), per bundle ``...-bench-<bundle>.json`` and ``.png`` (the bench's own), and
``...-bench-sweep.json`` (7 files: the device tool brings back at most 8). The whole run
keeps inside ``--budget`` seconds (default 450, under the issue's 8 minutes): each step's time limit is what
is left, and a step that fails or runs out is recorded and the next one still runs. A step out of time gets
SIGTERM and ``GRACE_SECONDS`` to stop (``actinr bench`` then writes the rows it has measured, so a slow
bench row costs the rows after it, not the whole table), then SIGKILL.

``--rehearse`` runs the same steps on a machine without a GPU, small: the install as ``pip --dry-run``, one
triton test in Triton's interpreter, a 96x54 fit, parity through the interpreter and a torch-cpu bench, so
the script's plumbing is checked before a GPU's minutes are spent on it (tests/test_gpu_check.py runs it).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT / "tests" / "data" / "carphone.mp4"
DEMO = ROOT / "player" / "data" / "demo.engine"
# Import name -> pip name of what the steps need beyond torch: the package's own dependencies and the tests'.
NEEDS = {"numpy": "numpy", "av": "av", "safetensors": "safetensors", "tqdm": "tqdm", "PIL": "pillow",
         "onnx": "onnx", "glfw": "glfw", "OpenGL": "PyOpenGL", "pytest": "pytest", "onnxruntime": "onnxruntime",
         "matplotlib": "matplotlib", "triton": "triton",
         # the guide's optical flow (training, and the tests' fixtures); in the GPU image's package list already
         "cv2": "opencv-python-headless"}
# The tests with a GPU path (pytest -k over these files); test_triton.py is taken whole.
TEST_FILES = ["tests/engines/test_triton.py", "tests/engines/test_decoder.py", "tests/player/test_interop.py",
              "tests/player/test_bench.py"]
TEST_SELECT = "triton or cuda or interop or auto or gpu or slot_plan"
SWEEP_SECONDS = 90  # the tuning sweep after the benchmarks (block_points, num_warps, tf32, fast_math,
# tiles_per_program, then the pairs: 15 rows, each a JIT compile and about a second of frames)
TARGETS = {"fps_1080p": 2000.0, "p99_1080p_ms": 1.0, "fps_2160p": 500.0, "speedup_1080p": 5.0}


class Log:
    """Every line to stdout and to the raw log file."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = path.open("w", encoding="utf-8")

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.fh.write(text + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


class Clock:
    """What is left of the budget; each step gets the rest minus what the steps after it are promised."""

    def __init__(self, budget: float):
        self.start, self.budget = time.monotonic(), budget

    def left(self, reserve: float = 0.0) -> float:
        return self.budget - (time.monotonic() - self.start) - reserve


GRACE_SECONDS = 10  # after its time limit a step gets SIGTERM and this long to write what it has, then SIGKILL


def run(log: Log, cmd: list[str], limit: float, env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Run ``cmd`` with its output in the log; stop it after ``limit`` seconds. -> {cmd, rc, seconds}.

    The output is read on a thread, so a step that hangs without printing is stopped on time too. A step out of
    time gets SIGTERM first: ``actinr`` commands stop on it cleanly (``actinr bench`` writes the rows it has
    measured), then, after ``GRACE_SECONDS``, SIGKILL for the whole process group."""
    log(f"$ {shlex.join(str(c) for c in cmd)}   (limit {max(limit, 0):.0f} s)")
    t0 = time.monotonic()
    if limit < 5:
        log("  skipped: no time left")
        return {"cmd": [str(c) for c in cmd], "rc": None, "seconds": 0.0, "skipped": "no time left"}
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)

    def pump() -> None:
        for line in proc.stdout:
            log("  " + line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    _signal_group(proc.pid, signal.SIGKILL)  # whatever the step left running in its group
    reader.join(timeout=5)
    seconds = time.monotonic() - t0
    rc = proc.returncode
    log(f"  -> rc {rc}{' (stopped: out of time)' if timed_out else ''}, {seconds:.1f} s")
    return {"cmd": [str(c) for c in cmd], "rc": rc, "seconds": round(seconds, 1), "timed_out": timed_out}


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def environment(log: Log) -> dict:
    info = {"python": sys.version.split()[0], "executable": sys.executable}
    try:
        import torch

        info.update(torch=torch.__version__, cuda=torch.version.cuda, cuda_available=torch.cuda.is_available())
        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            info.update(device=torch.cuda.get_device_name(0), capability=f"{p.major}.{p.minor}",
                        multiprocessors=p.multi_processor_count, memory_gb=round(p.total_memory / 2**30, 1))
    except ImportError as exc:
        info["torch"] = f"not importable: {exc}"
    for name in ("triton", "onnxruntime", "cupy", "cuda.bindings"):
        try:
            module = __import__(name, fromlist=["_"])
            info[name] = getattr(module, "__version__", "installed")
        except Exception as exc:  # noqa: BLE001 (a report of what is there, whatever breaks)
            info[name] = f"not importable: {type(exc).__name__}"
    smi = shutil.which("nvidia-smi")
    if smi:
        query = "--query-gpu=name,driver_version,clocks.max.sm,memory.total"
        out = subprocess.run([smi, query, "--format=csv,noheader"], capture_output=True, text=True)
        info["nvidia_smi"] = out.stdout.strip() or out.stderr.strip()
    for k, v in info.items():
        log(f"  {k}: {v}")
    return info


def install(log: Log, clock: Clock, rehearse: bool) -> list[dict]:
    """The project without its dependencies (torch untouched), then whatever else is missing."""
    py = sys.executable
    dry = ["--dry-run"] if rehearse else []  # a rehearsal checks the command, and changes no environment
    steps = [run(log, [py, "-m", "pip", "install", *dry, "--no-deps", "--no-build-isolation", "-q", "-e", str(ROOT)],
                 min(120, clock.left(300)))]
    missing = [pip for module, pip in NEEDS.items() if importlib.util.find_spec(module) is None]
    if missing:
        wheels = ROOT / ".whl"
        if wheels.is_dir() and any(wheels.glob("*.whl")):
            cmd = [py, "-m", "pip", "install", *dry, "-q", "--no-index", "--no-deps", "--find-links", str(wheels),
                   *missing]
        else:
            cmd = [py, "-m", "pip", "install", *dry, "-q", "--no-deps", *missing]
        log(f"  missing: {', '.join(missing)}")
        steps.append(run(log, cmd, min(120, clock.left(280))))
    else:
        log("  every dependency is already installed")
    if not rehearse:
        gl_loaders(log)
    return steps


def gl_loaders(log: Log) -> None:
    """EGL for the interop test: unpack ``.gl/*.deb`` (libglvnd's loaders) when libEGL is missing, and point
    glvnd at NVIDIA's EGL vendor file when the driver mount has one."""
    import ctypes.util

    vendor = Path("/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json")
    if vendor.exists() and "__EGL_VENDOR_LIBRARY_FILENAMES" not in os.environ:
        os.environ["__EGL_VENDOR_LIBRARY_FILENAMES"] = str(vendor)
    if ctypes.util.find_library("EGL"):
        log("  libEGL is installed")
        return
    debs = sorted((ROOT / ".gl").glob("*.deb"))
    if not debs or os.geteuid() != 0:
        log("  no libEGL and no .gl/*.deb to unpack (as root): the EGL interop test will skip")
        return
    for deb in debs:
        subprocess.run(["dpkg", "-x", str(deb), "/"], check=False)
    subprocess.run(["ldconfig"], check=False)
    log(f"  unpacked {len(debs)} OpenGL loader packages from .gl/; libEGL: {ctypes.util.find_library('EGL')}")


def actinr(*args) -> list[str]:
    """The actinr command line through this Python (the console script may not be on PATH)."""
    return [sys.executable, "-c", "import sys; from actinr.engines.cli import main; sys.exit(main())", *args]


def parity(paths: list[str], size: tuple[int, int], device: str) -> list[dict]:
    """Each GPU backend and precision against Decoder.reference at ``size`` (run in a child process)."""
    import numpy as np

    import actinr.engines as E

    rows = []
    cases = [("triton", "fp32", {}), ("triton", "fp32", {"tf32": True}), ("triton", "fp16", {}),
             ("torch-cuda", "fp32", {}), ("torch-cuda", "fp16", {})]
    if device == "cpu":  # rehearsal: triton through the interpreter
        cases = [c for c in cases if c[0] == "triton" and not c[2]]
    for path in paths:
        for backend, precision, options in cases:
            dec = E.open(path, backend=backend, device=device, precision=precision, **options)
            for f in (0.0, 1.5):
                t = f / dec.info.fps
                g, _ = dec.locate(t)
                got = dec.render(t, size, gop=g)
                got = got.cpu().numpy() if hasattr(got, "cpu") else got
                want = dec.reference(t, size, gop=g, device=device)
                d = np.abs(got.astype(np.int16) - want.astype(np.int16)).max(-1)
                rows.append({"bundle": Path(path).stem, "backend": backend, "precision": precision,
                             "options": options, "frame": f, "size": f"{size[0]}x{size[1]}",
                             "off_by_1": round(float((d == 1).mean()), 6), "beyond_1": round(float((d > 1).mean()), 6),
                             "max": int(d.max())})
                print(json.dumps(rows[-1]), flush=True)
            dec.close()
    return rows


def bench_rows(result: dict, bundle: str) -> list[dict]:
    out = []
    for row in result.get("rows", []):
        d = row.get("decode")
        if d:
            out.append({"bundle": bundle, "backend": row["backend"], "precision": row["precision"],
                        "size": row["size"], "fps": d["fps"], "p99_ms": d["p99_ms"], "mean_ms": d["mean_ms"],
                        "frames": d["frames"]})
    return out


def error_rows(result: dict, bundle: str) -> list[str]:
    """The bench rows that have no measurement, each as one line with its reason."""
    return [f"{bundle} {row['backend']}{''.join(f',{k}={v}' for k, v in row.get('options', {}).items())} "
            f"{row['precision']} {row['size']}: {row['error']}" for row in result.get("rows", []) if row.get("error")]


def fastest_sweep(rows: list[dict]) -> str | None:
    """One line: the sweep's fastest row against the defaults' row (the default to change to, if it is not the
    defaults), or None without both."""
    base = next((r for r in rows if not r["options"]), None)
    if base is None:  # no rows, or no defaults' row
        return None
    best = max(rows, key=lambda r: r["fps"])
    opts = ",".join(f"{k}={v}" for k, v in best["options"].items()) or "the defaults"
    return (f"sweep: fastest {opts}: {best['fps']:.1f} FPS, p99 {best['p99_ms']:.3f} ms, "
            f"{best['fps'] / base['fps']:.2f}x the defaults' {base['fps']:.1f} FPS")


def targets(rows: list[dict]) -> list[str]:
    """The issue's targets on the demo bundle, each met or missed by how much."""
    def pick(backend, precision, size):
        return next((r for r in rows if r["bundle"] == "demo" and r["backend"] == backend
                     and r["precision"] == precision and r["size"] == size), None)

    lines = []
    tri, tri4k, tor = pick("triton", "fp16", "1920x1080"), pick("triton", "fp16", "3840x2160"), \
        pick("torch-cuda", "fp16", "1920x1080")

    def verdict(ok, text):
        lines.append(f"{'met   ' if ok else 'MISSED'} {text}")

    if tri:
        verdict(tri["fps"] >= TARGETS["fps_1080p"], f"triton fp16 1920x1080 demo: {tri['fps']:.0f} FPS "
                f"(target >= {TARGETS['fps_1080p']:.0f}; {tri['fps'] / TARGETS['fps_1080p']:.2f}x of it)")
        verdict(tri["p99_ms"] < TARGETS["p99_1080p_ms"], f"triton fp16 1920x1080 demo: p99 {tri['p99_ms']:.3f} ms "
                f"(target < {TARGETS['p99_1080p_ms']:.1f} ms)")
    else:
        lines.append("MISSED triton fp16 1920x1080 demo: no measurement")
    if tri4k:
        verdict(tri4k["fps"] >= TARGETS["fps_2160p"], f"triton fp16 3840x2160 demo: {tri4k['fps']:.0f} FPS "
                f"(target >= {TARGETS['fps_2160p']:.0f}; {tri4k['fps'] / TARGETS['fps_2160p']:.2f}x of it)")
    else:
        lines.append("MISSED triton fp16 3840x2160 demo: no measurement")
    if tri and tor:
        ratio = tri["fps"] / tor["fps"]
        verdict(ratio >= TARGETS["speedup_1080p"], f"triton / torch-cuda fp16 at 1920x1080 demo: {ratio:.2f}x "
                f"(target >= {TARGETS['speedup_1080p']:.0f}x)")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", help="result folder (default: $OUT, else benchmarks/results)")
    ap.add_argument("--budget", type=float, default=450.0, help="seconds for the whole check (default: 450)")
    ap.add_argument("--rehearse", action="store_true", help="the same steps, small, without a GPU")
    ap.add_argument("--parity", nargs="+", metavar="BUNDLE", help=argparse.SUPPRESS)  # the child process of step 5
    ap.add_argument("--size", default="1920x1080", help=argparse.SUPPRESS)
    ap.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.parity:
        w, h = (int(v) for v in args.size.split("x"))
        parity(args.parity, (w, h), args.device)
        return 0

    out = Path(args.out or os.environ.get("OUT") or ROOT / "benchmarks" / "results")
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".work" if args.rehearse else Path("/tmp/actinr-gpu-check")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    clock = Clock(args.budget)
    date = datetime.date.today().isoformat()
    try:
        import torch

        name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    except ImportError:
        name = "cpu"
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ("-rehearsal" if args.rehearse else "")
    stem = f"{date}-{slug}"
    log = Log(out / f"{stem}-gpu-check.log")
    report: dict = {"schema": "actinr-gpu-check/1", "date": date, "device": name, "rehearsal": args.rehearse,
                    "budget_s": args.budget, "steps": {}}
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["PYTHONUNBUFFERED"] = "1"
    if args.rehearse:
        env["TRITON_INTERPRET"] = "1"  # the parity child decodes triton through the interpreter
    device = "cpu" if args.rehearse else "cuda"
    try:
        log(f"== actinr gpu-check {date} on {name} (budget {args.budget:.0f} s)"
            + (" [rehearsal]" if args.rehearse else ""))
        log("== 1 environment")
        report["environment"] = environment(log)
        log("== 2 install (torch untouched)")
        report["steps"]["install"] = install(log, clock, args.rehearse)

        log("== 3 tests")
        pytest = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
        if args.rehearse:
            tests = pytest + ["tests/engines/test_triton.py", "-k", "overlap_padding"]
        else:
            tests = pytest + TEST_FILES + ["-k", TEST_SELECT]
        test_env = {k: v for k, v in env.items() if k != "TRITON_INTERPRET"}
        step = run(log, tests, min(200, clock.left(220)), env=test_env)
        tail = "\n".join(log.path.read_text().splitlines()[-40:])
        counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|error|errors)", tail)}
        report["steps"]["tests"] = {**step, "counts": counts}

        log("== 4 fit a bundle at 1920x1080")
        hd_run, hd = work / "hd-run", work / "hd1080.engine"
        size = "96x54" if args.rehearse else "1920x1080"
        iters = "20" if args.rehearse else "300"
        fit = run(log, actinr("train", CLIP, "-o", hd_run, "--frames", "5", "--gop", "5", "--resize", size,
                              "--iters", iters, "--device", device, "--no-compile", "--quiet"),
                  min(120, clock.left(160)), env=env)
        export = run(log, actinr("export", hd_run, "-o", hd, "--precision", "fp16", "--quiet"),
                     min(60, clock.left(150)), env=env)
        report["steps"]["fit"] = [fit, export]
        bundles = {"demo": DEMO}
        if export["rc"] == 0 and hd.exists():
            bundles["hd1080"] = hd

        log("== 5 parity against engines' fp32 math")
        psize = "32x24" if args.rehearse else "1920x1080"
        child = run(log, [sys.executable, __file__, "--parity", *map(str, bundles.values()), "--size", psize,
                          "--device", device], min(90, clock.left(130)), env=env)
        rows = [json.loads(line[2:]) for line in log.path.read_text().splitlines()
                if line.startswith('  {"bundle"')]
        report["steps"]["parity"] = child
        report["parity"] = rows
        for r in rows:
            opts = "".join(f" {k}={v}" for k, v in r["options"].items())
            log(f"  parity {r['bundle']:7s} {r['backend']:10s} {r['precision']}{opts:10s} frame {r['frame']:<4} "
                f"{r['size']}: {r['off_by_1']:.4%} off by 1, {r['beyond_1']:.4%} beyond, max {r['max']}")

        log("== 6 bench")
        report["steps"]["bench"], summary, row_errors = [], [], []
        names = list(bundles)
        for i, (bname, path) in enumerate(bundles.items()):
            jpath, ppath = out / f"{stem}-bench-{bname}.json", out / f"{stem}-bench-{bname}.png"
            if args.rehearse:
                extra = ["--backends", "torch-cpu", "--sizes", "64x48,96x54", "--frames", "5", "--warmup", "1"]
            else:
                extra = ["--backends", "torch-cuda,triton", "--precision", "fp32,fp16", "--sizes",
                         "720p,1080p,2160p", "--frames", "500", "--warmup", "20", "--max-seconds", "2"]
            left = clock.left(10 + SWEEP_SECONDS)
            step = run(log, actinr("bench", path, *extra, "--no-reference", "--quiet", "--json", jpath,
                                   "--plot", ppath), min(150, left / (len(names) - i)), env=env)
            report["steps"]["bench"].append(step)
            if jpath.exists():
                summary += bench_rows(json.loads(jpath.read_text()), bname)
                row_errors += error_rows(json.loads(jpath.read_text()), bname)

        log("== 6b tuning sweep: triton fp16 at 1920x1080 on the demo bundle, a row per option value")
        spath = out / f"{stem}-bench-sweep.json"
        if args.rehearse:
            extra = ["--backends", "torch-cpu", "--sizes", "64x48", "--frames", "3", "--warmup", "1"]
        else:
            extra = ["--backends", "triton", "--precision", "fp16", "--sizes", "1080p", "--frames", "300",
                     "--warmup", "10", "--max-seconds", "1"]
        report["steps"]["sweep"] = run(log, actinr("bench", DEMO, *extra, "--sweep", "--no-reference", "--quiet",
                                                   "--json", spath), min(SWEEP_SECONDS, clock.left(5)), env=env)
        if spath.exists():
            report["sweep"] = [{**r, "options": row["options"]} for r, row in
                               zip(bench_rows(json.loads(spath.read_text()), "demo"),
                                   [x for x in json.loads(spath.read_text())["rows"] if x.get("decode")])]
            row_errors += error_rows(json.loads(spath.read_text()), "sweep")

        log("== 7 summary")
        report["summary"] = summary
        for r in summary:
            log(f"  {r['bundle']:7s} {r['backend']:10s} {r['precision']} {r['size']:>9s}: {r['fps']:9.1f} FPS, "
                f"p99 {r['p99_ms']:7.3f} ms ({r['frames']} frames)")
        for r in report.get("sweep", []):
            opts = ",".join(f"{k}={v}" for k, v in r["options"].items()) or "defaults"
            log(f"  sweep {r['backend']} {r['precision']} {r['size']} {opts:24s}: {r['fps']:9.1f} FPS, "
                f"p99 {r['p99_ms']:7.3f} ms")
        report["sweep_fastest"] = fastest_sweep(report.get("sweep", []))
        if report["sweep_fastest"]:
            log("  " + report["sweep_fastest"])
        report["row_errors"] = row_errors
        for line in row_errors:  # rows the bench recorded as failed (out of GPU memory, a variant that did not build)
            log("  row not measured: " + line)
        report["targets"] = targets(summary) if not args.rehearse else []
        for line in report["targets"]:
            log("  " + line)
        failed = [k for k, v in report["steps"].items()
                  if any((s or {}).get("rc") not in (0,) for s in (v if isinstance(v, list) else [v]))]
        report["failed_steps"] = failed
        log(f"== done in {args.budget - clock.left():.0f} s; "
            + (f"steps with failures: {', '.join(failed)}" if failed else "every step passed"))
    finally:
        jtext = json.dumps(report, indent=2, default=str) + "\n"
        (out / f"{stem}-gpu-check.json").write_text(jtext)
        log(f"wrote {out / (stem + '-gpu-check.json')} and {log.path}")
        log.close()
        if args.rehearse:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if report.get("failed_steps") else 0


if __name__ == "__main__":
    sys.exit(main())
