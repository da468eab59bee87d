"""Config classes with ttnn 0.81.1's class names, constructor keywords and field names.

Field lists were read from the nanobind argument-name strings of ``ttnn/_ttnn.cpython-312-x86_64-linux-gnu.so``
(wheel 0.81.1), e.g. the sequence ``in0_block_w per_core_M per_core_N fused_activation
num_workers_per_dram_bank`` right before ``MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig``, and from
the repr format strings such as ``SDPAProgramConfig(compute_with_storage_grid_size={}, sub_core_grids={},
q_chunk_size={}, k_chunk_size={}, exp_approx_mode={}, max_cores_per_head_batch={}, max_k_splits={},
matmul_math_fidelity={}, segmented_accumulation={})``. Python-side helpers (``CoreRange`` grid sizes,
``ShardStrategy``, ``create_sharded_memory_config``) follow ``ttnn/types.py`` and ``ttnn/core.py``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from .dtypes import _NamedEnum


class BufferType(_NamedEnum):
    DRAM = "DRAM"
    L1 = "L1"
    SYSTEM_MEMORY = "SYSTEM_MEMORY"
    L1_SMALL = "L1_SMALL"
    TRACE = "TRACE"


class TensorMemoryLayout(_NamedEnum):
    INTERLEAVED = "INTERLEAVED"
    HEIGHT_SHARDED = "HEIGHT_SHARDED"
    WIDTH_SHARDED = "WIDTH_SHARDED"
    BLOCK_SHARDED = "BLOCK_SHARDED"


class ShardOrientation(_NamedEnum):
    ROW_MAJOR = "ROW_MAJOR"
    COL_MAJOR = "COL_MAJOR"


class ShardStrategy(enum.Enum):
    # ttnn/types.py: class ShardStrategy(Enum): HEIGHT = 1, WIDTH = 2, BLOCK = 3
    HEIGHT = 1
    WIDTH = 2
    BLOCK = 3


class MathFidelity(_NamedEnum):
    LoFi = 0
    HiFi2 = 2
    HiFi3 = 3
    HiFi4 = 4
    Invalid = 255


FIDELITY_PASSES = {MathFidelity.LoFi: 1, MathFidelity.HiFi2: 2, MathFidelity.HiFi3: 3, MathFidelity.HiFi4: 4}


class UnaryOpType(_NamedEnum):
    """Member names from the UnaryOpType strings of the 0.81.1 binary and the wheel's Python sources."""

    RECIP = "RECIP"
    GELU = "GELU"
    GELU_TANH = "GELU_TANH"
    RELU = "RELU"
    SQRT = "SQRT"
    SIGMOID = "SIGMOID"
    LOG = "LOG"
    LOG1P = "LOG1P"
    TANH = "TANH"
    LOG2 = "LOG2"
    LOG10 = "LOG10"
    EXP = "EXP"
    COSH = "COSH"
    SINH = "SINH"
    ABS = "ABS"
    ABS_INT32 = "ABS_INT32"
    SIGN = "SIGN"
    SQUARE = "SQUARE"
    RELU_MAX = "RELU_MAX"
    RELU_MIN = "RELU_MIN"
    POWER = "POWER"
    POWER_ITERATIVE = "POWER_ITERATIVE"
    LEAKY_RELU = "LEAKY_RELU"
    EXP2 = "EXP2"
    HEAVISIDE = "HEAVISIDE"
    EXPM1 = "EXPM1"
    SIGNBIT = "SIGNBIT"
    ASIN = "ASIN"
    ACOS = "ACOS"
    ACOSH = "ACOSH"
    RSQRT = "RSQRT"
    RELU6 = "RELU6"
    ATAN = "ATAN"
    ASINH = "ASINH"
    ATANH = "ATANH"
    ERFC = "ERFC"
    ISINF = "ISINF"
    ISPOSINF = "ISPOSINF"
    ISNEGINF = "ISNEGINF"
    ISNAN = "ISNAN"
    LOGICAL_NOT_UNARY = "LOGICAL_NOT_UNARY"
    ISFINITE = "ISFINITE"
    ERFINV = "ERFINV"
    RSUB = "RSUB"
    RDIV = "RDIV"
    SILU = "SILU"
    SOFTPLUS = "SOFTPLUS"
    IDENTITY = "IDENTITY"
    ADD_UNARY_SFPU = "ADD_UNARY_SFPU"
    SUB_UNARY_SFPU = "SUB_UNARY_SFPU"
    MUL_UNARY_SFPU = "MUL_UNARY_SFPU"
    DIV_UNARY_SFPU = "DIV_UNARY_SFPU"
    UNARY_NE = "UNARY_NE"
    UNARY_EQ = "UNARY_EQ"
    UNARY_GT = "UNARY_GT"
    UNARY_LT = "UNARY_LT"
    UNARY_GE = "UNARY_GE"
    UNARY_LE = "UNARY_LE"
    TYPECAST = "TYPECAST"
    BITCAST = "BITCAST"
    FLOOR = "FLOOR"
    CEIL = "CEIL"
    TRUNC = "TRUNC"
    FRAC = "FRAC"
    ROUND = "ROUND"
    MISH = "MISH"
    HARDMISH = "HARDMISH"
    HARDSIGMOID = "HARDSIGMOID"
    EQZ = "EQZ"
    GEZ = "GEZ"
    GTZ = "GTZ"
    LEZ = "LEZ"
    LTZ = "LTZ"
    NEZ = "NEZ"
    NEG = "NEG"


