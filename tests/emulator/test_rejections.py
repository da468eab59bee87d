"""Inputs the emulator cannot interpret are rejected with a specific error (op, rule and values in the message).

Only what the emulator needs to compute or place a result is checked here: shapes that must agree, shard specs that
say which rows each core holds, the output placement a program config implies, positions inside a cache. ttnn's
legality rules (subblocks, divisibility, grids, L1) are not the emulator's: tests/realttnn/test_emulator_agrees.py
proves that the real ttnn rejects the cases this file used to test.
"""

from __future__ import annotations

import pytest
import torch

from emu_helpers import height_sharded, to_dev, rejects as _rejects


def _2d(ttnn, **kw):
    base = dict(
        compute_with_storage_grid_size=(8, 8),
        in0_block_w=2,
        out_subblock_h=1,
        out_subblock_w=1,
        per_core_M=1,
        per_core_N=1,
        transpose_mcast=False,
        fused_activation=None,
        fuse_batch=True,
    )
    base.update(kw)
    return ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(**base)


@pytest.fixture
def mm(ttnn, device):
    a = to_dev(ttnn, device, torch.randn(1, 1, 128, 256))
    b = to_dev(ttnn, device, torch.randn(1, 1, 256, 512), dtype=ttnn.bfloat8_b)
    return a, b


# ------------------------------------------------------------------------------------------------ matmul


def test_k_mismatch_and_untiled_operands(ttnn, device):
    a = to_dev(ttnn, device, torch.randn(1, 1, 32, 64))
    b = to_dev(ttnn, device, torch.randn(1, 1, 96, 64))
    _rejects(ttnn, "matmul.k_mismatch", lambda: ttnn.linear(a, b), match="(64 != 96)")
    a5 = to_dev(ttnn, device, torch.randn(1, 1, 5, 64))
    _rejects(ttnn, "contract.tile_height", lambda: ttnn.linear(a5, to_dev(ttnn, device, torch.randn(1, 1, 64, 64))))
    _rejects(ttnn, "tensor.tile_width_alignment", lambda: to_dev(ttnn, device, torch.randn(1, 1, 32, 100)))
    rm = to_dev(ttnn, device, torch.randn(1, 1, 64, 64), layout=ttnn.ROW_MAJOR_LAYOUT)
    _rejects(ttnn, "layout.tile", lambda: ttnn.linear(a, rm))
    _rejects(
        ttnn,
        "tensor.bfp_needs_tile",
        lambda: to_dev(ttnn, device, torch.randn(32, 32), dtype=ttnn.bfloat8_b, layout=ttnn.ROW_MAJOR_LAYOUT),
    )


def test_sharded_output_is_placed_from_the_program_config(ttnn, device, mm):
    """ttnn derives a sharded output's shard spec from the program config; the emulator places the output the same
    way, and refuses a placement that cannot hold the output."""
    a, b = mm  # Mt 4, Nt 16
    pc = _2d(ttnn, compute_with_storage_grid_size=(8, 4), per_core_N=2)
    out = ttnn.linear(a, b, program_config=pc, memory_config=ttnn.L1_BLOCK_SHARDED_MEMORY_CONFIG)
    spec = out.memory_config().shard_spec
    assert spec.shape == [32, 64] and spec.grid.bounding_box().grid_size() == ttnn.CoreCoord(8, 4)
    # (32, 64) shards cannot hold whole 512-wide rows (ttnn: "Shard width 64 must match physical width 512")
    _rejects(
        ttnn,
        "shard.height_width",
        lambda: ttnn.linear(a, b, program_config=pc, memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG),
        match="shard width 64 must equal the tensor width 512",
    )
    one_d = ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig(
        compute_with_storage_grid_size=(4, 2),
        in0_block_w=2,
        out_subblock_h=1,
        out_subblock_w=1,
        per_core_M=4,
        per_core_N=1,
        fuse_batch=True,
        mcast_in0=True,
    )
    _rejects(
        ttnn,
        "matmul.output_cores",
        lambda: ttnn.linear(a, b, program_config=one_d, memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG),
        match="16 blocks, one per core, but the 4x2 grid has 8 cores",
    )


