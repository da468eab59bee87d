"""Pass `matmul_program`: a legal, fastest-modeled program config for every matmul.

Inputs: per-call shapes (chunking), dtypes and kernels (precision), weight placements (memory).
Produces: `matmul_program` (op decisions `program`, `in0`/`out` for decode matmuls, `l1_bytes`,
`cores`, `time_ns`, `rejected`: the best rejected candidates, `pruned`: rule -> count).
Candidates: every family whose operand placements allow it, every grid and sub-grid, per-core
blocks from the grid, every in0_block_w dividing the K tiles, the largest legal subblock. Each is
checked by all rules in tttgen.rules.matmul (including the L1 estimate) and scored by the cost model;
ties break on the candidate's textual key, so the choice is deterministic.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from operator import attrgetter

from tttgen.baselines.tt_transformers import baseline_config
from tttgen.cost.ttnn_auto import ttnn_auto_config
from tttgen.errors import DoesNotFit, InputError
from tttgen.ir.configs import (
    DRAM_INTERLEAVED,
    MATMUL_1D,
    MATMUL_2D,
    MATMUL_DRAM_SHARDED,
    Candidate,
    ComputeKernelConfig,
    MatmulConfig,
    MatmulShape,
    MemoryPlacement,
)
from tttgen.ir.graph import Graph, Op
from tttgen.passes.base import make_pass
from tttgen.passes.column_chunks import chunk_joins_ns, input_move_ns, reads_one_tile_from_dram
from tttgen.passes.precision import mark_pinned, override_entry, override_for, pin_where
from tttgen.rules.l1 import matmul_l1_bytes
from tttgen.rules.matmul import (
    MatmulCase,
    dram_shard_per_core_n,
    families_reading,
    first_violation,
    is_legal,
    l1_used,
    matmul_violations,
    r20_l1_fits,
)
from tttgen.rules.placement import width_sharded, width_sharded_out
from tttgen.scoring import matmul_time_ns, op_time_ns
from tttgen.inputs.device import DeviceProfile
from tttgen.tiling import ceil_div, divisors, row_major_cores, subblocks

MAX_IN0_BLOCK_W = 16
K_BLOCK_WIDTHS_SCORED = 2  # per block shape, score the two widest legal in0_block_w (narrower only add K steps)
KEEP_REJECTED = 3


@lru_cache(maxsize=4096)  # pure, and asked once per (grid, per_core_N) of every search
def _pick_subblock(pcm: int, pcn: int, limit: int, sharded_out: bool) -> tuple[int, int] | None:
    for h, w in subblocks(pcm, pcn, limit):
        if not sharded_out or w == pcn or h == 1:
            return h, w
    return None


def _per_core_n_options(nt: int, device: DeviceProfile, in1: MemoryPlacement) -> list[int]:
    """Distinct per_core_N values: N split over 1..all cores, plus the DRAM shard width of the weight."""
    options = {ceil_div(nt, cores) for cores in range(1, device.grid.cores + 1)}
    if in1.buffer == "DRAM" and in1.layout == "WIDTH_SHARDED" and in1.shard_shape:
        options.add(in1.shard_shape[1] // 32)
    return sorted(options)


def _grid_for_blocks(
    blocks: int, device: DeviceProfile, in0: MemoryPlacement = DRAM_INTERLEAVED
) -> tuple[int, int] | None:
    """Grid (x, y) of a 1D config: one row if the cores fit in it, else full-width rows, else narrower
    rows. The cores are the output blocks and, for an L1-sharded in0, at least its shard cores, which
    must be the grid's first cores in row-major order (rule r29)."""
    need, shards = blocks, None
    if in0.sharded and in0.buffer == "L1" and in0.grid is not None:
        shards = in0.grid
        need = max(blocks, shards.cores)
    widths = ([need] if need <= device.grid.x else []) + list(range(device.grid.x, 0, -1))
    for x in widths:
        y = ceil_div(need, x)
        if y <= device.grid.y and (shards is None or shards.ranges == row_major_cores(shards.cores, x)):
            return (x, y)
    return None


