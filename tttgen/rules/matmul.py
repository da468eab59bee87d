"""ttnn 0.81.1 matmul validation rules, one function per rule of the reference checklist.

Each rule returns a message when violated, else None. Numbers in the names follow the checklist in
the shared reference (`ttnn-rules-and-hardware.md` section 7); sources are ttnn's
`matmul_device_operation.cpp` (validate_on_program_cache_miss and helpers) unless noted.
"""

from __future__ import annotations

from typing import Callable

from tttgen.ir.configs import (
    ACTIVATIONS,
    MATMUL_1D,
    MATMUL_2D,
    MATMUL_DRAM_SHARDED,
    MATMUL_FAMILIES,
    MATMUL_REUSE,
    MatmulConfig,
    MemoryPlacement,
)
from tttgen.rules.case import MatmulCase
from tttgen.inputs.device import DeviceProfile
from tttgen.rules.l1 import matmul_l1_bytes, sharded_bytes_per_core
from tttgen.tiling import ceil_div, row_major_cores


Rule = Callable[[MatmulCase], "str | None"]


def only_for(*families: str) -> Callable[[Rule], Rule]:
    """Mark a rule that returns None for every config outside `families` (its first check is the config's type), so
    legality checks skip it for the others (tests/test_search_memo.py holds every marked rule to it)."""

    def mark(rule: Rule) -> Rule:
        rule.families = frozenset(families)
        return rule

    return mark


def _for_family(rules: tuple[Rule, ...], family: str) -> tuple[Rule, ...]:
    """The rules that can reject a config of `family`, in their order."""
    return tuple(r for r in rules if family in getattr(r, "families", (family,)))


def _blocked(cfg: MatmulConfig) -> bool:
    return cfg.type in (MATMUL_2D, MATMUL_1D, MATMUL_REUSE)


def r01_tile_aligned(c: MatmulCase) -> str | None:
    """Inputs are TILE layout: the generator only emits 32-multiple K (inner tile dims 32)."""
    if c.shape.k % 32:
        return f"K={c.shape.k} is not a multiple of the 32-wide tile"
    return None


def r02_k_divisible(c: MatmulCase) -> str | None:
    """Kt % in0_block_w == 0 ("Kt must be divisible by in0_block_w")."""
    if c.shape.kt % c.config.in0_block_w:
        return f"Kt={c.shape.kt} is not divisible by in0_block_w={c.config.in0_block_w}"
    return None


def r03_dst_limit(c: MatmulCase) -> str | None:
    """out_subblock_h * out_subblock_w <= DST tiles (get_dest_reg_count)."""
    cfg = c.config
    if cfg.out_subblock_h is None or cfg.out_subblock_w is None:
        return None
    limit = c.device.dst_limit(c.kernel.fp32_dest_acc_en, c.kernel.dst_full_sync_en)
    area = cfg.out_subblock_h * cfg.out_subblock_w
    if area > limit:
        return f"out_subblock_h*out_subblock_w={area} exceeds the DST limit {limit}"
    return None


@only_for(MATMUL_2D, MATMUL_1D, MATMUL_REUSE)
def r04_block_divisibility(c: MatmulCase) -> str | None:
    """Blocks divide per-core work; subblocks divide blocks (validate_matmul_block_and_subblock_configuration)."""
    cfg = c.config
    if not _blocked(cfg):
        return None
    for name in ("in0_block_w", "per_core_M", "per_core_N", "out_subblock_h", "out_subblock_w"):
        if not getattr(cfg, name):
            return f"{name} must be non-zero"
    out_h = cfg.out_block_h or cfg.per_core_M
    out_w = cfg.out_block_w or cfg.per_core_N
    checks = (  # (dividend name, value, divisor name, value); messages are only formatted on a violation
        ("per_core_M", cfg.per_core_M, "out_subblock_h", cfg.out_subblock_h),
        ("per_core_N", cfg.per_core_N, "out_subblock_w", cfg.out_subblock_w),
        ("out_block_h", out_h, "out_subblock_h", cfg.out_subblock_h),
        ("out_block_w", out_w, "out_subblock_w", cfg.out_subblock_w),
        ("per_core_M", cfg.per_core_M, "out_block_h", out_h),
        ("per_core_N", cfg.per_core_N, "out_block_w", out_w),
    )
    for name, value, divisor_name, divisor in checks:
        if value % divisor:
            return f"{name}={value} % {divisor_name}={divisor} != 0"
    return None


