"""train/render.py: the one PyTorch renderer, of a run (eval) or of a bundle (actinr bench's reference row)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import actinr.engines as E
from actinr.train.render import BundleRenderer, RunRenderer


def _diff(a, b) -> tuple[float, int]:
    d = np.abs(np.asarray(a, dtype=np.int32) - np.asarray(b, dtype=np.int32))
    return float((d > 1).mean()), int(d.max())


def test_exact_bias_bundle_is_the_fitted_model(carphone_bundle, carphone_run):
    ref = BundleRenderer(carphone_bundle)
    run = RunRenderer(carphone_run)
    try:
        assert ref.bias_source == "bias-INR" and ref.spans == [tuple(s) for s in carphone_run.spans]
        fps = carphone_run.source.fps
        for f in (0.0, 2.5, 4.0, 6.3, 8.0):
            for size in ((176, 144), (100, 80)):
                got = ref.render_time(f / fps, size)
                assert got.dtype == torch.uint8 and got.shape == (size[1], size[0], 3)
                frac, worst = _diff(got, run.render_uint8(f, size))
                assert frac <= 0.001 and worst <= 2, f"frame {f} at {size}: {frac:.4%} > 1 LSB, worst {worst}"
    finally:
        ref.close()


@pytest.fixture(scope="module")
def baked_fp16(carphone_run, tmp_path_factory):
    """The carphone run exported without the bias-INR, in fp16."""
    from actinr.export.exporter import ExportConfig, export_run

    out = tmp_path_factory.mktemp("reference") / "fp16.engine"
    export_run(carphone_run.path, out, ExportConfig(precision="fp16"))
    return out


def test_baked_bundle_takes_the_tables_like_the_decoders(baked_fp16):
    ref = BundleRenderer(baked_fp16)
    dec = E.open(baked_fp16, backend="torch-cpu")
    try:
        assert ref.bias_source == "baked tables (cubic)"
        ref.preload()
        assert sorted(ref._models) == [0, 1]
        for t in (0.0, 0.05, 0.123, 0.2, 0.5):
            frac, worst = _diff(ref.render_time(t, (176, 144)), dec.render(t, (176, 144)))
            assert frac <= 0.001 and worst <= 1, f"t={t}: {frac:.4%} > 1 LSB, worst {worst}"
        # the model itself is train/'s, in fp32, from the bundle's fp16 weights
        model = ref.model(1)
        w = np.array(dec.bundle.gop_weights(1)[0], dtype=np.float32)
        assert model.w1.dtype == torch.float32 and np.array_equal(model.w1.detach().numpy(), w)
    finally:
        ref.close()
        dec.close()


def test_times_past_the_end_hold_the_last_frame(baked_fp16):
    ref = BundleRenderer(baked_fp16)
    try:
        last = ref.render_time((ref.frames - 1) / ref.fps, (88, 72))
        assert torch.equal(ref.render_time(100.0, (88, 72)), last)
    finally:
        ref.close()


def test_weights_that_do_not_fit_the_model_are_refused(carphone_bundle):
    import dataclasses

    ref = BundleRenderer(carphone_bundle)
    try:
        ref.config = dataclasses.replace(ref.config, hidden=16)  # as if the manifest said h=16
        with pytest.raises(E.ActinrError, match="GOP 0 does not fit train/'s model"):
            ref.model(0)
    finally:
        ref.close()


def test_chunks_change_nothing_but_the_memory(carphone_run):
    """The one render, with eval's chunks and with the whole grid in one call (the bench reference's way)."""
    chunked, whole = RunRenderer(carphone_run, chunk=97), RunRenderer(carphone_run, chunk=None)
    for f in (0.0, 3.3, 8.0):
        for size, view in (((176, 144), (0, 0, 1, 1)), ((90, 70), (0.2, 0.1, 0.9, 0.8))):
            a, b = chunked.render(f, size, view), whole.render(f, size, view)
            assert a.shape == (size[1], size[0], 3) and float(a.std()) > 0.01
            assert torch.allclose(a, b, atol=1e-5)
