"""Per-op unit tests of the emulator against torch references written in the tests."""

from __future__ import annotations

import pytest
import torch

from emu_helpers import dram_sharded, rel_err, to_dev, width_sharded
from tttgen.checking.emulator import dtypes as dt


def _bf16(x):
    return x.to(torch.bfloat16).float()


# ----------------------------------------------------------------------------------------------- install / tensors


def test_install_uninstall_restores_modules():
    import sys

    import tttgen.checking.emulator as emu
    from emu_helpers import N150

    before = sys.modules.get("ttnn", None)
    with emu.installed(**N150) as ttnn:
        import ttnn as imported
        import ttnn_jit

        assert imported is ttnn and ttnn.__tttgen_emulator__ is True and ttnn_jit.__tttgen_emulator__ is True
        assert sys.modules["ttnn.experimental"] is ttnn.experimental
        assert sys.modules["ttnn.transformer"] is ttnn.transformer
        dev = ttnn.open_device(device_id=0, l1_small_size=24576, trace_region_size=1 << 20)
        g = dev.compute_with_storage_grid_size()
        assert (g.x, g.y) == (8, 8) and dev.arch() == ttnn.Arch.WORMHOLE_B0
    assert sys.modules.get("ttnn", None) is before


def test_from_torch_roundtrip_and_shapes(ttnn, device, gen):
    x = torch.randn(1, 1, 5, 64, generator=gen)
    t = to_dev(ttnn, device, x)
    assert t.shape == [1, 1, 5, 64] and t.padded_shape == [1, 1, 32, 64]
    assert t.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    back = ttnn.to_torch(t)
    assert back.dtype == torch.bfloat16 and torch.equal(back.float(), _bf16(x))
    t8 = to_dev(ttnn, device, x, dtype=ttnn.bfloat8_b)
    assert ttnn.to_torch(t8).dtype == torch.float32
    assert torch.equal(ttnn.to_torch(t8), dt.quantize(x, dt.DataType.BFLOAT8_B))
    ids = ttnn.from_torch(
        torch.tensor([[3, 1, 2]], dtype=torch.int32),
        dtype=ttnn.uint32,
        device=device,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    assert ttnn.to_torch(ids).tolist() == [[3, 1, 2]]


def test_as_tensor_cache(ttnn, device, tmp_path, gen):
    x = torch.randn(64, 64, generator=gen)
    name = str(tmp_path / "w")
    t1 = ttnn.as_tensor(
        x,
        dtype=ttnn.bfloat8_b,
        layout=ttnn.TILE_LAYOUT,
        device=device,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
        cache_file_name=name,
    )
    path = tmp_path / "w_dtype_BFLOAT8_B_layout_TILE.tensorbin"
    assert path.is_file()
    # a cache hit ignores the torch input, as ttnn does
    t2 = ttnn.as_tensor(
        torch.zeros(64, 64),
        dtype=ttnn.bfloat8_b,
        layout=ttnn.TILE_LAYOUT,
        device=device,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
        cache_file_name=name,
    )
    assert torch.equal(ttnn.to_torch(t1), ttnn.to_torch(t2))
    with pytest.raises(RuntimeError, match="memory_config must be specified"):
        ttnn.as_tensor(x, dtype=ttnn.bfloat16, device=device)


def test_memory_moves(ttnn, device, gen):
    x = torch.randn(1, 1, 32, 256, generator=gen)
    t = to_dev(ttnn, device, x)
    mem = width_sharded(ttnn, 32, 256, 8, 1)
    s = ttnn.to_memory_config(t, mem)
    assert s.is_sharded() and s.memory_config().shard_spec.shape == [32, 32]
    i = ttnn.sharded_to_interleaved(s, ttnn.L1_MEMORY_CONFIG)
    assert i.memory_config() == ttnn.L1_MEMORY_CONFIG
    assert torch.equal(ttnn.to_torch(i), ttnn.to_torch(t))
    i2s = ttnn.interleaved_to_sharded(i, mem)
    assert i2s.memory_config() == mem
    ttnn.deallocate(i2s)
    assert not i2s.is_allocated() and i.is_allocated()


def test_data_movement(ttnn, device, gen):
    x = torch.randn(1, 2, 64, 96, generator=gen)
    t = to_dev(ttnn, device, x)
    r = ttnn.reshape(t, (1, 1, 128, 96))
    assert torch.equal(ttnn.to_torch(r).float(), _bf16(x).reshape(1, 1, 128, 96))
    p = ttnn.permute(t, (0, 1, 3, 2))
    assert torch.equal(ttnn.to_torch(p).float(), _bf16(x).permute(0, 1, 3, 2))
    s = ttnn.slice(t, [0, 1, 0, 32], [1, 2, 64, 96])
    assert torch.equal(ttnn.to_torch(s).float(), _bf16(x)[:, 1:2, :, 32:96])
    c = ttnn.concat([t, t], dim=3)
    assert c.shape == [1, 2, 64, 192]
    tc = ttnn.typecast(t, ttnn.bfloat8_b)
    assert torch.equal(ttnn.to_torch(tc), dt.quantize(_bf16(x), dt.DataType.BFLOAT8_B))
    ti = ttnn.typecast(to_dev(ttnn, device, torch.tensor([[[[1.7, -2.5] * 16] * 32]]), dtype=ttnn.float32), ttnn.int32)
    assert ttnn.to_torch(ti)[0, 0, 0, :2].tolist() == [1, -2]


# ----------------------------------------------------------------------------------------------- matmul numerics


def _fp32_cfg(ttnn, fidelity):
    return ttnn.WormholeComputeKernelConfig(
        math_fidelity=fidelity, math_approx_mode=False, fp32_dest_acc_en=True, packer_l1_acc=True
    )


def test_linear_hifi4_fp32_matches_torch(ttnn, device, gen):
    a = torch.randn(1, 1, 64, 256, generator=gen)
    w = torch.randn(1, 1, 256, 128, generator=gen) / 16
    ta, tw = to_dev(ttnn, device, a), to_dev(ttnn, device, w)
    out = ttnn.linear(ta, tw, compute_kernel_config=_fp32_cfg(ttnn, ttnn.MathFidelity.HiFi4), dtype=ttnn.float32)
    ref = _bf16(a).double() @ _bf16(w).double()
    assert rel_err(ttnn.to_torch(out), ref) < 1e-6


def test_matmul_fidelity_model(ttnn, device, gen):
    a = torch.randn(1, 1, 32, 64, generator=gen)
    w = torch.randn(1, 1, 64, 64, generator=gen)
    ta, tw = to_dev(ttnn, device, a), to_dev(ttnn, device, w)
    ab, wb = _bf16(a), _bf16(w)
    # in0 -> SrcB (6 fraction bits per pass), in1 -> SrcA (4 bits per pass)
    want = {
        "LoFi": dt.truncate_mantissa(ab, 6) @ dt.truncate_mantissa(wb, 4),
        "HiFi2": dt.truncate_mantissa(ab, 6) @ wb,
        "HiFi4": ab @ wb,
    }
    for name, ref in want.items():
        out = ttnn.linear(
            ta, tw, compute_kernel_config=_fp32_cfg(ttnn, getattr(ttnn.MathFidelity, name)), dtype=ttnn.float32
        )
        assert rel_err(ttnn.to_torch(out), ref) < 1e-6, name
    lofi = ttnn.to_torch(
        ttnn.linear(ta, tw, compute_kernel_config=_fp32_cfg(ttnn, ttnn.MathFidelity.LoFi), dtype=ttnn.float32)
    )
    assert rel_err(lofi, ab @ wb) > 1e-3  # LoFi visibly loses weight mantissa bits


def test_bf16_dst_accumulation(ttnn, device, gen):
    a = torch.randn(1, 1, 32, 512, generator=gen)
    w = torch.randn(1, 1, 512, 64, generator=gen)
    ta, tw = to_dev(ttnn, device, a), to_dev(ttnn, device, w)
    cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi4, fp32_dest_acc_en=False, packer_l1_acc=True
    )
    out = ttnn.to_torch(ttnn.linear(ta, tw, compute_kernel_config=cfg)).float()
    # independent loop: the running sum is rounded to bf16 after every 16-wide K slice
    ab, wb = _bf16(a)[0, 0], _bf16(w)[0, 0]
    acc = torch.zeros(32, 64)
    for k in range(0, 512, 16):
        acc = _bf16(acc + ab[:, k : k + 16] @ wb[k : k + 16])
    assert torch.equal(out[0, 0], acc)
    exact = ab.double() @ wb.double()
    fp32 = ttnn.to_torch(ttnn.linear(ta, tw, compute_kernel_config=_fp32_cfg(ttnn, ttnn.MathFidelity.HiFi4))).float()[
        0, 0
    ]
    assert rel_err(out[0, 0], exact) > rel_err(fp32, exact)


