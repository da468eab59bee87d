"""Numeric models of the Tensix FPU used by the emulated ops.

Math fidelity (tt-metal ``tech_reports/matrix_engine/matrix_engine.md``): the multipliers are 5 bit (SrcA) x 7 bit
(SrcB). "LoFi -> SrcA register: uses 1 hidden bit + 4 most significant bits of the mantissa, SrcB register: uses 1
hidden bit + 6 MSB of the mantissa; HiFi2 -> SrcA: 1 hidden bit + next 4 bits of LSBs, SrcB: 1 hidden bit + 6 MSB;
HiFi3 -> SrcA: 4 MSB, SrcB: next 6 LSB; HiFi4 -> SrcA: next 4 LSBs, SrcB: next 6 LSB", the passes being summed.
For matmul the LLK unpacks "In0 -> srcB, In1 -> srcA" (tt-metal ``llk_api/llk_unpack_AB_matmul_api.h``), so the
activation (in0) keeps 6 fraction bits per pass and the weight (in1) 4. The emulator splits every operand into
``hi`` (hidden + 4 or 6 fraction bits, truncated toward zero) and ``lo`` (the next 4 or 6 bits) and sums the
products of the passes the fidelity runs: LoFi ``hi*hi``; HiFi2 ``+ in1.lo*in0.hi``; HiFi3 ``+ in1.hi*in0.lo``;
HiFi4 all four. Operands enter SrcA/SrcB as 19-bit values (10 fraction bits, truncated); bf16 and block-float
operands are exact there, so HiFi4 is exact for them and HiFi2 is exact for a bf16 activation times a bfp8 weight
except for the activation's 7th fraction bit.

Accumulation: with ``fp32_dest_acc_en`` the destination register holds fp32 and the emulator accumulates in fp32.
Without it DST holds 16-bit Float16_b values, and every FPU matmul instruction (8x16 @ 16x16, i.e. 16 elements of
K, matrix_engine.md) adds into DST; the emulator therefore rounds the running sum to bfloat16 (round to nearest
even - an assumption, the DST write rounding mode is not documented in the sources read) after every 16-element
slice of K ("device" numerics). The partials that cross K blocks (``packer_l1_acc`` or reload) are Float16_b in
this mode too, so they add no further error. ``numerics="fast"`` keeps the fidelity model but accumulates in fp32.
Bias and fused activations are applied to the DST value (rounded to bf16 again without fp32 acc), then the result
is quantized to the output dtype by the packer (same algorithms as host conversion, ``dtypes.quantize``).
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch

from . import dtypes as dt
from .configs import FIDELITY_PASSES, MathFidelity, UnaryOpType, UnaryWithParam, WormholeComputeKernelConfig

SRC_REG_FRACTION_BITS = 10
SRCA_PASS_BITS = 4  # in1
SRCB_PASS_BITS = 6  # in0
K_SLICE = 16

NUMERICS_MODES = ("device", "fast", "none")


def _hi(x: torch.Tensor, pass_bits: int) -> torch.Tensor:
    """The source register's value (SRC_REG_FRACTION_BITS) cut to one pass's bits. Truncation is a bit mask, so
    cutting to the register's bits first changes nothing: one mask does both."""
    return dt.truncate_mantissa(x, min(pass_bits, SRC_REG_FRACTION_BITS))


