"""The group_norm kind's package (tests/test_group_norm.py) judged by the real ttnn 0.81.1 on a mock device."""

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.realttnn.check import verdict_for_rendered


def test_group_norm_block_is_accepted_by_ttnn(real_ttnn, tmp_path):
    from test_group_norm import DESCRIPTION

    path = tmp_path / "group_norm_block.yaml"
    path.write_text(DESCRIPTION)
    p = plan(Request(str(path), "n150"))
    verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    norms = [op for op in verdict.ops if op["fn"] == "group_norm"]
    assert {op["phase"] for op in norms} == {"prefill_128", "prefill_1024"}
    assert all(op["accepted"] == op["calls"] for op in norms)


def test_an_in_place_group_norm_is_refused_by_ttnn(real_ttnn, tmp_path):
    """The rule the kind encodes (inplace=False): without it ttnn refuses the TILE input."""
    from test_group_norm import DESCRIPTION

    path = tmp_path / "group_norm_block.yaml"
    path.write_text(DESCRIPTION)
    p = plan(Request(str(path), "n150"))
    files = render_plan(p)
    files["model.py"] = files["model.py"].replace("inplace=False,", "")
    verdict = verdict_for_rendered(files, p.out_subdir, p.graph)
    assert not verdict.ok
    assert any("Tile layout requires non-inplace tensors" in f for f in verdict.findings)
