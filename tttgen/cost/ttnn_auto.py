"""ttnn's own program config for `ttnn.matmul(a, b)` with `program_config=None` (the baseline).

A re-implementation of the legacy auto-config in tt-metal
`ttnn/cpp/ttnn/operations/matmul/device/config/matmul_program_config.cpp` (commit 001cea9a, read
for reference §1.10): `generate_matmul_program_config` and the helpers it calls
(`create_simple_matmul_program_config`, `create_matmul_program_config`,
`create_matmul_1d_systolic_array_program_config`, `get_mcast_1d_config`,
`get_matmul_program_config`, `get_multi_dim_per_core_factor`, `get_per_core_factor`, the two
subblock pickers). Max L1 is `device.usable_l1_bytes` (ttnn: lowest occupied L1 address minus
the allocator base, `get_max_l1_space`). Padded shapes are tile-rounded.
"""

from __future__ import annotations

from math import gcd

from tttgen.cost.l1 import dtype_name, interm_tile_bytes, ttnn_cb_estimate
from tttgen.ir.configs import MATMUL_1D, MATMUL_2D, MATMUL_REUSE, TILE, MatmulConfig, MatmulShape
from tttgen.inputs.device import DeviceProfile

MATMUL_MULTICORE = "MatmulMultiCoreProgramConfig"  # no-reuse fallback; has no fields

# SUBBLOCK_HW_CHOICES in matmul_program_config.cpp; read as (h, w) by get_matmul_subblock_params
# and as (w, h) by get_subblock_sizes.
SUBBLOCK_HW_CHOICES: tuple[tuple[int, int], ...] = (
    (4, 2), (2, 4), (8, 1), (1, 8),
    (7, 1), (1, 7),
    (3, 2), (2, 3), (6, 1), (1, 6),
    (5, 1), (1, 5),
    (2, 2), (4, 1), (1, 4),
    (3, 1), (1, 3),
    (2, 1), (1, 2),
    (1, 1),
)  # fmt: skip


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


class _Ctx:
    """The facts about the call that the ttnn helpers read from the tensors."""

    def __init__(
        self,
        device: DeviceProfile,
        in0_dtype: str,
        in1_dtype: str,
        out_dtype: str,
        fp32_dest_acc_en: bool,
        in0_shard_width_tiles: int,
    ) -> None:
        self.device = device
        self.device_grid = (device.grid.x, device.grid.y)
        self.in0_dtype = in0_dtype
        self.in1_dtype = in1_dtype
        self.max_l1 = device.usable_l1_bytes
        self.interm = interm_tile_bytes(device, out_dtype, fp32_dest_acc_en)
        self.fp32 = fp32_dest_acc_en
        self.shard_w = in0_shard_width_tiles

    def cbs(self, m: int, n: int, k: int) -> int:
        return ttnn_cb_estimate(
            self.device,
            m,
            n,
            k,
            in0_dtype=self.in0_dtype,
            in1_dtype=self.in1_dtype,
            interm_tile=self.interm,
            in0_shard_width_tiles=self.shard_w,
        )


def _per_core_factor(ctx: _Ctx, in0_block_w: int) -> int:
    """`get_per_core_factor`: largest of 16, 8, 4, 2 whose square block fits, else 1."""
    factor = 16
    while factor > 1:
        if ctx.cbs(factor, factor, in0_block_w) < ctx.max_l1:
            return factor
        factor //= 2
    return 1


