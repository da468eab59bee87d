"""Module packages built from descriptions, judged by the real ttnn 0.81.1 on a mock device (issue 8)."""

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.realttnn.check import verdict_for_rendered


@pytest.mark.parametrize("device", ["n150", "p150"])
@pytest.mark.parametrize("module", ["mlp", "prenorm_encoder_layer"])
def test_every_call_accepted_and_linear_l1_claims_exact(real_ttnn, module, device):
    p = plan(Request(module, device))
    verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    assert {op["phase"] for op in verdict.ops} == {"prefill_128", "prefill_1024"}  # forward ran in every mode
    linears = [op for op in verdict.ops if op["fn"] == "linear"]
    assert linears and all(op["accepted"] == op["calls"] for op in verdict.ops)
    # With biases: the bias CB (per_core_N tiles) is in tttgen's claim, which equals ttnn's figure.
    for op in linears:
        assert op["l1_claimed"] == op["l1_total"], op
