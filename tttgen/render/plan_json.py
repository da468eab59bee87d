"""plan.json: which output tiles each core computes, per matmul, validated to cover every tile once."""

from __future__ import annotations

from typing import Any

from tttgen.errors import PipelineError
from tttgen.ir.configs import MATMUL_1D, MATMUL_2D, MATMUL_DRAM_SHARDED
from tttgen.ir.graph import Graph, Op
from tttgen.tiling import ceil_div


def partition(op: Op, device_banks: int) -> dict[str, Any]:
    """Output-tile blocks per core as [m0, m1) x [n0, n1) tile ranges (per batch when not fused)."""
    d = op.decisions
    shape, cfg = d["shape"], d["program"]
    mt = shape.mt * (shape.batch if cfg.fuse_batch else 1)
    nt = shape.nt
    if cfg.type == MATMUL_DRAM_SHARDED:
        pcm, pcn = 1, ceil_div(nt, device_banks)
        order = "bank order: one worker per DRAM bank"
    else:
        pcm, pcn = cfg.per_core_M, cfg.per_core_N
        order = "block order: N blocks along grid x, M blocks along grid y" if cfg.type == MATMUL_2D else (
            "row-major over the N blocks" if cfg.type == MATMUL_1D and cfg.mcast_in0 else "column-major over the M blocks"
        )
    blocks = []
    core = 0
    for mb in range(ceil_div(mt, pcm)):
        for nb in range(ceil_div(nt, pcn)):
            blocks.append({"core": core, "m": [mb * pcm, min(mt, (mb + 1) * pcm)], "n": [nb * pcn, min(nt, (nb + 1) * pcn)]})
            core += 1
    validate(op.key, blocks, mt, nt)
    return {"op": op.key, "order": order, "m_tiles": mt, "n_tiles": nt, "blocks": blocks}


def validate(key: str, blocks: list[dict[str, Any]], mt: int, nt: int) -> None:
    seen = [[0] * nt for _ in range(mt)]
    for b in blocks:
        for m in range(*b["m"]):
            for n in range(*b["n"]):
                seen[m][n] += 1
    bad = sum(1 for row in seen for count in row if count != 1)
    if bad:
        raise PipelineError(f"work partition of {key} assigns {bad} output tiles other than exactly once")


def plan_document(graph: Graph) -> dict[str, Any]:
    return {"matmuls": [partition(op, graph.device.dram.banks) for op in graph.ops_of("linear")]}
