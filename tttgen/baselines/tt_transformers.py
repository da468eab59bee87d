"""tt_transformers' matmul program-config heuristics (models/tt_transformers/tt/model_config.py and
common.py, as summarised in the shared reference sections 2.4-2.6), re-implemented for tttgen's IR."""

from __future__ import annotations

from tttgen.ir.configs import (
    MATMUL_1D,
    MATMUL_2D,
    MATMUL_DRAM_SHARDED,
    MatmulConfig,
    MatmulShape,
    MemoryPlacement,
)
from tttgen.rules.placement import width_sharded
from tttgen.inputs.device import DeviceProfile
from tttgen.tiling import ceil_div

GRID_MAX = 8  # tt_transformers' helpers assume an 8x8 worker grid
DECODE_DRAM_SHARD_GRID_WIDTH_WH = 8  # PREFILL_MLP per_core_N uses 8 on Wormhole, the DRAM bank count on Blackhole


def find_largest_divisor(n: int, max_divisor: int = 8) -> int:
    return max((i for i in range(1, max_divisor + 1) if n % i == 0), default=1)


def get_out_subblock_w(per_core_n: int, out_subblock_h: int) -> int:
    """Largest w <= 4 with w*h <= 4 dividing per_core_N (tt_transformers caps subblocks at 4 tiles)."""
    best = 1
    for w in range(1, 5):
        if w * out_subblock_h <= 4 and per_core_n % w == 0:
            best = w
    return best


def _rows_cols(cores: int) -> tuple[int, int] | None:
    for rows in range(1, GRID_MAX + 1):
        if cores % rows == 0 and cores // rows <= GRID_MAX:
            return rows, cores // rows
    return None


def find_grid(n_tiles: int) -> tuple[int, int]:
    """Core count dividing N closest to 32 (<= 64), as (rows, cols) with the fewest rows."""
    options = sorted((c for c in range(1, 65) if n_tiles % c == 0), key=lambda c: abs(c - 32))
    for cores in options:
        rc = _rows_cols(cores)
        if rc:
            return rc
    return 1, 1


def find_grid_k_n(k_tiles: int, n_tiles: int) -> tuple[int, int]:
    for cores in range(64, 0, -1):
        if k_tiles % cores == 0 and n_tiles % cores == 0:
            rc = _rows_cols(cores)
            if rc:
                return rc
    return 1, 1


def find_prefill_grid(row_tiles: int, col_tiles: int) -> tuple[int, int]:
    return find_largest_divisor(row_tiles), find_largest_divisor(col_tiles)


def dram_shard_grid_width(device: DeviceProfile) -> int:
    return device.dram.banks if device.prefill_per_core_n_matches_dram_shard else DECODE_DRAM_SHARD_GRID_WIDTH_WH


