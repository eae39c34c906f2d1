"""TensorRT plan building: the parts that run anywhere, and the build itself where TensorRT and a GPU are."""

import sys

import numpy as np
import pytest

from actinr.engines import bundle as B
from actinr.engines.errors import ActinrError
from actinr.engines.grid import PatchLayout, sample_grid
from actinr.engines import tensorrt_build as T


def test_profile_points_cover_64px_to_4k():
    layout = PatchLayout(176, 144, 32)  # 6 x 5 patches
    lo, opt, hi = T.profile_points(layout)
    # a patch spans 32/176 of the width and 32/144 of the height: at 64x64 that is 11.6 x 14.2
    # output pixels, so at most 12 x 15 pixel centres fall in one patch
    assert lo == sample_grid(layout, (64, 64)).points == 12 * 15
    assert opt == sample_grid(layout, (1920, 1080)).points == 349 * 240  # 349.1 x 240 pixels per patch
    assert hi == 699 * 480  # 698.2 x 480 pixels per patch at 3840x2160
    assert lo < opt < hi


def test_missing_tensorrt_and_gpu_are_named(monkeypatch):
    import torch

    monkeypatch.setitem(sys.modules, "tensorrt", None)  # import tensorrt -> ImportError
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    trt, cc, missing = T.machine_problems()
    assert trt is None and cc is None
    assert missing == ["TensorRT (pip install 'actinr[tensorrt]')", "a CUDA GPU (torch sees none)"]
    with pytest.raises(ActinrError, match=r"^--tensorrt needs TensorRT \(pip install 'actinr\[tensorrt\]'\) and a "
                                          r"CUDA GPU \(torch sees none\); export without --tensorrt"):
        T.PlanBuilder.for_this_machine()


def test_plan_name_and_cache_location(monkeypatch, tmp_path):
    assert B.plan_name("9.0", "10.7.0") == "plan/sm90/trt10.7.0"
    monkeypatch.setenv("ACTINR_CACHE", str(tmp_path))
    assert T.cache_dir() == tmp_path / "tensorrt"


def _needs_tensorrt_and_gpu():
    trt, cc, missing = T.machine_problems()
    if missing:
        pytest.skip("needs " + " and ".join(missing))
    return trt


def test_build_plan_and_round_trip(carphone_run, carphone_bundle, tmp_path, monkeypatch):
    """Build from the bundle's graph, store it in a bundle, reload it, run it, compare with ONNX Runtime."""
    trt = _needs_tensorrt_and_gpu()
    import onnxruntime as ort
    import torch

    from actinr.export.exporter import ExportConfig, export_run

    monkeypatch.setenv("ACTINR_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "trt.engine"
    export_run(carphone_run.path, out, ExportConfig(tensorrt=True))
    bundle = B.load(out)
    (plan,) = bundle.plans
    major, minor = torch.cuda.get_device_capability(0)
    assert plan.meta == {"compute_capability": f"{major}.{minor}", "tensorrt": trt.__version__}
    assert list((tmp_path / "cache" / "tensorrt").glob("timing-*.cache"))

    engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(bytes(bundle.raw(plan.name)))
    context = engine.create_execution_context()
    grid = sample_grid(carphone_run.layout, (352, 288))
    weights = bundle.gop_weights(1)
    biases = [b[5][:, None] for b in bundle.gop_bias_tables(1)]  # (P, 1, out) at a table row
    feeds = {"coords": grid.coords, **{f"weight_{i}": w for i, w in enumerate(weights)},
             **{f"bias_{i}": b for i, b in enumerate(biases)}}
    dev = {k: torch.from_numpy(np.array(v)).cuda() for k, v in feeds.items()}
    context.set_input_shape("coords", tuple(dev["coords"].shape))
    rgb = torch.empty((30, grid.points, 3), device="cuda")
    for name, t in {**dev, "rgb": rgb}.items():
        context.set_tensor_address(name, t.data_ptr())
    stream = torch.cuda.current_stream()
    assert context.execute_async_v3(stream.cuda_stream)
    stream.synchronize()
    want = ort.InferenceSession(bytes(bundle.raw(B.DECODER_GRAPHS["fp32"])),
                                providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    assert np.abs(rgb.cpu().numpy() - want).max() <= 1e-4