def r05_grid_in_device(c: MatmulCase) -> str | None:
    """0 < grid <= device grid (validate_matmul_compute_grid_and_per_core_dims)."""
    if c.config.grid is None:
        return None
    x, y = c.config.grid
    if not (0 < x <= c.device.grid.x and 0 < y <= c.device.grid.y):
        return f"compute_with_storage_grid_size ({x}, {y}) is outside the device grid ({c.device.grid.x}, {c.device.grid.y})"
    return None


def _mt_total(c: MatmulCase) -> int:
    return c.shape.mt * (c.shape.batch if c.config.fuse_batch else 1)


@only_for(MATMUL_2D)
def r06_2d_blocks_fit(c: MatmulCase) -> str | None:
    """2D: ceil(Nt/per_core_N) <= grid.x and ceil(Mt/per_core_M) <= grid.y (swapped with transpose_mcast)."""
    cfg = c.config
    if cfg.type != MATMUL_2D or cfg.grid is None:
        return None
    gx, gy = cfg.grid
    if cfg.transpose_mcast:
        gx, gy = gy, gx
    bx, by = ceil_div(c.shape.nt, cfg.per_core_N), ceil_div(_mt_total(c), cfg.per_core_M)
    if bx > gx or by > gy:
        return f"2D needs {bx}x{by} blocks (N x M) but the grid is {gx}x{gy}"
    return None


@only_for(MATMUL_1D)
def r07_1d_blocks_fit(c: MatmulCase) -> str | None:
    """1D: ceil(Mt/pcM) * ceil(Nt/pcN) <= cores; mcast_in0 needs all of M in one block."""
    cfg = c.config
    if cfg.type != MATMUL_1D or cfg.grid is None:
        return None
    bm, bn = ceil_div(_mt_total(c), cfg.per_core_M), ceil_div(c.shape.nt, cfg.per_core_N)
    if bm * bn > cfg.grid[0] * cfg.grid[1]:
        return f"1D needs {bm * bn} blocks but the grid has {cfg.grid[0] * cfg.grid[1]} cores"
    if cfg.mcast_in0 and bm != 1:
        return f"1D mcast_in0 needs ceil(Mt/per_core_M) == 1, got {bm}"
    return None


def r08_fuse_batch(c: MatmulCase) -> str | None:
    """fuse_batch requires B (in1) batch == 1."""
    if c.config.fuse_batch and c.in1_batched:
        return "fuse_batch=True needs an unbatched in1"
    return None


def _sharded_out_subblock(c: MatmulCase) -> str | None:
    cfg = c.config
    out_w = cfg.out_block_w or cfg.per_core_N
    out_h = cfg.out_block_h or cfg.per_core_M
    if not (cfg.out_subblock_w == cfg.per_core_N or cfg.out_subblock_h == 1):
        return "sharded output needs out_subblock_w == per_core_N or out_subblock_h == 1"
    if not (out_w == cfg.per_core_N or out_h == 1):
        return "sharded output needs out_block_w == per_core_N or out_block_h == 1"
    return None


@only_for(MATMUL_2D)
def r09_2d_sharded_output(c: MatmulCase) -> str | None:
    """2D with a sharded output: BLOCK_SHARDED and the subblock/block rules."""
    if c.config.type != MATMUL_2D or not c.out.sharded:
        return None
    if c.out.layout != "BLOCK_SHARDED":
        return f"2D sharded output must be BLOCK_SHARDED, got {c.out.layout}"
    return _sharded_out_subblock(c)


