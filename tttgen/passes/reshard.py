"""Pass `reshard`: resolve every decode reshard op to its consumer's placement, or elide it.

Inputs: matmul in0/out placements (matmul_program), fixed placements (memory).
Produces: `reshard` (reshard decisions `in0`, `out`, `elide`; an elementwise op reading matmul outputs directly
gets its first operand's placement as `in0` and `out`).

Structure used (no op names): the ops of a mode are in dataflow order, and build.py puts each reshard between the
op whose output it moves (fact `src`, else the op before it) and the op that reads it (fact `dst`, else the op
after it). An elementwise op right after a run of matmuls reads their outputs, the first being its first operand.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from tttgen.ir.graph import Graph, Op
from tttgen.passes.base import make_pass


def _mode_ops(ops: Sequence[Op], op: Op) -> list[Op]:
    return [o for o in ops if o.mode_key == op.mode_key]


def matmul_operand(ops: Sequence[Op], op: Op) -> Op | None:
    """The first of the matmuls right before `op` in its mode (its first operand), or None when `op` does not
    directly follow a matmul."""
    mode = _mode_ops(ops, op)
    i = [o.key for o in mode].index(op.key)
    first = None
    while i > 0 and mode[i - 1].kind == "linear":
        i -= 1
        first = mode[i]
    return first


def producer(ops: Sequence[Op], op: Op) -> Op:
    """The op whose output a reshard moves: fact `src`, else the op before it in its mode."""
    mode = _mode_ops(ops, op)
    if "src" in op.facts:
        return next(o for o in mode if o.name == op.facts["src"])
    return mode[[o.key for o in mode].index(op.key) - 1]


def consumer(ops: Sequence[Op], op: Op) -> Op:
    """The op that reads a reshard's output: fact `dst`, else the op after it in its mode."""
    mode = _mode_ops(ops, op)
    if "dst" in op.facts:
        return next(o for o in mode if o.name == op.facts["dst"])
    return mode[[o.key for o in mode].index(op.key) + 1]


def same_placement(a, b) -> bool:
    """Equal placements need no move. A matmul's output spec, which ttnn infers (`infer_shard`), is the one
    tttgen predicted for it (rules.placement.width_sharded_out): equal to an explicit spec of the same shards."""
    if a is None or b is None:
        return a == b
    return replace(a, infer_shard=False) == replace(b, infer_shard=False)


@make_pass("reshard", requires=("matmul_program", "memory"), produces=("reshard",))
def reshard(graph: Graph) -> Graph:
    """Insert the moves between producer and consumer placements; equal placements need none."""
    ops = list(graph.ops)
    for i, op in enumerate(ops):
        if op.mode == "decode" and op.kind == "binary":
            first = matmul_operand(ops, op)
            if first is not None:
                ops[i] = op.decide(in0=first.decisions["out"], out=first.decisions["out"])
    for i, op in enumerate(ops):
        if op.kind != "reshard":
            continue
        src = producer(ops, op).decisions["out"]
        dst = consumer(ops, op).decisions["in0"]
        ops[i] = op.decide(in0=src, out=dst, elide=same_placement(src, dst))
    return graph.with_ops(ops)
