"""Per-core L1 estimates, following ttnn's circular-buffer estimate (matmul_utilities.cpp)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tttgen.cost.l1 import BUFFERING_DEPTH, interm_tile_bytes, ttnn_cb_estimate
from tttgen.ir.configs import MATMUL_DRAM_SHARDED, MemoryPlacement
from tttgen.tiling import ceil_div

if TYPE_CHECKING:
    from tttgen.rules.matmul import MatmulCase

# The DRAM-sharded factory triple-buffers in1 (matmul_multicore_reuse_mcast_dram_sharded_program_factory.cpp);
# the other families double-buffer their inputs (BUFFERING_DEPTH, inside ttnn_cb_estimate).
DRAM_SHARDED_IN1_BUFFERING = 3


def sharded_bytes_per_core(placement: MemoryPlacement, dtype_tile_bytes: int) -> int:
    """Bytes one core holds of an L1-sharded tensor (shard in whole tiles)."""
    if not placement.sharded or placement.buffer != "L1" or not placement.shard_shape:
        return 0
    h, w = placement.shard_shape
    return ceil_div(h, 32) * ceil_div(w, 32) * dtype_tile_bytes


def matmul_l1_bytes(case: "MatmulCase") -> int:
    """Circular buffers of one core plus the sharded activation it reads in place."""
    tb = case.device.tile_bytes
    cfg = case.config
    t_interm = interm_tile_bytes(case.device, case.out_dtype, case.kernel.fp32_dest_acc_en)
    in0_resident = sharded_bytes_per_core(case.in0, tb[case.in0_dtype])
    if cfg.type != MATMUL_DRAM_SHARDED:
        # ttnn's own estimate (get_estimated_size_of_cbs), which counts a sharded in0 as per_core_M
        # rows of its shard width; a sharded output *is* its out CB.
        shard_w_tiles = ceil_div(case.in0.shard_shape[1], 32) if in0_resident else 0
        return ttnn_cb_estimate(
            case.device,
            cfg.per_core_M,
            cfg.per_core_N,
            cfg.in0_block_w,
            in0_dtype=case.in0_dtype,
            in1_dtype=case.in1_dtype,
            interm_tile=t_interm,
            in0_shard_width_tiles=shard_w_tiles,
        )
    # The DRAM-sharded factory computes on one worker per bank over ceil(Nt / banks) tiles and
    # triple-buffers in1; ttnn's estimate does not cover it.
    per_core_n = ceil_div(case.shape.nt, case.device.dram.banks)
    return (
        cfg.per_core_M * cfg.in0_block_w * BUFFERING_DEPTH * tb[case.in0_dtype]
        + per_core_n * cfg.in0_block_w * DRAM_SHARDED_IN1_BUFFERING * tb[case.in1_dtype]
        + cfg.per_core_M * per_core_n * tb[case.out_dtype]
        + cfg.per_core_M * per_core_n * t_interm
        + in0_resident
    )


def norm_l1_bytes(block_h: int, block_w: int, tile_in: int, tile_out: int, tile_weight: int) -> int:
    """Sharded RMSNorm: input and output shards, gamma, and ~3 block-sized scratch buffers
    (x^2, reduce partials, normalised x). tttgen's own estimate; ttnn publishes no formula."""
    block = block_h * block_w
    return block * (tile_in + tile_out) + block_w * tile_weight + 3 * block * 2048 + 4 * 2048


def sdpa_l1_bytes(q_chunk: int, k_chunk: int, head_dim: int, tile_q: int, tile_kv: int) -> int:
    """SDPA prefill per core: Q chunk, double-buffered K and V chunks, QK^T scores, output and
    statistics buffers. tttgen's own estimate of the factory's circular buffers."""
    qt, kt, dt = q_chunk // 32, k_chunk // 32, head_dim // 32
    return qt * dt * tile_q + 2 * kt * dt * tile_kv * 2 + qt * kt * 4096 + qt * dt * 4096 + 4 * qt * 4096
