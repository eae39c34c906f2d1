"""engines/manifest.py: the typed manifest, its messages (expected vs got), its shape table, its round trip."""

from __future__ import annotations

import copy

import pytest

from actinr.engines import bundle as B
from actinr.engines import manifest as M

PATH = "x.engine"


@pytest.fixture(scope="module")
def real(carphone_bundle):
    """(header, sections) of the real carphone bundle, to edit copies of."""
    b = B.load(carphone_bundle)
    return b.header, b.sections


def parse(header, sections):
    return M.Manifest.parse(PATH, header, sections)


@pytest.mark.parametrize("edit, message", [
    (lambda h: h["source"].update(width="x"), "manifest source width must be an integer from 1 to 65536, got 'x'"),
    (lambda h: h["source"].update(width=True), "manifest source width must be an integer from 1 to 65536, got True"),
    (lambda h: h["source"].pop("fps"), "manifest source has no 'fps'"),
    (lambda h: h["source"].update(fps=0), "manifest source fps must be a positive number, got 0"),
    (lambda h: h["source"].update(fps=float("inf")), "manifest source fps must be a positive number, got inf"),
    (lambda h: h["source"].update(name=7), "manifest source name must be a string, got 7"),
    (lambda h: h["model"].update(w0="5"), "manifest model w0 must be a finite number, got '5'"),
    (lambda h: h["model"].update(layers=0), "manifest model layers must be an integer from 1 to 1024, got 0"),
    (lambda h: h["bias"].update(exact="yes"), "manifest bias exact must be true or false, got 'yes'"),
    (lambda h: h["bias"].pop("inr"), "manifest bias has no 'inr' object"),
    (lambda h: h["bias"]["inr"].update(freqs=0), "manifest bias inr freqs must be an integer from 1 to 65536, got 0"),
    (lambda h: h["bias"].update(dtype="float64"), "manifest bias dtype 'float64' is unknown (known: float32, float16)"),
    (lambda h: h["patch"].update(size=1), "manifest patch size must be an integer from 2 to 65536, got 1"),
    (lambda h: h["patch"].update(overlap=20), "manifest patch layout is invalid (patch overlap must be between 0"),
    (lambda h: h["gops"].append("GOP"), "manifest GOP 2 is not an object"),
    (lambda h: h["gops"][0].update(last=-1), "manifest GOP 0 last must be an integer >= 0, got -1"),
    (lambda h: h.update(gops=[]), "manifest has no GOP list"),
    (lambda h: h["gops"][0].update(first=1), "manifest GOP 0 (1-"),  # the first GOP starts at frame 0
    (lambda h: h["gops"][1].update(first=h["gops"][0]["last"] - 1), "does not continue the GOP before it"),
    (lambda h: h.update(model=[1]), "manifest has no 'model' object"),
    (lambda h: h["switch"].update(warp="jump"), "manifest switch warp 'jump' is unknown (known: hold, ease, through)"),
    (lambda h: h["switch"].update(width=-1), "manifest switch width must be between 0 and 64 frames, got -1"),
    (lambda h: h["switch"].pop("width"), "manifest switch has no 'width'"),
])
def test_one_line_messages_say_the_field_expected_and_got(real, edit, message):
    header = copy.deepcopy(real[0])
    edit(header)
    with pytest.raises(M.BundleError) as info:
        parse(header, real[1])
    text = str(info.value)
    assert text.startswith(f"{PATH}: ") and "\n" not in text
    assert message in text, text


def test_informational_fields_are_never_refused(real):
    header = copy.deepcopy(real[0])
    header.update(producer=5, created=None, export="x", training={"task": 3, "results": [{"psnr": "high"}, 7]})
    m = parse(header, real[1])
    assert (m.producer, m.created, dict(m.export), m.training.task, m.training.psnr) == (None, None, {}, None, [])
    header["training"] = "not an object"
    assert parse(header, real[1]).training == M.Training()
    header.pop("training")
    header["source"].pop("start")  # an optional field: the first source frame defaults to 0
    assert parse(header, real[1]).source.start == 0


def test_switch_window_is_the_writer_s_and_hold_before_it(real):
    from actinr.engines.timeline import LEGACY_SWITCH, SWITCH_BLEND, SWITCH_WARP

    header = copy.deepcopy(real[0])
    assert header["switch"] == {"width": SWITCH_BLEND, "warp": SWITCH_WARP}  # fitted with --gop-margin 1
    assert parse(header, real[1]).switch == (2.0, "through")
    header.pop("switch")  # a bundle written before the field: each GOP held at its end, half a frame either side
    assert parse(header, real[1]).switch == LEGACY_SWITCH == (1.0, "hold")
    header["switch"] = {"width": 0, "warp": "hold"}  # no window: a plain switch
    assert parse(header, real[1]).switch == (0.0, "hold")


