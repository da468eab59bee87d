"""The op kinds of tttgen/ops/kinds/: one module per kind, found by listing the package, each complete."""

import re
from pathlib import Path

import pytest

from tttgen.ops.kinds import DESCRIBED, KINDS, kind_of
from tttgen.ops.kinds.base import OpKind
from tttgen.ops.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
MACROS = set(re.findall(r"\{% macro (\w+)\(", (ROOT / "templates" / "ops.j2").read_text()))


def test_each_kind_is_the_module_of_its_name():
    modules = {p.stem for p in (ROOT / "tttgen" / "ops" / "kinds").glob("*.py")} - {"__init__", "base"}
    assert modules == set(KINDS)
    assert all(isinstance(k, OpKind) and k.name == name for name, k in KINDS.items())


def test_descriptions_name_every_kind_but_the_builders_own():
    # the builder adds reshards, the parallelism pass the collectives
    assert set(REGISTRY) == set(DESCRIBED) == set(KINDS) - {"reshard", "all_gather", "reduce_scatter", "all_reduce"}


@pytest.mark.parametrize("name", sorted(k.name for k in KINDS.values() if k.macro))
def test_a_kind_with_a_macro_has_it_in_ops_j2(name):
    assert KINDS[name].macro in MACROS


def test_weight_layouts_name_the_kinds_own_ports():
    for kind in KINDS.values():
        assert set(kind.weight_layouts) <= {p.name for p in kind.inputs}, kind.name
        assert set(kind.weight_layouts.values()) <= {"tile", "norm_rows", "row_major"}, kind.name


def test_an_ir_op_is_asked_as_its_description_kind():
    """One name per kind on both sides of the builder: an IR op's kind is its description kind's name."""
    from tttgen.generate import Request, plan

    paged = (("paged", {}), ("prefill_lens", [128]))
    graph = plan(Request("tests/data/tiny-llama/config.json", "n150", flags=paged)).graph
    found = {(op.kind, op.dataflow.get("kind") if op.dataflow else None) for op in graph.ops}
    assert {(kind, kind) for kind in ("sdpa_chunked", "linear", "binary")} <= found
    assert all(ir == described for ir, described in found if described is not None)
    assert ("reshard", None) in found  # the builder's own moves have no description kind
    assert all(kind_of(op).name == op.kind for op in graph.ops)


def test_binary_infers_the_broadcast_shape_of_both_operands():
    """binary's output is a and b broadcast (either side's size-1 dims stretched); other shapes are refused."""
    from tttgen.ops.kinds.base import ShapeError
    from tttgen.ops.kinds.binary import KIND

    out = KIND.infer({"a": (4, 1, 128, 32), "b": (4, 32, 1, 32)}, {"fn": "sub"}).outputs
    assert out == ((4, 32, 128, 32),)
    assert KIND.infer({"a": (1, 1, 64, 32), "b": (1, 1, 1, 32)}, {"fn": "mul"}).outputs == ((1, 1, 64, 32),)
    with pytest.raises(ShapeError, match="do not broadcast"):
        KIND.infer({"a": (4, 1, 128, 32), "b": (3, 32, 1, 32)}, {"fn": "add"})
