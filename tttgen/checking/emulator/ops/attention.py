"""``ttnn.transformer.scaled_dot_product_attention`` and ``..._decode``, and their paged forms
``paged_scaled_dot_product_attention_decode`` and ``chunked_scaled_dot_product_attention``.

Semantics: ``scaled_dot_product_attention_golden`` and ``scaled_dot_product_attention_decode_golden`` in
``ttnn/operations/transformer_golden.py`` (wheel 0.81.1): grouped-query attention (query head h reads KV head
``h // (nq / nkv)``), scale default ``head_dim ** -0.5``, causal mask ``key_pos <= query_pos``; decode takes Q
``[1, B, nh, dh]`` and caches ``[B, nkv, S, dh]``, user b attends positions ``0..cur_pos[b]`` inclusive, a position of
-1 yields zeros, and the output is ``[1, B, nh, dh]``.

Numerics (documented approximation of the flash-attention kernels, default compute config HiFi2 / approx / no fp32
acc per sdpa.cpp): ``S = Q @ K^T`` with the matmul fidelity/accumulation model, scaled and rounded as DST holds it;
``P = exp(S - rowmax)`` rounded to bfloat16 (the kernels keep P in a Float16_b CB unless fp32 acc); ``O = P @ V`` with
the matmul model; ``O / rowsum(P)``; packed to Q's dtype. The per-chunk online-softmax rescaling of the kernels is
not modelled (equivalent to one K chunk), so ``program_config`` (chunk sizes, grid) is accepted and not read; whether
ttnn accepts it is ttnn's to judge (``tttgen check --ttnn``).

``attn_mask`` is an additive float mask ``[1 or B, 1 or nh, Sq, Sk]`` broadcast over batch and heads. The golden adds
it after scaling (``torch`` SDPA: ``softmax(scale * QK^T + mask)``), but the 0.81-era flash kernel adds it to
``QK^T`` first and applies the scale inside its fused subtract-max/exp (sdpa compute kernel: ``QK += MASK`` then
``reduce_c`` MAX then the scaled exp), i.e. ``softmax(scale * (QK^T + mask))``; TT-Boltz pre-multiplies its biases by
sqrt(head_dim) for that reason. The two agree only at ``scale=1.0``, so only that case is emulated: a masked call
with another scale is refused rather than given one of the two answers.

Paged forms (goldens ``paged_scaled_dot_product_attention_decode_golden`` and
``chunked_scaled_dot_product_attention_golden``, same file): K and V are paged caches ``[max_num_blocks, nkv,
block_size, dh]`` and ``page_table_tensor`` ``[b, max_num_blocks_per_seq]`` maps user b's logical block j to physical
block ``page_table[b][j]``; the golden first rebuilds each user's contiguous ``[nkv, blocks * block_size, dh]`` cache
(``_paged_to_contiguous``) and then runs the unpaged attention on it. The emulator does the same (gathering only the
blocks a call reads) and runs the same numerics, so paged and unpaged agree bit for bit on the same data. Decode:
"If a position is given as (-1), compute for the corresponding index in the batch is skipped" (zeros, as unpaged); the
batch is the page table's row count. Chunked: Q ``[b, nqh, chunk_s, dh]`` holds the queries at absolute positions
``chunk_start_idx + i`` (``_window_mask(query_start=chunk_start_idx)``), causal over the first
``min(capacity, chunk_start_idx + chunk_s)`` cached keys; ``chunk_start_idx_tensor`` (a device ``[1]`` int32) wins over
``chunk_start_idx`` when both are given ("runtime_start = chunk_start_idx_tensor if ... is not None else
chunk_start_idx"). Not emulated: ``paged_cache_geometry`` views, ``cache_position_modulo`` (circular caches),
``attention_sink``, ``sliding_window_size`` of the paged forms, masks and non-causal paged decode,
``spec_multi_pos_tiles``.

Sliding windows (golden ``_window_mask``, same file): with ``is_causal`` and ``sliding_window_size`` W, a query at
position p attends the keys at positions k with ``p - W < k <= p`` (the W latest, itself included); decode's query
sits at ``cur_pos[b]`` (``query_start=position``), so a user past the window attends only the last W cached rows.
Emulated for the causal prefill op and unpaged decode; a non-causal window (the golden's symmetric half windows) is
not.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from .. import numerics
from ..configs import MemoryConfig
from ..device import Device
from ..dtypes import Layout
from ..errors import EmulatorUnsupported, check
from ..tensor import Tensor, require_tensor
from ..validate import (
    check_compute_config,
    sdpa_default_compute_config,
    validate_chunked_sdpa,
    validate_paged_sdpa_decode,
    validate_sdpa,
    validate_sdpa_decode,
)
from .common import DRAM, dry, make_output, numerics_mode, set_values


def _attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: Optional[torch.Tensor],
    scale: float,
    cfg,
    mode: str,
    bias: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """q [..., g, Lq, d] against k, v [..., 1, Lk, d] (broadcast over the group dim g); mask True = attend; `bias`
    is added to the scaled scores."""
    fp32 = cfg.fp32_dest_acc_en
    s = numerics.matmul(q, k.transpose(-1, -2), cfg, mode)
    s = numerics.dst(s * scale, fp32)
    if bias is not None:
        s = numerics.dst(s + bias, fp32)
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    m = s.amax(dim=-1, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    p = numerics.dst(torch.exp(s - m), fp32)
    denom = p.sum(dim=-1, keepdim=True)
    o = numerics.matmul(p, v, cfg, mode)
    o = numerics.dst(o / torch.where(denom > 0, denom, torch.ones_like(denom)), fp32)
    return o


def _require_qkv(op: str, q, k, v) -> tuple[Tensor, Tensor, Tensor, Device]:
    """Q, K and V as emulator tensors on a device, and Q's device."""
    q = require_tensor(q, op, "input_tensor_q")
    k = require_tensor(k, op, "input_tensor_k")
    v = require_tensor(v, op, "input_tensor_v")
    device = q.require_device(op)
    k.require_device(op)
    v.require_device(op)
    return q, k, v, device


