"""Boltz-2's diffusion conditioning (boltz2_diffusion_conditioning, issue 25) judged by the real ttnn 0.81.1 on a
mock device at Boltz-2's widths with 64 tokens (512 atoms), two token layers and Boltz-2's 3 + 3 atom layers: the
atom-pair p's two-sided broadcasts (key minus query offsets), transposed-b matmuls (the per-window z gather) and the
atom bias stacks included. The full-size package (704 tokens, 5632 atoms, 24 token layers, with the atom-pair p)
was accepted on p150 with `tttgen build ... --param n=704 --param max_atoms=5632 --ttnn-check on` (380 op calls,
80 distinct)."""

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
    # the pair conditioner, the atoms' broadcast, the atom pairs' offsets and the bias stacks' pushes all ran
    assert {"concat", "layer_norm", "linear", "matmul", "permute", "slice", "subtract", "relu"} <= {
        op["fn"] for op in verdict.ops
    }
    # the two-sided broadcasts (key minus query, [K, 1, H, 32] and [K, W, 1, 32]) and the transposed-b matmuls
    judged = {op["key"].split(".")[-1] for op in verdict.ops}
    assert {"offsets", "uid_offsets", "pair_mask", "zp_queries", "zp_keys"} <= judged


def test_real_ttnn_accepts_both_sizes_reading_the_whole_fold_start(real_ttnn):
    """Both sizes built (64 and 256 tokens) in one package: each size's bias fold starts from a slice that is the
    whole [1, 1, 32, 32] weight, which ttnn 0.81.1 returns as the weight itself; deallocating it after the first
    size made the second read a freed weight ("Input Tensor is not allocated"). The whole-box slice is not
    deallocated now."""
    p = plan(Request("boltz2_diffusion_conditioning", "p150", params=(("token_depth", "2"), ("token_s", "96"))))
    files = render_plan(p)
    assert "ttnn.deallocate(b0)" not in files["model.py"]
    verdict = verdict_for_rendered(files, p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    assert {op["phase"] for op in verdict.ops} == {"prefill_64", "prefill_256"}