def test_linear_bias_and_fused_silu(ttnn, device, gen):
    a = torch.randn(1, 1, 32, 128, generator=gen)
    w = torch.randn(1, 1, 128, 256, generator=gen) / 8
    bias = torch.randn(1, 1, 32, 256, generator=gen)
    ta, tw, tb = to_dev(ttnn, device, a), to_dev(ttnn, device, w), to_dev(ttnn, device, bias)
    pc = ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig(
        compute_with_storage_grid_size=(8, 1),
        in0_block_w=4,
        out_subblock_h=1,
        out_subblock_w=1,
        per_core_M=1,
        per_core_N=1,
        fuse_batch=True,
        mcast_in0=True,
        fused_activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU),
    )
    hifi = _fp32_cfg(ttnn, ttnn.MathFidelity.HiFi4)
    out = ttnn.linear(ta, tw, bias=tb, program_config=pc, compute_kernel_config=hifi)
    ref = torch.nn.functional.silu(_bf16(a) @ _bf16(w) + _bf16(bias)[0, 0, 0])
    assert rel_err(ttnn.to_torch(out), ref) < 8e-3
    # default compute config with a program config is LoFi (reference §1.9): less accurate than HiFi4
    lofi = ttnn.linear(ta, tw, bias=tb, program_config=pc)
    assert rel_err(ttnn.to_torch(lofi), ref) > rel_err(ttnn.to_torch(out), ref)


