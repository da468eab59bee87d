"""The emulated ``ttnn.Tensor`` and its device buffer bookkeeping.

A tensor holds its *logical* values (already quantized to its dtype) as a float32 / int64 torch tensor. TILE
tensors also have a ``padded_shape`` (last two dims rounded up to 32); the padding itself is not stored, which
is exact for every op the emulator implements because none of them lets padded rows or columns reach logical
outputs. Tile-alignment policy (see docs/emulator.md): ttnn pads any TILE tensor implicitly, but the tttgen
contract only relies on *height* padding (dim -2: padded heads, decode cos/sin rows, token rows); a TILE
tensor whose last dimension is not a multiple of 32 is rejected on creation, and each op states whether it
accepts height padding.
"""

from __future__ import annotations

import math
import weakref
from typing import Optional, Sequence

import torch

from . import dtypes as dt
from .configs import BufferType, MemoryConfig, TensorMemoryLayout
from .device import L1_ALIGNMENT, Device, round_up
from .dtypes import DataType, Layout, StorageType
from .errors import EmulatorValidationError, check, fail


class Shape(tuple):
    """``ttnn.Shape``: a tuple of ints that also compares equal to lists."""

    def __new__(cls, dims: Sequence[int] = ()):
        return super().__new__(cls, (int(d) for d in dims))

    @property
    def rank(self) -> int:
        return len(self)

    def __eq__(self, other: object) -> bool:
        try:
            return tuple(self) == tuple(int(v) for v in other)  # type: ignore[union-attr]
        except TypeError:
            return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return f"Shape({list(self)})"

    def to_rank(self, rank: int) -> "Shape":
        dims = list(self)
        while len(dims) < rank:
            dims.insert(0, 1)
        return Shape(dims)


def tile_padded(shape: Sequence[int]) -> Shape:
    dims = list(shape)
    for i in (-1, -2):
        if len(dims) >= -i:
            dims[i] = round_up(dims[i], dt.TILE_SIZE) if dims[i] else 0
    return Shape(dims)


def page_info(padded: Sequence[int], dtype: DataType, layout: Layout) -> tuple[int, int]:
    """(number of pages, page bytes) of a buffer: one page per tile, or one per row for ROW_MAJOR."""
    if layout == Layout.TILE:
        elems = math.prod(padded) if padded else 1
        return elems // (dt.TILE_SIZE * dt.TILE_SIZE), dt.TILE_BYTES[dtype]
    width = padded[-1] if padded else 1
    rows = math.prod(padded[:-1]) if len(padded) > 1 else 1
    return rows, width * dt.ELEMENT_BYTES[dtype]


def shard_bytes(shard_shape: Sequence[int], dtype: DataType, layout: Layout, alignment: int) -> int:
    sh, sw = shard_shape
    if layout == Layout.TILE:
        return (math.ceil(sh / 32) * math.ceil(sw / 32)) * dt.TILE_BYTES[dtype]
    return sh * round_up(sw * dt.ELEMENT_BYTES[dtype], alignment)


