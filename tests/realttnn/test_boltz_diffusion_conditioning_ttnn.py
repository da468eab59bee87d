"""Boltz-2's diffusion conditioning (boltz2_diffusion_conditioning, issue 25) judged by the real ttnn 0.81.1 on a
mock device at Boltz-2's widths with 64 tokens (512 atoms) and two token layers; the full-size package (704 tokens,
5632 atoms, 24 token layers) was accepted on n150 and p150 with `tttgen build ... --param n=704 --ttnn-check on`."""

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.realttnn.check import verdict_for_rendered

SMALL = (("n", "64"), ("token_depth", "2"))


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_real_ttnn_accepts_the_diffusion_conditioning(real_ttnn, device):
    p = plan(Request("boltz2_diffusion_conditioning", device, params=SMALL))
    verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    assert {op["phase"] for op in verdict.ops} == {"prefill_64"}
    assert all(op["accepted"] == op["calls"] for op in verdict.ops)
    # the pair conditioner, the atoms' broadcast and the token-bias stack's push all ran
    assert {"concat", "layer_norm", "linear", "matmul", "permute", "slice"} <= {op["fn"] for op in verdict.ops}
