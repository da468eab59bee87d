"""Mesh packages judged by the real ttnn 0.81.1 on a mock mesh: the package runner opens the mesh as the package
does (its own open_mesh), places every weight per its mapper (per-chip shapes) and runs prefill and decode over every
layer, collectives included. A package that runs a collective without the fabric set is refused, as ttnn refuses it.
(llama-3.1-70b on t3k, 80 layers, 9199 calls, was accepted the same way: about 30 s; kept out of the suite.)
A data-parallel module package (the Boltz pairformer layer, one design per chip) is accepted on the 2x2 Blackhole
and the 1x2 N300 mock meshes; one that forgets to shard its designs is refused (every chip would get all of them)."""

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.realttnn.check import verdict_for_rendered

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


PAIRFORMER = Request("boltz_pairformer_layer", "p150x4", params=(("n", "64"),))


@pytest.mark.parametrize("device", ["p150x4", "n300"])
def test_data_parallel_module_package_is_accepted_on_the_mock_mesh(real_ttnn, device):
    p = plan(Request("boltz_pairformer_layer", device, params=(("n", "64"),)))
    assert p.graph.facts["mesh"]["strategy"] == "data_parallel"
    verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
    assert verdict.ok, verdict.findings
    assert [ph["status"] for ph in verdict.phases] == ["ran"]  # forward on one design per chip
    assert sum(op["calls"] for op in verdict.ops) >= 100 and all(op["accepted"] == op["calls"] for op in verdict.ops)
    assert not [op for op in verdict.ops if op["fn"] in ("all_gather", "reduce_scatter", "all_reduce")]


def test_designs_not_sharded_over_the_chips_are_refused(real_ttnn):
    p = plan(PAIRFORMER)
    files = render_plan(p)
    files["model.py"] = files["model.py"].replace("mesh_mapper=self.design_mapper", "mesh_mapper=None")
    verdict = verdict_for_rendered(files, p.out_subdir, p.graph)
    assert not verdict.ok
    assert any("must have shape [1, 1, 64, 384]" in f for f in verdict.findings), verdict.findings


@pytest.mark.parametrize(
    "planted, message",
    [
        (("num_links=1", "num_links=2"), "num_links=2 on mesh axis 1"),
        (("ttnn.Topology.Linear", "ttnn.Topology.Ring"), "topology Ring on mesh axis 1"),
    ],
)
def test_what_the_mock_accepts_but_hardware_refuses_is_reported(real_ttnn, planted, message):
    """The mock mesh accepts two links on N300's one and a ring on its line (probed); the runner's mesh rules refuse
    them with the package line, as a rejection by ttnn would be."""
    p = plan(Request(TINY, "n300", None, SMALL))
    files = render_plan(p)
    assert planted[0] in files["model.py"]
    files["model.py"] = files["model.py"].replace(*planted)
    verdict = verdict_for_rendered(files, p.out_subdir, p.graph)
    assert not verdict.ok
    assert any(message in f and "model.py:" in f for f in verdict.findings), verdict.findings
