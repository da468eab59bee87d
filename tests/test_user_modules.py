"""Issue 22: a user's own descriptions of public architectures tttgen does not ship (tests/data/user_modules/: a
token embedding + linear, a GPT-2 block and trunk, a Qwen2 decoder layer, a DINOv2 layer), each with its reference
and adapter beside it. They build (integer id inputs too), verify on the emulator, and every planted bug
(tests/data/user_modules/planted/) fails verify."""

import re
import shutil
from pathlib import Path

import pytest

from tttgen.cli import main
from tttgen.errors import InputError
from tttgen.generate import Request, plan, render_plan
from tttgen.checking.verification import SPREAD_DRAW, verify_module

DATA = Path(__file__).parent / "data" / "user_modules"
PLANTED = DATA / "planted"
LENS = (128, 256)


def user_plan(name: str, device: str = "n150", folder: Path = DATA, lens=LENS):
    return plan(Request(str(folder / f"{name}.yaml"), device, flags=(("prefill_lens", list(lens)),)))


def _edited(pattern: str, replacement: str, count: int):
    """A planted edit of the rendered model.py; fails the test if the pattern does not occur `count` times."""

    def edit(files):
        text, n = re.subn(pattern, replacement, files["model.py"])
        assert n == count, f"{pattern!r} occurs {n} times"
        return {**files, "model.py": text}

    return edit


@pytest.mark.parametrize("device", ["n150", "p150"])
@pytest.mark.parametrize("name", ["token_linear", "gpt2_trunk"])
def test_a_module_with_id_inputs_renders_and_verifies(name, device):
    """Token (and position) ids [1, rows] as inputs: model.py imports torch for to_device's id conversion and reads
    a mode's rows from the ids' last dim; the package runs every mode and matches the reference."""
    p = user_plan(name, device)
    source = render_plan(p)["model.py"]
    assert "\nimport torch\n" in source
    assert "rows = tokens.shape[-1]" in source
    report = verify_module(p)
    assert set(report.pcc) == {"prefill_128", "prefill_256"}
    assert report.passed, report.as_dict()
    if name == "gpt2_trunk":  # the adapter exposes each block's output: compared per layer
        assert set(report.parts["prefill_128"]) == {"blocks.0", "blocks.1"}
        assert report.package_sees_later_rows is False and report.reference_sees_later_rows is False


@pytest.mark.parametrize("name", ["gpt2_block", "qwen2_decoder_layer", "dinov2_layer"])
def test_user_descriptions_of_hugging_face_layers_verify(name):
    report = verify_module(user_plan(name, lens=(128,)))
    assert report.passed, report.as_dict()
    assert report.weights_drawn == SPREAD_DRAW
    assert report.residual == {"y": "x"}
    # every one attends over its rows: the probe ran on both sides, and they agree
    assert report.package_sees_later_rows == report.reference_sees_later_rows == (name == "dinov2_layer")


@pytest.mark.parametrize(
    "name, why",
    [
        ("gpt2_block_not_causal", "the package attends to later rows (not causal), the reference is causal"),
        ("gpt2_block_unmasked_reference", "the package is causal, the reference attends to later rows (not causal)"),
        ("qwen2_decoder_layer_rope_theta", None),
    ],
)
def test_planted_numeric_bugs_fail_verify(name, why):
    report = verify_module(user_plan(name, folder=PLANTED, lens=(128,)))
    assert not report.passed
    assert min(report.pcc["prefill_128"]) < 0.99, report.as_dict()
    assert report.causality_mismatch == why
    if why:
        assert f"  attention mismatch: {why}" in report.lines()


@pytest.mark.parametrize(
    "name, unread",
    [
        ("dinov2_layer_no_layerscale", ["layer_scale1.lambda1", "layer_scale2.lambda1"]),
        ("qwen2_decoder_layer_no_bias", ["self_attn.k_proj.bias", "self_attn.q_proj.bias", "self_attn.v_proj.bias"]),
    ],
)
def test_planted_missing_parameters_fail_before_running(name, unread):
    """A description without the reference's LayerScale or biases: every unread parameter, at once, with the line."""
    with pytest.raises(InputError) as err:
        verify_module(user_plan(name, folder=PLANTED, lens=(128,)))
    text = err.value.render()
    assert f"{len(unread)} problems" in text
    line = next(i for i, t in enumerate((PLANTED / f"{name}.yaml").read_text().splitlines(), 1) if "  torch:" in t)
    for key in unread:
        assert f"{name}.yaml:{line}: field 'reference.torch': the reference's '{key}'" in text


@pytest.mark.parametrize(
    "name, pattern, replacement, count",
    [
        # LayerScale dropped from the package (the description's weights still load): the update changes
        ("dinov2_layer", r'ttnn\.multiply\(ao, self\.w\["ls1"\]', "ttnn.multiply(ao, 1.0", 1),
        ("dinov2_layer", r'ttnn\.multiply\(m, self\.w\["ls2"\]', "ttnn.multiply(m, 1.0", 1),
        # Qwen2's q/k/v bias dropped
        ("qwen2_decoder_layer", r'bias=self\.w\["bqkv"\],', "", 1),
        ("gpt2_block", r'bias=self\.w\["c_fc_bias"\],', "", 1),
    ],
)
def test_the_weight_draw_exposes_dropped_scales_and_biases(name, pattern, replacement, count):
    """At the references' own inits LayerScale is 1 and biases are 0, so dropping them could not fail; verify's
    draw (spread_weights) makes each one move the output well past the threshold."""
    report = verify_module(user_plan(name, lens=(128,)), edit_files=_edited(pattern, replacement, count))
    assert min(report.pcc["prefill_128"]) < 0.98, report.as_dict()


