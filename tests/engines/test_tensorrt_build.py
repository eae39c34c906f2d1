"""TensorRT plan building: the parts that run anywhere, and the build itself where TensorRT and a GPU are."""

import sys
import types

import numpy as np
import pytest

from actinr.engines import bundle as B
from actinr.engines import manifest as M
from actinr.engines import tensorrt_build as T
from actinr.engines.errors import ActinrError
from actinr.engines.grid import PatchLayout, sample_grid


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
    assert M.plan_name("9.0", "10.7.0") == "plan/sm90/trt10.7.0"
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
    (plan,) = bundle.manifest.plans
    major, minor = torch.cuda.get_device_capability(0)
    assert (plan.compute_capability, plan.tensorrt, plan.precision) == (f"{major}.{minor}", trt.__version__, "fp32")
    assert list((tmp_path / "cache" / "tensorrt").glob("timing-*.cache"))

    engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(bundle.plan(plan))
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
    want = ort.InferenceSession(bundle.decoder_graph("fp32"),
                                providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    assert np.abs(rgb.cpu().numpy() - want).max() <= 1e-4


# --- plan resolution and the backend's checks, against a stand-in for the tensorrt module ---------------
# These test our logic around TensorRT (which plan is used, what is cached, which failures are caught),
# not TensorRT: nothing here builds or runs a plan.


class FakeBuilder(T.PlanBuilder):
    """A PlanBuilder whose build returns marked bytes instead of calling TensorRT."""

    def __init__(self, cc: str, version: str = "10.7.0"):
        super().__init__(types.SimpleNamespace(__version__=version), cc)
        self.builds = 0

    def build(self, onnx_bytes, layout, progress=False) -> bytes:
        self.builds += 1
        return b"built-" + self.cc.encode()


@pytest.fixture(scope="module")
def bundle_with_plan(carphone_bundle, tmp_path_factory):
    """The carphone bundle plus a (fake) fp32 plan for sm90 / TensorRT 10.7.0."""
    out = tmp_path_factory.mktemp("plan") / "plan.engine"
    b = B.load(carphone_bundle)
    w = B.BundleWriter({k: v for k, v in b.header.items() if k not in ("format", "format_version", "sections")})
    for s in b.sections.values():
        if s.kind == "array":
            w.add_array(s.name, b.array(s.name))
        else:
            w.add_bytes(s.name, s.kind, bytes(b.raw(s.name)))
    plan = FakeBuilder("9.0").plan("fp32")
    w.add_bytes(plan.name, "tensorrt-plan", b"from-the-bundle", **plan.meta())
    w.write(out)
    return B.load(out)


def test_a_matching_plan_comes_from_the_bundle_others_are_built_once_and_cached(bundle_with_plan, tmp_path,
                                                                                monkeypatch):
    monkeypatch.setenv("ACTINR_CACHE", str(tmp_path))
    (plan,) = bundle_with_plan.manifest.plans
    assert (plan.name, plan.compute_capability, plan.tensorrt, plan.precision) == (
        "plan/sm90/trt10.7.0", "9.0", "10.7.0", "fp32")
    same = FakeBuilder("9.0")
    assert T.matching_plan(bundle_with_plan.manifest.plans, same, "fp32") == plan
    assert T.resolve_plan(bundle_with_plan, same, "fp32") == (b"from-the-bundle", "bundle") and same.builds == 0
    for builder, precision in ((FakeBuilder("9.0"), "fp16"), (FakeBuilder("8.9"), "fp32"),
                               (FakeBuilder("9.0", "10.8.0"), "fp32")):
        assert T.matching_plan(bundle_with_plan.manifest.plans, builder, precision) is None
        built = T.resolve_plan(bundle_with_plan, builder, precision, progress=False)
        assert built == (b"built-" + builder.cc.encode(), "built") and builder.builds == 1
        assert T.resolve_plan(bundle_with_plan, builder, precision, progress=False)[1] == "cache"
        assert builder.builds == 1  # the second start reads the plan cache
    assert len(list((tmp_path / "tensorrt").glob("plan-*.plan"))) == 3  # one per graph, GPU and TensorRT


class FakeContext:
    def __init__(self, shape_ok=True, address_ok=True):
        self.shape_ok, self.address_ok, self.addresses = shape_ok, address_ok, {}

    def set_input_shape(self, name, shape):
        return self.shape_ok

    def set_tensor_address(self, name, ptr):
        self.addresses[name] = ptr
        return self.address_ok


class FakeLogger:
    WARNING = 2

    def __init__(self, level):
        self.level = level


def fake_tensorrt(engine):
    """A tensorrt module whose runtime deserialises every plan to ``engine`` (None: it refuses)."""
    runtime = types.SimpleNamespace(deserialize_cuda_engine=lambda plan: engine)
    return types.SimpleNamespace(__version__="10.7.0", Logger=FakeLogger, Runtime=lambda logger: runtime)


def fake_engine(context):
    return types.SimpleNamespace(create_execution_context=lambda: context,
                                 get_tensor_profile_shape=lambda name, p: ((30, 4, 2), (30, 64, 2), (30, 4096, 2)))


def test_the_backend_checks_every_tensorrt_result(carphone_bundle, monkeypatch):
    import torch

    from actinr.engines.backends.base import slot_plan
    from actinr.engines.backends.tensorrt import TensorRT

    bundle = B.load(carphone_bundle)

    def use(engine):
        monkeypatch.setitem(sys.modules, "tensorrt", fake_tensorrt(engine))

    use(None)  # deserialisation fails
    with pytest.raises(ActinrError, match=r"TensorRT 10\.7\.0 cannot load the decoder plan \(cache\)"):
        TensorRT(bundle, "cpu", "fp32", b"plan", "cache")
    use(fake_engine(None))  # no execution context
    with pytest.raises(ActinrError, match="cannot make an execution context"):
        TensorRT(bundle, "cpu", "fp32", b"plan")
    context = FakeContext(shape_ok=False)
    use(fake_engine(context))
    backend = TensorRT(bundle, "cpu", "fp32", b"plan")
    assert (backend.min_points, backend.max_points) == (4, 4096)
    plan = slot_plan(sample_grid(bundle.manifest.layout, (64, 48)), bundle.manifest.model, 30, "cpu",
                     torch.float32, 100, min_points=4)
    with pytest.raises(ActinrError, match=r"TensorRT refused the input shape \(30, \d+, 2\) \(profile: 4 to 4096"):
        backend._bind(plan)
    context.shape_ok, context.address_ok = True, False
    with pytest.raises(ActinrError, match="TensorRT refused the address of tensor 'weight_0'"):
        backend._bind(plan)
    context.address_ok = True
    backend._bind(plan)
    assert set(context.addresses) == {"weight_0", "weight_1", "weight_2", "bias_0", "bias_1", "bias_2"}
    assert context.addresses["bias_1"] == plan.slot_biases[1].data_ptr()
