"""Data types, layouts and the value quantization of each ttnn storage format.

A tensor in the emulator always holds the exact values the device would hold, as a float32 (or int64)
torch tensor. ``quantize(x, dtype)`` maps any float32 tensor to those values:

* ``bfloat16``: round-to-nearest-even (what ``torch.Tensor.to(torch.bfloat16)`` does). ttnn's own golden
  for ``from_torch`` (``ttnn/operations/core.py::_golden_function_from_torch``, wheel 0.81.1) converts
  with ``input_tensor.to(torch.bfloat16)`` "so the golden matches values stored by from_torch".
* ``float32``: unchanged.
* ``bfloat8_b`` / ``bfloat4_b``: block floating point, re-implemented from
  ``tt_metal/impl/data_format/blockfloat_common.cpp`` (tenstorrent/tt-metal, commit 034fc8c7,
  ``convert_u32_to_bfp<..., truncate_bfp_mantissa=false>`` and ``pack_fp32_vec_as_bfp_tiles``):
  a 32x32 tile is four 16x16 faces; each face row of 16 values shares the largest 8-bit exponent of
  the row. Every value's 24-bit significand (hidden bit forced to 1, also for fp32 denormals) is
  shifted right by ``shared_exp - exp`` (bits shifted out are dropped, i.e. truncated), then rounded to
  7 (bfp8) or 3 (bfp4) bits with round-to-nearest, ties-to-even on the remaining bits, saturating at
  the largest mantissa instead of carrying into the exponent; a zero mantissa loses its sign.
  Decoded value = ``m * 2**(shared_exp - 127 - (bits - 1))``.
  Face rows are 16 consecutive elements of the last dimension starting at a multiple of 16, so the
  emulator groups the last dimension in 16s (zero padding does not change the shared exponent).
"""

from __future__ import annotations

import enum

import torch


