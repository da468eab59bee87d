"""Pass `memory`: where every weight and activation lives (DRAM/L1, interleaved/sharded).

Inputs: device grid and DRAM banks, per-op overrides (memory, sharding). Produces: `memory`
(weight decision `placement`; op decisions `in0`/`out` for ops whose placement does not depend on a
matmul program config; graph facts `residual`, `decode_users` and `weight_placements`: the placements weighed
per weight, for `explain`).
Policy (tt_transformers 2.3, llms.md 4.3.1): prefill ops read and write DRAM interleaved; decode
activations are width-sharded in L1. Each matmul weight is width-sharded over the DRAM banks or
interleaved, whichever the per-token objective (tttgen.objective) models faster over every op that
reads it; a weight too wide to DRAM-shard whole may be stored as column chunks (weight decision
`column_chunks`), each DRAM-sharded, when that models faster; overrides win.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tttgen.errors import InputError
from tttgen.ir.configs import DRAM_INTERLEAVED, L1_INTERLEAVED, Candidate, MemoryPlacement
from tttgen.ir.graph import Graph, Op
from tttgen.objective import token_weight
from tttgen.passes.base import make_pass
from tttgen.passes.column_chunks import (
    ColumnChunks,
    chunk_joins_ns,
    chunk_width,
    input_move_ns,
    reads_one_tile_from_dram,
)
from tttgen.passes.matmul_program import baseline_seeds, l1_reserve, residual_width, search
from tttgen.passes.precision import mark_pinned, override_entry, override_for
from tttgen.passes.reshard import matmul_operand
from tttgen.rules.l1 import sharded_bytes_per_core
from tttgen.rules.placement import dram_sharded_weight, height_sharded, width_sharded
from tttgen.inputs.device import DeviceProfile
from tttgen.tiling import ceil_div, divisors

RESIDUAL_TARGET_CORES = 32  # tt_transformers find_grid aims at ~32 cores for decode activations


def residual_cores(dim: int, device: DeviceProfile) -> int:
    """Divisor of the width in tiles closest to ~32 cores (ties: more cores)."""
    options = [c for c in divisors(dim // 32) if c <= device.grid.cores]
    if not options:  # a width under one tile (a module whose first input is pixels): no decode residual to place
        return 1
    return min(options, key=lambda c: (abs(c - RESIDUAL_TARGET_CORES), -c))


def _weight_placement(graph: Graph, name: str) -> tuple[MemoryPlacement, ColumnChunks | None]:
    w = graph.weight(name)
    device = graph.device
    pinned = {ov.memory_config["in1"].placement() for op in graph.ops if op.weight == name
              and (ov := override_for(graph, op)) and ov.memory_config and "in1" in ov.memory_config}
    if len(pinned) > 1:
        raise InputError(
            f"overrides pin {len(pinned)} different memory configs for weight '{name}' (one tensor, one placement)",
            where=f"{graph.hints.source}: overrides", hint="give memory_config.in1 once, under the bare op name",
        )
    if pinned:
        return pinned.pop(), None
    wanted = None
    for op in graph.ops:
        ov = override_for(graph, op)
        if op.weight == name and ov and (ov.memory or ov.sharding):
            wanted = ov
    if wanted is not None:
        if wanted.memory == "L1":
            raise InputError(
                f"override for '{name}': weights stay in DRAM (memory 'L1' is allowed for activations only)",
                where="hints.overrides", hint="allowed for weights: DRAM",
            )
        if wanted.sharding == "interleaved":
            return DRAM_INTERLEAVED, None
        if wanted.sharding == "dram_sharded":
            return dram_sharded_weight(w.k, w.n, device), None
        if wanted.sharding == "column_chunks":
            options = chunk_options(graph, name)
            if not options:
                raise InputError(
                    f"override for '{name}': no column chunking of [{w.k}, {w.n}] into 2..{MAX_COLUMN_CHUNKS} "
                    "DRAM-sharded chunks has a legal config for every matmul reading it",
                    where="hints.overrides", hint="allowed: interleaved, dram_sharded, column_chunks",
                )
            return min(options, key=lambda o: (o[0], o[2].count))[1:]  # cheapest; ties: fewer chunks
        if wanted.sharding is not None:
            raise InputError(
                f"override for '{name}': sharding '{wanted.sharding}' is not allowed for a weight",
                where="hints.overrides", hint="allowed: interleaved, dram_sharded, column_chunks",
            )
    if not any(op.weight == name and op.kind == "linear" for op in graph.ops):
        return DRAM_INTERLEAVED, None  # the sharded/interleaved choice is scored over the matmuls reading the weight
    options = [(dram_sharded_weight(w.k, w.n, device), None), (DRAM_INTERLEAVED, None)]
    scored = [(modeled_cost(graph, name, p, chunks), i) for i, (p, chunks) in enumerate(options)]
    if scored[0][0] is None and any(op.weight == name and op.mode == "decode" for op in graph.ops):
        # Too wide to DRAM-shard whole (no config fits L1): column chunks, each its own DRAM-sharded tensor and
        # matmul, the outputs concatenated (tt_transformers' LM head).
        for cost, placement, chunks in chunk_options(graph, name):
            options.append((placement, chunks))
            scored.append((cost, len(options) - 1))
    feasible = [(cost, i) for cost, i in scored if cost is not None]
    if not feasible:
        return DRAM_INTERLEAVED, None  # the matmul pass reports the op that cannot be configured
    return options[min(feasible)[1]]


MAX_COLUMN_CHUNKS = 16


def chunk_options(graph: Graph, name: str) -> list[tuple[float, MemoryPlacement, ColumnChunks]]:
    """(modeled cost, chunk placement, chunks) for every chunk count whose chunks every reader can run."""
    w, device = graph.weight(name), graph.device
    readers = [op for op in graph.ops if op.weight == name and op.kind == "linear"]
    if any(graph.bias_dtype(op) for op in readers) or any(op.decisions["shape"].batch > 1 for op in readers):
        return []  # the chunked call takes no bias, nor row chunks
    out = []
    for count in range(2, MAX_COLUMN_CHUNKS + 1):
        chunks = ColumnChunks(count, chunk_width(w.n, count, device))
        placement = dram_sharded_weight(w.k, chunks.width, device)
        cost = modeled_cost(graph, name, placement, chunks)
        if cost is not None:
            out.append((cost, placement, chunks))
    return out


def modeled_cost(
    graph: Graph, name: str, placement: MemoryPlacement, chunks: ColumnChunks | None = None
) -> float | None:
    """Objective over every matmul reading this weight with that placement (None: some op cannot run).

    Per-token weighting (tttgen.objective): with optimize=latency a decode step counts in full; with
    throughput it is shared by the batch; a prefill op counts per prompt token.
    """
    readers = reader_costs(graph, name, placement, chunks)
    if readers is None:
        return None
    total = 0.0
    for op, _, t in readers:
        total += t * token_weight(graph, op)
    return total


@dataclass(frozen=True)
class PlacementOption:
    """One placement the memory pass weighed for a weight: its objective (None: some reader cannot run) and, per
    reader, the fastest config found and its modeled time (a column-chunked reader's time covers every chunk and
    the joins)."""

    label: str
    placement: MemoryPlacement
    chunks: ColumnChunks | None
    objective_ns: float | None
    readers: tuple[tuple[Op, Candidate, float], ...]


def placement_options(graph: Graph, name: str) -> list[PlacementOption]:
    """The placements `_weight_placement` weighs for this weight without an override, in its order, each with its
    objective and per-reader bests (graph fact `weight_placements`, which `explain` shows: why the weight sits where
    it does). Asked on the graph the memory pass places, so the searches are its own (memo hits)."""
    w = graph.weight(name)
    if not any(op.weight == name and op.kind == "linear" for op in graph.ops):
        return []
    options = [("DRAM width-sharded", dram_sharded_weight(w.k, w.n, graph.device), None),
               ("DRAM interleaved", DRAM_INTERLEAVED, None)]
    if reader_costs(graph, name, options[0][1]) is None and any(
        op.weight == name and op.mode == "decode" for op in graph.ops
    ):
        for _, placement, chunks in chunk_options(graph, name):
            options.append((f"{chunks.count} DRAM-sharded column chunks", placement, chunks))
    out = []
    for label, placement, chunks in options:
        readers = reader_costs(graph, name, placement, chunks)
        objective = None if readers is None else sum(t * token_weight(graph, op) for op, _, t in readers)
        out.append(PlacementOption(label, placement, chunks, objective, tuple(readers or ())))
    return out


def reader_costs(
    graph: Graph, name: str, placement: MemoryPlacement, chunks: ColumnChunks | None = None
) -> list[tuple[Op, Candidate, float]] | None:
    """(op, fastest config, modeled time) for every matmul reading this weight with that placement (None: some op
    cannot run). A chunked reader's time is every chunk's plus the joins (and the input's move out of DRAM)."""
    out = []
    for op in graph.ops:
        if op.weight != name or op.kind != "linear":
            continue
        d = op.decisions
        shape = d["shape"] if chunks is None else replace(d["shape"], n=chunks.width)
        dtypes = (d["dtypes"]["in0"], d["dtypes"]["in1"], d["dtypes"]["out"])
        seeds = baseline_seeds(graph, op, shape)
        decode_style = chunks is not None and reads_one_tile_from_dram(op, shape)
        best, _, _ = search(
            graph.device, shape, d["kernel"], dtypes, placement, op.mode == "decode" or decode_style, seeds,
            l1_reserve(graph, op), counted=False,  # only the best is weighed
        )
        if best is None:
            return None
        t = best.time_ns
        if chunks is not None:
            t = chunks.count * t + chunk_joins_ns(graph, shape.m * shape.batch, d["shape"].n, chunks, best.extra["out"])
            if decode_style:
                t += input_move_ns(graph, shape)
        out.append((op, best, t))
    return out


def _reads_heads(graph: Graph, op: Op) -> bool:
    """Whether `op` reads the heads create_heads split (one user per core, height-sharded), not the residual."""
    name = op.dataflow.get("producers", {}).get("input")
    return any(o.name == name and o.mode_key == op.mode_key and o.kind == "create_heads" for o in graph.ops)


def heads_op(graph: Graph) -> Op | None:
    """The first decode op that splits heads (create_heads), else the first op stating a head width."""
    return next((op for op in graph.ops if op.kind == "create_heads" and op.mode == "decode"), None) or next(
        (op for op in graph.ops if "head_dim" in op.facts), None)


@make_pass("memory", requires=("precision", "chunking"), produces=("memory",))
def memory(graph: Graph) -> Graph:
    """Place weights and the activations whose placement is fixed by op contracts."""
    device = graph.device
    rows = graph.facts["decode_rows"]
    users = rows  # decode runs one user per padded row: 32 user slots
    hidden = residual_width(graph)
    residual = width_sharded(rows, hidden, residual_cores(hidden, device), device)
    # the heads' width as the graph computes them (a description may pad each head: Phi-3's 96 -> 128)
    first_heads = heads_op(graph)
    width = first_heads.facts["head_dim"] if first_heads is not None else hidden
    heads_q = height_sharded(32, width, users, device)
    tile = device.tile_bytes["bfloat16"]
    rope_tables = 2 * sharded_bytes_per_core(heads_q, tile) + tile  # cos, sin, and one trans_mat tile per core
    graph = graph.with_facts(
        residual=residual,
        decode_users=users,
        heads_placement=heads_q,
        decode_l1_reserve=sharded_bytes_per_core(residual, tile) + rope_tables,
    )
    weights, weighed = [], {}
    for w in graph.weights:
        placement, chunks = (
            _weight_placement(graph, w.name) if w.role not in ("EMBEDDING", "NORM") else (DRAM_INTERLEAVED, None)
        )
        weights.append(w.decide(placement=placement, column_chunks=chunks))
        if w.role not in ("EMBEDDING", "NORM"):
            weighed[w.name] = tuple(placement_options(graph, w.name))  # the searches are memo hits by now
    # what `explain` shows of the choice (graph.json leaves it out: the placements are printed per op already)
    graph = graph.with_weights(weights).with_facts(weight_placements=weighed)

    def concat_in(op: Op) -> MemoryPlacement:
        """concat_heads' input: its own heads (per chip on a mesh), padded to a tile of rows, one user per core."""
        return height_sharded(ceil_div(op.facts["num_heads"], 32) * 32, op.facts["head_dim"], users, device)

    def decide(op: Op) -> Op:
        op = _decide_fixed(op)
        entry = override_entry(graph, op)
        if entry and entry[1].memory_config and op.kind == "linear":
            key, ov = entry
            for side, pin in sorted(ov.memory_config.items()):
                if op.mode == "prefill" and side != "in1":  # decode in0/out are placed by matmul_program
                    op = op.decide(**{side: pin.placement()})
                op = mark_pinned(graph, op, key, f"memory_config.{side}")
        return op

    def _decide_fixed(op: Op) -> Op:
        if op.mode == "prefill":
            out = DRAM_INTERLEAVED
            in1 = graph.weight(op.weight).decisions["placement"] if op.weight else None
            return op.decide(in0=DRAM_INTERLEAVED, out=out, in1=in1)
        # Placements fixed by op contracts, by kind. Reshards get theirs from producer and consumer (pass
        # reshard), and so does an elementwise op that reads matmul outputs directly (it computes in their
        # placement); other elementwise ops and norms work on the residual stream.
        fixed = {
            "embedding": (None, L1_INTERLEAVED),
            "reshape": (L1_INTERLEAVED, L1_INTERLEAVED),  # ttnn.reshape keeps its input's (gathered rows) placement
            "rms_norm": (residual, residual),
            "binary": (residual, residual),
            "create_heads": (L1_INTERLEAVED, heads_q),
            "rotary": (heads_q, heads_q),
            "cache_update": (heads_q, DRAM_INTERLEAVED),
            "sdpa_decode": (heads_q, DRAM_INTERLEAVED),
            "sdpa_explicit_decode": (DRAM_INTERLEAVED, DRAM_INTERLEAVED),  # q regrouped by ttnn.reshape (interleaved)
            "concat_heads": (concat_in(op) if op.kind == "concat_heads" else None, MemoryPlacement("L1", "WIDTH_SHARDED", infer_shard=True)),
        }
        if op.kind in fixed and not (op.kind == "binary" and matmul_operand(graph.ops, op) is not None):
            in0, out = fixed[op.kind]
            if device.chips > 1 and in0 is residual and op.facts.get("dim", hidden) != hidden:
                # a residual-stream op on a mesh whose residual is split by width: its own width per chip
                in0 = out = width_sharded(rows, op.facts["dim"], residual_cores(op.facts["dim"], device), device)
            if op.kind == "rms_norm" and _reads_heads(graph, op):
                # a per-head norm (Qwen3's q/k norm): ttnn's norms take no height-sharded heads, so the heads are
                # moved to L1 interleaved for it and back for the rotary embedding (builder/moves.py)
                in0, out = L1_INTERLEAVED, L1_INTERLEAVED
            return op.decide(in0=in0, out=out)
        if op.kind == "linear":
            return op.decide(in1=graph.weight(op.weight).decisions["placement"])
        return op

    return graph.with_ops(decide(op) for op in graph.ops)
