"""The emulated device: grid, arch, DRAM banks and a lockstep L1/DRAM allocator.

Allocation model (tt-metal ``tech_reports/memory/allocator.md``, "Lockstep Allocation"): "each bank reserves
the same amount of space for a given buffer regardless of how many banks the data is in ... a similar scheme
is followed for sharded buffers". There is one L1 bank per worker core, so every live L1 buffer costs its
per-bank size on *every* core: interleaved buffers ``ceil(pages / num_cores) * aligned_page``, sharded buffers
one aligned shard. An op's circular buffers sit below the L1 buffers ("SRAM buffers are allocated top down to
avoid growing into CircularBuffers"), so an op fits when ``CB estimate + sum(live L1 buffers) <=
usable_l1_bytes`` (``usable_l1_bytes`` is the space above the allocator base, cf. reference §1.11
``get_max_l1_space``). DRAM is checked the same way per DRAM bank when ``dram_bytes`` is given.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass
from typing import Optional

from .configs import BufferType, CoreCoord, CoreGrid
from .errors import EmulatorOutOfMemory


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

L1_ALIGNMENT = 16
DRAM_ALIGNMENT = {Arch.GRAYSKULL: 32, Arch.WORMHOLE_B0: 32, Arch.BLACKHOLE: 64}


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
    usable_l1_bytes: int
    dram_banks: int
    dram_bytes: Optional[int] = None
    numerics: str = "device"


@dataclass
class Allocation:
    buffer_type: BufferType
    per_bank_bytes: int
    description: str


class Device:
    """What ``ttnn.open_device`` returns."""

    _ids = itertools.count()

    def __init__(self, spec: DeviceSpec, device_id: int = 0, **open_kwargs):
        self.spec = spec
        self.device_id = device_id
        self.open_kwargs = dict(open_kwargs)
        self._allocations: dict[int, Allocation] = {}
        self._next_key = itertools.count(1)
        self.is_open = True
        self.peak_l1_bytes = 0
        self.op_log: list[str] = []

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

    # allocator ---------------------------------------------------------------------------------------
    @property
    def num_l1_banks(self) -> int:
        return self.spec.grid[0] * self.spec.grid[1]

    @property
    def dram_alignment(self) -> int:
        return DRAM_ALIGNMENT[self.spec.arch]

    def l1_in_use(self) -> int:
        return sum(a.per_bank_bytes for a in self._allocations.values() if a.buffer_type == BufferType.L1)

    def dram_in_use_per_bank(self) -> int:
        return sum(a.per_bank_bytes for a in self._allocations.values() if a.buffer_type == BufferType.DRAM)

    def live_allocations(self) -> list[Allocation]:
        return list(self._allocations.values())

    def allocate(
        self, op: str, buffer_type: BufferType, per_bank_bytes: int, total_bytes: int, num_banks: int, description: str
    ) -> int:
        if buffer_type == BufferType.L1:
            in_use = self.l1_in_use()
            budget = self.spec.usable_l1_bytes
            if in_use + per_bank_bytes > budget:
                raise EmulatorOutOfMemory(
                    op,
                    "l1.out_of_memory",
                    f"Out of Memory: Not enough space to allocate {total_bytes} B L1 buffer across {num_banks} banks, "
                    f"where each bank needs to store {per_bank_bytes} B, but bank size is {budget} B "
                    f"(allocated: {in_use} B, free: {budget - in_use} B) [{description}]",
                )
            self.peak_l1_bytes = max(self.peak_l1_bytes, in_use + per_bank_bytes)
        elif buffer_type == BufferType.DRAM and self.spec.dram_bytes is not None:
            bank_size = self.spec.dram_bytes // self.spec.dram_banks
            in_use = self.dram_in_use_per_bank()
            if in_use + per_bank_bytes > bank_size:
                raise EmulatorOutOfMemory(
                    op,
                    "dram.out_of_memory",
                    f"Out of Memory: Not enough space to allocate {total_bytes} B DRAM buffer across {num_banks} banks, "
                    f"where each bank needs to store {per_bank_bytes} B, but bank size is {bank_size} B "
                    f"(allocated: {in_use} B, free: {bank_size - in_use} B) [{description}]",
                )
        key = next(self._next_key)
        self._allocations[key] = Allocation(buffer_type, per_bank_bytes, description)
        return key

    def free(self, key: Optional[int]) -> None:
        if key is not None:
            self._allocations.pop(key, None)

    def check_circular_buffers(self, op: str, cb_bytes: int, detail: str) -> None:
        """An op's CBs (per core) plus every live L1 buffer must fit the usable L1 of a core."""
        in_use = self.l1_in_use()
        budget = self.spec.usable_l1_bytes
        if cb_bytes + in_use > budget:
            raise EmulatorOutOfMemory(
                op,
                "l1.circular_buffers",
                f"Statically allocated circular buffers clash with L1 buffers: the op needs {cb_bytes} B of circular "
                f"buffers per core ({detail}) and live L1 buffers hold {in_use} B per core; {cb_bytes + in_use} B > "
                f"usable L1 {budget} B",
            )
        self.peak_l1_bytes = max(self.peak_l1_bytes, cb_bytes + in_use)


def round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple) if multiple else value
