"""Pass `reshard`: resolve every decode reshard op to its consumer's placement, or elide it.

Inputs: matmul in0/out placements (matmul_program), fixed placements (memory).
Produces: `reshard` (reshard decisions `in0`, `out`, `elide`; swiglu placements = w1 output).
"""

from __future__ import annotations

from tttgen.ir.graph import Graph, Op
from tttgen.passes.base import make_pass


@make_pass("reshard", requires=("matmul_program", "memory"), produces=("reshard",))
def reshard(graph: Graph) -> Graph:
    """Insert the moves between producer and consumer placements; equal placements need none."""
    ops = list(graph.ops)
    by_key = {op.key: i for i, op in enumerate(ops)}

    def find(op: Op, name: str) -> Op:
        return ops[by_key[f"{op.mode_key}.{name}"]]

    for i, op in enumerate(ops):
        if op.mode == "decode" and op.name == "swiglu":
            w1 = find(op, "w1")
            ops[i] = op.decide(in0=w1.decisions["out"], out=w1.decisions["out"])
    for i, op in enumerate(ops):
        if op.kind != "reshard" or "dst" not in op.facts:
            continue
        src = find(op, op.facts["src"]).decisions["out"]
        dst = find(op, op.facts["dst"]).decisions["in0"]
        ops[i] = op.decide(in0=src, out=dst, elide=src == dst)
    for i, op in enumerate(ops):
        if op.kind == "reshard" and op.name == "qkv_to_interleaved":
            ops[i] = op.decide(in0=find(op, "wqkv").decisions["out"], elide=False)
        elif op.kind == "reshard" and "elide" not in op.decisions:
            ops[i] = op.decide(elide=False)
    return graph.with_ops(ops)
