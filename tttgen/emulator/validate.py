"""The emulator's own implementation of ttnn's validation rules and L1 circular-buffer estimates.

Independent by design: nothing here imports tttgen's generator-side rules. Rules come from
``/work/shared/reference/ttnn-rules-and-hardware.md`` (§1.3-1.7, §1.11, §5, checklist §7), from tt-metal device
operations read through the code index (cited per function) and from the TT_FATAL strings compiled into the 0.81.1
wheel (``ttnn/build/lib/_ttnncpp.so``); messages quote that wording where it exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from . import dtypes as dt
from .configs import (
    BufferType,
    CoreCoord,
    CoreRange,
    CoreRangeSet,
    LayerNormShardedMultiCoreProgramConfig,
    MathFidelity,
    MatmulMultiCoreReuseMultiCast1DProgramConfig,
    MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig,
    MatmulMultiCoreReuseMultiCastProgramConfig,
    MatmulMultiCoreReuseProgramConfig,
    MemoryConfig,
    SDPAProgramConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
    UnaryWithParam,
    WormholeComputeKernelConfig,
    dst_tile_capacity,
    num_cores_to_corerangeset,
)
from .device import Arch, Device
from .dtypes import DataType, Layout
from .errors import EmulatorUnsupported, check, fail

TILE = dt.TILE_SIZE


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# ============================================================================================ placement


def validate_tensor_placement(
    op: str, mem: MemoryConfig, padded, dtype: DataType, layout: Layout, device: Device
) -> None:
    """Shard-spec consistency of a device tensor (tensor creation, resharding, op outputs)."""
    if not isinstance(mem, MemoryConfig):
        fail(op, "memory_config.type", f"memory_config must be a ttnn.MemoryConfig, got {mem!r}")
    if mem.buffer_type not in (BufferType.DRAM, BufferType.L1):
        fail(op, "memory_config.buffer_type", f"buffer type {mem.buffer_type.name} cannot hold a tensor")
    if not mem.is_sharded():
        return
    spec = mem.shard_spec
    check(
        spec is not None,
        op,
        "shard.missing_spec",
        f"Shard spec must not be None for sharded tensors (memory layout {mem.memory_layout.name}, buffer {mem.buffer_type.name})",
    )
    sh, sw = spec.shape
    check(sh > 0 and sw > 0, op, "shard.shape_positive", f"shard shape {spec.shape} must be positive")
    bbox = spec.grid.bounding_box()
    if mem.buffer_type == BufferType.L1:
        g = device.compute_with_storage_grid_size()
        check(
            bbox.end.x < g.x and bbox.end.y < g.y,
            op,
            "shard.grid_outside_device",
            f"shard grid {spec.grid!r} does not fit the device compute grid {g.x}x{g.y} "
            f"(bbox.end_coord.x < compute_with_storage_grid_size().x && bbox.end_coord.y < ...y)",
        )
    else:
        check(
            bbox.end.y == 0 and bbox.end.x < device.spec.dram_banks,
            op,
            "shard.dram_grid",
            f"DRAM shard grid {spec.grid!r} must lie in the DRAM bank row (0,0)..({device.spec.dram_banks - 1},0)",
        )
    if layout == Layout.TILE:
        check(
            sh % TILE == 0 and sw % TILE == 0,
            op,
            "shard.tile_multiple",
            f"shard shape {spec.shape} of a TILE tensor must be whole tiles (shard_spec.shape[0] % TILE_HEIGHT == 0 and "
            f"shard_spec.shape[1] % TILE_WIDTH == 0)",
        )
    height = math.prod(padded[:-1]) if len(padded) > 1 else 1
    width = padded[-1]
    ncores = spec.num_cores()
    lay = mem.memory_layout
    if lay == TensorMemoryLayout.HEIGHT_SHARDED:
        check(
            sw == width,
            op,
            "shard.height_width",
            f"HEIGHT_SHARDED: shard width {sw} must equal the tensor width {width}",
        )
        need = ceil_div(height, sh)
        check(
            need <= ncores,
            op,
            "shard.cover",
            f"HEIGHT_SHARDED: {ncores} shards of height {sh} cannot cover the tensor height {height} (needs {need})",
        )
    elif lay == TensorMemoryLayout.WIDTH_SHARDED:
        check(
            sh == height,
            op,
            "shard.width_height",
            f"WIDTH_SHARDED: shard height {sh} must equal the tensor height {height} (padded shape {list(padded)})",
        )
        need = ceil_div(width, sw)
        check(
            need <= ncores,
            op,
            "shard.cover",
            f"WIDTH_SHARDED: {ncores} shards of width {sw} cannot cover the tensor width {width} (needs {need})",
        )
    elif lay == TensorMemoryLayout.BLOCK_SHARDED:
        g = bbox.grid_size()
        check(
            g.x * g.y == ncores,
            op,
            "shard.block_rectangle",
            f"BLOCK_SHARDED needs a rectangular shard grid, got {spec.grid!r}",
        )
        rows, cols = (g.y, g.x) if spec.orientation == ShardOrientation.ROW_MAJOR else (g.x, g.y)
        check(
            ceil_div(height, sh) <= rows and ceil_div(width, sw) <= cols,
            op,
            "shard.cover",
            f"BLOCK_SHARDED {spec.orientation.name}: shards {spec.shape} on a {g.x}x{g.y} grid cannot cover "
            f"[{height}, {width}] (needs {ceil_div(height, sh)} rows x {ceil_div(width, sw)} cols of shards)",
        )


def require_tile(op: str, t, name: str) -> None:
    check(t.layout == Layout.TILE, op, "layout.tile", f"{name} must be in TILE layout, got {t.layout.name}")


def require_tile_aligned(op: str, t, name: str) -> None:
    """tttgen contract: a TILE operand of this op must have a tile-aligned logical height too."""
    require_tile(op, t, name)
    check(
        t.shape[-2] % TILE == 0,
        op,
        "contract.tile_height",
        f"{name} has logical shape {list(t.shape)}; its height {t.shape[-2]} is not a multiple of 32. ttnn would "
        "operate on the zero-padded tile, but the tttgen contract needs tile-aligned operands for this op "
        "(pad rows on the host, e.g. the decode batch to 32)",
    )


def require_same_device(op: str, *tensors) -> Device:
    devs = {id(t.device()) for t in tensors if t is not None}
    check(len(devs) == 1, op, "device.same", "Operands need to be on the same device!")
    return tensors[0].device()


# ============================================================================================ compute configs


def matmul_default_compute_config(
    device: Device, program_config, a_dtype: DataType, b_dtype: DataType, out_dtype: DataType
) -> WormholeComputeKernelConfig:
    """Reference §1.9 (matmul_device_operation.cpp ``create_matmul_attributes``)."""
    if program_config is not None or (a_dtype in dt.BLOCK_FLOAT_TYPES and b_dtype in dt.BLOCK_FLOAT_TYPES):
        fidelity = MathFidelity.LoFi
    else:
        fidelity = MathFidelity.HiFi2
    if a_dtype == DataType.FLOAT32 and b_dtype == DataType.FLOAT32:
        fidelity = MathFidelity.HiFi3 if device.spec.arch == Arch.WORMHOLE_B0 else MathFidelity.HiFi4
    fp32 = out_dtype == DataType.FLOAT32
    return WormholeComputeKernelConfig(
        math_fidelity=fidelity,
        math_approx_mode=False,
        fp32_dest_acc_en=fp32,
        packer_l1_acc=not fp32,
        dst_full_sync_en=False,
    )


def norm_default_compute_config() -> WormholeComputeKernelConfig:
    """Reference §3: layernorm/rmsnorm/rotary default to HiFi4, approx true, fp32 false, l1acc false."""
    return WormholeComputeKernelConfig(MathFidelity.HiFi4, True, False, False, False)


def sdpa_default_compute_config() -> WormholeComputeKernelConfig:
    """ttnn/cpp/ttnn/operations/transformer/sdpa/sdpa.cpp: init_device_compute_kernel_config(arch, cfg,
    MathFidelity::HiFi2, true, false, false)."""
    return WormholeComputeKernelConfig(MathFidelity.HiFi2, True, False, False, False)


def check_compute_config(op: str, cfg) -> WormholeComputeKernelConfig:
    check(
        isinstance(cfg, WormholeComputeKernelConfig),
        op,
        "compute_kernel_config.type",
        f"compute_kernel_config must be a ttnn.WormholeComputeKernelConfig, got {cfg!r}",
    )
    check(cfg.math_fidelity != MathFidelity.Invalid, op, "compute_kernel_config.fidelity", "math_fidelity is Invalid")
    return cfg


# ============================================================================================ matmul


@dataclass
class MatmulPlan:
    out_mem: MemoryConfig
    compute: WormholeComputeKernelConfig
    activation: Optional[UnaryWithParam]
    cb_bytes: Optional[int] = None
    cb_detail: str = ""
    in0_block_w: Optional[int] = None


def _interm_tile_bytes(cfg: WormholeComputeKernelConfig, out_dtype: DataType) -> tuple[int, bool]:
    """(interm tile bytes, shares the output CB). Interm format: FP32 with fp32 acc, else Float16_b with packer L1
    acc, else the output format (reference §3); the 2D/1D/reuse factories alias interm0 onto the output CB when the
    two formats match ("if ((interm0_data_format != output_data_format) || ...)" in the program factories)."""
    if cfg.fp32_dest_acc_en:
        fmt = DataType.FLOAT32
    elif cfg.packer_l1_acc:
        fmt = DataType.BFLOAT16
    else:
        fmt = out_dtype
    return dt.TILE_BYTES[fmt], fmt == out_dtype


def _matmul_cb_estimate(
    pcM: int,
    pcN: int,
    in0_block_w: int,
    a_dtype,
    b_dtype,
    out_dtype,
    cfg,
    out_sharded: bool,
    bias_dtype,
    in1_buffers: int = 2,
) -> tuple[int, str]:
    """Reference §1.11 ``get_estimated_size_of_cbs``: in0 = pcM*w*2 tiles, in1 = pcN*w*2 tiles, out = pcM*pcN tiles,
    interm = pcM*pcN interm tiles, bias = pcN tiles. The out CB is not counted when the output is an L1-sharded
    buffer (the CB is backed by that buffer, which is already a live allocation); interm is not counted when it
    aliases the out CB."""
    in0 = pcM * in0_block_w * 2 * dt.TILE_BYTES[a_dtype]
    in1 = pcN * in0_block_w * in1_buffers * dt.TILE_BYTES[b_dtype]
    out = 0 if out_sharded else pcM * pcN * dt.TILE_BYTES[out_dtype]
    interm_tile, shared = _interm_tile_bytes(cfg, out_dtype)
    interm = 0 if shared else pcM * pcN * interm_tile
    bias = pcN * dt.TILE_BYTES[bias_dtype] if bias_dtype is not None else 0
    total = in0 + in1 + out + interm + bias
    detail = f"in0 {in0} + in1 {in1} + out {out} + interm {interm} + bias {bias}"
    return total, detail


def _check_positive(op: str, cfg, names) -> None:
    for n in names:
        v = getattr(cfg, n)
        check(v > 0, op, "matmul.nonzero", f"{n} is 0, which is not valid (got {v})")


def _check_grid(op: str, grid: CoreCoord, device: Device) -> None:
    g = device.compute_with_storage_grid_size()
    check(
        0 < grid.x <= g.x and 0 < grid.y <= g.y,
        op,
        "matmul.grid",
        f"compute_with_storage_grid_size ({grid.x}, {grid.y}) must fit within device grid ({g.x}, {g.y})",
    )


def _check_subblock(op: str, pc, cfg: WormholeComputeKernelConfig) -> None:
    cap = dst_tile_capacity(cfg)
    area = pc.out_subblock_h * pc.out_subblock_w
    check(
        area <= cap,
        op,
        "matmul.dst_limit",
        f"out_subblock_w {pc.out_subblock_w} times out_subblock_h {pc.out_subblock_h} needs to be at most {cap} to fit "
        f"in hardware (fp32_dest_acc_en={cfg.fp32_dest_acc_en}, dst_full_sync_en={cfg.dst_full_sync_en})",
    )


def _check_kt(op: str, Kt: int, in0_block_w: int) -> None:
    check(
        Kt % in0_block_w == 0,
        op,
        "matmul.kt_in0_block_w",
        f"Kt % in0_block_w == 0 failed: K ({Kt} tiles) must be divisible by in0_block_w ({in0_block_w})",
    )


def _check_out_subblock_rule(op: str, pc) -> None:
    check(
        pc.out_subblock_w == pc.per_core_N or pc.out_subblock_h == 1,
        op,
        "matmul.sharded_out_subblock",
        f"out_subblock_w ({pc.out_subblock_w}) must equal per_core_N ({pc.per_core_N}) or out_subblock_h "
        f"({pc.out_subblock_h}) must be 1 (sharded output)",
    )


def _check_out_block_rule(op: str, pc) -> None:
    check(
        pc.out_block_w == pc.per_core_N or pc.out_block_h == 1,
        op,
        "matmul.sharded_out_block",
        f"Error: out_block_w must be equal to per_core_N or out_block_h must be equal to 1. (out_block_w={pc.out_block_w}, "
        f"per_core_N={pc.per_core_N}, out_block_h={pc.out_block_h})",
    )


def _shard_tiles(t) -> tuple[int, int]:
    s = t.memory_config().shard_spec
    return s.shape[0] // TILE, s.shape[1] // TILE


def _in0_shard_width_rule(op: str, shard_w_t: int, in0_block_w: int) -> None:
    # 0.81.1: "in0_shard_width_tiles % program_config.in0_block_w == 0 || program_config.in0_block_w %
    # in0_shard_width_tiles == 0" / "in0_block_w ({}) wider than the in0 shard ({} tiles) must be a multiple of it"
    check(
        shard_w_t % in0_block_w == 0 or in0_block_w % shard_w_t == 0,
        op,
        "matmul.in0_shard_width",
        f"in0 shard width ({shard_w_t} tiles) must be divisible by in0_block_w ({in0_block_w}), or in0_block_w wider "
        f"than the in0 shard must be a multiple of it",
    )


def plan_matmul(
    op: str,
    a,
    b,
    *,
    bias=None,
    program_config=None,
    memory_config: Optional[MemoryConfig] = None,
    dtype: Optional[DataType] = None,
    compute_kernel_config=None,
    activation=None,
    core_grid=None,
) -> MatmulPlan:
    device = a.require_device(op)
    b.require_device(op)
    require_same_device(op, a, b)
    require_tile(op, a, "input_tensor_a")
    require_tile(op, b, "input_tensor_b")
    check(dt.is_float(a.dtype), op, "matmul.a_dtype", f"input A dtype must be floating point, got {a.dtype.name}")
    check(dt.is_float(b.dtype), op, "matmul.b_dtype", f"input B dtype must be floating point, got {b.dtype.name}")
    check(
        a.shape[-1] == b.shape[-2],
        op,
        "matmul.k_mismatch",
        f"The width of the first tensor must be equal to the height of the second tensor ({a.shape[-1]} != {b.shape[-2]}); "
        f"a={list(a.shape)} b={list(b.shape)} (ttnn.linear computes a @ b, so B is [K, N])",
    )
    require_tile_aligned(op, a, "input_tensor_a")
    require_tile_aligned(op, b, "input_tensor_b")
    out_dtype = dtype if dtype is not None else a.dtype
    check(
        isinstance(out_dtype, DataType) and dt.is_float(out_dtype),
        op,
        "matmul.out_dtype",
        f"output dtype must be a float ttnn.DataType, got {out_dtype!r}",
    )

    Mt = a.padded_shape[-2] // TILE
    Kt = a.padded_shape[-1] // TILE
    Nt = b.padded_shape[-1] // TILE
    batch_a = math.prod(a.padded_shape[:-2]) if a.padded_shape.rank > 2 else 1
    batch_b = math.prod(b.padded_shape[:-2]) if b.padded_shape.rank > 2 else 1
    if batch_b > 1:
        check(
            batch_b == batch_a and a.padded_shape[:-2] == b.padded_shape[:-2],
            op,
            "matmul.batch",
            f"bmm (non-bcast matmul) expects input tensors of shapes BCMK*BCKN=BCMN or equivalent: a={list(a.shape)} b={list(b.shape)}",
        )
        check(bias is None, op, "linear.bias_batched_b", "linear does not support bias when input B is batched")
    if bias is not None:
        require_tile(op, bias, "bias")
        check(
            bias.padded_shape[-2] == TILE
            and bias.padded_shape[-1] == b.padded_shape[-1]
            and math.prod(bias.padded_shape[:-2] or [1]) == 1,
            op,
            "matmul.bias_shape",
            f"bias must have batch 1, padded height 32 and padded width {b.padded_shape[-1]}; got padded {list(bias.padded_shape)}",
        )

    if compute_kernel_config is None:
        cfg = matmul_default_compute_config(
            device, program_config if program_config is not None else core_grid, a.dtype, b.dtype, out_dtype
        )
    else:
        cfg = check_compute_config(op, compute_kernel_config)

    out_mem = (
        memory_config if memory_config is not None else MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.DRAM)
    )
    check(
        isinstance(out_mem, MemoryConfig),
        op,
        "memory_config.type",
        f"memory_config must be a ttnn.MemoryConfig, got {out_mem!r}",
    )
    a_sharded = a.is_sharded()
    out_sharded = out_mem.is_sharded()
    act = (
        program_config.fused_activation if getattr(program_config, "fused_activation", None) is not None else activation
    )
    bias_dtype = bias.dtype if bias is not None else None

    if program_config is None:
        # ttnn's auto-config (reference §1.10) picks a valid config that fits; the emulator does not model its choice.
        if out_sharded and out_mem.shard_spec is None:
            check(
                a_sharded and a.memory_config().memory_layout == out_mem.memory_layout,
                op,
                "matmul.infer_output_shard",
                "Input tensor must be sharded to infer output memory config (output "
                f"{out_mem.memory_layout.name} without a shard spec and no program_config)",
            )
            a_spec = a.memory_config().shard_spec
            out_mem = out_mem.with_shard_spec(
                ShardSpec(
                    a_spec.grid,
                    [
                        a_spec.shape[0],
                        (
                            b.padded_shape[-1]
                            if out_mem.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED
                            else ceil_div(b.padded_shape[-1], a_spec.num_cores())
                        ),
                    ],
                    a_spec.orientation,
                )
            )
        return MatmulPlan(out_mem, cfg, act, None, "auto-config (not estimated)")

    pc = program_config
    if isinstance(pc, MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig):
        return _plan_dram_sharded(op, a, b, pc, cfg, out_mem, out_dtype, Mt, Kt, Nt, batch_a, act, bias_dtype, device)

    if isinstance(pc, MatmulMultiCoreReuseMultiCast1DProgramConfig) and pc.gather_in0:
        raise EmulatorUnsupported(
            f"{op}: gather_in0 1D matmuls (global circular buffers, sub-devices) are not emulated"
        )

    if isinstance(pc, MatmulMultiCoreReuseProgramConfig):
        _check_positive(op, pc, ("in0_block_w", "out_subblock_h", "out_subblock_w", "per_core_M", "per_core_N"))
    elif isinstance(pc, (MatmulMultiCoreReuseMultiCastProgramConfig, MatmulMultiCoreReuseMultiCast1DProgramConfig)):
        _check_positive(
            op,
            pc,
            (
                "in0_block_w",
                "out_subblock_h",
                "out_subblock_w",
                "out_block_h",
                "out_block_w",
                "per_core_M",
                "per_core_N",
            ),
        )
    else:
        fail(op, "matmul.program_config_type", f"unsupported program_config type {type(pc).__name__}")

    _check_grid(op, pc.compute_with_storage_grid_size, device)
    _check_kt(op, Kt, pc.in0_block_w)
    _check_subblock(op, pc, cfg)
    grid = pc.compute_with_storage_grid_size
    for name, t in (("input_tensor_a", a), ("input_tensor_b", b)):
        if t.is_sharded() and t.memory_config().buffer_type == BufferType.L1:
            bb = t.memory_config().shard_spec.grid.bounding_box()
            check(
                bb.end.x < grid.x and bb.end.y < grid.y,
                op,
                "matmul.tensor_in_grid",
                f"{name} shard grid {t.memory_config().shard_spec.grid!r} must lie inside compute_with_storage_grid_size ({grid.x}, {grid.y})",
            )
    pcM, pcN = pc.per_core_M, pc.per_core_N

    if isinstance(pc, MatmulMultiCoreReuseProgramConfig):
        check(
            pcM % pc.out_subblock_h == 0,
            op,
            "matmul.subblock_h_divides",
            f"program_config.per_core_M % program_config.out_subblock_h == 0 failed: per_core_M ({pcM}) must be divisible by out_subblock_h ({pc.out_subblock_h})",
        )
        check(
            pcN % pc.out_subblock_w == 0,
            op,
            "matmul.subblock_w_divides",
            f"per_core_N ({pcN}) must be divisible by out_subblock_w ({pc.out_subblock_w})",
        )
        out_mem = _validate_reuse(op, a, b, pc, out_mem, Mt, Kt, Nt, batch_a, batch_b, device)
    else:
        check(
            pc.out_block_h % pc.out_subblock_h == 0,
            op,
            "matmul.out_block_h",
            f"program_config.out_block_h % program_config.out_subblock_h == 0 failed: out_block_h ({pc.out_block_h}) must be divisible by out_subblock_h ({pc.out_subblock_h})",
        )
        check(
            pc.out_block_w % pc.out_subblock_w == 0,
            op,
            "matmul.out_block_w",
            f"out_block_w ({pc.out_block_w}) must be divisible by out_subblock_w ({pc.out_subblock_w})",
        )
        check(
            pcM % pc.out_block_h == 0,
            op,
            "matmul.per_core_M_block",
            f"per_core_M ({pcM}) must be divisible by out_block_h ({pc.out_block_h})",
        )
        check(
            pcN % pc.out_block_w == 0,
            op,
            "matmul.per_core_N_block",
            f"per_core_N ({pcN}) must be divisible by out_block_w ({pc.out_block_w})",
        )
        if pc.fuse_batch:
            check(
                batch_b == 1,
                op,
                "matmul.fuse_batch",
                f"fuse_batch=True needs the batch dimensions of input B to be 1 (B shape {list(b.shape)})",
            )
        M_eff = batch_a * Mt if pc.fuse_batch else Mt
        if isinstance(pc, MatmulMultiCoreReuseMultiCastProgramConfig):
            out_mem = _validate_2d(op, a, b, pc, out_mem, M_eff, Kt, Nt, device)
        else:
            out_mem = _validate_1d(op, a, b, pc, out_mem, M_eff, Kt, Nt, device)

    out_sharded_l1 = out_mem.is_sharded() and out_mem.buffer_type == BufferType.L1
    if isinstance(pc, MatmulMultiCoreReuseProgramConfig):
        pcN_cb = Nt
    else:
        pcN_cb = pcN
    cb, detail = _matmul_cb_estimate(
        pcM, pcN_cb, pc.in0_block_w, a.dtype, b.dtype, out_dtype, cfg, out_sharded_l1, bias_dtype
    )
    return MatmulPlan(out_mem, cfg, act, cb, detail, pc.in0_block_w)


def _sharded_output_spec(out_mem: MemoryConfig, spec: ShardSpec) -> MemoryConfig:
    return MemoryConfig(out_mem.memory_layout, out_mem.buffer_type, spec)


def _validate_2d(op, a, b, pc, out_mem, M_eff, Kt, Nt, device) -> MemoryConfig:
    """Reference §1.5 / checklist 6, 9, 10."""
    grid = pc.compute_with_storage_grid_size
    nbx = ceil_div(Nt, pc.per_core_N)
    nby = ceil_div(M_eff, pc.per_core_M)
    lim_x, lim_y = (grid.y, grid.x) if pc.transpose_mcast else (grid.x, grid.y)
    check(
        nbx <= lim_x,
        op,
        "matmul2d.num_blocks_x",
        f"num_blocks_x <= grid.x failed: ceil(Nt {Nt} / per_core_N {pc.per_core_N}) = {nbx} > {lim_x}"
        + (" (transpose_mcast)" if pc.transpose_mcast else ""),
    )
    check(
        nby <= lim_y,
        op,
        "matmul2d.num_blocks_y",
        f"num_blocks_y <= grid.y failed: ceil(Mt {M_eff} / per_core_M {pc.per_core_M}) = {nby} > {lim_y}"
        + (" (transpose_mcast)" if pc.transpose_mcast else ""),
    )
    if a.is_sharded():
        amem = a.memory_config()
        check(pc.fuse_batch, op, "matmul2d.a_sharded_fuse_batch", "fuse_batch must be enabled when input A is sharded")
        sh_t, sw_t = _shard_tiles(a)
        if amem.memory_layout == TensorMemoryLayout.BLOCK_SHARDED:
            want = ShardOrientation.COL_MAJOR if pc.transpose_mcast else ShardOrientation.ROW_MAJOR
            check(
                amem.shard_spec.orientation == want,
                op,
                "matmul2d.a_orientation",
                f"block-sharded input A must be {want.name} (transpose_mcast={pc.transpose_mcast}), got {amem.shard_spec.orientation.name}",
            )
            _in0_shard_width_rule(op, sw_t, pc.in0_block_w)
        elif amem.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED:
            check(
                not pc.transpose_mcast,
                op,
                "matmul2d.a_height_transpose",
                "height-sharded input A does not support transpose_mcast",
            )
            check(
                Kt == pc.in0_block_w == sw_t,
                op,
                "matmul2d.a_height_kt",
                f"height-sharded input A needs Kt ({Kt}) == in0_block_w ({pc.in0_block_w}) == shard width in tiles ({sw_t})",
            )
        else:
            fail(
                op,
                "matmul2d.a_layout",
                f"sharded input A must be BLOCK_SHARDED or HEIGHT_SHARDED for the 2D config, got {amem.memory_layout.name}",
            )
        check(
            pc.per_core_M == sh_t,
            op,
            "matmul2d.a_per_core_M",
            f"per_core_M ({pc.per_core_M}) must equal shard_shape[0] / in0_tile.get_height() ({sh_t})",
        )
    if b.is_sharded():
        bmem = b.memory_config()
        check(not pc.transpose_mcast, op, "matmul2d.b_transpose", "sharded input B does not support transpose_mcast")
        if bmem.buffer_type == BufferType.L1:
            check(
                bmem.memory_layout == TensorMemoryLayout.WIDTH_SHARDED,
                op,
                "matmul2d.b_l1_layout",
                f"input B in L1 must be WIDTH_SHARDED, got: {bmem.memory_layout.name}",
            )
            check(
                not a.is_sharded() or a.memory_config().memory_layout == TensorMemoryLayout.HEIGHT_SHARDED,
                op,
                "matmul2d.b_l1_a",
                "L1-sharded input B needs input A interleaved or HEIGHT_SHARDED",
            )
            bw_t = bmem.shard_spec.shape[1] // TILE
            check(
                bw_t == pc.per_core_N,
                op,
                "matmul2d.b_shard_width",
                f"input B shard width in tiles ({bw_t}) must equal per_core_N ({pc.per_core_N})",
            )
        else:
            check(
                bmem.memory_layout in (TensorMemoryLayout.WIDTH_SHARDED, TensorMemoryLayout.HEIGHT_SHARDED),
                op,
                "matmul2d.b_dram_layout",
                f"Input B memory layout must be WIDTH_SHARDED, HEIGHT_SHARDED, or DRAM ND_SHARDED, got: {bmem.memory_layout.name}",
            )
            if bmem.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED:
                check(
                    not pc.fuse_batch,
                    op,
                    "matmul2d.b_height_fuse",
                    "HEIGHT_SHARDED input B requires fuse_batch=false for batched matmul",
                )
    if out_mem.is_sharded():
        lay = out_mem.memory_layout
        ok = (
            lay == TensorMemoryLayout.BLOCK_SHARDED
            or (lay == TensorMemoryLayout.WIDTH_SHARDED and nby == 1)
            or (lay == TensorMemoryLayout.HEIGHT_SHARDED and nbx == 1)
        )
        check(
            ok,
            op,
            "matmul2d.out_layout",
            f"2D matmul sharded output must be BLOCK_SHARDED (WIDTH/HEIGHT only on a 1-row/1-column block grid), got {lay.name} with {nbx}x{nby} blocks",
        )
        _check_out_subblock_rule(op, pc)
        _check_out_block_rule(op, pc)
        if a.is_sharded() and a.memory_config().memory_layout == TensorMemoryLayout.BLOCK_SHARDED:
            check(
                out_mem.buffer_type == a.memory_config().buffer_type and lay == TensorMemoryLayout.BLOCK_SHARDED,
                op,
                "matmul2d.out_like_a",
                "sharded output must have the same buffer type and memory layout as block-sharded input A",
            )
        if pc.transpose_mcast:
            grid_set = CoreRangeSet({CoreRange(CoreCoord(0, 0), CoreCoord(nby - 1, nbx - 1))})
            orient = ShardOrientation.COL_MAJOR
        else:
            grid_set = CoreRangeSet({CoreRange(CoreCoord(0, 0), CoreCoord(nbx - 1, nby - 1))})
            orient = ShardOrientation.ROW_MAJOR
        out_mem = _sharded_output_spec(
            out_mem, ShardSpec(grid_set, [pc.per_core_M * TILE, pc.per_core_N * TILE], orient)
        )
    return out_mem


def _validate_1d(op, a, b, pc, out_mem, M_eff, Kt, Nt, device) -> MemoryConfig:
    """Reference §1.6 / checklist 7, 11, 12 and the 0.81.1 mcast_in1 single-column rule."""
    grid = pc.compute_with_storage_grid_size
    nbx = ceil_div(Nt, pc.per_core_N)
    nby = ceil_div(M_eff, pc.per_core_M)
    check(
        len(pc.hop_cores.ranges()) == 0, op, "matmul1d.hop_cores", "hop_cores must be empty for a non-gather 1D matmul"
    )
    check(
        nbx * nby <= grid.x * grid.y,
        op,
        "matmul1d.num_blocks",
        f"num_blocks_x * num_blocks_y ({nbx} * {nby}) must not exceed the {grid.x}x{grid.y} compute grid ({grid.x * grid.y} cores)",
    )
    if pc.mcast_in0:
        check(
            nby == 1,
            op,
            "matmul1d.mcast_in0_m",
            f"mcast_in0 requires M ({M_eff}) to fit within a single per_core_M block ({pc.per_core_M}), got num_blocks_y={nby}",
        )
    else:
        check(
            nbx == 1,
            op,
            "matmul1d.mcast_in1_n",
            f"mcast_in1 requires N ({Nt}) to fit within a single per_core_N block ({pc.per_core_N}), got num_blocks_x={nbx}. "
            "A single in1 sender multicasts one per_core_N-wide weight slice to the whole grid",
        )
    if a.is_sharded():
        amem = a.memory_config()
        check(pc.fuse_batch, op, "matmul1d.a_sharded_fuse_batch", "fuse_batch must be enabled when input A is sharded")
        sh_t, sw_t = _shard_tiles(a)
        check(
            amem.shard_spec.orientation == ShardOrientation.ROW_MAJOR,
            op,
            "matmul1d.a_orientation",
            "sharded input A must be ROW_MAJOR",
        )
        if pc.mcast_in0:
            check(
                amem.memory_layout == TensorMemoryLayout.WIDTH_SHARDED,
                op,
                "matmul1d.a_width",
                f"input A must be WIDTH_SHARDED when mcast_in0 or gather_in0 is set, got: {amem.memory_layout.name}",
            )
            check(
                M_eff == pc.per_core_M,
                op,
                "matmul1d.a_mt",
                f"width-sharded input A needs Mt ({M_eff}) == per_core_M ({pc.per_core_M})",
            )
            check(
                pc.per_core_M == sh_t,
                op,
                "matmul1d.a_per_core_M",
                f"per_core_M ({pc.per_core_M}) must equal shard_shape[0] / in0_tile.get_height() ({sh_t})",
            )
            _in0_shard_width_rule(op, sw_t, pc.in0_block_w)
        else:
            check(
                amem.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED,
                op,
                "matmul1d.a_height",
                f"sharded input A must be HEIGHT_SHARDED when mcast_in0=False, got: {amem.memory_layout.name}",
            )
            check(
                nby <= amem.shard_spec.num_cores(),
                op,
                "matmul1d.a_cores",
                f"ceil(Mt/per_core_M) = {nby} exceeds the {amem.shard_spec.num_cores()} shard cores of A",
            )
            check(
                pc.per_core_M == sh_t,
                op,
                "matmul1d.a_per_core_M",
                f"per_core_M ({pc.per_core_M}) must equal shard_shape[0] / in0_tile.get_height() ({sh_t})",
            )
            check(
                Kt == sw_t,
                op,
                "matmul1d.a_kt",
                f"height-sharded input A needs Kt ({Kt}) == shard width in tiles ({sw_t})",
            )
            check(
                not b.is_sharded(),
                op,
                "matmul1d.b_interleaved",
                "mcast_in1 with sharded input A needs input B INTERLEAVED",
            )
    if b.is_sharded() and b.memory_config().buffer_type == BufferType.L1:
        bmem = b.memory_config()
        check(
            bmem.memory_layout == TensorMemoryLayout.WIDTH_SHARDED,
            op,
            "matmul1d.b_l1_layout",
            f"input B in L1 must be WIDTH_SHARDED, got: {bmem.memory_layout.name}",
        )
        bw_t = bmem.shard_spec.shape[1] // TILE
        check(
            bw_t == pc.per_core_N,
            op,
            "matmul1d.b_shard_width",
            f"input B shard width in tiles ({bw_t}) must equal per_core_N ({pc.per_core_N})",
        )
    if out_mem.is_sharded():
        lay = out_mem.memory_layout
        if pc.mcast_in0:
            ok = lay == TensorMemoryLayout.WIDTH_SHARDED or (lay == TensorMemoryLayout.BLOCK_SHARDED and nby == 1)
            check(
                ok,
                op,
                "matmul1d.out_layout",
                f"Error: Output memory layout must be WIDTH_SHARDED or BLOCK_SHARDED on a 1-row grid. Provided tensor memory layout: {lay.name}",
            )
            check(
                M_eff == pc.per_core_M,
                op,
                "matmul1d.out_mt",
                f"sharded output needs Mt ({M_eff}) == per_core_M ({pc.per_core_M})",
            )
            _check_out_block_rule(op, pc)
        else:
            ok = lay == TensorMemoryLayout.HEIGHT_SHARDED or (lay == TensorMemoryLayout.BLOCK_SHARDED and nbx == 1)
            check(
                ok,
                op,
                "matmul1d.out_layout",
                f"mcast_in1 sharded output must be HEIGHT_SHARDED (or BLOCK_SHARDED on 1 column), got {lay.name}",
            )
            check(
                Nt == pc.per_core_N,
                op,
                "matmul1d.out_nt",
                f"Error: N must be equal to per_core_N. (Nt={Nt}, per_core_N={pc.per_core_N})",
            )
        _check_out_subblock_rule(op, pc)
        if a.is_sharded():
            amem = a.memory_config()
            check(
                out_mem.buffer_type == amem.buffer_type
                and (lay == amem.memory_layout or lay == TensorMemoryLayout.BLOCK_SHARDED),
                op,
                "matmul1d.out_like_a",
                f"sharded output must have the same buffer type and memory layout as input A ({amem.memory_layout.name} {amem.buffer_type.name})",
            )
        cores = num_cores_to_corerangeset(nbx * nby, grid, row_wise=True)
        out_mem = _sharded_output_spec(
            out_mem, ShardSpec(cores, [pc.per_core_M * TILE, pc.per_core_N * TILE], ShardOrientation.ROW_MAJOR)
        )
    return out_mem


def _validate_reuse(op, a, b, pc, out_mem, Mt, Kt, Nt, batch_a, batch_b, device) -> MemoryConfig:
    """Reference §1.4 / checklist 13."""
    check(Nt == pc.per_core_N, op, "reuse.n", f"N ({Nt}) must equal per_core_N ({pc.per_core_N})")
    total_m = batch_a * Mt
    if pc.per_core_M > Mt:
        check(
            pc.per_core_M % Mt == 0 and total_m % pc.per_core_M == 0,
            op,
            "reuse.m",
            f"per_core_M ({pc.per_core_M}) > Mt ({Mt}) needs per_core_M % Mt == 0 and total M ({total_m}) % per_core_M == 0",
        )
    else:
        check(
            Mt % pc.per_core_M == 0,
            op,
            "reuse.m",
            f"input a total height, {Mt}, must be divisible by per_core_M, {pc.per_core_M}!",
        )
    check(
        not (batch_a > 1 and batch_b == 1),
        op,
        "reuse.batch_broadcast",
        f"MatmulMultiCoreReuseProgramConfig does not support batch broadcast (A batch {batch_a}, B batch 1)",
    )
    num_blocks = (total_m // pc.per_core_M) * (Nt // pc.per_core_N)
    check(num_blocks > 0, op, "reuse.blocks", f"num_output_blocks_total > 0 failed ({num_blocks})")
    a_spec = None
    if a.is_sharded():
        amem = a.memory_config()
        a_spec = amem.shard_spec
        check(
            amem.memory_layout != TensorMemoryLayout.WIDTH_SHARDED,
            op,
            "reuse.a_layout",
            f"Input A memory layout must not be WIDTH_SHARDED, got: {amem.memory_layout.name}",
        )
        sh_t, sw_t = _shard_tiles(a)
        check(sw_t == Kt, op, "reuse.a_k", f"sharded input A needs K ({Kt} tiles) == shard width ({sw_t} tiles)")
        check(
            sw_t == pc.in0_block_w,
            op,
            "reuse.a_block_w",
            f"sharded input A needs shard width ({sw_t} tiles) == in0_block_w ({pc.in0_block_w})",
        )
        check(
            sh_t == pc.per_core_M,
            op,
            "reuse.a_per_core_M",
            f"per_core_M ({pc.per_core_M}) must equal shard_shape[0] / in0_tile.get_height() ({sh_t})",
        )
        check(
            num_blocks % a_spec.num_cores() == 0,
            op,
            "reuse.blocks_per_shard",
            f"MatmulMultiCoreReuseProgramConfig: num_output_blocks ({num_blocks}) must be evenly divisible by the number of cores in the input shard grid ({a_spec.num_cores()})",
        )
    if out_mem.is_sharded():
        check(
            out_mem.memory_layout != TensorMemoryLayout.WIDTH_SHARDED,
            op,
            "reuse.out_layout",
            f"Output memory layout must not be WIDTH_SHARDED, got: {out_mem.memory_layout.name}",
        )
        if a.is_sharded():
            check(
                out_mem.buffer_type == a.memory_config().buffer_type
                and out_mem.memory_layout == a.memory_config().memory_layout,
                op,
                "reuse.out_like_a",
                "sharded output must have the same buffer type and memory layout as sharded input A",
            )
        _check_out_subblock_rule(op, pc)
        if a_spec is not None:
            grid_set, orient = a_spec.grid, a_spec.orientation
        else:
            grid_set = num_cores_to_corerangeset(
                min(num_blocks, pc.compute_with_storage_grid_size.x * pc.compute_with_storage_grid_size.y),
                pc.compute_with_storage_grid_size,
                row_wise=False,
            )
            orient = ShardOrientation.COL_MAJOR
        out_mem = _sharded_output_spec(
            out_mem, ShardSpec(grid_set, [pc.per_core_M * TILE, pc.per_core_N * TILE], orient)
        )
    return out_mem


def _plan_dram_sharded(
    op, a, b, pc, cfg, out_mem, out_dtype, Mt, Kt, Nt, batch_a, act, bias_dtype, device
) -> MatmulPlan:
    """Reference §1.7 / checklist 14 plus the factory facts (one worker per DRAM bank, per_core_N_compute =
    ceil(Nt / banks), in0 double- and in1 triple-buffered)."""
    _check_positive(op, pc, ("in0_block_w", "per_core_M", "per_core_N", "num_workers_per_dram_bank"))
    check(
        a.is_sharded(), op, "dram_sharded.a_sharded", "DRAM-sharded matmul needs input A sharded (WIDTH_SHARDED in L1)"
    )
    amem = a.memory_config()
    check(
        amem.memory_layout == TensorMemoryLayout.WIDTH_SHARDED and amem.buffer_type == BufferType.L1,
        op,
        "dram_sharded.a_layout",
        f"input A must be WIDTH_SHARDED in L1, got {amem.memory_layout.name} {amem.buffer_type.name}",
    )
    check(
        amem.shard_spec.orientation == ShardOrientation.ROW_MAJOR,
        op,
        "dram_sharded.a_orientation",
        "input A shards must be ROW_MAJOR",
    )
    total_mt = batch_a * Mt
    check(
        total_mt == 1 and pc.per_core_M == 1,
        op,
        "dram_sharded.m",
        f"currently only support in0 tensor height of tile height: Mt == per_core_M == 1 required, got M = {total_mt * TILE} rows "
        f"(Mt={total_mt}) and per_core_M={pc.per_core_M}; DRAM-sharded matmuls serve decode with at most 32 rows",
    )
    sh_t, sw_t = _shard_tiles(a)
    check(
        pc.per_core_M == sh_t,
        op,
        "dram_sharded.a_per_core_M",
        f"per_core_M ({pc.per_core_M}) must equal shard_shape[0] / in0_tile.get_height() ({sh_t})",
    )
    _check_kt(op, Kt, pc.in0_block_w)
    check(
        sw_t % pc.in0_block_w == 0,
        op,
        "dram_sharded.shard_w_block",
        f"in0 shard width ({sw_t} tiles) must be divisible by in0_block_w ({pc.in0_block_w})",
    )
    check(
        Kt % sw_t == 0,
        op,
        "dram_sharded.uneven_k",
        f"Kt ({Kt}) must be divisible by the in0 shard width ({sw_t} tiles): uneven K sharding is not supported",
    )
    check(
        b.is_sharded() and b.memory_config().buffer_type == BufferType.DRAM,
        op,
        "dram_sharded.b_dram",
        "input B must be sharded in DRAM for the DRAM-sharded matmul",
    )
    bmem = b.memory_config()
    check(
        bmem.memory_layout == TensorMemoryLayout.WIDTH_SHARDED,
        op,
        "dram_sharded.b_layout",
        f"Input B memory layout must be WIDTH_SHARDED, got: {bmem.memory_layout.name}",
    )
    check(
        bmem.shard_spec.orientation == ShardOrientation.ROW_MAJOR,
        op,
        "dram_sharded.b_orientation",
        "input B shards must be ROW_MAJOR",
    )
    check(
        out_mem.is_sharded(),
        op,
        "dram_sharded.out_sharded",
        "DRAM-sharded matmul output must be sharded (same buffer type and layout as input A)",
    )
    check(
        out_mem.memory_layout == amem.memory_layout and out_mem.buffer_type == amem.buffer_type,
        op,
        "dram_sharded.out_like_a",
        f"output must have the same buffer type and memory layout as input A ({amem.memory_layout.name} {amem.buffer_type.name}), got {out_mem.memory_layout.name} {out_mem.buffer_type.name}",
    )
    n_out_cores = ceil_div(Nt, pc.per_core_N)
    g = device.compute_with_storage_grid_size()
    check(
        n_out_cores <= g.x * g.y,
        op,
        "dram_sharded.out_cores",
        f"ceil(Nt {Nt} / per_core_N {pc.per_core_N}) = {n_out_cores} output cores exceed the {g.x}x{g.y} grid",
    )
    out_mem = MemoryConfig(
        out_mem.memory_layout,
        out_mem.buffer_type,
        ShardSpec(
            num_cores_to_corerangeset(n_out_cores, g, True), [TILE, pc.per_core_N * TILE], ShardOrientation.ROW_MAJOR
        ),
    )
    workers = device.spec.dram_banks * pc.num_workers_per_dram_bank
    pcN_compute = ceil_div(Nt, workers)
    cb, detail = _matmul_cb_estimate(
        pc.per_core_M, pcN_compute, pc.in0_block_w, a.dtype, b.dtype, out_dtype, cfg, False, bias_dtype, in1_buffers=3
    )
    detail = f"per_core_N_compute={pcN_compute}: " + detail
    return MatmulPlan(out_mem, cfg, act, cb, detail, pc.in0_block_w)


def infer_width_sharded_output(op: str, out_mem: MemoryConfig, like) -> MemoryConfig:
    """``L1_WIDTH_SHARDED_MEMORY_CONFIG`` etc. without a shard spec on eltwise outputs: take the input's spec."""
    if out_mem.is_sharded() and out_mem.shard_spec is None:
        check(
            like.is_sharded() and like.memory_config().memory_layout == out_mem.memory_layout,
            op,
            "eltwise.infer_output_shard",
            "Input tensor must be sharded to infer output memory config",
        )
        return out_mem.with_shard_spec(like.memory_config().shard_spec)
    return out_mem


