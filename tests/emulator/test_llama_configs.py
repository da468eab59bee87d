"""Valid hand-written configs mirroring tt_transformers' Llama-3.1-8B on N150 (reference §2.4-2.7) are accepted.

Full-size shapes run with ``numerics="none"`` (shapes and placements only); the numbers below are derived by hand from
the tt_transformers helpers quoted in the reference, not by any generator code. Whether they fit L1 is ttnn's to judge
(tests/realttnn/test_emulator_agrees.py asks it about the prefill W1 config).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from emu_helpers import dram_sharded, height_sharded, to_dev, width_sharded

DIM, HIDDEN, NQ, NKV, HD, B, MAX_SEQ = 4096, 14336, 32, 8, 128, 32, 4096
QKV = HD * (NQ + 2 * NKV)  # 6144


def zeros(*shape):
    return torch.zeros(1).expand(*shape)


def hifi2(ttnn):  # tt_transformers HIFI2: fp32 acc, packer l1 acc
    return ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=True, fp32_dest_acc_en=True, packer_l1_acc=True
    )


def hifi2_fp16(ttnn):
    return ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=False, fp32_dest_acc_en=False, packer_l1_acc=True
    )


def weight(ttnn, dev, k, n, dtype):
    return to_dev(ttnn, dev, zeros(1, 1, k, n), dtype, mem=dram_sharded(ttnn, k, n))


def test_llama31_8b_decode_layer_configs(dry_ttnn):
    ttnn = dry_ttnn
    dev = ttnn.open_device(device_id=0)
    # attn_input_grid: find_grid(128) -> 32 cores (4 rows x 8 cols), shard (32, 128)
    resid_mem = width_sharded(ttnn, 32, DIM, 8, 4)
    mlp_in_mem = width_sharded(ttnn, 32, DIM, 8, 8)  # find_grid_k_n(128, 448) -> 64 cores, shard (32, 64)
    mlp2_in_mem = width_sharded(ttnn, 32, HIDDEN, 8, 8)  # shard (32, 224)

    wqkv = weight(ttnn, dev, DIM, QKV, ttnn.bfloat8_b)
    wo = weight(ttnn, dev, NQ * HD, DIM, ttnn.bfloat8_b)
    w1 = weight(ttnn, dev, DIM, HIDDEN, ttnn.bfloat8_b)
    w3 = weight(ttnn, dev, DIM, HIDDEN, ttnn.bfloat8_b)
    w2 = weight(ttnn, dev, HIDDEN, DIM, ttnn.bfloat8_b)
    gamma = to_dev(ttnn, dev, zeros(1, 1, DIM // 32, 32), layout=ttnn.ROW_MAJOR_LAYOUT)
    k_cache = to_dev(ttnn, dev, zeros(B, NKV, MAX_SEQ, HD), ttnn.bfloat8_b)
    v_cache = to_dev(ttnn, dev, zeros(B, NKV, MAX_SEQ, HD), ttnn.bfloat8_b)
    x = to_dev(ttnn, dev, zeros(1, 1, B, DIM), mem=resid_mem)

    norm_attn = ttnn.LayerNormShardedMultiCoreProgramConfig(
        compute_with_storage_grid_size=(8, 4), subblock_w=4, block_h=1, block_w=4, inplace=False
    )
    norm_mlp = ttnn.LayerNormShardedMultiCoreProgramConfig(
        compute_with_storage_grid_size=(8, 8), subblock_w=2, block_h=1, block_w=2, inplace=False
    )
    norm_cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=False, fp32_dest_acc_en=True, packer_l1_acc=True
    )
    xqkv_pc = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=4, per_core_M=1, per_core_N=6, fused_activation=None
    )
    wo_pc = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=4, per_core_M=1, per_core_N=4, fused_activation=None
    )
    w13_pc = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=2, per_core_M=1, per_core_N=7, fused_activation=None
    )
    w2_pc = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=7, per_core_M=1, per_core_N=2, fused_activation=None
    )
    sdpa_pc = ttnn.SDPAProgramConfig(
        compute_with_storage_grid_size=(8, 8), exp_approx_mode=False, q_chunk_size=0, k_chunk_size=0
    )

    # attention
    h = ttnn.rms_norm(
        x, epsilon=1e-5, weight=gamma, program_config=norm_attn, memory_config=resid_mem, compute_kernel_config=norm_cfg
    )
    qkv = ttnn.linear(
        h,
        wqkv,
        memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG,
        program_config=xqkv_pc,
        compute_kernel_config=hifi2(ttnn),
        dtype=ttnn.bfloat16,
    )
    assert qkv.memory_config().shard_spec.shape == [32, 192] and qkv.memory_config().shard_spec.num_cores() == 32
    qkv = ttnn.sharded_to_interleaved(qkv, ttnn.L1_MEMORY_CONFIG, ttnn.bfloat16)
    q, k, v = ttnn.experimental.nlp_create_qkv_heads_decode(
        qkv, num_heads=NQ, num_kv_heads=NKV, memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG
    )
    rope_mem = height_sharded(ttnn, B, (32, HD))
    cos = to_dev(ttnn, dev, zeros(1, B, 1, HD), mem=rope_mem)
    sin = to_dev(ttnn, dev, zeros(1, B, 1, HD), mem=rope_mem)
    tmat = to_dev(ttnn, dev, zeros(1, 1, 32 * B, 32), mem=height_sharded(ttnn, B, (32, 32)))
    q = ttnn.experimental.rotary_embedding_llama(q, cos, sin, tmat, is_decode_mode=True)
    k = ttnn.experimental.rotary_embedding_llama(k, cos, sin, tmat, is_decode_mode=True)
    pos = ttnn.from_torch(
        torch.arange(B, dtype=torch.int32), dtype=ttnn.int32, device=dev, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    ttnn.experimental.paged_update_cache(k_cache, k, update_idxs_tensor=pos)
    ttnn.experimental.paged_update_cache(v_cache, v, update_idxs_tensor=pos)
    attn = ttnn.transformer.scaled_dot_product_attention_decode(
        q,
        k_cache,
        v_cache,
        cur_pos_tensor=pos,
        scale=HD**-0.5,
        program_config=sdpa_pc,
        compute_kernel_config=hifi2(ttnn),
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    attn = ttnn.to_memory_config(attn, height_sharded(ttnn, B, (32, HD)))  # SCORES_BATCHED_MM_OUTPUT_MEMCFG(32)
    attn = ttnn.experimental.nlp_concat_heads_decode(attn, num_heads=NQ)
    assert attn.memory_config().shard_spec.shape == [32, HD]
    o = ttnn.linear(
        attn, wo, program_config=wo_pc, compute_kernel_config=hifi2(ttnn), memory_config=attn.memory_config()
    )
    o = ttnn.to_memory_config(o, resid_mem)
    x = ttnn.add(x, o, memory_config=resid_mem)

    # MLP
    h = ttnn.to_memory_config(x, mlp_in_mem)
    h = ttnn.rms_norm(
        h, epsilon=1e-5, weight=gamma, program_config=norm_mlp, memory_config=mlp_in_mem, compute_kernel_config=norm_cfg
    )
    a = ttnn.linear(
        h,
        w1,
        program_config=w13_pc,
        memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG,
        compute_kernel_config=hifi2_fp16(ttnn),
        dtype=ttnn.bfloat16,
    )
    b = ttnn.linear(
        h,
        w3,
        program_config=w13_pc,
        memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG,
        compute_kernel_config=hifi2_fp16(ttnn),
        dtype=ttnn.bfloat16,
    )
    assert a.memory_config().shard_spec.shape == [32, 224] and a.memory_config().shard_spec.num_cores() == 64
    g = ttnn.mul(
        a, b, input_tensor_a_activations=[ttnn.UnaryOpType.SILU], dtype=ttnn.bfloat8_b, memory_config=a.memory_config()
    )
    g = ttnn.to_memory_config(g, mlp2_in_mem)
    d = ttnn.linear(
        g,
        w2,
        program_config=w2_pc,
        memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG,
        compute_kernel_config=hifi2_fp16(ttnn),
    )
    d = ttnn.to_memory_config(d, resid_mem)
    x = ttnn.add(x, d, memory_config=resid_mem)
    assert x.shape == [1, 1, B, DIM]


def test_llama31_8b_prefill_configs(dry_ttnn):
    ttnn = dry_ttnn
    dev = ttnn.open_device(device_id=0)
    S = 512  # prefill_len_cutoff on N150
    x = to_dev(ttnn, dev, zeros(1, 1, S, DIM))
    wqkv = weight(ttnn, dev, DIM, QKV, ttnn.bfloat8_b)
    w1 = weight(ttnn, dev, DIM, HIDDEN, ttnn.bfloat8_b)
    w2 = weight(ttnn, dev, HIDDEN, DIM, ttnn.bfloat8_b)
    # XQKV_PREFILL_PROGCFG(512): per_core_M = ceil(512/32/8) = 2, per_core_N = ceil(6144/32/8) = 24, fuse_batch
    qkv_pc = ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(
        compute_with_storage_grid_size=(8, 8),
        in0_block_w=1,
        out_subblock_h=1,
        out_subblock_w=1,
        per_core_M=2,
        per_core_N=24,
        transpose_mcast=False,
        fused_activation=None,
        fuse_batch=True,
    )
    qkv = ttnn.linear(
        x,
        wqkv,
        dtype=ttnn.bfloat16,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
        compute_kernel_config=hifi2(ttnn),
        program_config=qkv_pc,
    )
    q, k, v = ttnn.experimental.nlp_create_qkv_heads(
        qkv, num_heads=NQ, num_kv_heads=NKV, transpose_k_heads=False, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    cos = to_dev(ttnn, dev, zeros(1, 1, S, HD))
    tmat = to_dev(ttnn, dev, zeros(1, 1, 32, 32))
    q = ttnn.experimental.rotary_embedding_llama(q, cos, cos, tmat, is_decode_mode=False)
    k = ttnn.experimental.rotary_embedding_llama(k, cos, cos, tmat, is_decode_mode=False)
    cache = to_dev(ttnn, dev, zeros(B, NKV, MAX_SEQ, HD), ttnn.bfloat8_b)
    ttnn.fill_cache(cache, ttnn.typecast(k, ttnn.bfloat8_b), 0)
    sdpa_pc = ttnn.SDPAProgramConfig(
        compute_with_storage_grid_size=(8, 8), exp_approx_mode=False, q_chunk_size=64, k_chunk_size=64
    )
    sdpa_cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi4, math_approx_mode=False, fp32_dest_acc_en=True, packer_l1_acc=False
    )
    attn = ttnn.transformer.scaled_dot_product_attention(
        ttnn.typecast(q, ttnn.bfloat8_b),
        k,
        v,
        is_causal=True,
        scale=HD**-0.5,
        compute_kernel_config=sdpa_cfg,
        program_config=sdpa_pc,
    )
    attn = ttnn.experimental.nlp_concat_heads(attn, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    assert attn.shape == [1, 1, S, NQ * HD]
    # PREFILL_MLP_W1_W3_PRG_CONFIG(512): grid (8,8), per_core_M 2, per_core_N ceil(14336/256) = 56, in0_block_w 8,
    # out_subblock 1x4.
    w13_pc = ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(
        compute_with_storage_grid_size=(8, 8),
        in0_block_w=8,
        out_subblock_h=1,
        out_subblock_w=4,
        per_core_M=2,
        per_core_N=56,
        transpose_mcast=False,
        fused_activation=None,
        fuse_batch=False,
    )
    a = ttnn.linear(
        x,
        w1,
        program_config=w13_pc,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
        compute_kernel_config=hifi2_fp16(ttnn),
        dtype=ttnn.bfloat16,
    )
    g = ttnn.mul(a, a, input_tensor_a_activations=[ttnn.UnaryOpType.SILU], dtype=ttnn.bfloat8_b)
    w2_pc = ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(
        compute_with_storage_grid_size=(8, 8),
        in0_block_w=8,
        out_subblock_h=1,
        out_subblock_w=4,
        per_core_M=2,
        per_core_N=16,
        transpose_mcast=False,
        fused_activation=None,
        fuse_batch=False,
    )
    d = ttnn.linear(
        g, w2, program_config=w2_pc, memory_config=ttnn.DRAM_MEMORY_CONFIG, compute_kernel_config=hifi2_fp16(ttnn)
    )
    assert d.shape == [1, 1, S, DIM]


def _pairs_rope(x, cos, sin):
    """Adjacent-pair rotation (the device convention): out[2i] = x0 c - x1 s, out[2i+1] = x1 c + x0 s."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x1 * cos + x0 * sin], -1).flatten(-2)