class _NamedEnum(enum.Enum):
    """An enum whose repr and str are ttnn's ``ClassName.MEMBER``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    __str__ = __repr__


class DataType(_NamedEnum):
    BFLOAT16 = "BFLOAT16"
    FLOAT32 = "FLOAT32"
    BFLOAT8_B = "BFLOAT8_B"
    BFLOAT4_B = "BFLOAT4_B"
    UINT32 = "UINT32"
    INT32 = "INT32"
    UINT16 = "UINT16"
    UINT8 = "UINT8"


class Layout(_NamedEnum):
    ROW_MAJOR = "ROW_MAJOR"
    TILE = "TILE"


class StorageType(enum.Enum):
    HOST = "HOST"
    DEVICE = "DEVICE"


bfloat16 = DataType.BFLOAT16
float32 = DataType.FLOAT32
bfloat8_b = DataType.BFLOAT8_B
bfloat4_b = DataType.BFLOAT4_B
uint32 = DataType.UINT32
int32 = DataType.INT32
uint16 = DataType.UINT16
uint8 = DataType.UINT8

TILE_SIZE = 32
FACE_SIZE = 16

FLOAT_TYPES = (DataType.BFLOAT16, DataType.FLOAT32, DataType.BFLOAT8_B, DataType.BFLOAT4_B)
BLOCK_FLOAT_TYPES = (DataType.BFLOAT8_B, DataType.BFLOAT4_B)
INT_TYPES = (DataType.UINT32, DataType.INT32, DataType.UINT16, DataType.UINT8)

# Bytes of one 32x32 tile (tt_metal/api/tt-metalium/constants.hpp via the reference §4):
# bfp formats carry 64 exponent bytes (4 faces x 16 rows) plus packed mantissas.
TILE_BYTES = {
    DataType.BFLOAT16: 2048,
    DataType.FLOAT32: 4096,
    DataType.BFLOAT8_B: 1088,
    DataType.BFLOAT4_B: 576,
    DataType.UINT32: 4096,
    DataType.INT32: 4096,
    DataType.UINT16: 2048,
    DataType.UINT8: 1024,
}

# Bytes per element in ROW_MAJOR layout (block floats cannot be row-major).
ELEMENT_BYTES = {
    DataType.BFLOAT16: 2,
    DataType.FLOAT32: 4,
    DataType.UINT32: 4,
    DataType.INT32: 4,
    DataType.UINT16: 2,
    DataType.UINT8: 1,
}

# ttnn.to_torch dtypes, from ttnn/core.py::ttnn_dtype_to_torch_dtype (wheel 0.81.1).
TORCH_DTYPE = {
    DataType.BFLOAT16: torch.bfloat16,
    DataType.FLOAT32: torch.float32,
    DataType.BFLOAT8_B: torch.float32,
    DataType.BFLOAT4_B: torch.float32,
    DataType.UINT32: torch.uint32,
    DataType.INT32: torch.int32,
    DataType.UINT16: torch.uint16,
    DataType.UINT8: torch.uint8,
}

_MANTISSA_BITS = {DataType.BFLOAT8_B: 7, DataType.BFLOAT4_B: 3}


def is_float(dtype: DataType) -> bool:
    return dtype in FLOAT_TYPES


def round_bf16(x: torch.Tensor) -> torch.Tensor:
    """float32 -> nearest bfloat16 value (ties to even), returned as float32."""
    return x.float().to(torch.bfloat16).float()


def truncate_mantissa(x: torch.Tensor, keep_bits: int) -> torch.Tensor:
    """Keep the hidden bit plus ``keep_bits`` fraction bits of each float32 value (round toward zero)."""
    if keep_bits >= 23:
        return x.float()
    bits = x.float().contiguous().view(torch.int32)
    mask = ~((1 << (23 - keep_bits)) - 1)
    return (bits & mask).view(torch.float32)


def _bfp_groups(groups: torch.Tensor, mantissa_bits: int) -> torch.Tensor:
    bits = groups.view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    exp = (bits >> 23) & 0xFF
    shared = exp.amax(dim=1, keepdim=True)
    mant = (bits & 0x7FFFFF) | 0x800000
    is_zero = (bits & 0x7FFFFFFF) == 0
    mant = mant >> (shared - exp).clamp(max=63)
    shift = 24 - mantissa_bits
    round_value = mant & ((1 << shift) - 1)
    m = mant >> shift
    tie = 1 << (shift - 1)
    up = (round_value > tie) | ((round_value == tie) & ((m & 1) == 1))
    m = torch.clamp(m + up.to(torch.int64), max=(1 << mantissa_bits) - 1)
    m = torch.where(is_zero, torch.zeros_like(m), m)
    value = torch.ldexp(m.to(torch.float64), (shared - 127 - (mantissa_bits - 1)).to(torch.float64))
    return torch.where((bits >> 31) == 1, -value, value).to(torch.float32)


def quantize_bfp(x: torch.Tensor, mantissa_bits: int) -> torch.Tensor:
    """Block-float quantization of a float32 tensor (see module docstring); returns float32 values."""
    x32 = x.float().contiguous()
    if x32.numel() == 0 or not bool((x32 != 0).any()):
        return x32.clone()  # all zeros (a fresh KV cache): every block stores its zeros as they are, signs included
    shape = x32.shape
    width = shape[-1] if x32.dim() > 0 else 1
    flat = x32.reshape(-1, width)
    pad = (-width) % FACE_SIZE
    if pad:
        flat = torch.nn.functional.pad(flat, (0, pad))
    groups = flat.reshape(-1, FACE_SIZE)
    out = torch.empty_like(groups)
    step = 1 << 18  # bound the int64 temporaries (~16 M elements per chunk)
    for i in range(0, groups.shape[0], step):
        out[i : i + step] = _bfp_groups(groups[i : i + step], mantissa_bits)
    out = out.reshape(flat.shape)
    if pad:
        out = out[:, :width]
    return out.reshape(shape).contiguous()


def quantize(x: torch.Tensor, dtype: DataType) -> torch.Tensor:
    """Map values to what ``dtype`` stores. Float dtypes return float32, integer dtypes int64."""
    if dtype == DataType.BFLOAT16:
        return round_bf16(x)
    if dtype == DataType.FLOAT32:
        return x.to(torch.float32, copy=True)
    if dtype in _MANTISSA_BITS:
        return quantize_bfp(x, _MANTISSA_BITS[dtype])
    if dtype in INT_TYPES:
        if x.is_floating_point():
            x = torch.trunc(x.double())
        x = x.to(torch.int64)
        if dtype == DataType.UINT32:
            return x & 0xFFFFFFFF
        if dtype == DataType.UINT16:
            return x & 0xFFFF
        if dtype == DataType.UINT8:
            return x & 0xFF
        return ((x + 2**31) % 2**32) - 2**31
    raise ValueError(f"unsupported dtype {dtype}")


def to_torch_dtype(values: torch.Tensor, dtype: DataType) -> torch.Tensor:
    target = TORCH_DTYPE[dtype]
    if dtype in INT_TYPES:
        return values.to(torch.int64).to(target)
    return values.to(target)
