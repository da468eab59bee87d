"""What the optimizer minimises when a decision trades one mode against another: time per token."""

from __future__ import annotations

from tttgen.ir.graph import Graph, Op


def token_weight(graph: Graph, op: Op) -> float:
    """Weight of one op's time in the per-token objective.

    A decode step produces one token per user: with optimize=latency the step is what a user waits
    for (weight 1); with optimize=throughput the batch shares it (weight 1/batch). A prefill forward
    is amortised over its prompt tokens (weight 1/length).
    """
    if op.mode == "decode":
        return 1.0 if graph.hints.optimize == "latency" else 1.0 / graph.hints.batch
    return 1.0 / op.seq
