"""Boltz-2 pair-track and composite modules (issue 9): descriptions with `sizes` (the token count n of a pair tensor
[1, n, n, c] per mode), their generated packages on the emulator next to the boltz 2.2.1 torch modules, and the
checks that make those comparisons able to fail."""

import os
import re

import pytest

from tttgen.errors import InputError
from tttgen.generate import Request, plan
from tttgen.checking.verification import verify_module

pytest.importorskip("boltz.model.modules.transformersv2", reason="boltz 2.2.1 is installed by `make install`")

SUBMODULES = [
    "boltz_triangle_mult_outgoing",
    "boltz_triangle_mult_incoming",
    "boltz_triangle_attention_start",
    "boltz_triangle_attention_end",
    "boltz_attention_pair_bias",
    "boltz_outer_product_mean",
    "boltz_pair_weighted_averaging",
    "boltz_single_conditioning",
]
# MSA modules verified on 64 MSA rows (Boltz-2 subsamples 1024, the description's default and the golden's)
PARAMS = {"boltz_outer_product_mean": (("s", "64"),), "boltz_pair_weighted_averaging": (("s", "64"),)}


def edited(pattern, replacement):
    def edit(files):
        model = re.sub(pattern, replacement, files["model.py"])
        assert model != files["model.py"], f"the planted bug {pattern!r} matched nothing"
        return {**files, "model.py": model}

    return edit


@pytest.mark.parametrize("device", ["n150", "p150"])
@pytest.mark.parametrize("module", SUBMODULES)
def test_pair_module_matches_boltz_at_n_64_and_256(module, device):
    report = verify_module(plan(Request(module, device, params=PARAMS.get(module, ()))))
    assert report.api_findings == []
    assert set(report.pcc) == {"prefill_64", "prefill_256"}
    assert report.passed, report.as_dict()


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_pairformer_layer_matches_boltz(device):
    """Both tracks compared as their updates (out - input): the residual would otherwise hide a missing branch. At
    n = 64 (its submodules are each verified at 64 and 256 above); the layer at every size is the slow form below."""
    report = verify_module(plan(Request("boltz_pairformer_layer", device, params=(("n", "64"),))))
    assert set(report.pcc) == {"prefill_64"}
    assert report.passed and all(len(v) == 2 for v in report.pcc.values()), report.as_dict()


@pytest.mark.skipif(os.environ.get("TTTGEN_SLOW_TESTS") != "1", reason="every size: TTTGEN_SLOW_TESTS=1")
@pytest.mark.slow
@pytest.mark.parametrize("device", ["n150", "p150"])
def test_pairformer_layer_matches_boltz_at_every_size(device):
    report = verify_module(plan(Request("boltz_pairformer_layer", device)))
    assert report.passed and all(len(v) == 2 for v in report.pcc.values()), report.as_dict()


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_diffusion_transformer_layer_matches_boltz(device):
    report = verify_module(plan(Request("boltz_diffusion_transformer_layer", device)))
    assert report.passed, report.as_dict()


def test_a_dropped_attention_branch_fails_the_residual_comparison():
    p = plan(Request("boltz_diffusion_transformer_layer", "n150", params=(("n", "64"),)))
    # the attention's output, read by the fused gate-multiply-add block (or its ttnn form), zeroed
    report = verify_module(p, edit_files=edited(r"(= \w+\(a, gate, )attn\)", r"\1ttnn.multiply(attn, 0.0))"))
    assert not report.passed and max(report.pcc["prefill_64"]) < 0.9


def test_the_pair_bias_mask_and_the_triangle_permutes_are_seen():
    p = plan(Request("boltz_triangle_attention_start", "n150", params=(("n", "64"),)))
    assert not verify_module(p, edit_files=edited(r"\s*attn_mask=attn_bias,", "")).passed
    p = plan(Request("boltz_triangle_mult_outgoing", "n150", params=(("n", "64"),)))
    assert not verify_module(p, edit_files=edited(r"\[0, 3, 2, 1\]", "[0, 3, 1, 2]")).passed


def test_msa_and_time_paths_are_seen():
    """OuterProductMean's pair layout, PairWeightedAveraging's per-head softmax and the Fourier time term."""
    p = plan(Request("boltz_outer_product_mean", "n150", params=(("s", "64"), ("n", "64"))))
    assert not verify_module(p, edit_files=edited(r"\[0, 3, 1, 2\]", "[0, 3, 2, 1]")).passed
    p = plan(Request("boltz_pair_weighted_averaging", "n150", params=(("s", "64"), ("n", "64"))))
    assert not verify_module(p, edit_files=edited(r"ttnn\.softmax\(\s*masked", "ttnn.softmax(ttnn.multiply(masked, 0.0)")).passed
    p = plan(Request("boltz_single_conditioning", "n150", params=(("n", "64"),)))
    assert not verify_module(p, edit_files=edited(r"6\.283185307179586", "3.141592653589793")).passed  # cos(pi t)


