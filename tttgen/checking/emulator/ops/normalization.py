"""``ttnn.rms_norm`` and ``ttnn.layer_norm``.

Semantics: the golden functions in ``ttnn/operations/normalization.py`` (wheel 0.81.1): optional residual add, then
``x * rsqrt(mean(x^2) + eps)`` (RMS) or ``torch.nn.functional.layer_norm`` (LN), then ``weight`` (reshaped to the
hidden width, ``_apply_affine``) and ``bias``. Default compute config HiFi4 / approx / no fp32 acc (reference §3).
Numerics (documented approximation): reductions are computed in fp32; every intermediate that the kernel keeps in
DST or in an intermediate CB (x^2 or x - mean, the mean / variance, rsqrt, the normalized value, the gamma product)
is rounded to bfloat16 unless ``fp32_dest_acc_en``; the result is packed to the output dtype.
"""

from __future__ import annotations

from typing import Optional

import torch

from .. import numerics
from ..configs import MemoryConfig
from ..tensor import Tensor, require_tensor
from ..validate import check_compute_config, norm_default_compute_config, validate_norm
from .common import dry, make_output, set_values


def _affine_param(p: Optional[Tensor], width: int) -> Optional[torch.Tensor]:
    if p is None:
        return None
    return p.values.reshape(-1)[:width].float()


def _norm(
    op: str,
    input_tensor,
    *,
    is_rms: bool,
    epsilon: float,
    weight,
    bias,
    residual_input_tensor,
    memory_config,
    program_config,
    compute_kernel_config,
) -> Tensor:
    x = require_tensor(input_tensor, op, "input_tensor")
    device = x.require_device(op)
    weight = require_tensor(weight, op, "weight") if weight is not None else None
    bias = require_tensor(bias, op, "bias") if bias is not None else None
    residual = (
        require_tensor(residual_input_tensor, op, "residual_input_tensor")
        if residual_input_tensor is not None
        else None
    )
    cfg = (
        norm_default_compute_config()
        if compute_kernel_config is None
        else check_compute_config(op, compute_kernel_config)
    )
    out_mem = memory_config if memory_config is not None else x.memory_config()
    out_mem = validate_norm(op, x, weight, bias, residual, out_mem)
    out = make_output(op, x.shape, x.dtype, x.layout, device, out_mem)
    if dry(device):
        return out

    fp32 = cfg.fp32_dest_acc_en
    r = lambda v: numerics.dst(v, fp32)  # noqa: E731
    v = x.values.float()
    if residual is not None:
        v = r(v + residual.values.float())
    eps = float(epsilon)
    if is_rms:
        sq = r(v * v)
        mean = r(sq.mean(dim=-1, keepdim=True))
        rstd = r(torch.rsqrt(mean + eps))
        y = r(v * rstd)
    else:
        mean = r(v.mean(dim=-1, keepdim=True))
        xc = r(v - mean)
        var = r(r(xc * xc).mean(dim=-1, keepdim=True))
        rstd = r(torch.rsqrt(var + eps))
        y = r(xc * rstd)
    width = x.shape[-1]
    g = _affine_param(weight, width)
    if g is not None:
        y = r(y * g)
    b = _affine_param(bias, width)
    if b is not None:
        y = r(y + b)
    return set_values(out, y)


def _norm_op(op: str, *, is_rms: bool):
    """The public norm op ``op`` (``ttnn.rms_norm`` / ``ttnn.layer_norm``, which share one signature)."""

    def norm_op(
        input_tensor: Tensor,
        *,
        epsilon: float = 1e-12,
        weight: Optional[Tensor] = None,
        bias: Optional[Tensor] = None,
        residual_input_tensor: Optional[Tensor] = None,
        memory_config: Optional[MemoryConfig] = None,
        program_config=None,
        compute_kernel_config=None,
    ) -> Tensor:
        return _norm(
            op,
            input_tensor,
            is_rms=is_rms,
            epsilon=epsilon,
            weight=weight,
            bias=bias,
            residual_input_tensor=residual_input_tensor,
            memory_config=memory_config,
            program_config=program_config,
            compute_kernel_config=compute_kernel_config,
        )

    norm_op.__name__ = norm_op.__qualname__ = op.rsplit(".", 1)[-1]
    return norm_op


rms_norm = _norm_op("ttnn.rms_norm", is_rms=True)
layer_norm = _norm_op("ttnn.layer_norm", is_rms=False)


def softmax(
    input_tensor: Tensor,
    dim: int = -1,
    *,
    memory_config: Optional[MemoryConfig] = None,
    compute_kernel_config=None,
    numeric_stable: bool = False,
) -> Tensor:
    """``ttnn.softmax``: the golden is ``torch.nn.Softmax(dim)`` (ttnn/operations/normalization.py, wheel 0.81.1).
    Numerics: exp and the row sum held as DST holds them (fp32 with fp32 accumulation), the result packed to the
    input's dtype; ``numeric_stable`` subtracts the row max first (the golden's result either way). Only the last
    dim is emulated (the kernels reduce along tile rows)."""
    from ..errors import EmulatorUnsupported

    op = "ttnn.softmax"
    x = require_tensor(input_tensor, op, "input_tensor")
    device = x.require_device(op)
    if dim not in (-1, x.shape.rank - 1):
        raise EmulatorUnsupported(f"{op}: dim={dim} is not emulated (the last dim only)")
    cfg = (
        norm_default_compute_config()
        if compute_kernel_config is None
        else check_compute_config(op, compute_kernel_config)
    )
    out = make_output(op, x.shape, x.dtype, x.layout, device, memory_config if memory_config is not None else x.memory_config())
    if dry(device):
        return out
    r = lambda v: numerics.dst(v, cfg.fp32_dest_acc_en)  # noqa: E731
    v = x.values.float()
    e = r(torch.exp(v - v.amax(dim=-1, keepdim=True)))
    return set_values(out, r(e / r(e.sum(dim=-1, keepdim=True))))
