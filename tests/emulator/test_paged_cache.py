"""Paged KV caches and chunked prefill attention on the emulator.

Semantics follow ttnn 0.81.1's goldens (``paged_scaled_dot_product_attention_decode_golden`` and
``chunked_scaled_dot_product_attention_golden``: rebuild each user's contiguous cache through the page table, then run
the unpaged attention) and the paged cache writers' page-table lookup. So a paged cache written and read through a
shuffled page table must give exactly what the unpaged ops give on the same logical data, and chunked prefill over
two chunks exactly what one causal SDPA over the whole prompt gives. The validation rules added with these ops are
each refused with their rule id.
"""

from __future__ import annotations

import pytest
import torch

from emu_helpers import height_sharded, to_dev, rejects as _rejects

NKV, NQ, HD, BS = 2, 8, 64, 32


def _int(ttnn, device, values, mem=None, layout=None):
    return ttnn.from_torch(
        torch.as_tensor(values, dtype=torch.int32),
        dtype=ttnn.int32,
        layout=layout or ttnn.ROW_MAJOR_LAYOUT,
        device=device,
        memory_config=mem or ttnn.DRAM_MEMORY_CONFIG,
    )


def _logical(cache: torch.Tensor, page_table: torch.Tensor) -> torch.Tensor:
    """[users, nkv, blocks_per_user * block, hd] through the page table (the golden's _paged_to_contiguous)."""
    rows = [cache[row.long()].permute(1, 0, 2, 3).reshape(cache.shape[1], -1, cache.shape[3]) for row in page_table]
    return torch.stack(rows)


def _sdpa_pc(ttnn, q_chunk=32, k_chunk=32):
    return ttnn.SDPAProgramConfig(
        compute_with_storage_grid_size=(8, 8), exp_approx_mode=False, q_chunk_size=q_chunk, k_chunk_size=k_chunk
    )


# ------------------------------------------------------------------------------------------------ decode


