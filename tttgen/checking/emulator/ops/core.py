"""Tensor creation, conversion, memory movement and data-movement ops.

Semantics follow the wheel's Python sources (``ttnn/operations/core.py``: ``from_torch``, ``to_torch``, ``as_tensor``
cache naming, golden functions of ``reshape``/``typecast``/``to_memory_config``; ``ttnn/operations/data_movement.py``:
goldens of ``permute``, ``slice``, ``concat``) and the docstrings of ``sharded_to_interleaved`` /
``interleaved_to_sharded`` in ``_ttnn.cpython-312-x86_64-linux-gnu.so``.
"""

from __future__ import annotations

import builtins
import math
import pathlib
from typing import Optional, Sequence

import torch

from .. import dtypes as dt
from ..configs import (
    BufferType,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    CoreGrid,
    CoreRangeSet,
    CoreRange,
    CoreCoord,
)
from ..dtypes import DataType, Layout
from ..errors import EmulatorValidationError, check, fail
from ..tensor import Tensor, require_tensor, view_of
from ..validate import require_tile
from .common import DRAM, make_output, set_values

_TORCH_TO_TTNN = {
    torch.bfloat16: DataType.BFLOAT16,
    torch.float32: DataType.FLOAT32,
    torch.int32: DataType.INT32,
    torch.uint32: DataType.UINT32,
    torch.uint16: DataType.UINT16,
    torch.uint8: DataType.UINT8,
}


def _infer_dtype(t: torch.Tensor, op: str) -> DataType:
    if t.dtype not in _TORCH_TO_TTNN:
        fail(op, "from_torch.dtype", f"cannot infer a ttnn dtype from torch dtype {t.dtype}; pass dtype=")
    return _TORCH_TO_TTNN[t.dtype]


def from_torch(
    tensor,
    dtype: Optional[DataType] = None,
    *,
    spec=None,
    tile=None,
    pad_value=None,
    layout: Optional[Layout] = None,
    device=None,
    memory_config: Optional[MemoryConfig] = None,
    mesh_mapper=None,
    cq_id=None,
    preserve_nan_values: bool = False,
    col_tilize: bool = False,
    enable_bfloat_opt: bool = False,
) -> Optional[Tensor]:
    op = "ttnn.from_torch"
    if tensor is None:
        return None
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{op}: expected a torch.Tensor, got {type(tensor).__name__}")
    if spec is not None or tile is not None or mesh_mapper is not None or col_tilize:
        fail(op, "from_torch.unsupported_kw", "spec=, tile=, mesh_mapper= and col_tilize= are not emulated")
    if memory_config is not None and memory_config.is_sharded() and memory_config.shard_spec is None:
        raise EmulatorValidationError(
            op, "shard.missing_spec", "ttnn.from_torch: Shard spec must not be None for sharded tensors"
        )
    if dtype is None:
        dtype = _infer_dtype(tensor, op)
    if layout is None:
        layout = Layout.ROW_MAJOR
    values = tensor.detach()
    if values.is_floating_point():
        values = values.float()
    else:
        values = values.to(torch.int64)
    if device is not None and memory_config is None:
        memory_config = DRAM
    out = Tensor(values, dtype, layout, device, memory_config if device is not None else None, op=op)
    if device is not None:
        device.op_log.append(op)
    return out


def to_torch(
    tensor: Tensor, dtype=None, *, torch_rank: Optional[int] = None, mesh_composer=None, device=None, cq_id=None
) -> torch.Tensor:
    op = "ttnn.to_torch"
    t = require_tensor(tensor, op, "tensor")
    out = t.to_torch()
    if torch_rank is not None:
        while out.dim() > torch_rank:
            if out.shape[0] != 1:
                raise RuntimeError("ttnn: Unable to squeeze to desired rank!")
            out = out.squeeze(0)
    if dtype is not None:
        out = out.to(dtype)
    return out