@only_for(MATMUL_2D)
def r10_2d_sharded_input(c: MatmulCase) -> str | None:
    """2D with sharded in0: fuse_batch, BLOCK or HEIGHT, per_core_M == shard_h/32."""
    cfg = c.config
    if cfg.type != MATMUL_2D or not c.in0.sharded or c.in0.buffer != "L1":
        return None
    if not cfg.fuse_batch:
        return "2D with sharded in0 needs fuse_batch=True"
    if c.in0.layout not in ("BLOCK_SHARDED", "HEIGHT_SHARDED"):
        return f"2D sharded in0 must be BLOCK or HEIGHT sharded, got {c.in0.layout}"
    sh, sw = c.in0.shard_shape or (0, 0)
    if cfg.per_core_M * 32 != sh:
        return f"per_core_M={cfg.per_core_M} must equal shard height {sh}/32"
    if (sw // 32) % cfg.in0_block_w:
        return f"shard width {sw}/32 is not divisible by in0_block_w={cfg.in0_block_w}"
    return None


@only_for(MATMUL_1D)
def r11_1d_mcast_in0_sharded(c: MatmulCase) -> str | None:
    """1D mcast_in0 with sharded in0: WIDTH_SHARDED ROW_MAJOR, Mt == per_core_M == shard_h/32."""
    cfg = c.config
    if cfg.type != MATMUL_1D or not cfg.mcast_in0:
        return None
    if c.in0.sharded and c.in0.buffer == "L1":
        if c.in0.layout != "WIDTH_SHARDED" or c.in0.orientation != "ROW_MAJOR":
            return "1D mcast_in0 sharded in0 must be WIDTH_SHARDED ROW_MAJOR"
        sh, sw = c.in0.shard_shape or (0, 0)
        if not (_mt_total(c) == cfg.per_core_M == sh // 32):
            return f"1D mcast_in0 needs Mt == per_core_M == shard_h/32 (Mt={_mt_total(c)}, per_core_M={cfg.per_core_M}, shard_h={sh})"
        if (sw // 32) % cfg.in0_block_w:
            return f"shard width {sw}/32 is not divisible by in0_block_w={cfg.in0_block_w}"
    if c.out.sharded:
        if c.out.layout not in ("WIDTH_SHARDED", "BLOCK_SHARDED"):
            return f"1D mcast_in0 sharded output must be WIDTH_SHARDED, got {c.out.layout}"
        return _sharded_out_subblock(c)
    return None


@only_for(MATMUL_1D)
def r12_1d_mcast_in1_sharded(c: MatmulCase) -> str | None:
    """1D mcast_in1 with sharded in0: HEIGHT_SHARDED, Kt == shard_w/32, in1 interleaved."""
    cfg = c.config
    if cfg.type != MATMUL_1D or cfg.mcast_in0:
        return None
    if c.in0.sharded and c.in0.buffer == "L1":
        if c.in0.layout != "HEIGHT_SHARDED":
            return "1D mcast_in1 sharded in0 must be HEIGHT_SHARDED"
        sh, sw = c.in0.shard_shape or (0, 0)
        if c.shape.kt != sw // 32 or cfg.per_core_M != sh // 32:
            return "1D mcast_in1 needs Kt == shard_w/32 and per_core_M == shard_h/32"
        if c.in1.sharded:
            return "1D mcast_in1 with sharded in0 needs an interleaved in1"
    if c.out.sharded:
        if c.out.layout not in ("HEIGHT_SHARDED", "BLOCK_SHARDED"):
            return f"1D mcast_in1 sharded output must be HEIGHT_SHARDED, got {c.out.layout}"
        if c.shape.nt != cfg.per_core_N:
            return f"1D mcast_in1 sharded output needs Nt == per_core_N ({c.shape.nt} != {cfg.per_core_N})"
        return _sharded_out_subblock(c)
    return None


@only_for(MATMUL_REUSE)
def r13_reuse(c: MatmulCase) -> str | None:
    """Reuse: Nt == per_core_N, (B*Mt) % per_core_M == 0, every core gets work."""
    cfg = c.config
    if cfg.type != MATMUL_REUSE:
        return None
    if c.shape.nt != cfg.per_core_N:
        return f"Reuse needs per_core_N == Nt ({cfg.per_core_N} != {c.shape.nt})"
    total = c.shape.batch * c.shape.mt
    if total % cfg.per_core_M:
        return f"Reuse needs (B*Mt)={total} divisible by per_core_M={cfg.per_core_M}"
    if cfg.grid and total // cfg.per_core_M < cfg.grid[0] * cfg.grid[1]:
        return "Reuse needs at least one output block per core"
    return None


@only_for(MATMUL_DRAM_SHARDED)
def r14_dram_sharded(c: MatmulCase) -> str | None:
    """DRAM-sharded: in0 WIDTH_SHARDED L1 ROW_MAJOR, Mt == per_core_M == 1, in1 WIDTH_SHARDED in DRAM."""
    cfg = c.config
    if cfg.type != MATMUL_DRAM_SHARDED:
        return None
    if not (c.in0.buffer == "L1" and c.in0.layout == "WIDTH_SHARDED" and c.in0.orientation == "ROW_MAJOR"):
        return "DRAM-sharded matmul needs in0 WIDTH_SHARDED in L1, ROW_MAJOR"
    if c.shape.mt * c.shape.batch != 1 or cfg.per_core_M != 1:
        return f"DRAM-sharded matmul supports only M of one tile (Mt={c.shape.mt}, per_core_M={cfg.per_core_M})"
    sw_t = (c.in0.shard_shape or (0, 0))[1] // 32
    if not sw_t or sw_t % cfg.in0_block_w or c.shape.kt % sw_t:
        return f"DRAM-sharded needs (shard_w/32) % in0_block_w == 0 and Kt % (shard_w/32) == 0 (shard_w/32={sw_t})"
    if not (c.in1.buffer == "DRAM" and c.in1.layout == "WIDTH_SHARDED"):
        return "DRAM-sharded matmul needs in1 WIDTH_SHARDED in DRAM"
    if not (c.out.sharded and c.out.buffer == "L1" and c.out.layout == "WIDTH_SHARDED"):
        return "DRAM-sharded matmul output must be WIDTH_SHARDED in L1 like in0"
    return None


def dram_shard_per_core_n(device: DeviceProfile, in1: MemoryPlacement) -> int | None:
    """The per_core_N a 2D/1D matmul reading this weight must use (rule r25), or None when any will do."""
    if device.prefill_per_core_n_matches_dram_shard and in1.buffer == "DRAM" and in1.layout == "WIDTH_SHARDED":
        return in1.shard_shape[1] // 32 if in1.shard_shape else None
    return None


@only_for(MATMUL_2D, MATMUL_1D)
def r25_prefill_reads_dram_shards(c: MatmulCase) -> str | None:
    """2D/1D matmuls reading DRAM width-sharded weights: per_core_N equals the shard width where the
    device profile says so (Blackhole; tt_transformers PREFILL_MLP comments: "silently bad PCC")."""
    cfg = c.config
    if cfg.type not in (MATMUL_2D, MATMUL_1D):
        return None
    width = dram_shard_per_core_n(c.device, c.in1)
    if width is not None and cfg.per_core_N != width:
        return f"per_core_N={cfg.per_core_N} must equal the DRAM shard width {width} tiles on {c.device.name}"
    return None


def r15_sharded_out_tile_w(c: MatmulCase) -> str | None:
    """Sharded output: per_core_N % (out_tile_w / in1_tile_w) == 0; with 32x32 tiles always 1."""
    return None if c.config.per_core_N >= 1 else "per_core_N must be >= 1"


def r17_bfp4_tiles(c: MatmulCase) -> str | None:
    """BFP4 operands need tile height >= 4 (validate_matmul_tile_constraints); 32x32 tiles pass."""
    return None


def r18_kernel_config_given(c: MatmulCase) -> str | None:
    """A program config without a compute-kernel config silently runs LoFi: tttgen always sets one."""
    if c.kernel.math_fidelity not in ("LoFi", "HiFi2", "HiFi3", "HiFi4"):
        return f"math_fidelity {c.kernel.math_fidelity!r} is not set"
    return None


FUSED_ACTIVATIONS = frozenset({None, *(a.upper() for a in ACTIVATIONS if a != "none")})


def r19_activation_fused(c: MatmulCase) -> str | None:
    """`activation=` is not fused without core_grid: fused activations go in the program config, as one of the
    UnaryOpTypes a linear's `activation` attr names (tttgen/ir/configs.py ACTIVATIONS)."""
    if c.config.fused_activation not in FUSED_ACTIVATIONS:
        return f"fused_activation {c.config.fused_activation} is not an emitted UnaryOpType"
    return None


def l1_used(c: MatmulCase, l1: int | None = None) -> int:
    """L1 per core while the matmul runs: its own (`l1`: matmul_l1_bytes(c), when the caller has it) and the live
    tensors the allocator holds beside it. Rule r20 compares it with the device's usable L1."""
    used = (matmul_l1_bytes(c) if l1 is None else l1) + c.reserved_l1
    if c.sibling_output_live:
        used += sharded_bytes_per_core(c.out, c.device.tile_bytes[c.out_dtype])
    return used


def r20_l1_fits(c: MatmulCase) -> str | None:
    """Estimated circular buffers (+ sharded operands) fit usable L1 (get_estimated_size_of_cbs)."""
    used = l1_used(c)
    if used > c.device.l1_budget:
        return f"needs {used} B of L1 per core (with {c.reserved_l1} B of live tensors), {c.device.l1_budget} B usable"
    return None


def r28_dram_sharded_weight_family(c: MatmulCase) -> str | None:
    """A weight width-sharded over the DRAM banks is read by the DRAM-sharded family and by 2D only.
    1D backs its in1 circular buffer with a sharded in1's own buffer, which must then be in L1
    (ttnn 0.81.1 on a mock device: "DFB 'in1' borrows memory from TensorParameter 'in1', but its
    TensorSpec is not L1-resident"; the same configs pass with the weight DRAM-interleaved)."""
    if c.config.type not in families_reading(c.in1):
        return f"{c.config.type} cannot read a weight sharded in DRAM (its in1 buffer must be L1-resident)"
    return None


def families_reading(in1: MemoryPlacement) -> tuple[str, ...]:
    """The program-config families that can read this weight (rule r28)."""
    if in1.buffer == "DRAM" and in1.sharded:
        return (MATMUL_DRAM_SHARDED, MATMUL_2D)
    return (MATMUL_2D, MATMUL_1D, MATMUL_DRAM_SHARDED, MATMUL_REUSE)


@only_for(MATMUL_1D)
def r29_1d_grid_holds_in0_shards(c: MatmulCase) -> str | None:
    """1D mcast_in0 with an L1-sharded in0 runs on max(output blocks, in0 shard cores) cores taken
    row-major from its grid, and the first in0-shard-count of them are the in0 senders
    (matmul_multicore_reuse_mcast_1d_program_factory.cpp: num_cores_to_corerangeset_in_subcoregrids
    raises "Target number of cores N is greater than total available cores M"). So the grid must
    hold the shard cores, and the shards must sit on exactly those first cores."""
    cfg = c.config
    if cfg.type != MATMUL_1D or not cfg.mcast_in0 or cfg.grid is None:
        return None
    if not (c.in0.sharded and c.in0.buffer == "L1" and c.in0.grid is not None):
        return None
    gx, gy = cfg.grid
    shard_cores = c.in0.grid.cores
    if shard_cores > gx * gy:
        return f"in0 is sharded over {shard_cores} cores but the {gx}x{gy} grid has {gx * gy}"
    if c.in0.grid.ranges != row_major_cores(shard_cores, gx):
        return f"in0 shard cores {c.in0.grid.ranges} are not the first {shard_cores} cores of the {gx}x{gy} grid"
    return None


def r30_subblock_didt(c: MatmulCase) -> str | None:
    """out_subblock_h * out_subblock_w within the device's di/dt cap (tt_transformers keeps matmul
    subblocks at <= 4 tiles, 1 on Galaxy; device profile max_subblock_tiles_didt)."""
    cfg = c.config
    if cfg.out_subblock_h is None or cfg.out_subblock_w is None:
        return None
    area = cfg.out_subblock_h * cfg.out_subblock_w
    if area > c.device.max_subblock_tiles_didt:
        return f"out_subblock_h*out_subblock_w={area} exceeds the {c.device.name} cap of {c.device.max_subblock_tiles_didt} tiles"
    return None


@only_for(MATMUL_2D, MATMUL_1D)
def r31_per_core_m_within_mt(c: MatmulCase) -> str | None:
    """per_core_M <= Mt, Mt the output's row tiles as the kernel sees them: one batch's without fuse_batch (a 4-D
    [1, B, M, K] input is B matmuls of M rows), all batches' with it (matmul_device_operation.cpp, 1D and 2D
    multicast: "per_core_M (242) exceeds Mt (22)", asked of ttnn 0.81.1 in tests/realttnn/test_rules_agree.py)."""
    cfg = c.config
    if cfg.type not in (MATMUL_2D, MATMUL_1D):
        return None
    mt = _mt_total(c)
    if cfg.per_core_M > mt:
        batches = "all batches'" if cfg.fuse_batch else "one batch's"
        return f"per_core_M={cfg.per_core_M} exceeds Mt={mt} ({batches} row tiles)"
    return None


# Rules for hazards ttnn 0.81.1 does not check: it accepts these configs, which then hang on di/dt (r30) or
# silently lose accuracy (r25) on hardware. The sweep against the real ttnn counts them apart from legality.
HAZARD_RULES = frozenset({"r25_prefill_reads_dram_shards", "r30_subblock_didt"})

RULES: tuple[Rule, ...] = (
    r01_tile_aligned,
    r02_k_divisible,
    r03_dst_limit,
    r04_block_divisibility,
    r05_grid_in_device,
    r06_2d_blocks_fit,
    r07_1d_blocks_fit,
    r08_fuse_batch,
    r09_2d_sharded_output,
    r10_2d_sharded_input,
    r11_1d_mcast_in0_sharded,
    r12_1d_mcast_in1_sharded,
    r13_reuse,
    r14_dram_sharded,
    r15_sharded_out_tile_w,
    r17_bfp4_tiles,
    r18_kernel_config_given,
    r19_activation_fused,
    r20_l1_fits,
    r25_prefill_reads_dram_shards,
    r28_dram_sharded_weight_family,
    r29_1d_grid_holds_in0_shards,
    r30_subblock_didt,
    r31_per_core_m_within_mt,
)


# The same rules, those that are cheap and reject most candidates first and the L1 estimate last: legality does
# not depend on the order, so a search that needs no per-rule counts asks `is_legal` and rarely sizes L1.
LEGALITY_ORDER: tuple[Rule, ...] = (
    r28_dram_sharded_weight_family,
    r25_prefill_reads_dram_shards,
    r14_dram_sharded,
    r07_1d_blocks_fit,
    r06_2d_blocks_fit,
    *(r for r in RULES if r not in (r28_dram_sharded_weight_family, r25_prefill_reads_dram_shards, r14_dram_sharded,
                                     r07_1d_blocks_fit, r06_2d_blocks_fit, r20_l1_fits)),
    r20_l1_fits,
)


# Per family: the rules that can reject one of its configs, in order (the others return None for it).
_RULES_OF = {family: _for_family(RULES, family) for family in MATMUL_FAMILIES}
_LEGALITY_OF = {family: _for_family(LEGALITY_ORDER, family) for family in MATMUL_FAMILIES}


def is_legal(case: MatmulCase, l1: bool = True) -> bool:
    """No rule broken (first_violation(case) is None), found with the cheap rules first. `l1=False`: every rule but
    the L1 estimate (r20_l1_fits, always last), for a caller that may not need to ask it."""
    rules = _LEGALITY_OF.get(case.config.type, LEGALITY_ORDER)
    for rule in rules if l1 else rules[:-1]:
        if rule(case):
            return False
    return True


def first_violation(case: MatmulCase) -> str | None:
    """Name of the first rule the case breaks (the search only needs one reason to prune)."""
    for rule in _RULES_OF.get(case.config.type, RULES):
        if rule(case):
            return rule.__name__
    return None


def matmul_violations(case: MatmulCase) -> list[str]:
    """Every rule the case breaks, as 'rule_name: message'."""
    out = []
    for rule in RULES:
        message = rule(case)
        if message:
            out.append(f"{rule.__name__}: {message}")
    return out
