"""What the emulator checks before it computes an op: the shapes, layouts, dtypes and placements its numerics read.

Legality is not judged here. ttnn's rules (program-config limits and divisibility, grids that fit the device,
circular buffers and the L1 budget, which layouts and dtypes an op accepts) are written once in ``tttgen/rules/`` and
judged by the real ttnn 0.81.1 (``tttgen check --ttnn``; ``tests/realttnn/test_emulator_agrees.py`` proves the cases
the emulator used to reject). A check below exists because the emulator cannot compute or place a result without it:
operand shapes that must agree, a shard spec that says which rows and columns each core holds, the output shard spec
ttnn derives from a program config, positions that index a cache. Where ttnn accepts a call, the emulator must too.
Messages quote ttnn's TT_FATAL wording (strings of the 0.81.1 ``_ttnncpp.so``) where it has one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from . import dtypes as dt
from .configs import (
    MATMUL_PROGRAM_CONFIGS,
    BufferType,
    CoreCoord,
    CoreRange,
    CoreRangeSet,
    MathFidelity,
    MatmulMultiCoreReuseMultiCast1DProgramConfig,
    MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig,
    MatmulMultiCoreReuseMultiCastProgramConfig,
    MatmulMultiCoreReuseProgramConfig,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
    UnaryWithParam,
    WormholeComputeKernelConfig,
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


def _first_cores(op: str, count: int, grid: CoreCoord, row_wise: bool = True) -> CoreRangeSet:
    check(
        0 < count <= grid.x * grid.y,
        op,
        "matmul.output_cores",
        f"the sharded output has {count} blocks, one per core, but the {grid.x}x{grid.y} grid has "
        f"{grid.x * grid.y} cores: its shards cannot be placed",
    )
    return num_cores_to_corerangeset(count, grid, row_wise)


def _output_shard_spec(op: str, a, pc, Mt: int, Nt: int, batch_a: int, device: Device) -> ShardSpec:
    """The output shard spec ttnn's ``compute_output_specs`` derives from the program config (it overrides a given
    one): ``(per_core_M, per_core_N)`` tiles per core on the 2D block rectangle (COL_MAJOR when transposed), on the
    first blocks of the grid row-wise (1D, DRAM-sharded on the device grid), or on A's shard grid / the first blocks
    column-wise (reuse). The emulator needs it to know which rows and columns of the output each core holds."""
    check(
        pc.per_core_M > 0 and pc.per_core_N > 0,
        op,
        "matmul.output_blocks",
        f"per_core_M ({pc.per_core_M}) and per_core_N ({pc.per_core_N}) must be positive to place a sharded output",
    )
    shard = [pc.per_core_M * TILE, pc.per_core_N * TILE]
    nbx = ceil_div(Nt, pc.per_core_N)
    if isinstance(pc, MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig):
        cores = _first_cores(op, nbx, device.compute_with_storage_grid_size())
        return ShardSpec(cores, shard, ShardOrientation.ROW_MAJOR)
    grid = pc.compute_with_storage_grid_size
    if isinstance(pc, MatmulMultiCoreReuseProgramConfig):
        if a.is_sharded():
            a_spec = a.memory_config().shard_spec
            return ShardSpec(a_spec.grid, shard, a_spec.orientation)
        blocks = ceil_div(batch_a * Mt, pc.per_core_M) * nbx
        cores = _first_cores(op, min(blocks, grid.x * grid.y), grid, row_wise=False)
        return ShardSpec(cores, shard, ShardOrientation.COL_MAJOR)
    nby = ceil_div(batch_a * Mt if pc.fuse_batch else Mt, pc.per_core_M)
    if isinstance(pc, MatmulMultiCoreReuseMultiCastProgramConfig):
        if pc.transpose_mcast:
            rect = CoreRange(CoreCoord(0, 0), CoreCoord(nby - 1, nbx - 1))
            return ShardSpec(CoreRangeSet({rect}), shard, ShardOrientation.COL_MAJOR)
        rect = CoreRange(CoreCoord(0, 0), CoreCoord(nbx - 1, nby - 1))
        return ShardSpec(CoreRangeSet({rect}), shard, ShardOrientation.ROW_MAJOR)
    return ShardSpec(_first_cores(op, nbx * nby, grid), shard, ShardOrientation.ROW_MAJOR)


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
    """Operand shapes and dtypes the numerics read, the compute config they run with, the fused activation and
    where the output lives. The program config's legality (blocks, subblocks, grids, L1) is ttnn's to judge."""
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
    act = (
        program_config.fused_activation if getattr(program_config, "fused_activation", None) is not None else activation
    )

    if program_config is None:
        # ttnn's auto-config (reference §1.10) picks the blocking; only a sharded output's placement matters here.
        if out_mem.is_sharded() and out_mem.shard_spec is None:
            check(
                a.is_sharded() and a.memory_config().memory_layout == out_mem.memory_layout,
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
        return MatmulPlan(out_mem, cfg, act)

    pc = program_config
    if isinstance(pc, MatmulMultiCoreReuseMultiCast1DProgramConfig) and pc.gather_in0:
        raise EmulatorUnsupported(
            f"{op}: gather_in0 1D matmuls (global circular buffers, sub-devices) are not emulated"
        )
    check(
        isinstance(pc, MATMUL_PROGRAM_CONFIGS),
        op,
        "matmul.program_config_type",
        f"unsupported program_config type {type(pc).__name__}",
    )
    if a.is_sharded():
        # A sharded input A is consumed in place: each core's shard is the per_core_M rows it multiplies. Blocks of
        # another height do not say which rows a core computes, so the call cannot be interpreted.
        rows = a.memory_config().shard_spec.shape[0] // TILE
        check(
            pc.per_core_M == rows,
            op,
            "matmul.in0_shard_rows",
            f"per_core_M ({pc.per_core_M}) must equal shard_shape[0] / in0_tile.get_height() ({rows}): a sharded "
            "input A is read in place, one shard of rows per core",
        )
    if out_mem.is_sharded():
        out_mem = out_mem.with_shard_spec(_output_shard_spec(op, a, pc, Mt, Nt, batch_a, device))
    return MatmulPlan(out_mem, cfg, act)


def infer_width_sharded_output(op: str, out_mem: MemoryConfig, like) -> MemoryConfig:
    """``L1_WIDTH_SHARDED_MEMORY_CONFIG`` etc. without a shard spec on an output: take the input's spec."""
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


