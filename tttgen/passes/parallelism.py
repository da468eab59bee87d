"""Pass `parallelism`: how every op's tensors are placed on a multi-chip mesh, and the collectives between them.

Inputs: the device's mesh (shape, topology and links per axis), the op kinds' splits (`OpKind.mesh_splits`), hints
overrides `split=` and the collective cost model. Produces (no annotation, so one-chip graphs are untouched): graph fact `mesh`: the strategy, per mesh
axis the chips, the collectives per layer and the modeled step of the chosen layout and of tt_transformers' layout
priced the same way; per op the decision `mesh` {split per axis, input/output states}; per weight the decision
`mesh` {state per axis}). On one chip the graph is returned unchanged.

Along each mesh axis a tensor is replicated ("R"), split along one of its dims ("S<d>") or partial sums ("P").
Each op kind lists the splits it admits; for every op, in order, the pass takes the split whose own time on the
per-chip shapes plus the collectives its inputs need (all_gather from a split, all_reduce or reduce_scatter from
partial sums) is least: Megatron's column/row pairs fall out of that (a column-split linear leaves its output
split by width, the next linear reads it row-split and leaves partial sums). Weight placements are one per weight
across modes: decode decides them, prefill follows. The ops before the decoder layers (the embedding) are tried
every way they split and the whole layout priced each time, so the residual stream is replicated or width-fractured
as the cost model prefers, and the state carried from one layer into the next is the same. Chosen ops are
re-inferred by their kind on per-chip shapes (`infer`), so the per-op passes choose and check program configs per
chip. A split the best layout needs but the model's dims refuse (heads or KV heads not divisible by the chips on an
axis, a width not whole tiles per chip) stops the build with one error naming the dimension.

Module packages whose tensor-parallel layout is slower per input than running independent inputs on every chip
are built data parallel: weights replicated, the graph unchanged, one input per chip (TT-Boltz's way); graph fact
`mesh.designs` records how the designs are split over the chips (design_placement).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import product
from math import prod
from typing import Any

from tttgen.baselines.tt_transformers import mesh_layout as tt_transformers_mesh_layout
from tttgen.cost.ccl import collective_on_mesh_ns
from tttgen.errors import InputError, UnsupportedTarget
from tttgen.ir.configs import MatmulShape
from tttgen.ir.graph import Graph, Op, Weight, frozen
from tttgen.ops.kinds import KINDS, kind_of
from tttgen.ops.kinds.base import PARTIAL, REPLICATED, MeshSplit, ShapeError, split_dim
from tttgen.passes.base import make_pass
from tttgen.tiling import TILE

BYTES_BF16 = 2
WEIGHT_BYTES_PER_ELEMENT = 1088 / 1024  # bfloat8_b: the pass compares layouts before precision picks dtypes
SPLIT_CHOICES = ("replicate", "column", "row")
CONVERSIONS = {  # (from, to) -> collective; a split to another split or replicated to split has none
    (PARTIAL, REPLICATED): "all_reduce",
}


ONE_CHIP = MeshSplit("replicate")  # the split along a mesh axis of one chip


class Refused(Exception):
    """A split the layout needs that the model's dims do not allow (the dimension named)."""


@dataclass
class Layout:
    """One priced layout: per mode the chosen split per op and the states of every value."""

    splits: dict[str, dict[str, tuple[MeshSplit, ...]]] = field(default_factory=dict)  # mode -> op -> per axis
    states: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # mode -> value (op name) -> states
    inputs: dict[str, dict[str, dict[str, tuple[str, ...]]]] = field(default_factory=dict)  # mode -> op -> port
    weights: dict[str, tuple[str, ...]] = field(default_factory=dict)  # weight -> state per axis
    free_inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # state tensors (KV cache) -> states
    time_ns: dict[str, float] = field(default_factory=dict)  # mode -> modeled step
    ccl_ns: dict[str, float] = field(default_factory=dict)  # mode -> of which collectives
    collectives: dict[str, list[tuple[str, str, str, int]]] = field(default_factory=dict)  # mode -> (op, port, ccl, axis)
    residual: tuple[str, ...] | None = None  # the state of the value carried from layer to layer
    reads: dict[str, dict[tuple[str, str], list[str]]] = field(default_factory=dict)  # mode -> (op, port) -> ccl ops


# ---------------------------------------------------------------- states and shapes


def local_shape(shape: tuple[int, ...], states: tuple[str, ...], chips: tuple[int, ...]) -> tuple[int, ...]:
    out = list(shape)
    for state, n in zip(states, chips):
        d = split_dim(state)
        if d is not None and n > 1:
            out[d] //= n
    return tuple(out)


