"""Where ttnn puts the tensors tttgen shards: activation shard specs, DRAM-sharded weights and the outputs the
width-sharded matmul families produce. Shared by the passes, the baselines and the benchmarks."""

from __future__ import annotations

from tttgen.ir.configs import CoreRanges, MemoryPlacement
from tttgen.inputs.device import DeviceProfile
from tttgen.tiling import ceil_div, compact_cores, row_major_cores


def shard_grid(cores: int, device: DeviceProfile) -> CoreRanges:
    """Grid of an activation tttgen shards: a rectangle when one fits (see tiling.compact_cores)."""
    return CoreRanges(compact_cores(cores, device.grid.x, device.grid.y))


def width_sharded(rows: int, cols: int, cores: int, device: DeviceProfile) -> MemoryPlacement:
    return MemoryPlacement("L1", "WIDTH_SHARDED", (rows, cols // cores), shard_grid(cores, device), "ROW_MAJOR")


def height_sharded(rows_per_core: int, cols: int, cores: int, device: DeviceProfile) -> MemoryPlacement:
    return MemoryPlacement("L1", "HEIGHT_SHARDED", (rows_per_core, cols), shard_grid(cores, device), "ROW_MAJOR")


def dram_sharded_weight(k: int, n: int, device: DeviceProfile) -> MemoryPlacement:
    """One width shard per DRAM bank, N padded to 32*banks (create_dram_sharded_mem_config)."""
    banks = device.dram.banks
    padded = ceil_div(n, 32 * banks) * 32 * banks
    return MemoryPlacement("DRAM", "WIDTH_SHARDED", (k, padded // banks), CoreRanges((((0, 0), (banks - 1, 0)),)), "ROW_MAJOR")


def width_sharded_out(n_tiles: int, per_core_n: int, grid_x: int) -> MemoryPlacement:
    """The output ttnn places for a width-sharded 1D / DRAM-sharded matmul: one block per core, row-major
    over `grid_x` columns (compute_output_specs: the config grid for 1D, the device grid for DRAM-sharded)."""
    cores = ceil_div(n_tiles, per_core_n)
    return MemoryPlacement(
        "L1",
        "WIDTH_SHARDED",
        (32, per_core_n * 32),
        CoreRanges(row_major_cores(cores, grid_x)),
        "ROW_MAJOR",
        infer_shard=True,
    )