class ThrottleLevel(_NamedEnum):
    NO_THROTTLE = 0
    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3
    LEVEL_4 = 4
    LEVEL_5 = 5


class UnaryWithParam:
    """``ttnn.UnaryWithParam(op_type, param)``; fields ``op_type`` and ``params``."""

    def __init__(self, op_type: UnaryOpType, param: Any = None, *, params: Optional[list] = None):
        if not isinstance(op_type, UnaryOpType):
            raise TypeError(f"UnaryWithParam: op_type must be a ttnn.UnaryOpType, got {op_type!r}")
        self.op_type = op_type
        if params is not None:
            self.params = list(params)
        elif param is None:
            self.params = []
        elif isinstance(param, (list, tuple)):
            self.params = [float(p) for p in param]
        else:
            self.params = [float(param)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnaryWithParam) and (self.op_type, self.params) == (other.op_type, other.params)

    def __hash__(self) -> int:
        return hash((self.op_type, tuple(self.params)))

    def __repr__(self) -> str:
        return f"UnaryWithParam(op_type={self.op_type!r}, params={self.params})"


# --------------------------------------------------------------------------------------------------- cores


@dataclass(frozen=True)
class CoreCoord:
    x: int
    y: int

    def __repr__(self) -> str:
        return f"({self.x}, {self.y})"


@dataclass(frozen=True)
class CoreRange:
    start: CoreCoord
    end: CoreCoord

    def __post_init__(self) -> None:
        if self.end.x < self.start.x or self.end.y < self.start.y:
            raise ValueError(f"CoreRange: invalid range start={self.start} end={self.end}")

    def grid_size(self) -> CoreCoord:
        return CoreCoord(self.end.x - self.start.x + 1, self.end.y - self.start.y + 1)

    def num_cores(self) -> int:
        g = self.grid_size()
        return g.x * g.y

    def contains(self, core: CoreCoord) -> bool:
        return self.start.x <= core.x <= self.end.x and self.start.y <= core.y <= self.end.y

    def cores(self, row_wise: bool = True) -> list[CoreCoord]:
        if row_wise:
            return [
                CoreCoord(x, y)
                for y in range(self.start.y, self.end.y + 1)
                for x in range(self.start.x, self.end.x + 1)
            ]
        return [
            CoreCoord(x, y) for x in range(self.start.x, self.end.x + 1) for y in range(self.start.y, self.end.y + 1)
        ]

    def __repr__(self) -> str:
        return f"CoreRange(start={self.start}, end={self.end})"


