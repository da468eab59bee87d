"""The emulated ``ttnn.Tensor``.

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
from typing import Optional, Sequence

import torch

from . import dtypes as dt
from .configs import BufferType, MemoryConfig, TensorMemoryLayout
from .device import Device, round_up
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


class Tensor:
    """Emulated ``ttnn.Tensor``."""

    __slots__ = (
        "_values",
        "_dtype",
        "_layout",
        "_mem",
        "_device",
        "_padded",
        "_deallocated",
        "_base",
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
        if device is not None and device.spec.numerics == "none" and (values.is_floating_point() or values.is_meta):
            # validation-only mode: float values are not modelled, so none is stored (a zero-stride view of one zero);
            # integer tensors keep theirs, as ops read them (token ids, positions, cache indices)
            quantized = True
            values = torch.zeros((), dtype=torch.float32).expand(tuple(values.shape))
        self._values = values if quantized else dt.quantize(values, dtype)
        self._dtype = dtype
        self._layout = layout
        self._device = device
        self._padded = tile_padded(values.shape) if layout == Layout.TILE else Shape(values.shape)
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
        self._deallocated = True

    def volume(self) -> int:
        return int(math.prod(self.shape))

    def to_torch(self) -> torch.Tensor:
        self.require_allocated("ttnn.to_torch")
        return dt.to_torch_dtype(self._values, self._dtype)

    def cpu(self, blocking: bool = True, cq_id=None) -> "Tensor":
        """The tensor read back to the host. A non-blocking read is enqueued on the device's command queue after
        everything enqueued before it; the emulator runs in order, so its values are those at this point either way."""
        if self._device is not None:
            self.require_allocated("ttnn.Tensor.cpu")
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
