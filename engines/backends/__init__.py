"""Decoder backends, one module each, registered by name; ``auto`` tries them fastest first.

The table names modules by string so that importing it loads no heavy package:
a backend's optional dependencies (onnxruntime, tensorrt) are imported only when
it is probed.

Order for ``auto``: the GPU backends in the order the design expects
(our fused Triton kernel, one launch per frame; TensorRT's fused kernels, ONNX
Runtime's CUDA kernels, PyTorch with CUDA graphs; none of them measured yet on
a GPU: docs/measurements.md), then the CPU backends by measured speed. On the CPU that puts
``torch-cpu`` before ``onnxruntime-cpu`` (the design listed them the other way
round): benchmarks/decoders.py (now ``actinr bench --sweep``) measured torch-cpu at about 3x ONNX Runtime's
frame rate on the carphone model, at 176x144 and at 640x360 (its fused
in-place activation needs fewer passes over memory than the graph's operators).
"""

from __future__ import annotations

import importlib

from ..errors import ActinrError
from .base import Backend

BACKENDS = {
    "triton": "triton_fused:TritonFused",
    "tensorrt": "tensorrt:TensorRT",
    "onnxruntime-cuda": "ort_cuda:OrtCUDA",
    "torch-cuda": "torch_cuda:TorchCUDA",
    "torch-cpu": "torch_cpu:TorchCPU",
    "onnxruntime-cpu": "ort_cpu:OrtCPU",
}
AUTO_ORDER = tuple(BACKENDS)


def backend_class(name: str) -> type[Backend]:
    """The class registered as ``name`` (its module is imported now)."""
    if name not in BACKENDS:
        raise ActinrError(f"unknown backend '{name}' (backends: auto, {', '.join(BACKENDS)})")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


__all__ = ["AUTO_ORDER", "BACKENDS", "Backend", "backend_class"]