def test_sharded_input_rows_must_be_the_blocks_rows(ttnn, device):
    """A sharded input A is read in place: per_core_M must be its shard height (a JIT block's default block-sharded
    output reaching a matmul configured for an interleaved activation)."""
    grid = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(7, 7))})
    mem = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.BLOCK_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, (32, 32), ttnn.ShardOrientation.ROW_MAJOR),
    )
    a = to_dev(ttnn, device, torch.randn(1, 1, 256, 256), mem=mem)
    w = to_dev(ttnn, device, torch.randn(1, 1, 256, 512))
    _rejects(
        ttnn,
        "matmul.in0_shard_rows",
        lambda: ttnn.linear(
            a, w, program_config=_2d(ttnn, compute_with_storage_grid_size=(8, 4), per_core_M=2, per_core_N=2)
        ),
        match="per_core_M (2) must equal shard_shape[0] / in0_tile.get_height() (1)",
    )
    ttnn.linear(a, w, program_config=_2d(ttnn, per_core_M=1, per_core_N=2))


# ------------------------------------------------------------------------------------------------ shard specs


def test_inconsistent_shard_specs(ttnn, device):
    x = torch.randn(1, 1, 32, 256)

    def l1_width(grid, shard):
        return ttnn.MemoryConfig(
            ttnn.TensorMemoryLayout.WIDTH_SHARDED,
            ttnn.BufferType.L1,
            ttnn.ShardSpec(grid, shard, ttnn.ShardOrientation.ROW_MAJOR),
        )

    grid4 = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(3, 0))})
    not_covering = l1_width(grid4, (32, 32))
    _rejects(ttnn, "shard.cover", lambda: to_dev(ttnn, device, x, mem=not_covering), match="needs 8")
    not_tiles = l1_width(grid4, (32, 48))
    _rejects(ttnn, "shard.tile_multiple", lambda: to_dev(ttnn, device, x, mem=not_tiles))
    outside = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(5, 0), ttnn.CoreCoord(8, 1))})
    off_grid = l1_width(outside, (32, 32))
    _rejects(ttnn, "shard.grid_outside_device", lambda: to_dev(ttnn, device, x, mem=off_grid))
    wrong_height = l1_width(grid4, (64, 64))
    _rejects(ttnn, "shard.width_height", lambda: to_dev(ttnn, device, x, mem=wrong_height))
    with pytest.raises(RuntimeError, match="Invalid sharding core_grid"):
        ttnn.create_sharded_memory_config((1, 1, 32, 250), ttnn.CoreGrid(x=8, y=1), ttnn.ShardStrategy.WIDTH)
    _rejects(ttnn, "shard.missing_spec", lambda: to_dev(ttnn, device, x, mem=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG))
    dram_bad = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.WIDTH_SHARDED,
        ttnn.BufferType.DRAM,
        ttnn.ShardSpec(
            ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(12, 0))}),
            (32, 32),
            ttnn.ShardOrientation.ROW_MAJOR,
        ),
    )
    _rejects(ttnn, "shard.dram_grid", lambda: to_dev(ttnn, device, x, mem=dram_bad))


# ------------------------------------------------------------------------------------------------ norms


def test_norm_reads_gamma_and_residual_of_the_input_width(ttnn, device):
    x = to_dev(ttnn, device, torch.randn(1, 1, 32, 256))
    short = to_dev(ttnn, device, torch.randn(1, 1, 4, 32), layout=ttnn.ROW_MAJOR_LAYOUT)
    _rejects(
        ttnn,
        "norm.weight_shape",
        lambda: ttnn.rms_norm(x, epsilon=1e-5, weight=short),
        match="ROW_MAJOR weight must be [1, 1, dim/32, 32] (volume 256)",
    )
    residual = to_dev(ttnn, device, torch.randn(1, 1, 64, 256))
    _rejects(ttnn, "norm.residual_shape", lambda: ttnn.rms_norm(x, epsilon=1e-5, residual_input_tensor=residual))


# ------------------------------------------------------------------------------------------------ attention


def test_sdpa_gqa_heads(ttnn, device):
    k, v = (to_dev(ttnn, device, torch.randn(1, 2, 128, 64)) for _ in range(2))
    q3 = to_dev(ttnn, device, torch.randn(1, 3, 128, 64))
    _rejects(ttnn, "sdpa.gqa", lambda: ttnn.transformer.scaled_dot_product_attention(q3, k, v, is_causal=True))


