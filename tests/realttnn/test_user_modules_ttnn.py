"""User module descriptions with integer id inputs (tests/data/user_modules/), judged by the real ttnn 0.81.1 on a
mock device (issue 22): token ids go to the device as ttnn.embedding takes them, and forward runs every mode."""

from pathlib import Path

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.realttnn.check import verdict_for_rendered

DATA = Path(__file__).resolve().parents[1] / "data" / "user_modules"


@pytest.mark.parametrize("device", ["n150", "p150"])
@pytest.mark.parametrize("name", ["token_linear", "gpt2_trunk"])
def test_id_inputs_are_accepted_in_every_mode(real_ttnn, name, device):
    p = plan(Request(str(DATA / f"{name}.yaml"), device, flags=(("prefill_lens", [128, 256]),)))
    verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    assert {op["phase"] for op in verdict.ops} == {"prefill_128", "prefill_256"}
    embeddings = [op for op in verdict.ops if op["fn"] == "embedding"]
    assert embeddings and all(op["accepted"] == op["calls"] for op in verdict.ops)
