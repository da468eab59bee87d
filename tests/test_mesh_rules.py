"""The rules the mock mesh does not check (tttgen/checking/realttnn/mesh_rules.py), on plain stand-ins: each rule refuses
what ttnn 0.81.1's mock accepted in a probe (more links than the profile gives, a ring on a line, a scattered tile dim
that is not whole tiles per chip, peak_total over the L1 budget) and lets the generated form through."""

from tttgen.checking.realttnn import mesh_rules
from tttgen.checking.realttnn.mesh import mesh_rules as rules_of
from tttgen.inputs.load import load_device


class Tensor:
    def __init__(self, *shape, layout="Layout.TILE"):
        self.shape, self.layout = list(shape), layout


def rules(name):
    return rules_of(load_device(name)[0])


def test_one_chip_has_no_mesh_rules():
    assert rules("n150") is None


def test_the_generated_form_passes_every_rule():
    t3k = rules("t3k")
    x = Tensor(1, 1, 32, 1024)
    assert mesh_rules.before("all_gather", (x,), {"dim": 3, "cluster_axis": 1, "num_links": 1, "topology": "Topology.Ring"}, t3k) is None
    assert mesh_rules.before("reduce_scatter", (Tensor(1, 1, 32, 8192),), {"dim": 3, "cluster_axis": 1, "num_links": 1}, t3k) is None
    assert mesh_rules.before("add", (x,), {"num_links": 9}, t3k) is None  # not a collective
    assert mesh_rules.after("all_gather", {"l1_total": 36864}, t3k) is None


def test_more_links_than_the_profile_gives_are_refused():
    problem = mesh_rules.before("all_gather", (Tensor(1, 1, 32, 1024),), {"dim": 3, "cluster_axis": 1, "num_links": 4}, rules("t3k"))
    assert "num_links=4" in problem and "allowed: 1..1" in problem


def test_a_ring_on_a_line_is_refused():
    problem = mesh_rules.before("all_gather", (Tensor(1, 1, 32, 1024),), {"dim": 3, "cluster_axis": 1, "topology": "Topology.Ring"}, rules("n300"))
    assert "topology Ring" in problem and "allowed: Linear" in problem


def test_a_scatter_not_whole_tiles_per_chip_is_refused():
    # 288 columns over 8 chips: 36 each (the mock accepted it)
    problem = mesh_rules.before("reduce_scatter", (Tensor(1, 1, 32, 288),), {"dim": 3, "cluster_axis": 1}, rules("t3k"))
    assert "36 elements per chip" in problem
    # a row-major tensor or a dim above the tile dims has no tiles to keep whole
    assert mesh_rules.before("reduce_scatter", (Tensor(1, 1, 32, 288, layout="Layout.ROW_MAJOR"),), {"dim": 3, "cluster_axis": 1}, rules("t3k")) is None
    assert mesh_rules.before("all_gather", (Tensor(3, 1, 32, 64),), {"dim": 0, "cluster_axis": 1}, rules("t3k")) is None


def test_a_2d_mesh_needs_a_cluster_axis():
    problem = mesh_rules.before("all_reduce", (Tensor(1, 1, 32, 1024),), {}, rules("galaxy"))
    assert "no cluster_axis" in problem


def test_peak_total_over_the_l1_budget_is_refused():
    t3k = rules("t3k")
    # the mock accepted an all_gather into L1 of 2,134,048 B per core on Wormhole
    assert "over the L1 budget" in mesh_rules.after("all_gather", {"l1_total": 2_134_048}, t3k)
    assert mesh_rules.after("matmul", {"l1_total": 2_134_048}, t3k) is None  # ttnn itself judges non-collectives