def test_sdpa_decode_cache_batch_must_equal_q_batch(ttnn, device):
    q = to_dev(ttnn, device, torch.randn(1, 32, 8, 64))
    k = to_dev(ttnn, device, torch.zeros(1, 2, 128, 64), dtype=ttnn.bfloat8_b)
    pos = ttnn.from_torch(
        torch.zeros(32, dtype=torch.int32), dtype=ttnn.int32, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    _rejects(
        ttnn,
        "sdpa_decode.k_batch",
        lambda: ttnn.transformer.scaled_dot_product_attention_decode(q, k, k, cur_pos_tensor=pos),
        match="K tensor batch size (1) must equal B (32)",
    )
    k32 = to_dev(ttnn, device, torch.zeros(32, 2, 128, 64), dtype=ttnn.bfloat8_b)
    late = ttnn.from_torch(
        torch.full((32,), 128, dtype=torch.int32),
        dtype=ttnn.int32,
        device=device,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    _rejects(
        ttnn,
        "sdpa_decode.cur_pos",
        lambda: ttnn.transformer.scaled_dot_product_attention_decode(q, k32, k32, cur_pos_tensor=late),
    )


def test_qkv_decode_input_shape(ttnn, device):
    def qkv(x, **kw):
        return ttnn.experimental.nlp_create_qkv_heads_decode(
            x, **{**dict(num_heads=8, num_kv_heads=2, memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG), **kw}
        )

    x = to_dev(ttnn, device, torch.randn(1, 1, 32, 12 * 64), mem=ttnn.L1_MEMORY_CONFIG)
    qkv(x)
    _rejects(ttnn, "qkv_decode.head_dim", lambda: qkv(x, num_heads=7), match="num_heads + 2 * num_kv_heads = 11")
    x2 = to_dev(ttnn, device, torch.randn(1, 2, 32, 12 * 64), mem=ttnn.L1_MEMORY_CONFIG)
    _rejects(ttnn, "qkv_decode.shape", lambda: qkv(x2))


def test_rope_and_cache_update_rules(ttnn, device):
    B, hd = 32, 64
    tm = to_dev(ttnn, device, torch.randn(1, 1, 32, 32))
    xp = to_dev(ttnn, device, torch.randn(1, 8, 64, hd))
    short = to_dev(ttnn, device, torch.randn(1, 1, 32, hd))
    _rejects(
        ttnn,
        "rope.prefill_seq",
        lambda: ttnn.experimental.rotary_embedding_llama(xp, short, short, tm, is_decode_mode=False),
        match="Cos seq_len must be >= input seq_len",
    )
    cache = to_dev(ttnn, device, torch.zeros(B, 2, 64, hd), dtype=ttnn.bfloat8_b)
    pos = ttnn.from_torch(
        torch.zeros(B, dtype=torch.int32), dtype=ttnn.int32, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    two_users_per_core = height_sharded(ttnn, 16, (64, hd))
    k16 = to_dev(ttnn, device, torch.randn(1, B, 2, hd), mem=two_users_per_core)
    _rejects(
        ttnn,
        "update_cache.one_user_per_core",
        lambda: ttnn.experimental.paged_update_cache(cache, k16, update_idxs_tensor=pos),
    )
    small_cache = to_dev(ttnn, device, torch.zeros(1, 2, 64, hd), dtype=ttnn.bfloat8_b)
    kmem = height_sharded(ttnn, 32, (32, hd))
    k = to_dev(ttnn, device, torch.randn(1, B, 2, hd), mem=kmem)
    _rejects(
        ttnn, "update_cache.batch", lambda: ttnn.experimental.paged_update_cache(small_cache, k, update_idxs_tensor=pos)
    )
    beyond = ttnn.from_torch(
        torch.full((B,), 64, dtype=torch.int32), dtype=ttnn.int32, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    _rejects(
        ttnn, "update_cache.position", lambda: ttnn.experimental.paged_update_cache(cache, k, update_idxs_tensor=beyond)
    )
    fill_in = to_dev(ttnn, device, torch.randn(1, 2, 96, hd), dtype=ttnn.bfloat8_b)
    _rejects(ttnn, "fill_cache.fits", lambda: ttnn.fill_cache(cache, fill_in, 0))


def test_use_after_deallocate(ttnn, device):
    a = to_dev(ttnn, device, torch.randn(1, 1, 32, 32))
    ttnn.deallocate(a)
    _rejects(ttnn, "tensor.deallocated", lambda: ttnn.add(a, a))