def test_linear_bfp8_output_and_weights(ttnn, device, gen):
    a = torch.randn(1, 1, 32, 256, generator=gen)
    w = torch.randn(1, 1, 256, 128, generator=gen) / 16
    ta, tw = to_dev(ttnn, device, a), to_dev(ttnn, device, w, dtype=ttnn.bfloat8_b)
    out = ttnn.linear(ta, tw, dtype=ttnn.bfloat8_b)
    assert out.dtype == ttnn.bfloat8_b
    vals = ttnn.to_torch(out)
    assert torch.equal(vals, dt.quantize(vals, dt.DataType.BFLOAT8_B))  # stored values are bfp8 values
    assert rel_err(vals, _bf16(a) @ ttnn.to_torch(tw)) < 2e-2


def test_dram_sharded_matmul_numerics(ttnn, device, gen):
    K, N = 512, 768
    a = torch.randn(1, 1, 32, K, generator=gen)
    w = torch.randn(1, 1, K, N, generator=gen) / 20
    ta = ttnn.to_memory_config(to_dev(ttnn, device, a), width_sharded(ttnn, 32, K, 8, 1))
    tw = to_dev(ttnn, device, w, dtype=ttnn.bfloat8_b, mem=dram_sharded(ttnn, K, N))
    pc = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=2, per_core_M=1, per_core_N=3, fused_activation=None
    )
    cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=True, fp32_dest_acc_en=True, packer_l1_acc=True
    )
    out = ttnn.linear(
        ta, tw, program_config=pc, compute_kernel_config=cfg, memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG
    )
    spec = out.memory_config().shard_spec
    assert (
        out.memory_config().memory_layout == ttnn.TensorMemoryLayout.WIDTH_SHARDED
        and spec.shape == [32, 96]
        and spec.num_cores() == 8
    )
    assert rel_err(ttnn.to_torch(out), _bf16(a) @ ttnn.to_torch(tw)) < 8e-3


# ----------------------------------------------------------------------------------------------- norms / eltwise


