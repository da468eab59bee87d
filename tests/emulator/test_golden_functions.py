"""Emulator outputs vs ttnn 0.81.1's own golden functions, loaded from the wheel's Python sources (see golden_loader).

Data-movement ops must match their goldens exactly; compute ops must match within the error the emulator's device
numerics model adds (bf16 DST accumulation, math fidelity, bf16 intermediates). Inputs given to a golden are the
values the emulated tensors store (already quantized), in the torch dtype ``ttnn.to_torch`` returns.

Ops WITHOUT a golden function in 0.81.1 (checked below against the loaded registry) and the docstring each follows
(strings of ``ttnn/_ttnn.cpython-312-x86_64-linux-gnu.so``; full quotes in docs/emulator.md and the op modules):

* ``ttnn.experimental.rotary_embedding_llama`` - args ``input_tensor, cos_cache, sin_cache, trans_mat, is_decode_mode,
  memory_config, compute_kernel_config`` ("Applies the rotary embedding to the input_tensor tensor using the cos_cache
  and sin_cache tensors"); rotation convention from the reference (adjacent pairs via trans_mat).
* ``ttnn.experimental.nlp_create_qkv_heads`` - "Shuffles [B, 1, S, 3 * head_dim * num_heads] fused qkv matrix into 3
  Q, K, and V heads ... transpose_k_heads=false".
* ``ttnn.experimental.nlp_create_qkv_heads_decode`` - "Shuffles [1, S=1, B, head_dim * (num_heads + 2*num_kv_heads)]
  fused qkv matrix into Q, K, and V heads ... padded to nearest 32".
* ``ttnn.experimental.nlp_concat_heads`` - "Shuffles [B, num_heads, S, head_dim] tensor into tensor with shape [B, 1,
  S, num_heads * head_dim]".
* ``ttnn.experimental.nlp_concat_heads_decode`` - "Shuffles [S=1, B=32, 32(num_heads), head_dim] tensor into tensor
  with shape [S=1, 1, B=32, num_heads * head_dim] ... The output is default width sharded by num heads".
* ``ttnn.experimental.paged_update_cache`` - "cache_tensor of shape [B, 1, kv_len, head_dim] and input_tensor of
  shape [1, B, 1[32], head_dim] where input_tensor is height sharded on B cores. update_idxs will specify for each
  batch element which token to update in the cache".
Those ops are covered by test_ops.py against hand-written torch references.
"""

from __future__ import annotations

import pytest
import torch

import golden_loader
from emu_helpers import rel_err, to_dev

NO_GOLDEN = (
    "ttnn.experimental.rotary_embedding_llama",
    "ttnn.experimental.nlp_create_qkv_heads",
    "ttnn.experimental.nlp_create_qkv_heads_decode",
    "ttnn.experimental.nlp_concat_heads",
    "ttnn.experimental.nlp_concat_heads_decode",
    "ttnn.experimental.paged_update_cache",
)


@pytest.fixture(scope="module")
def goldens():
    wheel = golden_loader.find_wheel()
    if wheel is None:
        pytest.skip("ttnn 0.81.1 wheel not available and `pip download` failed")
    return golden_loader.load_goldens(wheel)


def t(ttnn, x):
    return ttnn.to_torch(x)


def test_ops_without_golden_are_listed(goldens):
    for name in NO_GOLDEN:
        assert name not in goldens, f"{name} now has a golden function; compare against it"
    for name in (
        "ttnn.linear",
        "ttnn.matmul",
        "ttnn.rms_norm",
        "ttnn.layer_norm",
        "ttnn.embedding",
        "ttnn.add",
        "ttnn.multiply",
        "ttnn.typecast",
        "ttnn.reshape",
        "ttnn.permute",
        "ttnn.slice",
        "ttnn.concat",
        "ttnn.fill_cache",
        "ttnn.update_cache",
        "ttnn.silu",
        "ttnn.transformer.scaled_dot_product_attention",
        "ttnn.transformer.scaled_dot_product_attention_decode",
    ):
        assert goldens.get(name) is not None, name