class CoreRangeSet:
    """``ttnn.CoreRangeSet({CoreRange, ...})`` (a set or list of ranges, or one range)."""

    def __init__(self, ranges: Iterable[CoreRange] | CoreRange = ()):
        if isinstance(ranges, CoreRange):
            ranges = [ranges]
        items = list(ranges)
        for r in items:
            if not isinstance(r, CoreRange):
                raise TypeError(f"CoreRangeSet expects CoreRange items, got {r!r}")
        items.sort(key=lambda r: (r.start.y, r.start.x, r.end.y, r.end.x))
        seen: set[CoreCoord] = set()
        for r in items:
            for c in r.cores():
                if c in seen:
                    raise ValueError(f"CoreRangeSet: ranges overlap at core {c}")
                seen.add(c)
        self._ranges = tuple(items)

    def ranges(self) -> list[CoreRange]:
        return list(self._ranges)

    def num_cores(self) -> int:
        return sum(r.num_cores() for r in self._ranges)

    def bounding_box(self) -> CoreRange:
        if not self._ranges:
            raise ValueError("CoreRangeSet is empty")
        return CoreRange(
            CoreCoord(min(r.start.x for r in self._ranges), min(r.start.y for r in self._ranges)),
            CoreCoord(max(r.end.x for r in self._ranges), max(r.end.y for r in self._ranges)),
        )

    def contains(self, core: CoreCoord) -> bool:
        return any(r.contains(core) for r in self._ranges)

    def cores(self, row_wise: bool = True) -> list[CoreCoord]:
        out: list[CoreCoord] = []
        for r in self._ranges:
            out.extend(r.cores(row_wise))
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CoreRangeSet) and set(self.cores()) == set(other.cores())

    def __hash__(self) -> int:
        return hash(frozenset(self.cores()))

    def __repr__(self) -> str:
        return "CoreRangeSet({" + ", ".join(repr(r) for r in self._ranges) + "})"


class CoreGrid:
    """``ttnn.CoreGrid(x=, y=)``; ``num_cores`` = x * y."""

    def __init__(self, x: int | None = None, y: int | None = None):
        if x is None or y is None:
            raise TypeError("CoreGrid needs x and y")
        self.x = int(x)
        self.y = int(y)

    @property
    def num_cores(self) -> int:
        return self.x * self.y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CoreGrid) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self) -> int:
        return hash((self.x, self.y))

    def __repr__(self) -> str:
        return f"ttnn.CoreGrid(x={self.x}, y={self.y})"


def num_cores_to_corerangeset(num_cores: int, grid: CoreCoord, row_wise: bool = True) -> CoreRangeSet:
    """First ``num_cores`` cores of ``grid`` in row-major (or column-major) order, as ttnn builds them."""
    gx, gy = grid.x, grid.y
    if num_cores > gx * gy:
        raise ValueError(f"num_cores_to_corerangeset: {num_cores} cores do not fit a {gx}x{gy} grid")
    ranges = []
    if row_wise:
        full_rows, rem = divmod(num_cores, gx)
        if full_rows:
            ranges.append(CoreRange(CoreCoord(0, 0), CoreCoord(gx - 1, full_rows - 1)))
        if rem:
            ranges.append(CoreRange(CoreCoord(0, full_rows), CoreCoord(rem - 1, full_rows)))
    else:
        full_cols, rem = divmod(num_cores, gy)
        if full_cols:
            ranges.append(CoreRange(CoreCoord(0, 0), CoreCoord(full_cols - 1, gy - 1)))
        if rem:
            ranges.append(CoreRange(CoreCoord(full_cols, 0), CoreCoord(full_cols, rem - 1)))
    return CoreRangeSet(ranges)


# --------------------------------------------------------------------------------------------------- memory


class ShardSpec:
    """``ttnn.ShardSpec(grid, shard_shape, shard_orientation)``; fields ``grid``, ``shape``, ``orientation``."""

    def __init__(
        self, grid: CoreRangeSet, shard_shape, shard_orientation: ShardOrientation = ShardOrientation.ROW_MAJOR
    ):
        if isinstance(grid, CoreRange):
            grid = CoreRangeSet([grid])
        if not isinstance(grid, CoreRangeSet):
            raise TypeError(f"ShardSpec: grid must be a ttnn.CoreRangeSet, got {grid!r}")
        shape = list(shard_shape)
        if len(shape) != 2:
            raise ValueError(f"ShardSpec: shard_shape must have 2 entries, got {shard_shape!r}")
        self.grid = grid
        self.shape = [int(shape[0]), int(shape[1])]
        self.orientation = shard_orientation

    def num_cores(self) -> int:
        return self.grid.num_cores()

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ShardSpec)
            and self.grid == other.grid
            and list(self.shape) == list(other.shape)
            and self.orientation == other.orientation
        )

    def __hash__(self) -> int:
        return hash((self.grid, tuple(self.shape), self.orientation))

    def __repr__(self) -> str:
        return f"ShardSpec(grid={self.grid!r}, shape={self.shape}, orientation={self.orientation!r})"


