"""Invalid configs written by hand must be rejected with a specific error (op, rule and values in the message)."""

from __future__ import annotations

import pytest
import torch

from emu_helpers import dram_sharded, height_sharded, to_dev, width_sharded


def _rejects(ttnn, rule, fn, *, match=None):
    with pytest.raises(ttnn.EmulatorValidationError) as info:
        fn()
    assert info.value.rule == rule, str(info.value)
    if match:
        assert match in str(info.value), str(info.value)
    return info.value


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


def test_subblock_over_dst_limit_with_fp32_accumulation(ttnn, device, mm):
    a, b = mm
    pc = _2d(ttnn, per_core_M=1, per_core_N=8, out_subblock_h=1, out_subblock_w=8, in0_block_w=2)
    fp16 = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, fp32_dest_acc_en=False, packer_l1_acc=True
    )
    ttnn.linear(a, b, program_config=pc, compute_kernel_config=fp16)  # 8 tiles fit half-sync DST
    fp32 = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, fp32_dest_acc_en=True, packer_l1_acc=True
    )
    err = _rejects(ttnn, "matmul.dst_limit", lambda: ttnn.linear(a, b, program_config=pc, compute_kernel_config=fp32))
    assert "out_subblock_w 8 times out_subblock_h 1 needs to be at most 4" in str(err)
    full = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, fp32_dest_acc_en=True, dst_full_sync_en=True
    )
    ttnn.linear(a, b, program_config=pc, compute_kernel_config=full)  # full-sync + fp32: 8 tiles


def test_in0_block_w_not_dividing_k(ttnn, device, mm):
    a, b = mm
    _rejects(
        ttnn,
        "matmul.kt_in0_block_w",
        lambda: ttnn.linear(a, b, program_config=_2d(ttnn, in0_block_w=3, per_core_N=2)),
        match="K (8 tiles) must be divisible by in0_block_w (3)",
    )


def test_grid_larger_than_device(ttnn, device, mm):
    a, b = mm
    _rejects(
        ttnn,
        "matmul.grid",
        lambda: ttnn.linear(a, b, program_config=_2d(ttnn, compute_with_storage_grid_size=(9, 8), per_core_N=2)),
        match="compute_with_storage_grid_size (9, 8) must fit within device grid (8, 8)",
    )


def test_2d_block_counts_vs_grid(ttnn, device, mm):
    a, b = mm  # Mt 4, Nt 16
    _rejects(
        ttnn, "matmul2d.num_blocks_x", lambda: ttnn.linear(a, b, program_config=_2d(ttnn, per_core_N=1))
    )  # 16 blocks > 8
    _rejects(
        ttnn,
        "matmul2d.num_blocks_y",
        lambda: ttnn.linear(a, b, program_config=_2d(ttnn, compute_with_storage_grid_size=(8, 2), per_core_N=2)),
    )
    ttnn.linear(a, b, program_config=_2d(ttnn, compute_with_storage_grid_size=(8, 4), per_core_N=2))


def test_1d_rules(ttnn, device, mm):
    a, b = mm
    one_d = lambda **kw: ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig(
        **{
            **dict(
                compute_with_storage_grid_size=(8, 8),
                in0_block_w=2,
                out_subblock_h=1,
                out_subblock_w=1,
                per_core_M=4,
                per_core_N=1,
                fuse_batch=True,
                mcast_in0=True,
            ),
            **kw,
        }
    )
    ttnn.linear(a, b, program_config=one_d())
    _rejects(
        ttnn,
        "matmul1d.mcast_in0_m",
        lambda: ttnn.linear(a, b, program_config=one_d(per_core_M=2)),
        match="mcast_in0 requires M (4)",
    )
    _rejects(
        ttnn,
        "matmul1d.num_blocks",
        lambda: ttnn.linear(a, b, program_config=one_d(compute_with_storage_grid_size=(4, 2))),
    )
    _rejects(
        ttnn,
        "matmul1d.mcast_in1_n",
        lambda: ttnn.linear(a, b, program_config=one_d(mcast_in0=False, per_core_M=1, per_core_N=4)),
    )
    _rejects(
        ttnn,
        "matmul.per_core_N_block",
        lambda: ttnn.linear(a, b, program_config=one_d(per_core_N=2, out_block_w=3, out_subblock_w=1)),
    )


def test_fuse_batch_needs_batch_one_b(ttnn, device):
    a = to_dev(ttnn, device, torch.randn(1, 2, 32, 64))
    b = to_dev(ttnn, device, torch.randn(1, 2, 64, 64))
    _rejects(
        ttnn, "matmul.fuse_batch", lambda: ttnn.matmul(a, b, program_config=_2d(ttnn, per_core_N=1, fuse_batch=True))
    )