def as_tensor(
    tensor,
    dtype: Optional[DataType] = None,
    *,
    layout: Optional[Layout] = Layout.ROW_MAJOR,
    device=None,
    memory_config: Optional[MemoryConfig] = None,
    cache_file_name=None,
    preprocess=None,
    mesh_mapper=None,
    cache_dump_mode=None,
    use_device_tilizer: bool = False,
) -> Tensor:
    """``ttnn.as_tensor``: like from_torch; with ``cache_file_name`` the converted host tensor is stored at
    ``f"{cache_file_name}_dtype_{dtype.name}_layout_{layout.name}.tensorbin"`` (the wheel's naming) and reloaded from
    there when present. The emulator's file is a ``torch.save`` payload, not ttnn's flatbuffer; a file it cannot read
    is regenerated, as ttnn does on a failed load."""
    op = "ttnn.as_tensor"
    if device is not None and memory_config is None:
        raise RuntimeError("memory_config must be specified when device is specified")

    def convert(t):
        if preprocess is not None:
            t = preprocess(t)
        return from_torch(t, dtype=dtype, layout=layout, device=None)

    if cache_file_name is None and device is not None and device.spec.numerics == "none":
        # validation only: the device tensor keeps no float values, so skip converting them on the host
        values = (preprocess(tensor) if preprocess is not None else tensor).detach()
        out_dtype = dtype if dtype is not None else _infer_dtype(values, op)
        values = values if values.is_floating_point() else values.to(torch.int64)
        out = Tensor(values, out_dtype, layout or Layout.ROW_MAJOR, device, memory_config, op=op)
        device.op_log.append(op)
        return out
    if cache_file_name is None:
        host = convert(tensor)
    else:
        dtype_name = dtype.name if dtype is not None else "None"
        layout_name = layout.name if layout is not None else "None"
        path = pathlib.Path(f"{cache_file_name}_dtype_{dtype_name}_layout_{layout_name}.tensorbin")
        host = None
        if path.is_file():
            try:
                payload = torch.load(path, weights_only=True)
                if not (isinstance(payload, dict) and payload.get("format") == "tttgen-emulator-tensor/1"):
                    raise ValueError("not an emulator cache file")
                host = Tensor(
                    payload["values"],
                    DataType[payload["dtype"]],
                    Layout[payload["layout"]],
                    None,
                    None,
                    op=op,
                    quantized=True,
                )
            except Exception:
                host = None
        if host is None:
            host = convert(tensor)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            torch.save(
                {
                    "format": "tttgen-emulator-tensor/1",
                    "values": host.values,
                    "dtype": host.dtype.name,
                    "layout": host.layout.name,
                },
                tmp,
            )
            tmp.replace(path)
    if device is None:
        return host
    out = Tensor(host.values, host.dtype, host.layout, device, memory_config, op=op, quantized=True)
    device.op_log.append(op)
    return out


def to_device(tensor: Tensor, device, memory_config: Optional[MemoryConfig] = None, *, cq_id=None) -> Tensor:
    op = "ttnn.to_device"
    t = require_tensor(tensor, op, "tensor")
    if t.device() is not None:
        return t
    out = Tensor(
        t.values, t.dtype, t.layout, device, memory_config if memory_config is not None else DRAM, op=op, quantized=True
    )
    device.op_log.append(op)
    return out


def from_device(tensor: Tensor, *, cq_id=None, queue_id=None) -> Tensor:
    t = require_tensor(tensor, "ttnn.from_device", "tensor")
    return t.cpu()


def _copy_to(
    op: str, t: Tensor, mem: MemoryConfig, dtype: Optional[DataType] = None, layout: Optional[Layout] = None
) -> Tensor:
    device = t.require_device(op)
    dtype = dtype if dtype is not None else t.dtype
    layout = layout if layout is not None else t.layout
    out = make_output(op, t.shape, dtype, layout, device, mem)
    return set_values(out, t.values.clone(), quantized=(dtype == t.dtype))


def to_memory_config(tensor: Tensor, memory_config: MemoryConfig, dtype: Optional[DataType] = None) -> Tensor:
    op = "ttnn.to_memory_config"
    t = require_tensor(tensor, op, "input_tensor")
    t.require_device(op)
    check(
        isinstance(memory_config, MemoryConfig),
        op,
        "memory_config.type",
        f"memory_config must be a ttnn.MemoryConfig, got {memory_config!r}",
    )
    if memory_config.is_sharded() and memory_config.shard_spec is None:
        fail(
            op,
            "shard.missing_spec",
            f"to_memory_config needs a shard spec for {memory_config.memory_layout.name} (got a memory config without one)",
        )
    if memory_config == t.memory_config() and (dtype is None or dtype == t.dtype):
        return t
    return _copy_to(op, t, memory_config, dtype)


def sharded_to_interleaved(
    input_tensor: Tensor,
    memory_config: MemoryConfig = DRAM,
    output_dtype: Optional[DataType] = None,
    *,
    is_l1_aligned: bool = False,
    queue_id=None,
) -> Tensor:
    op = "ttnn.sharded_to_interleaved"
    t = require_tensor(input_tensor, op, "input_tensor")
    t.require_device(op)
    check(t.is_sharded(), op, "s2i.input_sharded", "input tensor must be sharded")
    check(
        memory_config is not None and not memory_config.is_sharded(),
        op,
        "s2i.output_interleaved",
        "Memory configuration for the operation, must be Interleaved.",
    )
    return _copy_to(op, t, memory_config, output_dtype)