class MemoryConfig:
    """``ttnn.MemoryConfig(memory_layout=INTERLEAVED, buffer_type=DRAM, shard_spec=None)``."""

    def __init__(
        self,
        memory_layout: TensorMemoryLayout = TensorMemoryLayout.INTERLEAVED,
        buffer_type: BufferType = BufferType.DRAM,
        shard_spec: Optional[ShardSpec] = None,
    ):
        if not isinstance(memory_layout, TensorMemoryLayout):
            raise TypeError(f"MemoryConfig: memory_layout must be a ttnn.TensorMemoryLayout, got {memory_layout!r}")
        if not isinstance(buffer_type, BufferType):
            raise TypeError(f"MemoryConfig: buffer_type must be a ttnn.BufferType, got {buffer_type!r}")
        if shard_spec is not None and not isinstance(shard_spec, ShardSpec):
            raise TypeError(f"MemoryConfig: shard_spec must be a ttnn.ShardSpec, got {shard_spec!r}")
        self.memory_layout = memory_layout
        self.buffer_type = buffer_type
        self.shard_spec = shard_spec
        self.nd_shard_spec = None

    def is_sharded(self) -> bool:
        return self.memory_layout != TensorMemoryLayout.INTERLEAVED

    def with_shard_spec(self, shard_spec: Optional[ShardSpec]) -> "MemoryConfig":
        return MemoryConfig(self.memory_layout, self.buffer_type, shard_spec)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MemoryConfig)
            and self.memory_layout == other.memory_layout
            and self.buffer_type == other.buffer_type
            and self.shard_spec == other.shard_spec
        )

    def __hash__(self) -> int:
        return hash((self.memory_layout, self.buffer_type, self.shard_spec))

    def __repr__(self) -> str:
        return (
            f"MemoryConfig(memory_layout={self.memory_layout!r}, buffer_type={self.buffer_type!r}, "
            f"shard_spec={self.shard_spec!r})"
        )


DRAM_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.DRAM)
L1_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.L1)
L1_BLOCK_SHARDED_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.BLOCK_SHARDED, BufferType.L1)
L1_HEIGHT_SHARDED_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.HEIGHT_SHARDED, BufferType.L1)
L1_WIDTH_SHARDED_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.WIDTH_SHARDED, BufferType.L1)