# ============================================================================================ normalization


def validate_norm(
    op: str,
    x,
    weight,
    bias,
    residual,
    program_config,
    out_mem: MemoryConfig,
    device: Device,
    is_rms: bool,
    cfg: WormholeComputeKernelConfig,
) -> tuple[MemoryConfig, int, str]:
    """layernorm_device_operation.cpp via reference §5 and checklist 22; 0.81.1 messages
    "block_w ({}) must equal to K (in tiles) / num_cores ({})", "block_h ({}) must equal to M (in tiles) ({})"."""
    require_tile(op, x, "input_tensor")
    require_tile_aligned(op, x, "input_tensor")
    check(dt.is_float(x.dtype), op, "norm.dtype", f"input dtype must be floating point, got {x.dtype.name}")
    Mt = math.prod(x.padded_shape[:-1]) // TILE
    Kt = x.padded_shape[-1] // TILE
    W = x.shape[-1]
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        if p.layout == Layout.ROW_MAJOR:
            check(
                p.padded_shape[-1] == TILE and p.volume() == W,
                op,
                f"norm.{name}_shape",
                f"ROW_MAJOR {name} must be [1, 1, dim/32, 32] (volume {W}), got {list(p.shape)}",
            )
        else:
            check(p.shape[-1] == W, op, f"norm.{name}_shape", f"TILE {name} width must be {W}, got {list(p.shape)}")
    if residual is not None:
        check(
            residual.shape == x.shape,
            op,
            "norm.residual_shape",
            f"residual shape {list(residual.shape)} != input shape {list(x.shape)}",
        )
    x_sharded = x.is_sharded()
    if program_config is None or not isinstance(program_config, LayerNormShardedMultiCoreProgramConfig):
        check(
            not x_sharded,
            op,
            "norm.sharded_needs_config",
            "a sharded input needs a ttnn.LayerNormShardedMultiCoreProgramConfig",
        )
        check(
            not out_mem.is_sharded(),
            op,
            "norm.sharded_out_needs_config",
            "a sharded output needs a sharded input and a LayerNormShardedMultiCoreProgramConfig",
        )
        # Interleaved estimate (documented): the row is streamed in blocks of up to 8 tiles; in/out double
        # buffered, gamma/beta, x^2 / x - mean intermediates, 3 scalar tiles.
        block = max(d for d in range(1, 9) if Kt % d == 0)
        tile_in = dt.TILE_BYTES[x.dtype]
        interm = dt.TILE_BYTES[DataType.FLOAT32 if cfg.fp32_dest_acc_en else DataType.BFLOAT16]
        cb = block * (2 * tile_in + 2 * tile_in + 2 * 2048 + 2 * interm) + 3 * interm
        return out_mem, cb, f"interleaved norm, block {block} tiles"
    pc = program_config
    check(x_sharded, op, "norm.config_needs_sharded", "LayerNormShardedMultiCoreProgramConfig needs a sharded input")
    check(not (is_rms and pc.use_welford), op, "norm.welford_rms", "use_welford is not supported for RMSNorm")
    xmem = x.memory_config()
    check(
        xmem.memory_layout != TensorMemoryLayout.HEIGHT_SHARDED,
        op,
        "norm.height_sharded",
        "sharded layernorm input must not be HEIGHT_SHARDED",
    )
    check(xmem.buffer_type == BufferType.L1, op, "norm.input_l1", "sharded layernorm input must be in L1")
    if out_mem.is_sharded():
        if out_mem.shard_spec is None:
            out_mem = out_mem.with_shard_spec(xmem.shard_spec)
        check(
            out_mem.memory_layout == xmem.memory_layout and out_mem.buffer_type == xmem.buffer_type,
            op,
            "norm.out_like_in",
            f"sharded output must have the input's memory layout and buffer type ({xmem.memory_layout.name} {xmem.buffer_type.name})",
        )
    else:
        fail(
            op,
            "norm.out_sharded",
            "the sharded layernorm program writes a sharded output; pass a sharded memory_config (e.g. the input's)",
        )
    spec = xmem.shard_spec
    _check_grid(op, pc.compute_with_storage_grid_size, device)
    bbox = spec.grid.bounding_box()
    cg = pc.compute_with_storage_grid_size
    check(
        bbox.end.x < cg.x and bbox.end.y < cg.y,
        op,
        "norm.shard_grid_in_config",
        f"input shard grid {spec.grid!r} must lie inside compute_with_storage_grid_size ({cg.x}, {cg.y})",
    )
    check(
        pc.block_w > 0 and pc.block_h > 0 and pc.subblock_w > 0,
        op,
        "norm.nonzero",
        "block_w, block_h, subblock_w must be > 0",
    )
    num_cores = spec.num_cores()
    if Mt == pc.block_h:
        # a single row of blocks (width sharding)
        want_w = ceil_div(Kt, num_cores)
        check(
            pc.block_w == want_w,
            op,
            "norm.block_w",
            f"block_w ({pc.block_w}) must equal to K (in tiles) / num_cores ({want_w}); Kt={Kt}, num_cores={num_cores}",
        )
    else:
        gs = bbox.grid_size()
        cols, rows = (gs.x, gs.y) if spec.orientation == ShardOrientation.ROW_MAJOR else (gs.y, gs.x)
        check(
            pc.block_w == ceil_div(Kt, cols),
            op,
            "norm.block_w",
            f"block_w ({pc.block_w}) must equal ceil(Kt / grid columns) = {ceil_div(Kt, cols)}",
        )
        check(
            pc.block_h == Mt // rows,
            op,
            "norm.block_h",
            f"block_h ({pc.block_h}) must equal to M (in tiles) / grid rows ({Mt // rows}); Mt={Mt}",
        )
    check(
        pc.block_h * TILE == spec.shape[0],
        op,
        "norm.block_h_shard",
        f"block_h * 32 ({pc.block_h * TILE}) must equal the shard height ({spec.shape[0]})",
    )
    check(
        pc.block_w * TILE == spec.shape[1],
        op,
        "norm.block_w_shard",
        f"program_config.block_w * tile width ({pc.block_w * TILE}) must equal the shard width ({spec.shape[1]})",
    )
    check(
        pc.block_w % pc.subblock_w == 0,
        op,
        "norm.subblock_w",
        f"program_config.block_w % program_config.subblock_w == 0 failed ({pc.block_w} % {pc.subblock_w})",
    )
    if residual is not None:
        check(
            residual.is_sharded() and residual.memory_config().shard_spec == spec,
            op,
            "norm.residual_spec",
            "residual_input_tensor must share the input's shard spec",
        )
    # Sharded estimate (documented): input/output CBs live in the shard buffers; x^2 block, gamma/beta block,
    # per-core and gathered statistics, scalars.
    interm = dt.TILE_BYTES[DataType.FLOAT32 if cfg.fp32_dest_acc_en else DataType.BFLOAT16]
    blk = pc.block_w * pc.block_h
    cb = blk * interm + 2 * pc.block_w * 2048 + pc.block_h * (num_cores + 4) * interm + 3 * interm
    if not pc.inplace:
        cb += 0  # output CB is the output shard buffer
    return out_mem, cb, f"sharded norm, block {pc.block_h}x{pc.block_w} tiles on {num_cores} cores"