def _copy(tmp_path: Path, name: str, edit=lambda text: text) -> Path:
    for f in DATA.glob("*.py"):
        shutil.copy(f, tmp_path / f.name)
    target = tmp_path / f"{name}.yaml"
    target.write_text(edit((DATA / f"{name}.yaml").read_text()))
    return target


def _line(path: Path, needle: str) -> int:
    return next(i for i, t in enumerate(path.read_text().splitlines(), 1) if needle in t)


def test_a_missing_adapter_is_exit_2_with_its_line(tmp_path, capsys, monkeypatch):
    path = _copy(tmp_path, "gpt2_block", lambda t: t.replace("gpt2_adapter.py:block", "gpt2_adapters.py:block"))
    monkeypatch.setattr("sys.argv", ["tttgen", "verify", str(path), "--device", "n150", "--prefill-lens", "128"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"gpt2_block.yaml:{_line(path, 'adapter:')}: field 'reference.adapter': no file 'gpt2_adapters.py'" in err
    assert "Traceback" not in err


def test_a_missing_adapter_function_names_what_the_file_defines(tmp_path):
    path = _copy(tmp_path, "gpt2_block", lambda t: t.replace("gpt2_adapter.py:block", "gpt2_adapter.py:blok"))
    with pytest.raises(InputError) as err:
        verify_module(plan(Request(str(path), "n150", flags=(("prefill_lens", [128]),))))
    text = err.value.render()
    assert f":{_line(path, 'adapter:')}: field 'reference.adapter': 'gpt2_adapter.py' defines no 'blok'" in text
    assert "block, block_without_mask, causal_mask, trunk" in text


def test_checkpoint_keys_and_shapes_are_checked_against_the_reference(tmp_path):
    """Every mismatch at once, each on the weight's line: a key the reference lacks, a shape its transforms cannot
    make, a reference parameter no weight reads."""

    def edit(text):
        text = text.replace('key: "ln_1.bias"', 'key: "ln_1.b"')  # missing (and ln_1.bias unread)
        # shape: a transpose copied from a description of nn.Linear weights (GPT-2's Conv1D is [in, out] already)
        return text.replace(
            'key: "attn.c_attn.weight", role', 'key: "attn.c_attn.weight", transforms: [{kind: transpose}], role'
        )

    path = _copy(tmp_path, "gpt2_block", edit)
    with pytest.raises(InputError) as err:
        verify_module(plan(Request(str(path), "n150", flags=(("prefill_lens", [128]),))))
    text = err.value.render()
    assert "3 problems" in text
    assert f":{_line(path, 'ln_1_bias:')}: field 'weights.ln_1_bias': weight 'ln_1_bias' reads 'ln_1.b'" in text
    assert (
        f":{_line(path, '  c_attn:')}: field 'weights.c_attn': weight 'c_attn' is [384, 128] from the reference's "
        "'attn.c_attn.weight' [128, 384], not [128, 384] as declared" in text
    )
    assert "the reference's 'ln_1.bias' [128] is read by no weight" in text


def test_a_reference_that_raises_is_exit_2_naming_its_field(tmp_path):
    # the adapter names its argument after transformers' (hidden_states), not after the description's input (x)
    (tmp_path / "broken.py").write_text("def block(layer, hidden_states):\n    return layer(hidden_states)\n")
    path = _copy(tmp_path, "gpt2_block", lambda t: t.replace("gpt2_adapter.py:block", "broken.py:block"))
    with pytest.raises(InputError) as err:
        verify_module(plan(Request(str(path), "n150", flags=(("prefill_lens", [128]),))))
    assert (
        "field 'reference.adapter': calling it on (x [1, 128, 128] float32) raised TypeError: block() got an unexpected keyword argument 'x'"
        in err.value.render()
    )


def test_cli_prints_how_weights_were_drawn_and_each_part(capsys, monkeypatch):
    args = ["verify", str(DATA / "gpt2_trunk.yaml"), "--device", "n150", "--prefill-lens", "128"]
    monkeypatch.setattr("sys.argv", ["tttgen", *args])
    main()  # exits only on failure
    out = capsys.readouterr().out
    assert f"weights: {SPREAD_DRAW}" in out
    assert re.search(r"prefill_128\s+blocks\.1 PCC 0\.99", out)
    assert "earlier rows change with the last row: package no, reference no" in out
    assert out.rstrip().endswith("PASS")


def test_validate_finds_a_missing_reference_file(tmp_path, capsys, monkeypatch):
    path = _copy(tmp_path, "token_linear", lambda t: t.replace("token_linear_ref.py:", "token_linear_reference.py:"))
    monkeypatch.setattr("sys.argv", ["tttgen", "validate", str(path)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f":{_line(path, '  torch:')}: field 'reference.torch': no file 'token_linear_reference.py' beside" in err
