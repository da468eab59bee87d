"""Helpers shared by the op modules: output tensors, op logging and the current device spec."""

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
    """The output tensor, placed (its memory config checked) before any value is computed; values come later."""
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


def numerics_mode(device: Device) -> str:
    return device.spec.numerics


def dry(device: Device) -> bool:
    """numerics="none": check shapes and placements, but leave output values at zero."""
    return device.spec.numerics == "none"