def interleaved_to_sharded(
    input_tensor: Tensor,
    grid,
    shard_shape=None,
    shard_scheme=None,
    shard_orientation=None,
    *,
    output_dtype: Optional[DataType] = None,
    keep_l1_aligned: bool = False,
    queue_id=None,
) -> Tensor:
    op = "ttnn.interleaved_to_sharded"
    t = require_tensor(input_tensor, op, "input_tensor")
    t.require_device(op)
    check(not t.is_sharded(), op, "i2s.input_interleaved", "input tensor must be interleaved")
    if isinstance(grid, MemoryConfig):
        mem = grid
    else:
        if isinstance(grid, CoreGrid):
            grid = CoreRangeSet({CoreRange(CoreCoord(0, 0), CoreCoord(grid.x - 1, grid.y - 1))})
        mem = MemoryConfig(
            shard_scheme, BufferType.L1, ShardSpec(grid, shard_shape, shard_orientation or ShardOrientation.ROW_MAJOR)
        )
    check(
        mem.is_sharded() and mem.shard_spec is not None,
        op,
        "i2s.output_sharded",
        "output memory config must be sharded with a shard spec",
    )
    return _copy_to(op, t, mem, output_dtype)


def to_layout(
    tensor: Tensor,
    layout: Layout,
    dtype: Optional[DataType] = None,
    memory_config: Optional[MemoryConfig] = None,
    *,
    sub_core_grids=None,
    queue_id=None,
) -> Tensor:
    op = "ttnn.to_layout"
    t = require_tensor(tensor, op, "tensor")
    if t.layout == layout and (dtype is None or dtype == t.dtype) and memory_config is None:
        return t
    if t.device() is None:
        return Tensor(
            t.values, dtype or t.dtype, layout, None, None, op=op, quantized=(dtype is None or dtype == t.dtype)
        )
    mem = memory_config if memory_config is not None else t.memory_config()
    return _copy_to(op, t, mem, dtype, layout)


def typecast(
    input_tensor: Tensor,
    dtype: DataType,
    *,
    memory_config: Optional[MemoryConfig] = None,
    output_tensor=None,
    sub_core_grids=None,
    queue_id=None,
) -> Tensor:
    """Golden ``_typecast_golden_function``: float targets round the values to the target (bfp via host packing),
    uint32/int32 targets truncate toward zero (uint32 clamped at 0)."""
    op = "ttnn.typecast"
    t = require_tensor(input_tensor, op, "input_tensor")
    device = t.require_device(op)
    check(isinstance(dtype, DataType), op, "typecast.dtype", f"dtype must be a ttnn.DataType, got {dtype!r}")
    if dtype in dt.BLOCK_FLOAT_TYPES:
        require_tile(op, t, "input_tensor")
    mem = memory_config if memory_config is not None else t.memory_config()
    out = make_output(op, t.shape, dtype, t.layout, device, mem)
    vals = t.values
    if dtype == DataType.UINT32:
        vals = torch.clamp(torch.trunc(vals.double()) if vals.is_floating_point() else vals, min=0).to(torch.int64)
    elif dtype in dt.INT_TYPES:
        vals = (torch.trunc(vals.double()) if vals.is_floating_point() else vals).to(torch.int64)
    elif not vals.is_floating_point():
        vals = vals.float()
    return set_values(out, vals)


def _normalize_shape(t: Tensor, shape) -> list[int]:
    dims = [int(d) for d in shape]
    if dims.count(-1) > 1:
        raise RuntimeError("Shape cannot have more than 1 elements that is set to -1!")
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = t.volume() // known
    return dims


