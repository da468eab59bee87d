"""``ttnn.linear`` and ``ttnn.matmul``.

Semantics: the golden functions in ``ttnn/operations/matmul.py`` (wheel 0.81.1): ``input_tensor_a @
input_tensor_b`` (b transposed in its last two dims first with ``transpose_b=True``), then ``+ bias`` (linear), then the program config's ``fused_activation`` or else ``activation``.
Per the reference §1.8 an ``activation=`` argument without ``core_grid`` runs as a separate unary op after the
matmul (so it sees the packed output), while ``fused_activation`` runs on the DST value before packing.
Shapes and output placement: ``validate.plan_matmul``; numerics: ``numerics.matmul``. Whether ttnn accepts the program
config is judged by ttnn itself (``tttgen check --ttnn``), not here.
"""

from __future__ import annotations

from typing import Optional

import torch

from .. import dtypes as dt
from .. import numerics
from ..configs import MemoryConfig, UnaryOpType, UnaryWithParam
from ..dtypes import DataType, Layout
from ..errors import EmulatorUnsupported
from ..tensor import Tensor, require_tensor, view_of
from ..validate import plan_matmul
from .common import dry, make_output, numerics_mode, set_values


def _activation_from_arg(op: str, activation):
    if activation is None:
        return None
    if isinstance(activation, (UnaryWithParam, UnaryOpType)):
        return activation
    if isinstance(activation, str):
        name = activation.lower()
        table = {
            "silu": UnaryOpType.SILU,
            "relu": UnaryOpType.RELU,
            "gelu": UnaryOpType.GELU,
            "sigmoid": UnaryOpType.SIGMOID,
            "tanh": UnaryOpType.TANH,
            "relu6": UnaryOpType.RELU6,
        }
        if name in table:
            return table[name]
    raise EmulatorUnsupported(f"{op}: activation {activation!r} is not emulated")


def _run(
    op: str,
    a,
    b,
    *,
    bias=None,
    transpose_a=False,
    transpose_b=False,
    memory_config=None,
    dtype=None,
    program_config=None,
    activation=None,
    compute_kernel_config=None,
    core_grid=None,
    output_tile=None,
    optional_output_tensor=None,
) -> Tensor:
    a = require_tensor(a, op, "input_tensor_a")
    b = require_tensor(b, op, "input_tensor_b")
    if bias is not None:
        bias = require_tensor(bias, op, "bias")
    if transpose_a or output_tile is not None or optional_output_tensor is not None:
        raise EmulatorUnsupported(f"{op}: transpose_a/output_tile/optional_output_tensor are not emulated")
    if transpose_b:  # the golden: input_tensor_b.transpose(-1, -2) before the product (exact: a view of b's values)
        b = view_of(b, b.values.transpose(-1, -2))
    act_arg = _activation_from_arg(op, activation)
    plan = plan_matmul(
        op,
        a,
        b,
        bias=bias,
        program_config=program_config,
        memory_config=memory_config,
        dtype=dtype,
        compute_kernel_config=compute_kernel_config,
        activation=None,
        core_grid=core_grid,
    )
    device = a.device()
    out_dtype = dtype if dtype is not None else a.dtype
    out_shape = list(torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])) + [a.shape[-2], b.shape[-1]]
    while len(out_shape) > len(a.shape) and out_shape[0] == 1:  # as the golden: squeeze down to A's rank
        out_shape = out_shape[1:]
    out = make_output(op, out_shape, out_dtype, Layout.TILE, device, plan.out_mem)
    if dry(device):
        return out

    cfg = plan.compute
    acc = numerics.matmul(a.values, b.values, cfg, numerics_mode(device))
    if bias is not None:
        n = b.shape[-1]
        bias_row = bias.values.reshape(-1, n)[0]
        acc = numerics.dst(acc + bias_row, cfg.fp32_dest_acc_en)
    fused = plan.activation
    if fused is not None:
        acc = numerics.dst(numerics.activation_fn(fused)(acc), cfg.fp32_dest_acc_en)
    acc = acc.reshape(out_shape)
    result = dt.quantize(acc, out_dtype)
    # activation= without core_grid is a separate unary op on the packed output (reference §1.8)
    if act_arg is not None and fused is None:
        if core_grid is not None:
            result = dt.quantize(numerics.dst(numerics.activation_fn(act_arg)(acc), cfg.fp32_dest_acc_en), out_dtype)
        else:
            result = dt.quantize(numerics.activation_fn(act_arg)(result), out_dtype)
    return set_values(out, result, quantized=True)


def linear(
    input_tensor_a: Tensor,
    input_tensor_b: Tensor,
    *,
    bias: Optional[Tensor] = None,
    transpose_a: bool = False,
    transpose_b: bool = False,
    memory_config: Optional[MemoryConfig] = None,
    dtype: Optional[DataType] = None,
    program_config=None,
    activation=None,
    compute_kernel_config=None,
    core_grid=None,
    output_tile=None,
    optional_output_tensor=None,
) -> Tensor:
    return _run(
        "ttnn.linear",
        input_tensor_a,
        input_tensor_b,
        bias=bias,
        transpose_a=transpose_a,
        transpose_b=transpose_b,
        memory_config=memory_config,
        dtype=dtype,
        program_config=program_config,
        activation=activation,
        compute_kernel_config=compute_kernel_config,
        core_grid=core_grid,
        output_tile=output_tile,
        optional_output_tensor=optional_output_tensor,
    )


def matmul(
    input_tensor_a: Tensor,
    input_tensor_b: Tensor,
    *,
    transpose_a: bool = False,
    transpose_b: bool = False,
    memory_config: Optional[MemoryConfig] = None,
    dtype: Optional[DataType] = None,
    program_config=None,
    activation=None,
    compute_kernel_config=None,
    core_grid=None,
    output_tile=None,
    optional_output_tensor=None,
) -> Tensor:
    return _run(
        "ttnn.matmul",
        input_tensor_a,
        input_tensor_b,
        transpose_a=transpose_a,
        transpose_b=transpose_b,
        memory_config=memory_config,
        dtype=dtype,
        program_config=program_config,
        activation=activation,
        compute_kernel_config=compute_kernel_config,
        core_grid=core_grid,
        output_tile=output_tile,
        optional_output_tensor=optional_output_tensor,
    )