def scaled_dot_product_attention(
    input_tensor_q: Tensor,
    input_tensor_k: Tensor,
    input_tensor_v: Tensor,
    *,
    attn_mask: Optional[Tensor] = None,
    is_causal: bool = True,
    scale: Optional[float] = None,
    sliding_window_size: Optional[int] = None,
    memory_config: Optional[MemoryConfig] = None,
    program_config=None,
    compute_kernel_config=None,
    attention_sink=None,
    output_concat_heads: bool = False,
    queue_id=None,
) -> Tensor:
    op = "ttnn.transformer.scaled_dot_product_attention"
    q, k, v, device = _require_qkv(op, input_tensor_q, input_tensor_k, input_tensor_v)
    if attention_sink is not None or output_concat_heads:
        raise EmulatorUnsupported(f"{op}: attention_sink / output_concat_heads are not emulated")
    window = _window(op, sliding_window_size)
    if window is not None and not is_causal:
        raise EmulatorUnsupported(f"{op}: a non-causal sliding window is not emulated")
    if attn_mask is not None and (scale is None or float(scale) != 1.0):
        raise EmulatorUnsupported(
            f"{op}: attn_mask with scale != 1.0 is not emulated (the golden adds the mask after the scale, the kernel "
            "before it; fold the scale into q and pass scale=1.0)"
        )
    cfg = (
        sdpa_default_compute_config()
        if compute_kernel_config is None
        else check_compute_config(op, compute_kernel_config)
    )
    validate_sdpa(op, q, k, v)
    out = make_output(op, q.shape, q.dtype, Layout.TILE, device, memory_config if memory_config is not None else DRAM)
    if dry(device):
        return out
    B, NQ, S, D = q.shape
    NKV = k.shape[1]
    g = NQ // NKV
    qv = q.values.float().reshape(B, NKV, g, S, D)
    kv_ = k.values.float().reshape(B, NKV, 1, k.shape[2], D)
    vv = v.values.float().reshape(B, NKV, 1, k.shape[2], D)
    sc = D**-0.5 if scale is None else float(scale)
    mask = None
    if is_causal:
        qpos = torch.arange(S).unsqueeze(1)
        kpos = torch.arange(k.shape[2]).unsqueeze(0)
        mask = kpos <= qpos
        if window is not None:
            mask = mask & (kpos > qpos - window)
    bias = None
    if attn_mask is not None:
        m = require_tensor(attn_mask, op, "attn_mask")
        mb, mh, ms, mk = m.shape
        check(
            mb in (1, B) and mh in (1, NQ) and (ms, mk) == (S, k.shape[2]),
            op,
            "sdpa.attn_mask_shape",
            f"attn_mask {list(m.shape)} must be [1 or {B}, 1 or {NQ}, {S}, {k.shape[2]}]",
        )
        bias = m.values.float().reshape(mb, NKV if mh == NQ else 1, g if mh == NQ else 1, ms, mk)
    o = _attend(qv, kv_, vv, mask, sc, cfg, numerics_mode(device), bias)
    return set_values(out, o.reshape(B, NQ, S, D))


