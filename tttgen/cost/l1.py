"""ttnn's own L1 circular-buffer estimate, for the auto-config baseline, and dtype spellings.

`ttnn_cb_estimate` is ttnn's estimate (matmul_utilities.cpp `get_estimated_size_of_cbs`,
reference §1.11), used by `ttnn_auto.py` exactly as ttnn's auto-config uses it. The generator's
own L1 legality rule is `tttgen.rules.l1.matmul_l1_bytes` (rule r20 of `tttgen.rules.matmul`).
"""

from __future__ import annotations

from tttgen.inputs.device import DeviceProfile

BUFFERING_DEPTH = 2  # MCAST_INPUT_BUFFERING_DEPTH

_DTYPE_ALIASES = {
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
    "fp32": "float32",
    "float32": "float32",
    "bfp8": "bfloat8_b",
    "bfp8_b": "bfloat8_b",
    "bfloat8_b": "bfloat8_b",
    "bfp4": "bfloat4_b",
    "bfp4_b": "bfloat4_b",
    "bfloat4_b": "bfloat4_b",
}


def dtype_name(dtype: str) -> str:
    """Canonical ttnn dtype name for the short spellings used in data files and the CLI."""
    try:
        return _DTYPE_ALIASES[dtype.lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {sorted(set(_DTYPE_ALIASES))}") from None


def interm_tile_bytes(device: DeviceProfile, out_dtype: str, fp32_dest_acc_en: bool) -> int:
    """ttnn `estimate_interm_tile_size`: FP32 tile with fp32 acc, else max(bf16 tile, output tile)."""
    if fp32_dest_acc_en:
        return device.tile_bytes["float32"]
    return max(device.tile_bytes["bfloat16"], device.tile_bytes[dtype_name(out_dtype)])


def ttnn_cb_estimate(
    device: DeviceProfile,
    per_core_M: int,
    per_core_N: int,
    in0_block_w: int,
    *,
    in0_dtype: str,
    in1_dtype: str,
    interm_tile: int,
    in0_shard_width_tiles: int = 0,
    bias_tile: int = 0,
) -> int:
    """ttnn `get_estimated_size_of_cbs` (the output CB is sized with the in0 tile, as ttnn does)."""
    a = device.tile_bytes[dtype_name(in0_dtype)]
    b = device.tile_bytes[dtype_name(in1_dtype)]
    in0 = per_core_M * in0_block_w * BUFFERING_DEPTH * a
    in1 = per_core_N * in0_block_w * BUFFERING_DEPTH * b
    out = per_core_M * per_core_N * a
    interm = per_core_M * per_core_N * interm_tile
    bias = per_core_N * bias_tile
    in2 = per_core_M * in0_shard_width_tiles * a
    return in0 + in1 + out + interm + bias + in2


__all__ = [
    "BUFFERING_DEPTH",
    "dtype_name",
    "interm_tile_bytes",
    "ttnn_cb_estimate",
]
