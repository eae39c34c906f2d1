"""Decoder frame rate per backend and output size: ``actinr.engines.open(...).render(t, size)``.

For each backend that loads on this machine and each size: a warm-up, then
``--frames`` renders at advancing times (0.37 of a frame apart, so the biases
change every frame and GOP switches are included, as in slow-motion
playback), each timed with perf_counter after synchronising the device.
Reports the mean, median, p95 and max frame time and FPS = 1000 / mean ms.

``reference`` is the plain PyTorch evaluation of the same weights:
train/reference.py, the same baseline as ``actinr bench``'s (one call of
train/'s model over the padded (P, N) grid, then a scatter).

``--sweep`` also times the chunk-size constants of torch-cpu and
onnxruntime-cpu at each size (the values in their modules come from it).

    python benchmarks/decoders.py model.engine [--sizes 176x144,640x360] [--frames 100] [--sweep]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import RESULTS, save_result  # benchmarks/common.py (this folder is on sys.path)

GPU_SIZES = "1280x720,1920x1080,3840x2160"


def parse_sizes(text: str) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in s.lower().split("x")) for s in text.split(",") if s]


def time_frames(render, sync, times) -> dict:
    ms = []
    for t in times:
        sync()
        start = time.perf_counter()
        render(t)
        sync()
        ms.append((time.perf_counter() - start) * 1e3)
    ms_sorted = sorted(ms)
    mean = statistics.fmean(ms)
    return {"frames": len(ms), "mean_ms": round(mean, 3), "p50_ms": round(statistics.median(ms), 3),
            "p95_ms": round(ms_sorted[min(len(ms) - 1, int(0.95 * len(ms)))], 3), "max_ms": round(max(ms), 3),
            "fps": round(1e3 / mean, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle")
    ap.add_argument("--sizes", default="176x144,640x360", help="CPU output sizes, WxH,... (default %(default)s)")
    ap.add_argument("--gpu-sizes", default=GPU_SIZES, help="GPU output sizes (default %(default)s)")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--sweep", action="store_true", help="also time the CPU backends' chunk sizes")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--device-name", default=None, help="file name tag (default: cpu, or the GPU's name)")
    args = ap.parse_args()

    import torch

    import actinr.engines as E
    from actinr.engines.backends import BACKENDS, backend_class
    from actinr.engines.errors import ActinrError
    from actinr.train.reference import ReferenceDecoder

    probe = E.open(args.bundle, backend="torch-cpu")
    info = probe.info
    step = 0.37 / info.fps
    times = [(k * step) % info.duration for k in range(args.frames)]
    warm = [(k * step) % info.duration for k in range(args.warmup)]
    rows = []

    def run(name, dec, size, extra=None):
        for t in warm:
            dec.render(t, size)
        r = time_frames(lambda t: dec.render(t, size), dec.synchronize, times)
        row = {"backend": name, "size": f"{size[0]}x{size[1]}", **(extra or {}), **r}
        rows.append(row)
        extras = " ".join(f"{k}={v}" for k, v in (extra or {}).items())
        print(f"{name:18s} {row['size']:>10s} {extras:22s} mean {r['mean_ms']:8.2f} ms  p50 {r['p50_ms']:8.2f}  "
              f"p95 {r['p95_ms']:8.2f}  max {r['max_ms']:8.2f}  {r['fps']:8.1f} FPS", flush=True)

    print(f"{args.bundle}: {info.name} {info.width}x{info.height}, {info.frames} frames, "
          f"{probe.spec.patches} patches, h={probe.spec.hidden}; {args.frames} frames per row")
    cpu_sizes = parse_sizes(args.sizes)
    ref = ReferenceDecoder(args.bundle)
    ref.preload()  # weights load once per GOP, as in every backend
    for size in cpu_sizes:
        for t in warm[:2]:
            ref.render(t, size)
        r = time_frames(lambda t: ref.render(t, size), lambda: None, times[: max(10, args.frames // 5)])
        rows.append({"backend": "reference", "size": f"{size[0]}x{size[1]}", **r})
        print(f"{'reference':18s} {size[0]}x{size[1]:<6d} {'':22s} mean {r['mean_ms']:8.2f} ms  "
              f"p50 {r['p50_ms']:8.2f}  {r['fps']:8.1f} FPS", flush=True)
    for name in BACKENDS:
        cls = backend_class(name)
        try:
            cls.probe("cuda" if cls.gpu else "cpu")
        except ActinrError as exc:
            print(f"{name:18s} skipped: {exc}")
            continue
        if not cls.gpu:
            for size in cpu_sizes:
                run(name, E.open(args.bundle, backend=name), size)
            continue
        for size in parse_sizes(args.gpu_sizes):
            for precision in cls.precisions:
                variants = [{"cuda_graphs": True}, {"cuda_graphs": False}] if name == "torch-cuda" else [{}]
                for opts in variants:
                    dec = E.open(args.bundle, backend=name, precision=precision, **opts)
                    run(name, dec, size, {"precision": precision, **opts})
                    dec.close()
                    torch.cuda.empty_cache()
    if args.sweep:
        from actinr.engines.backends import ort_cpu, torch_cpu

        sweeps = [("torch-cpu", "chunk_points", [2048, 4096, 8192, 16384, 32768])]
        try:
            backend_class("onnxruntime-cpu").probe("cpu")
            sweeps.append(("onnxruntime-cpu", "chunk_points", [128, 256, 512, 1024, 2048]))
        except ActinrError:
            pass
        for size in cpu_sizes:
            for name, key, values in sweeps:
                for v in values:
                    run(name, E.open(args.bundle, backend=name, **{key: v}), size, {key: v})
        print(f"module defaults: torch-cpu CHUNK_POINTS={torch_cpu.CHUNK_POINTS}, "
              f"onnxruntime-cpu CHUNK_POINTS={ort_cpu.CHUNK_POINTS}")
    device = args.device_name or ("cpu" if not torch.cuda.is_available()
                                  else torch.cuda.get_device_name().replace(" ", "-").lower())
    save_result(args.out, "decoders", {"bundle": args.bundle, "source": f"{info.name} {info.width}x{info.height}",
                                       "patches": probe.spec.patches, "hidden": probe.spec.hidden,
                                       "step_frames": 0.37, "rows": rows}, device=device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
