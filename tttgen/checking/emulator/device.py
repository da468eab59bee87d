"""The emulated device: grid, arch and DRAM banks.

No allocator and no memory budget: whether buffers and circular buffers fit L1 or DRAM is legality, estimated by
``tttgen/rules/l1.py`` and judged by the real ttnn's allocator (``tttgen check --ttnn``). The grid and the DRAM bank
count remain because tensors are placed on them (a shard spec names cores or banks).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import torch

from .configs import CoreCoord, CoreGrid

# The seed of the emulated device's random stream at open_device. On hardware the PRNG of a core is only set by
# rand_tile_init (ttnn.manual_seed, or ttnn.sampling with a non-zero seed); before that its state is undefined
# (tt-metal #31901). The emulator starts from a fixed state so that runs are reproducible.
DEFAULT_PRNG_SEED = 0
# manual_seed's core ids (user ids) lie in [0, 31]: the cores ttnn.sampling's users run on
SAMPLING_CORES = 32


class Arch(enum.Enum):
    GRAYSKULL = "grayskull"
    WORMHOLE_B0 = "wormhole_b0"
    BLACKHOLE = "blackhole"

    def __repr__(self) -> str:
        return f"Arch.{self.name}"


_ARCH_ALIASES = {
    "grayskull": Arch.GRAYSKULL,
    "wormhole": Arch.WORMHOLE_B0,
    "wormhole_b0": Arch.WORMHOLE_B0,
    "blackhole": Arch.BLACKHOLE,
}


def parse_arch(arch: str | Arch) -> Arch:
    if isinstance(arch, Arch):
        return arch
    key = str(arch).lower().replace("-", "_")
    if key not in _ARCH_ALIASES:
        raise ValueError(f"unknown arch {arch!r}; expected one of {sorted(_ARCH_ALIASES)}")
    return _ARCH_ALIASES[key]


@dataclass
class DeviceSpec:
    arch: Arch
    grid: tuple[int, int]
    dram_banks: int
    numerics: str = "device"


class Device:
    """What ``ttnn.open_device`` returns."""

    def __init__(self, spec: DeviceSpec, device_id: int = 0, **open_kwargs):
        self.spec = spec
        self.device_id = device_id
        self.open_kwargs = dict(open_kwargs)
        self.is_open = True
        self.op_log: list[str] = []
        # the random streams of the cores ttnn.sampling draws on, one per user (core id = user id, 0..31; seeded by
        # ttnn.manual_seed, all alike or per user id, or by sampling's seed=)
        self.core_prngs = [torch.Generator().manual_seed(DEFAULT_PRNG_SEED) for _ in range(SAMPLING_CORES)]

    # ttnn surface ------------------------------------------------------------------------------------
    def compute_with_storage_grid_size(self) -> CoreCoord:
        return CoreCoord(self.spec.grid[0], self.spec.grid[1])

    def arch(self) -> Arch:
        return self.spec.arch

    def dram_grid_size(self) -> CoreCoord:
        return CoreCoord(self.spec.dram_banks, 1)

    @property
    def core_grid(self) -> CoreGrid:
        return CoreGrid(x=self.spec.grid[0], y=self.spec.grid[1])

    def id(self) -> int:
        return self.device_id

    def get_num_devices(self) -> int:
        return 1

    def enable_program_cache(self) -> None:  # accepted and ignored
        pass

    def __repr__(self) -> str:
        return f"<emulated ttnn device {self.device_id}: {self.spec.arch.value} grid {self.spec.grid[0]}x{self.spec.grid[1]}>"


def round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple) if multiple else value
