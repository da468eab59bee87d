"""IR checks run after every pass: the decisions a stage promises exist, and matmuls stay legal."""

from __future__ import annotations

from tttgen.errors import PipelineError
from tttgen.ir.graph import Graph
from tttgen.ops.kinds import kind_of

# annotation -> decisions every op must carry after that pass; each kind adds its own (OpKind.promises)
PROMISES: dict[str, tuple[str, ...]] = {
    "precision": ("dtypes", "kernel"),
    "op_costs": ("time_ns",),
}


def verify(graph: Graph, stage: str) -> None:
    keys = [op.key for op in graph.ops]
    if len(set(keys)) != len(keys):
        raise PipelineError(f"after pass '{stage}': duplicate op keys")
    for annotation in sorted(graph.annotated):
        for op in graph.ops:
            needed = PROMISES.get(annotation, ()) + kind_of(op).promises.get(annotation, ())
            missing = [d for d in needed if d not in op.decisions]
            if missing:
                raise PipelineError(f"after pass '{stage}': {op.key} lacks {missing} promised by '{annotation}'")
    for op in graph.ops:
        broken = kind_of(op).violations(op, graph)
        if broken:
            raise PipelineError(f"after pass '{stage}': {op.key} {broken}")
    for w in graph.weights:
        if "precision" in graph.annotated and "dtype" not in w.decisions:
            raise PipelineError(f"after pass '{stage}': weight {w.name} has no dtype")
    if "matmul_program" in graph.annotated:
        from tttgen.rules.matmul import MatmulCase, matmul_violations

        for op in graph.ops_of("linear"):
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
