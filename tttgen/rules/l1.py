"""Per-core L1 estimates, following ttnn's circular-buffer estimate (matmul_utilities.cpp)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tttgen.ir.configs import MATMUL_DRAM_SHARDED, MemoryPlacement
from tttgen.tiling import ceil_div

if TYPE_CHECKING:
    from tttgen.rules.matmul import MatmulCase

# ttnn double-buffers multicast inputs (MCAST_INPUT_BUFFERING_DEPTH = 2); the DRAM-sharded factory
# triple-buffers in1 (matmul_multicore_reuse_mcast_dram_sharded_program_factory.cpp).
INPUT_BUFFERING = 2
DRAM_SHARDED_IN1_BUFFERING = 3


def sharded_bytes_per_core(placement: MemoryPlacement, dtype_tile_bytes: int) -> int:
    """Bytes one core holds of an L1-sharded tensor (shard in whole tiles)."""
    if not placement.sharded or placement.buffer != "L1" or not placement.shard_shape:
        return 0
    h, w = placement.shard_shape
    return ceil_div(h, 32) * ceil_div(w, 32) * dtype_tile_bytes


def interm_tile_bytes(case: "MatmulCase") -> int:
    tb = case.device.tile_bytes
    if case.kernel.fp32_dest_acc_en:
        return tb["float32"]
    return max(tb["bfloat16"], tb[case.out_dtype])


def matmul_l1_bytes(case: "MatmulCase") -> int:
    """Circular buffers of one core plus the sharded activation it stores."""
    tb = case.device.tile_bytes
    cfg = case.config
    t_in0, t_in1, t_out = tb[case.in0_dtype], tb[case.in1_dtype], tb[case.out_dtype]
    if cfg.type == MATMUL_DRAM_SHARDED:
        per_core_n = ceil_div(case.shape.nt, case.device.dram.banks)
        cbs = (
            cfg.per_core_M * cfg.in0_block_w * INPUT_BUFFERING * t_in0
            + per_core_n * cfg.in0_block_w * DRAM_SHARDED_IN1_BUFFERING * t_in1
            + cfg.per_core_M * per_core_n * t_out
            + cfg.per_core_M * per_core_n * interm_tile_bytes(case)
        )
    else:
        cbs = (
            cfg.per_core_M * cfg.in0_block_w * INPUT_BUFFERING * t_in0
            + cfg.per_core_N * cfg.in0_block_w * INPUT_BUFFERING * t_in1
            + cfg.per_core_M * cfg.per_core_N * t_out
            + cfg.per_core_M * cfg.per_core_N * interm_tile_bytes(case)
        )
    # A sharded in0 is read in place but still occupies L1; a sharded output *is* the out CB (counted).
    return cbs + sharded_bytes_per_core(case.in0, t_in0)


def norm_l1_bytes(block_h: int, block_w: int, tile_in: int, tile_out: int, tile_weight: int) -> int:
    """Sharded RMSNorm: input and output shards, gamma, and ~3 block-sized scratch buffers
    (x^2, reduce partials, normalised x). tttgen's own estimate; ttnn publishes no formula."""
    block = block_h * block_w
    return block * (tile_in + tile_out) + block_w * tile_weight + 3 * block * 2048 + 4 * 2048


def sdpa_l1_bytes(q_chunk: int, k_chunk: int, head_dim: int, tile_q: int, tile_kv: int) -> int:
    """SDPA prefill per core: Q chunk, double-buffered K and V chunks, QK^T scores, output and
    statistics buffers. tttgen's own estimate of the factory's circular buffers."""
    qt, kt, dt = q_chunk // 32, k_chunk // 32, head_dim // 32
    return (
        qt * dt * tile_q
        + 2 * kt * dt * tile_kv * 2
        + qt * kt * 4096
        + qt * dt * 4096
        + 4 * qt * 4096
    )