def reshape(input_tensor: Tensor, shape, *args, memory_config: Optional[MemoryConfig] = None, **kwargs) -> Tensor:
    """Logical reshape (golden: ``input_tensor.reshape(shape)``). A second shape argument (ttnn's padded shape)
    is accepted: its last two dims must equal the tile-rounded logical dims, since padding data is not stored.
    A TILE reshape whose rows cross tile padding (e.g. [s, n, 8, 32] -> [1, s, n, 256], Boltz's
    PairWeightedAveraging heads) is a new buffer with the logical values: the real ttnn 0.81.1 accepts it on a mock
    device, and the golden is the logical reshape. Such a reshape is never a view."""
    op = "ttnn.reshape"
    t = require_tensor(input_tensor, op, "input_tensor")
    dims = _normalize_shape(t, shape)
    check(
        math.prod(dims) == t.volume(),
        op,
        "reshape.volume",
        f"cannot reshape {list(t.shape)} (volume {t.volume()}) to {dims}",
    )
    if args:
        padded = [int(d) for d in args[0]]
        check(
            len(padded) == len(dims), op, "reshape.padded_rank", f"padded shape {padded} must have the rank of {dims}"
        )
    if t.layout == Layout.TILE:
        check(
            dims[-1] % 32 == 0,
            op,
            "reshape.tile_width",
            f"ttnn.reshape: cannot reshape a TILE tensor to last dim {dims[-1]} (not a multiple of 32)",
        )
    vals = t.values.reshape(dims)
    if t.device() is None:
        return Tensor(vals, t.dtype, t.layout, None, None, op=op, quantized=True)
    t.require_device(op)
    mem = memory_config if memory_config is not None else t.memory_config()
    if mem.is_sharded() or t.is_sharded():
        fail(op, "reshape.sharded", "reshape of sharded tensors is not emulated; reshape an interleaved tensor")
    same_pages = t.layout == Layout.ROW_MAJOR and dims[-1] == t.shape[-1]
    same_tiles = t.layout == Layout.TILE and dims[-1] == t.shape[-1] and dims[-2] % 32 == 0 and t.shape[-2] % 32 == 0
    if mem == t.memory_config() and (same_pages or same_tiles):
        t.device().op_log.append(op)
        return view_of(t, vals)  # ttnn reshapes such tensors in place (a view on the same buffer)
    out = make_output(op, dims, t.dtype, t.layout, t.device(), mem)
    return set_values(out, vals.clone(), quantized=True)


def permute(
    input_tensor: Tensor, dims, *, memory_config: Optional[MemoryConfig] = None, pad_value: float = 0.0
) -> Tensor:
    op = "ttnn.permute"
    t = require_tensor(input_tensor, op, "input_tensor")
    device = t.require_device(op)
    dims = [int(d) for d in dims]
    check(
        sorted(d % t.shape.rank for d in dims) == list(range(t.shape.rank)),
        op,
        "permute.dims",
        "The number of dimensions in the tensor input does not match the length of the desired ordering",
    )
    vals = t.values.permute(dims).contiguous()
    out = make_output(op, vals.shape, t.dtype, t.layout, device, memory_config or t.memory_config())
    # BFP values are re-packed in the new face rows.
    return set_values(out, vals, quantized=t.dtype not in dt.BLOCK_FLOAT_TYPES)


def slice(
    input_tensor: Tensor,
    starts,
    ends,
    steps=None,
    *,
    memory_config: Optional[MemoryConfig] = None,
    pad_value=None,
    sub_core_grids=None,
    queue_id=None,
) -> Tensor:
    op = "ttnn.slice"
    t = require_tensor(input_tensor, op, "input_tensor")
    device = t.require_device(op)
    starts = [int(s) for s in starts]
    ends = [int(e) for e in ends]
    steps = [1] * len(starts) if steps is None else [int(s) for s in steps]
    check(
        len(starts) == len(ends) == len(steps) == t.shape.rank,
        op,
        "slice.rank",
        f"starts/ends/steps must have rank {t.shape.rank}",
    )
    if t.layout == Layout.TILE:
        for i in (-1, -2):
            check(
                starts[i] % 32 == 0,
                op,
                "slice.tile_start",
                f"TILE slice start {starts[i]} on dim {i} must be a multiple of 32",
            )
    vals = t.values[tuple(builtins.slice(s, e, st) for s, e, st in zip(starts, ends, steps))]
    out = make_output(op, vals.shape, t.dtype, t.layout, device, memory_config or t.memory_config())
    return set_values(out, vals.contiguous(), quantized=t.dtype not in dt.BLOCK_FLOAT_TYPES)


def pad(
    input_tensor: Tensor,
    padding,
    value: float,
    *,
    use_multicore: bool = True,
    memory_config: Optional[MemoryConfig] = None,
    sub_core_grids=None,
    queue_id=None,
) -> Tensor:
    """ttnn.pad's (before, after) pairs overload, golden torch.nn.functional.pad with a constant `value` (0.81.1
    golden function). Its docstring: a TILE tensor cannot be padded in front on device."""
    op = "ttnn.pad"
    t = require_tensor(input_tensor, op, "input_tensor")
    device = t.require_device(op)
    pairs = [tuple(int(v) for v in pair) for pair in padding]
    check(
        all(len(pair) == 2 for pair in pairs) and len(pairs) <= t.shape.rank,
        op,
        "pad.pairs",
        f"padding must be at most {t.shape.rank} (before, after) pairs, got {padding!r}",
    )
    pairs = [(0, 0)] * (t.shape.rank - len(pairs)) + pairs
    check(all(b >= 0 and a >= 0 for b, a in pairs), op, "pad.negative", f"padding must not be negative, got {pairs}")
    if t.layout == Layout.TILE:
        check(
            all(before == 0 for before, _ in pairs),
            op,
            "pad.tile_front",
            "tile layout does not support front padding on device (ttnn.pad docstring)",
        )
    torch_padding = [v for before, after in reversed(pairs) for v in (before, after)]
    vals = torch.nn.functional.pad(t.values, torch_padding, mode="constant", value=float(value))
    out = make_output(op, vals.shape, t.dtype, t.layout, device, memory_config or t.memory_config())
    return set_values(out, vals.contiguous(), quantized=t.dtype not in dt.BLOCK_FLOAT_TYPES)