def create_sharded_memory_config(
    shape,
    core_grid,
    strategy: ShardStrategy,
    orientation: Optional[ShardOrientation] = None,
    use_height_and_width_as_shard_shape: bool = False,
) -> MemoryConfig:
    """Same algorithm and error messages as ``ttnn/core.py::create_sharded_memory_config`` (wheel 0.81.1)."""
    if not isinstance(shape, (list, tuple)) and not hasattr(shape, "__iter__"):
        raise RuntimeError("Invalid input shape")
    if not isinstance(core_grid, (CoreGrid, tuple, list, CoreRangeSet)):
        raise RuntimeError("Invalid core_grid type")
    layouts = {
        ShardStrategy.BLOCK: TensorMemoryLayout.BLOCK_SHARDED,
        ShardStrategy.WIDTH: TensorMemoryLayout.WIDTH_SHARDED,
        ShardStrategy.HEIGHT: TensorMemoryLayout.HEIGHT_SHARDED,
    }
    if strategy not in layouts:
        raise RuntimeError("Invalid sharding strategy")
    layout = layouts[strategy]
    if orientation is None:
        orientation = ShardOrientation.ROW_MAJOR
    if not isinstance(orientation, ShardOrientation):
        raise RuntimeError("Invalid shard orientation")

    if isinstance(core_grid, CoreGrid):
        grid = CoreRangeSet({CoreRange(CoreCoord(0, 0), CoreCoord(core_grid.x - 1, core_grid.y - 1))})
    elif isinstance(core_grid, (list, tuple)):
        if len(core_grid) != 2:
            raise RuntimeError("Invalid core_grid")
        if not all(isinstance(g, CoreGrid) for g in core_grid):
            raise RuntimeError("Invalid core_grid type")
        grid = CoreRangeSet(
            {
                CoreRange(CoreCoord(0, 0), CoreCoord(core_grid[0].x - 1, core_grid[0].y - 1)),
                CoreRange(CoreCoord(0, core_grid[0].y), CoreCoord(core_grid[1].x - 1, core_grid[0].y)),
            }
        )
    else:
        grid = core_grid
        if not use_height_and_width_as_shard_shape:
            raise RuntimeError("height and width must be shard shape with CoreRangeSet")

    *batch, height, width = list(shape)
    batch_size = math.prod(batch) if batch else 1
    if use_height_and_width_as_shard_shape:
        shard_shape = (height, width) if orientation == ShardOrientation.ROW_MAJOR else (width, height)
    else:
        shard_height = batch_size * height
        shard_width = width
        if strategy == ShardStrategy.BLOCK:
            gy, gx = (
                (core_grid.y, core_grid.x) if orientation == ShardOrientation.ROW_MAJOR else (core_grid.x, core_grid.y)
            )
            if shard_height % gy != 0 or shard_width % gx != 0:
                raise RuntimeError("Invalid sharding core_grid")
            shard_shape = (shard_height // gy, shard_width // gx)
        elif strategy == ShardStrategy.HEIGHT:
            total = core_grid.x * core_grid.y
            if shard_height % total != 0:
                raise RuntimeError("Invalid sharding core_grid")
            shard_shape = (shard_height // total, shard_width)
        else:
            total = core_grid.x * core_grid.y
            if shard_width % total != 0:
                raise RuntimeError("Invalid sharding core_grid")
            shard_shape = (shard_height, shard_width // total)
    return MemoryConfig(layout, BufferType.L1, ShardSpec(grid, shard_shape, orientation))


# --------------------------------------------------------------------------------------------------- compute


class WormholeComputeKernelConfig:
    """``ttnn.WormholeComputeKernelConfig``; defaults as the reference §3 lists for the Python binding."""

    def __init__(
        self,
        math_fidelity: MathFidelity = MathFidelity.LoFi,
        math_approx_mode: bool = True,
        fp32_dest_acc_en: bool = False,
        packer_l1_acc: bool = False,
        dst_full_sync_en: bool = False,
        throttle_level: ThrottleLevel = ThrottleLevel.NO_THROTTLE,
    ):
        if not isinstance(math_fidelity, MathFidelity):
            raise TypeError(f"math_fidelity must be a ttnn.MathFidelity, got {math_fidelity!r}")
        self.math_fidelity = math_fidelity
        self.math_approx_mode = bool(math_approx_mode)
        self.fp32_dest_acc_en = bool(fp32_dest_acc_en)
        self.packer_l1_acc = bool(packer_l1_acc)
        self.dst_full_sync_en = bool(dst_full_sync_en)
        self.throttle_level = throttle_level

    def _key(self):
        return (
            self.math_fidelity,
            self.math_approx_mode,
            self.fp32_dest_acc_en,
            self.packer_l1_acc,
            self.dst_full_sync_en,
            self.throttle_level,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WormholeComputeKernelConfig) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"WormholeComputeKernelConfig(math_fidelity={self.math_fidelity!r}, math_approx_mode={self.math_approx_mode}, "
            f"fp32_dest_acc_en={self.fp32_dest_acc_en}, packer_l1_acc={self.packer_l1_acc}, "
            f"dst_full_sync_en={self.dst_full_sync_en})"
        )


BlackholeComputeKernelConfig = WormholeComputeKernelConfig
DeviceComputeKernelConfig = WormholeComputeKernelConfig


def init_device_compute_kernel_config(
    arch=None,
    device_kernel_config: Optional[WormholeComputeKernelConfig] = None,
    *,
    math_fidelity: MathFidelity = MathFidelity.LoFi,
    math_approx_mode: bool = True,
    fp32_dest_acc_en: bool = False,
    packer_l1_acc: bool = False,
    dst_full_sync_en: bool = False,
) -> WormholeComputeKernelConfig:
    if device_kernel_config is not None:
        return device_kernel_config
    return WormholeComputeKernelConfig(
        math_fidelity, math_approx_mode, fp32_dest_acc_en, packer_l1_acc, dst_full_sync_en
    )


# --------------------------------------------------------------------------------------------------- programs


class _ConfigBase:
    _fields: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(getattr(self, f) == getattr(other, f) for f in self._fields)

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + tuple(repr(getattr(self, f)) for f in self._fields))

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({inner})"


def _grid(value) -> CoreCoord:
    if isinstance(value, CoreCoord):
        return value
    if isinstance(value, CoreGrid):
        return CoreCoord(value.x, value.y)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return CoreCoord(int(value[0]), int(value[1]))
    raise TypeError(f"compute_with_storage_grid_size must be a ttnn.CoreCoord or (x, y), got {value!r}")


def _set_blocking(cfg, grid, in0_block_w, out_subblock_h, out_subblock_w, per_core_M, per_core_N) -> None:
    """The grid and blocking fields the three multi-core matmul program configs share, normalized."""
    cfg.compute_with_storage_grid_size = _grid(grid)
    cfg.in0_block_w = int(in0_block_w)
    cfg.out_subblock_h = int(out_subblock_h)
    cfg.out_subblock_w = int(out_subblock_w)
    cfg.per_core_M = int(per_core_M)
    cfg.per_core_N = int(per_core_N)


class MatmulMultiCoreReuseProgramConfig(_ConfigBase):
    _fields = (
        "compute_with_storage_grid_size",
        "in0_block_w",
        "out_subblock_h",
        "out_subblock_w",
        "per_core_M",
        "per_core_N",
        "allowed_worker_cores",
    )

    def __init__(
        self,
        *,
        compute_with_storage_grid_size,
        in0_block_w: int,
        out_subblock_h: int,
        out_subblock_w: int,
        per_core_M: int,
        per_core_N: int,
        allowed_worker_cores: Optional[CoreRangeSet] = None,
    ):
        _set_blocking(
            self, compute_with_storage_grid_size, in0_block_w, out_subblock_h, out_subblock_w, per_core_M, per_core_N
        )
        self.allowed_worker_cores = allowed_worker_cores


class MatmulMultiCoreReuseMultiCastProgramConfig(_ConfigBase):
    _fields = (
        "compute_with_storage_grid_size",
        "in0_block_w",
        "out_subblock_h",
        "out_subblock_w",
        "out_block_h",
        "out_block_w",
        "per_core_M",
        "per_core_N",
        "transpose_mcast",
        "fused_activation",
        "fuse_batch",
        "allowed_worker_cores",
    )

    def __init__(
        self,
        *,
        compute_with_storage_grid_size,
        in0_block_w: int,
        out_subblock_h: int,
        out_subblock_w: int,
        per_core_M: int,
        per_core_N: int,
        out_block_h: Optional[int] = None,
        out_block_w: Optional[int] = None,
        transpose_mcast: bool = False,
        fused_activation: Optional[UnaryWithParam] = None,
        fuse_batch: bool = True,
        allowed_worker_cores: Optional[CoreRangeSet] = None,
    ):
        _set_blocking(
            self, compute_with_storage_grid_size, in0_block_w, out_subblock_h, out_subblock_w, per_core_M, per_core_N
        )
        # binding lambda: out_block_h.value_or(per_core_M) (reference §1.2)
        self.out_block_h = int(per_core_M if out_block_h is None else out_block_h)
        self.out_block_w = int(per_core_N if out_block_w is None else out_block_w)
        self.transpose_mcast = bool(transpose_mcast)
        self.fused_activation = _activation(fused_activation)
        self.fuse_batch = bool(fuse_batch)
        self.allowed_worker_cores = allowed_worker_cores


class MatmulMultiCoreReuseMultiCast1DProgramConfig(_ConfigBase):
    _fields = (
        "compute_with_storage_grid_size",
        "in0_block_w",
        "out_subblock_h",
        "out_subblock_w",
        "out_block_h",
        "out_block_w",
        "per_core_M",
        "per_core_N",
        "fuse_batch",
        "fused_activation",
        "mcast_in0",
        "gather_in0",
        "hop_cores",
        "num_global_cb_receivers",
        "untilize_out",
        "allowed_worker_cores",
        "stream_in1",
    )

    def __init__(
        self,
        *,
        compute_with_storage_grid_size,
        in0_block_w: int,
        out_subblock_h: int,
        out_subblock_w: int,
        per_core_M: int,
        per_core_N: int,
        fuse_batch: bool,
        mcast_in0: bool,
        out_block_h: Optional[int] = None,
        out_block_w: Optional[int] = None,
        fused_activation: Optional[UnaryWithParam] = None,
        gather_in0: bool = False,
        hop_cores: Optional[CoreRangeSet] = None,
        num_global_cb_receivers: int = 1,
        untilize_out: bool = False,
        allowed_worker_cores: Optional[CoreRangeSet] = None,
        stream_in1: bool = False,
    ):
        _set_blocking(
            self, compute_with_storage_grid_size, in0_block_w, out_subblock_h, out_subblock_w, per_core_M, per_core_N
        )
        self.out_block_h = int(per_core_M if out_block_h is None else out_block_h)
        self.out_block_w = int(per_core_N if out_block_w is None else out_block_w)
        self.fuse_batch = bool(fuse_batch)
        self.fused_activation = _activation(fused_activation)
        self.mcast_in0 = bool(mcast_in0)
        self.gather_in0 = bool(gather_in0)
        self.hop_cores = hop_cores if hop_cores is not None else CoreRangeSet()
        self.num_global_cb_receivers = int(num_global_cb_receivers)
        self.untilize_out = bool(untilize_out)
        self.allowed_worker_cores = allowed_worker_cores
        self.stream_in1 = bool(stream_in1)


class MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(_ConfigBase):
    _fields = ("in0_block_w", "per_core_M", "per_core_N", "fused_activation", "num_workers_per_dram_bank")

    def __init__(
        self,
        *,
        in0_block_w: int,
        per_core_M: int,
        per_core_N: int,
        fused_activation: Optional[UnaryWithParam] = None,
        num_workers_per_dram_bank: int = 1,
    ):
        self.in0_block_w = int(in0_block_w)
        self.per_core_M = int(per_core_M)
        self.per_core_N = int(per_core_N)
        self.fused_activation = _activation(fused_activation)
        self.num_workers_per_dram_bank = int(num_workers_per_dram_bank)


def _activation(value) -> Optional[UnaryWithParam]:
    if value is None or isinstance(value, UnaryWithParam):
        return value
    if isinstance(value, UnaryOpType):
        return UnaryWithParam(value)
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], UnaryOpType):
        return UnaryWithParam(value[0], value[1] if len(value) > 1 else None)
    raise TypeError(f"fused_activation must be a ttnn.UnaryWithParam, got {value!r}")


