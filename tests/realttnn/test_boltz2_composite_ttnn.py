"""Boltz-2 as one package (boltz2, issue 25) judged by the real ttnn 0.81.1 on a mock device: its three methods
(the trunk's whole recycling, a repeated call of boltz2_trunk; the conditioning returning its token bias stack cut
into per-layer slices; one denoising step) at Boltz-2's widths with 64 tokens (512 atoms), shallow stacks; the
full-size package (704 tokens, 5632 atoms, 64 Pairformer, 4 MSA and 24 token layers, 1024 MSA rows) was accepted on
p150 with `tttgen build boltz2 --device p150 --param n=704 --param max_atoms=5632 --ttnn-check on`."""

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.realttnn.check import verdict_for_rendered

SMALL = (
    ("n", "64"),
    ("num_blocks", "1"),
    ("msa_blocks", "1"),
    ("msa_rows", "96"),
    ("token_depth", "2"),
    ("encoder_depth", "1"),
    ("decoder_depth", "1"),
    ("max_atoms", "512"),
)


def trunk_calls(verdict, fn: str) -> int:
    return sum(op["calls"] for op in verdict.ops if op["phase"] == "trunk" and op["fn"] == fn)


def test_real_ttnn_accepts_the_composite(real_ttnn):
    p = plan(Request("boltz2", "p150", params=SMALL + (("recycling_steps", "1"),)))
    verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    # the recycling on device: the trunk's ops run twice with recycling_steps 1, once with 0 (the same weights)
    p0 = plan(Request("boltz2", "p150", params=SMALL + (("recycling_steps", "0"),)))
    once = verdict_for_rendered(render_plan(p0), p0.out_subdir, p0.graph)
    assert once.ok, once.findings
    assert trunk_calls(once, "linear") > 0 and trunk_calls(verdict, "linear") == 2 * trunk_calls(once, "linear")
    # every method ran: the trunk (forward), the conditioning and the denoising step
    assert {op["phase"] for op in verdict.ops} == {"trunk", "condition", "denoise_step"}
    assert all(op["accepted"] == op["calls"] for op in verdict.ops)
    # the step's per-layer token biases: the conditioning's stack cut into slices once, at the end of condition
    assert any(op["fn"] == "slice" and op["phase"] == "condition" for op in verdict.ops)


def test_real_ttnn_accepts_the_composite_one_design_per_chip_on_the_quietbox(real_ttnn):
    """p150x4, data parallel: every method runs one design per chip, the denoising step's per-layer bias lists
    included (each layer's tensor sharded on dim 0 as every other input); a list left unsharded (every chip given all
    four designs' biases) is refused: the token attention's bias then holds 4 designs where its query holds 1."""
    import re

    p = plan(Request("boltz2", "p150x4", params=SMALL + (("recycling_steps", "0"),)))
    assert p.graph.facts["mesh"]["designs"]["inputs"]["denoise_step"]["token_trans_bias"] == 1
    files = render_plan(p)
    verdict = verdict_for_rendered(files, p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    assert {op["phase"] for op in verdict.ops} == {"trunk", "condition", "denoise_step"}
    assert all(op["accepted"] == op["calls"] for op in verdict.ops)
    unsharded = re.sub(r"mesh_mapper=self\.design_mapper,?\s*\)\s*for x in token_trans_bias",
                       "mesh_mapper=None) for x in token_trans_bias", files["model.py"])
    assert unsharded != files["model.py"]
    refused = verdict_for_rendered({**files, "model.py": unsharded}, p.out_subdir, p.graph)
    assert not refused.ok
    assert any("scaled_dot_product_attention" in f and "Mask batch dim" in f for f in refused.findings), refused.findings
