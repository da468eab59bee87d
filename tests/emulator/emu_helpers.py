"""Helpers shared by the emulator tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import pytest
import torch

# Wormhole n150 numbers as in device_profiles/n150.yaml (8x8 grid, 12 DRAM banks).
N150 = dict(arch="wormhole_b0", grid=(8, 8), dram_banks=12)


def to_dev(ttnn, device, x, dtype=None, layout=None, mem=None):
    dtype = dtype or ttnn.bfloat16
    layout = layout or ttnn.TILE_LAYOUT
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device, memory_config=mem or ttnn.DRAM_MEMORY_CONFIG)


def width_sharded(ttnn, rows, width, cores_x, cores_y):
    """L1 width-sharded config over a cores_x x cores_y grid, shard (rows, width / cores)."""
    n = cores_x * cores_y
    return ttnn.create_sharded_memory_config(
        (rows, width // n),
        ttnn.CoreGrid(x=cores_x, y=cores_y),
        ttnn.ShardStrategy.WIDTH,
        ttnn.ShardOrientation.ROW_MAJOR,
        use_height_and_width_as_shard_shape=True,
    )


def height_sharded(ttnn, cores, shard):
    """L1 height-sharded config over the first `cores` cores of the 8x8 grid (row-wise), one `shard` per core."""
    grid = ttnn.num_cores_to_corerangeset(cores, ttnn.CoreCoord(8, 8), row_wise=True)
    return ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, shard, ttnn.ShardOrientation.ROW_MAJOR),
    )


def dram_sharded(ttnn, k, n, banks=12):
    """tt_transformers' create_dram_sharded_mem_config: pad N to 32*banks, one shard per bank (reference §2.4)."""
    padded = -(-n // (32 * banks)) * 32 * banks
    grid = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(banks - 1, 0))})
    spec = ttnn.ShardSpec(grid, (k, padded // banks), ttnn.ShardOrientation.ROW_MAJOR)
    return ttnn.MemoryConfig(ttnn.TensorMemoryLayout.WIDTH_SHARDED, ttnn.BufferType.DRAM, spec)


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    a = a.float()
    b = b.float()
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def rejects(ttnn, rule, fn, *, match=None):
    """fn() must raise the emulator's validation error with this rule id (and `match` in its message)."""
    with pytest.raises(ttnn.EmulatorValidationError) as info:
        fn()
    assert info.value.rule == rule, str(info.value)
    if match:
        assert match in str(info.value), str(info.value)
    return info.value
