"""Head split / concat ops and Llama rotary embedding (no golden functions exist for them in 0.81.1).

Docstrings followed (``_ttnn.cpython-312-x86_64-linux-gnu.so`` strings, wheel 0.81.1):

* ``nlp_create_qkv_heads``: "Shuffles [B, 1, S, 3 * head_dim * num_heads] fused qkv matrix into 3 Q, K, and V heads
  with shapes [B, num_heads, S, head_dim], [B, num_kv_heads, head_dim, S], and [B, num_kv_heads, S, head_dim]. ...
  An additional transpose along the last two dims is performed by default for K heads, but this can be skipped with
  transpose_k_heads=false." Column order Q heads | K heads | V heads (as the golden of
  ``split_query_key_value_and_split_heads`` slices ``[:q_hidden]``, then K, then V).
* ``nlp_create_qkv_heads_decode``: "Shuffles [1, S=1, B, head_dim * (num_heads + 2*num_kv_heads)] fused qkv matrix
  into Q, K, and V heads with shape [S, B, num_heads, head_dim] for Q and [S, B, num_kv_heads, head_dim] for K and V,
  where num_heads and num_kv_heads will be padded to nearest 32. ... If ttnn pads B from some number < 32 to 32, this
  op respects the unpadded B." Output shards: ``(pad32(heads), head_dim)`` per user on ``num_cores_to_corerangeset(B)``
  (device op ``create_output_tensors``).
* ``nlp_concat_heads``: "Shuffles [B, num_heads, S, head_dim] tensor into tensor with shape [B, 1, S, num_heads *
  head_dim]."
* ``nlp_concat_heads_decode``: "Shuffles [S=1, B=32, 32(num_heads), head_dim] tensor into tensor with shape [S=1, 1,
  B=32, num_heads * head_dim]. num_heads should be specified and be less than 32; the op will assume the input padded
  num_heads to 32 and will unpad it. The output is default width sharded by num heads."
* ``rotary_embedding_llama``: args ``input_tensor, cos_cache, sin_cache, trans_mat, is_decode_mode, memory_config,
  compute_kernel_config``; the rotation is ``x * cos + (x @ trans_mat) * sin`` applied per 32-wide tile of the head
  dimension, with ``trans_mat`` the 32x32 pair-swap matrix (reference ttnn-semantics.md, "for each pair (x_even,
  x_odd)"). Decode: input ``[1, B, n_heads, head_dim]`` height-sharded, cos/sin ``[1, B, 1, head_dim]`` (user b uses
  row b), trans_mat ``[1, 1, 32 * B, 32]`` height-sharded, user b uses tile b.
"""

from __future__ import annotations

from typing import Optional

import torch

from .. import dtypes as dt
from .. import numerics
from ..configs import (
    BufferType,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
    num_cores_to_corerangeset,
)
from ..dtypes import Layout
from ..errors import check
from ..tensor import Tensor, require_tensor
from ..validate import (
    check_compute_config,
    norm_default_compute_config,
    require_tile,
    require_tile_aligned,
    validate_create_qkv_heads_decode,
    validate_rotary_llama,
)
from .common import dry, make_output, set_values

TILE = dt.TILE_SIZE


