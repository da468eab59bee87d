"""Pass `op_programs`: program configs of sharded RMSNorm (decode) and SDPA (both modes).

Inputs: placements (memory), chunk sizes (chunking). Produces: `op_programs` (decisions `program`,
`l1_bytes`, `cores` for rms_norm, sdpa_prefill and sdpa_decode ops).
"""

from __future__ import annotations

from tttgen.ir.configs import NormConfig, SdpaConfig
from tttgen.ir.graph import Graph, Op
from tttgen.passes.base import make_pass
from tttgen.rules.l1 import norm_l1_bytes, sdpa_decode_l1_bytes, sdpa_l1_bytes
from tttgen.tiling import largest_divisor_at_most

NORM_SUBBLOCK_MAX = 4  # tt_transformers create_sharded_norm_config: largest <= 4 dividing block_w


def norm_config(op: Op, graph: Graph) -> NormConfig:
    placement = op.decisions["in0"]
    cores = placement.grid.cores
    block_w = op.facts["dim"] // 32 // cores
    return NormConfig(
        grid=placement.grid.bbox,
        subblock_w=largest_divisor_at_most(block_w, NORM_SUBBLOCK_MAX),
        block_h=op.facts["rows"] // 32,
        block_w=block_w,
    )


@make_pass("op_programs", requires=("memory", "chunking", "precision"), produces=("op_programs",))
def op_programs(graph: Graph) -> Graph:
    """Fill the non-matmul program configs from the chosen placements and chunk sizes."""
    device = graph.device
    tb = device.tile_bytes
    grid = (device.grid.x, device.grid.y)

    def decide(op: Op) -> Op:
        if op.kind in ("rms_norm", "layer_norm"):  # one program config family (LayerNorm*ProgramConfig)
            if op.mode == "decode":
                cfg = norm_config(op, graph)
                dt = op.decisions["dtypes"]
                l1 = norm_l1_bytes(
                    cfg.block_h, cfg.block_w, op.decisions["in0"].grid, op.decisions["kernel"].fp32_dest_acc_en,
                    tb[dt["in0"]], tb[dt["out"]], tb[dt["in1"]],
                )
                return op.decide(program=cfg, l1_bytes=l1, cores=op.decisions["in0"].grid.cores)
            return op.decide(program=None, l1_bytes=None, cores=device.grid.cores)
        if op.kind in ("sdpa_prefill", "sdpa_decode"):
            q, k = op.decisions["q_chunk_size"], op.decisions["k_chunk_size"]
            cfg = SdpaConfig(grid=grid, q_chunk_size=q, k_chunk_size=k)
            dt = op.decisions["dtypes"]
            if op.kind == "sdpa_decode":
                l1 = sdpa_decode_l1_bytes(k, op.facts["head_dim"], tb[dt["in0"]], tb[dt["in1"]])
            else:
                l1 = sdpa_l1_bytes(q, k, op.facts["head_dim"], tb[dt["in0"]], tb[dt["in1"]], tb[dt["out"]])
            return op.decide(program=cfg, l1_bytes=l1, cores=device.grid.cores)
        return op

    return graph.with_ops(decide(op) for op in graph.ops)