class Tensor:
    """Emulated ``ttnn.Tensor``."""

    __slots__ = (
        "_values",
        "_dtype",
        "_layout",
        "_mem",
        "_device",
        "_padded",
        "_alloc",
        "_finalizer",
        "_deallocated",
        "_base",
        "__weakref__",
    )

    def __init__(
        self,
        values: torch.Tensor,
        dtype: DataType,
        layout: Layout,
        device: Optional[Device] = None,
        memory_config: Optional[MemoryConfig] = None,
        *,
        op: str = "ttnn.Tensor",
        quantized: bool = False,
    ):
        if not isinstance(dtype, DataType):
            raise TypeError(f"{op}: dtype must be a ttnn.DataType, got {dtype!r}")
        if not isinstance(layout, Layout):
            raise TypeError(f"{op}: layout must be a ttnn.Layout, got {layout!r}")
        if dtype in dt.BLOCK_FLOAT_TYPES and layout != Layout.TILE:
            fail(op, "tensor.bfp_needs_tile", f"{dtype.name} tensors exist only in TILE layout (got {layout.name})")
        if layout == Layout.TILE:
            check(
                values.dim() >= 2,
                op,
                "tensor.tile_rank",
                f"a TILE tensor needs rank >= 2, got shape {list(values.shape)}",
            )
            check(
                values.shape[-1] % dt.TILE_SIZE == 0,
                op,
                "tensor.tile_width_alignment",
                f"TILE tensor of shape {list(values.shape)}: last dim {values.shape[-1]} is not a multiple of 32. ttnn "
                "would pad it implicitly, but the tttgen contract needs tile-aligned widths (only the height, dim -2, may "
                "be padded); pad the tensor on the host",
            )
        if not quantized and device is not None and device.spec.numerics == "none":
            quantized = True  # validation-only mode: values are not modelled
            values = values.float() if values.is_floating_point() else values.to(torch.int64)
        self._values = values if quantized else dt.quantize(values, dtype)
        self._dtype = dtype
        self._layout = layout
        self._device = device
        self._padded = tile_padded(values.shape) if layout == Layout.TILE else Shape(values.shape)
        self._alloc = None
        self._finalizer = None
        self._deallocated = False
        self._base = None
        self._mem = None
        if device is not None:
            mem = (
                memory_config
                if memory_config is not None
                else MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.DRAM)
            )
            from .validate import validate_tensor_placement

            validate_tensor_placement(op, mem, self._padded, dtype, layout, device)
            self._mem = mem
            self._allocate(op)

    # allocation --------------------------------------------------------------------------------------
    def _buffer_geometry(self) -> tuple[int, int, int]:
        """(per-bank bytes, total bytes, number of banks) of this tensor's device buffer."""
        dev = self._device
        mem = self._mem
        assert dev is not None and mem is not None
        alignment = L1_ALIGNMENT if mem.buffer_type == BufferType.L1 else dev.dram_alignment
        if mem.is_sharded():
            spec = mem.shard_spec
            per_bank = shard_bytes(spec.shape, self._dtype, self._layout, alignment)
            return per_bank, per_bank * spec.num_cores(), spec.num_cores()
        pages, page = page_info(self._padded, self._dtype, self._layout)
        banks = dev.num_l1_banks if mem.buffer_type == BufferType.L1 else dev.spec.dram_banks
        page = round_up(page, alignment)
        return math.ceil(pages / banks) * page, pages * page, banks

    def _allocate(self, op: str) -> None:
        per_bank, total, banks = self._buffer_geometry()
        desc = f"{op} -> {self._dtype.name} {self._layout.name} {list(self._padded)} {self._mem.memory_layout.name}"
        key = self._device.allocate(op, self._mem.buffer_type, per_bank, total, banks, desc)
        self._alloc = key
        self._finalizer = weakref.finalize(self, self._device.free, key)

    def _free(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._alloc = None

    # ttnn surface ------------------------------------------------------------------------------------
    @property
    def shape(self) -> Shape:
        return Shape(self._values.shape)

    @property
    def logical_shape(self) -> Shape:
        return self.shape

    @property
    def padded_shape(self) -> Shape:
        return self._padded

    @property
    def dtype(self) -> DataType:
        return self._dtype

    def get_dtype(self) -> DataType:
        return self._dtype

    @property
    def layout(self) -> Layout:
        return self._layout

    def get_layout(self) -> Layout:
        return self._layout

    def memory_config(self) -> MemoryConfig:
        if self._mem is None:
            raise RuntimeError("memory_config() of a host tensor: the tensor is not on a device")
        return self._mem

    def device(self) -> Optional[Device]:
        return self._device

    def storage_type(self) -> StorageType:
        return StorageType.DEVICE if self._device is not None else StorageType.HOST

    def is_sharded(self) -> bool:
        return self._mem is not None and self._mem.is_sharded()

    def shard_spec(self):
        return self._mem.shard_spec if self._mem is not None else None

    def is_allocated(self) -> bool:
        if self._base is not None:
            return not self._deallocated and self._base.is_allocated()
        return not self._deallocated

    def deallocate(self, force: bool = True) -> None:
        if self._base is not None:  # a view shares its base's buffer
            self._base.deallocate(force)
        self._free()
        self._deallocated = True

    def volume(self) -> int:
        return int(math.prod(self.shape))

    def to_torch(self) -> torch.Tensor:
        self.require_allocated("ttnn.to_torch")
        return dt.to_torch_dtype(self._values, self._dtype)

    def cpu(self) -> "Tensor":
        return Tensor(self._values, self._dtype, self._layout, None, None, quantized=True)

    def __repr__(self) -> str:
        where = "host" if self._device is None else f"{self._mem.buffer_type.name} {self._mem.memory_layout.name}"
        return f"ttnn.Tensor(shape={list(self.shape)}, dtype={self._dtype.name}, layout={self._layout.name}, {where})"

    # helpers for ops ---------------------------------------------------------------------------------
    @property
    def values(self) -> torch.Tensor:
        return self._values

    def require_allocated(self, op: str) -> None:
        if not self.is_allocated():
            fail(op, "tensor.deallocated", "Input tensor must be allocated in a buffer on device! (it was deallocated)")

    def require_device(self, op: str) -> Device:
        self.require_allocated(op)
        if self._device is None:
            fail(op, "tensor.on_device", "Operands need to be on device! (got a host tensor)")
        if not self._device.is_open:
            fail(op, "device.closed", "the tensor's device was closed with ttnn.close_device")
        return self._device


def view_of(base: Tensor, values: torch.Tensor) -> Tensor:
    """A tensor sharing ``base``'s device buffer (ttnn's in-place reshape); it keeps the base alive."""
    v = Tensor(values, base.dtype, base.layout, None, None, op="ttnn.reshape", quantized=True)
    v._device = base._device
    v._mem = base._mem
    v._base = base
    return v


def new_tensor(
    values: torch.Tensor,
    dtype: DataType,
    layout: Layout,
    device: Optional[Device],
    memory_config: Optional[MemoryConfig],
    op: str,
    *,
    quantized: bool = False,
) -> Tensor:
    return Tensor(values, dtype, layout, device, memory_config, op=op, quantized=quantized)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def require_tensor(obj, op: str, name: str) -> Tensor:
    if not isinstance(obj, Tensor):
        raise EmulatorValidationError(op, "arg.type", f"{name} must be a ttnn.Tensor, got {type(obj).__name__}")
    obj.require_allocated(op)
    return obj