def _split(x: torch.Tensor, pass_bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    hi = _hi(x, pass_bits)
    lo = dt.truncate_mantissa(x, min(2 * pass_bits, SRC_REG_FRACTION_BITS)) - hi
    return hi, lo


def fidelity_operands(
    in0: torch.Tensor, in1: torch.Tensor, fidelity: MathFidelity
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs (in0_part, in1_part) whose matmul products sum to what the given fidelity computes. Only the parts a
    fidelity uses are computed (the emulator's matmuls spend much of their time here)."""
    passes = FIDELITY_PASSES[fidelity]
    a, b = in0.float(), in1.float()
    if passes == 1:
        return [(_hi(a, SRCB_PASS_BITS), _hi(b, SRCA_PASS_BITS))]
    b_hi, b_lo = _split(b, SRCA_PASS_BITS)
    if passes == 2:
        return [(_hi(a, SRCB_PASS_BITS), b_hi + b_lo)]
    a_hi, a_lo = _split(a, SRCB_PASS_BITS)
    if passes == 3:
        return [(a_hi, b_hi + b_lo), (a_lo, b_hi)]
    return [(a_hi + a_lo, b_hi + b_lo)]


def fidelity_mul(a: torch.Tensor, b: torch.Tensor, fidelity: MathFidelity) -> torch.Tensor:
    """Elementwise FPU multiply (a in SrcA, b in SrcB) under the same pass model."""
    a_hi, a_lo = _split(a.float(), SRCA_PASS_BITS)
    b_hi, b_lo = _split(b.float(), SRCB_PASS_BITS)
    passes = FIDELITY_PASSES[fidelity]
    out = a_hi * b_hi
    if passes >= 2:
        out = out + a_lo * b_hi
    if passes >= 3:
        out = out + a_hi * b_lo
    if passes >= 4:
        out = out + a_lo * b_lo
    return out


def dst(x: torch.Tensor, fp32_dest_acc_en: bool) -> torch.Tensor:
    """Value as held by the destination register."""
    return x.float() if fp32_dest_acc_en else dt.round_bf16(x)


def _accumulate_bf16(pairs, K: int) -> torch.Tensor:
    acc: Optional[torch.Tensor] = None
    n_slices = K // K_SLICE if K % K_SLICE == 0 else math.ceil(K / K_SLICE)
    for a_part, b_part in pairs:
        nd = max(a_part.dim(), b_part.dim())
        a_part = a_part.reshape((1,) * (nd - a_part.dim()) + tuple(a_part.shape))
        b_part = b_part.reshape((1,) * (nd - b_part.dim()) + tuple(b_part.shape))
        m, n = a_part.shape[-2], b_part.shape[-1]
        batch = torch.broadcast_shapes(a_part.shape[:-2], b_part.shape[:-2])
        # group slices so that one batched product stays below ~64 MB
        per_slice = max(1, math.prod(batch) * m * n * 4)
        group = max(1, min(n_slices, (64 << 20) // per_slice))
        for g0 in range(0, n_slices, group):
            g1 = min(n_slices, g0 + group)
            k0, k1 = g0 * K_SLICE, min(K, g1 * K_SLICE)
            a_blk = a_part[..., k0:k1]
            b_blk = b_part[..., k0:k1, :]
            cnt = g1 - g0
            if (k1 - k0) == cnt * K_SLICE:
                a_v = a_blk.reshape(*a_blk.shape[:-1], cnt, K_SLICE).movedim(-2, 0)
                b_v = b_blk.reshape(*b_blk.shape[:-2], cnt, K_SLICE, n).movedim(-3, 0)
                partials = torch.matmul(a_v, b_v)
            else:
                partials = torch.stack(
                    [
                        torch.matmul(
                            a_blk[..., i * K_SLICE : (i + 1) * K_SLICE], b_blk[..., i * K_SLICE : (i + 1) * K_SLICE, :]
                        )
                        for i in range(cnt)
                    ]
                )
            for i in range(cnt):
                acc = partials[i] if acc is None else acc + partials[i]
                acc = dt.round_bf16(acc)
    assert acc is not None
    return acc


def matmul(
    in0: torch.Tensor, in1: torch.Tensor, cfg: WormholeComputeKernelConfig, numerics: str = "device"
) -> torch.Tensor:
    """in0 @ in1 as the FPU computes it, before bias / activation / packing. Returns the DST value (float32)."""
    pairs = fidelity_operands(in0, in1, cfg.math_fidelity)
    if cfg.fp32_dest_acc_en or numerics == "fast":
        out = None
        for a_part, b_part in pairs:
            p = torch.matmul(a_part, b_part)
            out = p if out is None else out + p
        return dst(out, cfg.fp32_dest_acc_en)
    return _accumulate_bf16(pairs, in0.shape[-1])


def activation_fn(act) -> Callable[[torch.Tensor], torch.Tensor]:
    op = act.op_type if isinstance(act, UnaryWithParam) else act
    params = act.params if isinstance(act, UnaryWithParam) else []
    f = torch.nn.functional
    table = {
        UnaryOpType.SILU: f.silu,
        UnaryOpType.RELU: f.relu,
        UnaryOpType.RELU6: f.relu6,
        UnaryOpType.SIGMOID: torch.sigmoid,
        UnaryOpType.TANH: torch.tanh,
        UnaryOpType.MISH: f.mish,
        UnaryOpType.LOG: torch.log,
        UnaryOpType.EXP: torch.exp,
        UnaryOpType.SQRT: torch.sqrt,
        UnaryOpType.SOFTPLUS: f.softplus,
        UnaryOpType.HARDSIGMOID: f.hardsigmoid,
        UnaryOpType.GELU_TANH: lambda x: f.gelu(x, approximate="tanh"),
        UnaryOpType.IDENTITY: lambda x: x,
    }
    if op == UnaryOpType.GELU:
        approx = bool(params and params[0])
        return (lambda x: f.gelu(x, approximate="tanh")) if approx else f.gelu
    if op not in table:
        raise ValueError(f"activation {op!r} is not emulated")
    return table[op]
