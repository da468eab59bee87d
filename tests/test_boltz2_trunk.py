"""One Boltz-2 recycling step as one package (boltz2_trunk, issue 25): the input projections, the recycling norms
and linears, the MSA module and the Pairformer stack under Boltz-2's checkpoint keys, run on the emulator next to
boltz 2.2.1's own modules chained as Boltz2.forward chains them (3 Pairformer and 2 MSA layers, small widths), with padded tokens;
and planted bugs that must fail: the recycled s and z dropped, the MSA module's z not added."""

import pytest
from planted import planted

from tttgen.generate import Request, plan
from tttgen.checking.verification import rendered_files, verify_module

pytest.importorskip("boltz.model.modules.trunkv2", reason="boltz 2.2.1 is installed by `make install`")

SMALL = (
    ("n", "64"),
    ("num_blocks", "3"),  # the two loops run different counts, each its own configs constant
    ("msa_blocks", "2"),
    ("token_s", "64"),
    ("token_z", "32"),
    ("heads", "2"),
    ("msa_s", "32"),
    ("msa_rows", "96"),  # never mistaken for 64 tokens
)


def test_trunk_step_matches_boltz_with_padded_tokens():
    """50 real tokens of 64: s and z after one recycling step match boltz's on the same mask."""
    report = verify_module(plan(Request("boltz2_trunk", "n150", params=SMALL)), padded_tokens=14)
    assert report.api_findings == []
    assert report.passed and len(report.pcc["prefill_64"]) == 2, report.as_dict()


def test_trunk_keys_are_the_boltz2_checkpoint_keys():
    graph = plan(Request("boltz2_trunk", "p150", params=(("n", "64"),))).graph
    keys = {k for w in graph.weights for k in w.hf_names}
    for key in ("s_init.weight", "z_init_1.weight", "z_init_2.weight", "s_norm.weight", "z_norm.bias",
                "s_recycle.weight", "z_recycle.weight", "msa_module.msa_proj.weight", "msa_module.s_proj.weight",
                "msa_module.layers.{i}.pair_weighted_averaging.proj_m.weight",
                "pairformer_module.layers.{i}.tri_mul_out.p_in.weight"):
        assert key in keys, key
    assert {w.loop_count for w in graph.weights if w.per_layer} == {4, 64}


@pytest.mark.parametrize(
    "bug",
    [
        planted(
            (r"s1 = ttnn\.add\(s0, sr,", "s1 = ttnn.add(s0, ttnn.multiply(sr, 0.0),"),
            (r"z1 = ttnn\.add\(z0, zrec,", "z1 = ttnn.add(z0, ttnn.multiply(zrec, 0.0),"),
        ),
        planted((r"z2 = ttnn\.add\(z1, zm,", "z2 = ttnn.add(z1, ttnn.multiply(zm, 0.0),")),
    ],
    ids=["recycling-dropped", "msa-z-not-added"],
)
def test_a_broken_trunk_step_fails(bug):
    report = verify_module(plan(Request("boltz2_trunk", "n150", params=SMALL)), edit_files=bug)
    assert not report.passed, report.as_dict()


def test_readme_runs_the_trunk_on_featurised_input():
    readme = rendered_files(plan(Request("boltz2_trunk", "p150", params=(("num_blocks", "2"),))), None)["README.md"]
    assert "`model.forward_tokens(s_inputs, z_feats, s, z, msa)`" in readme
    # the description's usage: the host featurisation with boltz's own modules, then every recycling step
    assert "## Use it" in readme and "boltz.input_embedder(feats)" in readme
    assert "s, z = model.forward_tokens(s_inputs, z_feats, s, z, msa)" in readme


def test_two_loops_with_one_var_and_two_counts_are_refused(tmp_path):
    """They would share one configs constant (the MSA module's 4 layers run 64 times)."""
    import shutil

    from tttgen.errors import InputError
    from tttgen.inputs.module import MODULE_DIR

    text = (MODULE_DIR / "boltz2_trunk.yaml").read_text()
    broken = text.replace("{msa_layer}", "{layer}").replace("var: msa_layer", "var: layer")
    assert broken != text
    (tmp_path / "boltz2_trunk.yaml").write_text(broken)
    shutil.copy(MODULE_DIR / "boltz_references.py", tmp_path / "boltz_references.py")
    p = plan(Request(str(tmp_path / "boltz2_trunk.yaml"), "n150", params=SMALL))
    with pytest.raises(InputError, match="two looped calls name their loop var 'layer' but run"):
        rendered_files(p, None)
