"""Pass `op_programs`: program configs of sharded RMSNorm (decode), SDPA (both modes) and activation matmuls.

Inputs: placements (memory), chunk sizes (chunking). Produces: `op_programs` (decisions `program`,
`l1_bytes`, `cores` for rms_norm, sdpa, sdpa_chunked and sdpa_decode ops; `program`, `shape` for matmul; `qk`,
`qk_program`, `pv`, `pv_program`, `softcap_fused` for the attention written out as ops (sdpa_explicit*); whether
ttnn.softcap runs on the device, `softcap_fused`, for softcap).
An activation matmul (two activations in DRAM, batched over the leading dims) gets the fastest config of the matmul
search seeded with the one ttnn itself derives for that call (tttgen.cost.ttnn_auto): printed explicitly so the
package states it, priced by the cost model and judged by the real ttnn like every other config.
"""

from __future__ import annotations

from tttgen.cost.ttnn_auto import ttnn_auto_config
from tttgen.ir.configs import DRAM_INTERLEAVED, MATMUL_2D, MatmulConfig, MatmulShape, NormConfig, SdpaConfig
from tttgen.ir.graph import Graph, Op
from tttgen.ops.kinds import kind_of
from tttgen.passes.base import make_pass
from tttgen.rules.l1 import norm_l1_bytes, sdpa_decode_l1_bytes, sdpa_l1_bytes
from tttgen.rules.other import has_fused_softcap
from tttgen.tiling import largest_divisor_at_most, round_up

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


def activation_matmul_config(op: Op, graph: Graph) -> tuple[MatmulShape, MatmulConfig]:
    """The per-call shape of an activation matmul and its program config: the fastest legal one the matmul search
    finds (a batched second operand allows only fuse_batch=False, which is all the search enumerates for a batch
    above 1), seeded with the config ttnn derives for the call, so never modeled slower than ttnn's own."""
    from tttgen.passes.matmul_program import search

    f, d = op.facts, op.decisions
    shape = MatmulShape(m=f["m"], k=f["k"], n=f["n"], batch=f["batch"])
    auto = ttnn_auto_config(
        graph.device,
        shape,
        in0_dtype=d["dtypes"]["in0"],
        in1_dtype=d["dtypes"]["in1"],
        out_dtype=d["dtypes"]["out"],
        fp32_dest_acc_en=d["kernel"].fp32_dest_acc_en,
        batch_b=f["batch_b"],
    )
    dtypes = (d["dtypes"]["in0"], d["dtypes"]["in1"], d["dtypes"]["out"])
    seeds = ((auto, DRAM_INTERLEAVED, DRAM_INTERLEAVED),) if auto.type == MATMUL_2D else ()
    best, _, _ = search(graph.device, shape, d["kernel"], dtypes, DRAM_INTERLEAVED, False, seeds)
    return shape, best.config if best is not None else auto


@make_pass("op_programs", requires=("memory", "chunking", "precision"), produces=("op_programs",))
def op_programs(graph: Graph) -> Graph:
    """Fill the non-matmul program configs from the chosen placements and chunk sizes."""
    device = graph.device
    tb = device.tile_bytes
    grid = (device.grid.x, device.grid.y)

    def norm(op: Op) -> Op:
        if op.mode == "decode" and op.decisions["in0"].sharded:  # an interleaved norm takes no program
            cfg = norm_config(op, graph)
            dt = op.decisions["dtypes"]
            l1 = norm_l1_bytes(
                cfg.block_h, cfg.block_w, op.decisions["in0"].grid, op.decisions["kernel"].fp32_dest_acc_en,
                tb[dt["in0"]], tb[dt["out"]], tb[dt["in1"]],
            )
            return op.decide(program=cfg, l1_bytes=l1, cores=op.decisions["in0"].grid.cores)
        return op.decide(program=None, l1_bytes=None, cores=device.grid.cores)

    def sdpa(op: Op, decode: bool) -> Op:
        q, k = op.decisions["q_chunk_size"], op.decisions["k_chunk_size"]
        cfg = SdpaConfig(grid=grid, q_chunk_size=q, k_chunk_size=k)
        dt = op.decisions["dtypes"]
        if decode:
            table = op.dataflow["shapes"]["in"].get("page_table") if op.dataflow else None
            row = round_up(table[-1] * 4, device.noc.dram_alignment_bytes) if table else 0  # int32 block ids
            l1 = sdpa_decode_l1_bytes(k, op.facts["head_dim"], tb[dt["in0"]], tb[dt["in1"]], row)
        else:
            masked = bool(op.dataflow and "mask" in op.dataflow["in"])
            l1 = sdpa_l1_bytes(q, k, op.facts["head_dim"], tb[dt["in0"]], tb[dt["in1"]], tb[dt["out"]], masked)
        return op.decide(program=cfg, l1_bytes=l1, cores=device.grid.cores)

    def searched_matmul(op: Op) -> Op:
        shape, cfg = activation_matmul_config(op, graph)
        return op.decide(shape=shape, program=cfg)

    def explicit_attention(op: Op) -> Op:
        """The two batched matmuls of an attention written out as ttnn ops (sdpa_explicit*): their shapes and the
        program config ttnn derives for each (the call passes none), and the cap's form on this device."""
        f, d = op.facts, op.decisions
        q = op.dataflow["shapes"]["in"]["q"]
        group = f["num_heads"] // f["num_kv_heads"]
        if op.mode == "decode":  # q regrouped as [users, kv_heads, group, head_dim] against the cache
            batch, rows = q[-2] * f["num_kv_heads"], group  # q as the graph shapes it: [1, heads, users, d]
        else:  # KV heads repeated per query head
            batch, rows = q[0] * f["num_heads"], q[-2]
        qk = MatmulShape(m=rows, k=f["head_dim"], n=f["kv_rows"], batch=batch)
        pv = MatmulShape(m=rows, k=f["kv_rows"], n=f["head_dim"], batch=batch)
        kv = d["dtypes"]["in1"] or d["dtypes"]["in0"]

        def auto(shape: MatmulShape) -> MatmulConfig:
            return ttnn_auto_config(
                device, shape, in0_dtype=d["dtypes"]["in0"], in1_dtype=kv, out_dtype=d["dtypes"]["out"],
                fp32_dest_acc_en=d["kernel"].fp32_dest_acc_en, batch_b=shape.batch,
            )

        return op.decide(
            qk=qk, qk_program=auto(qk), pv=pv, pv_program=auto(pv), softcap_fused=has_fused_softcap(device)
        )

    def softcap(op: Op) -> Op:
        return op.decide(softcap_fused=has_fused_softcap(device))

    # a kind's program_planner -> how its program config is chosen
    planners = {
        "norm": norm,
        "sdpa": lambda op: sdpa(op, decode=False),
        "sdpa_decode": lambda op: sdpa(op, decode=True),
        "searched_matmul": searched_matmul,
        "explicit_attention": explicit_attention,
        "softcap": softcap,
    }

    def decide(op: Op) -> Op:
        planner = kind_of(op).program_planner
        return planners[planner](op) if planner else op

    return graph.with_ops(decide(op) for op in graph.ops)
