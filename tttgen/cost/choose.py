"""Pick a matmul program config by enumerating legal candidates and minimising modeled time.

`enumerate_matmul_configs` yields every candidate of the families that apply:
  * 2D mcast (`MatmulMultiCoreReuseMultiCastProgramConfig`), both mcast orientations when in0 is
    not sharded;
  * 1D mcast_in0 ("wide") and 1D mcast_in1 ("tall");
  * DRAM-sharded, when M <= 32 rows and storage is sharded (in1 "dram_sharded");
over grids and sub-grids up to the device grid (per_core_M/N from every distinct split), every
in0_block_w dividing Kt (or the in0 shard width), out blocks (the whole per-core block, or smaller
ones only when the whole block overflows L1), and every subblock with h*w <= the DST limit that
divides the out block. Candidates are pruned by `is_legal(config)` and `l1_bytes(config) <=
device.usable_l1_bytes`; both default to this module's rules (reference §1.3-1.7) and the CB
estimate of §1.11, and either can be replaced by the caller's.

`choose_matmul_config` scores every survivor with `estimate_matmul` and returns the cheapest;
ties (equal modeled time) go to the family order 2D, 1D mcast_in0, 1D mcast_in1, DRAM-sharded,
then fewer cores, then the smaller field tuple - so the answer is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from tttgen.cost.calibration import Coeffs, coeffs_for_arch
from tttgen.cost.l1 import dtype_name, matmul_config_l1_bytes
from tttgen.cost.model import OpCost, estimate_matmul
from tttgen.cost.ttnn_auto import SUBBLOCK_HW_CHOICES
from tttgen.ir.configs import MATMUL_1D, MATMUL_2D, MATMUL_DRAM_SHARDED, MatmulConfig, MatmulShape
from tttgen.spec.device import DeviceProfile

FAMILY_RANK = {"2d": 0, "1d_in0": 1, "1d_in1": 2, "dram_sharded": 3}

IsLegal = Callable[[MatmulConfig], bool]
L1Bytes = Callable[[MatmulConfig], int]


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _divisors(n: int) -> list[int]:
    small, large = [], []
    d = 1
    while d * d <= n:
        if n % d == 0:
            small.append(d)
            if d * d != n:
                large.append(n // d)
        d += 1
    return small + large[::-1]


def in0_shard_cores_1d(kt: int, cores: int) -> int:
    """Cores a width-sharded activation of a 1D mcast_in0 matmul lives on: the most cores (at most
    the matmul's own, which must contain the shard grid) that split K evenly."""
    best = 1
    for d in _divisors(kt):
        if d <= cores:
            best = d
    return best


def family_of(config: MatmulConfig) -> str:
    if config.type == MATMUL_2D:
        return "2d"
    if config.type == MATMUL_1D:
        return "1d_in0" if config.mcast_in0 is not False else "1d_in1"
    if config.type == MATMUL_DRAM_SHARDED:
        return "dram_sharded"
    return config.type


@dataclass(frozen=True)
class Storage:
    """Normalised operand placement for one matmul."""

    in0: str  # dram | l1 | sharded
    in1: str  # dram | dram_sharded | l1
    out: str  # dram | l1 | sharded

    @classmethod
    def of(cls, in0: str, in1: str, out: str) -> "Storage":
        in0n, in1n, outn = in0.lower(), in1.lower(), out.lower()
        if in0n not in ("dram", "l1", "sharded"):
            raise ValueError(f"in0_storage must be DRAM, L1 or sharded, got {in0!r}")
        if in1n not in ("dram", "dram_sharded", "l1"):
            raise ValueError(f"in1_storage must be dram, dram_sharded or l1, got {in1!r}")
        if outn not in ("dram", "l1", "sharded"):
            raise ValueError(f"out_storage must be DRAM, L1 or sharded, got {out!r}")
        return cls(in0n, in1n, outn)


@dataclass(frozen=True)
class MatmulProblem:
    """Everything that is fixed while the config varies."""

    device: DeviceProfile
    shape: MatmulShape
    in0_dtype: str
    in1_dtype: str
    out_dtype: str
    storage: Storage
    fp32_dest_acc_en: bool = False
    packer_l1_acc: bool = True

    @property
    def m_tiles(self) -> int:
        return self.shape.batch * self.shape.mt

    def dst_limit(self) -> int:
        return self.device.dst_limit(self.fp32_dest_acc_en, False)

    def in0_shard_width_tiles(self, config: MatmulConfig) -> int:
        """Width (tiles) of the in0 shard a sharded activation has under `config`, else 0."""
        if self.storage.in0 != "sharded":
            return 0
        kt = self.shape.kt
        if config.type == MATMUL_2D:
            along_k = config.grid[1] if config.transpose_mcast else config.grid[0]  # type: ignore[index]
            return kt // along_k if along_k and kt % along_k == 0 else 0
        if config.type == MATMUL_1D:
            if config.mcast_in0 is False:
                return kt
            return kt // in0_shard_cores_1d(kt, _cdiv(self.shape.nt, config.per_core_N))
        if config.type == MATMUL_DRAM_SHARDED:
            cores = _cdiv(self.shape.nt, config.per_core_N)
            return kt // cores if kt % cores == 0 else 0
        return 0

    def l1_bytes(self, config: MatmulConfig) -> int:
        return matmul_config_l1_bytes(
            self.device,
            config,
            self.shape,
            in0_dtype=self.in0_dtype,
            in1_dtype=self.in1_dtype,
            out_dtype=self.out_dtype,
            in0_shard_width_tiles=self.in0_shard_width_tiles(config),
            out_sharded=self.storage.out == "sharded",
            fp32_dest_acc_en=self.fp32_dest_acc_en,
            packer_l1_acc=self.packer_l1_acc,
        )

    def is_legal(self, config: MatmulConfig) -> bool:
        """The main validation rules of reference §1.3-1.7 for this problem."""
        return not legality_problems(self, config)


def legality_problems(problem: MatmulProblem, config: MatmulConfig) -> list[str]:
    """Rules of reference §1.3-1.7 that `config` breaks (empty list = legal)."""
    p: list[str] = []
    dev = problem.device
    mt, kt, nt = problem.m_tiles, problem.shape.kt, problem.shape.nt
    st = problem.storage
    ibw, pcm, pcn = config.in0_block_w, config.per_core_M, config.per_core_N
    if min(ibw, pcm, pcn) <= 0:
        return ["in0_block_w, per_core_M and per_core_N must be > 0"]
    if kt % ibw:
        p.append("Kt % in0_block_w != 0")
    out_sharded = st.out == "sharded"
    if config.type == MATMUL_DRAM_SHARDED:
        if mt != 1 or pcm != 1:
            p.append("DRAM-sharded needs Mt == per_core_M == 1")
        if st.in0 != "sharded" or st.out != "sharded":
            p.append("DRAM-sharded needs width-sharded L1 in0 and sharded output")
        if st.in1 != "dram_sharded":
            p.append("DRAM-sharded needs in1 width-sharded in DRAM")
        cores = _cdiv(nt, pcn)
        if cores > dev.grid.cores:
            p.append("more output cores than the grid")
        if kt % cores:
            p.append("Kt must split evenly over the activation shard cores")
        elif (kt // cores) % ibw:
            p.append("(in0 shard width) % in0_block_w != 0")
        if cores * pcn != nt:
            p.append("DRAM-sharded has no padding: cores * per_core_N must equal Nt")
        return p
    sbh, sbw = config.out_subblock_h or 0, config.out_subblock_w or 0
    obh, obw = config.out_block_h or pcm, config.out_block_w or pcn
    if min(sbh, sbw, obh, obw) <= 0:
        p.append("subblock and out block dims must be > 0")
        return p
    if sbh * sbw > problem.dst_limit():
        p.append("out_subblock_h * out_subblock_w exceeds the DST limit")
    if obh % sbh or obw % sbw:
        p.append("out block not divisible by subblock")
    if pcm % obh or pcn % obw:
        p.append("per-core block not divisible by out block")
    if out_sharded and not (sbw == pcn or sbh == 1):
        p.append("sharded output needs out_subblock_w == per_core_N or out_subblock_h == 1")
    if out_sharded and not (obw == pcn or obh == 1):
        p.append("sharded output needs out_block_w == per_core_N or out_block_h == 1")
    if config.grid is None:
        p.append("grid missing")
        return p
    gx, gy = config.grid
    if not (0 < gx <= dev.grid.x and 0 < gy <= dev.grid.y):
        p.append("grid exceeds the device grid")
    if config.type == MATMUL_2D:
        bx, by = _cdiv(nt, pcn), _cdiv(mt, pcm)
        if config.transpose_mcast:
            bx_lim, by_lim = gy, gx
        else:
            bx_lim, by_lim = gx, gy
        if bx > bx_lim or by > by_lim:
            p.append("2D: blocks exceed the grid")
        if st.in0 == "sharded":
            if config.transpose_mcast:
                p.append("2D sharded in0 is laid out ROW_MAJOR here (no transpose_mcast)")
            if mt % by or pcm * by != mt:
                p.append("2D block-sharded in0: per_core_M must be the shard height")
            if kt % bx:
                p.append("2D block-sharded in0: K must split evenly over grid columns")
            elif (kt // bx) % ibw:
                p.append("2D: (in0 shard width) % in0_block_w != 0")
        if st.in1 in ("l1", "dram_sharded") and config.transpose_mcast:
            p.append("sharded in1 forbids transpose_mcast")
        if st.in1 == "dram_sharded" and dev.arch == "blackhole" and pcn != _cdiv(nt, dev.dram.banks):
            # reference rule 25 (tt_transformers PREFILL_MLP comments): PCC silently breaks on BH
            p.append("2D on DRAM-sharded in1 (Blackhole) needs per_core_N == ceil(Nt / DRAM banks)")
    elif config.type == MATMUL_1D:
        if st.in1 == "dram_sharded":
            p.append("1D mcast with a DRAM-sharded in1 is not a supported combination (reference §1.6)")
        blocks = _cdiv(mt, pcm) * _cdiv(nt, pcn)
        if blocks > gx * gy:
            p.append("1D: blocks exceed grid cores")
        if config.mcast_in0 is not False:
            if _cdiv(mt, pcm) != 1:
                p.append("1D mcast_in0 needs all of M in one block")
            if st.in0 == "sharded":
                if pcm != mt:
                    p.append("1D mcast_in0 sharded in0: Mt == per_core_M")
                width = kt // in0_shard_cores_1d(kt, _cdiv(nt, pcn))
                if width % ibw:
                    p.append("1D: (in0 shard width) % in0_block_w != 0")
        else:
            if st.in0 == "sharded":
                if st.in1 != "dram":
                    p.append("1D mcast_in1 with sharded in0 needs interleaved in1")
                if mt % pcm:
                    p.append("1D height-sharded in0: per_core_M must divide Mt")
            if out_sharded and pcn != nt:
                p.append("1D mcast_in1 sharded output needs per_core_N == Nt")
    else:
        p.append(f"unsupported family {config.type}")
    return p


@dataclass(frozen=True)
class Scored:
    config: MatmulConfig
    cost: OpCost
    l1_bytes: int
    layout: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Choice:
    """The chosen config, its modeled cost and the runners-up (best first)."""

    config: MatmulConfig
    cost: OpCost
    l1_bytes: int
    layout: dict[str, Any]
    evaluated: int
    alternatives: tuple[Scored, ...]


def _split_values(total: int, max_parts: int) -> list[int]:
    """Distinct per-core sizes ceil(total / parts) for parts = 1..max_parts, smallest first."""
    return sorted({_cdiv(total, parts) for parts in range(1, min(total, max_parts) + 1)})


def _subblocks(problem: MatmulProblem, obh: int, obw: int, pcn: int, coeffs: Coeffs) -> list[tuple[int, int]]:
    """Subblocks with h*w <= DST limit dividing the out block, best first by the model's only
    subblock-dependent term (unpacked bytes per tile product); ties keep ttnn's choice order."""
    limit = problem.dst_limit()
    out_sharded = problem.storage.out == "sharded"
    ta = problem.device.tile_bytes[problem.in0_dtype]
    tb = problem.device.tile_bytes[problem.in1_dtype]
    ranked = []
    for order, (h, w) in enumerate(SUBBLOCK_HW_CHOICES):
        if h * w > limit or obh % h or obw % w:
            continue
        if out_sharded and not (w == pcn or h == 1):
            continue
        proxy = (ta / w + tb / h) / coeffs.unpack_Bpc
        ranked.append((round(proxy, 9), order, h, w))
    ranked.sort()
    return [(h, w) for _, _, h, w in ranked]


def _out_blocks(
    problem: MatmulProblem, base: MatmulConfig, l1_of: L1Bytes, budget: int, out_sharded: bool
) -> list[tuple[int, int]]:
    """The whole per-core block if it fits L1, else the maximal smaller divisor pairs that fit
    (a pair inside another fitting pair only adds re-reads). L1 grows with both block dims, so
    for each out_block_h only the widest fitting out_block_w is kept."""
    pcm, pcn = base.per_core_M, base.per_core_N
    if l1_of(base) <= budget:
        return [(pcm, pcn)]

    def fits(obh: int, obw: int) -> bool:
        return l1_of(replace(base, out_block_h=obh, out_block_w=obw)) <= budget

    hs, ws = _divisors(pcm), _divisors(pcn)
    if out_sharded:  # out_block_w == per_core_N or out_block_h == 1
        found = [(h, pcn) for h in hs[::-1] if h != pcm and fits(h, pcn)][:1]
        found += [(1, w) for w in ws[::-1] if w != pcn and fits(1, w)][:1]
        return found
    pairs: list[tuple[int, int]] = []
    wi = len(ws) - 1
    for h in hs:
        while wi >= 0 and not fits(h, ws[wi]):
            wi -= 1
        if wi < 0:
            break
        pairs.append((h, ws[wi]))
    return [pair for i, pair in enumerate(pairs) if i + 1 == len(pairs) or pairs[i + 1][1] != pair[1]]


def enumerate_matmul_configs(
    problem: MatmulProblem,
    *,
    is_legal: IsLegal | None = None,
    l1_bytes: L1Bytes | None = None,
    families: tuple[str, ...] | None = None,
) -> Iterator[tuple[MatmulConfig, int]]:
    """Yield (config, l1_bytes) for every candidate that passes `is_legal` and fits L1."""
    legal = is_legal or problem.is_legal
    l1_of = l1_bytes or problem.l1_bytes
    budget = problem.device.usable_l1_bytes
    dev = problem.device
    mt, kt, nt = problem.m_tiles, problem.shape.kt, problem.shape.nt
    st = problem.storage
    out_sharded = st.out == "sharded"
    wanted = set(families) if families else set(FAMILY_RANK)
    if mt != 1 or st.in1 != "dram_sharded" or st.in0 != "sharded" or not out_sharded:
        wanted.discard("dram_sharded")
    if st.in1 == "dram_sharded":  # see legality_problems: 1D factories do not take it
        wanted.discard("1d_in0")
        wanted.discard("1d_in1")

    coeffs = coeffs_for_arch(dev.arch)

    def finish(base: dict[str, Any], ibws: list[int]) -> Iterator[tuple[MatmulConfig, int]]:
        # per (in0_block_w, out block) only the best legal subblock is yielded: the subblock
        # changes nothing but the compute terms that _subblocks ranks by
        for ibw in ibws:
            head = MatmulConfig(**{**base, "in0_block_w": ibw, "out_subblock_h": 1, "out_subblock_w": 1})
            for obh, obw in _out_blocks(problem, head, l1_of, budget, out_sharded):
                for h, w in _subblocks(problem, obh, obw, base["per_core_N"], coeffs):
                    cfg = replace(head, out_block_h=obh, out_block_w=obw, out_subblock_h=h, out_subblock_w=w)
                    if not legal(cfg):
                        continue
                    size = l1_of(cfg)
                    if size <= budget:
                        yield cfg, size
                        break

    if "2d" in wanted:
        orientations = [False]
        if st.in0 != "sharded" and st.in1 == "dram" and dev.grid.x != dev.grid.y:
            orientations.append(True)
        for transpose in orientations:
            n_lim, m_lim = (dev.grid.y, dev.grid.x) if transpose else (dev.grid.x, dev.grid.y)
            for pcm in _split_values(mt, m_lim):
                by = _cdiv(mt, pcm)
                for pcn in _split_values(nt, n_lim):
                    bx = _cdiv(nt, pcn)
                    if st.in0 == "sharded":
                        if pcm * by != mt or kt % bx:
                            continue
                        ibws = _divisors(kt // bx)
                    else:
                        ibws = _divisors(kt)
                    grid = (by, bx) if transpose else (bx, by)
                    base = {
                        "type": MATMUL_2D,
                        "per_core_M": pcm,
                        "per_core_N": pcn,
                        "grid": grid,
                        "transpose_mcast": transpose,
                        "fuse_batch": True,
                    }
                    yield from finish(base, ibws)

    cores_max = dev.grid.cores
    if "1d_in0" in wanted:
        for pcn in _split_values(nt, cores_max):
            cores = _cdiv(nt, pcn)
            if st.in0 == "sharded":
                ibws = _divisors(kt // in0_shard_cores_1d(kt, cores))
            else:
                ibws = _divisors(kt)
            grid = (min(cores, dev.grid.x), _cdiv(cores, dev.grid.x))
            base = {
                "type": MATMUL_1D,
                "per_core_M": mt,
                "per_core_N": pcn,
                "grid": grid,
                "fuse_batch": True,
                "mcast_in0": True,
            }
            yield from finish(base, ibws)

    if "1d_in1" in wanted:
        for pcm in _split_values(mt, cores_max):
            cores = _cdiv(mt, pcm)
            if st.in0 == "sharded" and mt % pcm:
                continue
            grid = (min(cores, dev.grid.x), _cdiv(cores, dev.grid.x))
            base = {
                "type": MATMUL_1D,
                "per_core_M": pcm,
                "per_core_N": nt,
                "grid": grid,
                "fuse_batch": True,
                "mcast_in0": False,
            }
            yield from finish(base, _divisors(kt))

    if "dram_sharded" in wanted:
        for cores in _divisors(nt):
            if cores > cores_max or kt % cores:
                continue
            pcn = nt // cores
            for ibw in _divisors(kt // cores):
                cfg = MatmulConfig(type=MATMUL_DRAM_SHARDED, in0_block_w=ibw, per_core_M=1, per_core_N=pcn)
                if not legal(cfg):
                    continue
                size = l1_of(cfg)
                if size <= budget:
                    yield cfg, size


def _layout(problem: MatmulProblem, config: MatmulConfig) -> dict[str, Any]:
    """How sharded operands must be laid out for `config` (tiles), for the generator."""
    out: dict[str, Any] = {"family": family_of(config)}
    kt, nt, mt = problem.shape.kt, problem.shape.nt, problem.m_tiles
    if config.type == MATMUL_2D:
        bx, by = _cdiv(nt, config.per_core_N), _cdiv(mt, config.per_core_M)
        out["blocks"] = [bx, by]
        if problem.storage.in0 == "sharded":
            out["in0"] = {"layout": "BLOCK_SHARDED", "grid": [bx, by], "shard_tiles": [config.per_core_M, kt // bx]}
        if problem.storage.out == "sharded":
            out["out"] = {
                "layout": "BLOCK_SHARDED",
                "grid": [bx, by],
                "shard_tiles": [config.per_core_M, config.per_core_N],
            }
    elif config.type == MATMUL_1D:
        if config.mcast_in0 is not False:
            cores = _cdiv(nt, config.per_core_N)
            if problem.storage.in0 == "sharded":
                c_in = in0_shard_cores_1d(kt, cores)
                out["in0"] = {"layout": "WIDTH_SHARDED", "cores": c_in, "shard_tiles": [mt, kt // c_in]}
            if problem.storage.out == "sharded":
                out["out"] = {"layout": "WIDTH_SHARDED", "cores": cores, "shard_tiles": [mt, config.per_core_N]}
        else:
            cores = _cdiv(mt, config.per_core_M)
            if problem.storage.in0 == "sharded":
                out["in0"] = {"layout": "HEIGHT_SHARDED", "cores": cores, "shard_tiles": [config.per_core_M, kt]}
            if problem.storage.out == "sharded":
                out["out"] = {"layout": "HEIGHT_SHARDED", "cores": cores, "shard_tiles": [config.per_core_M, nt]}
        out["cores"] = cores
    elif config.type == MATMUL_DRAM_SHARDED:
        cores = nt // config.per_core_N
        banks = problem.device.dram.banks
        out["cores"] = cores
        out["in0"] = {"layout": "WIDTH_SHARDED", "cores": cores, "shard_tiles": [1, kt // cores]}
        out["in1"] = {
            "layout": "WIDTH_SHARDED",
            "buffer": "DRAM",
            "banks": banks,
            "shard_tiles": [kt, _cdiv(nt, banks)],
        }
        out["out"] = {"layout": "WIDTH_SHARDED", "cores": cores, "shard_tiles": [1, config.per_core_N]}
    return out


def _tie_key(config: MatmulConfig, cost: OpCost) -> tuple[Any, ...]:
    fields = (
        config.grid or (0, 0),
        config.per_core_M,
        config.per_core_N,
        config.in0_block_w,
        config.out_block_h or 0,
        config.out_block_w or 0,
        -(config.out_subblock_h or 0) * (config.out_subblock_w or 0),
        config.out_subblock_h or 0,
        bool(config.transpose_mcast),
    )
    return (round(cost.total_ns, 3), FAMILY_RANK.get(family_of(config), 9), cost.active_cores, fields)


def choose_matmul_config(
    device: DeviceProfile,
    shape: MatmulShape,
    *,
    in0_dtype: str = "bfloat16",
    in1_dtype: str | None = None,
    out_dtype: str | None = None,
    fidelity: str = "HiFi2",
    in0_storage: str = "DRAM",
    in1_storage: str = "dram",
    out_storage: str = "DRAM",
    fp32_dest_acc_en: bool = False,
    packer_l1_acc: bool = True,
    traced: bool = True,
    is_legal: IsLegal | None = None,
    l1_bytes: L1Bytes | None = None,
    families: tuple[str, ...] | None = None,
    keep: int = 5,
) -> Choice:
    """The cheapest legal config for this matmul under the cost model.

    `is_legal(config)` / `l1_bytes(config)` replace the built-in rules / CB estimate when given.
    `families` restricts the search ("2d", "1d_in0", "1d_in1", "dram_sharded").
    Raises ValueError if no candidate survives.
    """
    problem = MatmulProblem(
        device=device,
        shape=shape,
        in0_dtype=dtype_name(in0_dtype),
        in1_dtype=dtype_name(in1_dtype or in0_dtype),
        out_dtype=dtype_name(out_dtype or in0_dtype),
        storage=Storage.of(in0_storage, in1_storage, out_storage),
        fp32_dest_acc_en=fp32_dest_acc_en,
        packer_l1_acc=packer_l1_acc,
    )
    scored: list[tuple[tuple[Any, ...], MatmulConfig, OpCost, int]] = []
    for cfg, size in enumerate_matmul_configs(problem, is_legal=is_legal, l1_bytes=l1_bytes, families=families):
        cost = estimate_matmul(
            device,
            shape,
            cfg,
            in0_dtype=problem.in0_dtype,
            in1_dtype=problem.in1_dtype,
            out_dtype=problem.out_dtype,
            fidelity=fidelity,
            in0_storage=in0_storage,
            in1_storage=in1_storage,
            out_storage=out_storage,
            traced=traced,
            fp32_dest_acc_en=fp32_dest_acc_en,
        )
        scored.append((_tie_key(cfg, cost), cfg, cost, size))
    if not scored:
        raise ValueError(f"no legal matmul config for {shape} with storage {problem.storage}")
    scored.sort(key=lambda item: item[0])
    _, best, best_cost, best_size = scored[0]
    alternatives = tuple(Scored(cfg, cost, size, _layout(problem, cfg)) for _, cfg, cost, size in scored[1 : 1 + keep])
    return Choice(
        config=best,
        cost=best_cost,
        l1_bytes=best_size,
        layout=_layout(problem, best),
        evaluated=len(scored),
        alternatives=alternatives,
    )


__all__ = [
    "Choice",
    "FAMILY_RANK",
    "MatmulProblem",
    "Scored",
    "Storage",
    "choose_matmul_config",
    "enumerate_matmul_configs",
    "family_of",
    "legality_problems",
]
