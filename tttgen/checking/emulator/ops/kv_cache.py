"""KV-cache writes (in place): ``ttnn.fill_cache``, ``ttnn.update_cache``, ``ttnn.experimental.paged_update_cache``,
``ttnn.experimental.paged_fill_cache``.

Semantics: goldens of ``fill_cache`` / ``update_cache`` in ``ttnn/operations/data_movement.py`` (wheel 0.81.1):
``cache[batch_idx, :, update_idx:update_idx + S, :] = input``; ``cache[user, :, update_idx, :] = input[0, :,
batch_offset + user, :]`` for every cache user. ``paged_update_cache`` has no golden; its docstring: "cache_tensor of
shape [B, 1, kv_len, head_dim] and input_tensor of shape [1, B, 1[32], head_dim] where input_tensor is height
sharded on B cores. update_idxs will specify for each batch element which token to update in the cache ... This op
updates one token row inside an existing cache tile and owns the final repack into the cache dtype". With several
KV heads the input is ``[1, B, nkv (padded to 32), head_dim]`` and user b's heads land in ``cache[b, :, idx_b, :]``.
Block-float caches: a shared exponent covers 16 values of one row, so writing whole rows and re-quantizing them to
the cache dtype is exactly what repacking the tile does.

Paged caches (``page_table`` given to ``paged_update_cache``, and ``paged_fill_cache``): the cache is ``[max_num_blocks,
nkv, block_size, head_dim]`` and a page table ``[batch, max_num_blocks_per_seq]`` (INT32, ROW_MAJOR) maps user b's
logical block j to physical block ``page_table[b][j]``; position p of user b is row ``p % block_size`` of block
``page_table[b][p // block_size]``. This is the golden's ``_paged_to_contiguous`` / ``_gather_paged_cache_positions``
view (``ttnn/operations/transformer_golden.py``, wheel 0.81.1) and the writer kernels' lookup
(``writer_update_cache_interleaved_start_id.cpp``: ``virtual_block_id = update_idx / block_size``,
``physical_block_id = page_table_ptr[virtual_block_id]``; ``writer_fill_cache_interleaved.cpp``:
``virtual_seq_tile_id_to_physical_tile_id``). ``paged_fill_cache`` has no golden; its docstring: "cache_tensor
shape: [max_num_blocks, 1, block_size, head_dim] input_tensor shape: [input_batch, num_heads, input_seq_len,
head_dim] page_table shape: [batch_size, max_num_blocks_per_seq] batch_idx_tensor (optional) shape: [input_batch],
dtype int32 or uint32, ROW_MAJOR layout, INTERLEAVED DRAM — one batch_idx per input batch row. batch_idx (scalar,
defaults to 0) is used if batch_idx_tensor is not provided; in that case input_batch must be 1" and "``paged_fill_cache``
does not perform dtype conversion; it copies prefill K/V tiles into the cache". Input row i fills page-table row
``batch_idx_tensor[i]`` (else ``batch_idx``); its whole tiles are copied, so a prompt whose length is not a multiple of
32 also writes the tile's padding rows (zeros, what ``from_torch`` pads a tile with); a page-table entry of -1 skips
its block (the writer's ``SKIP_PAGE_TABLE_ENTRY``). ``cache_position_modulo`` (circular caches), ``block_size`` /
``num_kv_heads`` overrides of another view and ``valid_seq_len_tensor`` are not emulated.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from .. import dtypes as dt
from ..errors import EmulatorUnsupported, check
from ..tensor import Tensor, require_tensor
from ..validate import (
    paged_update_targets,
    validate_fill_cache,
    validate_paged_fill_cache,
    validate_paged_update_cache,
    validate_update_cache,
)
from .common import dry


def fill_cache(cache_tensor: Tensor, input_tensor: Tensor, batch_idx: int, *, update_idx: int = 0) -> Tensor:
    op = "ttnn.fill_cache"
    cache = require_tensor(cache_tensor, op, "cache_tensor")
    x = require_tensor(input_tensor, op, "input_tensor")
    cache.require_device(op)
    x.require_device(op)
    validate_fill_cache(op, cache, x, int(batch_idx), int(update_idx))
    S = x.shape[-2]
    cache.device().op_log.append(op)
    if dry(cache.device()):
        return cache
    cache.values[batch_idx : batch_idx + 1, :, update_idx : update_idx + S, :] = dt.quantize(x.values, cache.dtype)
    return cache


def update_cache(
    cache: Tensor, input: Tensor, update_index: int, batch_offset: int = 0, *, compute_kernel_config=None
) -> Tensor:
    op = "ttnn.update_cache"
    c = require_tensor(cache, op, "cache")
    x = require_tensor(input, op, "input")
    c.require_device(op)
    x.require_device(op)
    validate_update_cache(op, c, x, int(update_index), int(batch_offset))
    users = c.shape[0]
    c.device().op_log.append(op)
    if dry(c.device()):
        return c
    rows = x.values[0, :, batch_offset : batch_offset + users, :].permute(1, 0, 2)  # [users, nkv, hd]
    c.values[:, :, update_index, :] = dt.quantize(rows, c.dtype)
    return c


def _view_overrides(op: str, cache: Tensor, block_size, num_kv_heads, cache_position_modulo) -> None:
    """``block_size`` / ``num_kv_heads`` equal to the cache's own are the default view; anything else reads a shared
    buffer through another geometry, and ``cache_position_modulo`` makes the cache circular: neither is emulated."""
    if block_size is not None and int(block_size) != cache.padded_shape[2]:
        raise EmulatorUnsupported(f"{op}: block_size={block_size} (another view of the cache blocks) is not emulated")
    if num_kv_heads is not None and int(num_kv_heads) != cache.padded_shape[1]:
        raise EmulatorUnsupported(
            f"{op}: num_kv_heads={num_kv_heads} (another view of the cache blocks) is not emulated"
        )
    if cache_position_modulo is not None:
        raise EmulatorUnsupported(f"{op}: cache_position_modulo (a circular paged cache) is not emulated")


def paged_update_cache(
    cache_tensor: Tensor,
    input_tensor: Tensor,
    *,
    update_idxs: Sequence[int] = (),
    update_idxs_tensor: Optional[Tensor] = None,
    share_cache: Optional[bool] = None,
    page_table: Optional[Tensor] = None,
    batch_offset: int = 0,
    compute_kernel_config=None,
    mesh_coords=None,
    block_size: Optional[int] = None,
    num_kv_heads: Optional[int] = None,
    cache_position_modulo: Optional[int] = None,
) -> Tensor:
    op = "ttnn.experimental.paged_update_cache"
    cache = require_tensor(cache_tensor, op, "cache_tensor")
    x = require_tensor(input_tensor, op, "input_tensor")
    cache.require_device(op)
    x.require_device(op)
    if update_idxs_tensor is not None:
        update_idxs_tensor = require_tensor(update_idxs_tensor, op, "update_idxs_tensor")
    if page_table is not None:
        page_table = require_tensor(page_table, op, "page_table")
    check(not share_cache, op, "update_cache.share_cache", "share_cache is not emulated")
    check(batch_offset == 0, op, "update_cache.batch_offset", "batch_offset must be 0")
    if page_table is None:
        check(
            block_size is None and num_kv_heads is None and cache_position_modulo is None,
            op,
            "paged_cache.overrides_unpaged",
            "block_size_override / num_kv_heads_override / cache_position_modulo are only supported in paged mode "
            "(when page_table is provided)",
        )
    else:
        _view_overrides(op, cache, block_size, num_kv_heads, cache_position_modulo)
    idxs = validate_paged_update_cache(op, cache, x, update_idxs_tensor, list(update_idxs), page_table)
    targets = paged_update_targets(op, cache, page_table, idxs) if page_table is not None else None
    nkv = cache.shape[1]
    cache.device().op_log.append(op)
    if dry(cache.device()):
        return cache
    if targets is not None:
        for b, blk, row in targets:
            cache.values[blk, :, row, :] = dt.quantize(x.values[0, b, :nkv, :], cache.dtype)
        return cache
    for b, pos in enumerate(idxs):
        if pos < 0:
            continue
        cache.values[b, :, pos, :] = dt.quantize(x.values[0, b, :nkv, :], cache.dtype)
    return cache


def paged_fill_cache(
    cache_tensor: Tensor,
    input_tensor: Tensor,
    page_table: Tensor,
    *,
    batch_idx_tensor: Optional[Tensor] = None,
    batch_idx: int = 0,
    compute_kernel_config=None,
    mesh_coords=None,
    block_size: Optional[int] = None,
    cache_position_modulo: Optional[int] = None,
    valid_seq_len_tensor: Optional[Tensor] = None,
) -> Tensor:
    op = "ttnn.experimental.paged_fill_cache"
    cache = require_tensor(cache_tensor, op, "cache_tensor")
    x = require_tensor(input_tensor, op, "input_tensor")
    pt = require_tensor(page_table, op, "page_table")
    cache.require_device(op)
    x.require_device(op)
    if batch_idx_tensor is not None:
        batch_idx_tensor = require_tensor(batch_idx_tensor, op, "batch_idx_tensor")
    if valid_seq_len_tensor is not None:
        raise EmulatorUnsupported(f"{op}: valid_seq_len_tensor (bounded circular fill) is not emulated")
    _view_overrides(op, cache, block_size, None, cache_position_modulo)
    rows = validate_paged_fill_cache(op, cache, x, pt, int(batch_idx), batch_idx_tensor)
    cache.device().op_log.append(op)
    if dry(cache.device()):
        return cache
    bs = cache.shape[2]
    S = x.shape[2]
    padded = x.padded_shape[2]
    for i, blocks in rows:
        src = dt.quantize(x.values[i], cache.dtype)  # [nkv, S, hd]; same dtype: a raw tile copy
        if padded > S:  # the last tile's padding rows are copied too
            src = torch.cat([src, src.new_zeros(src.shape[0], padded - S, src.shape[2])], dim=1)
        for j, blk in enumerate(blocks):
            if blk < 0:  # SKIP_PAGE_TABLE_ENTRY
                continue
            lo, hi = j * bs, min(padded, (j + 1) * bs)
            cache.values[blk, :, : hi - lo, :] = src[:, lo:hi, :]
    return cache