def test_reuse_rules(ttnn, device):
    a = to_dev(ttnn, device, torch.randn(1, 4, 64, 64))
    b = to_dev(ttnn, device, torch.randn(1, 4, 64, 128))
    reuse = lambda **kw: ttnn.MatmulMultiCoreReuseProgramConfig(
        **{
            **dict(
                compute_with_storage_grid_size=(8, 8),
                in0_block_w=2,
                out_subblock_h=1,
                out_subblock_w=4,
                per_core_M=2,
                per_core_N=4,
            ),
            **kw,
        }
    )
    ttnn.matmul(a, b, program_config=reuse())
    _rejects(
        ttnn,
        "reuse.n",
        lambda: ttnn.matmul(a, b, program_config=reuse(per_core_N=2, out_subblock_w=2)),
        match="N (4) must equal per_core_N (2)",
    )
    _rejects(ttnn, "reuse.m", lambda: ttnn.matmul(a, b, program_config=reuse(per_core_M=3, out_subblock_h=1)))


def test_sharded_output_subblock_rule(ttnn, device, mm):
    a, b = mm
    pc = _2d(
        ttnn, compute_with_storage_grid_size=(8, 4), per_core_M=1, per_core_N=2, out_subblock_h=1, out_subblock_w=1
    )
    ttnn.linear(a, b, program_config=pc, memory_config=ttnn.L1_BLOCK_SHARDED_MEMORY_CONFIG)
    bad = _2d(
        ttnn, compute_with_storage_grid_size=(8, 2), per_core_M=2, per_core_N=2, out_subblock_h=2, out_subblock_w=1
    )
    _rejects(
        ttnn,
        "matmul.sharded_out_subblock",
        lambda: ttnn.linear(a, b, program_config=bad, memory_config=ttnn.L1_BLOCK_SHARDED_MEMORY_CONFIG),
    )
    _rejects(
        ttnn,
        "matmul2d.out_layout",
        lambda: ttnn.linear(a, b, program_config=pc, memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG),
    )


def test_dram_sharded_rules(ttnn, device):
    K, N = 512, 768
    w = to_dev(ttnn, device, torch.randn(1, 1, K, N), dtype=ttnn.bfloat8_b, mem=dram_sharded(ttnn, K, N))
    pc = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=2, per_core_M=1, per_core_N=3, fused_activation=None
    )
    # M = 64 rows (> 32): rejected
    a64 = ttnn.to_memory_config(to_dev(ttnn, device, torch.randn(1, 1, 64, K)), width_sharded(ttnn, 64, K, 8, 1))
    pc2 = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=2, per_core_M=2, per_core_N=3, fused_activation=None
    )
    _rejects(
        ttnn,
        "dram_sharded.m",
        lambda: ttnn.linear(a64, w, program_config=pc2, memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG),
        match="currently only support in0 tensor height of tile height",
    )
    a = ttnn.to_memory_config(to_dev(ttnn, device, torch.randn(1, 1, 32, K)), width_sharded(ttnn, 32, K, 8, 1))
    ttnn.linear(a, w, program_config=pc, memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG)
    # in0_block_w must divide the A shard width (2 tiles) and Kt
    pc3 = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=4, per_core_M=1, per_core_N=3, fused_activation=None
    )
    _rejects(
        ttnn,
        "dram_sharded.shard_w_block",
        lambda: ttnn.linear(a, w, program_config=pc3, memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG),
    )
    # A must be width-sharded in L1
    _rejects(
        ttnn,
        "dram_sharded.a_sharded",
        lambda: ttnn.linear(
            to_dev(ttnn, device, torch.randn(1, 1, 32, K)),
            w,
            program_config=pc,
            memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG,
        ),
    )
    # B must be width-sharded in DRAM
    w_int = to_dev(ttnn, device, torch.randn(1, 1, K, N), dtype=ttnn.bfloat8_b)
    _rejects(
        ttnn,
        "dram_sharded.b_dram",
        lambda: ttnn.linear(a, w_int, program_config=pc, memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG),
    )
    # output must be sharded like A
    _rejects(ttnn, "dram_sharded.out_sharded", lambda: ttnn.linear(a, w, program_config=pc))


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


# ------------------------------------------------------------------------------------------------ L1 budget


@pytest.fixture
def prefill_w1(dry_ttnn):
    """tt_transformers' Llama-3.1-8B prefill W1 matmul (reference §2.7) on a validation-only device (numerics are
    irrelevant here): ``(ttnn, device, a, w, program_config)``."""
    ttnn = dry_ttnn
    device = ttnn.open_device(device_id=0)
    a = to_dev(ttnn, device, torch.zeros(1, 1, 512, 4096))
    w = to_dev(ttnn, device, torch.zeros(1, 1, 4096, 1024), dtype=ttnn.bfloat8_b)
    pc = _2d(ttnn, in0_block_w=8, per_core_M=2, per_core_N=56, out_subblock_h=1, out_subblock_w=4, fuse_batch=False)
    # N=1024 keeps the numerics small; per_core_N=56 sizes the CBs like N=14336 (1 block along x)
    return ttnn, device, a, w, pc


