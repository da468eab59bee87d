"""Per-core L1 estimates: the matmul program factories' circular buffers, plus the L1 tensors an op
reads or writes in place.

Circular buffers follow the ttnn program factories (matmul_multicore_reuse_mcast_{1d,2d,dram_sharded}
_program_factory.cpp); buffers backed by a sharded tensor (a sharded in0, a sharded output) take no
circular-buffer space of their own, and the tensor's shard is counted instead. Everything is summed
per core, as the allocator reserves an L1 tensor's shard at the same address on every core.
"""

from __future__ import annotations

from tttgen.cost.l1 import BUFFERING_DEPTH, interm_tile_bytes, ttnn_cb_estimate
from tttgen.ir.configs import MATMUL_1D, MATMUL_2D, MATMUL_DRAM_SHARDED, CoreRanges, MemoryPlacement
from tttgen.rules.case import MatmulCase
from tttgen.tiling import ceil_div

# The DRAM-sharded factory triple-buffers in1 (matmul_multicore_reuse_mcast_dram_sharded_program_factory.cpp);
# the other families double-buffer their inputs (MCAST_INPUT_BUFFERING_DEPTH).
DRAM_SHARDED_IN1_BUFFERING = 3


def sharded_bytes_per_core(placement: MemoryPlacement, dtype_tile_bytes: int) -> int:
    """Bytes one core holds of an L1-sharded tensor (shard in whole tiles)."""
    if not placement.sharded or placement.buffer != "L1" or not placement.shard_shape:
        return 0
    h, w = placement.shard_shape
    return ceil_div(h, 32) * ceil_div(w, 32) * dtype_tile_bytes


def _interm_dtype(case: MatmulCase, num_blocks: int) -> str:
    """Format of the partials CB: FP32 with fp32 accumulation, else bf16 when the packer accumulates in
    L1 across K blocks, else the output format. The 2D factory turns packer L1 accumulation on from 3
    K blocks, the 1D and DRAM-sharded ones from 2; 2 is used for all (never fewer bytes)."""
    if case.kernel.fp32_dest_acc_en:
        return "float32"
    if case.kernel.packer_l1_acc and num_blocks > 1:
        return "bfloat16"
    return case.out_dtype


def _out_and_interm(case: MatmulCase, block_tiles: int, interm: str, out_cb_static: bool, split: bool) -> int:
    """Output and partials CBs: one buffer for both when they share a format (and the factory does not
    split them), two otherwise. An output CB backed by the sharded output tensor takes no CB space."""
    tb = case.device.tile_bytes
    out_cb = block_tiles * tb[case.out_dtype] if out_cb_static else 0
    if interm == case.out_dtype and not split:
        return out_cb
    return out_cb + block_tiles * tb[interm]


def dram_sharded_compute_n(n_tiles: int, banks: int, limit: int) -> int:
    """Output tiles each bank's worker computes: ceil(Nt / banks), widened to whole subblocks of the
    widest width <= limit that needs fewer subblocks (the factory's subblock widening)."""
    per_core = ceil_div(n_tiles, banks)
    w = next(d for d in range(min(limit, per_core), 0, -1) if per_core % d == 0)
    count, best = per_core // w, w
    for wider in range(w + 1, limit + 1):
        if ceil_div(per_core, wider) < count:
            count, best = ceil_div(per_core, wider), wider
    return best * count


