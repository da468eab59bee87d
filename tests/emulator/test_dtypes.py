"""Value quantization: bfloat16 rounding and the bfloat8_b / bfloat4_b block formats.

The scalar reference below follows tt-metal ``tt_metal/impl/data_format/blockfloat_common.cpp`` step by step
(``get_max_exp``, ``convert_u32_to_bfp<fmt, false>``, ``convert_bfp_to_u32``) on Python ints, to check the vectorized
emulator code against an independent transcription.
"""

from __future__ import annotations

import struct

import pytest
import torch

from tttgen.checking.emulator import dtypes as dt


def _f2u(f: float) -> int:
    return struct.unpack("<I", struct.pack("<f", f))[0]


def _u2f(u: int) -> float:
    return struct.unpack("<f", struct.pack("<I", u & 0xFFFFFFFF))[0]


def _ref_encode(u: int, shared_exp: int, width: int) -> int:
    if (u & 0x7FFFFFFF) == 0:
        return 0
    mant = (u & 0x7FFFFF) | (1 << 23)
    exp = (u >> 23) & 0xFF
    sign = u >> 31
    if shared_exp > exp:
        diff = shared_exp - exp
        while diff > 31:
            mant >>= 31
            diff -= 31
        mant >>= diff
    shift = 24 - width
    round_value = mant & ((1 << shift) - 1)
    mant >>= shift
    guard = mant & 1
    tie = 1 << (shift - 1)
    if round_value > tie or (round_value == tie and guard == 1):
        mant += 1
    mant = min(mant, (1 << width) - 1)
    if mant == 0:
        sign = 0
    return (sign << width) | mant


def _ref_decode(data: int, shared_exp: int, width: int) -> float:
    sign = data >> width
    man = data & ((1 << width) - 1)
    if man == 0:
        return 0.0
    # value = man * 2^(shared_exp - 127 - (width - 1)); convert_bfp_to_u32 renormalizes to the same number
    return (-1.0 if sign else 1.0) * man * 2.0 ** (shared_exp - 127 - (width - 1))


def ref_bfp(values: list[float], width: int) -> list[float]:
    out = []
    for i in range(0, len(values), 16):
        row = [_f2u(v) for v in values[i : i + 16]]
        shared = max((u >> 23) & 0xFF for u in row)
        out.extend(_ref_decode(_ref_encode(u, shared, width), shared, width) for u in row)
    return out


@pytest.mark.parametrize("dtype,width", [(dt.DataType.BFLOAT8_B, 7), (dt.DataType.BFLOAT4_B, 3)])
def test_bfp_matches_scalar_reference(dtype, width):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 64, generator=g) * torch.exp(torch.randn(4, 64, generator=g) * 3)
    x[0, :16] = 0.0
    x[1, 3] = -0.0
    x[2, 16:32] = torch.tensor([1.0, 1.0 + 2**-7, 1.0 + 3 * 2**-8, 1.0 + 2**-8] * 4)  # ties and half-ulps
    x[3, 32:48] = torch.tensor([1.9999] * 16)  # saturation instead of exponent carry
    got = dt.quantize(x, dtype)
    want = torch.tensor(ref_bfp(x.reshape(-1).tolist(), width)).reshape(x.shape)
    assert torch.equal(got, want)


def test_bfp8_examples():
    # one face row: shared exponent of 8.0 (2^3); 7-bit mantissa steps of 2^(3-6) = 1/8
    row = torch.tensor([8.0, 1.0, 0.0625, -3.3] + [0.0] * 12)
    q = dt.quantize(row, dt.DataType.BFLOAT8_B)
    assert q[0] == 8.0
    assert q[1] == 1.0
    assert q[2] == 0.0  # 0.0625 < half a step (1/16) -> rounds to 0 (exactly half would tie to even 0)
    assert q[3] == -3.25
    # rows are 16 wide: a large value in columns 16..31 does not affect columns 0..15
    two = torch.zeros(1, 32)
    two[0, 0] = 0.01
    two[0, 20] = 1000.0
    q2 = dt.quantize(two, dt.DataType.BFLOAT8_B)
    assert abs(float(q2[0, 0]) - 0.01) < 1e-4
    # bfp4: 3-bit mantissa, shared exponent of 1.0 -> steps of 0.25
    r4 = dt.quantize(torch.tensor([1.0, 0.3, 0.375, 1.9] + [0.0] * 12), dt.DataType.BFLOAT4_B)
    assert r4.tolist()[:4] == [1.0, 0.25, 0.5, 1.75]


def test_bf16_round_to_nearest_even():
    one = 1.0
    ulp = 2**-7
    x = torch.tensor([one + ulp / 2, one + 3 * ulp / 2, one + ulp / 2 + 2**-20, -(one + ulp / 2)])
    assert dt.quantize(x, dt.DataType.BFLOAT16).tolist() == [1.0, 1.0 + 2 * ulp, 1.0 + ulp, -1.0]


def test_truncate_mantissa():
    x = torch.tensor([1.0 + 2**-1 + 2**-5 + 2**-9, -(1.75 + 2**-7)])
    assert dt.truncate_mantissa(x, 4).tolist() == [1.5, -1.75]


def test_tile_sizes():
    assert dt.TILE_BYTES[dt.DataType.BFLOAT8_B] == 1088 and dt.TILE_BYTES[dt.DataType.BFLOAT4_B] == 576


@pytest.mark.parametrize("bits", [7, 3])
def test_an_all_zero_tensor_stores_as_the_block_path_would(bits):
    """quantize_bfp returns an all-zero tensor (a fresh KV cache) without the block arithmetic: the same values,
    the signs of negative zeros included, as the groups' own path gives."""
    zeros = torch.zeros(2, 3, 64)
    zeros[0, 1, 5] = -0.0
    fast = dt.quantize_bfp(zeros, bits)
    slow = dt._bfp_groups(zeros.reshape(-1, dt.FACE_SIZE), bits).reshape(zeros.shape)
    assert torch.equal(fast, slow) and torch.equal(torch.signbit(fast), torch.signbit(slow))
    nonzero = zeros.clone()
    nonzero[1, 2, 63] = 3.0e-5  # one value: the block path, which rounds it
    assert torch.equal(dt.quantize_bfp(nonzero, bits), dt._bfp_groups(nonzero.reshape(-1, dt.FACE_SIZE), bits).reshape(nonzero.shape))