def split_problem(what: str, shape: tuple[int, ...], state: str, n: int, axis: int) -> str | None:
    """Why `shape` cannot be split as `state` over n chips (None: it can)."""
    d = split_dim(state)
    if d is None or n == 1:
        return None
    if -d > len(shape):
        return f"{what} {list(shape)} has no dim {d}"
    size = shape[d]
    if size % n:
        return f"{what} dim {d} ({size}) does not divide over the {n} chips of mesh axis {axis}"
    if d >= -2 and len(shape) >= 2 and (size // n) % TILE:
        return f"{what} dim {d} ({size}) is {size // n} per chip over the {n} chips of mesh axis {axis}, not whole {TILE}-wide tiles"
    return None


def conversion(src: str, dst: str) -> tuple[str, int | None] | None:
    """The collective turning `src` into `dst` along one axis: (name, dim), ("", None) for none needed, None when
    no collective does it (a replicated value is not split on device here)."""
    if src == dst:
        return "", None
    if src == PARTIAL and dst == REPLICATED:
        return "all_reduce", None
    if src == PARTIAL and split_dim(dst) is not None:
        return "reduce_scatter", split_dim(dst)
    if split_dim(src) is not None and dst == REPLICATED:
        return "all_gather", split_dim(src)
    return None


# ---------------------------------------------------------------- the quick cost the pass compares layouts by


def op_estimate_ns(graph: Graph, op: Op, ins: dict[str, tuple[int, ...]], outs: list[tuple[int, ...]],
                   weight_shape: tuple[int, ...] | None, matmul: tuple[int, int, int] | None) -> float:
    """A roofline on per-chip shapes: weight bytes at DRAM-sharded speed, activations at interleaved speed,
    matrix-engine FLOPs at HiFi2, plus the traced op gap. The per-op passes price the chosen layout in full later;
    this only ranks layouts, which share dtypes and kernels."""
    dev = graph.device
    if not kind_of(op).device_op:
        return 0.0
    w_bytes = prod(weight_shape) * WEIGHT_BYTES_PER_ELEMENT if weight_shape and matmul else 0.0
    act = sum(prod(s) for p, s in ins.items() if isinstance(s, tuple) and p not in ("weight", "cache", "k_cache", "v_cache"))
    act_bytes = (act + sum(prod(s) for s in outs)) * BYTES_BF16
    flops = 2 * prod(matmul) if matmul else 0
    t = max(
        w_bytes / dev.dram.sharded_gbps,
        act_bytes / dev.dram.interleaved_gbps,
        flops / dev.peak_flops("HiFi2") * 1e9,
    )
    return t + dev.op_gap.traced_ns


def ccl_estimate_ns(graph: Graph, name: str, axis: int, size_bytes: float) -> float:
    return collective_on_mesh_ns(graph.device, name, axis, size_bytes) + graph.device.op_gap.traced_ns


def runs(graph: Graph, op: Op) -> int:
    return op.runs


# ---------------------------------------------------------------- one layout


class Planner:
    def __init__(self, graph: Graph, pins: dict[str, tuple[str, ...]], seed: dict, split_weights: bool = False):
        self.graph = graph
        self.split_weights = split_weights  # a matmul weight is never replicated on an axis it could split on
        self.chips = tuple(graph.device.mesh_shape)
        self.axes = tuple(a for a, n in enumerate(self.chips) if n > 1)
        self.pins = pins  # op name -> split name per axis (overrides, or a baseline's layout)
        self.seed = seed  # "kind:name" of an embed-scope op -> index of its split choice per mesh axis
        self.layout = Layout()
        # mode -> (value, axis, collective) -> the collective op made for its first reader
        self.done: dict[str, dict[tuple[str, int, str], str]] = {}

    # -- a candidate's per-chip shapes, or why it cannot run
    def candidate(self, op: Op, per_axis: tuple[MeshSplit, ...]):
        flow = op.dataflow
        shapes_in = flow["shapes"]["in"]
        weight_ports = {p for p, ref in flow["in"].items() if isinstance(ref, dict)}
        ins, problems = {}, []
        for port, shape in shapes_in.items():
            if not isinstance(shape, tuple):
                ins[port] = shape
                continue
            if port in weight_ports:
                states = tuple(s.weight if port == "weight" or s.weight == REPLICATED else s.weight for s in per_axis)
            else:
                states = tuple(s.input_state(port) for s in per_axis)
            states = tuple(REPLICATED if st == PARTIAL else st for st in states)
            # an index or scalar input too small to hold the split dim (a slice start, positions) is replicated
            states = tuple(REPLICATED if split_dim(st) is not None and -split_dim(st) > len(shape) else st for st in states)
            if len({split_dim(s) for s in states if split_dim(s) is not None}) < len([s for s in states if split_dim(s) is not None]):
                return None, []  # one dim split by both axes: not a placement ttnn's 2D mappers make
            for axis, st in zip(self.full_axes(), states):
                found = split_problem(f"{op.name}.{port}", shape, st, self.chips[axis], axis)
                if found:
                    problems.append(found)
            ins[port] = local_shape(shape, states, self.chips)
        attrs = dict(flow.get("attrs") or {})
        for axis, s in zip(self.full_axes(), per_axis):
            n = self.chips[axis]
            for name, what in s.needs:
                if n > 1 and attrs.get(name, 0) % n:
                    problems.append(f"{what} ({name} = {attrs.get(name)}) do not divide over the {n} chips of mesh axis {axis}")
            if n > 1:
                for name in s.divides:
                    if name in attrs:
                        attrs[name] = attrs[name] // n
                d = split_dim(s.output) if s.output else None
                for name in s.divides_full:
                    if name in attrs and d is not None:
                        full = list(attrs[name])
                        full[d] = full[d] // n
                        attrs[name] = full
        if problems:
            return None, problems
        if kind_of(op).mesh_problem(op, ins):
            return None, []  # not a refusal of the model: another split of the op runs
        try:
            info = kind_of(op).infer(ins, attrs)
        except ShapeError as err:
            return None, [f"{op.name}: {err}"]
        return (ins, attrs, info), []

    def internal(self, combo: tuple[MeshSplit, ...], outputs) -> list[tuple[str, int, int]]:
        """(collective, axis, bytes) the chosen splits run inside the op."""
        rows = prod(outputs[0][:-1]) if outputs else 0
        along = self.graph.device.mesh.axes
        return [
            (name, axis, rows * width * self.chips[axis] * BYTES_BF16, along[axis].topology, along[axis].links)
            for axis, s in enumerate(combo)
            if self.chips[axis] > 1
            for name, width in s.internal
        ]

    def full_axes(self) -> tuple[int, ...]:
        return (0, 1)

    def splits_per_axis(self, op: Op) -> list[tuple[MeshSplit, ...]]:
        found = kind_of(op).mesh_splits(op)
        per_axis = []
        for axis, n in enumerate(self.chips):
            per_axis.append(found if n > 1 else (ONE_CHIP,))  # an axis of one chip holds everything
        return per_axis

    def allowed(self, op: Op, combo: tuple[MeshSplit, ...]) -> bool:
        pinned = self.pins.get(op.name)
        if pinned is not None:
            if any(self.chips[a] > 1 and combo[a].name != pinned[a] for a in range(2)):
                return False
        seeded = self.seed.get(f"{op.kind}:{op.name}")  # names repeat across modes (a reshape in one, ...)
        if seeded is not None:
            options = kind_of(op).mesh_splits(op)
            want = tuple(options[i].name for i in seeded)
            if any(self.chips[a] > 1 and combo[a].name != want[a] for a in range(2)):
                return False
        if self.split_weights and op.weight:
            others = kind_of(op).mesh_splits(op)
            if any(self.chips[a] > 1 and combo[a].weight == REPLICATED and any(s.weight != REPLICATED for s in others) for a in range(2)):
                return False
        if op.weight and op.weight in self.layout.weights:
            states = tuple(s.weight for s in combo)
            if states != self.layout.weights[op.weight]:
                return False
        return True

    def convert(self, mode: str, producer: str, src: tuple[str, ...], want: tuple[str, ...], shape: tuple[int, ...]):
        """(ns, [(collective, axis, dim, bytes)]) turning a value from `src` into `want`, axis by axis (None: no
        collective does it). A conversion an earlier reader of the same value already made is free: its readers
        share the collective's output."""
        cost, out, now = 0.0, [], list(src)
        for axis in range(2):
            if self.chips[axis] == 1:
                continue
            conv = conversion(now[axis], want[axis])
            if conv is None:
                return None
            name, dim = conv
            if name:
                held = tuple(REPLICATED if i == axis or now[i] == PARTIAL else now[i] for i in range(2))
                size = prod(local_shape(shape, held, self.chips)) * BYTES_BF16
                if (producer, axis, name) not in self.done.get(mode, {}):
                    cost += ccl_estimate_ns(self.graph, name, axis, size)
                    out.append((name, axis, dim, size))
            now[axis] = want[axis]
        return cost, out

    def lookahead(self, mode: str, op: Op, ops: list[Op], out: tuple[str, ...], outputs) -> float | None:
        """The least the op's readers pay to read its output in `out` (one step ahead, so a choice that only
        moves a collective to its reader is not mistaken for a saving); None when some reader cannot read it."""
        total = 0.0
        for reader in ops:
            if not reader.dataflow or reader is op:
                continue
            for port, producer in reader.dataflow.get("producers", {}).items():
                if producer != op.name:
                    continue
                shape = reader.dataflow["shapes"]["in"][port]
                costs = []
                for combo in product(*self.splits_per_axis(reader)):
                    if not self.allowed(reader, combo):
                        continue
                    found = self.convert(mode, op.name, out, self.port_states(combo, port, shape), shape)
                    if found is None:
                        continue
                    cost = found[0]
                    for other, src_name in reader.dataflow["producers"].items():  # its other inputs, decided ones
                        src = self.layout.states[mode].get(src_name)
                        if other == port or src is None:
                            continue
                        other_shape = reader.dataflow["shapes"]["in"][other]
                        more = self.convert(mode, src_name, src, self.port_states(combo, other, other_shape), other_shape)
                        if more is None:
                            break
                        cost += more[0]
                    else:
                        costs.append(cost)
                if not costs:
                    return None
                total += min(costs)
        return total

    @staticmethod
    def port_states(combo: tuple[MeshSplit, ...], port: str, shape: tuple[int, ...]) -> tuple[str, ...]:
        """The state each axis wants an activation port in (a split the port's rank cannot hold: replicated)."""
        states = tuple(s.input_state(port) for s in combo)
        return tuple(REPLICATED if split_dim(st) is not None and -split_dim(st) > len(shape) else st for st in states)

    def source_state(self, mode: str, op: Op, port: str) -> tuple[str, ...] | None:
        """The state a value arrives in (None: a mode input or state tensor, placed as its reader wants)."""
        producer = op.dataflow.get("producers", {}).get(port)
        if producer is None:
            return None
        return self.layout.states[mode].get(producer, (REPLICATED, REPLICATED))

    def plan_mode(self, mode: str, ops: list[Op]) -> None:
        g = self.graph
        self.layout.splits[mode], self.layout.states[mode], self.layout.inputs[mode] = {}, {}, {}
        self.layout.collectives[mode] = []
        total = ccl_total = 0.0
        for op in ops:
            if not op.dataflow:  # builder-made moves: they carry what their consumer reads
                continue
            best, best_t, refusals, cheapest_refused = None, None, [], None
            for combo in product(*self.splits_per_axis(op)):
                if not self.allowed(op, combo):
                    continue
                # input conversions
                cost, ccls, feasible = 0.0, [], True
                for port, shape in op.dataflow["shapes"]["in"].items():
                    if not isinstance(shape, tuple) or isinstance(op.dataflow["in"].get(port), dict):
                        continue
                    src = self.source_state(mode, op, port)
                    if src is None:
                        continue
                    producer = op.dataflow["producers"][port]
                    found = self.convert(mode, producer, src, self.port_states(combo, port, shape), shape)
                    if found is None:
                        feasible = False
                        break
                    cost += found[0]
                    ccls += [(port, *c) for c in found[1]]
                if not feasible:
                    continue
                made, problems = self.candidate(op, combo)
                if made is None:
                    if problems:
                        refusals.append((combo, problems))
                    continue
                ins, attrs, info = made
                weight_shape = ins.get("weight") if isinstance(ins.get("weight"), tuple) else None
                t = op_estimate_ns(g, op, ins, list(info.outputs), weight_shape, info.matmul)
                t += sum(ccl_estimate_ns(g, c[0], c[1], c[2]) for c in self.internal(combo, info.outputs))
                ahead = self.lookahead(mode, op, ops, tuple(s.output or REPLICATED for s in combo), info.outputs)
                if ahead is None:
                    continue
                total_t = (t + cost + ahead) * runs(g, op)
                if best_t is None or total_t < best_t - 1e-6:
                    best, best_t = (combo, made, ccls, t, cost), total_t
            if refusals and (self.pins.get(op.name) is not None or best is None):
                raise Refused(refusals[0][1][0])
            if best is not None and refusals and (op.shape is not None or any(s.needs for c, _ in refusals for s in c)):
                # a matmul or a heads op left replicated on an axis because the dims refuse its split: tensor
                # parallelism over that axis cannot hold the model; say which dimension
                chosen = best[0]
                for combo, problems in refusals:
                    if any(self.chips[a] > 1 and chosen[a].name == "replicate" and combo[a].name != "replicate" for a in range(2)):
                        raise Refused(problems[0])
            if best is None:
                raise Refused(f"{op.key}: no placement of its inputs works on mesh {list(self.chips)}")
            combo, (ins, attrs, info), ccls, t, cost = best
            self.layout.splits[mode][op.name] = combo
            self.layout.states[mode][op.name] = tuple(s.output or REPLICATED for s in combo)
            self.layout.inputs[mode][op.name] = {
                port: self.port_states(combo, port, shape)
                for port, shape in op.dataflow["shapes"]["in"].items()
                if isinstance(shape, tuple) and not isinstance(op.dataflow["in"].get(port), dict)
            }
            if op.weight:
                self.layout.weights.setdefault(op.weight, tuple(s.weight for s in combo))
            for port, ref in op.dataflow["in"].items():
                if isinstance(ref, dict) and port != "weight":  # biases follow their weight's columns
                    self.layout.weights.setdefault(ref["weight"], tuple(s.weight if s.weight == "S-1" else REPLICATED for s in combo))
                elif isinstance(ref, str) and op.dataflow.get("producers", {}).get(port) is None:
                    states = self.layout.inputs[mode][op.name].get(port)
                    if states is not None and any(split_dim(s) is not None for s in states):
                        self.layout.free_inputs[ref.split("[", 1)[0]] = states
            for port, name, axis, dim, size in ccls:
                self.layout.collectives[mode].append((op.name, port, name, axis, dim, size))
                producer = op.dataflow["producers"][port]
                self.done.setdefault(mode, {})[(producer, axis, name)] = ccl_name(op.name, port, name, axis)
            # which collective outputs each port reads (its own, or one an earlier reader of the value made)
            for port, shape in op.dataflow["shapes"]["in"].items():
                src = self.source_state(mode, op, port) if isinstance(shape, tuple) else None
                if src is None or isinstance(op.dataflow["in"].get(port), dict):
                    continue
                want = self.port_states(combo, port, shape)
                producer = op.dataflow["producers"][port]
                chain = [
                    self.done[mode][(producer, axis, conversion(src[axis], want[axis])[0])]
                    for axis in range(2)
                    if self.chips[axis] > 1 and conversion(src[axis], want[axis])[0]
                ]
                if chain:
                    self.layout.reads.setdefault(mode, {})[(op.name, port)] = chain
            total += (t + cost) * runs(g, op)
            ccl_total += cost * runs(g, op)
        self.layout.time_ns[mode] = total
        self.layout.ccl_ns[mode] = ccl_total

    def check_carry(self, mode: str, ops: list[Op]) -> bool:
        """The value carried from one decoder layer into the next is in the same state at both ends."""
        states = self.layout.states[mode]
        entry, exit_ = carried(ops)
        if entry is None or exit_ is None:
            return True
        self.layout.residual = states.get(entry)
        return states.get(entry) == states.get(exit_)


def carried(ops: list[Op]) -> tuple[str | None, str | None]:
    """(the op before the decoder layers whose value the layers carry, the layer op whose value leaves them): the
    value leaving the layers is read after them; the one entering is read by a layer op and shaped like it."""
    by_name = {op.name: op for op in ops if op.dataflow}
    exit_ = None
    for op in ops:
        for port, producer in (op.dataflow or {}).get("producers", {}).items():
            src = by_name.get(producer)
            if src is not None and op.scope != "layer" and src.scope == "layer" and exit_ is None:
                exit_ = producer
    if exit_ is None:
        return None, None
    shape = by_name[exit_].dataflow["shapes"]["out"][0]
    for op in ops:
        if op.scope != "layer" or not op.dataflow:
            continue
        for port, producer in op.dataflow.get("producers", {}).items():
            src = by_name.get(producer)
            if src is not None and src.scope != "layer" and src.dataflow["shapes"]["out"][0] == shape:
                return producer, exit_
    return None, exit_


def mode_order(graph: Graph) -> list[str]:
    keys = graph.mode_keys()
    return sorted(keys, key=lambda k: (k != "decode", keys.index(k)))


def plan_layout(graph: Graph, pins: dict[str, tuple[str, ...]]) -> Layout:
    """The cheapest layout under `pins`, over the ways the ops before the layers split."""
    chips = graph.device.mesh_shape
    first = {}
    for key in graph.mode_keys():  # the ops making the value the layers carry: tried every way they split
        ops = [op for op in graph.ops if op.mode_key == key]
        entry, _ = carried(ops)
        for op in ops:
            if op.name == entry and op.name not in pins and len(kind_of(op).mesh_splits(op)) > 1:
                first.setdefault(f"{op.kind}:{op.name}", op)
    seeds_ops = sorted(first)
    # per seeded op, a split index per mesh axis (an axis of one chip takes the first)
    options = {
        name: [
            combo
            for combo in product(*(range(len(kind_of(op).mesh_splits(op)) if chips[a] > 1 else 1) for a in range(2)))
        ]
        for name, op in first.items()
    }
    best, refused = None, None
    for split_weights in (False, True):  # first the cheapest; when no layout fits, every matmul weight split
        for choice in product(*(options[n] for n in seeds_ops)):
            found, why = try_layout(graph, pins, dict(zip(seeds_ops, choice)), split_weights)
            refused = refused or why
            if found is None or not fits(graph, found):
                best = best if found is None or best is not None else found  # kept for feasibility to report
                continue
            if best is None or not fits(graph, best) or objective(graph, found) < objective(graph, best) - 1e-6:
                best = found
        if best is not None and fits(graph, best):
            break
    if best is None:
        raise Refused(refused or f"no layout of {graph.name} works on mesh {list(graph.device.mesh_shape)}")
    return best


def try_layout(graph: Graph, pins, seed, split_weights: bool) -> tuple[Layout | None, str | None]:
    planner = Planner(graph, pins, seed, split_weights)
    try:
        for key in mode_order(graph):
            ops = [op for op in graph.ops if op.mode_key == key]
            planner.plan_mode(key, ops)
            if not planner.check_carry(key, ops):
                return None, None
    except Refused as err:
        return None, str(err)
    return planner.layout, None


DRAM_SHARE = 0.9  # of a chip's DRAM the weights and KV cache may take before the pass splits every weight


def chip_bytes(graph: Graph, layout: Layout) -> float:
    """Per-chip weights (matmul weights at bfloat8_b: dtypes are chosen later; tables and norms bfloat16) and KV
    cache of a layout."""
    chips = graph.device.mesh_shape
    total = 0.0
    for w in graph.weights:
        states = layout.weights.get(w.name, (REPLICATED, REPLICATED))
        share = prod(chips[a] for a, s in enumerate(states) if split_dim(s) is not None)
        count = w.loop_count  # a per-layer weight's looped call's count, else 1
        per_element = BYTES_BF16 if w.role in ("EMBEDDING", "NORM") else WEIGHT_BYTES_PER_ELEMENT  # as feasibility
        total += w.k * w.n * per_element * count / share
    for name, shape in graph.facts.get("state_shapes", {}).items():
        states = layout.free_inputs.get(name, (REPLICATED, REPLICATED))
        share = prod(chips[a] for a, s in enumerate(states) if split_dim(s) is not None)
        total += prod(shape) * WEIGHT_BYTES_PER_ELEMENT / share
    return total


def fits(graph: Graph, layout: Layout) -> bool:
    capacity = graph.device.dram.bytes_total / graph.device.chips
    return chip_bytes(graph, layout) <= DRAM_SHARE * capacity


def objective(graph: Graph, layout: Layout) -> float:
    """What the layouts are ranked by: one decode step when the graph has one, else every mode once."""
    if "decode" in layout.time_ns:
        return layout.time_ns["decode"]
    return sum(layout.time_ns.values())


# ---------------------------------------------------------------- applying a layout


def localize(graph: Graph, layout: Layout) -> Graph:
    chips = tuple(graph.device.mesh_shape)
    mesh = graph.device.mesh
    new_ops: list[Op] = []
    for op in graph.ops:
        key = op.mode_key
        if not op.dataflow:  # a move: its consumer's input state and width
            dst = next((o for o in graph.ops if o.mode_key == key and o.name == op.facts.get("dst")), None)
            inserted = collectives_before(graph, layout, key, dst, op) if dst is not None else []
            new_ops += inserted
            states = edge_states(layout, key, dst, op.facts.get("src")) if dst is not None else None
            if states is not None and "dim" in op.facts:
                # a split of any dim but the rows narrows the rows x dim the move carries
                div = prod(chips[a] for a, s in enumerate(states) if split_dim(s) not in (None, -2))
                op = replace(op, facts=frozen({**op.facts, "dim": op.facts["dim"] // div}))
            new_ops.append(op)
            continue
        combo = layout.splits[key][op.name]
        planner = Planner(graph, {}, {})
        made, problems = planner.candidate(op, combo)
        if made is None:
            raise UnsupportedTarget(problems[0], where=f"{graph.name} on {graph.device.name}")
        ins, attrs, info = made
        new_ops += collectives_before(graph, layout, key, op, None)
        facts = {**op.facts, **info.facts}
        flow = dict(op.dataflow)
        flow["shapes"] = {"in": ins, "out": [list(s) for s in info.outputs]}
        flow["attrs"] = attrs
        new_ops.append(
            replace(
                op,
                shape=MatmulShape(*info.matmul) if info.matmul else op.shape,
                facts=frozen(facts),
                dataflow=frozen(flow),
            ).decide(
                mesh={
                    "split": tuple(s.name for s in combo),
                    "out": layout.states[key][op.name],
                    "internal": tuple(planner.internal(combo, info.outputs)),
                    # port -> the collective ops (in order) whose output it reads
                    "reads": {port: tuple(c) for (name, port), c in sorted(layout.reads.get(key, {}).items()) if name == op.name},
                    "in": {port: states for port, states in sorted(layout.inputs[key].get(op.name, {}).items())},
                }
            )
        )
    weights = []
    for w in graph.weights:
        states = layout.weights.get(w.name, (REPLICATED, REPLICATED))
        k, n = w.k, w.n
        for axis, st in enumerate(states):
            d = split_dim(st)
            if d == -1:
                n //= chips[axis]
            elif d == -2:
                k //= chips[axis]
        weights.append(
            replace(w, k=k, n=n).decide(mesh={"states": states, "shape": (w.k, w.n), "groups": head_groups(graph, layout, w)})
        )
    return graph.with_ops(new_ops).with_weights(weights)


def head_groups(graph: Graph, layout: Layout, w: Weight) -> tuple[int, tuple[int, ...]] | None:
    """(mesh axis, column widths) when a weight split by columns feeds an op that splits its value into several
    outputs over the same chips (the fused QKV into q, k and v heads): each chip must hold its own slice of every
    part, so the columns are regrouped at load time (tt_transformers' wqkv per-device head groups)."""
    states = layout.weights.get(w.name, ())
    for axis, st in enumerate(states):
        if split_dim(st) != -1:
            continue
        for op in graph.ops:
            if op.mode_key != "decode" or op.weight != w.name:
                continue
            for reader in graph.ops:
                if reader.mode_key != op.mode_key or not reader.dataflow or op.name not in reader.dataflow.get("producers", {}).values():
                    continue
                outs = reader.dataflow["shapes"]["out"]
                split = layout.splits["decode"].get(reader.name)
                if len(outs) > 1 and split is not None and split[axis].divides:
                    return axis, tuple(int(s[-3] * s[-1]) for s in outs)
    return None


def ccl_name(reader: str, port: str, ccl: str, axis: int) -> str:
    return f"{reader}_{port}_{ccl}{axis}"


def edge_states(layout: Layout, key: str, dst: Op, producer: str | None) -> tuple[str, ...] | None:
    for port, p in dst.dataflow.get("producers", {}).items():
        if p == producer:
            return layout.inputs[key].get(dst.name, {}).get(port)
    return None


def collectives_before(graph: Graph, layout: Layout, key: str, op: Op, move: Op | None) -> list[Op]:
    """The collective ops feeding `op`: before its move when the edge has one (`move` given), else before it."""
    chips = tuple(graph.device.mesh_shape)
    moved = {
        o.facts.get("src")
        for o in graph.ops
        if o.mode_key == key and not o.dataflow and o.facts.get("dst") == op.name
    }
    out = []
    for name, port, ccl, axis, dim, size in layout.collectives.get(key, []):
        if name != op.name:
            continue
        producer = op.dataflow.get("producers", {}).get(port)
        if move is None and producer in moved:
            continue
        if move is not None and producer != move.facts.get("src"):
            continue
        along = graph.device.mesh.axes[axis]
        facts = {
            "axis": axis,
            "chips": chips[axis],
            "dim": dim if dim is not None else -1,
            "rank": len(op.dataflow["shapes"]["in"][port]),
            "topology": along.topology,
            "links": along.links,
            "bytes": int(size),
            "port": port,
            "src": producer,
            "dst": op.name,
        }
        if "loop_count" in op.facts:
            facts["loop_count"] = op.facts["loop_count"]
        out.append(Op(name=ccl_name(op.name, port, ccl, axis), kind=ccl, mode=op.mode, seq=op.seq, scope=op.scope, facts=frozen(facts),
                      mode_name=op.mode_name))
    return out


# ---------------------------------------------------------------- pins from the hints file


def override_pins(graph: Graph) -> dict[str, tuple[str, ...]]:
    pins = {}
    for name, o in sorted(graph.hints.overrides.items()):
        if o.split is None:
            continue
        bare = name.split(".", 1)[1] if "." in name else name
        if not any(op.name == bare for op in graph.ops):
            continue  # the precision pass names unknown ops
        parts = o.split.split("/")
        if len(parts) == 1:
            parts = [parts[0], parts[0]]
        pins[bare] = tuple(parts)
    return pins


def summary(graph: Graph, layout: Layout) -> dict[str, Any]:
    per_layer: dict[str, int] = {}
    for name, port, ccl, axis, dim, size in layout.collectives.get("decode", []):
        op = next(o for o in graph.ops if o.mode_key == "decode" and o.name == name)
        if op.scope == "layer":
            per_layer[ccl] = per_layer.get(ccl, 0) + 1
    for op in graph.ops:  # the collectives ops make inside themselves (a distributed norm's statistics)
        if op.mode_key == "decode" and op.scope == "layer" and op.dataflow:
            combo = layout.splits["decode"].get(op.name, ())
            for axis, s in enumerate(combo):
                if graph.device.mesh_shape[axis] > 1:
                    for name, _ in s.internal:
                        per_layer[name] = per_layer.get(name, 0) + 1
    return {
        "decode_step_ns": round(layout.time_ns.get("decode", 0.0), 1),
        "decode_ccl_ns": round(layout.ccl_ns.get("decode", 0.0), 1),
        "collectives_per_layer": dict(sorted(per_layer.items())),
        "weights": {w: list(s) for w, s in sorted(layout.weights.items())},
    }


@make_pass("parallelism", requires=("target",), produces=())  # its mark is the graph fact `mesh`: single-chip graphs stay as they were
def parallelism(graph: Graph) -> Graph:
    """Place every op's tensors on the mesh and insert the collectives (no-op on one chip)."""
    device = graph.device
    if device.chips == 1:
        return graph
    pins = override_pins(graph)
    where = f"{graph.name} on {device.name}"
    facts: dict[str, Any] = {"mesh_shape": list(device.mesh_shape), "chips": device.chips}
    chosen, refusal = None, None
    try:
        chosen = plan_layout(graph, pins)
    except Refused as err:
        refusal = err
    if graph.entry.is_module and (chosen is None or "decode" not in chosen.time_ns):
        # data parallel: every chip runs the whole module on its own input, weights replicated (TT-Boltz's way)
        single = single_chip_ns(graph)
        if chosen is None or single / device.chips <= objective(graph, chosen):
            facts.update(
                strategy="data_parallel",
                tp_step_ns=None if chosen is None else round(objective(graph, chosen), 1),
                tp_refused=None if refusal is None else str(refusal),
                dp_step_ns=round(single, 1),
                designs=design_placement(graph),
            )
            weights = [w.decide(mesh={"states": (REPLICATED, REPLICATED), "shape": (w.k, w.n)}) for w in graph.weights]
            return graph.with_weights(weights).with_facts(mesh=facts)
    if chosen is None:
        raise UnsupportedTarget(
            f"{refusal}: cannot place {graph.name} on the {device.chips}-chip mesh {list(device.mesh_shape)}",
            where=where,
            hint="pick a mesh whose axes divide the model's heads and widths, or pin a split with --override OP:split=replicate",
        ) from None
    baseline_pins = tt_transformers_mesh_layout(graph)
    baseline = None
    if baseline_pins:
        try:
            baseline = plan_layout(graph, baseline_pins)
        except Refused:
            baseline = None
    facts["chosen_from"] = "search"
    if baseline is not None and not pins and fits(graph, baseline) and objective(graph, baseline) < objective(graph, chosen) - 1e-6:
        # tt_transformers' layout is a seed like any other: the search keeps it when it finds nothing faster
        chosen, facts["chosen_from"] = baseline, "tt_transformers"
    facts["strategy"] = "tensor_parallel"
    facts["chosen"] = summary(graph, chosen)
    if baseline is not None:
        facts["tt_transformers"] = summary(graph, baseline)
    facts["state"] = {k: list(v) for k, v in sorted(chosen.free_inputs.items())}
    facts["residual"] = list(chosen.residual or (REPLICATED, REPLICATED))  # the value the decoder layers carry
    out = localize(graph, chosen)
    out = localize_model(out, chosen)
    return out.with_facts(mesh=facts)


def design_placement(graph: Graph) -> dict[str, Any]:
    """Where a data-parallel module's designs go: every tensor input and output of every mode is one design per chip,
    the designs concatenated on host dim 0 (each design its generated dim 0 there) and split over the chips in
    row-major mesh order (ttnn's ShardTensorToMesh / ConcatMeshToTensor on dim 0); a call runs `per_call` designs,
    one per chip, and a last round with fewer designs is filled with copies of its last design (`fill`), whose
    outputs are dropped. A per-layer list input ([layers, *layer] on the host, one device tensor per layer) holds
    the designs on dim 0 of each layer's tensor, host dim 1 of the stack: `inputs` maps each input to its host dim.
    No collectives: no chip reads another's values. `unsupported` lists what a package on the mesh cannot run yet
    (host-int inputs, KV-cache state), each naming the input or state."""
    chips = graph.device.chips
    inputs, outputs, unsupported = {}, {}, []
    for key, io in graph.facts["io"].items():
        lists = io.get("layer_lists", ())
        inputs[key] = {name: 1 if name in lists else 0 for name, shape in io["inputs"].items() if shape}
        outputs[key] = {name: 0 for name in io["outputs"]}
        unsupported += [f"{key} input {name} is a host int" for name, shape in io["inputs"].items() if not shape]
    unsupported += [f"state {name} (a KV cache every call reads)" for name in sorted(graph.facts.get("state_shapes") or {})]
    rows, cols = graph.device.mesh_shape
    return {
        "dim": 0,
        "per_call": chips,
        "fill": "last",
        "chips": [[r, c] for r in range(rows) for c in range(cols)],  # design i of a call on chips[i]
        "inputs": inputs,
        "outputs": outputs,
        "unsupported": sorted(dict.fromkeys(unsupported)),
    }


def single_chip_ns(graph: Graph) -> float:
    total = 0.0
    for op in graph.ops:
        if not op.dataflow:
            continue
        ins = op.dataflow["shapes"]["in"]
        w = ins.get("weight") if isinstance(ins.get("weight"), tuple) else None
        outs = [tuple(s) for s in op.dataflow["shapes"]["out"]]
        mm = (op.shape.m, op.shape.k, op.shape.n) if op.shape else None
        total += op_estimate_ns(graph, op, ins, outs, w, mm) * runs(graph, op)
    return total


def localize_model(graph: Graph, layout: Layout) -> Graph:
    """What the per-op passes read per chip beyond the ops: the divisor of the model's head counts (the heads are
    split over that many chips), the KV cache state split as its readers split it."""
    chips = tuple(graph.device.mesh_shape)
    heads_split = 1
    for key, per_op in layout.splits.items():
        for name, combo in per_op.items():
            for axis, s in enumerate(combo):
                if "num_kv_heads" in s.divides:
                    heads_split = max(heads_split, chips[axis]) if heads_split == 1 else heads_split
    states = dict(graph.facts.get("state_shapes", {}))
    for name, st in layout.free_inputs.items():
        if name in states:
            shape = list(states[name])
            for axis, s in enumerate(st):
                d = split_dim(s)
                if d is not None:
                    shape[d] //= chips[axis]
            states[name] = shape
    # the model stays whole (verify builds its reference from it); the per-op passes divide its head counts by this
    out = graph.with_facts(heads_per_chip_divisor=heads_split)
    return out.with_facts(state_shapes=states) if states else out
