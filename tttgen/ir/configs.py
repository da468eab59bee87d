"""Frozen records of the ttnn configs the passes choose. Field names are ttnn's own."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

# ttnn class name per matmul program-config family.
MATMUL_2D = "MatmulMultiCoreReuseMultiCastProgramConfig"
MATMUL_1D = "MatmulMultiCoreReuseMultiCast1DProgramConfig"
MATMUL_DRAM_SHARDED = "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig"
MATMUL_REUSE = "MatmulMultiCoreReuseProgramConfig"
MATMUL_FAMILIES = (MATMUL_2D, MATMUL_1D, MATMUL_DRAM_SHARDED, MATMUL_REUSE)

TILE = 32

# A linear's fused activations, as descriptions spell them (the program config holds the UnaryOpType, upper case).
ACTIVATIONS = ("none", "relu", "gelu", "silu", "sigmoid")


@dataclass(frozen=True)
class MatmulShape:
    """Logical matmul sizes in elements: [batch, m, k] x [k, n]."""

    m: int
    k: int
    n: int
    batch: int = 1

    @property
    def mt(self) -> int:
        return -(-self.m // TILE)

    @property
    def kt(self) -> int:
        return -(-self.k // TILE)

    @property
    def nt(self) -> int:
        return -(-self.n // TILE)

    @property
    def flops(self) -> int:
        return 2 * self.batch * self.m * self.k * self.n


@dataclass(frozen=True)
class ComputeKernelConfig:
    math_fidelity: str  # LoFi | HiFi2 | HiFi3 | HiFi4
    math_approx_mode: bool
    fp32_dest_acc_en: bool
    packer_l1_acc: bool
    dst_full_sync_en: bool = False

    def fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MatmulConfig:
    """One matmul program config. Fields that a family does not have are None."""

    type: str
    in0_block_w: int
    per_core_M: int
    per_core_N: int
    out_subblock_h: int | None = None
    out_subblock_w: int | None = None
    out_block_h: int | None = None
    out_block_w: int | None = None
    grid: tuple[int, int] | None = None  # compute_with_storage_grid_size (x, y)
    transpose_mcast: bool | None = None
    fuse_batch: bool | None = None
    mcast_in0: bool | None = None
    fused_activation: str | None = None  # UnaryOpType name, e.g. "SILU"

    def fields(self) -> dict[str, Any]:
        """ttnn keyword arguments in ttnn's order, only those the family takes."""
        out: dict[str, Any] = {}
        if self.grid is not None:
            out["compute_with_storage_grid_size"] = list(self.grid)
        out["in0_block_w"] = self.in0_block_w
        for name in ("out_subblock_h", "out_subblock_w", "out_block_h", "out_block_w"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out["per_core_M"] = self.per_core_M
        out["per_core_N"] = self.per_core_N
        for name in ("transpose_mcast", "fuse_batch", "mcast_in0"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out["fused_activation"] = self.fused_activation
        return out


@dataclass(frozen=True)
class CoreRanges:
    """A set of core rectangles ((x0, y0), (x1, y1)), inclusive, in row-major order."""

    ranges: tuple[tuple[tuple[int, int], tuple[int, int]], ...]

    @cached_property  # the matmul rules ask it of every candidate's placements (frozen: computed once)
    def cores(self) -> int:
        return sum((x1 - x0 + 1) * (y1 - y0 + 1) for (x0, y0), (x1, y1) in self.ranges)

    @property
    def bbox(self) -> tuple[int, int]:
        """(x, y) size of the bounding box from (0, 0)."""
        return (max(r[1][0] for r in self.ranges) + 1, max(r[1][1] for r in self.ranges) + 1)


@dataclass(frozen=True)
class MemoryPlacement:
    buffer: str  # DRAM | L1
    layout: str  # INTERLEAVED | HEIGHT_SHARDED | WIDTH_SHARDED | BLOCK_SHARDED
    shard_shape: tuple[int, int] | None = None
    grid: CoreRanges | None = None
    orientation: str | None = None  # ROW_MAJOR | COL_MAJOR
    infer_shard: bool = False  # ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG: the op computes the spec

    @property
    def sharded(self) -> bool:
        return self.layout != "INTERLEAVED"

    def manifest(self) -> dict[str, Any]:
        return {
            "buffer": self.buffer,
            "layout": self.layout,
            "shard_shape": list(self.shard_shape) if self.shard_shape else None,
            "grid": [[list(a), list(b)] for a, b in self.grid.ranges] if self.grid else None,
            "orientation": self.orientation,
        }


DRAM_INTERLEAVED = MemoryPlacement("DRAM", "INTERLEAVED")
L1_INTERLEAVED = MemoryPlacement("L1", "INTERLEAVED")


@dataclass(frozen=True)
class NormConfig:
    """LayerNormShardedMultiCoreProgramConfig fields."""

    grid: tuple[int, int]
    subblock_w: int
    block_h: int
    block_w: int
    inplace: bool = False


@dataclass(frozen=True)
class SdpaConfig:
    """SDPAProgramConfig fields."""

    grid: tuple[int, int]
    q_chunk_size: int
    k_chunk_size: int
    exp_approx_mode: bool = False


@dataclass(frozen=True)
class Candidate:
    """A scored alternative the search looked at, for `explain`."""

    config: Any
    time_ns: float
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
