"""Boltz-2's diffusion step (boltz2_diffusion_step, issue 25) judged by the real ttnn 0.81.1 on a mock device at
Boltz-2's widths with 64 tokens and 512 atoms and one layer per loop: the calls of the full-size package (704
tokens, 5632 atoms, 3 + 24 + 3 layers) were accepted on n150 and p150 in about 90 s each
(benchmarks/results/2026-12-07-boltz-diffusion-step.md), over make test's budget for a golden."""

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.realttnn.check import verdict_for_rendered

SMALL = (
    ("n", "64"),
    ("max_atoms", "512"),
    ("encoder_depth", "1"),
    ("decoder_depth", "1"),
    ("token_depth", "1"),
)


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_real_ttnn_accepts_the_diffusion_step(real_ttnn, device):
    p = plan(Request("boltz2_diffusion_step", device, params=SMALL))
    verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    assert {op["phase"] for op in verdict.ops} == {"prefill_64"}
    assert all(op["accepted"] == op["calls"] for op in verdict.ops)
    # the whole step ran: the windowed attention of both atom transformers, the token SDPA, the token mean's matmuls
    assert {"transformer.scaled_dot_product_attention", "matmul", "reciprocal", "permute"} <= {op["fn"] for op in verdict.ops}
