"""``ttnn.argmax``: golden ``torch.argmax`` (indices of the maximum, the first on ties); the docstring of ttnn 0.81.1
gives the contract checked here: an interleaved device input; a last-dim reduction takes ROW_MAJOR (bf16, fp32,
int32, uint32, uint16) or TILE (bf16, fp32) input; the output is UINT32, ROW_MAJOR, interleaved."""

from __future__ import annotations

from typing import Optional

import torch

from ..configs import MemoryConfig
from ..dtypes import DataType, Layout
from ..errors import check
from ..tensor import Tensor, require_tensor
from .common import make_output, set_values

ROW_MAJOR_DTYPES = (DataType.BFLOAT16, DataType.FLOAT32, DataType.INT32, DataType.UINT32, DataType.UINT16)
TILE_DTYPES = (DataType.BFLOAT16, DataType.FLOAT32)


def argmax(
    input_tensor: Tensor,
    dim: Optional[int] = None,
    *,
    keepdim: bool = False,
    sub_core_grids=None,
    use_multicore: bool = False,
    memory_config: Optional[MemoryConfig] = None,
    output_tensor=None,
    enable_secondary_dm=None,
    queue_id=None,
) -> Tensor:
    op = "ttnn.argmax"
    t = require_tensor(input_tensor, op, "input_tensor")
    device = t.require_device(op)
    check(not t.is_sharded(), op, "argmax.interleaved", "the input must be INTERLEAVED (sharded is not supported)")
    check(output_tensor is None, op, "argmax.output_tensor", "output_tensor= is not emulated")
    rank = len(t.shape)
    if dim is None:
        check(t.layout == Layout.ROW_MAJOR, op, "argmax.dim_none_layout", "dim=None takes ROW_MAJOR input only")
    else:
        dim = dim % rank
        check(dim == rank - 1, op, "argmax.dim", f"only the last dim is emulated (got dim {dim} of rank {rank})")
        allowed = ROW_MAJOR_DTYPES if t.layout == Layout.ROW_MAJOR else TILE_DTYPES
        check(t.dtype in allowed, op, "argmax.dtype", f"{t.layout.name} input of {t.dtype.name} is not supported")
    values = t.values.float()
    if dim is None:
        ids = torch.argmax(values.reshape(-1)).reshape(())
    else:
        ids = torch.argmax(values, dim=dim, keepdim=keepdim)
    mem = memory_config if memory_config is not None else t.memory_config()
    out = make_output(op, ids.shape, DataType.UINT32, Layout.ROW_MAJOR, device, mem)
    return set_values(out, ids.to(torch.int64), quantized=True)
