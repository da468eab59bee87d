"""IR checks run after every pass: the decisions a stage promises exist, and matmuls stay legal."""

from __future__ import annotations

from tttgen.errors import PipelineError
from tttgen.ir.graph import Graph

# annotation -> (op kinds it covers, decisions every such op must carry)
PROMISES: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...]]] = {
    "precision": (None, ("dtypes", "kernel")),
    "chunking": (("matmul",), ("shape",)),
    "memory": (("matmul",), ("in1",)),
    "matmul_program": (("matmul",), ("program", "in0", "out", "l1_bytes", "cores", "time_ns")),
    "reshard": (("reshard",), ("in0", "out", "elide")),
    "op_programs": (("rms_norm", "layer_norm", "sdpa_prefill", "sdpa_decode"), ("program",)),
    "fusion": (("eltwise",), ("jit", "jit_reason")),
    "op_costs": (None, ("time_ns",)),
}


def verify(graph: Graph, stage: str) -> None:
    keys = [op.key for op in graph.ops]
    if len(set(keys)) != len(keys):
        raise PipelineError(f"after pass '{stage}': duplicate op keys")
    for annotation in sorted(graph.annotated):
        kinds, needed = PROMISES.get(annotation, ((), ()))
        for op in graph.ops:
            if kinds is not None and op.kind not in kinds:
                continue
            missing = [d for d in needed if d not in op.decisions]
            if missing:
                raise PipelineError(f"after pass '{stage}': {op.key} lacks {missing} promised by '{annotation}'")
    if "chunking" in graph.annotated:
        for op in graph.ops_of("matmul"):
            owner = op.facts.get("shares_input_with")
            if owner is None:
                continue
            mine, theirs = op.decisions["shape"].batch, graph.op(f"{op.mode_key}.{owner}").decisions["shape"].batch
            if mine != theirs:
                raise PipelineError(
                    f"after pass '{stage}': {op.key} reads {owner}'s reshaped input, so it needs {owner}'s "
                    f"{theirs} row chunks, not {mine}"
                )
    for w in graph.weights:
        if "precision" in graph.annotated and "dtype" not in w.decisions:
            raise PipelineError(f"after pass '{stage}': weight {w.name} has no dtype")
    if "matmul_program" in graph.annotated:
        from tttgen.rules.matmul import MatmulCase, matmul_violations

        for op in graph.ops_of("matmul"):
            d = op.decisions
            case = MatmulCase(
                graph.device,
                d["shape"],
                d["program"],
                d["kernel"],
                d["in0"],
                d["in1"],
                d["out"],
                d["dtypes"]["in0"],
                d["dtypes"]["in1"],
                d["dtypes"]["out"],
                bias_dtype=graph.bias_dtype(op),
            )
            broken = matmul_violations(case)
            if broken:
                raise PipelineError(f"after pass '{stage}': {op.key} breaks {broken}")