# ============================================================================================ attention


def validate_sdpa(op: str, q, k, v, is_causal: bool, program_config, cfg, device: Device) -> tuple[int, str]:
    """sdpa_device_operation.cpp via reference §5 / checklist 23; 0.81.1 message "q_chunk_size must be a positive
    multiple of TILE_WIDTH. Got q_chunk_size: {}, TILE_WIDTH: {}"."""
    for name, t in (("Q", q), ("K", k), ("V", v)):
        require_tile(op, t, name)
        check(
            t.dtype in (DataType.BFLOAT16, DataType.BFLOAT8_B, DataType.BFLOAT4_B),
            op,
            "sdpa.dtype",
            f"Unsupported data type {t.dtype.name} for {name}",
        )
        check(
            t.memory_config().buffer_type == BufferType.DRAM and not t.is_sharded(),
            op,
            "sdpa.dram",
            f"{name} must be DRAM interleaved",
        )
        check(t.shape.rank == 4, op, "sdpa.rank", f"{name} must be 4-D [b, nh, s, dh], got {list(t.shape)}")
    B, NQH, S, DH = q.padded_shape
    check(
        k.padded_shape[0] == B and v.padded_shape[0] == B,
        op,
        "sdpa.batch",
        f"batch mismatch: Q {list(q.shape)}, K {list(k.shape)}, V {list(v.shape)}",
    )
    check(
        k.shape[-1] == q.shape[-1] == v.shape[-1],
        op,
        "sdpa.head_dim",
        f"head dim mismatch: Q {q.shape[-1]}, K {k.shape[-1]}, V {v.shape[-1]}",
    )
    check(
        k.shape[1] == v.shape[1],
        op,
        "sdpa.kv_heads",
        f"K and V must have the same number of heads ({k.shape[1]} vs {v.shape[1]})",
    )
    check(
        q.shape[1] >= k.shape[1] and q.shape[1] % k.shape[1] == 0,
        op,
        "sdpa.gqa",
        f"GQA needs Q heads ({q.shape[1]}) to be a multiple of K heads ({k.shape[1]})",
    )
    check(
        k.shape[2] == v.shape[2], op, "sdpa.kv_seq", f"K and V sequence lengths differ ({k.shape[2]} vs {v.shape[2]})"
    )
    if is_causal:
        check(
            q.shape[2] == k.shape[2],
            op,
            "sdpa.causal_seq",
            f"causal SDPA needs Q and K sequence lengths equal ({q.shape[2]} vs {k.shape[2]})",
        )
    q_chunk = program_config.q_chunk_size if program_config is not None else 32
    k_chunk = program_config.k_chunk_size if program_config is not None else 32
    if program_config is not None:
        check(
            isinstance(program_config, SDPAProgramConfig),
            op,
            "sdpa.program_config_type",
            f"program_config must be a ttnn.SDPAProgramConfig, got {type(program_config).__name__}",
        )
        _check_grid(op, program_config.compute_with_storage_grid_size, device)
    check(
        q_chunk > 0 and q_chunk % TILE == 0,
        op,
        "sdpa.q_chunk",
        f"q_chunk_size must be a positive multiple of TILE_WIDTH. Got q_chunk_size: {q_chunk}, TILE_WIDTH: {TILE}",
    )
    check(
        k_chunk > 0 and k_chunk % TILE == 0,
        op,
        "sdpa.k_chunk",
        f"k_chunk_size must be a positive multiple of TILE_WIDTH. Got k_chunk_size: {k_chunk}, TILE_WIDTH: {TILE}",
    )
    # Estimate (documented): Q chunk (double-buffered), K and V chunks (double-buffered), QK^T scores block,
    # output accumulators (2), running max/sum statistics (4 columns of tiles), scale/identity tiles.
    qt, kt_, dht = q_chunk // TILE, k_chunk // TILE, DH // TILE
    interm = dt.TILE_BYTES[DataType.FLOAT32 if cfg.fp32_dest_acc_en else DataType.BFLOAT16]
    cb = (
        2 * qt * dht * dt.TILE_BYTES[q.dtype]
        + 2 * kt_ * dht * dt.TILE_BYTES[k.dtype]
        + 2 * kt_ * dht * dt.TILE_BYTES[v.dtype]
        + qt * kt_ * interm
        + 2 * qt * dht * interm
        + 4 * qt * interm
        + 3 * 2048
        + qt * dht * dt.TILE_BYTES[q.dtype]
    )
    return cb, f"sdpa q_chunk {q_chunk} k_chunk {k_chunk}"


