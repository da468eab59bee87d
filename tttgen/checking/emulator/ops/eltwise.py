"""Elementwise ops: ``ttnn.add``, ``ttnn.subtract``, ``ttnn.multiply`` / ``ttnn.mul``, ``ttnn.divide``, the
comparisons ``ttnn.lt`` and ``ttnn.ge``, ``ttnn.silu`` and the unary ops of ``UNARY``.

Semantics: ``ttnn/operations/binary.py`` goldens (``apply_activations`` on operand a, then ``a + b`` / ``a * b``, then
output activations) and ``ttnn/operations/unary.py`` (``silu`` -> ``torch.nn.functional.silu``). Numerics
(documented approximation): an operand activation is evaluated in fp32 and rounded to bfloat16 (its result is held
in DST / an intermediate CB), the binary op is exact in fp32 and the result is rounded as DST holds it (bf16 unless
the output is fp32) and packed to the output dtype. The eltwise multiply's math fidelity is not modelled (the
default binary kernels are treated as exact; bf16 x bf16 products fit fp32 exactly).
"""

from __future__ import annotations

from typing import Optional

import torch

from .. import numerics
from ..configs import MemoryConfig, UnaryOpType, UnaryWithParam
from ..dtypes import DataType, Layout
from ..errors import check, fail
from ..tensor import Tensor, require_tensor
from ..validate import infer_width_sharded_output, require_tile_aligned
from .common import dry, make_output, set_values


def _acts(op: str, acts) -> list:
    if acts is None:
        return []
    if isinstance(acts, (UnaryOpType, UnaryWithParam)):
        return [acts]
    out = []
    for a in acts:
        if not isinstance(a, (UnaryOpType, UnaryWithParam)):
            fail(
                op, "eltwise.activation_type", f"activations must be ttnn.UnaryOpType / ttnn.UnaryWithParam, got {a!r}"
            )
        out.append(a)
    return out


def _apply(acts, v: torch.Tensor, keep_fp32: bool) -> torch.Tensor:
    for a in acts:
        v = numerics.dst(numerics.activation_fn(a)(v), keep_fp32)
    return v


def _binary(
    op: str,
    a,
    b,
    fn,
    *,
    dtype,
    memory_config,
    output_tensor,
    activations,
    input_tensor_a_activations,
    input_tensor_b_activations,
) -> Tensor:
    a = require_tensor(a, op, "input_tensor_a")
    device = a.require_device(op)
    if output_tensor is not None:
        fail(op, "eltwise.output_tensor", "output_tensor= is not emulated")
    b_is_tensor = isinstance(b, Tensor)
    if b_is_tensor:
        b = require_tensor(b, op, "input_tensor_b")
        b.require_device(op)
        check(b.device() is device, op, "device.same", "Operands need to be on the same device!")
        check(
            a.layout == b.layout,
            op,
            "eltwise.layout",
            f"operands must share a layout ({a.layout.name} vs {b.layout.name})",
        )
        try:
            out_shape = torch.broadcast_shapes(tuple(a.shape), tuple(b.shape))
        except RuntimeError:
            fail(op, "eltwise.broadcast", f"shapes {list(a.shape)} and {list(b.shape)} are not broadcastable")
        # either operand may be broadcast (ttnn 0.81.1 accepts [K, 1, H, 32] - [K, W, 1, 32]; the real ttnn judges)
    elif not isinstance(b, (int, float)):
        fail(op, "eltwise.b_type", f"input_tensor_b must be a ttnn.Tensor or a scalar, got {type(b).__name__}")
    # An interleaved operand may have a tile-padded height (Boltz's token mask [1, 1, 1, n]): ttnn computes the whole
    # padded tile and the logical rows are exact. Sharded ones must be aligned: their shard specs count whole rows.
    if a.layout == Layout.TILE and a.is_sharded():
        require_tile_aligned(op, a, "input_tensor_a")
        if b_is_tensor and tuple(b.shape) == tuple(a.shape):
            require_tile_aligned(op, b, "input_tensor_b")
    out_dtype = dtype if dtype is not None else a.dtype
    mem = memory_config if memory_config is not None else a.memory_config()
    mem = infer_width_sharded_output(op, mem, a)
    out = make_output(op, out_shape if b_is_tensor else a.shape, out_dtype, a.layout, device, mem)
    if dry(device):
        return out
    keep = out_dtype == DataType.FLOAT32
    va = _apply(_acts(op, input_tensor_a_activations), a.values.float(), keep)
    vb = b.values.float() if b_is_tensor else torch.tensor(float(b))
    vb = _apply(_acts(op, input_tensor_b_activations), vb, keep)
    res = numerics.dst(fn(va, vb), keep)
    res = _apply(_acts(op, activations), res, keep)
    return set_values(out, res)


