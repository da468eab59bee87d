"""``ttnn.embedding``: golden ``torch.nn.functional.embedding(input_tensor.to(torch.int64), weight)``
(``ttnn/operations/embedding.py``, wheel 0.81.1); ids ``[B, T]`` -> ``[B, T, dim]``; values are copied exactly
(then packed to ``dtype`` if given)."""

from __future__ import annotations

from typing import Optional

import torch

from ..configs import MemoryConfig
from ..dtypes import DataType, Layout
from ..errors import check
from ..tensor import Tensor, require_tensor
from .common import make_output, set_values


def embedding(
    input_tensor: Tensor,
    weight: Tensor,
    *,
    padding_idx: Optional[int] = None,
    layout: Layout = Layout.ROW_MAJOR,
    embeddings_type=None,
    dtype: Optional[DataType] = None,
    memory_config: Optional[MemoryConfig] = None,
    output_tensor=None,
    queue_id=None,
) -> Tensor:
    op = "ttnn.embedding"
    ids = require_tensor(input_tensor, op, "input_tensor")
    w = require_tensor(weight, op, "weight")
    device = ids.require_device(op)
    w.require_device(op)
    check(
        ids.dtype in (DataType.UINT32, DataType.INT32, DataType.BFLOAT16),
        op,
        "embedding.ids_dtype",
        f"input ids must be UINT32 (or INT32/BFLOAT16), got {ids.dtype.name}",
    )
    check(output_tensor is None, op, "embedding.output_tensor", "output_tensor= is not emulated")
    vocab = w.shape[-2]
    dim = w.shape[-1]
    check(
        w.volume() == vocab * dim,
        op,
        "embedding.weight_shape",
        f"weight must be [vocab, dim] (leading dims 1), got {list(w.shape)}",
    )
    idx = ids.values.to(torch.int64)
    check(
        bool((idx >= 0).all()) and bool((idx < vocab).all()),
        op,
        "embedding.ids_range",
        f"token ids must lie in [0, {vocab})",
    )
    table = w.values.reshape(vocab, dim)
    vals = torch.nn.functional.embedding(idx, table, padding_idx=padding_idx)
    out_dtype = dtype if dtype is not None else w.dtype
    # docstring: memory_config "Defaults to `input tensor memory config`"
    out = make_output(
        op, vals.shape, out_dtype, layout, device, memory_config if memory_config is not None else ids.memory_config()
    )
    return set_values(out, vals, quantized=(out_dtype == w.dtype))