def dram_matmul_config(m: int, k: int, n: int, num_cores: int) -> MatmulConfig:
    return MatmulConfig(
        MATMUL_DRAM_SHARDED,
        in0_block_w=find_largest_divisor(k // (32 * num_cores)),
        per_core_M=ceil_div(m, 32),
        per_core_N=ceil_div(n, 32 * num_cores),
    )


def matmul_config(m: int, k: int, n: int, grid: tuple[int, int], fuse_batch: bool, per_core_n: int | None = None, in0_block_w: int | None = None) -> MatmulConfig:
    pcm = ceil_div(m, 32 * grid[1])
    pcn = per_core_n or ceil_div(n, 32 * grid[0])
    sub_w = get_out_subblock_w(pcn, 1)
    return MatmulConfig(
        MATMUL_2D,
        in0_block_w=in0_block_w or find_largest_divisor(max(k // (32 * grid[1]), 1)),
        per_core_M=pcm,
        per_core_N=pcn,
        out_subblock_h=1,
        out_subblock_w=sub_w,
        out_block_h=pcm,
        out_block_w=pcn,
        grid=grid,
        transpose_mcast=False,
        fuse_batch=fuse_batch,
    )


def matmul_1d_config(m: int, k: int, n: int, fp32_acc: bool) -> MatmulConfig:
    cores = GRID_MAX * GRID_MAX
    grid_y = GRID_MAX
    while grid_y > 1 and n // 32 < GRID_MAX * grid_y:
        grid_y -= 1
    cores = GRID_MAX * grid_y
    pcn = ceil_div(n // 32, cores)
    limit = 4 if fp32_acc else 8
    sub_w = max(w for w in range(1, limit + 1) if pcn % w == 0)
    return MatmulConfig(
        MATMUL_1D,
        in0_block_w=find_largest_divisor(max(k // (32 * cores), 1)),
        per_core_M=ceil_div(m, 32),
        per_core_N=pcn,
        out_subblock_h=1,
        out_subblock_w=sub_w,
        grid=(GRID_MAX, grid_y),
        fuse_batch=True,
        mcast_in0=True,
    )


def decode_cores(role: str, shape: MatmulShape, heads: int | None) -> int:
    """Cores of a decode matmul's DRAM-sharded config, by its weight role, from the matmul's own widths (its input's
    k and output's n: the model's dim and hidden_dim as tt_transformers sizes each projection) and, for the
    attention output, the heads of the attention feeding it (None: none states them; then as the QKV projection)."""
    k_t, n_t = shape.k // 32, shape.n // 32
    if role == "WO" and heads is not None:
        return heads
    if role in ("WQKV", "WO"):
        rows, cols = find_grid(k_t)
    else:  # FF1_FF3: (dim, hidden_dim); FF2: (hidden_dim, dim)
        rows, cols = find_grid_k_n(k_t, n_t)
    return rows * cols


def baseline_config(role: str, mode: str, shape: MatmulShape, heads: int | None, device: DeviceProfile, fp32_acc: bool) -> tuple[MatmulConfig, MemoryPlacement | None]:
    """(program config, decode in0 placement) tt_transformers would use for a matmul whose weight has `role`
    (`heads`: those of the attention feeding it, for the attention output)."""
    if role == "LM_HEAD":
        return matmul_1d_config(shape.m, shape.k, shape.n, fp32_acc), None
    if mode == "decode":
        cores = decode_cores(role, shape, heads)
        return dram_matmul_config(shape.m, shape.k, shape.n, cores), width_sharded(32, shape.k, cores, device)
    width = dram_shard_grid_width(device)
    rows = shape.m
    fuse = shape.batch == 1
    if role == "WQKV":
        pcm = 8 if rows * shape.batch >= 2048 else ceil_div(rows * shape.batch, 32 * 8)
        cfg = matmul_config(rows * (shape.batch if fuse else 1), shape.k, shape.n, (8, 8), fuse, ceil_div(shape.n, 32 * width), in0_block_w=1)
        return MatmulConfig(**{**cfg.__dict__, "per_core_M": pcm, "out_block_h": pcm, "out_subblock_w": 1}), None
    grid = find_prefill_grid(8, shape.k // 32)
    per_core_n = ceil_div(shape.n, 32 * width) if role in ("FF1_FF3", "FF2") else None
    return matmul_config(rows * (shape.batch if fuse else 1), shape.k, shape.n, grid, fuse, per_core_n), None


# ---- tt_transformers' mesh layout (models/tt_transformers/tt/: attention.py, mlp.py, lm_head.py, embedding.py;
# summarised in the shared reference, multi-device.md section 3), by weight role.
# On a 1xN mesh (T3K, N300, a QuietBox as 1x4): wqkv column-parallel by head groups (ShardTensor2dMesh dims (2, 3)),
# wo row-parallel (dims (3, 2)), w1/w3 column (dims (-2, -1)), w2 row (dims (-1, -2)), the LM head vocab-split
# (ShardTensorToMesh dim -1), the embedding split by hidden width (the residual stream is fractured, hidden/N per
# chip), norms replicated. On a 2D mesh (Galaxy 8x4) the second axis splits the other weight dim: wqkv dims (3, 2)
# (N over rows, K over columns), wo (2, 3), w1/w3 (-1, -2), w2 (-2, -1).
MESH_ROLES_AXIS_SPLIT = {"WQKV": "column", "WO": "row", "FF1_FF3": "column", "FF2": "row", "LM_HEAD": "column", "EMBEDDING": "column"}
MESH_ROLES_OTHER_AXIS = {"WQKV": "row", "WO": "column", "FF1_FF3": "row", "FF2": "column", "LM_HEAD": "replicate", "EMBEDDING": "column"}
# On a 2D mesh the residual is fractured over the columns only (axis 1): the embedding is replicated over rows.
MESH_2D_AXIS0 = {**MESH_ROLES_AXIS_SPLIT, "EMBEDDING": "replicate"}


def mesh_layout(graph) -> dict[str, tuple[str, str]]:
    """Op name -> split per mesh axis, as tt_transformers places the weight each op reads (only ops whose weight
    has one of the roles above; rotary tables stay replicated, as in tt_transformers)."""
    rows, cols = graph.device.mesh_shape
    roles = {w.name: w.role for w in graph.weights}
    pins: dict[str, tuple[str, str]] = {}
    for op in graph.ops:
        role = roles.get(op.weight) if op.weight else None
        if role not in MESH_ROLES_AXIS_SPLIT:
            continue
        if role == "EMBEDDING" and graph.weight(op.weight).generator is not None:
            continue  # a table computed at load time (the rotary tables), not the checkpoint's token embedding
        if rows > 1 and cols > 1:
            pins[op.name] = (MESH_2D_AXIS0[role], MESH_ROLES_OTHER_AXIS[role])
        else:
            split = MESH_ROLES_AXIS_SPLIT[role]
            pins[op.name] = (split, split)
    return pins