def sdpa_decode_k_chunk(program_config, seq_len: int) -> int:
    """k_chunk_size: the program config's if > 0, else "min(512, largest power-of-two divisor of s)" (0.81.1
    docstring of scaled_dot_product_attention_decode)."""
    if program_config is not None and program_config.k_chunk_size > 0:
        return program_config.k_chunk_size
    p = 1
    while seq_len % (p * 2) == 0 and p * 2 <= 512:
        p *= 2
    return p


def validate_sdpa_decode(
    op: str, q, k, v, cur_pos_tensor, cur_pos, program_config, out_mem: MemoryConfig, cfg, device: Device
) -> tuple[int, str]:
    """sdpa_decode_device_operation.cpp ``validate_on_program_cache_miss`` (tenstorrent/tt-metal, unpaged branch)."""
    for name, t in (("Q", q), ("K", k), ("V", v)):
        check(
            t.dtype in (DataType.BFLOAT16, DataType.BFLOAT8_B, DataType.BFLOAT4_B),
            op,
            "sdpa_decode.dtype",
            f"Unsupported data type {t.dtype.name}. ({name})",
        )
    for name, t in (("K", k), ("V", v)):
        check(t.layout == Layout.TILE, op, "sdpa_decode.kv_tile", "Inputs to SDPA must be tilized except for Q")
        check(
            t.memory_config().buffer_type == BufferType.DRAM,
            op,
            "sdpa_decode.kv_dram",
            f"Input tensor {name} buffer type must be DRAM but got {t.memory_config().buffer_type.name}",
        )
    qmem = q.memory_config()
    if q.is_sharded():
        check(
            qmem.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED,
            op,
            "sdpa_decode.q_height",
            f"Q tensor memory layout must be HEIGHT_SHARDED when sharded but got {qmem.memory_layout.name}",
        )
    else:
        check(
            qmem.buffer_type == BufferType.DRAM,
            op,
            "sdpa_decode.q_dram",
            f"Q tensor buffer type must be DRAM when not sharded but got {qmem.buffer_type.name}",
        )
    if out_mem.is_sharded():
        check(
            out_mem.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED,
            op,
            "sdpa_decode.out_height",
            f"Output memory config layout must be HEIGHT_SHARDED when sharded but got {out_mem.memory_layout.name}",
        )
    qs, ks, vs = q.padded_shape, k.padded_shape, v.padded_shape
    check(qs.rank == 4 and ks.rank == 4, op, "sdpa_decode.rank", "Q must be [1, b, nh, dh] and K/V [b, nkv, s, dh]")
    B = qs[1]
    check(
        ks[0] == B,
        op,
        "sdpa_decode.k_batch",
        f"K tensor batch size ({ks[0]}) must equal B ({B}) (Q is [1, B, nh, dh]; the cache batch must equal Q's batch)",
    )
    check(vs[0] == B, op, "sdpa_decode.v_batch", f"V tensor batch size ({vs[0]}) must equal B ({B})")
    check(qs[0] == 1, op, "sdpa_decode.q_seq", f"Q tensor batch size must be 1 for decode mode but got {qs[0]}")
    check(
        ks[-2] == vs[-2],
        op,
        "sdpa_decode.kv_seq",
        f"K and V tensors must have the same sequence length. K: {ks[-2]}, V: {vs[-2]}",
    )
    k_chunk = sdpa_decode_k_chunk(program_config, ks[2])
    check(k_chunk > 0, op, "sdpa_decode.k_chunk_positive", "Must provide k_chunk_size if non-causal!")
    check(k_chunk % 32 == 0, op, "sdpa_decode.k_chunk", f"Chunk size must be multiple of 32, got: {k_chunk}")
    check(
        ks[2] % k_chunk == 0,
        op,
        "sdpa_decode.k_seq_chunk",
        f"K sequence length must be multiple of chunk size, got: {ks[2]} and {k_chunk}",
    )
    check(
        ks[-1] == qs[-1],
        op,
        "sdpa_decode.k_dim",
        f"K tensor hidden dimension ({ks[-1]}) must equal Q tensor hidden dimension ({qs[-1]})",
    )
    check(
        vs[-1] == qs[-1],
        op,
        "sdpa_decode.v_dim",
        f"V tensor hidden dimension ({vs[-1]}) must equal Q tensor hidden dimension ({qs[-1]})",
    )
    for p in cur_pos or []:
        check(p < ks[-2], op, "sdpa_decode.cur_pos", f"cur_pos must be <= K sequence dim (cur_pos {p}, K seq {ks[-2]})")
    check(
        ks[1] == vs[1],
        op,
        "sdpa_decode.kv_heads",
        f"Flash decode expects K and V to have same number of heads, but got {ks[1]} and {vs[1]}",
    )
    if ks[1] > 1:
        check(not out_mem.is_sharded(), op, "sdpa_decode.gqa_out", "Sharded output not supported for GQA")
        check(
            q.dtype == DataType.BFLOAT16,
            op,
            "sdpa_decode.gqa_dtype",
            f"GQA expects BFLOAT16 input tensor, but got {q.dtype.name}",
        )
        check(
            q.shape[2] % ks[1] == 0,
            op,
            "sdpa_decode.gqa_heads",
            f"GQA expects Q to have a multiple of K heads, but got {q.shape[2]} and {ks[1]}",
        )
    if program_config is not None:
        check(
            isinstance(program_config, SDPAProgramConfig),
            op,
            "sdpa_decode.program_config_type",
            f"program_config must be a ttnn.SDPAProgramConfig, got {type(program_config).__name__}",
        )
        _check_grid(op, program_config.compute_with_storage_grid_size, device)
    if cur_pos_tensor is not None:
        check(
            cur_pos_tensor.dtype in (DataType.INT32, DataType.UINT32),
            op,
            "sdpa_decode.cur_pos_dtype",
            f"Expect cur_pos to be INT32, got {cur_pos_tensor.dtype.name}",
        )
        check(
            cur_pos_tensor.layout == Layout.ROW_MAJOR,
            op,
            "sdpa_decode.cur_pos_layout",
            f"Expect cur_pos to be ROW_MAJOR, got {cur_pos_tensor.layout.name}",
        )
        check(
            cur_pos_tensor.shape[-1] >= B or cur_pos_tensor.volume() >= B,
            op,
            "sdpa_decode.cur_pos_len",
            f"cur_pos must have batch size equal to Q, got {list(cur_pos_tensor.shape)} and {B}",
        )
    # Estimate (documented): Q (padded heads x dh), K and V chunks double-buffered, scores, output accumulators,
    # statistics, and a reduction buffer per core.
    pnht, dht, kt_ = qs[2] // TILE, qs[3] // TILE, k_chunk // TILE
    interm = dt.TILE_BYTES[DataType.FLOAT32 if cfg.fp32_dest_acc_en else DataType.BFLOAT16]
    cb = (
        pnht * dht * dt.TILE_BYTES[q.dtype]
        + 2 * kt_ * dht * dt.TILE_BYTES[k.dtype]
        + 2 * kt_ * dht * dt.TILE_BYTES[v.dtype]
        + pnht * kt_ * interm
        + 3 * pnht * dht * interm
        + 6 * pnht * interm
        + 3 * 2048
    )
    return cb, f"sdpa_decode k_chunk {k_chunk}"