def validate_norm(op: str, x, weight, bias, residual, out_mem: MemoryConfig) -> MemoryConfig:
    """What the norm's numerics read: a float TILE input of whole tiles, gamma/beta holding the hidden width, a residual
    of the input's shape. Returns the output placement (a sharded output without a spec takes the input's)."""
    require_tile_aligned(op, x, "input_tensor")
    check(dt.is_float(x.dtype), op, "norm.dtype", f"input dtype must be floating point, got {x.dtype.name}")
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
    return infer_width_sharded_output(op, out_mem, x)


# ============================================================================================ attention


def _require_float(op: str, rule: str, **tensors) -> None:
    for name, t in tensors.items():
        check(dt.is_float(t.dtype), op, rule, f"{name} must hold floating-point values, got {t.dtype.name}")


def validate_sdpa(op: str, q, k, v) -> None:
    """Shapes the attention numerics index: 4-D ``[b, nh, s, dh]``, equal batch and head dims, K and V alike, query
    heads a multiple of the KV heads (query head h reads KV head ``h // (nq / nkv)``)."""
    _require_float(op, "sdpa.dtype", Q=q, K=k, V=v)
    for name, t in (("Q", q), ("K", k), ("V", v)):
        check(t.shape.rank == 4, op, "sdpa.rank", f"{name} must be 4-D [b, nh, s, dh], got {list(t.shape)}")
    check(
        k.shape[0] == q.shape[0] and v.shape[0] == q.shape[0],
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
        q.shape[1] % k.shape[1] == 0,
        op,
        "sdpa.gqa",
        f"GQA needs Q heads ({q.shape[1]}) to be a multiple of K heads ({k.shape[1]})",
    )
    check(
        k.shape[2] == v.shape[2], op, "sdpa.kv_seq", f"K and V sequence lengths differ ({k.shape[2]} vs {v.shape[2]})"
    )