def matmul_cb_bytes(case: MatmulCase) -> int:
    """Statically allocated circular buffers of one core, as the program factory sizes them."""
    tb = case.device.tile_bytes
    cfg = case.config
    num_blocks = case.shape.kt // cfg.in0_block_w
    interm = _interm_dtype(case, num_blocks)
    if cfg.type == MATMUL_DRAM_SHARDED:
        banks = case.device.dram.banks
        if case.in1.shard_shape:  # banks holding only padding get no worker
            width = case.in1.shard_shape[1] // 32
            banks -= max(0, width * banks - case.shape.nt) // width
        per_core_n = ceil_div(case.shape.nt, banks)
        compute_n = dram_sharded_compute_n(case.shape.nt, banks, 4 if case.kernel.fp32_dest_acc_en else 8)
        depth = num_blocks > 1
        # The bias CB holds one row of the widened output block (per_core_N_compute tiles), single-buffered; a
        # fused activation adds no CB. Exact against ttnn 0.81.1 on mock n150 and p150 (tests/test_l1_probes.py).
        bias = compute_n * tb[case.bias_dtype] if case.bias_dtype else 0
        return (
            bias
            + cfg.per_core_M * cfg.in0_block_w * (BUFFERING_DEPTH if depth else 1) * tb[case.in0_dtype]
            + per_core_n * cfg.in0_block_w * (DRAM_SHARDED_IN1_BUFFERING if depth else 1) * tb[case.in1_dtype]
            + _out_and_interm(case, cfg.per_core_M * compute_n, interm, out_cb_static=True, split=False)
        )
    if cfg.type not in (MATMUL_1D, MATMUL_2D):
        # Reuse (never emitted): ttnn's own estimate
        shard_w_tiles = ceil_div(case.in0.shard_shape[1], 32) if case.in0.sharded and case.in0.shard_shape else 0
        return ttnn_cb_estimate(
            case.device, cfg.per_core_M, cfg.per_core_N, cfg.in0_block_w, in0_dtype=case.in0_dtype,
            in1_dtype=case.in1_dtype, interm_tile=interm_tile_bytes(case.device, case.out_dtype, case.kernel.fp32_dest_acc_en),
            in0_shard_width_tiles=shard_w_tiles,
        )
    block_h = cfg.out_block_h or cfg.per_core_M
    block_w = cfg.out_block_w or cfg.per_core_N
    batches = 1 if cfg.fuse_batch else case.shape.batch
    depth = BUFFERING_DEPTH if batches * num_blocks > 1 else 1
    # The bias CB: one row of the output block (out_block_w tiles, per_core_N without one), single-buffered; a
    # fused activation adds no CB. Exact against ttnn 0.81.1 on mock n150 and p150 (tests/test_l1_probes.py).
    bias = block_w * tb[case.bias_dtype] if case.bias_dtype else 0
    in0_sharded = case.in0.sharded and case.in0.buffer == "L1"
    in1_in_l1 = case.in1.sharded and case.in1.buffer == "L1" and cfg.type == MATMUL_1D
    # An out block smaller than the shard: partials get a CB of their own (ttnn 0.81.1, mock n150: +out block)
    split = case.out.sharded and (cfg.per_core_M != block_h or cfg.per_core_N != block_w)
    in0_cb = block_h * cfg.in0_block_w * depth * tb[case.in0_dtype]
    total = bias + in0_cb + (0 if in1_in_l1 else block_w * cfg.in0_block_w * depth * tb[case.in1_dtype])
    total += _out_and_interm(case, block_h * block_w, interm, out_cb_static=not case.out.sharded, split=split)
    blocks = ceil_div(case.shape.nt, cfg.per_core_N) * ceil_div(case.shape.mt * (case.shape.batch if cfg.fuse_batch else 1), cfg.per_core_M)
    if in0_sharded and cfg.type == MATMUL_1D and case.in0.grid is not None and case.in0.grid.cores > blocks:
        # in0 senders without an output block: ttnn 0.81.1 reports the in0 CB once more on them
        # (measured on a mock device; 0 B off in every probed case)
        total += in0_cb
    return total


def interleaved_l1_bytes_per_core(placement: MemoryPlacement, rows: int, cols: int, dtype_tile_bytes: int, cores: int) -> int:
    """Bytes one core holds of an L1-interleaved tensor: its tiles dealt round-robin over one L1 bank per
    core of the compute grid (exact against ttnn 0.81.1's l1 buffer figure on mock n150 and p150)."""
    if placement.buffer != "L1" or placement.sharded:
        return 0
    return ceil_div(ceil_div(rows, 32) * ceil_div(cols, 32), cores) * dtype_tile_bytes


def matmul_l1_bytes(case: MatmulCase) -> int:
    """Circular buffers of one core plus the L1 input and output tensors it holds (sharded or interleaved)."""
    tb = case.device.tile_bytes
    s = case.shape
    return (
        matmul_cb_bytes(case)
        + sharded_bytes_per_core(case.in0, tb[case.in0_dtype])
        + sharded_bytes_per_core(case.out, tb[case.out_dtype])
        + interleaved_l1_bytes_per_core(case.out, s.batch * s.m, s.n, tb[case.out_dtype], case.device.grid.cores)
    )


