"""The in-place ops a decode step uses to advance its own inputs on the device: ``ttnn.plus_one`` and ``ttnn.copy``.

Semantics (ttnn 0.81.1 wheel):
- ``plus_one``: the golden in ``ttnn/operations/data_movement.py`` and the op's docstring. In place on an INT32 or
  UINT32 ROW_MAJOR tensor of 1 to 4 dims; UINT32 wraps around (``skip_negative_entries`` has nothing to skip);
  INT32 with ``skip_negative_entries=True`` increments only entries in ``[0, INT32_MAX)``: negatives (``-1`` marks an
  idle user slot) and ``INT32_MAX`` stay as they are. Returns its input.
- ``copy``: the docstring: copies the elements of ``input_a`` into ``input_b`` (modified in place); both of equal
  shape. Both must be device tensors; the dtypes must agree (the copy does not convert, checked here as the
  emulator's reading of "copies the elements").
"""

from __future__ import annotations

import torch

from ..dtypes import DataType, Layout
from ..errors import check
from ..tensor import Tensor, require_tensor

INT32_MAX = 2**31 - 1


def plus_one(input_tensor: Tensor, *, sub_core_grids=None, skip_negative_entries: bool = False) -> Tensor:
    op = "ttnn.plus_one"
    t = require_tensor(input_tensor, op, "input_tensor")
    device = t.require_device(op)
    check(t.dtype in (DataType.INT32, DataType.UINT32), op, "plus_one.dtype",
          f"Input tensor must have INT32 or UINT32 data type, got {t.dtype.name}")
    check(t.layout == Layout.ROW_MAJOR, op, "plus_one.layout", "Input tensor must have ROW_MAJOR layout")
    check(1 <= t.shape.rank <= 4, op, "plus_one.rank", f"Input tensor must have 1 to 4 dimensions, got {t.shape.rank}")
    values = t.values.to(torch.int64)
    if t.dtype == DataType.UINT32:
        values = (values + 1) % 2**32
    elif skip_negative_entries:
        values = torch.where((values >= 0) & (values < INT32_MAX), values + 1, values)
    else:
        values = torch.where(values == INT32_MAX, torch.full_like(values, -(2**31)), values + 1)
    t._values = values.contiguous()
    device.op_log.append(op)
    return t


def copy(input_a: Tensor, input_b: Tensor) -> Tensor:
    op = "ttnn.copy"
    a = require_tensor(input_a, op, "input_a")
    b = require_tensor(input_b, op, "input_b")
    device = a.require_device(op)
    b.require_device(op)
    check(list(a.shape) == list(b.shape), op, "copy.shape",
          f"Both input tensors must be of equal shape, got {list(a.shape)} and {list(b.shape)}")
    check(a.dtype == b.dtype, op, "copy.dtype", f"input_a is {a.dtype.name} and input_b {b.dtype.name}")
    b._values = a.values.clone().reshape(tuple(b.shape)).contiguous()
    device.op_log.append(op)
    return b


TTNN_OPS = {"plus_one": plus_one, "copy": copy}