def test_rms_norm_interleaved_and_sharded(ttnn, device, gen):
    x = torch.randn(1, 1, 32, 256, generator=gen) * 3
    gamma = torch.randn(256, generator=gen)
    tx = to_dev(ttnn, device, x)
    tg = ttnn.from_torch(
        gamma.reshape(1, 1, 8, 32),
        dtype=ttnn.bfloat16,
        layout=ttnn.ROW_MAJOR_LAYOUT,
        device=device,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    xb = _bf16(x)
    ref = xb * torch.rsqrt(xb.pow(2).mean(-1, keepdim=True) + 1e-5) * _bf16(gamma)
    out = ttnn.rms_norm(tx, epsilon=1e-5, weight=tg)
    assert rel_err(ttnn.to_torch(out), ref) < 1e-2
    mem = width_sharded(ttnn, 32, 256, 4, 1)
    sx = ttnn.to_memory_config(tx, mem)
    pc = ttnn.LayerNormShardedMultiCoreProgramConfig(
        compute_with_storage_grid_size=(4, 1), subblock_w=2, block_h=1, block_w=2, inplace=False
    )
    cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=False, fp32_dest_acc_en=True, packer_l1_acc=True
    )
    so = ttnn.rms_norm(sx, epsilon=1e-5, weight=tg, program_config=pc, memory_config=mem, compute_kernel_config=cfg)
    assert so.memory_config() == mem
    assert rel_err(ttnn.to_torch(so), ref) < 5e-3