# ============================================================================================ heads / rope / cache


def validate_create_qkv_heads_decode(
    op: str, x, num_heads: int, num_kv_heads: int, out_mem: MemoryConfig, overlap_qk_coregrid: bool, device: Device
) -> None:
    """nlp_create_qkv_heads_decode_device_operation.cpp ``validate`` (tenstorrent/tt-metal) and the 0.81.1 docstring
    ("Shuffles [1, S=1, B, head_dim * (num_heads + 2*num_kv_heads)] ... Input must be sharded, B=32 and S=1"; the
    device op also accepts interleaved input, which tt_transformers uses)."""
    check(
        x.dtype in (DataType.FLOAT32, DataType.BFLOAT16),
        op,
        "qkv_decode.dtype",
        f"Unsupported data format {x.dtype.name}: input must be BFLOAT16 or FLOAT32",
    )
    check(x.layout == Layout.TILE, op, "qkv_decode.layout", "input must be TILE layout")
    s = x.shape
    check(
        s.rank == 4 and s[0] == 1 and s[1] == 1,
        op,
        "qkv_decode.shape",
        f"Unsupported input shape {list(s)}: expected [1, 1, B, (nq + 2 nkv) * head_dim]",
    )
    check(s[2] <= 32, op, "qkv_decode.batch", f"Unsupported input shape: num_users {s[2]} > 32")
    check(s[3] % TILE == 0, op, "qkv_decode.width", f"Unsupported input shape: width {s[3]} not a multiple of 32")
    check(
        num_heads <= 32,
        op,
        "qkv_decode.num_heads",
        f"num_q_heads ({num_heads}) <= 32 failed: support maximum 32 heads for now",
    )
    check(
        num_heads >= num_kv_heads,
        op,
        "qkv_decode.gqa",
        f"num_q_heads ({num_heads}) >= num_kv_heads ({num_kv_heads}) failed",
    )
    check(
        s[3] % (num_heads + 2 * num_kv_heads) == 0,
        op,
        "qkv_decode.head_dim",
        f"width {s[3]} is not divisible by num_heads + 2 * num_kv_heads = {num_heads + 2 * num_kv_heads}",
    )
    if x.is_sharded():
        xm = x.memory_config()
        check(
            xm.memory_layout == TensorMemoryLayout.WIDTH_SHARDED,
            op,
            "qkv_decode.input_width_sharded",
            f"a sharded input must be WIDTH_SHARDED, got {xm.memory_layout.name}",
        )
        check(
            xm.shard_spec.shape[0] == math.prod(x.padded_shape[:-1]),
            op,
            "qkv_decode.input_shard_height",
            "input shard height must be the whole tensor height",
        )
        check(
            xm.shard_spec.orientation == ShardOrientation.ROW_MAJOR,
            op,
            "qkv_decode.input_orientation",
            "input shards must be ROW_MAJOR",
        )
    check(
        out_mem.is_sharded() and out_mem.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED,
        op,
        "qkv_decode.output_height_sharded",
        f"output memory config must be HEIGHT_SHARDED, got {out_mem.memory_layout.name} {out_mem.buffer_type.name}",
    )
    g = device.compute_with_storage_grid_size()
    cores = g.x * g.y
    users = s[2]
    if overlap_qk_coregrid:
        check(cores >= users, op, "qkv_decode.cores", f"Need at least {users} cores for decode (grid has {cores})")
    else:
        check(
            cores >= 2 * users,
            op,
            "qkv_decode.cores",
            f"Need cores atleast double of num_users for decode when q and k heads are not overlapping coregrid ({cores} < 2 * {users})",
        )