def _binary_op(op: str, fn):
    """The public op ``op`` computing ``fn(a, b)`` (``ttnn.add`` and ``ttnn.multiply`` share one signature)."""

    def binary_op(
        input_tensor_a: Tensor,
        input_tensor_b,
        *,
        dtype: Optional[DataType] = None,
        memory_config: Optional[MemoryConfig] = None,
        output_tensor=None,
        activations=None,
        input_tensor_a_activations=None,
        input_tensor_b_activations=None,
        use_legacy=None,
        sub_core_grids=None,
    ) -> Tensor:
        return _binary(
            op,
            input_tensor_a,
            input_tensor_b,
            fn,
            dtype=dtype,
            memory_config=memory_config,
            output_tensor=output_tensor,
            activations=activations,
            input_tensor_a_activations=input_tensor_a_activations,
            input_tensor_b_activations=input_tensor_b_activations,
        )

    binary_op.__name__ = binary_op.__qualname__ = op.rsplit(".", 1)[-1]
    return binary_op


add = _binary_op("ttnn.add", lambda x, y: x + y)
multiply = _binary_op("ttnn.multiply", lambda x, y: x * y)


subtract = _binary_op("ttnn.subtract", lambda x, y: x - y)
divide = _binary_op("ttnn.divide", lambda x, y: x / y)


def mul(input_tensor_a: Tensor, input_tensor_b, **kwargs) -> Tensor:
    return multiply(input_tensor_a, input_tensor_b, **kwargs)


def _unary_op(op: str, fn):
    """The public unary op ``op`` computing ``fn(x)`` in fp32, rounded as DST holds it (ttnn/operations/unary.py)."""

    def unary_op(
        input_tensor: Tensor, *, memory_config: Optional[MemoryConfig] = None, output_tensor=None, sub_core_grids=None
    ) -> Tensor:
        x = require_tensor(input_tensor, op, "input_tensor")
        device = x.require_device(op)
        check(output_tensor is None, op, "eltwise.output_tensor", "output_tensor= is not emulated")
        if x.layout == Layout.TILE and x.is_sharded():  # interleaved: a padded height is exact (see _binary)
            require_tile_aligned(op, x, "input_tensor")
        mem = infer_width_sharded_output(op, memory_config if memory_config is not None else x.memory_config(), x)
        out = make_output(op, x.shape, x.dtype, x.layout, device, mem)
        if dry(device):
            return out
        return set_values(out, numerics.dst(fn(x.values.float()), x.dtype == DataType.FLOAT32))

    unary_op.__name__ = unary_op.__qualname__ = op.rsplit(".", 1)[-1]
    return unary_op


silu = _unary_op("ttnn.silu", torch.nn.functional.silu)
# The unary ops a module description's `unary` kind and `a_activation` name, and ttnn-jit blocks run eagerly.
UNARY = {
    "relu": torch.nn.functional.relu,
    "gelu": torch.nn.functional.gelu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "exp": torch.exp,
    "neg": torch.neg,
    "sqrt": torch.sqrt,
    "rsqrt": torch.rsqrt,
    "reciprocal": torch.reciprocal,
    "square": torch.square,
    "cos": torch.cos,  # ttnn's golden for ttnn.cos
}
UNARY_OPS = {name: _unary_op(f"ttnn.{name}", fn) for name, fn in UNARY.items()}


def softcap(
    input_tensor: Tensor,
    beta: float,
    *,
    memory_config: Optional[MemoryConfig] = None,
    output_tensor=None,
    sub_core_grids=None,
) -> Tensor:
    """``ttnn.softcap(input_tensor, beta)``: ``beta * tanh(input_tensor / beta)`` element-wise (its docstring in ttnn
    0.81.1), computed in fp32 and rounded as DST holds it; beta must be non-zero."""
    op = "ttnn.softcap"
    check(
        isinstance(beta, (int, float)) and not isinstance(beta, bool) and beta != 0,
        op,
        "softcap.beta",
        f"beta must be a non-zero number, got {beta!r}",
    )
    cap = float(beta)
    return _unary_op(op, lambda v: cap * torch.tanh(v / cap))(
        input_tensor, memory_config=memory_config, output_tensor=output_tensor, sub_core_grids=sub_core_grids
    )


# Comparisons (ttnn/operations/binary.py goldens: torch.lt / torch.ge, cast back to the input's dtype by
# `_with_binary_output_dtype`): 1.0 where the comparison holds, 0.0 elsewhere, in operand a's dtype.
lt = _binary_op("ttnn.lt", lambda x, y: (x < y).float())
ge = _binary_op("ttnn.ge", lambda x, y: (x >= y).float())

TTNN_OPS = {"softcap": softcap, "lt": lt, "ge": ge}