def test_linear_and_matmul(goldens, ttnn, device, gen):
    a = to_dev(ttnn, device, torch.randn(1, 1, 64, 256, generator=gen))
    w = to_dev(ttnn, device, torch.randn(1, 1, 256, 128, generator=gen) / 16, dtype=ttnn.bfloat8_b)
    bias = to_dev(ttnn, device, torch.randn(1, 1, 32, 128, generator=gen))
    pc = ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(
        compute_with_storage_grid_size=(4, 2),
        in0_block_w=4,
        out_subblock_h=1,
        out_subblock_w=1,
        per_core_M=1,
        per_core_N=1,
        transpose_mcast=False,
        fused_activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU),
        fuse_batch=True,
    )
    hifi4 = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi4, fp32_dest_acc_en=True, packer_l1_acc=True
    )
    out = ttnn.linear(a, w, program_config=pc, compute_kernel_config=hifi4)
    gold = goldens["ttnn.linear"](t(ttnn, a), t(ttnn, w), bias=None, program_config=pc)
    assert rel_err(t(ttnn, out), gold) < 1e-2
    out_b = ttnn.linear(a, w, bias=bias)
    gold_b = goldens["ttnn.linear"](t(ttnn, a), t(ttnn, w), bias=t(ttnn, bias)[0, 0, 0])
    assert rel_err(t(ttnn, out_b), gold_b) < 1e-2
    out_m = ttnn.matmul(a, w, dtype=ttnn.bfloat8_b)
    gold_m = goldens["ttnn.matmul"](t(ttnn, a), t(ttnn, w), dtype=ttnn.bfloat8_b)
    assert rel_err(t(ttnn, out_m), gold_m) < 2e-2