def norm_l1_bytes(block_h: int, block_w: int, grid: CoreRanges, fp32_acc: bool, tile_in: int, tile_out: int, tile_weight: int) -> int:
    """Sharded RMSNorm per core: the factory's circular buffers (sharded_layernorm_factory_helpers.cpp
    DFBSizeParams; input and output CBs are their tensors' shards, counted as such). The partials are
    Float32 with fp32 accumulation, bf16 otherwise. Cross-core partials take (x + y - 1) tiles when the
    grid is one rectangle of several rows and columns (two-stage reduce), else one per core.
    Matches ttnn 0.81.1 on a mock device (block_w 2, 3, 4 on 32 cores)."""
    single = 4096 if fp32_acc else 2048
    (x0, y0), (x1, y1) = grid.ranges[0]
    rectangle = len(grid.ranges) == 1
    two_stage = rectangle and x1 > x0 and y1 > y0
    external = (x1 - x0 + 1) + (y1 - y0 + 1) - 1 if two_stage else grid.cores
    block = block_h * block_w
    cbs = (
        2 * 2048  # reduce scaler and epsilon tiles (bf16)
        + single  # global reduce scaler
        + 4 * block_h * single  # E[x^2] partials, E[x^2], its epsilon sum, the multicast result
        + external * single  # partials gathered from the other cores
        + block_w * tile_weight  # gamma
        + 2 * block * single  # x^2 and the normalised x
    )
    return cbs + block * (tile_in + tile_out)


SDPA_KV_ALLOWANCE = 1  # K-block double buffers counted on top of the factory's (see sdpa_l1_bytes)


def sdpa_l1_bytes(
    q_chunk: int, k_chunk: int, head_dim: int, tile_q: int, tile_kv: int, tile_out: int, masked: bool = False
) -> int:
    """SDPA prefill (causal) per core, after sdpa_program_factory.cpp: Q double-buffered, K and V
    double-buffered, QK^T scores and the causal mask, output and two bf16 output accumulators, seven
    statistics columns and four scalar tiles. Exact against ttnn 0.81.1 on a mock n150 for chunks
    32-512 and head_dim 32-256; on a mock p150 some shapes (chunk 128, bf16 K) report one more K-sized
    double buffer and up to 128 B more, so that much is always added: the claim is never below ttnn's.
    `masked` (non-causal with a provided attn_mask, Boltz's pair bias): the mask arrives as a double-buffered
    q_chunk x k_chunk tile block and two q-chunk statistics columns and two scalar tiles of the causal path go;
    exact against ttnn 0.81.1 on mock n150 and p150 for chunks 64, 128 and 256 (head_dim 32)."""
    a, b, h = q_chunk // 32, k_chunk // 32, head_dim // 32
    im = 2048
    factory = (
        2 * a * h * tile_q
        + 4 * b * h * tile_kv
        + a * h * tile_out
        + 2 * a * h * im
        + 2 * a * b * im
        + 7 * a * im
        + 4 * im
    )
    if masked:
        factory += 2 * a * b * im - 2 * a * im - 2 * im - 128
    return factory + SDPA_KV_ALLOWANCE * 2 * b * h * tile_kv + 128


def sdpa_decode_l1_bytes(k_chunk: int, head_dim: int, tile_q: int, tile_kv: int, page_table_row: int = 0) -> int:
    """SDPA decode per core (up to 32 query heads per user): K and V chunks double-buffered, seven
    head-wide tiles (Q, output, accumulators), scores and mask over the K chunk, fourteen statistics and
    scalar tiles, and the cur_pos tensor's page. Fitted to ttnn 0.81.1 on a mock n150 (head_dim 32-256,
    k_chunk 64-1024, bf16 and bfloat8_b caches): exact for 24-32 query heads, above it for fewer.
    Paged, one more buffer holds the user's page-table row (`page_table_row` bytes, its DRAM page as
    aligned): 128 B for a 32-entry row on a mock n150, which is what ttnn reports above the unpaged call."""
    b, h = k_chunk // 32, head_dim // 32
    return 4 * b * h * tile_kv + 7 * h * tile_q + 2 * b * 2048 + 14 * 2048 + 256 + page_table_row