def validate_rotary_llama(op: str, x, cos, sin, trans_mat, is_decode_mode: bool) -> None:
    """rotary_embedding_llama validation strings of the 0.81.1 wheel ("input_tensor.dtype() == cos.dtype() && ... ==
    DataType::BFLOAT16", "sin tensor for RoPE must be HEIGHT_SHARDED.", "In decode mode, RoPE only supports n_heads
    (shard_shape[0]) less than equal to TILE_HEIGHT", "cos.padded_shape()[1] == batch_size", "Cos seq_len must be >=
    input seq_len") and the reference §5."""
    for name, t in (("input", x), ("cos", cos), ("sin", sin), ("trans_mat", trans_mat)):
        check(t.layout == Layout.TILE, op, "rope.layout", f"{name} to rotary embedding must be tilized")
        t.require_device(op)
    check(
        x.dtype == cos.dtype == sin.dtype == trans_mat.dtype == DataType.BFLOAT16,
        op,
        "rope.dtype",
        f"input_tensor.dtype() == cos.dtype() && cos.dtype() == sin.dtype() && sin.dtype() == trans_mat.dtype() && "
        f"trans_mat.dtype() == DataType::BFLOAT16 failed (got {x.dtype.name}, {cos.dtype.name}, {sin.dtype.name}, {trans_mat.dtype.name})",
    )
    check(
        cos.padded_shape == sin.padded_shape,
        op,
        "rope.cos_sin",
        f"Cos and Sin shapes must match ({list(cos.shape)} vs {list(sin.shape)})",
    )
    check(
        trans_mat.shape.rank == 4,
        op,
        "rope.trans_mat_rank",
        f"Transformation_mat must have 4 dimensions, got: {trans_mat.shape.rank}",
    )
    check(
        trans_mat.shape[-1] == TILE and trans_mat.shape[-2] % TILE == 0,
        op,
        "rope.trans_mat_tile",
        f"transformation matrix must be [.., 32*k, 32], got {list(trans_mat.shape)}",
    )
    check(
        x.shape[-1] % TILE == 0 and cos.shape[-1] == x.shape[-1],
        op,
        "rope.head_dim",
        f"cos/sin head dim {cos.shape[-1]} must equal input head dim {x.shape[-1]} (a multiple of 32)",
    )
    if is_decode_mode:
        check(
            x.shape[0] == 1,
            op,
            "rope.decode_shape",
            f"decode input must be [1, batch, n_heads, head_dim], got {list(x.shape)}",
        )
        check(
            x.is_sharded() and x.memory_config().memory_layout == TensorMemoryLayout.HEIGHT_SHARDED,
            op,
            "rope.decode_input_sharded",
            "decode-mode input must be HEIGHT_SHARDED",
        )
        check(
            cos.is_sharded() and cos.memory_config().memory_layout == TensorMemoryLayout.HEIGHT_SHARDED,
            op,
            "rope.decode_cos_sharded",
            "cos tensor for RoPE must be HEIGHT_SHARDED.",
        )
        check(
            sin.is_sharded() and sin.memory_config().memory_layout == TensorMemoryLayout.HEIGHT_SHARDED,
            op,
            "rope.decode_sin_sharded",
            "sin tensor for RoPE must be HEIGHT_SHARDED.",
        )
        check(
            x.memory_config().shard_spec.shape[0] <= TILE,
            op,
            "rope.decode_heads",
            f"In decode mode, RoPE only supports n_heads (shard_shape[0]) less than equal to TILE_HEIGHT (shard height {x.memory_config().shard_spec.shape[0]})",
        )
        batch = x.shape[1]
        check(
            cos.padded_shape[1] == batch and cos.shape[0] == 1 and cos.shape[2] == 1,
            op,
            "rope.decode_cos_shape",
            f"cos.padded_shape()[1] == batch_size failed: decode cos/sin must be [1, {batch}, 1, head_dim], got {list(cos.shape)}",
        )
        check(
            trans_mat.shape[-2] in (TILE, TILE * batch),
            op,
            "rope.decode_trans_mat",
            f"decode transformation matrix must be [1, 1, 32 * batch, 32] (or one tile), got {list(trans_mat.shape)}",
        )
    else:
        check(not x.is_sharded(), op, "rope.prefill_interleaved", "prefill input must be interleaved")
        check(
            x.shape[0] == 1,
            op,
            "rope.prefill_shape",
            f"prefill input must be [1, n_heads, seq, head_dim], got {list(x.shape)}",
        )
        check(
            cos.shape[0] == 1 and cos.shape[1] in (1, x.shape[1]),
            op,
            "rope.prefill_cos_heads",
            f"Num heads in cos/sin must match input tensor num heads or be 1. Expected {x.shape[1]}, got {cos.shape[1]}",
        )
        check(
            cos.shape[2] >= x.shape[2],
            op,
            "rope.prefill_seq",
            f"Cos seq_len must be >= input seq_len. Input seq_len: {x.shape[2]}, Cos seq_len: {cos.shape[2]}.",
        )
        check(
            trans_mat.shape[-2] == TILE,
            op,
            "rope.prefill_trans_mat",
            f"prefill transformation matrix must be one tile [1, 1, 32, 32], got {list(trans_mat.shape)}",
        )