def test_norms(goldens, ttnn, device, gen):
    x = to_dev(ttnn, device, torch.randn(1, 1, 64, 256, generator=gen) * 2 + 0.5)
    g = ttnn.from_torch(
        torch.randn(1, 1, 8, 32, generator=gen),
        dtype=ttnn.bfloat16,
        device=device,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    b = ttnn.from_torch(
        torch.randn(1, 1, 8, 32, generator=gen),
        dtype=ttnn.bfloat16,
        device=device,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    out = ttnn.rms_norm(x, epsilon=1e-5, weight=g)
    gold = goldens["ttnn.rms_norm"](t(ttnn, x), weight=t(ttnn, g), epsilon=1e-5)
    assert rel_err(t(ttnn, out), gold) < 1e-2
    out_ln = ttnn.layer_norm(x, epsilon=1e-5, weight=g, bias=b)
    gold_ln = goldens["ttnn.layer_norm"](
        t(ttnn, x).float(), weight=t(ttnn, g).float().reshape(-1), bias=t(ttnn, b).float().reshape(-1), epsilon=1e-5
    )
    assert rel_err(t(ttnn, out_ln), gold_ln) < 1e-2


def test_eltwise(goldens, ttnn, device, gen):
    a = to_dev(ttnn, device, torch.randn(1, 1, 32, 128, generator=gen))
    b = to_dev(ttnn, device, torch.randn(1, 1, 32, 128, generator=gen))
    assert torch.equal(t(ttnn, ttnn.add(a, b)), goldens["ttnn.add"](t(ttnn, a), t(ttnn, b)))
    sw = ttnn.multiply(a, b, input_tensor_a_activations=[ttnn.UnaryOpType.SILU])
    gold = goldens["ttnn.multiply"](t(ttnn, a), t(ttnn, b), input_tensor_a_activations=[ttnn.UnaryOpType.SILU])
    assert rel_err(t(ttnn, sw), gold) < 8e-3
    assert rel_err(t(ttnn, ttnn.silu(a)), goldens["ttnn.silu"](t(ttnn, a))) < 8e-3


def test_embedding(goldens, ttnn, device, gen):
    w = ttnn.from_torch(
        torch.randn(50, 64, generator=gen), dtype=ttnn.bfloat16, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG
    )
    ids = ttnn.from_torch(
        torch.randint(0, 50, (1, 7), generator=gen),
        dtype=ttnn.uint32,
        device=device,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
    )
    out = ttnn.embedding(ids, w, layout=ttnn.TILE_LAYOUT, dtype=ttnn.bfloat16)
    assert torch.equal(t(ttnn, out), goldens["ttnn.embedding"](t(ttnn, ids), t(ttnn, w), dtype=ttnn.bfloat16))


def test_data_movement_exact(goldens, ttnn, device, gen):
    x = to_dev(ttnn, device, torch.randn(1, 2, 64, 96, generator=gen))
    xt = t(ttnn, x)
    assert torch.equal(t(ttnn, ttnn.reshape(x, (1, 1, 128, 96))), goldens["ttnn.reshape"](xt, (1, 1, 128, 96)))
    assert torch.equal(t(ttnn, ttnn.permute(x, (0, 1, 3, 2))), goldens["ttnn.permute"](xt, (0, 1, 3, 2)))
    assert torch.equal(
        t(ttnn, ttnn.slice(x, [0, 0, 32, 32], [1, 2, 64, 96])),
        goldens["ttnn.slice"](xt, [0, 0, 32, 32], [1, 2, 64, 96]),
    )
    assert torch.equal(t(ttnn, ttnn.concat([x, x], dim=1)), goldens["ttnn.concat"]([xt, xt], dim=1))
    for dtype in (ttnn.bfloat8_b, ttnn.bfloat4_b, ttnn.float32):
        assert torch.equal(
            t(ttnn, ttnn.typecast(x, dtype)),
            goldens["ttnn.typecast"](xt.float() if dtype != ttnn.float32 else xt, dtype=dtype),
        ), dtype
    f = to_dev(ttnn, device, torch.randn(1, 1, 32, 64, generator=gen) * 50, dtype=ttnn.float32)
    assert torch.equal(t(ttnn, ttnn.typecast(f, ttnn.int32)), goldens["ttnn.typecast"](t(ttnn, f), dtype=ttnn.int32))


def test_kv_cache_exact(goldens, ttnn, device, gen):
    cache = to_dev(ttnn, device, torch.zeros(4, 2, 128, 64))
    x = to_dev(ttnn, device, torch.randn(1, 2, 64, 64, generator=gen))
    gold_cache = t(ttnn, cache).clone()
    ttnn.fill_cache(cache, x, 2, update_idx=32)
    gold_cache = goldens["ttnn.fill_cache"](gold_cache, t(ttnn, x), 2, update_idx=32)
    assert torch.equal(t(ttnn, cache), gold_cache)
    tok = to_dev(ttnn, device, torch.randn(1, 2, 32, 64, generator=gen))
    ttnn.update_cache(cache, tok, 100, batch_offset=3)
    gold_cache = goldens["ttnn.update_cache"](gold_cache, t(ttnn, tok), 100, batch_offset=3)
    assert torch.equal(t(ttnn, cache), gold_cache)


def test_sdpa_prefill(goldens, ttnn, device, gen):
    q, k, v = (to_dev(ttnn, device, torch.randn(1, h, 128, 64, generator=gen)) for h in (8, 2, 2))
    pc = ttnn.SDPAProgramConfig(
        compute_with_storage_grid_size=(8, 8), q_chunk_size=64, k_chunk_size=64, exp_approx_mode=False
    )
    out = ttnn.transformer.scaled_dot_product_attention(q, k, v, is_causal=True, program_config=pc)
    gold = goldens["ttnn.transformer.scaled_dot_product_attention"](t(ttnn, q), t(ttnn, k), t(ttnn, v), is_causal=True)
    assert rel_err(t(ttnn, out), gold) < 3e-2


def test_sdpa_decode(goldens, ttnn, device, gen):
    B, nq, nkv, hd, L = 32, 8, 2, 64, 96
    q = to_dev(ttnn, device, torch.randn(1, B, nq, hd, generator=gen))
    k = to_dev(ttnn, device, torch.randn(B, nkv, L, hd, generator=gen), dtype=ttnn.bfloat8_b)
    v = to_dev(ttnn, device, torch.randn(B, nkv, L, hd, generator=gen), dtype=ttnn.bfloat8_b)
    pos = torch.randint(0, L, (B,), generator=gen, dtype=torch.int32)
    pos[7] = -1
    tp = ttnn.from_torch(pos, dtype=ttnn.int32, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    out = ttnn.transformer.scaled_dot_product_attention_decode(q, k, v, cur_pos_tensor=tp)
    gold = goldens["ttnn.transformer.scaled_dot_product_attention_decode"](
        t(ttnn, q), t(ttnn, k), t(ttnn, v), cur_pos_tensor=pos
    )
    assert out.shape == list(gold.shape)
    assert rel_err(t(ttnn, out), gold) < 3e-2
    assert torch.equal(t(ttnn, out)[0, 7].float(), gold[0, 7].float())  # skipped user: zeros in both


def test_sdpa_sliding_window(goldens, ttnn, device, gen):
    """sliding_window_size (Gemma): prefill and decode against the goldens' _window_mask; a user past the window
    attends only its latest positions (the window changes the result: compared with the windowless golden too)."""
    q, k, v = (to_dev(ttnn, device, torch.randn(1, h, 128, 64, generator=gen)) for h in (4, 2, 2))
    out = ttnn.transformer.scaled_dot_product_attention(q, k, v, is_causal=True, sliding_window_size=32)
    golden = goldens["ttnn.transformer.scaled_dot_product_attention"]
    gold = golden(t(ttnn, q), t(ttnn, k), t(ttnn, v), is_causal=True, sliding_window_size=32)
    assert rel_err(t(ttnn, out), gold) < 3e-2
    assert rel_err(t(ttnn, out), golden(t(ttnn, q), t(ttnn, k), t(ttnn, v), is_causal=True)) > 0.1
    B, nq, nkv, hd, L = 32, 4, 2, 64, 96
    q = to_dev(ttnn, device, torch.randn(1, B, nq, hd, generator=gen))
    k = to_dev(ttnn, device, torch.randn(B, nkv, L, hd, generator=gen))
    v = to_dev(ttnn, device, torch.randn(B, nkv, L, hd, generator=gen))
    pos = torch.randint(0, L, (B,), generator=gen, dtype=torch.int32)
    pos[3] = 90  # past the window
    tp = ttnn.from_torch(pos, dtype=ttnn.int32, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    out = ttnn.transformer.scaled_dot_product_attention_decode(q, k, v, cur_pos_tensor=tp, sliding_window_size=16)
    gold = goldens["ttnn.transformer.scaled_dot_product_attention_decode"](
        t(ttnn, q), t(ttnn, k), t(ttnn, v), cur_pos_tensor=pos, sliding_window_size=16
    )
    assert rel_err(t(ttnn, out), gold) < 3e-2


def test_softcap(ttnn, device, gen):
    """ttnn.softcap has no golden in 0.81.1: its docstring's beta * tanh(x / beta)."""
    x = to_dev(ttnn, device, torch.randn(1, 1, 32, 128, generator=gen) * 40)
    expected = 30.0 * torch.tanh(t(ttnn, x).float() / 30.0)
    assert rel_err(t(ttnn, ttnn.softcap(x, 30.0)), expected) < 8e-3


def test_group_norm(goldens, ttnn, device, gen):
    """ttnn.group_norm (the group_norm kind): NHWC [N, 1, H*W, C], gamma/beta packed [1, 1, C / 32, 32]."""
    x = to_dev(ttnn, device, torch.randn(2, 1, 64, 128, generator=gen) * 2 + 0.5)
    g, b = (
        ttnn.from_torch(torch.randn(1, 1, 4, 32, generator=gen), dtype=ttnn.bfloat16, device=device)
        for _ in range(2)
    )
    out = ttnn.group_norm(x, num_groups=4, epsilon=1e-5, weight=g, bias=b, inplace=False)
    gold = goldens["ttnn.group_norm"](t(ttnn, x), num_groups=4, epsilon=1e-5, weight=t(ttnn, g), bias=t(ttnn, b))
    assert rel_err(t(ttnn, out), gold) < 1e-2


def test_explicit_attention_ops(goldens, ttnn, device, gen):
    """The ops the attention written out as ops adds (sdpa_explicit*): ttnn.matmul with transpose_b, arange,
    repeat_interleave, lt and ge, each against its 0.81.1 golden."""
    q = to_dev(ttnn, device, torch.randn(2, 4, 64, 64, generator=gen))
    k = to_dev(ttnn, device, torch.randn(2, 4, 96, 64, generator=gen))
    out = ttnn.matmul(q, k, transpose_b=True)
    gold = goldens["ttnn.matmul"](t(ttnn, q), t(ttnn, k), transpose_b=True)
    assert list(out.shape) == [2, 4, 64, 96] and rel_err(t(ttnn, out), gold) < 1e-2
    # a batched product whose rows are a padded tile (decode: a KV head's group of query rows)
    g = to_dev(ttnn, device, torch.randn(2, 4, 2, 64, generator=gen))
    assert rel_err(t(ttnn, ttnn.matmul(g, k, transpose_b=True)), goldens["ttnn.matmul"](t(ttnn, g), t(ttnn, k), transpose_b=True)) < 1e-2
    r = ttnn.arange(0, 96, 1, dtype=ttnn.float32, device=device, layout=ttnn.ROW_MAJOR_LAYOUT)
    assert torch.equal(t(ttnn, r).float(), goldens["ttnn.arange"](0, 96, 1, dtype=ttnn.float32).float())
    rep = ttnn.repeat_interleave(k, 3, dim=1)
    assert torch.equal(t(ttnn, rep), goldens["ttnn.repeat_interleave"](t(ttnn, k), 3, dim=1))
    d = to_dev(ttnn, device, torch.randint(-40, 40, (1, 1, 32, 64), generator=gen).float(), dtype=ttnn.float32)
    for name, scalar in (("lt", 0.0), ("ge", 16)):
        got = t(ttnn, getattr(ttnn, name)(d, scalar)).float()
        assert torch.equal(got, goldens[f"ttnn.{name}"](t(ttnn, d), scalar).float()), name
        assert 0 < got.sum() < got.numel()
