"""Tensors made on the device and their repeats: ``ttnn.arange`` and ``ttnn.repeat_interleave`` (the attention
written out as ops builds its mask from them, tttgen/ops/kinds/sdpa_explicit.py).

Semantics (ttnn 0.81.1 wheel goldens):
- ``arange``: ``ttnn/operations/creation.py``: ``torch.arange(start, end, step)`` cast to the requested dtype (device,
  layout and memory config dropped by the golden). Output ``[ceil((end - start) / step)]`` in ``layout`` (ROW_MAJOR
  unless given), on ``device``; the emulator makes ROW_MAJOR ones only (its TILE tensors have rank >= 2).
- ``repeat_interleave``: ``ttnn/operations/data_movement.py``: ``torch.repeat_interleave(tensor, repeats, dim=dim)``.
  An int ``repeats`` only (a tensor of repeats is not emulated). The output keeps the input's dtype and layout; its
  memory config is ``memory_config`` or the input's.

Both were accepted by the real ttnn on the mock n150 in the forms the generated code uses (float32 ROW_MAJOR arange reshaped and tilized;
repeat_interleave of TILE bfloat16 heads along dim 1 and of float32 positions along dim 2).
"""

from __future__ import annotations

import math
from typing import Optional

import torch

from ..configs import MemoryConfig
from ..dtypes import DataType, Layout
from ..errors import EmulatorUnsupported, check
from ..tensor import Tensor, require_tensor
from .common import DRAM, dry, make_output, set_values


def arange(
    start: int = 0,
    end: Optional[int] = None,
    step: int = 1,
    *,
    dtype: DataType = DataType.BFLOAT16,
    device=None,
    layout: Layout = Layout.ROW_MAJOR,
    memory_config: Optional[MemoryConfig] = None,
) -> Tensor:
    op = "ttnn.arange"
    if end is None:  # arange(end)
        start, end = 0, start
    check(device is not None, op, "arange.device", "the emulator places arange on a device: pass device=")
    check(step != 0, op, "arange.step", "step must be nonzero")
    n = max(0, math.ceil((end - start) / step))
    if layout != Layout.ROW_MAJOR:
        raise EmulatorUnsupported(f"{op}: a TILE arange (rank 1) is not emulated; make it ROW_MAJOR and tilize a reshape")
    out = make_output(op, [n], dtype, layout, device, memory_config if memory_config is not None else DRAM)
    if dry(device):
        return out
    return set_values(out, torch.arange(start, end, step, dtype=torch.float64).float())


def repeat_interleave(input_tensor: Tensor, repeats, dim: int = 0, *, memory_config: Optional[MemoryConfig] = None) -> Tensor:
    op = "ttnn.repeat_interleave"
    t = require_tensor(input_tensor, op, "input_tensor")
    device = t.require_device(op)
    if not isinstance(repeats, int) or isinstance(repeats, bool):
        raise EmulatorUnsupported(f"{op}: only an int repeats is emulated, got {type(repeats).__name__}")
    check(repeats > 0, op, "repeat_interleave.repeats", f"repeats must be positive, got {repeats}")
    rank = t.shape.rank
    check(-rank <= dim < rank, op, "repeat_interleave.dim", f"dim {dim} is out of range for rank {rank}")
    vals = torch.repeat_interleave(t.values, repeats, dim=dim)
    out = make_output(op, list(vals.shape), t.dtype, t.layout, device, memory_config or t.memory_config())
    if dry(device):
        return out
    return set_values(out, vals, quantized=True)


TTNN_OPS = {"arange": arange, "repeat_interleave": repeat_interleave}