def multi_dim_per_core_factor(
    ctx: _Ctx, per_core_M: int, per_core_N: int, in0_block_w: int, adjust_in0_block_w: bool
) -> tuple[int, int, int]:
    """`get_multi_dim_per_core_factor`: shrink (out_block_h, out_block_w[, in0_block_w]) to fit L1,
    preferring the largest, most square block and keeping in0_block_w if possible."""
    if ctx.cbs(per_core_M, per_core_N, in0_block_w) < ctx.max_l1:
        return per_core_M, per_core_N, in0_block_w
    m_factors = [per_core_M, 1] + [f for f in range(per_core_M // 2, 1, -1) if per_core_M % f == 0]
    n_factors = [per_core_N, 1] + [f for f in range(per_core_N // 2, 1, -1) if per_core_N % f == 0]
    factors: dict[int, tuple[int, int]] = {}
    for fm in m_factors:
        for fn in n_factors:
            multiple = fm * fn
            ratio = max(fm, fn) / min(fm, fn)
            existing = factors.get(multiple)
            if existing is not None:
                ex_ratio = max(existing) / min(existing)
                if ex_ratio < ratio:
                    continue
            factors[multiple] = (fm, fn)
    min_k = 1 if adjust_in0_block_w else in0_block_w
    for k in range(in0_block_w, min_k - 1, -1):
        if in0_block_w % k:
            continue
        for multiple in sorted(factors, reverse=True):
            fm, fn = factors[multiple]
            if ctx.cbs(fm, fn, k) < ctx.max_l1:
                return fm, fn, k
    return 1, 1, 1


def matmul_subblock_params(
    per_core_M: int, per_core_N: int, m_equals_h: bool, n_equals_w: bool, fp32_dest_acc_en: bool
) -> tuple[int, int]:
    """`bmm_op_utils::get_matmul_subblock_params` -> (out_subblock_h, out_subblock_w)."""
    for h, w in SUBBLOCK_HW_CHOICES:
        if fp32_dest_acc_en and h * w > 4:
            continue
        if n_equals_w and (w != per_core_N or h != 1):
            continue
        if m_equals_h and (h != per_core_M or w != 1):
            continue
        if per_core_M % h == 0 and per_core_N % w == 0:
            return h, w
    return 1, 1


def subblock_sizes(m_tiles: int, n_tiles: int, fp32_dest_acc_en: bool) -> tuple[int, int]:
    """`get_subblock_sizes` (reads the choice table as (w, h)) -> (out_subblock_h, out_subblock_w)."""
    for w, h in SUBBLOCK_HW_CHOICES:
        if h * w <= 4 or not fp32_dest_acc_en:
            if m_tiles % h == 0 and n_tiles % w == 0:
                return h, w
    raise ValueError("Unable to find subblock sizes")


def is_narrow_shape(height: int, width: int, all_dram: bool) -> bool:
    ratio = height // width if height > width else width // height
    if ratio > 8:
        return True
    if all_dram:
        return height <= TILE or width <= TILE
    return False


def _blocked_config(
    ctx: _Ctx,
    type_: str,
    grid: tuple[int, int],
    pcm: int,
    pcn: int,
    ibw: int,
    *,
    m_equals_h: bool,
    n_equals_w: bool,
    **flags: bool,
) -> MatmulConfig:
    """A 1D / 2D config: the output block shrunk to fit L1 (in0_block_w kept), its subblock from
    `get_matmul_subblock_params`; `flags` are the family's transpose_mcast / fuse_batch / mcast_in0."""
    obh, obw, _ = multi_dim_per_core_factor(ctx, pcm, pcn, ibw, adjust_in0_block_w=False)
    sbh, sbw = matmul_subblock_params(obh, obw, m_equals_h, n_equals_w, ctx.fp32)
    return MatmulConfig(
        type=type_,
        in0_block_w=ibw,
        per_core_M=pcm,
        per_core_N=pcn,
        out_subblock_h=sbh,
        out_subblock_w=sbw,
        out_block_h=obh,
        out_block_w=obw,
        grid=grid,
        **flags,
    )


def _mcast_1d_config(
    ctx: _Ctx,
    grid: tuple[int, int],
    m_rows: int,
    k: int,
    n: int,
    fuse_batch: bool,
    mcast_in0: bool,
    out_sharded: bool,
) -> MatmulConfig:
    """`get_mcast_1d_config` (no user shard spec). `m_rows` already includes batch if fused."""
    cores = grid[0] * grid[1]
    if mcast_in0:
        pcm = m_rows // TILE
        pcn = _cdiv(_cdiv(n, cores), TILE)
    else:
        pcm = _cdiv(_cdiv(m_rows, cores), TILE)
        pcn = n // TILE
    ibw = 2 if (k // TILE) % 2 == 0 else 1
    return _blocked_config(
        ctx,
        MATMUL_1D,
        grid,
        pcm,
        pcn,
        ibw,
        m_equals_h=out_sharded and mcast_in0,
        n_equals_w=out_sharded and not mcast_in0,
        fuse_batch=fuse_batch,
        mcast_in0=mcast_in0,
    )


def _systolic_1d_config(
    ctx: _Ctx, grid: tuple[int, int], bmt: int, kt: int, nt: int, in0_layout: str | None
) -> MatmulConfig:
    """`create_matmul_1d_systolic_array_program_config`."""
    cores = grid[0] * grid[1]
    is_tall = bmt > nt
    if in0_layout == "HEIGHT":
        is_tall = True
    elif in0_layout == "WIDTH":
        is_tall = False
    if is_tall:
        pcm, pcn = _cdiv(bmt, cores), nt
    else:
        pcm, pcn = bmt, _cdiv(nt, cores)
    ibw = _cdiv(kt, cores)
    while kt % ibw:
        ibw -= 1
    obh, obw, _ = multi_dim_per_core_factor(ctx, pcm, pcn, ibw, adjust_in0_block_w=False)
    sbh, sbw = subblock_sizes(obh, obw, ctx.fp32)
    return MatmulConfig(
        type=MATMUL_1D,
        in0_block_w=ibw,
        per_core_M=pcm,
        per_core_N=pcn,
        out_subblock_h=sbh,
        out_subblock_w=sbw,
        out_block_h=obh,
        out_block_w=obw,
        grid=grid,
        fuse_batch=True,
        mcast_in0=not is_tall,
    )


def _user_grid_config(
    ctx: _Ctx,
    grid: tuple[int, int],
    shape: MatmulShape,
    batch_b: int,
    in0_layout: str | None,
    in0_shard_shape: tuple[int, int] | None,
    in0_orientation: str,
) -> MatmulConfig:
    """`create_matmul_program_config` (a core grid was given, or the sharded path fell through)."""
    mt, kt, nt = shape.mt, shape.kt, shape.nt
    m_pad, k_pad, n_pad = mt * TILE, kt * TILE, nt * TILE
    sharded = in0_layout is not None
    if batch_b > 1:
        if not sharded:
            pcm, pcn, ibw = mt, nt, 1
            if ctx.cbs(pcm, pcn, ibw) >= ctx.max_l1:
                return _simple_config(
                    ctx, grid, shape, batch_b, all_dram=False, all_interleaved=True, out_sharded=False
                )
        else:
            assert in0_shard_shape is not None
            pcm, pcn, ibw = in0_shard_shape[0] // TILE, nt, in0_shard_shape[1] // TILE
        sbh, sbw = subblock_sizes(pcm, pcn, ctx.fp32)
        return MatmulConfig(
            type=MATMUL_REUSE,
            in0_block_w=ibw,
            per_core_M=pcm,
            per_core_N=pcn,
            out_subblock_h=sbh,
            out_subblock_w=sbw,
            grid=grid,
        )
    height = shape.batch * m_pad
    width = n_pad
    within_tile = k_pad <= TILE or m_pad <= TILE or n_pad <= TILE
    block_sharded = in0_layout == "BLOCK"
    if (is_narrow_shape(height, width, False) or within_tile) and not block_sharded:
        return _systolic_1d_config(ctx, grid, shape.batch * mt, kt, nt, in0_layout)
    if not sharded:
        pcm = _cdiv(shape.batch * mt, grid[1])
        pcn = _cdiv(nt, grid[0])
        ibw = 4
        while kt % ibw:
            ibw -= 1
    else:
        if not block_sharded:
            return _systolic_1d_config(ctx, grid, shape.batch * mt, kt, nt, in0_layout)
        assert in0_shard_shape is not None
        pcm = in0_shard_shape[0] // TILE
        pcn = (nt * in0_shard_shape[1]) // (kt * TILE)
        ibw = gcd(in0_shard_shape[1] // TILE, kt)
    pcn = max(pcn, 1)
    obh, obw, _ = multi_dim_per_core_factor(ctx, pcm, pcn, ibw, adjust_in0_block_w=False)
    sbh, sbw = subblock_sizes(obh, obw, ctx.fp32)
    if sbw != pcn:
        sbh = 1
    return MatmulConfig(
        type=MATMUL_2D,
        in0_block_w=ibw,
        per_core_M=pcm,
        per_core_N=pcn,
        out_subblock_h=sbh,
        out_subblock_w=sbw,
        out_block_h=obh,
        out_block_w=obw,
        grid=grid,
        transpose_mcast=block_sharded and in0_orientation == "COL_MAJOR",
        fuse_batch=True,
    )


def _simple_config(
    ctx: _Ctx,
    grid: tuple[int, int],
    shape: MatmulShape,
    batch_b: int,
    *,
    all_dram: bool,
    all_interleaved: bool,
    out_sharded: bool,
    out_layout: str | None = None,
) -> MatmulConfig:
    """`create_simple_matmul_program_config` on the device grid (in0 not sharded)."""
    mt, kt, nt = shape.mt, shape.kt, shape.nt
    gx, gy = grid
    ibw = 2
    if shape.batch == 1 and batch_b > 1 and all_interleaved:
        return _mcast_1d_config(ctx, grid, mt * TILE, kt * TILE, nt * TILE, False, False, False)
    height, width = mt * TILE, nt * TILE
    narrow = is_narrow_shape(height, width, all_dram)
    is_wide = is_tall = False
    if all_interleaved and narrow:
        is_wide = width > height
        is_tall = not is_wide
    pcm = pcn = _per_core_factor(ctx, ibw)
    nby = (mt - 1) // pcm + 1
    nbx = (nt - 1) // pcn + 1
    if (out_sharded or nby > 1 or nbx > 1) and kt % ibw:
        ibw = 1
    all_dram_interleaved = all_dram and all_interleaved
    if all_dram_interleaved or (nbx * nby <= gx * gy and kt % ibw == 0):
        cr_x = cr_y = 0
        if not (nby == 1 and nbx == 1) and nby <= gy and nbx <= gx:
            cr_x, cr_y = nbx, nby
        sharded_here = out_sharded and cr_y == 0
        use_1d_in0 = is_wide or (sharded_here and out_layout == "WIDTH")
        use_1d_in1 = is_tall or (sharded_here and out_layout == "HEIGHT")
        use_2d = all_dram_interleaved or (sharded_here and out_layout == "BLOCK")
        m_rows, k, n = mt * TILE, kt * TILE, nt * TILE
        if cr_y == 1 or use_1d_in0:
            return _mcast_1d_config(ctx, grid, m_rows, k, n, False, True, False)
        if cr_x == 1 or use_1d_in1:
            return _mcast_1d_config(ctx, grid, m_rows, k, n, False, False, False)
        if (cr_y > 0 and nbx <= gx and nby <= gy) or use_2d:
            obh, obw = pcm, pcn
            sbh, sbw = 4, 2
            if sbw != pcn:
                sbh = 1
            if all_dram_interleaved:
                ibw = kt // gx if kt % gx == 0 else 1
                pcm = _cdiv(mt, gy)
                pcn = _cdiv(nt, gx)
                obh, obw, ibw = multi_dim_per_core_factor(ctx, pcm, pcn, ibw, adjust_in0_block_w=True)
                sbh, sbw = matmul_subblock_params(obh, obw, False, False, ctx.fp32)
            return MatmulConfig(
                type=MATMUL_2D,
                in0_block_w=ibw,
                per_core_M=pcm,
                per_core_N=pcn,
                out_subblock_h=sbh,
                out_subblock_w=sbw,
                out_block_h=obh,
                out_block_w=obw,
                grid=(gx, gy),
                transpose_mcast=False,
                fuse_batch=False,
            )
    return MatmulConfig(type=MATMUL_MULTICORE, in0_block_w=1, per_core_M=1, per_core_N=1, grid=(gx, gy))


def _sharded_config(
    ctx: _Ctx,
    shape: MatmulShape,
    batch_b: int,
    in0_layout: str,
    shard_grid: tuple[int, int],
    shard_shape: tuple[int, int],
    orientation: str,
    out_sharded: bool,
    bmm: bool,
) -> MatmulConfig:
    """`get_matmul_program_config` (in0 sharded, no user grid, in1 interleaved)."""
    gx, gy = shard_grid
    mt, kt, nt = shape.batch * shape.mt, shape.kt, shape.nt
    shard_h, shard_w = shard_shape[0] // TILE, shard_shape[1] // TILE
    if not bmm:
        if in0_layout in ("WIDTH", "HEIGHT") and (gx > 1 or gy > 1):
            if in0_layout == "WIDTH":
                mcast_in0, pcm, pcn, ibw = True, mt, _cdiv(nt, gx * gy), gcd(shard_w, kt)
            else:
                mcast_in0, pcm, pcn, ibw = False, shard_h, nt, kt
            return _blocked_config(
                ctx,
                MATMUL_1D,
                shard_grid,
                pcm,
                pcn,
                ibw,
                m_equals_h=False,
                n_equals_w=out_sharded,
                fuse_batch=True,
                mcast_in0=mcast_in0,
            )
        if in0_layout == "BLOCK" and gx > 1 and gy > 1:
            transpose = orientation == "COL_MAJOR"
            vx, vy = (gy, gx) if transpose else (gx, gy)
            along_x = vx == kt // shard_w
            pcm, pcn = _cdiv(mt, vy), _cdiv(nt, vx)
            ibw = gcd(shard_w, kt) if along_x else 1
            return _blocked_config(
                ctx,
                MATMUL_2D,
                shard_grid,
                pcm,
                pcn,
                ibw,
                m_equals_h=False,
                n_equals_w=out_sharded,
                transpose_mcast=transpose,
                fuse_batch=True,
            )
        return _user_grid_config(ctx, ctx.device_grid, shape, batch_b, in0_layout, shard_shape, orientation)
    sbh, sbw = matmul_subblock_params(shard_h, nt, False, out_sharded, ctx.fp32)
    return MatmulConfig(
        type=MATMUL_REUSE,
        in0_block_w=shard_w,
        per_core_M=shard_h,
        per_core_N=nt,
        out_subblock_h=sbh,
        out_subblock_w=sbw,
        grid=shard_grid,
    )


def default_shard_shape(shape: MatmulShape, layout: str, grid: tuple[int, int]) -> tuple[int, int]:
    """Shard shape `create_sharded_memory_config` gives the padded [batch*M, K] activation
    (ROW_MAJOR), rounded up to whole tiles."""
    rows, cols = shape.batch * shape.mt * TILE, shape.kt * TILE
    cores = grid[0] * grid[1]
    if layout == "WIDTH":
        return rows, _cdiv(_cdiv(cols, cores), TILE) * TILE
    if layout == "HEIGHT":
        return _cdiv(_cdiv(rows, cores), TILE) * TILE, cols
    return _cdiv(_cdiv(rows, grid[1]), TILE) * TILE, _cdiv(_cdiv(cols, grid[0]), TILE) * TILE


def ttnn_auto_config(
    device: DeviceProfile,
    shape: MatmulShape,
    in0_sharded: bool | str = False,
    *,
    in0_dtype: str = "bfloat16",
    in1_dtype: str | None = None,
    out_dtype: str | None = None,
    fp32_dest_acc_en: bool | None = None,
    in0_buffer: str = "DRAM",
    in1_buffer: str = "DRAM",
    out_buffer: str = "DRAM",
    out_sharded: bool | str = False,
    in0_shard_grid: tuple[int, int] | None = None,
    in0_shard_shape: tuple[int, int] | None = None,
    in0_shard_orientation: str = "ROW_MAJOR",
    core_grid: tuple[int, int] | None = None,
    batch_b: int = 1,
    bmm: bool = False,
) -> MatmulConfig:
    """The program config ttnn picks for `ttnn.matmul(a, b)` with `program_config=None`.

    in0_sharded: False, or the layout of the L1-sharded activation: "WIDTH" | "HEIGHT" | "BLOCK"
    (True means "BLOCK"); the shard grid defaults to the device grid and the shard shape to an
    even split. out_sharded: False or the output layout. fp32_dest_acc_en defaults to ttnn's
    default (output dtype is FP32). `core_grid` is the user `core_grid=` argument; `batch_b` the
    batch of the second operand; `bmm` selects the batched-matmul path of a sharded activation.
    Returns a MatmulConfig; type "MatmulMultiCoreProgramConfig" is the no-reuse fallback.
    """
    in0_dtype = dtype_name(in0_dtype)
    in1_dtype = dtype_name(in1_dtype or in0_dtype)
    out_dtype = dtype_name(out_dtype or in0_dtype)
    if fp32_dest_acc_en is None:
        fp32_dest_acc_en = out_dtype == "float32"
    layout: str | None
    if in0_sharded is True:
        layout = "BLOCK"
    elif in0_sharded:
        layout = str(in0_sharded).upper().replace("_SHARDED", "")
    else:
        layout = None
    out_layout: str | None
    if out_sharded is True:
        out_layout = "BLOCK"
    elif out_sharded:
        out_layout = str(out_sharded).upper().replace("_SHARDED", "")
    else:
        out_layout = None
    device_grid = (device.grid.x, device.grid.y)
    shard_grid = in0_shard_grid or device_grid
    shard_shape = None
    if layout is not None:
        shard_shape = in0_shard_shape or default_shard_shape(shape, layout, shard_grid)
    ctx = _Ctx(
        device,
        in0_dtype,
        in1_dtype,
        out_dtype,
        fp32_dest_acc_en,
        (shard_shape[1] // TILE) if shard_shape else 0,
    )
    if core_grid is not None or layout is None:
        if core_grid is not None:
            grid = core_grid if core_grid[0] <= device_grid[0] and core_grid[1] <= device_grid[1] else device_grid
            return _user_grid_config(ctx, grid, shape, batch_b, layout, shard_shape, in0_shard_orientation)
        all_interleaved = out_layout is None and in1_buffer.upper() != "DRAM_SHARDED"
        all_dram = (
            in0_buffer.upper() == "DRAM" and in1_buffer.upper().startswith("DRAM") and out_buffer.upper() == "DRAM"
        )
        return _simple_config(
            ctx,
            device_grid,
            shape,
            batch_b,
            all_dram=all_dram,
            all_interleaved=all_interleaved,
            out_sharded=out_layout is not None,
            out_layout=out_layout,
        )
    assert shard_shape is not None
    return _sharded_config(
        ctx, shape, batch_b, layout, shard_grid, shard_shape, in0_shard_orientation, out_layout is not None, bmm
    )


__all__ = [
    "MATMUL_MULTICORE",
    "SUBBLOCK_HW_CHOICES",
    "default_shard_shape",
    "is_narrow_shape",
    "matmul_subblock_params",
    "multi_dim_per_core_factor",
    "subblock_sizes",
    "ttnn_auto_config",
]