def test_l1_overflow_of_circular_buffers(prefill_w1):
    """The prefill W1 config fits only because interm0 aliases the output CB; the same config with fp32
    accumulation needs a separate fp32 interm CB and overflows L1."""
    ttnn, _, a, w, pc = prefill_w1
    fp16 = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=False, fp32_dest_acc_en=False, packer_l1_acc=True
    )
    fp32 = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=False, fp32_dest_acc_en=True, packer_l1_acc=True
    )
    ttnn.linear(a, w, program_config=pc, compute_kernel_config=fp16)
    err = _rejects(
        ttnn, "l1.circular_buffers", lambda: ttnn.linear(a, w, program_config=pc, compute_kernel_config=fp32)
    )
    assert "usable L1 1364992 B" in str(err)


def test_l1_overflow_of_live_buffers(ttnn, device):
    keep = []
    # 32 x 16384 bf16 interleaved over 64 banks: 8 tiles per bank = 16 KB per core each
    x = torch.zeros(1, 1, 32, 16384)
    with pytest.raises(ttnn.EmulatorOutOfMemory) as info:
        for _ in range(100):
            keep.append(to_dev(ttnn, device, x, mem=ttnn.L1_MEMORY_CONFIG))
    assert info.value.rule == "l1.out_of_memory" and "Out of Memory: Not enough space to allocate" in str(info.value)
    used = device.l1_in_use()
    for t in keep:
        ttnn.deallocate(t)
    assert device.l1_in_use() == 0 and used > 0


def test_live_l1_tensors_shrink_matmul_budget(prefill_w1):
    ttnn, device, a, w, pc = prefill_w1
    cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, fp32_dest_acc_en=False, packer_l1_acc=True
    )
    blocker = to_dev(
        ttnn, device, torch.zeros(1, 1, 32, 64 * 32 * 64), mem=ttnn.L1_MEMORY_CONFIG
    )  # 64 tiles/core = 128 KB
    _rejects(ttnn, "l1.circular_buffers", lambda: ttnn.linear(a, w, program_config=pc, compute_kernel_config=cfg))
    ttnn.deallocate(blocker)
    ttnn.linear(a, w, program_config=pc, compute_kernel_config=cfg)


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


def test_sharded_norm_rules(ttnn, device):
    x = torch.randn(1, 1, 32, 256)
    mem = width_sharded(ttnn, 32, 256, 4, 1)
    sx = to_dev(ttnn, device, x, mem=mem)
    ok = dict(compute_with_storage_grid_size=(4, 1), subblock_w=2, block_h=1, block_w=2, inplace=False)
    ttnn.rms_norm(sx, epsilon=1e-5, program_config=ttnn.LayerNormShardedMultiCoreProgramConfig(**ok), memory_config=mem)
    bad_w = ttnn.LayerNormShardedMultiCoreProgramConfig(**{**ok, "block_w": 4, "subblock_w": 4})
    _rejects(
        ttnn,
        "norm.block_w",
        lambda: ttnn.rms_norm(sx, epsilon=1e-5, program_config=bad_w, memory_config=mem),
        match="block_w (4) must equal to K (in tiles) / num_cores (2)",
    )
    bad_sub = ttnn.LayerNormShardedMultiCoreProgramConfig(**{**ok, "subblock_w": 3})
    _rejects(
        ttnn, "norm.subblock_w", lambda: ttnn.rms_norm(sx, epsilon=1e-5, program_config=bad_sub, memory_config=mem)
    )
    small_grid = ttnn.LayerNormShardedMultiCoreProgramConfig(**{**ok, "compute_with_storage_grid_size": (2, 1)})
    _rejects(
        ttnn,
        "norm.shard_grid_in_config",
        lambda: ttnn.rms_norm(sx, epsilon=1e-5, program_config=small_grid, memory_config=mem),
    )
    hmem = ttnn.create_sharded_memory_config((1, 1, 128, 256), ttnn.CoreGrid(x=4, y=1), ttnn.ShardStrategy.HEIGHT)
    hx = to_dev(ttnn, device, torch.randn(1, 1, 128, 256), mem=hmem)
    _rejects(
        ttnn,
        "norm.height_sharded",
        lambda: ttnn.rms_norm(
            hx, epsilon=1e-5, program_config=ttnn.LayerNormShardedMultiCoreProgramConfig(**ok), memory_config=hmem
        ),
    )
    _rejects(ttnn, "norm.sharded_needs_config", lambda: ttnn.rms_norm(sx, epsilon=1e-5))