def validate_paged_update_cache(op: str, cache, x, update_idxs_tensor, update_idxs, page_table) -> list[int]:
    """paged_update_cache_device_operation.cpp ``validate_on_program_cache_miss`` (tenstorrent/tt-metal, non-paged)."""
    if page_table is not None:
        raise EmulatorUnsupported(f"{op}: page_table (paged KV cache) is not emulated")
    check(
        x.layout == Layout.TILE, op, "update_cache.input_tile", "Input tensor in non-fused update_cache must be tilized"
    )
    check(cache.layout == Layout.TILE, op, "update_cache.cache_tile", "Cache tensor in update_cache must be tilized")
    check(
        cache.dtype in (DataType.FLOAT32, DataType.BFLOAT16, DataType.BFLOAT8_B, DataType.BFLOAT4_B),
        op,
        "update_cache.cache_dtype",
        f"Data type of cache tensor must be FLOAT32, BFLOAT16, BFLOAT8_B, or BFLOAT4_B and is {cache.dtype.name}",
    )
    check(x.padded_shape[0] == 1, op, "update_cache.input_dim0", "Dim 0 of input tensor must be 1")
    check(not cache.is_sharded(), op, "update_cache.cache_interleaved", "Only interleaved cache is supported")
    check(
        x.padded_shape[-1] == cache.padded_shape[-1],
        op,
        "update_cache.head_dim",
        f"Last dim of input tensor ({x.padded_shape[-1]}) must match last dim of cache tensor ({cache.padded_shape[-1]}) in non-paged mode",
    )
    check(
        x.padded_shape[1] == cache.padded_shape[0],
        op,
        "update_cache.batch",
        f"Expect batch in input tensor match the batch in cache tensor (input [1, B={x.padded_shape[1]}, ...], cache batch {cache.padded_shape[0]})",
    )
    check(
        x.shape[2] == cache.shape[1],
        op,
        "update_cache.heads",
        f"input kv heads ({x.shape[2]}) must equal cache heads ({cache.shape[1]})",
    )
    check(
        (update_idxs_tensor is not None) != bool(update_idxs),
        op,
        "update_cache.idx_source",
        "Only an update tensor or an update vector can be provided. Not both or neither.",
    )
    if update_idxs_tensor is not None:
        t = update_idxs_tensor
        check(
            t.dtype == DataType.INT32,
            op,
            "update_cache.idx_dtype",
            f"Expected update_idxs to have datatype INT32, got {t.dtype.name}",
        )
        check(
            t.layout == Layout.ROW_MAJOR,
            op,
            "update_cache.idx_layout",
            "Expected update_idxs to have memory layout in ROW MAJOR",
        )
        if t.is_sharded():
            check(
                t.memory_config().memory_layout == TensorMemoryLayout.HEIGHT_SHARDED
                and t.memory_config().buffer_type == BufferType.L1,
                op,
                "update_cache.idx_sharded",
                "Expect update_idxs to be HEIGHT SHARDED in L1 if sharded",
            )
            idxs = [int(v) for v in t.values.reshape(t.shape[0], -1)[0].tolist()]
        else:
            check(
                t.memory_config().buffer_type == BufferType.DRAM,
                op,
                "update_cache.idx_dram",
                "Expect update_idxs to have buffer type DRAM",
            )
            idxs = [int(v) for v in t.values.reshape(-1).tolist()]
        num = t.padded_shape[0] if not t.is_sharded() else t.shape[1]
    else:
        idxs = [int(v) for v in update_idxs]
        num = len(idxs)
    check(
        x.padded_shape[1] == num,
        op,
        "update_cache.num_idxs",
        f"Number of update_idxs ({num}) should match batch size ({x.padded_shape[1]})",
    )
    check(x.is_sharded(), op, "update_cache.input_sharded", "Expect input_tensor to be sharded")
    xm = x.memory_config()
    check(
        xm.memory_layout != TensorMemoryLayout.WIDTH_SHARDED,
        op,
        "update_cache.input_layout",
        "Expect input_tensor to NOT have memory layout WIDTH SHARDED",
    )
    check(
        xm.shard_spec.shape[1] == x.padded_shape[-1],
        op,
        "update_cache.shard_width",
        f"Expect input_tensor to have shard width ({xm.shard_spec.shape[1]}) equal to the last dimension of the input tensor padded shape ({x.padded_shape[-1]})",
    )
    check(
        xm.shard_spec.orientation == ShardOrientation.ROW_MAJOR,
        op,
        "update_cache.orientation",
        "Only ROW_MAJOR sharding is supported",
    )
    users = x.padded_shape[1]
    check(
        xm.shard_spec.num_cores() == users,
        op,
        "update_cache.one_user_per_core",
        f"Input tensor shard grid must have num_cores ({xm.shard_spec.num_cores()}) equal to the number of users / batch ({users}). The kernel dispatches one user per core",
    )
    check(
        x.dtype in (DataType.FLOAT32, DataType.BFLOAT16),
        op,
        "update_cache.input_dtype",
        f"Data type of input tensor for update cache must be FLOAT32 or BFLOAT16 (got {x.dtype.name})",
    )
    for i in idxs[:users]:
        check(
            -1 <= i < cache.shape[2],
            op,
            "update_cache.position",
            f"update index {i} outside the cache sequence length {cache.shape[2]}",
        )
    return idxs[:users]


