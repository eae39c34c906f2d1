"""What ran where: CPU, GPU, driver and library versions, for a benchmark's result file."""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import re
import subprocess
from pathlib import Path

import numpy as np


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
            "onnxruntime": _version("onnxruntime"), "tensorrt": _version("tensorrt"), "triton": _version("triton"),
            "cuda": torch.version.cuda, "gpu": None, "compute_capability": None, "driver": None}
    if gpu and torch.cuda.is_available():
        cc = torch.cuda.get_device_capability()
        info.update(gpu=torch.cuda.get_device_name(), compute_capability=f"{cc[0]}.{cc[1]}", driver=_nvidia_driver())
    info["device"] = info["gpu"] or "cpu"
    return info


def device_slug(system: dict) -> str:
    """``cpu`` or the GPU's name in file-name form, e.g. ``nvidia-h100-80gb-hbm3``."""
    return re.sub(r"[^a-z0-9]+", "-", system["device"].lower()).strip("-") or "cpu"