MATMUL_PROGRAM_CONFIGS = (
    MatmulMultiCoreReuseProgramConfig,
    MatmulMultiCoreReuseMultiCastProgramConfig,
    MatmulMultiCoreReuseMultiCast1DProgramConfig,
    MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig,
)


class LayerNormDefaultProgramConfig(_ConfigBase):
    _fields = ("legacy_reduction", "use_welford")

    def __init__(self, *, legacy_reduction: bool = False, use_welford: bool = False):
        self.legacy_reduction = bool(legacy_reduction)
        self.use_welford = bool(use_welford)


class LayerNormShardedMultiCoreProgramConfig(_ConfigBase):
    _fields = (
        "compute_with_storage_grid_size",
        "subblock_w",
        "block_h",
        "block_w",
        "inplace",
        "legacy_reduction",
        "use_welford",
    )

    def __init__(
        self,
        *,
        compute_with_storage_grid_size,
        subblock_w: int,
        block_h: int,
        block_w: int,
        inplace: bool = False,
        legacy_reduction: bool = False,
        use_welford: bool = False,
    ):
        self.compute_with_storage_grid_size = _grid(compute_with_storage_grid_size)
        self.subblock_w = int(subblock_w)
        self.block_h = int(block_h)
        self.block_w = int(block_w)
        self.inplace = bool(inplace)
        self.legacy_reduction = bool(legacy_reduction)
        self.use_welford = bool(use_welford)


