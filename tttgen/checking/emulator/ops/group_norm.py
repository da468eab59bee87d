"""``ttnn.group_norm``.

Semantics: the golden function in ``ttnn/operations/normalization.py`` (wheel 0.81.1): the NHWC input
``[N, 1, H*W, C]`` permuted to NCHW, ``torch.nn.functional.group_norm(x.float(), num_groups, gamma, beta, eps)``,
permuted back; gamma and beta unpacked from their row-major ``[1, 1, C / 32, 32]`` packing (one core across the
channels: the first C values). Checked as the wheel's python asserts: C a multiple of 32 and of ``num_groups``; and
as its C++ validation refuses on the mock device: a TILE input needs ``inplace=False`` (the default is in place).
Numerics (documented approximation): statistics and the normalized value in fp32, the result packed to the
input's dtype.
"""

from __future__ import annotations

from typing import Optional

import torch

from ..configs import MemoryConfig
from ..dtypes import Layout
from ..errors import check
from ..tensor import Tensor, require_tensor
from ..validate import check_compute_config, require_tile_aligned
from .common import dry, make_output, set_values

OP = "ttnn.group_norm"


def _param(p: Optional[Tensor], channels: int) -> Optional[torch.Tensor]:
    if p is None:
        return None
    p = require_tensor(p, OP, "weight/bias")
    check(p.volume() >= channels, OP, "group_norm.param_shape", f"gamma/beta hold {p.volume()} values, not {channels}")
    return p.values.reshape(-1)[:channels].float()


def group_norm(
    input_tensor: Tensor,
    *,
    num_groups: int,
    epsilon: float = 1e-12,
    input_mask: Optional[Tensor] = None,
    weight: Optional[Tensor] = None,
    bias: Optional[Tensor] = None,
    memory_config: Optional[MemoryConfig] = None,
    dtype=None,
    core_grid=None,
    inplace: bool = True,
    output_layout: Optional[Layout] = None,
    num_out_blocks: Optional[int] = None,
    compute_kernel_config=None,
    negative_mask: Optional[Tensor] = None,
    use_welford: bool = False,
) -> Tensor:
    x = require_tensor(input_tensor, OP, "input_tensor")
    device = x.require_device(OP)
    require_tile_aligned(OP, x, "input_tensor")
    shape = list(x.shape)
    check(len(shape) == 4 and shape[1] == 1, OP, "group_norm.shape", f"input must be NHWC [N, 1, H*W, C], got {shape}")
    channels = shape[-1]
    check(channels % 32 == 0, OP, "group_norm.channels", f"C ({channels}) must be a multiple of 32")
    check(
        num_groups > 0 and channels % num_groups == 0,
        OP,
        "group_norm.groups",
        f"C ({channels}) must split into {num_groups} equal groups",
    )
    # ttnn 0.81.1 (groupnorm.cpp, probed on the mock device): "In-place operation not supported: Tile layout
    # requires non-inplace tensors", and inplace defaults to true.
    check(
        not (inplace and x.layout == Layout.TILE),
        OP,
        "group_norm.inplace",
        "In-place operation not supported: Tile layout requires non-inplace tensors (pass inplace=False)",
    )
    if compute_kernel_config is not None:
        check_compute_config(OP, compute_kernel_config)
    out_mem = memory_config if memory_config is not None else x.memory_config()
    out = make_output(OP, x.shape, dtype or x.dtype, x.layout, device, out_mem)
    if dry(device):
        return out
    nchw = x.values.float().permute(0, 3, 1, 2)
    gamma, beta = _param(weight, channels), _param(bias, channels)
    y = torch.nn.functional.group_norm(nchw, num_groups, gamma, beta, eps=float(epsilon))
    return set_values(out, y.permute(0, 2, 3, 1))


TTNN_OPS = {"group_norm": group_norm}
