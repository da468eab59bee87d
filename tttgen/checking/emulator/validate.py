"""What the emulator checks before it computes an op: the shapes, layouts, dtypes and placements its numerics read.

Legality is not judged here. ttnn's rules (program-config limits and divisibility, grids that fit the device,
circular buffers and the L1 budget, which layouts and dtypes an op accepts) are written once in ``tttgen/rules/`` and
judged by the real ttnn 0.81.1 (``tttgen check --ttnn``; ``tests/realttnn/test_emulator_agrees.py`` proves the cases
the emulator used to reject). A check below exists because the emulator cannot compute or place a result without it:
operand shapes that must agree, a shard spec that says which rows and columns each core holds, the output shard spec
ttnn derives from a program config, positions that index a cache. Where ttnn accepts a call, the emulator must too.
Messages quote ttnn's TT_FATAL wording (strings of the 0.81.1 ``_ttnncpp.so``) where it has one.

The paged-cache ops (paged_update_cache with a page table, paged_fill_cache, paged SDPA decode, chunked SDPA) also
mirror ttnn's rules about the small int tensors that steer them (page table, cur_pos, batch_idx, chunk_start: dtype,
layout, shape, placement, 32-byte page-table rows), checked on a mock n150 (0.81.1): these tensors decide which
blocks are read and written, and a wrong one is silently misread on the device rather than computed differently.
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
    batched_b = b.padded_shape.rank > 2 and math.prod(b.padded_shape[:-2]) > 1
    if not (op == "ttnn.matmul" and batched_b):
        # A batched product (bmm: every batch its own a and b) may take a's rows height-padded: each batch's padded
        # rows are computed from zeros and never reach its logical rows (the decode attention written out as ops:
        # a KV head's group of query rows, [users, kv_heads, group, head_dim]; the real ttnn 0.81.1 accepts it)
        require_tile_aligned(op, a, "input_tensor_a")
    else:
        require_tile(op, a, "input_tensor_a")
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
    of the input's shape. Returns the output placement (a sharded output without a spec takes the input's).

    The height may end inside a tile: each row is normalised on its own, so the zero rows ttnn pads a tile with
    change no real row (decode heads [1, users, heads, head_dim] with fewer than 32 heads: Qwen3's q/k norm)."""
    require_tile(op, x, "input_tensor")
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
    core (the kernel updates, on each core, the user its shard holds). Returns the positions of the B users.

    Paged (``page_table`` given; paged_update_cache_device_operation.cpp ``validate_on_program_cache_miss``): the
    cache is ``[max_num_blocks, nkv, block_size, head_dim]``, positions come from an ``update_idxs`` tensor ("Paged
    cache requires update_idxs tensor"), the page table is an INT32 ROW_MAJOR ``[B, max_num_blocks_per_seq]`` with
    the input's batch and at most ``max_num_blocks`` columns, and the per-block element count of the call view equals
    the cache's. A position must lie inside the page table's ``max_num_blocks_per_seq * block_size`` tokens (the
    writer kernel looks up ``page_table[b][pos / block_size]``; ttnn reads past the row otherwise)."""
    paged = page_table is not None
    check(x.padded_shape[0] == 1, op, "update_cache.input_dim0", "Dim 0 of input tensor must be 1")
    if not paged:
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
    else:
        validate_paged_geometry(op, "paged_update_cache", cache, cache.padded_shape[1], x.padded_shape[-1])
        check(
            update_idxs_tensor is not None,
            op,
            "paged_cache.needs_idx_tensor",
            "Paged cache requires update_idxs tensor (update_idxs=[...] is the non-paged form)",
        )
        validate_page_table(
            op,
            page_table,
            dtype_msg="Expect page table to have datatype INT32",
            layout_msg="Expect page table to have memory layout in ROW MAJOR",
        )
        check(
            page_table.padded_shape[0] == x.padded_shape[1],
            op,
            "paged_cache.page_table_batch",
            f"Batch size between page_table and input_tensor must match (page_table {list(page_table.shape)}, "
            f"input [1, B={x.padded_shape[1]}, ...])",
        )
        check(
            page_table.padded_shape[1] <= cache.padded_shape[0],
            op,
            "paged_cache.page_table_width",
            f"max_num_blocks_per_seq must be less than max_num_blocks: max_num_blocks_per_seq={page_table.padded_shape[1]}, "
            f"max_num_blocks={cache.padded_shape[0]}",
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
    if paged:
        capacity = page_table.shape[1] * cache.shape[2]
        for b, i in enumerate(idxs[:users]):
            check(
                -1 <= i < capacity,
                op,
                "paged_cache.position",
                f"update index {i} of user {b} outside the page table's {page_table.shape[1]} blocks x block_size "
                f"{cache.shape[2]} = {capacity} tokens (the kernel reads page_table[b][pos / block_size])",
            )
    else:
        for i in idxs[:users]:
            check(
                -1 <= i < cache.shape[2],
                op,
                "update_cache.position",
                f"update index {i} outside the cache sequence length {cache.shape[2]}",
            )
    return idxs[:users]


# ============================================================================================ paged KV cache


def validate_paged_geometry(op: str, what: str, cache, view_heads: int, view_head_dim: int) -> None:
    """Per-block element-count consistency of the call view (``{what} geometry mismatch: cache has {} elems/block
    (kv_heads={}, block_size={}, head_dim={}) but call view is {} ...``), and the cache's block size in whole tile
    rows: ttnn addresses a block by its padded tile height, the emulator stores logical rows only."""
    nh, bs, hd = (int(d) for d in cache.padded_shape[1:])
    have, view = nh * bs * hd, int(view_heads) * bs * int(view_head_dim)
    check(
        view == have,
        op,
        "paged_cache.geometry",
        f"{what} geometry mismatch: cache has {have} elems/block (kv_heads={nh}, block_size={bs}, head_dim={hd}) but "
        f"call view is {view} (kv_heads={view_heads}, block_size={bs}, head_dim={view_head_dim}).",
    )
    if view_heads != nh:
        raise EmulatorUnsupported(
            f"{op}: a call view of {view_heads} heads x head_dim {view_head_dim} over a cache of {nh} heads x "
            f"head_dim {hd} (a shared HMA buffer reinterpreted) is not emulated"
        )
    check(
        cache.shape[2] % TILE == 0,
        op,
        "paged_cache.block_size",
        f"cache block_size {cache.shape[2]} is not a multiple of 32: ttnn addresses a block by its padded tile height "
        f"({cache.padded_shape[2]}), but the tttgen contract needs whole-tile blocks (the emulator stores logical rows)",
    )


def validate_page_table(op: str, pt, *, dtype_msg: str, layout_msg: str, interleaved_msg: Optional[str] = None) -> None:
    """A page table ``[batch, max_num_blocks_per_seq]`` of block indices: INT32 and ROW_MAJOR (each op's own TT_FATAL
    wording). A sharded (UINT16) table, which paged_update_cache and the decode op also take, is not emulated; an op
    that requires an interleaved table says so with ``interleaved_msg``."""
    pt.require_device(op)
    if pt.is_sharded():
        if interleaved_msg is not None:
            fail(op, "paged_cache.page_table_interleaved", interleaved_msg)
        raise EmulatorUnsupported(f"{op}: a sharded (UINT16) page table is not emulated")
    check(pt.dtype == DataType.INT32, op, "paged_cache.page_table_dtype", f"{dtype_msg} (got {pt.dtype.name})")
    check(pt.layout == Layout.ROW_MAJOR, op, "paged_cache.page_table_layout", f"{layout_msg} (got {pt.layout.name})")
    check(
        pt.shape.rank == 2,
        op,
        "paged_cache.page_table_rank",
        f"page_table must be 2D tensor [batch_size x num_pages]. Got shape: {list(pt.shape)}",
    )


def validate_page_table_stick(op: str, pt, *, exact: bool = False) -> None:
    """A reader copies one page-table row per page into a circular buffer whose page must be 32-byte aligned. Legacy
    paths use the buffer's aligned page size (row bytes rounded up to the buffer alignment: 16 B in L1, 32 B or more
    in DRAM): "page table page size in bytes must be a multiple of 32 due to address alignment"; the flexible chunked
    path uses the raw row size: "page table stick size must be a multiple of 32". The mock device refuses an L1
    ``[1, 4]`` table (16 B) and accepts ``[1, 8]``."""
    row = pt.padded_shape[-1] * 4
    if exact:
        check(
            row % 32 == 0,
            op,
            "paged_cache.page_table_stick",
            f"page table stick size must be a multiple of 32 (a row of {pt.padded_shape[-1]} int32 block ids is {row} B: "
            "the page table width must be a multiple of 8 with chunk_start_idx_tensor)",
        )
        return
    align = 16 if pt.memory_config().buffer_type == BufferType.L1 else 32
    aligned = -(-row // align) * align
    check(
        aligned % 32 == 0,
        op,
        "paged_cache.page_table_stick",
        f"page table page size in bytes must be a multiple of 32 due to address alignment (a row of "
        f"{pt.padded_shape[-1]} int32 block ids is {row} B, {aligned} B aligned in {pt.memory_config().buffer_type.name})",
    )


def page_table_blocks(op: str, pt, row: int, count: int, num_blocks: int, *, skip_sentinel: bool = False) -> list[int]:
    """The physical blocks of the first ``count`` logical blocks of page-table row ``row``. Each must index the cache
    (golden ``_paged_to_contiguous``: "Page table contains an index outside [0, num_pages)"); with
    ``skip_sentinel`` a -1 entry is kept (paged_fill_cache's writer skips a block whose entry is -1)."""
    assert count <= pt.shape[1], (count, list(pt.shape))  # callers check positions against the capacity first
    entries = [int(e) for e in pt.values[row, :count].tolist()]
    for j, e in enumerate(entries):
        check(
            0 <= e < num_blocks or (skip_sentinel and e == -1),
            op,
            "paged_cache.page_table_entry",
            f"Page table contains an index outside [0, {num_blocks}): page_table[{row}][{j}] = {e}",
        )
    return entries


def paged_update_targets(op: str, cache, page_table, idxs: list[int]) -> list[tuple[int, int, int]]:
    """(user, physical block, row in the block) for every user whose position is not negative (-1 skips)."""
    bs = cache.shape[2]
    out = []
    for b, pos in enumerate(idxs):
        if pos < 0:
            continue
        blk = page_table_blocks(op, page_table, b, pos // bs + 1, cache.shape[0])[pos // bs]
        out.append((b, blk, pos % bs))
    return out


def validate_paged_fill_cache(
    op: str, cache, x, page_table, batch_idx: int, batch_idx_tensor
) -> list[tuple[int, list[int]]]:
    """The rules of paged_fill_cache_device_operation.cpp ``validate_on_program_cache_miss`` and of the program
    factory that concern what the op reads (0.81.1 wording): an input of the cache's dtype (a raw tile copy: with
    another dtype the device copies tiles of the wrong format, which the emulator cannot mimic), an interleaved INT32
    page table, ``batch_idx < page_table rows``, the per-block element count, ``seq_len <= max_num_blocks_per_seq *
    block_size`` (the sequence need not be a multiple of block_size: the last block is partly written), a
    ``batch_idx_tensor`` of ``input_batch`` int32/uint32 elements (a TILE one fails this count, as in ttnn),
    interleaved in DRAM (without one the input batch must be 1), and page-table rows 32-byte aligned. ttnn 0.81.1 does not check the page table's layout
    here; the writer reads row ``batch_idx`` as one page, which only a ROW_MAJOR table provides, so the emulator
    requires it. The input's own placement is ttnn's to judge. Returns, per input batch row, its page-table row's
    blocks (-1 = skipped block)."""
    check(
        x.dtype == cache.dtype,
        op,
        "paged_fill_cache.dtype_match",
        f"Input tensor dtype ({x.dtype.name}) must match cache tensor dtype ({cache.dtype.name}) for paged_fill_cache; "
        "cast prefill K/V to the cache dtype before filling the paged cache.",
    )
    check(
        x.shape.rank == 4 and cache.shape.rank == 4,
        op,
        "paged_fill_cache.rank",
        f"input [input_batch, num_heads, seq_len, head_dim] and cache [max_num_blocks, num_heads, block_size, head_dim] "
        f"must be 4-D, got {list(x.shape)} and {list(cache.shape)}",
    )
    validate_page_table(
        op,
        page_table,
        dtype_msg="Expect page_table_tensor to have datatype INT32",
        layout_msg="page_table must be ROW_MAJOR: the writer reads row batch_idx as one page (ttnn 0.81.1 does not "
        "check the layout here, and a TILE table holds its rows in faces)",
        interleaved_msg="Expect page_table_tensor to have memory layout INTERLEAVED",
    )
    rows = page_table.shape[0]
    check(
        0 <= batch_idx < rows,
        op,
        "paged_fill_cache.batch_idx",
        f"Batch idx must be within the page_table batch size (batch_idx {batch_idx}, page table {list(page_table.shape)})",
    )
    validate_paged_geometry(op, "paged_fill_cache", cache, x.padded_shape[1], x.padded_shape[-1])
    bs, width = cache.shape[2], page_table.shape[1]
    check(
        x.padded_shape[2] <= bs * width,
        op,
        "paged_fill_cache.seq_fits",
        f"Input seq_len ({x.padded_shape[2]}) must fit in max_num_blocks_per_seq ({width}) * block_size ({bs})",
    )
    input_batch = x.padded_shape[0]
    if batch_idx_tensor is not None:
        t = batch_idx_tensor
        t.require_device(op)
        volume = math.prod(t.padded_shape)
        check(
            volume == input_batch,
            op,
            "paged_fill_cache.batch_idx_tensor_size",
            f"Batch idx tensor must have input_tensor batch dim ({input_batch}) elements, got {volume}",
        )
        check(
            t.dtype in (DataType.UINT32, DataType.INT32),
            op,
            "paged_fill_cache.batch_idx_tensor_dtype",
            f"Batch idx tensor must be an integer type (INT32 or UINT32), got {t.dtype.name}",
        )
        mem = t.memory_config()
        check(
            not mem.is_sharded() and mem.buffer_type == BufferType.DRAM,
            op,
            "paged_fill_cache.batch_idx_tensor_placement",
            f"Batch idx tensor must have INTERLEAVED memory layout and be DRAM-resident, got "
            f"{mem.memory_layout.name} {mem.buffer_type.name}",
        )
        slots = [int(v) for v in t.values.reshape(-1).tolist()]
    else:
        check(
            input_batch == 1,
            op,
            "paged_fill_cache.input_batch",
            f"When no batch_idx_tensor is provided, input_batch must be 1 (got {input_batch}); pass a batch_idx_tensor "
            "of size input_batch to fill multiple batch rows in one call.",
        )
        slots = [int(batch_idx)]
    validate_page_table_stick(op, page_table)
    blocks = ceil_div(x.padded_shape[2], bs)
    out = []
    for i, slot in enumerate(slots):
        check(
            0 <= slot < rows,
            op,
            "paged_fill_cache.batch_idx",
            f"batch_idx_tensor[{i}] = {slot} is not a row of the page table {list(page_table.shape)} (the writer reads "
            "page_table[batch_idx])",
        )
        out.append((i, page_table_blocks(op, page_table, slot, blocks, cache.shape[0], skip_sentinel=True)))
    return out


def validate_paged_sdpa_decode(op: str, q, k, v, page_table, cur_pos_tensor) -> tuple[int, list[int]]:
    """The paged rules of sdpa_decode_device_operation.cpp ``validate_on_program_cache_miss`` (causal), in 0.81.1
    wording: a cur_pos tensor (INT32, ROW_MAJOR, all positions in its last dim, one per page-table row), an INT32
    ROW_MAJOR page table, K and V of the same block size and heads, Q, K, V of the same head dim, Q heads a multiple
    of the KV heads. The batch is the page table's row count (compute_output_specs: the output is ``[1, B, nh,
    dh]``). Emulator checks on top: Q is ``[1, >= B, nh, dh]`` (the kernel reads Q row b for user b; ttnn does not
    compare the two, and the golden needs ``[1, B, NH, D]``), every non-negative position lies inside the page
    table's capacity (the kernel reads ``page_table[b][pos / block_size]``) and the blocks a user reads index the
    cache. Placement rules shared with the unpaged op (K/V in DRAM, Q in DRAM or height-sharded, BF16 Q for GQA,
    ``k_chunk_size % 32``) are ttnn's to judge, as for ``scaled_dot_product_attention_decode``. Returns the batch and
    the positions."""
    _require_float(op, "paged_sdpa_decode.dtype", Q=q, K=k, V=v)
    for name, t in (("Q", q), ("K", k), ("V", v)):
        check(t.shape.rank == 4, op, "paged_sdpa_decode.rank", f"{name} must be 4-D, got {list(t.shape)}")
    validate_page_table(
        op,
        page_table,
        dtype_msg="Error: SDPA currently only supports INT32 datatype",
        layout_msg="Page table tensor layout must be ROW_MAJOR",
    )
    B = page_table.padded_shape[0]
    check(
        cur_pos_tensor is not None,
        op,
        "paged_sdpa_decode.cur_pos_required",
        "Must have cur_pos tensor for paged attention in causal mode",
    )
    t = cur_pos_tensor
    t.require_device(op)
    check(
        t.dtype == DataType.INT32,
        op,
        "paged_sdpa_decode.cur_pos_dtype",
        f"Expect cur_pos to be INT32, got {t.dtype.name}",
    )
    check(
        t.layout == Layout.ROW_MAJOR,
        op,
        "paged_sdpa_decode.cur_pos_layout",
        f"Expect cur_pos to be ROW_MAJOR, got {t.layout.name}",
    )
    if t.is_sharded():
        raise EmulatorUnsupported(f"{op}: a sharded cur_pos tensor is not emulated")
    cps = t.padded_shape
    check(
        math.prod(cps) == cps[-1],
        op,
        "paged_sdpa_decode.cur_pos_shape",
        f"cur_pos tensor must hold all positions in its last dim (e.g. [B] or [1, B]), got shape {list(cps)}",
    )
    check(
        cps[-1] == B,
        op,
        "paged_sdpa_decode.cur_pos_batch",
        f"cur_pos must have batch size equal to Q, got {cps[-1]} and {B} (the batch is the page table's row count)",
    )
    ks, vs, qs = k.padded_shape, v.padded_shape, q.padded_shape
    check(ks[2] == vs[2], op, "paged_sdpa_decode.block_size", f"K and V must have same block size ({ks[2]} vs {vs[2]})")
    check(
        ks[3] == vs[3] and ks[3] == qs[3],
        op,
        "paged_sdpa_decode.head_dim",
        f"Q, K, V must have same hidden size (Q {qs[3]}, K {ks[3]}, V {vs[3]})",
    )
    check(
        ks[1] == vs[1],
        op,
        "paged_sdpa_decode.kv_heads",
        f"Flash decode expects K and V to have same number of heads, but got {ks[1]} and {vs[1]}",
    )
    check(
        q.shape[2] % ks[1] == 0,
        op,
        "paged_sdpa_decode.gqa_heads",
        f"GQA expects Q to have a multiple of K heads, but got {q.shape[2]} and {ks[1]}",
    )
    check(
        q.shape[0] == 1 and q.shape[1] >= B,
        op,
        "paged_sdpa_decode.q_batch",
        f"Q {list(q.shape)} must be [1, B, nh, dh] with B >= the page table's {B} users (the kernel reads Q row b for "
        "user b; ttnn 0.81.1 does not compare the two)",
    )
    validate_paged_geometry(op, "paged_scaled_dot_product_attention_decode", k, ks[1], qs[3])
    positions = [int(p) for p in t.values.reshape(-1).tolist()][:B]
    bs, width = k.shape[2], page_table.shape[1]
    for b, p in enumerate(positions):
        check(
            p < width * bs,
            op,
            "paged_sdpa_decode.cur_pos",
            f"cur_pos[{b}] = {p} is beyond the page table's {width} blocks x block_size {bs} = {width * bs} tokens "
            "(the kernel reads page_table[b][pos / block_size])",
        )
        if p >= 0:
            page_table_blocks(op, page_table, b, p // bs + 1, k.shape[0])
    return B, positions


def validate_chunked_sdpa(op: str, q, k, v, page_table, chunk_start_idx, chunk_start_idx_tensor, program_config) -> int:
    """sdpa_device_operation.cpp ``validate_chunked_mode`` and the program factory (0.81.1 wording): one of
    ``chunk_start_idx`` (>= 0) or ``chunk_start_idx_tensor`` (INT32, shape [1]; given both, the tensor is read, as
    in the golden); an INT32 ROW_MAJOR page table with Q's batch; K and V of the same block size, heads and head
    dim; Q heads a multiple of the KV heads; chunk sizes whole tiles; the start a multiple of q_chunk_size and
    k_chunk_size; the page table covering ``chunk_start_idx + Sq`` tokens (ttnn checks this for a scalar start; with
    the tensor the emulator reads the start and requires it too); its rows 32-byte aligned (with the tensor the raw
    row: a width that is a multiple of 8). Operand placement and dtypes (interleaved, tilized BF16/BFP8/BFP4) are
    ttnn's to judge, as for ``scaled_dot_product_attention``. ttnn checks the start's multiples
    only for a scalar start with a program config, but the kernel offsets the queries by whole Q chunks (``chunk_start_idx
    / q_chunk_size``, default chunk 32) and the docstring says the start "Must be a multiple of
    program_config.q_chunk_size" and "of program_config.k_chunk_size" in both conventions, so the emulator requires it
    always (the golden's answer is not what the kernel computes otherwise). Returns the start."""
    _require_float(op, "chunked_sdpa.dtype", Q=q, K=k, V=v)
    for name, t in (("Q", q), ("K", k), ("V", v)):
        check(t.shape.rank == 4, op, "chunked_sdpa.rank", f"{name} must be 4-D, got {list(t.shape)}")
    flexible = chunk_start_idx_tensor is not None
    if flexible:
        t = chunk_start_idx_tensor
        t.require_device(op)
        check(
            t.dtype == DataType.INT32,
            op,
            "chunked_sdpa.start_tensor_dtype",
            f"chunk_start_idx tensor must be int32. Got {t.dtype.name}",
        )
        check(
            t.shape.rank == 1 and t.shape[0] == 1,
            op,
            "chunked_sdpa.start_tensor_shape",
            f"chunk_start_idx tensor must have shape [1]. Got {list(t.shape)}",
        )
        start = int(t.values.reshape(-1)[0])
    else:
        check(
            chunk_start_idx is not None,
            op,
            "chunked_sdpa.start_missing",
            "chunk_start_idx (int) is required for legacy chunked SDPA. For flexible path use chunk_start_idx_tensor=...",
        )
        start = int(chunk_start_idx)
    check(
        start >= 0,
        op,
        "chunked_sdpa.start_negative",
        f"chunk_start_idx must be non-negative. Got chunk_start_idx: {start}",
    )
    validate_page_table(op, page_table, dtype_msg="Page table must be int32", layout_msg="Page table must be row major")
    qs, ks, vs = q.shape, k.shape, v.shape
    B, nqh, Sq, DH = qs
    check(ks[2] == vs[2], op, "chunked_sdpa.kv_page", f"K page size must match V page size. Got K: {ks[2]}, V: {vs[2]}")
    check(
        page_table.shape[0] == B,
        op,
        "chunked_sdpa.batch",
        f"Page table batch size must match input batch size. Got Page table: {page_table.shape[0]}, Input: {B}",
    )
    check(vs[1] == ks[1], op, "chunked_sdpa.kv_heads", f"K and V num_heads must match. Got K: {ks[1]}, V: {vs[1]}")
    check(
        ks[3] == DH and vs[3] == DH,
        op,
        "chunked_sdpa.head_dim",
        f"K and V hidden dim must match. Got K: {ks[3]}, V: {vs[3]} (Q: {DH})",
    )
    check(
        ks[1] > 0 and nqh >= ks[1] and nqh % ks[1] == 0,
        op,
        "chunked_sdpa.gqa",
        f"Q num_heads must be >= K num_heads and divisible by K num_heads, and K num_heads must be greater than 0. "
        f"Got Q: {nqh}, K: {ks[1]}",
    )
    if program_config is not None:
        qc, kc = int(program_config.q_chunk_size), int(program_config.k_chunk_size)
        for name, c in (("q_chunk_size", qc), ("k_chunk_size", kc)):
            check(
                c > 0 and c % TILE == 0,
                op,
                "chunked_sdpa.chunk_size",
                f"{name} must be a positive multiple of TILE_SIZE. Got {name}: {c}, TILE_SIZE: {TILE}",
            )
    else:
        qc = kc = TILE  # sdpa_program_factory.cpp: q_chunk_size / k_chunk_size default to 32
    checked = (
        ""
        if (program_config is not None and not flexible)
        else (
            " (ttnn's validate checks this only for a scalar start with a program_config; the kernel offsets Q by "
            "whole chunks, chunk_start_idx / q_chunk_size, and the docstring requires it)"
        )
    )
    check(
        start % qc == 0,
        op,
        "chunked_sdpa.start_q_chunk",
        f"chunk_start_idx must be a multiple of q_chunk_size. Got chunk_start_idx: {start}, q_chunk_size: {qc}{checked}",
    )
    check(
        start % kc == 0,
        op,
        "chunked_sdpa.start_k_chunk",
        f"chunk_start_idx must be a multiple of k_chunk_size. Got chunk_start_idx: {start}, k_chunk_size: {kc}{checked}",
    )
    kv_length = page_table.shape[1] * ks[2]
    check(
        kv_length >= Sq + start,
        op,
        "chunked_sdpa.kv_length",
        f"K's sequence length must be >= Q's sequence length + chunk_start_idx. Got K: {kv_length}, Q: {Sq}, "
        f"chunk_start_idx: {start} (K: page table width {page_table.shape[1]} x block_size {ks[2]})",
    )
    validate_page_table_stick(op, page_table, exact=flexible)
    validate_paged_geometry(op, "chunked SDPA", k, ks[1], DH)
    blocks = ceil_div(start + Sq, ks[2])
    for b in range(B):
        page_table_blocks(op, page_table, b, blocks, ks[0])
    return start


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