class SDPAProgramConfig(_ConfigBase):
    _fields = (
        "compute_with_storage_grid_size",
        "sub_core_grids",
        "q_chunk_size",
        "k_chunk_size",
        "exp_approx_mode",
        "max_cores_per_head_batch",
        "max_k_splits",
        "matmul_math_fidelity",
        "segmented_accumulation",
    )

    def __init__(
        self,
        *,
        compute_with_storage_grid_size,
        q_chunk_size: int,
        k_chunk_size: int,
        sub_core_grids: Optional[CoreRangeSet] = None,
        exp_approx_mode: Optional[bool] = None,
        max_cores_per_head_batch: int = 16,
        max_k_splits: Optional[int] = None,
        matmul_math_fidelity: Optional[MathFidelity] = None,
        segmented_accumulation: bool = False,
    ):
        self.compute_with_storage_grid_size = _grid(compute_with_storage_grid_size)
        self.sub_core_grids = sub_core_grids
        self.q_chunk_size = int(q_chunk_size)
        self.k_chunk_size = int(k_chunk_size)
        self.exp_approx_mode = exp_approx_mode
        self.max_cores_per_head_batch = int(max_cores_per_head_batch)
        self.max_k_splits = max_k_splits
        self.matmul_math_fidelity = matmul_math_fidelity
        self.segmented_accumulation = bool(segmented_accumulation)