def _window(op: str, sliding_window_size) -> Optional[int]:
    """The sliding window as an int (None: none); ttnn takes a positive window size."""
    if sliding_window_size is None:
        return None
    check(
        isinstance(sliding_window_size, int) and not isinstance(sliding_window_size, bool) and sliding_window_size > 0,
        op,
        "sdpa.sliding_window_size",
        f"sliding_window_size must be a positive int, got {sliding_window_size!r}",
    )
    return int(sliding_window_size)


def _positions(op: str, cur_pos, cur_pos_tensor, batch: int, seq: int) -> list[int]:
    if cur_pos_tensor is not None:
        t = require_tensor(cur_pos_tensor, op, "cur_pos_tensor")
        vals = [int(x) for x in t.values.reshape(-1).tolist()]
    elif cur_pos:
        vals = [int(x) for x in cur_pos]
    else:
        vals = [seq - 1] * batch
    check(
        len(vals) >= batch,
        op,
        "sdpa_decode.cur_pos_len",
        f"cur_pos must have batch size equal to Q, got {len(vals)} and {batch}",
    )
    return vals[:batch]


def scaled_dot_product_attention_decode(
    input_tensor_q: Tensor,
    input_tensor_k: Tensor,
    input_tensor_v: Tensor,
    *,
    is_causal: bool = True,
    attn_mask: Optional[Tensor] = None,
    cur_pos: Optional[Sequence[int]] = None,
    cur_pos_tensor: Optional[Tensor] = None,
    attention_sink=None,
    scale: Optional[float] = None,
    sliding_window_size: Optional[int] = None,
    memory_config: Optional[MemoryConfig] = None,
    program_config=None,
    compute_kernel_config=None,
    share_cache: Optional[bool] = None,
    queue_id=None,
) -> Tensor:
    op = "ttnn.transformer.scaled_dot_product_attention_decode"
    q, k, v, device = _require_qkv(op, input_tensor_q, input_tensor_k, input_tensor_v)
    if not is_causal or attn_mask is not None or attention_sink is not None or share_cache:
        raise EmulatorUnsupported(f"{op}: only causal, unmasked, unshared-cache decode is emulated")
    window = _window(op, sliding_window_size)
    cfg = (
        sdpa_default_compute_config()
        if compute_kernel_config is None
        else check_compute_config(op, compute_kernel_config)
    )
    out_mem = memory_config if memory_config is not None else DRAM
    B = q.padded_shape[1]
    positions = _positions(op, cur_pos, cur_pos_tensor, B, k.shape[2])
    validate_sdpa_decode(op, q, k, v, cur_pos_tensor, positions)
    if out_mem.is_sharded() and out_mem.shard_spec is None:
        out_mem = out_mem.with_shard_spec(q.memory_config().shard_spec) if q.is_sharded() else out_mem
    NQ, D = q.shape[2], q.shape[3]
    NKV = k.shape[1]
    out_shape = [1, k.padded_shape[0], NQ, D]
    out = make_output(op, out_shape, q.dtype, Layout.TILE, device, out_mem)
    if dry(device):
        return out
    L = _decode_length(positions, k.shape[2])
    o = _decode_attend(
        q.values.float()[0, :B],
        k.values.float()[:, :, :L, :],
        v.values.float()[:, :, :L, :],
        positions,
        scale,
        cfg,
        numerics_mode(device),
        window,
    )
    return set_values(out, o.unsqueeze(0))