def validate_sdpa_decode(op: str, q, k, v, cur_pos_tensor, cur_pos) -> None:
    """Shapes the decode numerics index: Q ``[1, B, nh, dh]``, caches ``[B, nkv, s, dh]`` (user b attends cache b),
    one position per user inside the cache, integer positions (wording of sdpa_decode_device_operation.cpp)."""
    _require_float(op, "sdpa_decode.dtype", Q=q, K=k, V=v)
    qs, ks, vs = q.padded_shape, k.padded_shape, v.padded_shape
    check(
        qs.rank == 4 and ks.rank == 4 and vs.rank == 4,
        op,
        "sdpa_decode.rank",
        "Q must be [1, b, nh, dh] and K/V [b, nkv, s, dh]",
    )
    B = qs[1]
    check(qs[0] == 1, op, "sdpa_decode.q_seq", f"Q tensor batch size must be 1 for decode mode but got {qs[0]}")
    check(
        ks[0] == B,
        op,
        "sdpa_decode.k_batch",
        f"K tensor batch size ({ks[0]}) must equal B ({B}) (Q is [1, B, nh, dh]; the cache batch must equal Q's batch)",
    )
    check(vs[0] == B, op, "sdpa_decode.v_batch", f"V tensor batch size ({vs[0]}) must equal B ({B})")
    check(
        ks[-2] == vs[-2],
        op,
        "sdpa_decode.kv_seq",
        f"K and V tensors must have the same sequence length. K: {ks[-2]}, V: {vs[-2]}",
    )
    check(
        ks[-1] == qs[-1] and vs[-1] == qs[-1],
        op,
        "sdpa_decode.head_dim",
        f"K ({ks[-1]}) and V ({vs[-1]}) hidden dimensions must equal Q's ({qs[-1]})",
    )
    check(
        ks[1] == vs[1],
        op,
        "sdpa_decode.kv_heads",
        f"Flash decode expects K and V to have same number of heads, but got {ks[1]} and {vs[1]}",
    )
    check(
        q.shape[2] % ks[1] == 0,
        op,
        "sdpa_decode.gqa_heads",
        f"GQA expects Q to have a multiple of K heads, but got {q.shape[2]} and {ks[1]}",
    )
    for p in cur_pos or []:
        check(p < ks[-2], op, "sdpa_decode.cur_pos", f"cur_pos must be <= K sequence dim (cur_pos {p}, K seq {ks[-2]})")
    if cur_pos_tensor is not None:
        check(
            cur_pos_tensor.dtype in dt.INT_TYPES,
            op,
            "sdpa_decode.cur_pos_dtype",
            f"Expect cur_pos to be INT32, got {cur_pos_tensor.dtype.name}",
        )


# ============================================================================================ heads / rope / cache


def validate_create_qkv_heads_decode(
    op: str, x, num_heads: int, num_kv_heads: int, out_mem: MemoryConfig, device: Device
) -> None:
    """The fused input ``[1, 1, B, (nq + 2 nkv) * head_dim]`` the split reads (0.81.1 docstring "Shuffles [1, S=1, B,
    head_dim * (num_heads + 2*num_kv_heads)] ..."), and one core per user for a sharded output (device op
    ``create_output_tensors``)."""
    check(dt.is_float(x.dtype), op, "qkv_decode.dtype", f"input must hold floating-point values, got {x.dtype.name}")
    check(x.layout == Layout.TILE, op, "qkv_decode.layout", "input must be TILE layout")
    s = x.shape
    check(
        s.rank == 4 and s[0] == 1 and s[1] == 1,
        op,
        "qkv_decode.shape",
        f"Unsupported input shape {list(s)}: expected [1, 1, B, (nq + 2 nkv) * head_dim]",
    )
    check(
        s[3] % (num_heads + 2 * num_kv_heads) == 0,
        op,
        "qkv_decode.head_dim",
        f"width {s[3]} is not divisible by num_heads + 2 * num_kv_heads = {num_heads + 2 * num_kv_heads}",
    )
    if out_mem.is_sharded():
        g = device.compute_with_storage_grid_size()
        check(
            s[2] <= g.x * g.y,
            op,
            "qkv_decode.cores",
            f"Need at least {s[2]} cores for decode (grid has {g.x * g.y}): the output holds one user per core",
        )