def concat(
    tensors: Sequence[Tensor],
    dim: int = 0,
    *,
    memory_config: Optional[MemoryConfig] = None,
    groups: int = 1,
    output_tensor=None,
    sub_core_grids=None,
) -> Tensor:
    op = "ttnn.concat"
    ts = [require_tensor(t, op, f"tensors[{i}]") for i, t in enumerate(tensors)]
    check(len(ts) > 0, op, "concat.empty", "concat needs at least one tensor")
    check(groups == 1, op, "concat.groups", "groups > 1 is not emulated")
    device = ts[0].require_device(op)
    first = ts[0]
    for t in ts[1:]:
        check(
            t.dtype == first.dtype and t.layout == first.layout,
            op,
            "concat.same_format",
            "all tensors must share dtype and layout",
        )
        check(t.shape.rank == first.shape.rank, op, "concat.rank", "all tensors must have the same rank")
    if first.layout == Layout.TILE and dim % first.shape.rank >= first.shape.rank - 2:
        for t in ts[:-1]:
            check(
                t.shape[dim] % 32 == 0,
                op,
                "concat.tile_aligned",
                f"concatenating TILE tensors along dim {dim} needs tile-aligned sizes ({list(t.shape)})",
            )
    vals = torch.cat([t.values for t in ts], dim=dim)
    out = make_output(op, vals.shape, first.dtype, first.layout, device, memory_config or first.memory_config())
    return set_values(out, vals, quantized=first.dtype not in dt.BLOCK_FLOAT_TYPES)


def deallocate(tensor: Tensor, force: bool = True) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"ttnn.deallocate expects a ttnn.Tensor, got {type(tensor).__name__}")
    tensor.deallocate(force)


def clone(
    input_tensor: Tensor, *, memory_config: Optional[MemoryConfig] = None, dtype: Optional[DataType] = None
) -> Tensor:
    op = "ttnn.clone"
    t = require_tensor(input_tensor, op, "input_tensor")
    return _copy_to(op, t, memory_config or t.memory_config(), dtype)


def fold(input, stride_h: int, stride_w: int, *, use_transpose_as_fold: bool = False, padding=None, **kwargs) -> Tensor:
    """``ttnn.fold``: space-to-depth of an NHWC row-major tensor, the golden's ``_fold_nhwc``
    (ttnn/operations/data_movement.py, wheel 0.81.1): [N, H, W, C] -> [N, H/sh, W/sw, sh * sw * C], each output row
    holding its patch's pixels row by row, channels fastest. Only the unpadded, non-transposed form is emulated."""
    from ..errors import EmulatorUnsupported

    op = "ttnn.fold"
    t = require_tensor(input, op, "input")
    device = t.require_device(op)
    if use_transpose_as_fold or (padding is not None and any(padding)) or kwargs.get("collapse_output"):
        raise EmulatorUnsupported(f"{op}: padding / use_transpose_as_fold / collapse_output are not emulated")
    check(t.layout == Layout.ROW_MAJOR, op, "fold.layout", "ttnn.fold takes a ROW_MAJOR [N, H, W, C] tensor")
    check(t.shape.rank == 4, op, "fold.rank", f"input must be [N, H, W, C], got {list(t.shape)}")
    n, h, w, c = t.shape
    check(h % stride_h == 0 and w % stride_w == 0, op, "fold.stride", f"{h}x{w} is not divisible by {stride_h}x{stride_w}")
    vals = t.values.reshape(n, h // stride_h, stride_h, w // stride_w, stride_w, c).permute(0, 1, 3, 2, 4, 5)
    vals = vals.reshape(n, h // stride_h, w // stride_w, c * stride_h * stride_w).contiguous()
    out = make_output(op, vals.shape, t.dtype, Layout.ROW_MAJOR, device, t.memory_config())
    return set_values(out, vals, quantized=True)