def _decode_length(positions: Sequence[int], seq: int) -> int:
    """Cached positions the decode numerics read: up to the furthest user's position, in whole 16-row steps."""
    valid = [p for p in positions if p >= 0]
    L = (max(valid) + 1) if valid else 1
    return min(seq, -(-L // 16) * 16)


def _decode_attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    positions: Sequence[int],
    scale,
    cfg,
    mode: str,
    window: Optional[int] = None,
) -> torch.Tensor:
    """Decode numerics shared by the unpaged and the paged op: q ``[B, NQ, D]`` against each user's cache rows
    ``k``, ``v`` ``[B, NKV, L, D]``; user b attends rows ``0..positions[b]`` (with a sliding window W, only rows
    past ``positions[b] - W``); a negative position yields zeros. Returns ``[B, NQ, D]``."""
    B, NQ, D = q.shape
    NKV, L = k.shape[1], k.shape[2]
    g = NQ // NKV
    qv = q.reshape(B, NKV, g, 1, D)
    kv_ = k.reshape(B, NKV, 1, L, D)
    vv = v.reshape(B, NKV, 1, L, D)
    pos = torch.tensor(positions).reshape(B, 1, 1, 1, 1)
    mask = torch.arange(L).reshape(1, 1, 1, 1, L) <= pos
    if window is not None:
        mask = mask & (torch.arange(L).reshape(1, 1, 1, 1, L) > pos - window)
    o = _attend(qv, kv_, vv, mask, D**-0.5 if scale is None else float(scale), cfg, mode)
    o = o.reshape(B, NQ, D)
    skipped = torch.tensor([p < 0 for p in positions]).reshape(B, 1, 1)
    return torch.where(skipped, torch.zeros_like(o), o)


def _gather_pages(cache: torch.Tensor, page_table, rows: Sequence[int], lengths: Sequence[int], L: int) -> torch.Tensor:
    """Each user's logical cache ``[len(rows), nkv, L, dh]`` from the paged cache ``[blocks, nkv, block, dh]``
    (golden ``_paged_to_contiguous``): row i holds page-table row ``rows[i]``'s first ``lengths[i]`` positions, zeros
    after them (positions a user does not read; the caller masks them)."""
    _, nkv, bs, dh = cache.shape
    out = cache.new_zeros(len(rows), nkv, -(-L // bs) * bs, dh)
    for i, (r, n) in enumerate(zip(rows, lengths)):
        if n <= 0:
            continue
        nblk = -(-n // bs)
        blocks = torch.tensor([int(e) for e in page_table.values[r, :nblk].tolist()], dtype=torch.long)
        user = cache[blocks].permute(1, 0, 2, 3).reshape(nkv, nblk * bs, dh)
        out[i, :, :n] = user[:, :n]
    return out[:, :, :L]


def _paged_unsupported(op: str, **options) -> None:
    given = [
        name
        for name, value in options.items()
        if value is not None and not (isinstance(value, (bool, int)) and not value)
    ]
    if given:
        raise EmulatorUnsupported(f"{op}: {', '.join(given)} not emulated")


def paged_scaled_dot_product_attention_decode(
    input_tensor_q: Tensor,
    input_tensor_k: Tensor,
    input_tensor_v: Tensor,
    page_table_tensor: Tensor,
    *,
    is_causal: bool = True,
    attn_mask: Optional[Tensor] = None,
    cur_pos_tensor: Optional[Tensor] = None,
    attention_sink=None,
    scale: Optional[float] = None,
    sliding_window_size: Optional[int] = None,
    memory_config: Optional[MemoryConfig] = None,
    program_config=None,
    compute_kernel_config=None,
    paged_cache_geometry=None,
    cache_position_modulo: Optional[int] = None,
    spec_multi_pos_tiles: int = 0,
) -> Tensor:
    op = "ttnn.transformer.paged_scaled_dot_product_attention_decode"
    q, k, v, device = _require_qkv(op, input_tensor_q, input_tensor_k, input_tensor_v)
    pt = require_tensor(page_table_tensor, op, "page_table_tensor")
    if cur_pos_tensor is not None:
        cur_pos_tensor = require_tensor(cur_pos_tensor, op, "cur_pos_tensor")
    if not is_causal:
        raise EmulatorUnsupported(f"{op}: non-causal paged decode is not emulated")
    _paged_unsupported(
        op,
        attn_mask=attn_mask,
        attention_sink=attention_sink,
        sliding_window_size=sliding_window_size,
        paged_cache_geometry=paged_cache_geometry,
        cache_position_modulo=cache_position_modulo,
        spec_multi_pos_tiles=spec_multi_pos_tiles,
    )
    cfg = (
        sdpa_default_compute_config()
        if compute_kernel_config is None
        else check_compute_config(op, compute_kernel_config)
    )
    out_mem = memory_config if memory_config is not None else DRAM
    B, positions = validate_paged_sdpa_decode(op, q, k, v, pt, cur_pos_tensor)
    if out_mem.is_sharded() and out_mem.shard_spec is None:
        out_mem = out_mem.with_shard_spec(q.memory_config().shard_spec) if q.is_sharded() else out_mem
    NQ, D = q.shape[2], q.shape[3]
    layout = Layout.ROW_MAJOR if q.layout == Layout.ROW_MAJOR else Layout.TILE
    out = make_output(op, [1, B, NQ, D], q.dtype, layout, device, out_mem)
    if dry(device):
        return out
    L = _decode_length(positions, pt.shape[1] * k.shape[2])
    lengths = [min(L, p + 1) if p >= 0 else 0 for p in positions]
    kc = _gather_pages(k.values.float(), pt, range(B), lengths, L)
    vc = _gather_pages(v.values.float(), pt, range(B), lengths, L)
    o = _decode_attend(q.values.float()[0, :B], kc, vc, positions, scale, cfg, numerics_mode(device))
    return set_values(out, o.unsqueeze(0))


def chunked_scaled_dot_product_attention(
    input_tensor_q: Tensor,
    input_tensor_k: Tensor,
    input_tensor_v: Tensor,
    page_table_tensor: Tensor,
    chunk_start_idx: Optional[int] = None,
    *,
    chunk_start_idx_tensor: Optional[Tensor] = None,
    scale: Optional[float] = None,
    memory_config: Optional[MemoryConfig] = None,
    program_config=None,
    compute_kernel_config=None,
    paged_cache_geometry=None,
    sliding_window_size: Optional[int] = None,
    attention_sink=None,
) -> Tensor:
    op = "ttnn.transformer.chunked_scaled_dot_product_attention"
    q, k, v, device = _require_qkv(op, input_tensor_q, input_tensor_k, input_tensor_v)
    pt = require_tensor(page_table_tensor, op, "page_table_tensor")
    if chunk_start_idx_tensor is not None:
        chunk_start_idx_tensor = require_tensor(chunk_start_idx_tensor, op, "chunk_start_idx_tensor")
    _paged_unsupported(
        op,
        paged_cache_geometry=paged_cache_geometry,
        sliding_window_size=sliding_window_size,
        attention_sink=attention_sink,
    )
    cfg = (
        sdpa_default_compute_config()
        if compute_kernel_config is None
        else check_compute_config(op, compute_kernel_config)
    )
    start = validate_chunked_sdpa(op, q, k, v, pt, chunk_start_idx, chunk_start_idx_tensor, program_config)
    out = make_output(op, q.shape, q.dtype, Layout.TILE, device, memory_config if memory_config is not None else DRAM)
    if dry(device):
        return out
    B, NQ, Sq, D = q.shape
    NKV = k.shape[1]
    g = NQ // NKV
    Lk = start + Sq
    kc = _gather_pages(k.values.float(), pt, range(B), [Lk] * B, Lk)
    vc = _gather_pages(v.values.float(), pt, range(B), [Lk] * B, Lk)
    qv = q.values.float().reshape(B, NKV, g, Sq, D)
    qpos = (start + torch.arange(Sq)).unsqueeze(1)
    mask = torch.arange(Lk).unsqueeze(0) <= qpos
    sc = D**-0.5 if scale is None else float(scale)
    o = _attend(qv, kc.reshape(B, NKV, 1, Lk, D), vc.reshape(B, NKV, 1, Lk, D), mask, sc, cfg, numerics_mode(device))
    return set_values(out, o.reshape(B, NQ, Sq, D))