def test_layer_norm(ttnn, device, gen):
    x = torch.randn(1, 1, 64, 128, generator=gen) + 2
    g, b = torch.randn(128, generator=gen), torch.randn(128, generator=gen)
    tx = to_dev(ttnn, device, x)
    tg = ttnn.from_torch(
        g.reshape(1, 1, 4, 32), dtype=ttnn.bfloat16, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    tb = ttnn.from_torch(
        b.reshape(1, 1, 4, 32), dtype=ttnn.bfloat16, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    out = ttnn.layer_norm(tx, epsilon=1e-5, weight=tg, bias=tb)
    ref = torch.nn.functional.layer_norm(_bf16(x), (128,), _bf16(g), _bf16(b), eps=1e-5)
    assert rel_err(ttnn.to_torch(out), ref) < 1e-2


def test_eltwise(ttnn, device, gen):
    a = torch.randn(1, 1, 32, 128, generator=gen)
    b = torch.randn(1, 1, 32, 128, generator=gen)
    ta, tb = to_dev(ttnn, device, a), to_dev(ttnn, device, b)
    assert torch.equal(ttnn.to_torch(ttnn.add(ta, tb)).float(), _bf16(_bf16(a) + _bf16(b)))
    swiglu = ttnn.mul(ta, tb, input_tensor_a_activations=[ttnn.UnaryOpType.SILU])
    assert rel_err(ttnn.to_torch(swiglu), torch.nn.functional.silu(_bf16(a)) * _bf16(b)) < 8e-3
    m8 = ttnn.multiply(ta, tb, dtype=ttnn.bfloat8_b)
    assert rel_err(ttnn.to_torch(m8), _bf16(a) * _bf16(b)) < 3e-2
    assert rel_err(ttnn.to_torch(ttnn.silu(ta)), torch.nn.functional.silu(_bf16(a))) < 8e-3


def test_embedding(ttnn, device, gen):
    w = torch.randn(100, 64, generator=gen)
    ids = torch.tensor([[5, 0, 99, 42]])
    tw = ttnn.from_torch(
        w, dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    tid = ttnn.from_torch(
        ids, dtype=ttnn.uint32, layout=ttnn.ROW_MAJOR_LAYOUT, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    out = ttnn.embedding(tid, tw, layout=ttnn.TILE_LAYOUT, dtype=ttnn.bfloat16)
    assert out.shape == [1, 4, 64] and out.layout == ttnn.TILE_LAYOUT
    assert torch.equal(ttnn.to_torch(out).float(), _bf16(w)[ids])


# ----------------------------------------------------------------------------------------------- attention pieces


def _trans_mat():
    m = torch.zeros(32, 32)
    m[torch.arange(0, 32, 2), torch.arange(1, 32, 2)] = 1
    m[torch.arange(1, 32, 2), torch.arange(0, 32, 2)] = -1
    return m


def _rope_tables(positions, hd, theta=10000.0):
    inv = 1.0 / theta ** (torch.arange(0, hd, 2).float() / hd)
    ang = positions.float()[:, None] * inv[None, :]
    return ang.cos(), ang.sin()  # [P, hd/2]


def _hf_rotate_half(x, cos, sin):
    c = torch.cat([cos, cos], -1)
    s = torch.cat([sin, sin], -1)
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return x * c + torch.cat([-x2, x1], -1) * s


def _hf_to_pairs(x):
    """Permute head_dim from HF rotate-half order to adjacent-pair order (what the weight loader must do)."""
    hd = x.shape[-1]
    idx = torch.stack([torch.arange(hd // 2), torch.arange(hd // 2) + hd // 2], -1).reshape(-1)
    return x[..., idx]


def test_rotary_llama_prefill_equals_hf_after_permutation(ttnn, device, gen):
    S, H, hd = 64, 2, 64
    x_hf = torch.randn(1, H, S, hd, generator=gen)
    cos, sin = _rope_tables(torch.arange(S), hd)
    ref = _hf_rotate_half(_bf16(x_hf), cos, sin)
    # device layout: adjacent pairs, cos/sin repeated per pair
    x_pairs = _hf_to_pairs(x_hf)
    cos_p = cos.repeat_interleave(2, -1).reshape(1, 1, S, hd)
    sin_p = sin.repeat_interleave(2, -1).reshape(1, 1, S, hd)
    tx = to_dev(ttnn, device, x_pairs)
    out = ttnn.experimental.rotary_embedding_llama(
        tx,
        to_dev(ttnn, device, cos_p),
        to_dev(ttnn, device, sin_p),
        to_dev(ttnn, device, _trans_mat().reshape(1, 1, 32, 32)),
        is_decode_mode=False,
    )
    assert rel_err(ttnn.to_torch(out), _hf_to_pairs(ref)) < 1e-2
    # without the permutation the result is wrong: the emulator does not hide the convention trap
    wrong = ttnn.experimental.rotary_embedding_llama(
        to_dev(ttnn, device, x_hf),
        to_dev(ttnn, device, cos_p),
        to_dev(ttnn, device, sin_p),
        to_dev(ttnn, device, _trans_mat().reshape(1, 1, 32, 32)),
        is_decode_mode=False,
    )
    assert rel_err(ttnn.to_torch(wrong), ref) > 0.3


def _height_sharded(ttnn, rows, width, n):
    grid = ttnn.num_cores_to_corerangeset(n, ttnn.CoreCoord(8, 8), row_wise=True)
    return ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, (rows, width), ttnn.ShardOrientation.ROW_MAJOR),
    )


def test_qkv_decode_rope_decode_concat_decode(ttnn, device, gen):
    B, nq, nkv, hd = 32, 8, 2, 64
    x = torch.randn(1, 1, B, (nq + 2 * nkv) * hd, generator=gen)
    tx = ttnn.to_memory_config(to_dev(ttnn, device, x), ttnn.L1_MEMORY_CONFIG)
    q, k, v = ttnn.experimental.nlp_create_qkv_heads_decode(
        tx, num_heads=nq, num_kv_heads=nkv, memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG
    )
    xb = _bf16(x).reshape(B, nq + 2 * nkv, hd)
    assert q.shape == [1, B, nq, hd] and q.padded_shape == [1, B, 32, hd]
    assert k.shape == [1, B, nkv, hd] and v.shape == [1, B, nkv, hd]
    assert q.memory_config().memory_layout == ttnn.TensorMemoryLayout.HEIGHT_SHARDED
    assert q.memory_config().shard_spec.shape == [32, hd] and q.memory_config().shard_spec.num_cores() == B
    assert torch.equal(ttnn.to_torch(q).float()[0], xb[:, :nq])
    assert torch.equal(ttnn.to_torch(k).float()[0], xb[:, nq : nq + nkv])
    assert torch.equal(ttnn.to_torch(v).float()[0], xb[:, nq + nkv :])
    # decode rope: each user has its own position
    pos = torch.arange(B) * 3
    cos, sin = _rope_tables(pos, hd)
    cos_p = cos.repeat_interleave(2, -1).reshape(1, B, 1, hd)
    sin_p = sin.repeat_interleave(2, -1).reshape(1, B, 1, hd)
    rope_mem = _height_sharded(ttnn, 32, hd, B)
    tcos = ttnn.from_torch(cos_p, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, memory_config=rope_mem)
    tsin = ttnn.from_torch(sin_p, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, memory_config=rope_mem)
    tm = ttnn.from_torch(
        _trans_mat().repeat(B, 1).reshape(1, 1, 32 * B, 32),
        dtype=ttnn.bfloat16,
        layout=ttnn.TILE_LAYOUT,
        device=device,
        memory_config=_height_sharded(ttnn, 32, 32, B),
    )
    qr = ttnn.experimental.rotary_embedding_llama(q, tcos, tsin, tm, is_decode_mode=True)
    x_pairs = xb[:, :nq]  # treat as pair order
    even, odd = x_pairs[..., 0::2], x_pairs[..., 1::2]
    c, s = cos[:, None, :], sin[:, None, :]
    ref = torch.stack([even * c - odd * s, odd * c + even * s], -1).reshape(B, nq, hd)
    assert rel_err(ttnn.to_torch(qr)[0], ref) < 1e-2
    # concat heads decode: [1, B, 32, hd] height sharded -> [1, 1, B, nq*hd] width sharded
    cat = ttnn.experimental.nlp_concat_heads_decode(qr, num_heads=nq)
    assert cat.shape == [1, 1, B, nq * hd]
    assert cat.memory_config().memory_layout == ttnn.TensorMemoryLayout.WIDTH_SHARDED
    assert torch.equal(ttnn.to_torch(cat)[0, 0], ttnn.to_torch(qr)[0].reshape(B, nq * hd))


def test_qkv_heads_and_concat_prefill(ttnn, device, gen):
    S, nq, nkv, hd = 64, 4, 2, 32
    x = torch.randn(1, 1, S, (nq + 2 * nkv) * hd, generator=gen)
    tx = to_dev(ttnn, device, x)
    q, k, v = ttnn.experimental.nlp_create_qkv_heads(
        tx, num_heads=nq, num_kv_heads=nkv, transpose_k_heads=False, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    xb = _bf16(x).reshape(1, S, nq + 2 * nkv, hd).permute(0, 2, 1, 3)
    assert torch.equal(ttnn.to_torch(q).float(), xb[:, :nq])
    assert torch.equal(ttnn.to_torch(k).float(), xb[:, nq : nq + nkv])
    assert torch.equal(ttnn.to_torch(v).float(), xb[:, nq + nkv :])
    _, kt, _ = ttnn.experimental.nlp_create_qkv_heads(tx, num_heads=nq, num_kv_heads=nkv)
    assert kt.shape == [1, nkv, hd, S]  # transpose_k_heads defaults to True
    cat = ttnn.experimental.nlp_concat_heads(q, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    assert torch.equal(ttnn.to_torch(cat).float(), xb[:, :nq].permute(0, 2, 1, 3).reshape(1, 1, S, nq * hd))


def _ref_attention(q, k, v, mask, scale):
    g = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(g, 1)
    v = v.repeat_interleave(g, 1)
    s = (q.double() @ k.double().transpose(-1, -2)) * scale
    s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, -1) @ v.double()


def test_sdpa_prefill_causal_gqa(ttnn, device, gen):
    S, nq, nkv, hd = 128, 4, 2, 64
    q, k, v = (torch.randn(1, h, S, hd, generator=gen) for h in (nq, nkv, nkv))
    pc = ttnn.SDPAProgramConfig(
        compute_with_storage_grid_size=(8, 8), exp_approx_mode=False, q_chunk_size=64, k_chunk_size=64
    )
    cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi4, math_approx_mode=False, fp32_dest_acc_en=True, packer_l1_acc=False
    )
    out = ttnn.transformer.scaled_dot_product_attention(
        to_dev(ttnn, device, q),
        to_dev(ttnn, device, k),
        to_dev(ttnn, device, v),
        is_causal=True,
        scale=hd**-0.5,
        program_config=pc,
        compute_kernel_config=cfg,
    )
    mask = torch.tril(torch.ones(S, S, dtype=torch.bool))
    ref = _ref_attention(_bf16(q), _bf16(k), _bf16(v), mask, hd**-0.5)
    assert rel_err(ttnn.to_torch(out), ref) < 1e-2


def test_sdpa_decode_and_kv_cache_ops(ttnn, device, gen):
    B, nq, nkv, hd, L = 32, 8, 2, 64, 128
    cache_k = to_dev(ttnn, device, torch.zeros(B, nkv, L, hd), dtype=ttnn.bfloat8_b)
    cache_v = to_dev(ttnn, device, torch.zeros(B, nkv, L, hd), dtype=ttnn.bfloat8_b)
    # prefill user 3 with 64 tokens
    k_pre = torch.randn(1, nkv, 64, hd, generator=gen)
    v_pre = torch.randn(1, nkv, 64, hd, generator=gen)
    ttnn.fill_cache(cache_k, to_dev(ttnn, device, k_pre, dtype=ttnn.bfloat8_b), 3)
    ttnn.fill_cache(cache_v, to_dev(ttnn, device, v_pre, dtype=ttnn.bfloat8_b), 3)
    assert torch.equal(ttnn.to_torch(cache_k)[3, :, :64], dt.quantize(k_pre[0], dt.DataType.BFLOAT8_B))
    # decode step: every user writes one token at its position
    pos = torch.full((B,), 10, dtype=torch.int32)
    pos[3] = 64
    pos[5] = -1
    k_new = torch.randn(1, B, nkv, hd, generator=gen)
    v_new = torch.randn(1, B, nkv, hd, generator=gen)
    kv_mem = _height_sharded(ttnn, 32, hd, B)
    tk = ttnn.from_torch(k_new, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, memory_config=kv_mem)
    tv = ttnn.from_torch(v_new, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, memory_config=kv_mem)
    tpos = ttnn.from_torch(pos, dtype=ttnn.int32, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    ttnn.experimental.paged_update_cache(cache_k, tk, update_idxs_tensor=tpos)
    ttnn.experimental.paged_update_cache(cache_v, tv, update_idxs_tensor=tpos)
    ck, cv = ttnn.to_torch(cache_k), ttnn.to_torch(cache_v)
    assert torch.equal(ck[3, :, 64], dt.quantize(_bf16(k_new[0, 3]), dt.DataType.BFLOAT8_B))
    assert torch.equal(ck[5], torch.zeros(nkv, L, hd))  # position -1: skipped
    q = torch.randn(1, B, nq, hd, generator=gen)
    tq = ttnn.from_torch(
        q, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    pc = ttnn.SDPAProgramConfig(
        compute_with_storage_grid_size=(8, 8), exp_approx_mode=False, q_chunk_size=0, k_chunk_size=0
    )
    cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi4, math_approx_mode=False, fp32_dest_acc_en=True, packer_l1_acc=False
    )
    out = ttnn.transformer.scaled_dot_product_attention_decode(
        tq,
        cache_k,
        cache_v,
        cur_pos_tensor=tpos,
        scale=hd**-0.5,
        program_config=pc,
        compute_kernel_config=cfg,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    assert out.shape == [1, B, nq, hd]
    o = ttnn.to_torch(out).float()[0]
    for b in (0, 3):
        p = int(pos[b])
        mask = torch.ones(1, p + 1, dtype=torch.bool)
        ref = _ref_attention(
            _bf16(q[0, b]).unsqueeze(1).transpose(0, 1).reshape(1, nq, 1, hd),
            ck[b : b + 1, :, : p + 1],
            cv[b : b + 1, :, : p + 1],
            mask,
            hd**-0.5,
        )
        assert rel_err(o[b], ref.reshape(nq, hd)) < 1e-2, b
    assert torch.equal(o[5], torch.zeros(nq, hd))


def test_update_cache_golden_semantics(ttnn, device, gen):
    users, nkv, L, hd = 4, 2, 64, 32
    cache = to_dev(ttnn, device, torch.zeros(users, nkv, L, hd))
    x = torch.randn(1, nkv, 32, hd, generator=gen)
    ttnn.update_cache(cache, to_dev(ttnn, device, x), 7, batch_offset=2)
    c = ttnn.to_torch(cache).float()
    for u in range(users):
        assert torch.equal(c[u, :, 7], _bf16(x[0, :, 2 + u]))


def test_dry_mode_validates_without_numerics(dry_ttnn):
    ttnn = dry_ttnn
    dev = ttnn.open_device(device_id=0)
    a = to_dev(ttnn, dev, torch.randn(1, 1, 32, 64))
    b = to_dev(ttnn, dev, torch.randn(1, 1, 64, 64))
    out = ttnn.linear(a, b)
    assert torch.count_nonzero(ttnn.to_torch(out)) == 0
    with pytest.raises(ttnn.EmulatorValidationError):
        ttnn.linear(a, to_dev(ttnn, dev, torch.randn(1, 1, 96, 64)))


def test_reshape_is_a_view_on_the_same_buffer(ttnn, device):
    """ttnn reshapes tile-aligned tensors in place: deallocating the view or its base frees both."""
    t = to_dev(ttnn, device, torch.randn(1, 1, 128, 64 * 32), mem=ttnn.L1_MEMORY_CONFIG)
    v = ttnn.reshape(t, (1, 2, 64, 64 * 32))
    assert torch.equal(ttnn.to_torch(v).reshape(1, 1, 128, -1), ttnn.to_torch(t))
    ttnn.deallocate(v)
    assert not t.is_allocated()
    with pytest.raises(ttnn.EmulatorValidationError) as err:
        ttnn.add(t, t)
    assert err.value.rule == "tensor.deallocated"
    u = to_dev(ttnn, device, torch.randn(1, 1, 64, 64))
    w = ttnn.reshape(u, (1, 2, 32, 64))
    ttnn.deallocate(u)
    assert not w.is_allocated()


def test_sdpa_attn_mask_is_an_additive_bias_broadcast_over_batch(ttnn, device, gen):
    """attn_mask [1, heads, S, S] added to the scores of every batch (Boltz's triangle attention: one batch per
    pair row), as the golden (torch SDPA) does at scale 1.0."""
    q, k, v = (torch.randn(3, 2, 64, 32, generator=gen) for _ in range(3))
    bias = torch.randn(1, 2, 64, 64, generator=gen)
    got = ttnn.to_torch(
        ttnn.transformer.scaled_dot_product_attention(
            *(to_dev(ttnn, device, t) for t in (q, k, v)), attn_mask=to_dev(ttnn, device, bias), is_causal=False, scale=1.0
        )
    ).float()
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=1.0)
    assert torch.corrcoef(torch.stack([got.flatten(), want.flatten()]))[0, 1] > 0.999


def test_sdpa_attn_mask_with_another_scale_is_refused(ttnn, device, gen):
    """The golden adds the mask after the scale, the 0.81 kernel before it: only scale 1.0 has one answer."""
    from tttgen.checking.emulator.errors import EmulatorUnsupported

    q = to_dev(ttnn, device, torch.randn(1, 2, 64, 32, generator=gen))
    mask = to_dev(ttnn, device, torch.zeros(1, 2, 64, 64))
    with pytest.raises(EmulatorUnsupported, match="scale != 1.0"):
        ttnn.transformer.scaled_dot_product_attention(q, q, q, attn_mask=mask, is_causal=False, scale=0.125)


def test_softmax_matches_the_golden(ttnn, device, gen):
    x = torch.randn(1, 4, 64, 96, generator=gen) * 4
    got = ttnn.to_torch(ttnn.softmax(to_dev(ttnn, device, x), dim=-1, numeric_stable=True)).float()
    assert torch.allclose(got, torch.softmax(x.bfloat16().float(), dim=-1), atol=1e-2)


def test_binary_broadcasts_both_operands(ttnn, device, gen):
    """a [K, 1, H, 32] minus b [K, W, 1, 32] is [K, W, H, 32] (Boltz's atom-pair offsets, key minus query), as torch
    broadcasts and as ttnn 0.81.1 accepts it (tests/realttnn/test_boltz_diffusion_conditioning_ttnn.py); shapes
    that do not broadcast are refused."""
    from tttgen.checking.emulator.errors import EmulatorValidationError

    keys, queries = torch.randn(4, 1, 128, 32, generator=gen), torch.randn(4, 32, 1, 32, generator=gen)
    got = ttnn.subtract(to_dev(ttnn, device, keys), to_dev(ttnn, device, queries))
    assert list(got.shape) == [4, 32, 128, 32]
    assert torch.allclose(ttnn.to_torch(got).float(), _bf16(_bf16(keys) - _bf16(queries)))
    with pytest.raises(EmulatorValidationError) as err:
        ttnn.add(to_dev(ttnn, device, keys), to_dev(ttnn, device, torch.randn(3, 32, 1, 32)))
    assert err.value.rule == "eltwise.broadcast"
