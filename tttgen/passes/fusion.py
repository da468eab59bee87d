"""Pass `fusion`: mark ops that may run as a `@ttnn_jit.jit` fused block.

Inputs: placements and dtypes. Produces: `fusion` (op decision `jit`: block name or None, and
`jit_reason`). ttnn-jit's rules (tt-mlir tools/ttnn-jit, reference codegen-anchors 3.3-3.5):
elementwise ops from its supported lists only; TILE layout; dtypes f32/bf16/bfp8; operands DRAM
interleaved or identically sharded in L1 (L1 interleaved is rejected); no reductions or matmuls fused.
"""

from __future__ import annotations

from tttgen.ir.graph import Graph, Op
from tttgen.passes.base import make_pass

JIT_DTYPES = ("float32", "bfloat16", "bfloat8_b")
# op fn -> the ttnn-jit ops its body uses (unary: silu; binary: multiply, add)
JIT_BODIES = {"silu_mul": ("silu", "multiply")}


def jit_verdict(op: Op, enabled: bool) -> tuple[str | None, str]:
    if not enabled:
        return None, "disabled by hint jit=false"
    fn = op.facts.get("fn")
    if fn not in JIT_BODIES:
        return None, f"'{fn}' is not a multi-op elementwise chain worth fusing"
    dtypes = op.decisions["dtypes"]
    if any(d not in JIT_DTYPES for d in (dtypes["in0"], dtypes["out"])):
        return None, "dtype not supported by ttnn-jit (f32, bf16, bfp8 only)"
    placement = op.decisions["in0"]
    if placement.buffer == "DRAM" and placement.layout == "INTERLEAVED":
        return f"{fn}_jit", "DRAM interleaved, bf16, tile layout: eltwise chain fused by ttnn-jit"
    return None, "ttnn-jit runs eltwise on DRAM interleaved here; this op is L1 sharded (kept as ttnn.mul)"


@make_pass("fusion", requires=("reshard", "precision"), produces=("fusion",))
def fusion(graph: Graph) -> Graph:
    """Fuse elementwise chains into ttnn-jit blocks where its rules allow."""

    def decide(op: Op) -> Op:
        if op.kind != "eltwise":
            return op
        block, reason = jit_verdict(op, graph.hints.jit)
        return op.decide(jit=block, jit_reason=reason)

    return graph.with_ops(decide(op) for op in graph.ops)