def test_paged_fill_update_and_decode_equal_the_unpaged_ops(ttnn, device, gen):
    B, per_user = 8, 4  # capacity 128 tokens per user
    L = per_user * BS
    page_table = torch.randperm(B * per_user, generator=gen).reshape(B, per_user).int()
    tpt = _int(ttnn, device, page_table)
    paged_k = to_dev(ttnn, device, torch.zeros(B * per_user, NKV, BS, HD), dtype=ttnn.bfloat8_b)
    paged_v = to_dev(ttnn, device, torch.zeros(B * per_user, NKV, BS, HD), dtype=ttnn.bfloat8_b)
    flat_k = to_dev(ttnn, device, torch.zeros(B, NKV, L, HD), dtype=ttnn.bfloat8_b)
    flat_v = to_dev(ttnn, device, torch.zeros(B, NKV, L, HD), dtype=ttnn.bfloat8_b)

    # prefill: prompts of different lengths (70 is not a multiple of the block or of a tile), one by batch_idx_tensor
    lengths = [70, 32, 96, 5, 0, 64, 127, 33]
    for u, n in enumerate(lengths):
        if n == 0:
            continue
        for paged, flat in ((paged_k, flat_k), (paged_v, flat_v)):
            x = to_dev(ttnn, device, torch.randn(1, NKV, n, HD, generator=gen), dtype=ttnn.bfloat8_b)
            if u == 2:
                ttnn.experimental.paged_fill_cache(paged, x, tpt, batch_idx_tensor=_int(ttnn, device, [u]))
            else:
                ttnn.experimental.paged_fill_cache(paged, x, tpt, batch_idx=u)
            ttnn.fill_cache(flat, x, u)
    # the fill wrote whole tiles: user 0's prompt (70) also zeroed rows 70..95, which were zeros already
    assert torch.equal(_logical(ttnn.to_torch(paged_k).float(), page_table), ttnn.to_torch(flat_k).float())
    assert torch.equal(_logical(ttnn.to_torch(paged_v).float(), page_table), ttnn.to_torch(flat_v).float())

    # decode step: every user writes its next token; user 4 is skipped (-1)
    pos = [n if n < L else -1 for n in lengths]
    pos[4] = -1
    tpos = _int(ttnn, device, pos)
    kv_mem = height_sharded(ttnn, B, (32, HD))
    for paged, flat in ((paged_k, flat_k), (paged_v, flat_v)):
        new = torch.randn(1, B, NKV, HD, generator=gen)
        tnew = ttnn.from_torch(new, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, memory_config=kv_mem)
        ttnn.experimental.paged_update_cache(paged, tnew, update_idxs_tensor=tpos, page_table=tpt)
        ttnn.experimental.paged_update_cache(flat, tnew, update_idxs_tensor=tpos)
    ck, cv = ttnn.to_torch(paged_k).float(), ttnn.to_torch(paged_v).float()
    assert torch.equal(_logical(ck, page_table), ttnn.to_torch(flat_k).float())
    assert torch.equal(_logical(cv, page_table), ttnn.to_torch(flat_v).float())
    blk = int(page_table[0, 70 // BS])
    assert torch.count_nonzero(ck[blk, :, 70 % BS]) > 0  # user 0's token 70 in its third block, row 6

    q = to_dev(ttnn, device, torch.randn(1, B, NQ, HD, generator=gen))
    cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=False, fp32_dest_acc_en=False, packer_l1_acc=False
    )
    common = dict(cur_pos_tensor=tpos, scale=HD**-0.5, program_config=_sdpa_pc(ttnn, 0, 0), compute_kernel_config=cfg)
    paged_out = ttnn.transformer.paged_scaled_dot_product_attention_decode(
        q, paged_k, paged_v, page_table_tensor=tpt, memory_config=ttnn.DRAM_MEMORY_CONFIG, **common
    )
    flat_out = ttnn.transformer.scaled_dot_product_attention_decode(q, flat_k, flat_v, **common)
    assert paged_out.shape == [1, B, NQ, HD]
    assert torch.equal(ttnn.to_torch(paged_out).float(), ttnn.to_torch(flat_out).float())
    assert torch.equal(ttnn.to_torch(paged_out).float()[0, 4], torch.zeros(NQ, HD))  # skipped user: zeros
    # default compute config, page table positional: still the unpaged answer
    a = ttnn.transformer.paged_scaled_dot_product_attention_decode(q, paged_k, paged_v, tpt, cur_pos_tensor=tpos)
    b = ttnn.transformer.scaled_dot_product_attention_decode(q, flat_k, flat_v, cur_pos_tensor=tpos)
    assert torch.equal(ttnn.to_torch(a).float(), ttnn.to_torch(b).float())


def test_paged_fill_batched_rows_and_skipped_blocks(ttnn, device, gen):
    """Input row i fills page-table row batch_idx_tensor[i]; a -1 entry skips its block (SKIP_PAGE_TABLE_ENTRY)."""
    cache = to_dev(ttnn, device, torch.zeros(8, NKV, BS, HD))
    pt = torch.tensor([[3, 1], [-1, 6], [0, 2]], dtype=torch.int32)
    x = torch.randn(2, NKV, 64, HD, generator=gen)
    ttnn.experimental.paged_fill_cache(
        cache, to_dev(ttnn, device, x), _int(ttnn, device, pt), batch_idx_tensor=_int(ttnn, device, [2, 1])
    )
    c = ttnn.to_torch(cache).float()
    xb = x.to(torch.bfloat16).float()
    assert torch.equal(c[0], xb[0, :, :32]) and torch.equal(c[2], xb[0, :, 32:])
    assert torch.equal(c[6], xb[1, :, 32:])
    for blk in (1, 3, 4, 5, 7):
        assert torch.count_nonzero(c[blk]) == 0


def test_dry_mode_checks_page_tables(dry_ttnn):
    ttnn = dry_ttnn
    dev = ttnn.open_device(device_id=0)
    cache = to_dev(ttnn, dev, torch.zeros(4, NKV, BS, HD))
    x = to_dev(ttnn, dev, torch.zeros(1, NKV, 64, HD))
    ttnn.experimental.paged_fill_cache(cache, x, _int(ttnn, dev, [[0, 3]]))
    _rejects(
        ttnn,
        "paged_cache.page_table_entry",
        lambda: ttnn.experimental.paged_fill_cache(cache, x, _int(ttnn, dev, [[0, 4]])),
        match="Page table contains an index outside [0, 4)",
    )


# ------------------------------------------------------------------------------------------------ chunked prefill


@pytest.mark.parametrize("q_chunk", [32, 64])
def test_chunked_prefill_over_two_chunks_equals_full_causal_sdpa(ttnn, device, gen, q_chunk):
    S, C = 128, 64
    pool = 16
    page_table = torch.randperm(pool, generator=gen)[:8].reshape(1, 8).int()  # capacity 256, a shuffled subset
    tpt = _int(ttnn, device, page_table)
    cache_k = to_dev(ttnn, device, torch.zeros(pool, NKV, BS, HD), dtype=ttnn.bfloat8_b)
    cache_v = to_dev(ttnn, device, torch.zeros(pool, NKV, BS, HD), dtype=ttnn.bfloat8_b)
    q = torch.randn(1, NQ, S, HD, generator=gen)
    k = torch.randn(1, NKV, S, HD, generator=gen)
    v = torch.randn(1, NKV, S, HD, generator=gen)
    pc = _sdpa_pc(ttnn, q_chunk, 32)
    outs = []
    for c in range(S // C):
        # each chunk's K/V go into the blocks of its own slice of the page table, as tt_transformers fills them
        part = _int(ttnn, device, page_table[:, c * C // BS : (c + 1) * C // BS])
        for cache, full in ((cache_k, k), (cache_v, v)):
            chunk = to_dev(ttnn, device, full[:, :, c * C : (c + 1) * C], dtype=ttnn.bfloat8_b)
            ttnn.experimental.paged_fill_cache(cache, chunk, part, batch_idx=0)
        tq = to_dev(ttnn, device, q[:, :, c * C : (c + 1) * C])
        if c == 0:
            out = ttnn.transformer.chunked_scaled_dot_product_attention(
                tq, cache_k, cache_v, tpt, c * C, scale=HD**-0.5, program_config=pc
            )
        else:  # the flexible convention: the start read from a device tensor
            out = ttnn.transformer.chunked_scaled_dot_product_attention(
                tq,
                cache_k,
                cache_v,
                tpt,
                chunk_start_idx_tensor=_int(ttnn, device, [c * C]),
                scale=HD**-0.5,
                program_config=pc,
            )
        assert out.shape == [1, NQ, C, HD]
        outs.append(ttnn.to_torch(out).float())
    full = ttnn.transformer.scaled_dot_product_attention(
        to_dev(ttnn, device, q),
        to_dev(ttnn, device, k, dtype=ttnn.bfloat8_b),
        to_dev(ttnn, device, v, dtype=ttnn.bfloat8_b),
        is_causal=True,
        scale=HD**-0.5,
        program_config=pc,
    )
    assert torch.equal(torch.cat(outs, dim=2), ttnn.to_torch(full).float())


def test_chunked_prefill_matches_the_golden_semantics(ttnn, device, gen):
    """Queries at absolute positions start + i, causal over the cached keys (a torch reference in fp64)."""
    page_table = torch.tensor([[5, 2, 7, 0]], dtype=torch.int32)
    kc = torch.randn(8, NKV, BS, HD, generator=gen)
    vc = torch.randn(8, NKV, BS, HD, generator=gen)
    q = torch.randn(1, NQ, 48, HD, generator=gen)  # 48 queries: a padded tile
    cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi4, math_approx_mode=False, fp32_dest_acc_en=True, packer_l1_acc=False
    )
    out = ttnn.transformer.chunked_scaled_dot_product_attention(
        to_dev(ttnn, device, q),
        to_dev(ttnn, device, kc),
        to_dev(ttnn, device, vc),
        _int(ttnn, device, page_table),
        chunk_start_idx=64,
        compute_kernel_config=cfg,
    )
    kb, vb = (_logical(t.to(torch.bfloat16).float(), page_table)[:, :, :112] for t in (kc, vc))
    qb = q.to(torch.bfloat16).double()
    g = NQ // NKV
    s = qb @ kb.double().repeat_interleave(g, 1).transpose(-1, -2) * HD**-0.5
    mask = torch.arange(112).unsqueeze(0) <= (64 + torch.arange(48)).unsqueeze(1)
    ref = torch.softmax(s.masked_fill(~mask, float("-inf")), -1) @ vb.double().repeat_interleave(g, 1)
    err = float((ttnn.to_torch(out).double() - ref).norm() / ref.norm())
    assert err < 1e-2, err


# ------------------------------------------------------------------------------------------------ rules


@pytest.fixture
def paged(ttnn, device):
    B = 32
    cache = to_dev(ttnn, device, torch.zeros(64, NKV, BS, HD), dtype=ttnn.bfloat8_b)
    x = to_dev(ttnn, device, torch.zeros(1, B, NKV, HD), mem=height_sharded(ttnn, B, (32, HD)))
    pos = _int(ttnn, device, [0] * B)
    pt = _int(ttnn, device, torch.arange(64).reshape(B, 2))
    return cache, x, pos, pt


def test_paged_update_cache_rules(ttnn, device, paged):
    cache, x, pos, pt = paged
    upd = ttnn.experimental.paged_update_cache
    _rejects(ttnn, "paged_cache.needs_idx_tensor", lambda: upd(cache, x, update_idxs=[0] * 32, page_table=pt))
    f32 = ttnn.from_torch(torch.zeros(32, 2), dtype=ttnn.float32, device=device)
    _rejects(ttnn, "paged_cache.page_table_dtype", lambda: upd(cache, x, update_idxs_tensor=pos, page_table=f32))
    tiled = _int(ttnn, device, torch.zeros(32, 32), layout=ttnn.TILE_LAYOUT)
    _rejects(ttnn, "paged_cache.page_table_layout", lambda: upd(cache, x, update_idxs_tensor=pos, page_table=tiled))
    flat = _int(ttnn, device, torch.zeros(64))
    _rejects(ttnn, "paged_cache.page_table_rank", lambda: upd(cache, x, update_idxs_tensor=pos, page_table=flat))
    half = _int(ttnn, device, torch.zeros(16, 2))
    _rejects(
        ttnn,
        "paged_cache.page_table_batch",
        lambda: upd(cache, x, update_idxs_tensor=pos, page_table=half),
        match="Batch size between page_table and input_tensor must match",
    )
    wide = _int(ttnn, device, torch.zeros(32, 128))
    _rejects(
        ttnn,
        "paged_cache.page_table_width",
        lambda: upd(cache, x, update_idxs_tensor=pos, page_table=wide),
        match="max_num_blocks_per_seq=128, max_num_blocks=64",
    )
    beyond = _int(ttnn, device, [64] + [0] * 31)  # 2 blocks x 32 = 64 tokens per user
    _rejects(ttnn, "paged_cache.position", lambda: upd(cache, x, update_idxs_tensor=beyond, page_table=pt))
    bad = _int(ttnn, device, torch.full((32, 2), 64))
    _rejects(ttnn, "paged_cache.page_table_entry", lambda: upd(cache, x, update_idxs_tensor=pos, page_table=bad))
    wide_hd = to_dev(ttnn, device, torch.zeros(64, NKV, BS, 2 * HD), dtype=ttnn.bfloat8_b)
    _rejects(
        ttnn,
        "paged_cache.geometry",
        lambda: upd(wide_hd, x, update_idxs_tensor=pos, page_table=pt),
        match="paged_update_cache geometry mismatch",
    )
    short_blocks = to_dev(ttnn, device, torch.zeros(64, NKV, 16, HD), dtype=ttnn.bfloat8_b)
    _rejects(ttnn, "paged_cache.block_size", lambda: upd(short_blocks, x, update_idxs_tensor=pos, page_table=pt))
    unpaged = to_dev(ttnn, device, torch.zeros(32, NKV, 64, HD), dtype=ttnn.bfloat8_b)
    _rejects(ttnn, "paged_cache.overrides_unpaged", lambda: upd(unpaged, x, update_idxs_tensor=pos, block_size=32))
    with pytest.raises(ttnn.EmulatorUnsupported):
        upd(cache, x, update_idxs_tensor=pos, page_table=pt, cache_position_modulo=64)
    upd(cache, x, update_idxs_tensor=pos, page_table=pt, block_size=32, num_kv_heads=NKV)  # the cache's own view


def test_paged_fill_cache_rules(ttnn, device):
    fill = ttnn.experimental.paged_fill_cache
    cache = to_dev(ttnn, device, torch.zeros(64, NKV, BS, HD), dtype=ttnn.bfloat8_b)
    x = to_dev(ttnn, device, torch.zeros(1, NKV, 128, HD), dtype=ttnn.bfloat8_b)
    pt = _int(ttnn, device, [[0, 1, 2, 3]])
    fill(cache, x, pt, batch_idx=0)
    _rejects(
        ttnn,
        "paged_fill_cache.dtype_match",
        lambda: fill(cache, to_dev(ttnn, device, torch.zeros(1, NKV, 128, HD)), pt),
        match="must match cache tensor dtype",
    )
    _rejects(
        ttnn,
        "paged_fill_cache.rank",
        lambda: fill(cache, to_dev(ttnn, device, torch.zeros(NKV, 128, HD), dtype=ttnn.bfloat8_b), pt),
    )
    _rejects(
        ttnn,
        "paged_fill_cache.batch_idx",
        lambda: fill(cache, x, pt, batch_idx=1),
        match="Batch idx must be within the page_table batch size",
    )
    _rejects(ttnn, "paged_fill_cache.batch_idx", lambda: fill(cache, x, pt, batch_idx_tensor=_int(ttnn, device, [3])))
    long = to_dev(ttnn, device, torch.zeros(1, NKV, 160, HD), dtype=ttnn.bfloat8_b)
    _rejects(
        ttnn,
        "paged_fill_cache.seq_fits",
        lambda: fill(cache, long, pt),
        match="Input seq_len (160) must fit in max_num_blocks_per_seq (4) * block_size (32)",
    )
    _rejects(
        ttnn,
        "paged_fill_cache.batch_idx_tensor_size",
        lambda: fill(cache, x, pt, batch_idx_tensor=_int(ttnn, device, [0, 0])),
    )
    # a TILE batch_idx_tensor holds a whole tile: the element count fails, as in ttnn
    _rejects(
        ttnn,
        "paged_fill_cache.batch_idx_tensor_size",
        lambda: fill(cache, x, pt, batch_idx_tensor=_int(ttnn, device, torch.zeros(1, 32), layout=ttnn.TILE_LAYOUT)),
        match="got 1024",
    )
    f32 = ttnn.from_torch(torch.zeros(1), dtype=ttnn.float32, device=device)
    _rejects(ttnn, "paged_fill_cache.batch_idx_tensor_dtype", lambda: fill(cache, x, pt, batch_idx_tensor=f32))
    in_l1 = _int(ttnn, device, [0], mem=ttnn.L1_MEMORY_CONFIG)
    _rejects(ttnn, "paged_fill_cache.batch_idx_tensor_placement", lambda: fill(cache, x, pt, batch_idx_tensor=in_l1))
    fill(
        cache,
        x,
        pt,
        batch_idx_tensor=ttnn.from_torch(torch.zeros(1, dtype=torch.int32), dtype=ttnn.uint32, device=device),
    )
    two = to_dev(ttnn, device, torch.zeros(2, NKV, 128, HD), dtype=ttnn.bfloat8_b)
    _rejects(
        ttnn,
        "paged_fill_cache.input_batch",
        lambda: fill(cache, two, _int(ttnn, device, torch.zeros(4, 4))),
        match="When no batch_idx_tensor is provided, input_batch must be 1 (got 2)",
    )
    _rejects(
        ttnn,
        "paged_cache.page_table_stick",
        lambda: fill(cache, x, _int(ttnn, device, [[0, 1, 2, 3]], mem=ttnn.L1_MEMORY_CONFIG)),
        match="must be a multiple of 32 due to address alignment",
    )
    fill(cache, x, _int(ttnn, device, [[0, 1, 2, 3, 4, 5, 6, 7]], mem=ttnn.L1_MEMORY_CONFIG))  # 32 B rows: fine
    sharded_pt = ttnn.from_torch(
        torch.zeros(1, 8, dtype=torch.int32),
        dtype=ttnn.int32,
        device=device,
        memory_config=height_sharded(ttnn, 1, (1, 8)),
    )
    _rejects(
        ttnn,
        "paged_cache.page_table_interleaved",
        lambda: fill(cache, x, sharded_pt),
        match="Expect page_table_tensor to have memory layout INTERLEAVED",
    )
    _rejects(
        ttnn,
        "paged_cache.page_table_layout",
        lambda: fill(cache, x, _int(ttnn, device, [list(range(32))], layout=ttnn.TILE_LAYOUT)),
    )
    _rejects(
        ttnn,
        "paged_cache.geometry",
        lambda: fill(cache, to_dev(ttnn, device, torch.zeros(1, 4, 128, HD), dtype=ttnn.bfloat8_b), pt),
        match="paged_fill_cache geometry mismatch: cache has 4096 elems/block",
    )
    with pytest.raises(ttnn.EmulatorUnsupported):
        fill(cache, x, pt, valid_seq_len_tensor=_int(ttnn, device, [128]))


def test_paged_sdpa_decode_rules(ttnn, device):
    dec = ttnn.transformer.paged_scaled_dot_product_attention_decode
    B = 4
    k = to_dev(ttnn, device, torch.zeros(16, NKV, BS, HD), dtype=ttnn.bfloat8_b)
    q = to_dev(ttnn, device, torch.zeros(1, B, NQ, HD))
    pt = _int(ttnn, device, torch.arange(16).reshape(B, 4))
    pos = _int(ttnn, device, [0, 5, 127, -1])
    dec(q, k, k, pt, cur_pos_tensor=pos)
    iq = ttnn.from_torch(torch.zeros(1, B, NQ, HD, dtype=torch.int32), dtype=ttnn.int32, device=device)
    _rejects(ttnn, "paged_sdpa_decode.dtype", lambda: dec(iq, k, k, pt, cur_pos_tensor=pos))
    q3 = to_dev(ttnn, device, torch.zeros(B, NQ, HD))
    _rejects(ttnn, "paged_sdpa_decode.rank", lambda: dec(q3, k, k, pt, cur_pos_tensor=pos))
    _rejects(
        ttnn,
        "paged_sdpa_decode.cur_pos_required",
        lambda: dec(q, k, k, pt),
        match="Must have cur_pos tensor for paged attention in causal mode",
    )
    upos = ttnn.from_torch(torch.zeros(B, dtype=torch.int32), dtype=ttnn.uint32, device=device)
    _rejects(
        ttnn,
        "paged_sdpa_decode.cur_pos_dtype",
        lambda: dec(q, k, k, pt, cur_pos_tensor=upos),
        match="Expect cur_pos to be INT32",
    )
    tpos = _int(ttnn, device, torch.zeros(1, 32), layout=ttnn.TILE_LAYOUT)
    _rejects(ttnn, "paged_sdpa_decode.cur_pos_layout", lambda: dec(q, k, k, pt, cur_pos_tensor=tpos))
    _rejects(
        ttnn,
        "paged_sdpa_decode.cur_pos_shape",
        lambda: dec(q, k, k, pt, cur_pos_tensor=_int(ttnn, device, [[0, 0], [0, 0]])),
        match="cur_pos tensor must hold all positions in its last dim",
    )
    _rejects(
        ttnn,
        "paged_sdpa_decode.cur_pos_batch",
        lambda: dec(q, k, k, pt, cur_pos_tensor=_int(ttnn, device, [0, 0])),
        match="cur_pos must have batch size equal to Q, got 2 and 4",
    )
    k64 = to_dev(ttnn, device, torch.zeros(8, NKV, 64, HD), dtype=ttnn.bfloat8_b)
    _rejects(
        ttnn,
        "paged_sdpa_decode.block_size",
        lambda: dec(q, k, k64, pt, cur_pos_tensor=pos),
        match="K and V must have same block size",
    )
    q128 = to_dev(ttnn, device, torch.zeros(1, B, NQ, 128))
    _rejects(
        ttnn,
        "paged_sdpa_decode.head_dim",
        lambda: dec(q128, k, k, pt, cur_pos_tensor=pos),
        match="Q, K, V must have same hidden size",
    )
    k4 = to_dev(ttnn, device, torch.zeros(16, 4, BS, HD), dtype=ttnn.bfloat8_b)
    _rejects(ttnn, "paged_sdpa_decode.kv_heads", lambda: dec(q, k, k4, pt, cur_pos_tensor=pos))
    q5 = to_dev(ttnn, device, torch.zeros(1, B, 5, HD))
    _rejects(
        ttnn,
        "paged_sdpa_decode.gqa_heads",
        lambda: dec(q5, k, k, pt, cur_pos_tensor=pos),
        match="GQA expects Q to have a multiple of K heads",
    )
    q2 = to_dev(ttnn, device, torch.zeros(1, 2, NQ, HD))
    _rejects(ttnn, "paged_sdpa_decode.q_batch", lambda: dec(q2, k, k, pt, cur_pos_tensor=pos))
    _rejects(
        ttnn,
        "paged_sdpa_decode.cur_pos",
        lambda: dec(q, k, k, pt, cur_pos_tensor=_int(ttnn, device, [0, 0, 128, 0])),
        match="cur_pos[2] = 128",
    )
    bad = _int(ttnn, device, [[0, 1, 2, 3], [4, 99, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]])
    _rejects(
        ttnn,
        "paged_cache.page_table_entry",
        lambda: dec(q, k, k, bad, cur_pos_tensor=_int(ttnn, device, [0, 40, 127, -1])),
        match="page_table[1][1] = 99",
    )
    dec(q, k, k, bad, cur_pos_tensor=_int(ttnn, device, [0, 5, 127, 5]))  # user 1 reads only block 0
    _rejects(
        ttnn,
        "paged_cache.page_table_dtype",
        lambda: dec(
            q,
            k,
            k,
            ttnn.from_torch(torch.zeros(B, 4, dtype=torch.int32), dtype=ttnn.uint32, device=device),
            cur_pos_tensor=pos,
        ),
        match="Error: SDPA currently only supports INT32 datatype",
    )
    with pytest.raises(ttnn.EmulatorUnsupported):
        dec(q, k, k, pt, cur_pos_tensor=pos, sliding_window_size=64)


def test_chunked_sdpa_rules(ttnn, device):
    ch = ttnn.transformer.chunked_scaled_dot_product_attention
    k = to_dev(ttnn, device, torch.zeros(16, NKV, BS, HD), dtype=ttnn.bfloat8_b)
    q = to_dev(ttnn, device, torch.zeros(1, NQ, 64, HD))
    pt = _int(ttnn, device, [[0, 1, 2, 3]])
    pt8 = _int(ttnn, device, [list(range(8))])
    ch(q, k, k, pt, 64)
    iq = ttnn.from_torch(torch.zeros(1, NQ, 64, HD, dtype=torch.int32), dtype=ttnn.int32, device=device)
    _rejects(ttnn, "chunked_sdpa.dtype", lambda: ch(iq, k, k, pt, 0))
    _rejects(ttnn, "chunked_sdpa.rank", lambda: ch(to_dev(ttnn, device, torch.zeros(NQ, 64, HD)), k, k, pt, 0))
    _rejects(ttnn, "chunked_sdpa.start_missing", lambda: ch(q, k, k, pt))
    _rejects(ttnn, "chunked_sdpa.start_negative", lambda: ch(q, k, k, pt, -32))
    f32 = ttnn.from_torch(torch.zeros(1), dtype=ttnn.float32, device=device)
    _rejects(ttnn, "chunked_sdpa.start_tensor_dtype", lambda: ch(q, k, k, pt8, chunk_start_idx_tensor=f32))
    _rejects(
        ttnn,
        "chunked_sdpa.start_tensor_shape",
        lambda: ch(q, k, k, pt8, chunk_start_idx_tensor=_int(ttnn, device, [0, 0])),
        match="chunk_start_idx tensor must have shape [1]",
    )
    _rejects(
        ttnn,
        "paged_cache.page_table_stick",
        lambda: ch(q, k, k, pt, chunk_start_idx_tensor=_int(ttnn, device, [0])),
        match="page table stick size must be a multiple of 32",
    )
    _rejects(
        ttnn,
        "paged_cache.page_table_layout",
        lambda: ch(q, k, k, _int(ttnn, device, [list(range(32))], layout=ttnn.TILE_LAYOUT), 0),
        match="Page table must be row major",
    )
    k64 = to_dev(ttnn, device, torch.zeros(8, NKV, 64, HD), dtype=ttnn.bfloat8_b)
    _rejects(ttnn, "chunked_sdpa.kv_page", lambda: ch(q, k, k64, pt, 0), match="K page size must match V page size")
    _rejects(
        ttnn,
        "chunked_sdpa.batch",
        lambda: ch(q, k, k, _int(ttnn, device, torch.zeros(2, 4)), 0),
        match="Page table batch size must match input batch size. Got Page table: 2, Input: 1",
    )
    k4 = to_dev(ttnn, device, torch.zeros(16, 4, BS, HD), dtype=ttnn.bfloat8_b)
    _rejects(ttnn, "chunked_sdpa.kv_heads", lambda: ch(q, k, k4, pt, 0))
    k128 = to_dev(ttnn, device, torch.zeros(16, NKV, BS, 128), dtype=ttnn.bfloat8_b)
    _rejects(ttnn, "chunked_sdpa.head_dim", lambda: ch(q, k128, k128, pt, 0))
    q5 = to_dev(ttnn, device, torch.zeros(1, 5, 64, HD))
    _rejects(ttnn, "chunked_sdpa.gqa", lambda: ch(q5, k, k, pt, 0))
    _rejects(
        ttnn,
        "chunked_sdpa.chunk_size",
        lambda: ch(q, k, k, pt, 0, program_config=_sdpa_pc(ttnn, 16, 32)),
        match="q_chunk_size must be a positive multiple of TILE_SIZE",
    )
    _rejects(
        ttnn,
        "chunked_sdpa.start_q_chunk",
        lambda: ch(q, k, k, pt, 32, program_config=_sdpa_pc(ttnn, 64, 32)),
        match="chunk_start_idx must be a multiple of q_chunk_size. Got chunk_start_idx: 32, q_chunk_size: 64",
    )
    _rejects(
        ttnn,
        "chunked_sdpa.start_k_chunk",
        lambda: ch(q, k, k, pt, 32, program_config=_sdpa_pc(ttnn, 32, 64)),
        match="chunk_start_idx must be a multiple of k_chunk_size",
    )
    # the runtime start is read from the tensor: the same rule, which ttnn's validate cannot see
    _rejects(
        ttnn,
        "chunked_sdpa.start_q_chunk",
        lambda: ch(q, k, k, pt8, chunk_start_idx_tensor=_int(ttnn, device, [16])),
        match="the docstring requires it",
    )
    _rejects(
        ttnn,
        "chunked_sdpa.kv_length",
        lambda: ch(q, k, k, pt, 96),
        match="K's sequence length must be >= Q's sequence length + chunk_start_idx. Got K: 128, Q: 64, chunk_start_idx: 96",
    )
    _rejects(ttnn, "chunked_sdpa.kv_length", lambda: ch(q, k, k, pt8, chunk_start_idx_tensor=_int(ttnn, device, [224])))
    _rejects(ttnn, "paged_cache.page_table_entry", lambda: ch(q, k, k, _int(ttnn, device, [[0, 1, 16, 3]]), 64))
    # given both, the tensor is read (the golden's runtime_start; ttnn 0.81.1 accepts the call)
    both = ch(q, k, k, pt8, 0, chunk_start_idx_tensor=_int(ttnn, device, [64]))
    assert torch.equal(ttnn.to_torch(both), ttnn.to_torch(ch(q, k, k, pt8, 64)))