def _kv_common(op: str, cache, x) -> None:
    """update_cache_device_operation.cpp ``validate_on_program_cache_miss`` (tenstorrent/tt-metal), shared part."""
    check(
        x.layout == Layout.TILE and cache.layout == Layout.TILE,
        op,
        "kv_cache.tile",
        "Inputs to update_cache must be tilized",
    )
    check(
        x.dtype in (DataType.FLOAT32, DataType.BFLOAT16, DataType.BFLOAT8_B),
        op,
        "kv_cache.input_dtype",
        f"Input tensor dtype must be FLOAT32, BFLOAT16, or BFLOAT8_B but got {x.dtype.name}",
    )
    check(
        cache.dtype in (DataType.FLOAT32, DataType.BFLOAT16, DataType.BFLOAT8_B),
        op,
        "kv_cache.cache_dtype",
        f"Cache tensor dtype must be FLOAT32, BFLOAT16, or BFLOAT8_B but got {cache.dtype.name}",
    )
    check(
        x.padded_shape[-1] == cache.padded_shape[-1],
        op,
        "kv_cache.width",
        f"Input tensor width ({x.padded_shape[-1]}) must equal cache tensor width ({cache.padded_shape[-1]})",
    )
    check(
        x.padded_shape[0] == 1,
        op,
        "kv_cache.input_batch",
        f"Input tensor batch size must be 1 but got {x.padded_shape[0]}",
    )
    check(
        x.padded_shape[1] == cache.padded_shape[1],
        op,
        "kv_cache.heads",
        f"Input tensor height ({x.padded_shape[1]}) must equal cache tensor height ({cache.padded_shape[1]})",
    )
    check(
        not cache.is_sharded(),
        op,
        "kv_cache.cache_interleaved",
        f"Cache tensor memory layout must be INTERLEAVED or ND_SHARDED but got {cache.memory_config().memory_layout.name}",
    )
    if x.is_sharded():
        xm = x.memory_config()
        check(
            xm.memory_layout != TensorMemoryLayout.WIDTH_SHARDED,
            op,
            "kv_cache.input_layout",
            f"Input tensor memory layout must not be WIDTH_SHARDED but got {xm.memory_layout.name}",
        )
        check(
            xm.shard_spec.shape[1] == x.padded_shape[-1],
            op,
            "kv_cache.shard_width",
            f"Input tensor shard width ({xm.shard_spec.shape[1]}) must equal padded width ({x.padded_shape[-1]})",
        )


def validate_fill_cache(op: str, cache, x, batch_idx: int, update_idx: int) -> None:
    """FILL branch of update_cache_device_operation.cpp plus the 0.81.1 update_idx strings ("Fill update_idx ({}) must be
    a multiple of TILE_HEIGHT ({})", "Fill update_idx ({}) + input tensor height ({}) must be <= cache tensor height ({})").
    """
    _kv_common(op, cache, x)
    check(
        x.dtype == cache.dtype,
        op,
        "fill_cache.dtype_match",
        f"Input and cache tensors must have same dtype! ({x.dtype.name} vs {cache.dtype.name}; typecast before fill_cache)",
    )
    if x.is_sharded():
        check(
            x.padded_shape[-2] % x.memory_config().shard_spec.shape[0] == 0,
            op,
            "fill_cache.shard_height",
            "Seq len must be divisible by shard height!",
        )
    check(
        0 <= batch_idx < cache.padded_shape[0],
        op,
        "fill_cache.batch_idx",
        f"Batch index ({batch_idx}) must be less than cache tensor batch size ({cache.padded_shape[0]})",
    )
    check(
        update_idx % TILE == 0,
        op,
        "fill_cache.update_idx",
        f"Fill update_idx ({update_idx}) must be a multiple of TILE_HEIGHT ({TILE})",
    )
    check(
        update_idx + x.padded_shape[-2] <= cache.padded_shape[-2],
        op,
        "fill_cache.fits",
        f"Fill update_idx ({update_idx}) + input tensor height ({x.padded_shape[-2]}) must be <= cache tensor height ({cache.padded_shape[-2]})",
    )


def validate_update_cache(op: str, cache, x, update_index: int, batch_offset: int) -> None:
    """UPDATE branch of update_cache_device_operation.cpp."""
    _kv_common(op, cache, x)
    if x.is_sharded():
        rows = math.prod(x.padded_shape[:-1])
        check(
            rows % x.memory_config().shard_spec.shape[0] == 0,
            op,
            "update_cache.shard_height",
            "input height must divide evenly into shards",
        )
    users = cache.padded_shape[0]
    check(
        users <= x.padded_shape[-2],
        op,
        "update_cache.users",
        f"Cache tensor batch size ({users}) must be <= input tensor height ({x.padded_shape[-2]})",
    )
    if users < 32:
        check(
            batch_offset + users <= 32,
            op,
            "update_cache.batch_offset",
            f"Batch offset ({batch_offset}) + cache tensor batch size ({users}) must be <= 32",
        )
    else:
        check(
            batch_offset == 0,
            op,
            "update_cache.batch_offset",
            "Batch offset must be 0 when cache tensor batch size >= 32",
        )
    check(
        0 <= update_index < cache.shape[2],
        op,
        "update_cache.index",
        f"update_index {update_index} outside the cache length {cache.shape[2]}",
    )
