"""The score-capped Gemma 2 (modules/gemma2_capped*.yaml: the attention written out as ttnn ops) judged by the real
ttnn 0.81.1 on mock n150 and p150: every op of prefill and decode, all layers; and the rule the softcap kind encodes
(ttnn.softcap runs on Blackhole only) checked against ttnn itself. The published Gemma-2-2B config is judged with
every other published config (test_hf_configs_ttnn.py)."""

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.realttnn.check import verdict_for_rendered

from test_gemma2_capped import TINY, CAPPED

EXPLICIT = {"matmul", "repeat_interleave", "arange", "permute", "subtract", "lt", "ge", "softmax", "tanh"}


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_the_capped_attention_is_accepted_by_ttnn(real_ttnn, device):
    p = plan(Request(str(CAPPED), device, None, TINY))
    verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    assert verdict.phases and all(ph["status"] == "ran" for ph in verdict.phases)
    ran = {op["fn"] for op in verdict.ops}
    assert EXPLICIT - {"tanh"} <= ran, ran
    assert ("softcap" in ran) == (device == "p150")


def test_ttnn_refuses_the_fused_softcap_on_wormhole(real_ttnn):
    p = plan(Request(str(CAPPED), "n150", None, TINY))
    files = render_plan(p)
    unfused = "ttnn.multiply(ttnn.tanh(ttnn.multiply(attn_scores, 1.0)), 1.0)"
    assert unfused in files["model.py"]
    files["model.py"] = files["model.py"].replace(unfused, "ttnn.softcap(attn_scores, 1.0)")
    verdict = verdict_for_rendered(files, p.out_subdir, p.graph)
    assert not verdict.ok
    assert any("BLACKHOLE" in f or "Blackhole" in f for f in verdict.findings), verdict.findings
