"""Helpers shared by the op modules: output allocation, op logging and the current device spec."""

from __future__ import annotations

from typing import Optional

import torch

from .. import dtypes as dt
from ..configs import BufferType, MemoryConfig, TensorMemoryLayout
from ..device import Device
from ..dtypes import DataType, Layout
from ..tensor import Tensor

DRAM = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.DRAM)


def make_output(op: str, shape, dtype: DataType, layout: Layout, device: Device, mem: Optional[MemoryConfig]) -> Tensor:
    """Allocate the output buffer first (as the device does before the program runs); values come later."""
    placeholder = torch.zeros(tuple(shape), dtype=torch.int64 if dtype in dt.INT_TYPES else torch.float32)
    out = Tensor(placeholder, dtype, layout, device, mem if mem is not None else DRAM, op=op, quantized=True)
    device.op_log.append(op)
    return out


def set_values(out: Tensor, values: torch.Tensor, *, quantized: bool = False) -> Tensor:
    """Store the op's result, quantized to the output dtype (the packer's conversion)."""
    vals = values if quantized else dt.quantize(values, out.dtype)
    assert tuple(vals.shape) == tuple(out.shape), (tuple(vals.shape), tuple(out.shape))
    out._values = vals.contiguous()
    return out


def check_cbs(out: Tensor, device: Device, op: str, cb_bytes: int, detail: str) -> None:
    """Circular-buffer budget check after the output is allocated; a failing op releases its output buffer."""
    try:
        device.check_circular_buffers(op, cb_bytes, detail)
    except Exception:
        out.deallocate()
        raise


def numerics_mode(device: Device) -> str:
    return device.spec.numerics


def dry(device: Device) -> bool:
    """numerics="none": validate, allocate and check budgets, but leave output values at zero."""
    return device.spec.numerics == "none"