def test_mini_decode_layer_matches_torch(ttnn, device, gen):
    """The decode-layer op sequence of tt_transformers at small size, device numerics, against a float64 reference
    that uses the same (quantized) weights and cache contents."""
    dim, nq, nkv, hd, hidden, L = 256, 4, 2, 64, 512, 64
    qkv_n = hd * (nq + 2 * nkv)
    r = lambda *s: torch.randn(*s, generator=gen)  # noqa: E731
    resid_mem = width_sharded(ttnn, 32, dim, 8, 1)
    dev = device

    def w(k, n, dtype=ttnn.bfloat8_b):
        return to_dev(ttnn, dev, r(1, 1, k, n) / k**0.5, dtype, mem=dram_sharded(ttnn, k, n))

    wqkv, wo, w1, w3, w2 = w(dim, qkv_n), w(nq * hd, dim), w(dim, hidden), w(dim, hidden), w(hidden, dim)
    g_attn = ttnn.from_torch(
        (1 + 0.1 * r(dim)).reshape(1, 1, dim // 32, 32),
        dtype=ttnn.bfloat16,
        device=dev,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    g_mlp = ttnn.from_torch(
        (1 + 0.1 * r(dim)).reshape(1, 1, dim // 32, 32),
        dtype=ttnn.bfloat16,
        device=dev,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    kc = to_dev(ttnn, dev, r(B, nkv, L, hd), ttnn.bfloat8_b)
    vc = to_dev(ttnn, dev, r(B, nkv, L, hd), ttnn.bfloat8_b)
    pos = torch.randint(0, L, (B,), generator=gen, dtype=torch.int32)
    x0 = r(1, 1, B, dim)
    ang = pos.double()[:, None] * (1.0 / 10000 ** (torch.arange(0, hd, 2).double() / hd))[None, :]
    cos_t = ang.cos().repeat_interleave(2, -1).float().reshape(1, B, 1, hd)
    sin_t = ang.sin().repeat_interleave(2, -1).float().reshape(1, B, 1, hd)
    tmat = torch.zeros(32, 32)
    tmat[torch.arange(0, 32, 2), torch.arange(1, 32, 2)] = 1
    tmat[torch.arange(1, 32, 2), torch.arange(0, 32, 2)] = -1

    # reference inputs: the values the device tensors hold
    W = {n: ttnn.to_torch(t).double()[0, 0] for n, t in dict(qkv=wqkv, o=wo, w1=w1, w3=w3, w2=w2).items()}
    K0, V0 = ttnn.to_torch(kc).double(), ttnn.to_torch(vc).double()
    ga, gm = ttnn.to_torch(g_attn).double().reshape(-1), ttnn.to_torch(g_mlp).double().reshape(-1)

    hifi = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=False, fp32_dest_acc_en=True, packer_l1_acc=True
    )
    norm_pc = ttnn.LayerNormShardedMultiCoreProgramConfig(
        compute_with_storage_grid_size=(8, 1), subblock_w=1, block_h=1, block_w=1, inplace=False
    )
    x = to_dev(ttnn, dev, x0, mem=resid_mem)
    h = ttnn.rms_norm(
        x, epsilon=1e-5, weight=g_attn, program_config=norm_pc, memory_config=resid_mem, compute_kernel_config=hifi
    )
    pc = lambda w_, n_: ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=w_, per_core_M=1, per_core_N=n_, fused_activation=None
    )  # noqa: E731
    qkv = ttnn.linear(
        h,
        wqkv,
        program_config=pc(1, 2),
        memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG,
        compute_kernel_config=hifi,
        dtype=ttnn.bfloat16,
    )
    qkv = ttnn.sharded_to_interleaved(qkv, ttnn.L1_MEMORY_CONFIG)
    q, k, v = ttnn.experimental.nlp_create_qkv_heads_decode(
        qkv, num_heads=nq, num_kv_heads=nkv, memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG
    )
    rmem = height_sharded(ttnn, B, (32, hd))
    tc = to_dev(ttnn, dev, cos_t, mem=rmem)
    ts = to_dev(ttnn, dev, sin_t, mem=rmem)
    tt = to_dev(ttnn, dev, tmat.repeat(B, 1).reshape(1, 1, 32 * B, 32), mem=height_sharded(ttnn, B, (32, 32)))
    q = ttnn.experimental.rotary_embedding_llama(q, tc, ts, tt, is_decode_mode=True)
    k = ttnn.experimental.rotary_embedding_llama(k, tc, ts, tt, is_decode_mode=True)
    tpos = ttnn.from_torch(pos, dtype=ttnn.int32, device=dev, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    ttnn.experimental.paged_update_cache(kc, k, update_idxs_tensor=tpos)
    ttnn.experimental.paged_update_cache(vc, v, update_idxs_tensor=tpos)
    attn = ttnn.transformer.scaled_dot_product_attention_decode(
        q,
        kc,
        vc,
        cur_pos_tensor=tpos,
        scale=hd**-0.5,
        compute_kernel_config=hifi,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    attn = ttnn.to_memory_config(attn, height_sharded(ttnn, B, (32, hd)))
    attn = ttnn.experimental.nlp_concat_heads_decode(attn, num_heads=nq)
    o = ttnn.linear(
        attn, wo, program_config=pc(2, 2), memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG, compute_kernel_config=hifi
    )
    x = ttnn.add(x, ttnn.to_memory_config(o, resid_mem), memory_config=resid_mem)
    h = ttnn.rms_norm(
        x, epsilon=1e-5, weight=g_mlp, program_config=norm_pc, memory_config=resid_mem, compute_kernel_config=hifi
    )
    a = ttnn.linear(
        h, w1, program_config=pc(1, 2), memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG, compute_kernel_config=hifi
    )
    b = ttnn.linear(
        h, w3, program_config=pc(1, 2), memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG, compute_kernel_config=hifi
    )
    gte = ttnn.mul(
        a, b, input_tensor_a_activations=[ttnn.UnaryOpType.SILU], dtype=ttnn.bfloat8_b, memory_config=a.memory_config()
    )
    d = ttnn.linear(
        gte, w2, program_config=pc(2, 1), memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG, compute_kernel_config=hifi
    )
    out = ttnn.add(x, d, memory_config=resid_mem)

    # float64 reference
    def rms(v, g):
        return v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + 1e-5) * g

    X = x0.double()[0, 0].to(torch.bfloat16).double()
    H = rms(X, ga) @ W["qkv"]
    Hh = H.reshape(B, nq + 2 * nkv, hd)
    c, s = ang.cos()[:, None, :], ang.sin()[:, None, :]
    Q, Kn, Vn = _pairs_rope(Hh[:, :nq], c, s), _pairs_rope(Hh[:, nq : nq + nkv], c, s), Hh[:, nq + nkv :]
    outs = []
    for bb in range(B):
        p = int(pos[bb])
        Kb, Vb = K0[bb].clone(), V0[bb].clone()
        Kb[:, p], Vb[:, p] = Kn[bb], Vn[bb]
        Kb, Vb = Kb[:, : p + 1].repeat_interleave(nq // nkv, 0), Vb[:, : p + 1].repeat_interleave(nq // nkv, 0)
        att = torch.softmax((Q[bb][:, None, :] @ Kb.transpose(-1, -2)) * hd**-0.5, -1) @ Vb
        outs.append(att.reshape(nq * hd))
    X = X + torch.stack(outs) @ W["o"]
    Hm = rms(X, gm)
    ref = X + (torch.nn.functional.silu(Hm @ W["w1"]) * (Hm @ W["w3"])) @ W["w2"]
    got = ttnn.to_torch(out).double()[0, 0]
    err = float((got - ref).norm() / ref.norm())
    assert err < 2e-2, err


COMMITTED_1B_N150 = Path(__file__).resolve().parents[2] / "generated" / "llama_3_2_1b" / "n150"


def test_committed_llama_3_2_1b_decode_runs_on_the_emulator(monkeypatch):
    """The committed llama_3_2_1b/n150 package, whose ops the real ttnn judges (`tttgen check --ttnn`), runs a full
    decode step (16 layers, 32 users) on the emulator: the emulator refuses nothing the package asks of ttnn.
    Shape-only: the checkpoint is meta tensors and numerics="none" stores no float values."""
    import tttgen.checking.emulator as emu
    from transformers import AutoModelForCausalLM

    from tttgen.inputs.load import load_device, load_model
    from tttgen.checking.verification import hf_config, imported_package

    device, _ = load_device("n150")
    spec, _ = load_model("llama-3.2-1b")
    with torch.device("meta"):
        reference = AutoModelForCausalLM.from_config(hf_config(spec))
    state = dict(reference.named_parameters())  # tied weights once, as save_pretrained writes them
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # generated/ stays as committed
    grid = (device.grid.x, device.grid.y)
    with (
        emu.installed(arch=device.arch, grid=grid, dram_banks=device.dram.banks, numerics="none") as ttnn,
        imported_package(COMMITTED_1B_N150, "tttgen_test_committed_1b") as package,
    ):
        monkeypatch.setattr(sys.modules["tttgen_test_committed_1b.weights"], "read_checkpoint", lambda _: state)
        device = ttnn.open_device(device_id=0, trace_region_size=package.configs.TRACE_REGION_SIZE)
        model = package.Model(device, "meta checkpoint")
        users = package.configs.DECODE_USERS
        positions = torch.arange(users, dtype=torch.int64)
        logits = model.decode_forward(torch.zeros(users, dtype=torch.int64), positions)
        assert tuple(logits.shape) == (users, spec.vocab_size)
