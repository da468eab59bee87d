"""KV-cache writes: ``ttnn.fill_cache``, ``ttnn.update_cache``, ``ttnn.experimental.paged_update_cache`` (in place).

Semantics: goldens of ``fill_cache`` / ``update_cache`` in ``ttnn/operations/data_movement.py`` (wheel 0.81.1):
``cache[batch_idx, :, update_idx:update_idx + S, :] = input``; ``cache[user, :, update_idx, :] = input[0, :,
batch_offset + user, :]`` for every cache user. ``paged_update_cache`` has no golden; its docstring: "cache_tensor of
shape [B, 1, kv_len, head_dim] and input_tensor of shape [1, B, 1[32], head_dim] where input_tensor is height
sharded on B cores. update_idxs will specify for each batch element which token to update in the cache ... This op
updates one token row inside an existing cache tile and owns the final repack into the cache dtype". With several
KV heads the input is ``[1, B, nkv (padded to 32), head_dim]`` and user b's heads land in ``cache[b, :, idx_b, :]``.
Block-float caches: a shared exponent covers 16 values of one row, so writing whole rows and re-quantizing them to
the cache dtype is exactly what repacking the tile does.
"""

from __future__ import annotations

from typing import Optional, Sequence

from .. import dtypes as dt
from ..errors import check
from ..tensor import Tensor, require_tensor
from ..validate import validate_fill_cache, validate_paged_update_cache, validate_update_cache
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
) -> Tensor:
    op = "ttnn.experimental.paged_update_cache"
    cache = require_tensor(cache_tensor, op, "cache_tensor")
    x = require_tensor(input_tensor, op, "input_tensor")
    cache.require_device(op)
    x.require_device(op)
    if update_idxs_tensor is not None:
        update_idxs_tensor = require_tensor(update_idxs_tensor, op, "update_idxs_tensor")
    check(not share_cache, op, "update_cache.share_cache", "share_cache is not emulated")
    check(batch_offset == 0, op, "update_cache.batch_offset", "batch_offset must be 0")
    idxs = validate_paged_update_cache(op, cache, x, update_idxs_tensor, list(update_idxs), page_table)
    nkv = cache.shape[1]
    cache.device().op_log.append(op)
    if dry(cache.device()):
        return cache
    for b, pos in enumerate(idxs):
        if pos < 0:
            continue
        cache.values[b, :, pos, :] = dt.quantize(x.values[0, b, :nkv, :], cache.dtype)
    return cache
