"""Pass `chunking`: rows per prefill matmul call and SDPA chunk sizes, from device limits.

Inputs: prefill lengths, device.prefill_len_cutoff / max_qkv_prefill_rows / wo_prefill_rows, L1 budget.
Produces: `chunking` (matmul decision `shape`: the per-call MatmulShape with the row chunk as batch;
`calls` for each prefill matmul whose input model.py reshapes into those chunks (an unchunked linear over a batched
[1, B, M, K] input gets its B batches as chunks: ttnn runs B matmuls of M rows); a matmul that reads
another's reshaped input (fact `shares_input_with`: w3 reads w1's) gets that op's chunk and no `calls`;
SDPA decisions `q_chunk_size`, `k_chunk_size`).
"""

from __future__ import annotations

from math import prod

from tttgen.ir.configs import MatmulShape
from tttgen.ir.graph import Graph, Op
from tttgen.ops.kinds import kind_of
from tttgen.passes.base import make_pass
from tttgen.rules.l1 import sdpa_l1_bytes
from tttgen.tiling import divisors

SDPA_CHUNKS = (512, 256, 128, 64, 32)


def row_chunk(seq: int, limit: int) -> int:
    """Largest multiple of 128 dividing `seq` and at most `limit` (seq itself when it fits). A length with no such
    divisor (PI0's 544-token prefix, 17 tiles) runs whole: chunks of one tile would multiply the calls by 17, and
    the matmul search and the L1 rules still judge the whole call."""
    if seq <= limit:
        return seq
    return max((d for d in divisors(seq) if d <= limit and d % 128 == 0), default=seq)


# weight role -> the device limit on rows per prefill call for matmuls of that role; other roles use
# device.prefill_len_cutoff (tt_transformers reshapes QKV and WO inputs with their own limits).
ROW_LIMIT_BY_ROLE = {"WQKV": "max_qkv_prefill_rows", "WO": "wo_prefill_rows"}


def _matmul_rows_limit(op: Op, graph: Graph) -> int:
    """Rows per prefill call where tt_transformers reshapes the input into row chunks on this device."""
    role = graph.weight(op.weight).role
    return getattr(graph.device, ROW_LIMIT_BY_ROLE.get(role, "prefill_len_cutoff"))


def sdpa_chunk(seq: int, heads: int, head_dim: int, graph: Graph, masked: bool = False) -> int:
    """Largest chunk that divides seq, fits L1 and still gives every core a (batch x head, chunk) unit."""
    cores = graph.device.grid.cores
    tb = graph.device.tile_bytes["bfloat16"]
    for chunk in SDPA_CHUNKS:
        if seq % chunk:
            continue
        if sdpa_l1_bytes(chunk, chunk, head_dim, tb, tb, tb, masked) > graph.device.l1_budget:
            continue
        if heads * seq // chunk >= cores or chunk == 32:
            return chunk
    return 32


@make_pass("chunking", requires=("precision",), produces=("chunking",))
def chunking(graph: Graph) -> Graph:
    """Split long prefills into row chunks the matmul and attention kernels can hold."""

    def matmul_rows(op: Op) -> Op:
        shape = op.shape
        if op.mode == "prefill" and op.scope == "layer":
            owner = op.facts.get("shares_input_with")
            reads = graph.op(f"{op.mode_key}.{owner}") if owner else op
            rows = row_chunk(shape.m, _matmul_rows_limit(reads, graph))
            shape = MatmulShape(m=rows, k=shape.k, n=shape.n, batch=shape.m // rows)
            if owner is None:
                return op.decide(shape=shape, calls=shape.batch)
        elif op.mode == "prefill" and shape.batch == 1 and op.dataflow:
            # an unchunked linear over a batched input ([1, B, M, K]): ttnn runs B matmuls of M rows (its Mt is one
            # batch's, rule r31), so the search sees that shape and model.py passes the input as those B chunks
            dims = op.dataflow["shapes"]["in"]["input"]
            batch = prod(dims[:-2])
            if batch > 1:
                shape = MatmulShape(m=dims[-2], k=shape.k, n=shape.n, batch=batch)
                if not op.facts.get("shares_input_with"):  # a sibling reads the owner's chunks
                    return op.decide(shape=shape, calls=batch)
        return op.decide(shape=shape)

    def sdpa(op: Op) -> Op:
        q = op.dataflow["shapes"]["in"]["q"] if op.dataflow else (1, op.facts["num_heads"], op.seq)
        batch_heads = prod(q[:-2])  # a batched SDPA (Boltz triangle attention: one batch per row) has more units
        masked = bool(op.dataflow and "mask" in op.dataflow["in"])
        chunk = sdpa_chunk(q[-2], batch_heads, op.facts["head_dim"], graph, masked)
        return op.decide(q_chunk_size=chunk, k_chunk_size=chunk)

    def sdpa_decode(op: Op) -> Op:
        max_seq = graph.hints.max_seq_len
        chunk = next(c for c in SDPA_CHUNKS if max_seq % c == 0)
        return op.decide(q_chunk_size=0, k_chunk_size=chunk)

    planners = {"matmul_rows": matmul_rows, "sdpa": sdpa, "sdpa_decode": sdpa_decode}  # a kind's chunk_planner

    def decide(op: Op) -> Op:
        planner = kind_of(op).chunk_planner
        return planners[planner](op) if planner else op

    return graph.with_ops(decide(op) for op in graph.ops)