def _in0_block_ws(k_tiles: int) -> list[int]:
    """K-block widths to try, widest first (wider blocks mean fewer K steps while L1 allows)."""
    return [d for d in reversed(divisors(k_tiles)) if d <= MAX_IN0_BLOCK_W]


def legal_only_filters(device: DeviceProfile, in1: MemoryPlacement) -> bool:
    """Whether `enumerate_candidates(..., legal_only=True)` leaves out anything for this weight placement."""
    return MATMUL_1D not in families_reading(in1) or dram_shard_per_core_n(device, in1) is not None


def enumerate_candidates(
    device: DeviceProfile,
    shape: MatmulShape,
    kernel: ComputeKernelConfig,
    in1: MemoryPlacement,
    decode: bool,
    legal_only: bool = False,
) -> list[tuple[MatmulConfig, MemoryPlacement, MemoryPlacement]]:
    """(config, in0 placement, out placement) triples; legality is checked by the caller.

    Decode activations are width-sharded over a grid the search picks; prefill reads and writes DRAM.
    `legal_only`: without the candidates the weight's placement alone rules out (the families rule r28 bars, the
    per_core_N rule r25 bars), for a search that keeps no per-rule counts."""
    limit = device.subblock_limit(kernel.fp32_dest_acc_en, kernel.dst_full_sync_en)
    gx, gy = device.grid.x, device.grid.y
    kt, nt, mt = shape.kt, shape.nt, shape.mt
    out: list[tuple[MatmulConfig, MemoryPlacement, MemoryPlacement]] = []
    dram_sharded_weight = in1.buffer == "DRAM" and in1.layout == "WIDTH_SHARDED"
    with_1d = not legal_only or MATMUL_1D in families_reading(in1)
    required_n = dram_shard_per_core_n(device, in1) if legal_only else None
    assert legal_only_filters(device, in1) or (with_1d and required_n is None)
    per_core_ns = [required_n] if required_n is not None else _per_core_n_options(nt, device, in1)  # 2D and 1D
    if decode:
        # Decode: in0 is one tile of rows, width-sharded over `cores` that divide K.
        for cores in divisors(kt):
            if cores > device.grid.cores:
                continue
            a = width_sharded(32, shape.k, cores, device)
            block_ws = _in0_block_ws(kt // cores)
            if dram_sharded_weight:
                pcn = ceil_div(nt, cores)
                if nt % pcn:
                    continue
                o = width_sharded_out(nt, pcn, device.grid.x)
                for bw in block_ws:
                    cfg = MatmulConfig(MATMUL_DRAM_SHARDED, in0_block_w=bw, per_core_M=1, per_core_N=pcn)
                    out.append((cfg, a, o))
            # 1D mcast_in0 on a grid that holds the N blocks; output DRAM (lm_head) or width-sharded L1.
            for pcn in per_core_ns if with_1d else ():
                grid = _grid_for_blocks(ceil_div(nt, pcn), device, a)
                if grid is None:
                    continue
                sharded_out = nt % pcn == 0
                sub = _pick_subblock(1, pcn, limit, sharded_out)
                if sub is None:
                    continue
                o = width_sharded_out(nt, pcn, grid[0]) if sharded_out else DRAM_INTERLEAVED
                for bw in block_ws:
                    cfg = MatmulConfig(
                        MATMUL_1D,
                        in0_block_w=bw,
                        per_core_M=1,
                        per_core_N=pcn,
                        out_subblock_h=sub[0],
                        out_subblock_w=sub[1],
                        grid=grid,
                        fuse_batch=True,
                        mcast_in0=True,
                    )
                    out.append((cfg, a, o))
        return out
    # Prefill: DRAM interleaved in0 and out; 2D over every grid, 1D for narrow shapes.
    m_total = mt * shape.batch
    fuse = shape.batch == 1
    m_blocks = mt if not fuse else m_total
    block_ws = _in0_block_ws(kt)
    for pcn in per_core_ns:
        x = ceil_div(nt, pcn)
        if x > gx:
            continue
        for y in range(1, gy + 1):
            pcm = ceil_div(m_blocks, y)
            if ceil_div(m_blocks, pcm) < y:
                continue
            sub = _pick_subblock(pcm, pcn, limit, False)
            if sub is None:
                continue
            for bw in block_ws:
                cfg = MatmulConfig(
                    MATMUL_2D,
                    in0_block_w=bw,
                    per_core_M=pcm,
                    per_core_N=pcn,
                    out_subblock_h=sub[0],
                    out_subblock_w=sub[1],
                    out_block_h=pcm,
                    out_block_w=pcn,
                    grid=(x, y),
                    transpose_mcast=False,
                    fuse_batch=fuse,
                )
                out.append((cfg, DRAM_INTERLEAVED, DRAM_INTERLEAVED))
    if fuse and with_1d:
        for pcn in per_core_ns:
            grid = _grid_for_blocks(ceil_div(nt, pcn), device)
            if grid is None:
                continue
            sub = _pick_subblock(m_total, pcn, limit, False)
            if sub is None:
                continue
            for bw in block_ws:
                cfg = MatmulConfig(
                    MATMUL_1D,
                    in0_block_w=bw,
                    per_core_M=m_total,
                    per_core_N=pcn,
                    out_subblock_h=sub[0],
                    out_subblock_w=sub[1],
                    grid=grid,
                    fuse_batch=True,
                    mcast_in0=True,
                )
                out.append((cfg, DRAM_INTERLEAVED, DRAM_INTERLEAVED))
    return out


def _key(cfg: MatmulConfig) -> str:
    return repr(sorted(cfg.fields().items()))


def _rank(c: Candidate) -> tuple:
    """Fastest first, counting the moves the candidate's placements cost (see Home); among equal times, the
    activation spread over more cores (less L1 per core, no single-core hot spot), then the config's text so
    the order is total and deterministic."""
    return (*_rank_head(c), _key(c.config))


def _rank_head(c: Candidate) -> tuple:
    in0 = c.extra["in0"]
    return (round(c.time_ns + c.extra.get("move_ns", 0.0), 1), -(in0.grid.cores if in0.grid else 0))


@dataclass(frozen=True)
class Home:
    """Where a decode matmul's neighbours keep activations: the grid the layer's residual is width-sharded on
    (norms read and write it; the moves before and after a matmul go to or from it). A candidate whose input
    (or, when its output returns to the residual, its output) sits on another grid pays that move's modeled
    time in the ranking, so the norm writes directly what the matmul reads and the reshard pass elides it."""

    grid: object
    in_move_ns: float
    out_move_ns: float

    def move_ns(self, in0: MemoryPlacement, out: MemoryPlacement) -> float:
        return self.in_move_ns * (in0.grid != self.grid) + self.out_move_ns * (out.grid != self.grid)


RESIDUAL_STREAM_KINDS = ("rms_norm", "binary")  # decode ops the memory pass places on the residual


def residual_width(graph: Graph) -> int:
    """The width the decode layers' residual stream carries: what the first decode norm or add works on (its own
    fact `dim`, per chip on a mesh). A graph without such decode ops places no decode residual; the first op's
    input width stands in for the facts derived from it (no decode matmul reads them)."""
    stream = next((op for op in graph.ops if op.mode == "decode" and op.kind in RESIDUAL_STREAM_KINDS
                   and "dim" in op.facts), None)
    if stream is not None:
        return stream.facts["dim"]
    widths = (shape[-1] for op in graph.ops if op.dataflow for shape in op.dataflow["shapes"]["in"].values()
              if shape and all(isinstance(d, int) for d in shape))  # a list input (concat's) holds shapes
    return next(widths, 32)


def decode_home(graph: Graph, op: Op, shape: MatmulShape) -> Home | None:
    """A decode matmul's Home: its input arrives on the residual's grid; its output returns there when it is
    the residual's width (an attention or MLP output added back to the residual)."""
    residual = graph.facts.get("residual")
    if op.mode != "decode" or residual is None:
        return None
    def move(width: int) -> float:
        size = shape.m * width * 2  # bfloat16 activations
        return op_time_ns(graph.device, "reshard", bytes_in=size, bytes_out=size, src="sharded", dst="sharded").total_ns

    back = move(shape.n) if shape.n == residual_width(graph) else 0.0
    return Home(residual.grid, move(shape.k), back)


@dataclass(frozen=True)
class L1Reserve:
    """L1 other live tensors hold while a matmul runs (the allocator reserves it on every core)."""

    bytes: int = 0
    sibling_output: bool = False
    bias_dtype: str | None = None  # not other tensors but the op's own bias CB, which the search must budget too


def l1_reserve(graph: Graph, op: Op) -> L1Reserve:
    """Decode keeps the residual and rotary tables in L1 for the whole layer; the gate (w1) output is
    still live while w3 runs, so w1 and w3 both budget for one more output of their own placement."""
    bias = graph.bias_dtype(op)
    if op.mode != "decode":
        return L1Reserve(bias_dtype=bias)
    return L1Reserve(graph.facts["decode_l1_reserve"], op.facts.get("sibling_output_live", False), bias)


Triple = tuple[MatmulConfig, MemoryPlacement, MemoryPlacement]  # (config, in0, out)


@dataclass(frozen=True)
class _Scored:
    """A legal candidate's verdict: its L1 figure and modeled cost (the rank's move term is the caller's)."""

    config: MatmulConfig
    in0: MemoryPlacement
    out: MemoryPlacement
    l1: int
    cost: object


@dataclass
class _Evaluated:
    """The rules' and the cost model's verdicts on a list of candidates, in order: the legal ones, how many each
    rule pruned (when `counted`), and per block shape how many K-block widths were legal (a later candidate of a
    shape with K_BLOCK_WIDTHS_SCORED legal widths is pruned unscored). Extended by seeds, so copied before that.
    Uncounted, legality is asked with the cheap rules first (rules.matmul.is_legal): the same legal candidates,
    found without sizing the L1 of most illegal ones, and no per-rule counts. What it saw is kept so a counted
    evaluation of the same candidates needs the rules only for a few: `over_l1`, the candidates only the L1 estimate
    (rule r20) rejected, whose first broken rule in order is therefore r20; `narrower`, how many came when their
    shape had its widths; `unjudged`, the others a rule but r20 rejected."""

    counted: bool
    legal: list[_Scored] = field(default_factory=list)
    pruned: Counter = field(default_factory=Counter)
    widths: Counter = field(default_factory=Counter)
    seen: set = field(default_factory=set)
    over_l1: set = field(default_factory=set)
    narrower: int = 0
    unjudged: list = field(default_factory=list)

    def copy(self) -> "_Evaluated":
        return _Evaluated(
            self.counted, list(self.legal), Counter(self.pruned), Counter(self.widths), set(self.seen),
            set(self.over_l1), self.narrower, list(self.unjudged),
        )

    def counted_copy(self, case_of) -> "_Evaluated":
        """The counted evaluation of the candidates this uncounted one judged, in the same order: the same legal
        ones and widths; the rules asked only about the unjudged candidates whose shape still lacked its widths."""
        out = _Evaluated(True, list(self.legal), Counter(), Counter(self.widths), set(self.seen), set(self.over_l1))
        for triple in self.unjudged:
            out.pruned[first_violation(case_of(triple))] += 1
        if self.narrower:
            out.pruned[NARROWER] = self.narrower
        if self.over_l1:
            out.pruned[r20_l1_fits.__name__] = len(self.over_l1)
        return out

    def add(self, triples, case_of, known: "_Evaluated | None" = None) -> None:
        """Judge `triples` in order after those already judged. `known`: an uncounted evaluation of the same
        problem; a counted one then only asks the rules about candidates it did not judge, or judged illegal by a
        rule other than r20 (the same candidates are legal, and at the same places, since only legal ones count
        towards `widths`; one only r20 rejected breaks r20 first)."""
        legal = {(c.config, c.in0, c.out): c for c in known.legal} if known else {}
        over_l1 = known.over_l1 if known else ()
        widths, seen = self.widths, self.seen
        budget = None
        for triple in triples:
            before = len(seen)
            seen.add(triple)  # (one hash of the triple, not two for `in` and `add`)
            if len(seen) == before:
                continue
            cfg, in0, out = triple
            group = (_block_shape(cfg), in0, out)
            scored = widths[group]
            if self.counted:
                if scored >= K_BLOCK_WIDTHS_SCORED:
                    self.pruned[NARROWER] += 1
                    continue
                found = legal.get(triple)
                if found is not None:
                    widths[group] = scored + 1
                    self.legal.append(found)
                    continue
                if triple in over_l1:
                    self.pruned[r20_l1_fits.__name__] += 1
                    continue
                case = case_of(triple)
                broken = first_violation(case)
                if broken:
                    self.pruned[broken] += 1
                    continue
                l1 = matmul_l1_bytes(case)
            else:  # a shape with its widths first (pruned whatever the rules say, as a counted evaluation prunes it),
                # then legality without the L1 estimate (only legal candidates count towards `widths`, so the legal
                # set is the same), the estimate last
                if scored >= K_BLOCK_WIDTHS_SCORED:
                    self.narrower += 1
                    continue
                case = case_of(triple)
                if not is_legal(case, l1=False):
                    self.unjudged.append(triple)
                    continue
                l1 = matmul_l1_bytes(case)
                if budget is None:
                    budget = case.device.l1_budget
                if l1_used(case, l1) > budget:  # rule r20, with the estimate in hand
                    self.over_l1.add(triple)
                    continue
            widths[group] = scored + 1
            self.legal.append(_Scored(cfg, in0, out, l1, matmul_time_ns(case)))


NARROWER = "narrower_k_block_than_two_legal_ones"
# The config without its in0_block_w: the candidates that differ only in K-block width.
_block_shape = attrgetter(*(f.name for f in fields(MatmulConfig) if f.name != "in0_block_w"))


# Memos by the search's real inputs (frozen, hashable: the device by its serialised profile, so two profiles of
# one name never share an entry). _SEARCH_CACHE: whole answers; _ENUMERATED: the verdicts on the enumerated
# candidates of one problem, shared by calls that differ only in seeds or in the rank's move term (`home`), and
# counted verdicts also by calls that need no counts.
_SEARCH_CACHE: dict[tuple, tuple] = {}
_ENUMERATED: OrderedDict[tuple, _Evaluated] = OrderedDict()
MAX_ENUMERATED = 512  # problems kept (a 70B build has ~70): a process building many packages stays bounded
_DEVICE_KEYS: dict[int, tuple[DeviceProfile, str]] = {}


def _device_key(device: DeviceProfile) -> str:
    """Profiles are frozen; serialise each object once (the object is kept so its id stays unique)."""
    hit = _DEVICE_KEYS.get(id(device))
    if hit is None or hit[0] is not device:
        hit = _DEVICE_KEYS[id(device)] = (device, device.model_dump_json())
    return hit[1]


def search(
    device: DeviceProfile,
    shape: MatmulShape,
    kernel: ComputeKernelConfig,
    dtypes: tuple[str, str, str],
    in1: MemoryPlacement,
    decode: bool,
    seeds: tuple[Triple, ...] = (),
    reserve: L1Reserve = L1Reserve(),
    placed: tuple[MemoryPlacement | None, MemoryPlacement | None] = (None, None),
    home: Home | None = None,
    counted: bool = True,
) -> tuple[Candidate, tuple[Candidate, ...], tuple[tuple[str, int], ...]]:
    """Best candidate, best rejected-by-cost alternatives, and how many each rule pruned (`counted=False`: not
    counted, () — a caller that only weighs the best, such as the memory pass's modeled cost, gets the same
    candidates faster).

    `seeds` are (config, in0, out) triples always considered, e.g. the baselines' own configs, so the
    search is never modeled slower than a legal baseline. `placed` (in0, out): placements pinned by an override
    replace every candidate's own. `home`: the moves a candidate's placements would cost its neighbours (decode),
    added to its rank. Memoised by all of these: a build judges each distinct problem's candidates once (the
    verdicts on the enumerated candidates are shared by calls with other seeds or another home).
    """
    inputs = (device, shape, kernel, dtypes, in1, decode, seeds, reserve, placed, home, counted)
    key = (_device_key(device), *inputs[1:])
    if key not in _SEARCH_CACHE:
        _SEARCH_CACHE[key] = _search(*inputs)
    return _SEARCH_CACHE[key]


def _search(device, shape, kernel, dtypes, in1, decode, seeds, reserve, placed, home, counted):
    def case_of(triple: Triple) -> MatmulCase:
        cfg, in0, out = triple
        return MatmulCase(
            device, shape, cfg, kernel, in0, in1, out, *dtypes, False, reserve.bytes, reserve.sibling_output,
            reserve.bias_dtype,
        )

    if placed != (None, None):  # pinned placements: every candidate (seeds too) takes them; rare, not shared
        candidates = enumerate_candidates(device, shape, kernel, in1, decode) + list(seeds)
        evaluated = _Evaluated(counted)
        evaluated.add([(cfg, placed[0] or a, placed[1] or o) for cfg, a, o in candidates], case_of)
    else:
        problem = (_device_key(device), shape, kernel, dtypes, in1, decode, reserve)
        evaluated = _ENUMERATED.get((*problem, True)) or _ENUMERATED.get((*problem, counted))
        if evaluated is None:
            known = _ENUMERATED.get((*problem, False)) if counted else None
            if known is not None and not legal_only_filters(device, in1):  # the uncounted saw the same candidates
                evaluated = known.counted_copy(case_of)
            else:
                evaluated = _Evaluated(counted)
                candidates = enumerate_candidates(device, shape, kernel, in1, decode, legal_only=not counted)
                evaluated.add(candidates, case_of, known)
            _ENUMERATED[(*problem, counted)] = evaluated
            while len(_ENUMERATED) > MAX_ENUMERATED:
                _ENUMERATED.popitem(last=False)
        if any(seed not in evaluated.seen for seed in seeds):
            evaluated = evaluated.copy()
            evaluated.add(seeds, case_of)
    pruned = tuple(sorted(evaluated.pruned.items())) if counted else ()
    if not evaluated.legal:
        return None, (), pruned
    legal = [
        Candidate(
            c.config,
            c.cost.total_ns,
            c.cost.binding,
            extra={
                "in0": c.in0,
                "out": c.out,
                "l1": c.l1,
                "cost": c.cost,
                "move_ns": home.move_ns(c.in0, c.out) if home else 0.0,
            },
        )
        for c in evaluated.legal
    ]
    first = _first_ranked(legal, 1 + KEEP_REJECTED)
    return first[0], tuple(first[1:]), pruned


def _first_ranked(legal: list[Candidate], count: int) -> list[Candidate]:
    """The first `count` of `legal` sorted by _rank, with the text key (the last, costly term) computed only where
    the terms before it tie at the cut."""
    legal.sort(key=_rank_head)
    if len(legal) > count:
        cut = _rank_head(legal[count - 1])
        end = count
        while end < len(legal) and _rank_head(legal[end]) == cut:
            end += 1
        legal = legal[:end]
    legal.sort(key=_rank)
    return legal[:count]


def input_heads(graph: Graph, op: Op) -> int | None:
    """The heads of the op that writes `op`'s input, when it states them (an attention output's concat_heads)."""
    name = (op.dataflow.get("producers") or {}).get("input")
    producer = next((o for o in graph.ops if o.mode_key == op.mode_key and o.name == name), None)
    return producer.facts.get("num_heads") if producer is not None else None


def baseline_seeds(
    graph: Graph, op: Op, shape: MatmulShape
) -> tuple[tuple[MatmulConfig, MemoryPlacement, MemoryPlacement], ...]:
    """The configs tt_transformers and ttnn's auto-config would use (also with `core_grid=` the whole grid, as model
    code often calls ttnn.linear), placed as tttgen places operands."""
    device, dt = graph.device, op.decisions["dtypes"]
    decode = op.mode == "decode"
    seeds = []
    ttt, ttt_in0 = baseline_config(
        graph.weight(op.weight).role, op.mode, shape, input_heads(graph, op), device, op.decisions["kernel"].fp32_dest_acc_en
    )
    # ttnn derives its subblocks from the call's compute config (fp32 accumulation halves DST): seed with ours
    fp32 = op.decisions["kernel"].fp32_dest_acc_en
    kw = dict(in0_dtype=dt["in0"], in1_dtype=dt["in1"], out_dtype=dt["out"], fp32_dest_acc_en=fp32)
    auto = ttnn_auto_config(device, shape, **kw)
    whole = (device.grid.x, device.grid.y)
    auto_grid = ttnn_auto_config(device, shape, core_grid=whole, **kw)
    for cfg, in0 in ((ttt, ttt_in0), (auto, None), (auto_grid, None)):
        if cfg.type not in (MATMUL_2D, MATMUL_1D, MATMUL_DRAM_SHARDED):
            continue
        if decode:
            if in0 is None:
                continue  # decode activations are width-sharded; a seed needs its shard grid
            grid_x = cfg.grid[0] if cfg.type == MATMUL_1D else device.grid.x
            out = (
                width_sharded_out(shape.nt, cfg.per_core_N, grid_x)
                if shape.nt % cfg.per_core_N == 0
                else DRAM_INTERLEAVED
            )
            seeds.append((cfg, in0, out))
        else:
            seeds.append((cfg, DRAM_INTERLEAVED, DRAM_INTERLEAVED))
    return tuple(seeds)


MIN_PREFILL_ROWS = 128


def search_halving_rows(
    device: DeviceProfile,
    shape: MatmulShape,
    kernel: ComputeKernelConfig,
    dtypes: tuple[str, str, str],
    in1: MemoryPlacement,
    decode: bool,
    seeds_for=lambda shape: (),
    reserve: L1Reserve = L1Reserve(),
    placed: tuple[MemoryPlacement | None, MemoryPlacement | None] = (None, None),
    home: Home | None = None,
):
    """`search`, and in prefill, while nothing is legal, halve the rows per call (more calls, same
    result) down to 128 rows. Returns (shape per call, best, rejected, pruned)."""
    best, rejected, pruned = search(device, shape, kernel, dtypes, in1, decode, seeds_for(shape), reserve, placed, home)
    while best is None and not decode and shape.m > MIN_PREFILL_ROWS:
        shape = MatmulShape(m=shape.m // 2, k=shape.k, n=shape.n, batch=shape.batch * 2)
        best, rejected, pruned = search(device, shape, kernel, dtypes, in1, decode, seeds_for(shape), reserve, placed)
    return shape, best, rejected, pruned


def _pinned_placements(graph: Graph, op: Op) -> tuple[MemoryPlacement | None, MemoryPlacement | None]:
    """(in0, out) an override pins for this matmul, else None per side."""
    ov = override_for(graph, op)
    pins = (ov.memory_config or {}) if ov else {}
    return tuple(pins[side].placement() if side in pins else None for side in ("in0", "out"))


def _decide_pinned(graph: Graph, op: Op, shape: MatmulShape, best: Candidate | None, placed, dtypes, reserve) -> tuple:
    """The pinned program config, judged by every rule. Placements not pinned are the ones tttgen would give
    it: prefill keeps the memory pass's; decode tries the search's in0 shard grid first, then every other
    width-sharded grid of K, and places the output as ttnn does for the config's family."""
    key, ov = override_entry(graph, op)
    cfg, device = ov.program_config.config(), graph.device
    decode = op.mode == "decode"
    if placed[0]:
        in0s = [placed[0]]
    elif decode:
        in0s = ([best.extra["in0"]] if best else []) + [
            width_sharded(32, shape.k, c, device) for c in divisors(shape.kt) if c <= device.grid.cores
        ]
    else:
        in0s = [op.decisions["in0"]]
    out = placed[1] if decode else op.decisions["out"]
    if out is None:
        grid_x = cfg.grid[0] if cfg.type == MATMUL_1D and cfg.grid else device.grid.x
        out = (
            width_sharded_out(shape.nt, cfg.per_core_N, grid_x) if shape.nt % cfg.per_core_N == 0 else DRAM_INTERLEAVED
        )
    first = None
    for in0 in dict.fromkeys(in0s):
        case = MatmulCase(
            device,
            shape,
            cfg,
            op.decisions["kernel"],
            in0,
            op.decisions["in1"],
            out,
            *dtypes,
            False,
            reserve.bytes,
            reserve.sibling_output,
            reserve.bias_dtype,
        )
        broken = matmul_violations(case)
        if not broken:
            time = matmul_time_ns(case)
            return (
                Candidate(
                    cfg,
                    time.total_ns,
                    time.binding,
                    extra={"in0": in0, "out": out, "l1": matmul_l1_bytes(case), "cost": time},
                ),
                key,
            )
        first = first or broken
    raise InputError(
        f"the pinned program config of {op.key} breaks ttnn 0.81.1's rules: {'; '.join(first)}",
        where=pin_where(graph, key, "program_config"),
        hint=f"M={shape.m} K={shape.k} N={shape.n} per call; `tttgen explain --op {op.key}` shows the configs the search finds legal",
    )


def _decide(graph: Graph, op: Op) -> Op:
    device = graph.device
    dt = op.decisions["dtypes"]
    dtypes = (dt["in0"], dt["in1"], dt["out"])
    placed = _pinned_placements(graph, op)
    ov = override_for(graph, op)
    chunks = graph.weight(op.weight).decisions.get("column_chunks") if op.weight else None
    full = op.decisions["shape"]
    searched_shape = full if chunks is None else replace(full, n=chunks.width)  # a column-chunked weight: one chunk
    moved_in = chunks is not None and reads_one_tile_from_dram(op, searched_shape)
    shape, best, rejected, pruned = search_halving_rows(
        device,
        searched_shape,
        op.decisions["kernel"],
        dtypes,
        op.decisions["in1"],
        op.mode == "decode" or moved_in,
        lambda s: baseline_seeds(graph, op, s),
        l1_reserve(graph, op),
        placed,
        decode_home(graph, op, op.decisions["shape"]),
    )
    pinned_by = None
    if ov is not None and ov.program_config is not None:
        shape = shape if best is not None else op.decisions["shape"]
        searched = best
        best, pinned_by = _decide_pinned(graph, op, shape, best, placed, dtypes, l1_reserve(graph, op))
        # What the search would have chosen stays visible in explain, next to the pin.
        rejected = tuple(c for c in ((searched,) if searched else ()) + rejected if c.config != best.config)[
            :KEEP_REJECTED
        ]
    if best is None:
        raise DoesNotFit(
            f"no legal matmul program config for {op.key} (M={shape.m}, K={shape.k}, N={shape.n}) on "
            f"{device.name}; rules that pruned candidates: {dict(pruned)}",
        )
    cores = best.extra["cost"].active_cores
    program = best.config
    time_ns = best.time_ns
    if chunks is not None:  # every chunk runs this config; then the outputs are joined (memory.chunk_joins_ns)
        time_ns = chunks.count * best.time_ns + chunk_joins_ns(graph, shape.m * shape.batch, full.n, chunks, best.extra["out"])
        if moved_in:  # the input leaves DRAM once, for every chunk
            time_ns += input_move_ns(graph, shape)
    if pinned_by is not None:
        op = mark_pinned(graph, op, pinned_by, "program_config")
    elif op.facts.get("activation"):
        # A linear's activation runs on the DST value before packing: one kernel, no separate unary op.
        program = replace(program, fused_activation=op.facts["activation"].upper())
    return op.decide(
        shape=shape,
        program=program,
        in0=best.extra["in0"],
        out=best.extra["out"],
        l1_bytes=best.extra["l1"],
        cores=cores,
        time_ns=time_ns,
        column_chunks=chunks.count if chunks is not None else 1,
        in0_moved=moved_in,
        binding=best.note,
        cost=best.extra["cost"],
        rejected=tuple(replace(c, extra={}) for c in rejected),
        pruned=dict(pruned),
    )


@make_pass("matmul_program", requires=("memory", "chunking", "precision"), produces=("matmul_program",))
def matmul_program(graph: Graph) -> Graph:
    """Search legal program configs per matmul and keep the fastest under the cost model."""
    return graph.map_ops(lambda op: _decide(graph, op), kinds=("linear",))
