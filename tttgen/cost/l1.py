"""Per-core L1 circular-buffer estimates for matmul configs.

`ttnn_cb_estimate` is ttnn's own estimate (matmul_utilities.cpp `get_estimated_size_of_cbs`,
reference §1.11), used by the auto-config policy exactly as ttnn uses it.
`matmul_config_l1_bytes` applies the same formula to a complete config (out blocks, sharded
operands, DRAM-sharded buffering), which is what the chooser prunes with.
"""

from __future__ import annotations

from tttgen.ir.configs import MATMUL_DRAM_SHARDED, MatmulConfig, MatmulShape
from tttgen.spec.device import DeviceProfile

BUFFERING_DEPTH = 2  # MCAST_INPUT_BUFFERING_DEPTH
DRAM_SHARDED_IN1_DEPTH = 3  # the DRAM-sharded factory triple-buffers in1 (reference §1.7)

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


def partials_tile_bytes(device: DeviceProfile, out_dtype: str, fp32_dest_acc_en: bool, packer_l1_acc: bool) -> int:
    """Bytes per tile of the partials CB the factory allocates separately from the output CB;
    0 when the two share one buffer (same data format). The partials format is FP32 with fp32 acc,
    else Float16_b with packer L1 acc, else the output format (reference §3)."""
    out = dtype_name(out_dtype)
    if fp32_dest_acc_en:
        fmt = "float32"
    elif packer_l1_acc:
        fmt = "bfloat16"
    else:
        fmt = out
    return 0 if fmt == out else device.tile_bytes[fmt]


def matmul_config_l1_bytes(
    device: DeviceProfile,
    config: MatmulConfig,
    shape: MatmulShape,
    *,
    in0_dtype: str,
    in1_dtype: str,
    out_dtype: str,
    in0_shard_width_tiles: int = 0,
    out_sharded: bool = False,
    fp32_dest_acc_en: bool = False,
    packer_l1_acc: bool = True,
    bias: bool = False,
) -> int:
    """L1 bytes one core needs for `config`, as the program factories allocate them: in0 and in1
    CBs double-buffered over one K block of the out block, the output CB (the whole per-core block
    when the output is sharded, since the shard is the CB), the partials CB unless it shares the
    output CB's format, the bias row and the in0 shard (`in0_shard_width_tiles` wide).

    Differs from ttnn's own estimate (`ttnn_cb_estimate`, used by the auto-config) in two ways,
    both from the factories: the output CB uses the output tile, and a partials CB with the output's
    format is not counted twice. The benchmark's hand-tuned bf16 configs (e.g. per core 12x16,
    in0_block_w 8 on n150) run on hardware yet exceed ttnn's estimate, and fit this one.

    DRAM-sharded: compute runs on one core per DRAM bank with width ceil(Nt / banks); in0 CB double-
    and in1 CB triple-buffered (reference §1.7).
    """
    a = device.tile_bytes[dtype_name(in0_dtype)]
    b = device.tile_bytes[dtype_name(in1_dtype)]
    o = device.tile_bytes[dtype_name(out_dtype)]
    partials = partials_tile_bytes(device, out_dtype, fp32_dest_acc_en, packer_l1_acc)
    bias_tile = device.tile_bytes["bfloat16"] if bias else 0
    if config.type == MATMUL_DRAM_SHARDED:
        pcm = config.per_core_M
        ibw = config.in0_block_w
        pcn_compute = -(-shape.nt // device.dram.banks)
        total = pcm * ibw * BUFFERING_DEPTH * a
        total += pcn_compute * ibw * DRAM_SHARDED_IN1_DEPTH * b
        total += pcm * pcn_compute * (o + partials)
        total += pcm * in0_shard_width_tiles * a
        total += pcn_compute * bias_tile
        return total
    obh = config.out_block_h or config.per_core_M
    obw = config.out_block_w or config.per_core_N
    total = obh * config.in0_block_w * BUFFERING_DEPTH * a
    total += obw * config.in0_block_w * BUFFERING_DEPTH * b
    out_tiles = config.per_core_M * config.per_core_N if out_sharded else obh * obw
    total += out_tiles * o + obh * obw * partials
    total += obw * bias_tile
    total += config.per_core_M * in0_shard_width_tiles * a  # the shard itself: whole per-core rows
    return total


__all__ = [
    "BUFFERING_DEPTH",
    "DRAM_SHARDED_IN1_DEPTH",
    "dtype_name",
    "interm_tile_bytes",
    "matmul_config_l1_bytes",
    "partials_tile_bytes",
    "ttnn_cb_estimate",
]
