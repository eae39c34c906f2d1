"""TensorRT plans: build, cache and choose one; a thin layer over the decoder ONNX graph ONNX Runtime verifies.

TensorRT 10/11 Python API: a ``STRONGLY_TYPED`` network (the graph's Casts fix
every precision, so no builder precision flags), parsed from the bundle's
decoder graph, one optimization profile over the points-per-patch dimension,
and a timing cache kept on disk per (GPU, TensorRT version) so rebuilding on
the same machine is fast. The plan is keyed by the GPU's compute capability
and the TensorRT version; :func:`resolve_plan`, the tensorrt backend's loader,
uses a bundle's plan only when both and the precision match, and otherwise
takes the one it built from the embedded ONNX before (the plan cache) or
builds it now.

Profile: the number of points per patch ``N`` that a full-frame render of
64x64 (min), 1920x1080 (opt) and 3840x2160 (max) outputs needs for this
bundle's patch layout. A zoomed viewport packs more points into fewer patches;
a decoder renders such frames in chunks of at most the profile's maximum.

This workplace has no TensorRT builder (its libraries are not on the package
registry), so this module has not run here; its tests skip with that reason.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import ActinrError, optional_import
from .files import write_atomic
from .grid import PatchLayout, points_per_patch
from .manifest import Plan, plan_name

PROFILE_SIZES = {"min": (64, 64), "opt": (1920, 1080), "max": (3840, 2160)}


def profile_points(layout: PatchLayout) -> tuple[int, int, int]:
    """(min, opt, max) points per patch of the optimization profile for ``layout``."""
    return tuple(points_per_patch(layout, PROFILE_SIZES[k]) for k in ("min", "opt", "max"))


def cache_dir() -> Path:
    """Where timing caches live: ``$ACTINR_CACHE`` or ``~/.cache/actinr``, subfolder tensorrt/."""
    root = os.environ.get("ACTINR_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "actinr"
    return Path(root) / "tensorrt"


def machine_problems() -> tuple[object | None, str | None, list[str]]:
    """(tensorrt module or None, compute capability or None, what is missing for a build)."""
    import torch

    missing = []
    try:
        trt = optional_import("tensorrt", "tensorrt")
    except ActinrError:
        trt = None
        missing.append("TensorRT (pip install 'actinr[tensorrt]')")
    cc = None
    if torch.cuda.is_available():
        major, minor = torch.cuda.get_device_capability(0)
        cc = f"{major}.{minor}"
    else:
        missing.append("a CUDA GPU (torch sees none)")
    return trt, cc, missing


class PlanBuilder:
    """Builds plans for the GPU of this machine; :meth:`for_this_machine` fails early with what is missing."""

    def __init__(self, trt, compute_capability: str):
        self.trt, self.cc = trt, compute_capability
        self.version = str(trt.__version__)

    @classmethod
    def for_this_machine(cls) -> PlanBuilder:
        trt, cc, missing = machine_problems()
        if missing:
            raise ActinrError(f"--tensorrt needs {' and '.join(missing)}; export without --tensorrt "
                              "(the bundle then holds ONNX only and any machine can play it)")
        return cls(trt, cc)

    def plan(self, precision: str) -> Plan:
        """The manifest entry of a plan this builder makes for ``precision``."""
        return Plan(plan_name(self.cc, self.version), self.cc, self.version, precision)

    def _cache_path(self) -> Path:
        return cache_dir() / f"timing-sm{self.cc.replace('.', '')}-trt{self.version}.cache"

    def build(self, onnx_bytes: bytes, layout: PatchLayout, progress: bool = False) -> bytes:
        """The serialized plan of the decoder graph ``onnx_bytes`` for ``layout``."""
        trt = self.trt
        logger = trt.Logger(trt.Logger.WARNING)
        builder = trt.Builder(logger)
        # TensorRT 10 needs the flag; 11 is always strongly typed and keeps the flag only as an ignored alias.
        strong = getattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED", None)
        network = builder.create_network(0 if strong is None else 1 << int(strong))
        parser = trt.OnnxParser(network, logger)
        if not parser.parse(onnx_bytes):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise ActinrError(f"TensorRT {self.version} cannot parse the decoder graph: {errors}")
        config = builder.create_builder_config()
        lo, opt, hi = profile_points(layout)
        profile = builder.create_optimization_profile()
        p = layout.count
        profile.set_shape("coords", (p, lo, 2), (p, opt, 2), (p, hi, 2))
        if config.add_optimization_profile(profile) < 0:  # -1: the profile is invalid
            raise ActinrError(f"TensorRT {self.version} refused the optimization profile ({lo}..{hi} points per patch)")
        cache_path = self._cache_path()
        cache = config.create_timing_cache(cache_path.read_bytes() if cache_path.is_file() else b"")
        if cache is None or not config.set_timing_cache(cache, ignore_mismatch=False):
            raise ActinrError(f"TensorRT {self.version} cannot use the timing cache {cache_path}; delete it to "
                              "start a new one")
        if progress:
            print(f"building a TensorRT {self.version} plan for sm{self.cc.replace('.', '')} "
                  f"(points per patch {lo}..{hi}, opt {opt}); this takes a minute or two")
        plan = builder.build_serialized_network(network, config)
        if plan is None:
            raise ActinrError(f"TensorRT {self.version} failed to build the decoder plan (see its log above)")
        cache_bytes = bytes(memoryview(cache.serialize()))  # the build added its timings to the attached cache
        write_atomic(cache_path, lambda tmp: Path(tmp).write_bytes(cache_bytes))
        return bytes(memoryview(plan))


def plan_cache_path(builder: PlanBuilder, onnx_bytes: bytes, layout: PatchLayout) -> Path:
    """Where a player keeps the plan it built for this graph, profile and machine."""
    digest = hashlib.sha256(onnx_bytes + repr(profile_points(layout)).encode()).hexdigest()[:20]
    return cache_dir() / f"plan-{digest}-sm{builder.cc.replace('.', '')}-trt{builder.version}.plan"


def matching_plan(plans, builder: PlanBuilder, precision: str) -> Plan | None:
    """The first of ``plans`` built for this GPU, this TensorRT and ``precision``, or None."""
    for plan in plans:
        if (plan.compute_capability, plan.tensorrt, plan.precision) == (builder.cc, builder.version, precision):
            return plan
    return None


def resolve_plan(bundle, builder: PlanBuilder, precision: str, progress: bool = True) -> tuple[bytes, str]:
    """The plan to run ``bundle`` in ``precision`` here -> (plan bytes, where from: bundle, cache or built).

    A matching plan in the bundle first; else the one built from the bundle's
    decoder graph before (the plan cache); else a new build, stored in the cache.
    """
    plan = matching_plan(bundle.manifest.plans, builder, precision)
    if plan is not None:
        return bundle.plan(plan), "bundle"
    graph = bundle.decoder_graph(precision)
    path = plan_cache_path(builder, graph, bundle.manifest.layout)
    if path.is_file():
        return path.read_bytes(), "cache"
    data = builder.build(graph, bundle.manifest.layout, progress=progress)
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))
    return data, "built"