def validate_rotary_llama(op: str, x, cos, sin, trans_mat, is_decode_mode: bool) -> None:
    """The rotation ``x * cos + (x @ trans_mat) * sin`` per 32-wide tile of the head dim: TILE float tensors, cos/sin
    with the input's head dim (decode: ``[1, B, 1, hd]``, user b reads row b; prefill: 1 or n heads and at least the
    input's length), and a transformation matrix of 32x32 tiles (decode: one per user or one shared; prefill: one).
    Wording of the 0.81.1 strings where they exist ("Cos seq_len must be >= input seq_len")."""
    for name, t in (("input", x), ("cos", cos), ("sin", sin), ("trans_mat", trans_mat)):
        check(t.layout == Layout.TILE, op, "rope.layout", f"{name} to rotary embedding must be tilized")
        t.require_device(op)
        check(dt.is_float(t.dtype), op, "rope.dtype", f"{name} must hold floating-point values, got {t.dtype.name}")
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
            x.shape.rank == 4 and x.shape[0] == 1,
            op,
            "rope.decode_shape",
            f"decode input must be [1, batch, n_heads, head_dim], got {list(x.shape)}",
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
        check(
            x.shape.rank == 4 and cos.shape.rank == 4 and cos.shape[1] in (1, x.shape[1]),
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
    """Which cache row each user's input lands in (docstring: "input_tensor of shape [1, B, 1[32], head_dim] where
    input_tensor is height sharded on B cores. update_idxs will specify for each batch element which token to
    update"): shapes that match the cache, one index per user inside the cache, and for a sharded input one user per
    core (the kernel updates, on each core, the user its shard holds). Returns the positions of the B users."""
    if page_table is not None:
        raise EmulatorUnsupported(f"{op}: page_table (paged KV cache) is not emulated")
    check(x.padded_shape[0] == 1, op, "update_cache.input_dim0", "Dim 0 of input tensor must be 1")
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
            t.dtype in dt.INT_TYPES,
            op,
            "update_cache.idx_dtype",
            f"Expected update_idxs to have datatype INT32, got {t.dtype.name}",
        )
        if t.is_sharded():
            idxs = [int(v) for v in t.values.reshape(t.shape[0], -1)[0].tolist()]
            num = t.shape[1]
        else:
            idxs = [int(v) for v in t.values.reshape(-1).tolist()]
            num = t.padded_shape[0]
    else:
        idxs = [int(v) for v in update_idxs]
        num = len(idxs)
    users = x.padded_shape[1]
    check(
        users == num,
        op,
        "update_cache.num_idxs",
        f"Number of update_idxs ({num}) should match batch size ({users})",
    )
    if x.is_sharded():
        cores = x.memory_config().shard_spec.num_cores()
        check(
            cores == users,
            op,
            "update_cache.one_user_per_core",
            f"Input tensor shard grid must have num_cores ({cores}) equal to the number of users / batch ({users}). The kernel dispatches one user per core",
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
    """Shapes both cache writes copy between (update_cache_device_operation.cpp wording)."""
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


def validate_fill_cache(op: str, cache, x, batch_idx: int, update_idx: int) -> None:
    """``cache[batch_idx, :, update_idx:update_idx + S, :] = input``: the rows must exist (0.81.1 wording "Fill
    update_idx ({}) + input tensor height ({}) must be <= cache tensor height ({})")."""
    _kv_common(op, cache, x)
    check(
        0 <= batch_idx < cache.padded_shape[0],
        op,
        "fill_cache.batch_idx",
        f"Batch index ({batch_idx}) must be less than cache tensor batch size ({cache.padded_shape[0]})",
    )
    check(
        0 <= update_idx and update_idx + x.shape[-2] <= cache.shape[-2],
        op,
        "fill_cache.fits",
        f"Fill update_idx ({update_idx}) + input tensor height ({x.shape[-2]}) must be <= cache tensor height ({cache.shape[-2]})",
    )


def validate_update_cache(op: str, cache, x, update_index: int, batch_offset: int) -> None:
    """``cache[user, :, update_index, :] = input[0, :, batch_offset + user, :]`` for every cache user: those input
    rows (padding rows are not stored) and that cache row must exist."""
    _kv_common(op, cache, x)
    users = cache.shape[0]
    check(
        0 <= batch_offset and batch_offset + users <= x.shape[-2],
        op,
        "update_cache.users",
        f"Batch offset ({batch_offset}) + cache tensor batch size ({users}) must be <= input tensor height ({x.shape[-2]})",
    )
    check(
        0 <= update_index < cache.shape[2],
        op,
        "update_cache.index",
        f"update_index {update_index} outside the cache length {cache.shape[2]}",
    )