def test_sizes_give_one_mode_per_token_count_and_a_bound_n_builds_one():
    graph = plan(Request("boltz_triangle_mult_outgoing", "p150")).graph
    assert sorted(graph.facts["io"]) == ["prefill_256", "prefill_64"]
    assert graph.facts["io"]["prefill_64"]["inputs"]["z"] == [1, 64, 64, 128]
    one = plan(Request("boltz_triangle_mult_outgoing", "p150", params=(("n", "96"),))).graph
    assert list(one.facts["io"]) == ["prefill_96"]


def test_the_triangle_product_is_one_batched_matmul_with_ttnn_own_config():
    graph = plan(Request("boltz_triangle_mult_incoming", "n150")).graph
    op = graph.op("prefill_256.triangle")
    assert op.kind == "matmul" and op.facts["batch"] == 128 and op.facts["batch_b"] == 128
    assert op.decisions["program"] is not None and op.decisions["time_ns"] > 0
    assert op.decisions["kernel"].math_fidelity == "HiFi4" and op.decisions["kernel"].fp32_dest_acc_en


def test_reference_fields_name_inputs_and_outputs(tmp_path):
    import yaml

    from tttgen.inputs.module import MODULE_DIR

    data = yaml.safe_load((MODULE_DIR / "boltz_diffusion_transformer_layer.yaml").read_text())
    data["reference"]["masks"] = {"mask": "nope"}
    data["reference"]["residual"] = {"a_out": "missing"}
    path = tmp_path / "dit.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as info:
        plan(Request(str(path), "n150"))
    text = info.value.render()
    assert "reference.masks.mask" in text and "unknown input 'nope'" in text and "reference.residual.a_out" in text


def test_boltz_modules_run_at_tt_boltz_precision_at_the_accuracy_preset():
    """The descriptions' own policy (facts §2.1): bf16 weights, HiFi4 with fp32 accumulation for every op with a
    kernel; the performance preset falls back to the LLM presets."""
    import importlib

    from tttgen.inputs.module import KERNEL_SETTINGS

    assert set(KERNEL_SETTINGS) <= set(importlib.import_module("tttgen.passes.precision").KERNELS)
    graph = plan(Request("boltz_pairformer_layer", "n150", params=(("n", "64"),))).graph
    assert {w.decisions["dtype"] for w in graph.weights if w.role not in ("NORM", "EMBEDDING")} == {"bfloat16"}
    kernels = {op.decisions["kernel"] for op in graph.ops if op.decisions.get("kernel") is not None}
    assert {(k.math_fidelity, k.fp32_dest_acc_en) for k in kernels} == {("HiFi4", True)}
    fast = plan(Request("boltz_pairformer_layer", "n150", None, (("precision", "performance"),), (("n", "64"),)))
    assert "bfloat8_b" in {w.decisions["dtype"] for w in fast.graph.weights}


PADDED = [
    "boltz_triangle_mult_outgoing",
    "boltz_triangle_attention_end",
    "boltz_attention_pair_bias",
    "boltz_pair_weighted_averaging",
    "boltz_pairformer_layer",
    "boltz_diffusion_transformer_layer",
]


@pytest.mark.parametrize("module", PADDED)
def test_padded_tokens_are_masked(module):
    """n = 64 with the last 16 tokens padding (TT-Boltz pads to a multiple of 64): the token mask input zeroes them
    out of the triangle sums and gives them -inf in every attention and weighting; the real tokens' outputs match
    boltz run with the same masks. (MSA rows 96, so they never pass for tokens.)"""
    params = (("n", "64"),) + ((("s", "96"),) if module == "boltz_pair_weighted_averaging" else ())
    report = verify_module(plan(Request(module, "n150", params=params)), padded_tokens=16)
    assert report.passed, report.as_dict()


def test_an_unmasked_triangle_product_or_attention_fails_with_padding():
    p = plan(Request("boltz_triangle_mult_incoming", "n150", params=(("n", "64"),)))
    assert verify_module(p, padded_tokens=16).passed
    unmasked = edited(r"atm = ttnn\.multiply\(at, mask,", "atm = ttnn.multiply(at, 1.0,")
    assert not verify_module(p, edit_files=unmasked, padded_tokens=16).passed
    p = plan(Request("boltz_triangle_attention_start", "n150", params=(("n", "64"),)))
    no_key_bias = edited(r"ttnn\.multiply\(key_off, 1000000000\.0", "ttnn.multiply(key_off, 0.0")
    assert not verify_module(p, edit_files=no_key_bias, padded_tokens=16).passed


def test_padding_a_module_without_a_token_mask_is_refused():
    with pytest.raises(InputError, match="token mask"):
        verify_module(plan(Request("boltz_transition", "n150")), padded_tokens=16)