def _pad32(n: int) -> int:
    return -(-n // TILE) * TILE


def nlp_create_qkv_heads(
    input: Tensor,
    input_kv: Optional[Tensor] = None,
    *,
    num_heads: int,
    num_kv_heads: Optional[int] = None,
    transpose_k_heads: bool = True,
    memory_config: Optional[MemoryConfig] = None,
    output_tensors=None,
):
    op = "ttnn.experimental.nlp_create_qkv_heads"
    x = require_tensor(input, op, "input")
    device = x.require_device(op)
    check(input_kv is None, op, "qkv.input_kv", "input_kv= is not emulated (fused QKV input only)")
    check(output_tensors is None, op, "qkv.output_tensors", "output_tensors= is not emulated")
    require_tile_aligned(op, x, "input")
    check(not x.is_sharded(), op, "qkv.interleaved", "sharded input is not emulated for nlp_create_qkv_heads")
    nkv = num_heads if num_kv_heads is None else num_kv_heads
    s = x.shape
    check(
        s.rank == 4 and s[1] == 1,
        op,
        "qkv.shape",
        f"input must be [B, 1, S, (num_heads + 2 * num_kv_heads) * head_dim], got {list(s)}",
    )
    total = num_heads + 2 * nkv
    check(
        s[3] % total == 0, op, "qkv.width", f"width {s[3]} is not divisible by num_heads + 2 * num_kv_heads = {total}"
    )
    hd = s[3] // total
    check(hd % TILE == 0, op, "qkv.head_dim", f"head_dim ({hd}) must be a multiple of TILE_WIDTH (32)")
    check(num_heads % nkv == 0, op, "qkv.gqa", f"num_heads ({num_heads}) must be a multiple of num_kv_heads ({nkv})")
    mem = memory_config if memory_config is not None else x.memory_config()
    B, _, S, _ = s
    v = x.values.reshape(B, S, total, hd)
    q = v[:, :, :num_heads].permute(0, 2, 1, 3).contiguous()
    k = v[:, :, num_heads : num_heads + nkv].permute(0, 2, 1, 3).contiguous()
    val = v[:, :, num_heads + nkv :].permute(0, 2, 1, 3).contiguous()
    qt = set_values(make_output(op, q.shape, x.dtype, Layout.TILE, device, mem), q, quantized=True)
    if transpose_k_heads:
        k = k.transpose(-1, -2).contiguous()
    kt = set_values(
        make_output(op, k.shape, x.dtype, Layout.TILE, device, mem),
        k,
        quantized=not transpose_k_heads or x.dtype not in dt.BLOCK_FLOAT_TYPES,
    )
    vt = set_values(make_output(op, val.shape, x.dtype, Layout.TILE, device, mem), val, quantized=True)
    return qt, kt, vt


def _decode_head_mem(mem: MemoryConfig, batch: int, heads: int, hd: int, device) -> MemoryConfig:
    """A sharded output holds one user's padded heads per core; an interleaved one is placed as given."""
    if not mem.is_sharded():
        return mem
    grid = num_cores_to_corerangeset(batch, device.compute_with_storage_grid_size(), row_wise=True)
    return MemoryConfig(
        mem.memory_layout, mem.buffer_type, ShardSpec(grid, [_pad32(heads), hd], ShardOrientation.ROW_MAJOR)
    )


def nlp_create_qkv_heads_decode(
    input: Tensor,
    *,
    num_heads: int,
    num_kv_heads: Optional[int] = None,
    overlap_qk_coregrid: bool = True,
    batch_offset: Optional[Tensor] = None,
    slice_size: Optional[int] = None,
    memory_config: Optional[MemoryConfig] = None,
):
    op = "ttnn.experimental.nlp_create_qkv_heads_decode"
    x = require_tensor(input, op, "input")
    device = x.require_device(op)
    check(
        batch_offset is None and slice_size is None,
        op,
        "qkv_decode.slice",
        "batch_offset / slice_size are not emulated",
    )
    nkv = num_heads if num_kv_heads is None else num_kv_heads
    mem = memory_config if memory_config is not None else MemoryConfig(TensorMemoryLayout.HEIGHT_SHARDED, BufferType.L1)
    validate_create_qkv_heads_decode(op, x, num_heads, nkv, mem, device)
    check(overlap_qk_coregrid, op, "qkv_decode.overlap", "overlap_qk_coregrid=False is not emulated")
    B = x.shape[2]
    total = num_heads + 2 * nkv
    hd = x.shape[3] // total
    check(hd % TILE == 0, op, "qkv_decode.head_dim", f"head_dim ({hd}) must be a multiple of 32")
    v = x.values.reshape(B, total, hd)
    q = v[:, :num_heads].unsqueeze(0).contiguous()
    k = v[:, num_heads : num_heads + nkv].unsqueeze(0).contiguous()
    val = v[:, num_heads + nkv :].unsqueeze(0).contiguous()
    outs = []
    for part, heads in ((q, num_heads), (k, nkv), (val, nkv)):
        omem = _decode_head_mem(mem, B, heads, hd, device)
        t = make_output(op, part.shape, x.dtype, Layout.TILE, device, omem)
        outs.append(set_values(t, part, quantized=True))
    return tuple(outs)


def nlp_concat_heads(input: Tensor, *, memory_config: Optional[MemoryConfig] = None) -> Tensor:
    op = "ttnn.experimental.nlp_concat_heads"
    x = require_tensor(input, op, "input")
    device = x.require_device(op)
    require_tile_aligned(op, x, "input")
    check(x.shape.rank == 4, op, "concat_heads.rank", f"input must be [B, num_heads, S, head_dim], got {list(x.shape)}")
    check(not x.is_sharded(), op, "concat_heads.interleaved", "sharded input is not emulated for nlp_concat_heads")
    B, H, S, D = x.shape
    check(D % TILE == 0, op, "concat_heads.head_dim", f"head_dim ({D}) must be a multiple of 32")
    vals = x.values.permute(0, 2, 1, 3).reshape(B, 1, S, H * D).contiguous()
    out = make_output(
        op, vals.shape, x.dtype, Layout.TILE, device, memory_config if memory_config is not None else x.memory_config()
    )
    return set_values(out, vals, quantized=True)


def nlp_concat_heads_decode(
    input: Tensor, *, num_heads: int, memory_config: Optional[MemoryConfig] = None, sub_core_grids=None
) -> Tensor:
    op = "ttnn.experimental.nlp_concat_heads_decode"
    x = require_tensor(input, op, "input")
    device = x.require_device(op)
    require_tile(op, x, "input")
    check(
        x.shape.rank == 4 and x.shape[0] == 1,
        op,
        "concat_heads_decode.shape",
        f"input must be [1, B, 32 (padded heads), head_dim], got {list(x.shape)}",
    )
    check(
        num_heads > 0,
        op,
        "concat_heads_decode.num_heads",
        f"num_heads ({num_heads}) should be specified",
    )
    check(
        x.padded_shape[2] == 32,
        op,
        "concat_heads_decode.padded_heads",
        f"input heads must be padded to 32, got padded shape {list(x.padded_shape)}",
    )
    check(
        num_heads <= x.shape[2],
        op,
        "concat_heads_decode.heads_present",
        f"num_heads ({num_heads}) exceeds the input's {x.shape[2]} heads",
    )
    B, hd = x.shape[1], x.shape[3]
    vals = x.values[0, :, :num_heads, :].reshape(1, 1, B, num_heads * hd).contiguous()
    g = device.compute_with_storage_grid_size()
    check(
        num_heads <= g.x * g.y,
        op,
        "concat_heads_decode.cores",
        f"the output holds one head per core: {num_heads} heads need more cores than the {g.x}x{g.y} grid has",
    )
    # docstring: "The output is default width sharded by num heads"; the emulator places it so (memory_config is not read)
    out_mem = MemoryConfig(
        TensorMemoryLayout.WIDTH_SHARDED,
        BufferType.L1,
        ShardSpec(num_cores_to_corerangeset(num_heads, g, True), [32, hd], ShardOrientation.ROW_MAJOR),
    )
    out = make_output(op, vals.shape, x.dtype, Layout.TILE, device, out_mem)
    return set_values(out, vals, quantized=True)


def rotary_embedding_llama(
    input_tensor: Tensor,
    cos_cache: Tensor,
    sin_cache: Tensor,
    trans_mat: Tensor,
    is_decode_mode: bool = False,
    memory_config: Optional[MemoryConfig] = None,
    compute_kernel_config=None,
) -> Tensor:
    op = "ttnn.experimental.rotary_embedding_llama"
    x = require_tensor(input_tensor, op, "input_tensor")
    cos = require_tensor(cos_cache, op, "cos_cache")
    sin = require_tensor(sin_cache, op, "sin_cache")
    tm = require_tensor(trans_mat, op, "trans_mat")
    device = x.require_device(op)
    validate_rotary_llama(op, x, cos, sin, tm, bool(is_decode_mode))
    cfg = (
        norm_default_compute_config()
        if compute_kernel_config is None
        else check_compute_config(op, compute_kernel_config)
    )
    mem = memory_config if memory_config is not None else x.memory_config()
    out = make_output(op, x.shape, x.dtype, Layout.TILE, device, mem)
    if dry(device):
        return out
    fp32 = cfg.fp32_dest_acc_en
    xv = x.values.float()
    hd = x.shape[-1]
    nt = hd // TILE
    if is_decode_mode:
        B = x.shape[1]
        c = cos.values.float()[0, :, 0, :].reshape(1, B, 1, hd)
        s_ = sin.values.float()[0, :, 0, :].reshape(1, B, 1, hd)
        tmv = tm.values.float().reshape(-1, TILE, TILE)
        mats = tmv[torch.arange(B) % tmv.shape[0]]  # [B, 32, 32]: user b uses tile b
        xt = xv.reshape(1, B, x.shape[2], nt, TILE)
        rot = torch.einsum("abhtk,bkj->abhtj", xt, mats).reshape(xv.shape)
    else:
        S = x.shape[2]
        c = cos.values.float()[:, :, :S, :]
        s_ = sin.values.float()[:, :, :S, :]
        mat = tm.values.float().reshape(TILE, TILE)
        xt = xv.reshape(*xv.shape[:-1], nt, TILE)
        rot = torch.matmul(xt, mat).reshape(xv.shape)
    rot = numerics.dst(rot, fp32)
    res = numerics.dst(numerics.dst(xv * c, fp32) + numerics.dst(rot * s_, fp32), fp32)
    return set_values(out, res)
