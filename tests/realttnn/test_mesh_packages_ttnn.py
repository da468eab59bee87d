"""Mesh packages judged by the real ttnn 0.81.1 on a mock mesh: the package runner opens the mesh as the package
does (its own open_mesh), places every weight per its mapper (per-chip shapes) and runs prefill and decode over every
layer, collectives included. A package that runs a collective without the fabric set is refused, as ttnn refuses it.
(llama-3.1-70b on t3k, 80 layers, 9199 calls, was accepted the same way: about 30 s; kept out of the suite.)"""

from tttgen.generate import Request, plan, render_plan
from tttgen.realttnn.check import verdict_for_rendered

TINY = "tests/data/tiny-llama/config.json"
SMALL = (("max_seq_len", 256), ("prefill_lens", [128]))


def test_tensor_parallel_package_is_accepted_on_the_mock_n300(real_ttnn):
    p = plan(Request(TINY, "n300", None, SMALL))
    verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    ccls = [op for op in verdict.ops if op["fn"] in ("all_gather", "reduce_scatter", "all_reduce")]
    assert ccls and all(op["accepted"] == op["calls"] for op in ccls)
    assert {op["phase"] for op in ccls} >= {"prefill_128", "decode"}
    # collective L1 is in peak_cb, counted in the runner's l1_total (above the dataflow figure)
    assert all(op["l1_total"] > 0 for op in ccls)


def test_a_collective_without_the_fabric_is_refused(real_ttnn):
    p = plan(Request(TINY, "n300", None, SMALL))
    files = render_plan(p)
    files["model.py"] = files["model.py"].replace(
        "ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D)", "pass  # planted: no fabric"
    )
    verdict = verdict_for_rendered(files, p.out_subdir, p.graph)
    assert not verdict.ok