def test_the_shape_table_is_the_model_s():
    model = M.Model(hidden=16, layers=2, w0=5.0, s0=7.0, min_exponent=-30.0)
    assert model.layer_shapes == [(2, 32), (32, 64), (32, 64), (32, 3)] and model.modules == 4
    assert model.widths == [32, 64, 64, 3]
    assert model.stored_shapes(7) == [(7, 2, 32), (7, 2, 16, 32), (7, 2, 16, 32), (7, 32, 3)]
    inr = model.inr_shapes(7, M.InrSize(freqs=5, latent=3))
    assert inr[1] == {"freqs": (5,), "latent": (7, 3), "base": (7, 64), "w_t": (10, 64), "w_z": (3, 64),
                      "b_1": (64,), "w_2": (64, 64), "b_2": (64,), "w_3": (64, 64), "b_3": (64,)}


def test_expected_sections_of_a_two_gop_exact_bundle(real):
    m = parse(*real)
    expected = m.expected_sections()
    names = [e.name for e in expected]
    assert names[:3] == ["decoder/fp32.onnx", "decoder/fp16.onnx", "bias_inr.onnx"]
    # per GOP and module: weight, bias table, 10 bias-INR parameters
    assert len(expected) == 3 + 2 * 3 * (2 + 10)
    table = next(e for e in expected if e.name == "gop/001/bias/0")
    assert (table.kind, table.dtype, table.shape) == ("array", "float32", (17, 30, 64))  # 4 x 4 intervals + 1
    assert m.table_rows(1) == 17
    still = next(e for e in expected if e.name == "gop/001/bias/1")  # a module that does not move: one row
    assert m.bias.still == (1, 2) and still.shape == (1, 30, 128) and m.table_rows(1, 1) == 1
    for bad in ([3], [1, 1], ["1"], 2):
        header = copy.deepcopy(real[0])
        header["bias"]["still"] = bad
        with pytest.raises(M.BundleError, match="manifest bias still must list distinct module numbers below 3"):
            parse(header, real[1])
    header = copy.deepcopy(real[0])
    header["bias"]["exact"] = False  # no bias-INR: no bias graph and no parameter sections are implied
    lean = parse(header, real[1])
    assert lean.bias.inr is None and not lean.bias.exact
    assert len(lean.expected_sections()) == 2 + 2 * 3 * 2


def test_plans_are_parsed_from_the_section_table(real):
    header, sections = real
    plan = M.Section(M.plan_name("9.0", "10.7.0"), "tensorrt-plan", 0, 8, "0" * 64,
                     meta={"compute_capability": "9.0", "tensorrt": "10.7.0"})
    m = parse(header, {**sections, plan.name: plan})
    assert m.plans == (M.Plan("plan/sm90/trt10.7.0", "9.0", "10.7.0", "fp32"),)  # no precision: the bundle's
    assert m.plans[0].meta() == {"precision": "fp32", "compute_capability": "9.0", "tensorrt": "10.7.0"}
    wrong = M.Section(plan.name, "tensorrt-plan", 0, 8, "0" * 64, meta={"compute_capability": "8.9", "tensorrt": "10"})
    with pytest.raises(M.BundleError, match="plan section 'plan/sm90/trt10.7.0' has a damaged key"):
        parse(header, {**sections, plan.name: wrong})


def test_section_json_round_trip(real):
    for s in real[1].values():
        again = M.parse_header(PATH, M.header_json({}, [s.to_json()], 1), 1)
        assert again == [s]


@pytest.mark.parametrize("value", [10 ** 400, -(10 ** 400), 2 ** 53 + 1])
def test_absurd_numbers_are_refused_not_overflowed(real, value):
    for field in ("width", "fps"):
        header = copy.deepcopy(real[0])
        header["source"][field] = value
        with pytest.raises(M.BundleError, match=f"manifest source {field} must be"):
            parse(header, real[1])


def test_shape_fields_are_bounded(real):
    """A damaged depth must not make the reader build a billion-entry shape table."""
    header = copy.deepcopy(real[0])
    header["model"]["layers"] = 10 ** 12
    with pytest.raises(M.BundleError, match="manifest model layers must be an integer from 1 to 1024, got"):
        parse(header, real[1])