# ------------------------------------------------------------------------------------------------ attention


def test_sdpa_chunk_sizes(ttnn, device):
    q, k, v = (to_dev(ttnn, device, torch.randn(1, h, 128, 64)) for h in (4, 2, 2))
    bad = ttnn.SDPAProgramConfig(
        compute_with_storage_grid_size=(8, 8), q_chunk_size=48, k_chunk_size=64, exp_approx_mode=False
    )
    _rejects(
        ttnn,
        "sdpa.q_chunk",
        lambda: ttnn.transformer.scaled_dot_product_attention(q, k, v, is_causal=True, program_config=bad),
        match="q_chunk_size must be a positive multiple of TILE_WIDTH. Got q_chunk_size: 48",
    )
    badk = ttnn.SDPAProgramConfig(compute_with_storage_grid_size=(8, 8), q_chunk_size=64, k_chunk_size=100)
    _rejects(
        ttnn,
        "sdpa.k_chunk",
        lambda: ttnn.transformer.scaled_dot_product_attention(q, k, v, is_causal=True, program_config=badk),
    )
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
    _rejects(
        ttnn,
        "sdpa_decode.gqa_out",
        lambda: ttnn.transformer.scaled_dot_product_attention_decode(
            q, k32, k32, cur_pos_tensor=pos, memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG
        ),
    )


def test_qkv_decode_rules(ttnn, device):
    def qkv(x, **kw):
        return ttnn.experimental.nlp_create_qkv_heads_decode(
            x, **{**dict(num_heads=8, num_kv_heads=2, memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG), **kw}
        )

    x = to_dev(ttnn, device, torch.randn(1, 1, 32, 12 * 64), mem=ttnn.L1_MEMORY_CONFIG)
    qkv(x)
    x8 = to_dev(ttnn, device, torch.randn(1, 1, 32, 12 * 64), dtype=ttnn.bfloat8_b, mem=ttnn.L1_MEMORY_CONFIG)
    _rejects(ttnn, "qkv_decode.dtype", lambda: qkv(x8))
    _rejects(ttnn, "qkv_decode.output_height_sharded", lambda: qkv(x, memory_config=ttnn.L1_MEMORY_CONFIG))
    big = to_dev(ttnn, device, torch.randn(1, 1, 32, 44 * 32), mem=ttnn.L1_MEMORY_CONFIG)
    _rejects(ttnn, "qkv_decode.num_heads", lambda: qkv(big, num_heads=40, num_kv_heads=2))
    x64 = to_dev(ttnn, device, torch.randn(1, 1, 64, 12 * 64), mem=ttnn.L1_MEMORY_CONFIG)
    _rejects(ttnn, "qkv_decode.batch", lambda: qkv(x64), match="num_users 64 > 32")
    _rejects(ttnn, "qkv_decode.gqa", lambda: qkv(x, num_heads=2, num_kv_heads=5))


def test_rope_and_cache_update_rules(ttnn, device):
    B, hd = 32, 64
    x = to_dev(ttnn, device, torch.randn(1, B, 8, hd))  # interleaved: rejected in decode mode
    cos = to_dev(ttnn, device, torch.randn(1, B, 1, hd))
    tm = to_dev(ttnn, device, torch.randn(1, 1, 32, 32))
    _rejects(
        ttnn,
        "rope.decode_input_sharded",
        lambda: ttnn.experimental.rotary_embedding_llama(x, cos, cos, tm, is_decode_mode=True),
    )
    cos8 = to_dev(ttnn, device, torch.randn(1, 1, 64, hd), dtype=ttnn.bfloat8_b)
    xp = to_dev(ttnn, device, torch.randn(1, 8, 64, hd))
    _rejects(
        ttnn, "rope.dtype", lambda: ttnn.experimental.rotary_embedding_llama(xp, cos8, cos8, tm, is_decode_mode=False)
    )
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
    k_int = to_dev(ttnn, device, torch.randn(1, B, 2, hd))
    _rejects(
        ttnn,
        "update_cache.input_sharded",
        lambda: ttnn.experimental.paged_update_cache(cache, k_int, update_idxs_tensor=pos),
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
    fill_in = to_dev(ttnn, device, torch.randn(1, 2, 32, hd))
    _rejects(ttnn, "fill_cache.dtype_match", lambda: ttnn.fill_cache(cache, fill_in, 0))


def test_use_after_deallocate(ttnn, device):
    a = to_dev(ttnn, device, torch.randn(1, 1, 32, 32))
    ttnn.deallocate(a)
    _rejects(ttnn, "tensor.deallocated", lambda: ttnn.add(a, a))
