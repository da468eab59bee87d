"""Linears that read one tensor (the projections pass): the Boltz triangle multiplication's p_a, g_a, p_b, g_b and
triangle attention's pair_bias, wqkv, gate run as one linear each or as one fused linear over their weights side by
side plus a slice per linear. The cost model chooses, an override pins either form, both verify against boltz on
the emulator, and a fused package whose slices are out of order fails."""

import re

import pytest

from tttgen.errors import InputError
from tttgen.explain import explain_rows, explain_table
from tttgen.generate import Request, plan, render_plan

pytest.importorskip("boltz.model.modules.transformersv2", reason="boltz 2.2.1 is installed by `make install`")

from tttgen.checking.verification import verify_module  # noqa: E402

GROUPS = {  # module -> (the member an override names, the members, the fused linear's name)
    "boltz_triangle_mult_outgoing": ("p_a", ["p_a", "g_a", "p_b", "g_b"], "p_a_g_a_p_b_g_b"),
    "boltz_triangle_attention_start": ("wqkv", ["pair_bias", "wqkv", "gate"], "pair_bias_wqkv_gate"),
}


def pinned(module, device, form, n="64"):
    member = GROUPS[module][0]
    return plan(Request(module, device, None, (("overrides", {member: {"projection": form}}),), params=(("n", n),)))


def kinds(p, names):
    return {op.name: op.kind for op in p.graph.ops if op.name in names}


@pytest.mark.parametrize("device", ["n150", "p150"])
@pytest.mark.parametrize("module", sorted(GROUPS))
def test_each_pinned_form_verifies_against_boltz(module, device):
    _, members, fused_name = GROUPS[module]
    fused, separate = pinned(module, device, "fused"), pinned(module, device, "separate")
    assert set(kinds(fused, members).values()) == {"slice"} and kinds(fused, [fused_name]) == {fused_name: "linear"}
    assert set(kinds(separate, members).values()) == {"linear"} and not kinds(separate, [fused_name])
    for p in (fused, separate):
        report = verify_module(p)
        assert report.passed, report.as_dict()
    # the fused weight is read from the same checkpoint keys: one state dict loads either package
    keys = [render_plan(p)["weights.py"].split("def checkpoint_keys")[1].split("return keys")[0] for p in (fused, separate)]
    assert keys[0] == keys[1]


def test_slices_out_of_order_fail():
    """The planted bug: the fused output's first two quarters read the wrong way round (p_a's columns as g_a)."""
    p = pinned("boltz_triangle_mult_outgoing", "n150", "fused")

    def swapped(files):
        model = files["model.py"]
        edited = model.replace("[0, 0, 0, 0], [1, 64, 64, 128])", "[0, 0, 0, 128], [1, 64, 64, 256])", 1)
        edited = re.sub(r"(ga = ttnn\.slice\(\w+, )\[0, 0, 0, 128\], \[1, 64, 64, 256\]\)", r"\1[0, 0, 0, 0], [1, 64, 64, 128])", edited, count=1)
        assert edited != model and edited.count("[0, 0, 0, 0], [1, 64, 64, 128])") == 1
        return {**files, "model.py": edited}

    assert verify_module(p).passed
    assert not verify_module(p, edit_files=swapped).passed


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_the_cost_model_chooses_and_explain_says_why(device):
    p = plan(Request("boltz_triangle_mult_outgoing", device, params=(("n", "704"),)))
    (group,) = p.graph.facts["projection_groups"]
    assert group["members"] == ["p_a", "g_a", "p_b", "g_b"]  # g_out is another weight group (WO)
    ns = group["form_ns"]
    assert group["form"] == ("fused" if ns["fused"] < ns["separate"] else "separate")
    # the separate form's price is what the generated linears are modeled at
    linears = sum(op.decisions["time_ns"] for op in p.graph.ops if op.name in group["members"] and op.kind == "linear")
    if group["form"] == "separate":
        assert linears == pytest.approx(ns["separate"], rel=1e-6)
    text = explain_table(explain_rows(p.graph))
    assert f"prefill.p_a:zn: {group['form']}:" in text and "us fused against" in text
    detail = explain_table(explain_rows(p.graph, "g_a"), detail=True)
    assert "projection (prefill.p_a:zn)" in detail


def test_pins_that_cannot_hold_are_refused():
    with pytest.raises(InputError, match="has a bias"):  # attention_pair_bias's wqkv carries q's bias
        plan(Request("boltz_attention_pair_bias", "n150", None, (("overrides", {"wqkv": {"projection": "fused"}}),)))
    both = {"p_a": {"projection": "fused"}, "g_b": {"projection": "separate"}}
    with pytest.raises(InputError, match="pin both"):
        plan(Request("boltz_triangle_mult_outgoing", "n150", None, (("overrides", both),)))


def test_a_projection_pin_on_a_linear_without_siblings_is_refused():
    with pytest.raises(InputError, match="p_out: projection pins"):
        plan(Request("boltz_triangle_mult_outgoing", "n150", None, (("overrides", {"p_out": {"projection": "fused"}}),)))


def test_fused_groups_inside_called_modules_verify():
    """Every group of a Pairformer layer pinned fused (the two triangle multiplications' and the two triangle
    attentions', each in its own called module): the layer still matches boltz's PairformerLayer."""
    groups = ("tri_mul_out.p_a", "tri_mul_in.p_a", "tri_att_start.wqkv", "tri_att_end.rows.wqkv")
    flags = (("overrides", {k: {"projection": "fused"} for k in groups}),)
    p = plan(Request("boltz_pairformer_layer", "p150", None, flags, params=(("n", "64"),)))
    assert [g["form"] for g in p.graph.facts["projection_groups"]] == ["fused"] * 4
    report = verify_module(p)
    assert report.passed, report.as_dict()
