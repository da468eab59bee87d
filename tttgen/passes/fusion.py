"""Pass `fusion`: partition elementwise ops into ttnn-jit blocks (issue 9), each run as one `@ttnn_jit.jit` kernel
or left to ttnn, by modeled cost.

Inputs: placements (memory, reshard), dtypes and kernels (precision). Produces: `fusion`.

A chain is a maximal in-tree of elementwise ops (kinds `binary` and `unary`, their `elementwise`) of one mode and one module
function, joined where a value has exactly one reader: ttnn-jit does not fuse across a tensor with more than one
user, and a value a function returns is read by its caller too. Ops ttnn-jit cannot trace (an op missing from its
lists, a dtype it lacks, a typecast) cut chains as well. Each chain is then checked as a whole: its inputs' and
output's placements, identical shard specs for sharded inputs, equal shapes (no broadcast), and the per-kernel
tensor limit; a legal chain becomes a block when it is modeled faster than the way ttnn runs its ops (an
activation on a binary op is already one ttnn kernel, `input_tensor_a_activations`).

Decisions: every elementwise op gets `jit` (block name or None), `jit_reason` and `jit_chain` (its chain's id in
graph fact `fusion_chains`, which explain prints). In a block, the last op (the root) is where the call is printed:
it carries `jit_body` (the block's ttnn calls), `jit_inputs` (the values it is called with), `jit_ops`,
`jit_memory` (the placement it writes), `jit_fidelity`, `chain_steps`/`one_kernel` (op_costs prices the whole
block on it) and `form_ns`; the other members carry `jit_member_of` (absorbed: no call, no cost). An op that runs
as ttnn keeps `chain_steps`/`one_kernel` when it is more than one step (an activation on a binary op).

ttnn-jit's rules (tt-mlir tools/ttnn-jit @19c86fc, reference module-library-facts §1.2-1.3): ops of its lists only,
spelled as its handlers are (`multiply`; `mul` is "not supported"); TILE tensors of f32, bf16 or bfp8, no typecast;
inputs DRAM interleaved or L1 sharded, never L1 interleaved or DRAM sharded, no COL_MAJOR shards; at most 32
input/output tensors per fused kernel, 7 inputs when a dtype is wider than 16 bits. Its output is "maximally L1
block sharded" unless the decorator's memory_config says otherwise, so a block always declares the placement its
consumer reads, and is refused when that is a placement ttnn-jit cannot write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tttgen.cost.model import OpCost
from tttgen.ir.configs import MemoryPlacement
from tttgen.ir.graph import Graph, Op
from tttgen.ops.kinds import kind_of
from tttgen.ops.ttnn_jit_facts import BINARY_OPS, DTYPES, MAX_TENSORS, MAX_WIDE_INPUTS, UNARY_OPS, WIDE_DTYPES
from tttgen.passes.base import make_pass
from tttgen.passes.op_costs import chain_cost

JIT_DTYPES = DTYPES
COST_STEPS = {"add": "add", "subtract": "add", "multiply": "mul", "divide": "mul"}  # FPU steps of the cost model
FIRST_PORTS = ("a", "input")  # the port whose placement and dtype are an op's `in0` decisions
PREFILL_DISAGREE = "prefill lengths share one forward and one block per op, and not all of them chose it alike"

# Rules that stop a chain, in the order they are checked (explain reports the first one).
DISABLED, UNSUPPORTED, DTYPE, USERS, SCOPE, LAYOUT, SIZE, PREFILL, COST = (
    "disabled", "op not supported", "dtype", "multiple users", "function boundary", "layout", "size", "prefill",
    "cost",
)  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One ttnn call of a block body: its ttnn-jit name and operands, each ("input", i) (the block's i-th
    argument), ("step", k) (the result of step k), ("scalar", x) or, inside one op, ("port", name)."""

    op: str
    operands: tuple[tuple[str, Any], ...]

    @property
    def cost_step(self) -> str:
        """The cost model's step: a binary of two tensors on the FPU, anything else (a tensor and a scalar
        included) one SFPU pass."""
        tensors = sum(1 for kind, _ in self.operands if kind != "scalar")
        return COST_STEPS.get(self.op, "mul") if tensors == 2 else "unary"


# ---------------------------------------------------------------- one op


def _attrs(op: Op) -> dict[str, Any]:
    return dict(op.dataflow.get("attrs", {}))


def op_steps(op: Op) -> tuple[Step, ...]:
    """The ttnn calls one elementwise op is, by ttnn's names (checked against ttnn-jit's lists elsewhere), as its
    kind spells them (a unary op after its multiply by `scale`, a binary op after the activation on its first
    operand)."""
    return tuple(Step(name, operands) for name, operands in kind_of(op).steps(op, _attrs(op)))


def cost_steps(op: Op) -> tuple[str, ...]:
    return tuple(s.cost_step for s in op_steps(op))


def ttnn_one_kernel(op: Op) -> bool:
    """Whether ttnn runs all of the op's steps in one kernel: an activation on a binary op's first operand
    (`input_tensor_a_activations`); a scaled unary is a multiply, then the unary."""
    return kind_of(op).one_ttnn_kernel(op, op_steps(op))


def ttnn_form(op: Op) -> str:
    """The ttnn call(s) the op is printed as, for reasons."""
    ins = op.dataflow.get("in", {})
    value = lambda port: ins[port] if isinstance(ins.get(port), str) else port  # noqa: E731
    steps = tuple((s.op, s.operands) for s in op_steps(op))
    return kind_of(op).ttnn_form(_attrs(op), steps, value)


def op_refusal(op: Op) -> tuple[str, str] | None:
    """(rule, why) when ttnn-jit cannot trace this op at all, or None."""
    for s in op_steps(op):
        tensors = sum(1 for kind, _ in s.operands if kind != "scalar")
        known = UNARY_OPS if tensors == 1 and len(s.operands) == 1 else BINARY_OPS
        if s.op not in known:
            return UNSUPPORTED, f"{op.name}: ttnn-jit has no `{s.op}` handler"
    dtypes = op.decisions["dtypes"]
    if dtypes["in0"] not in JIT_DTYPES:
        return DTYPE, f"{op.name}: dtype {dtypes['in0']} is not supported by ttnn-jit (f32, bf16, bfp8 only)"
    if dtypes["out"] != dtypes["in0"]:
        return DTYPE, f"{op.name}: the output dtype {dtypes['out']} needs a typecast, which ttnn-jit has no op for"
    return None


def jit_input_refusal(p: MemoryPlacement) -> str | None:
    """Why ttnn-jit rejects a tensor argument in placement `p`, or None."""
    if p.buffer == "L1" and not p.sharded:
        return "L1 interleaved tensors are not supported by ttnn-jit"
    if p.buffer == "DRAM" and p.sharded:
        return "sharded DRAM tensors are not supported by ttnn-jit"
    if p.sharded and p.orientation == "COL_MAJOR":
        return "COL_MAJOR shards are not supported by ttnn-jit"
    return None


def jit_output_refusal(p: MemoryPlacement) -> str | None:
    """Why a ttnn-jit block cannot write placement `p` (its decorator's memory_config), or None."""
    if p.sharded and p.infer_shard:
        return f"{p.buffer} {p.layout} without a shard spec (the decorator's memory_config must be exact)"
    return jit_input_refusal(p)


def tensor_limit_refusal(input_dtypes: list[str], out_dtype: str) -> str | None:
    """Why one fused kernel cannot take these tensors: 32 inputs and outputs at most, 7 inputs when any dtype is
    wider than 16 bits (ttnn-jit's circular-buffer limits), or None."""
    wide = sorted({d for d in [*input_dtypes, out_dtype] if d in WIDE_DTYPES})
    if wide and len(input_dtypes) > MAX_WIDE_INPUTS:
        over = f"{len(input_dtypes)} inputs with {', '.join(wide)} (over 16 bits)"
        return f"{over}: ttnn-jit fuses {MAX_WIDE_INPUTS} at most"
    if len(input_dtypes) + 1 > MAX_TENSORS:
        return f"{len(input_dtypes)} inputs and an output: ttnn-jit fuses {MAX_TENSORS} tensors at most"
    return None


# ---------------------------------------------------------------- chains of one mode


@dataclass
class Chain:
    """An in-tree of elementwise ops of one mode (program order; the last is the root, whose value leaves it),
    and the cuts at its border as (rule, why)."""

    key: str
    members: list[Op]
    stops: list[tuple[str, str]] = field(default_factory=list)

    @property
    def root(self) -> Op:
        return self.members[-1]

    @property
    def id(self) -> str:
        return f"{self.key}.{self.root.name}"


@dataclass(frozen=True)
class ModeView:
    """What chain building needs to know about one mode: its ops, who reads each op's output, which outputs
    their function returns, each op's function, and the moves the reshard pass kept."""

    ops: tuple[Op, ...]
    readers: dict[str, list[tuple[str, str]]]
    returned: frozenset[str]
    function: dict[str, str]
    moves: dict[tuple[str, str], Op]

    def op(self, name: str) -> Op | None:
        return next((o for o in self.ops if o.name == name), None)


def mode_view(graph: Graph, key: str) -> ModeView:
    ops = tuple(o for o in graph.ops if o.mode_key == key)
    mode = graph.facts.get("mode_variants", {}).get(key, "decode" if key == "decode" else "prefill")
    readers: dict[str, list[tuple[str, str]]] = {}
    for o in ops:
        for port, producer in sorted(o.dataflow.get("producers", {}).items()):
            readers.setdefault(producer, []).append((o.name, port))
    by_name = {o.name: o for o in ops}
    returned, function = set(), {}
    for fn in graph.facts.get("functions", ()):
        if fn["mode"] != mode:
            continue
        for entry in fn["body"]:
            if "op" in entry and entry["op"] in by_name:
                function[entry["op"]] = fn["path"]
                if set(by_name[entry["op"]].dataflow.get("out", ())) & set(fn["outputs"]):
                    returned.add(entry["op"])
    moves = {
        (o.facts["src"], o.facts["dst"]): o
        for o in ops
        if o.kind == "reshard" and "src" in o.facts and not o.decisions.get("elide")
    }
    return ModeView(ops, readers, frozenset(returned), function, moves)


def _value(op: Op, port: str) -> str:
    ref = op.dataflow.get("in", {}).get(port)
    return ref if isinstance(ref, str) else f"{op.name}.{port}"


def edge_cut(view: ModeView, producer: Op, consumer: Op, port: str) -> tuple[str, str] | None:
    """(rule, why) when `producer`'s output cannot stay inside a block that `consumer` ends, or None."""
    value = _value(consumer, port)
    here, there = view.function.get(producer.name), view.function.get(consumer.name)
    if here != there:
        return SCOPE, f"{value} passes from module function '{here or 'top'}' to '{there or 'top'}'"
    if producer.name in view.returned:
        return USERS, f"{value} ({producer.name}'s output) is returned by its function, so its caller reads it too"
    reads = view.readers.get(producer.name, [])
    if len(reads) > 1:
        who = ", ".join(name for name, _ in reads)
        return USERS, f"{value} ({producer.name}'s output) has {len(reads)} users ({who})"
    if (producer.name, consumer.name) in view.moves:
        return LAYOUT, f"{value} is moved to another placement between {producer.name} and {consumer.name}"
    for op in (producer, consumer):
        refusal = op_refusal(op)
        if refusal:
            return refusal
    return None


def mode_chains(graph: Graph, key: str) -> list[Chain]:
    """The maximal chains of one mode: elementwise ops joined along every edge no rule cuts."""
    view = mode_view(graph, key)
    elementwise = [o for o in view.ops if kind_of(o).elementwise]
    names = {o.name for o in elementwise}
    joined: dict[str, str] = {}  # producer -> the consumer whose block it joins
    cuts: list[tuple[str, str, tuple[str, str]]] = []
    for consumer in elementwise:
        for port, producer in sorted(consumer.dataflow.get("producers", {}).items()):
            if producer not in names:
                continue
            cut = edge_cut(view, view.op(producer), consumer, port)
            if cut is None:
                joined[producer] = consumer.name
            else:
                cuts.append((producer, consumer.name, cut))

    def root_of(name: str) -> str:
        while name in joined:
            name = joined[name]
        return name

    chains: dict[str, Chain] = {}
    for op in elementwise:  # program order: a chain's members in order, its root last
        root = root_of(op.name)
        chains.setdefault(root, Chain(key, [])).members.append(op)
    for producer, consumer, cut in cuts:
        for end in {root_of(producer), root_of(consumer)}:
            if cut not in chains[end].stops:
                chains[end].stops.append(cut)
    return [chains[root_of(o.name)] for o in elementwise if root_of(o.name) == o.name]


# ---------------------------------------------------------------- one chain as a block


@dataclass(frozen=True)
class Block:
    """A chain as one ttnn-jit function: its arguments (value refs of the chain's function), where each is first
    read (member, port) and its body."""

    inputs: tuple[Any, ...]
    readers: tuple[tuple[Op, str], ...]
    steps: tuple[Step, ...]


def _ref_key(ref: Any) -> Any:
    return ref if isinstance(ref, str) else ("weight", ref["weight"])


def block_of(chain: Chain) -> Block:
    """The chain's body in evaluation order: each member's steps after those of the members it reads."""
    members = {m.name: m for m in chain.members}
    inputs: list[Any] = []
    readers: list[tuple[Op, str]] = []
    steps: list[Step] = []

    def operand(op: Op, port: str) -> tuple[str, Any]:
        producer = op.dataflow.get("producers", {}).get(port)
        if producer in members:
            return emit(members[producer])
        ref = op.dataflow["in"][port]
        keys = [_ref_key(r) for r in inputs]
        if _ref_key(ref) not in keys:
            inputs.append(ref)
            readers.append((op, port))
            keys.append(_ref_key(ref))
        return ("input", keys.index(_ref_key(ref)))

    def emit(op: Op) -> tuple[str, Any]:
        local: dict[int, int] = {}
        for i, s in enumerate(op_steps(op)):
            args = []
            for kind, v in s.operands:
                if kind == "port":
                    args.append(operand(op, v))
                elif kind == "step":
                    args.append(("step", local[v]))
                else:
                    args.append((kind, v))
            steps.append(Step(s.op, tuple(args)))
            local[i] = len(steps) - 1
        return ("step", len(steps) - 1)

    emit(chain.root)
    return Block(tuple(inputs), tuple(readers), tuple(steps))


def operand_placement(graph: Graph, key: str, op: Op, port: str) -> tuple[MemoryPlacement | None, str]:
    """(placement, dtype) of the tensor `op` reads on `port`: a weight's, the op's own in0 for its first port,
    else what the producer (or the move the reshard pass kept before `op`) writes. A function input without a
    producer is taken to be placed like the op's first operand."""
    d = op.decisions
    ref = op.dataflow.get("in", {}).get(port)
    if isinstance(ref, dict) and "weight" in ref:
        w = graph.weight(ref["weight"])
        return w.decisions.get("placement"), w.decisions["dtype"]
    producer = op.dataflow.get("producers", {}).get(port)
    if port not in FIRST_PORTS and producer is not None:
        p = graph.op(f"{key}.{producer}")
        moves = [o for o in graph.ops if o.mode_key == key and o.kind == "reshard" and o.facts.get("src") == producer
                 and o.facts.get("dst") == op.name and not o.decisions.get("elide")]  # fmt: skip
        placement = moves[0].decisions["out"] if moves else p.decisions.get("out")
        if placement is not None:
            return placement, p.decisions.get("dtypes", {}).get("out") or d["dtypes"]["in0"]
    return d.get("in0"), d["dtypes"]["in0"]


def output_target(graph: Graph, chain: Chain) -> tuple[MemoryPlacement | None, str]:
    """(placement the block must write, who reads it): a move's or a reader's first operand, else the root's own
    output placement (a module output, or a reader's second operand)."""
    root = chain.root
    ops = [o for o in graph.ops if o.mode_key == chain.key]
    for o in ops:
        if o.kind == "reshard" and o.facts.get("src") == root.name and not o.decisions.get("elide"):
            return o.decisions.get("in0"), o.name
    for o in ops:
        ports = [p for p, n in o.dataflow.get("producers", {}).items() if n == root.name]
        if ports and ports[0] in FIRST_PORTS and o.decisions.get("in0") is not None:
            return o.decisions["in0"], o.name
    readers = [o.name for o in ops if root.name in o.dataflow.get("producers", {}).values()]
    return root.decisions.get("out"), readers[0] if readers else "the module's caller"


def layout_refusal(graph: Graph, chain: Chain, block: Block) -> str | None:
    """Why the block's tensors are placed or shaped so ttnn-jit cannot take them, or None."""
    out_shape = tuple(chain.root.dataflow.get("shapes", {}).get("out", [()])[0] or ())
    sharded: list[tuple[Any, MemoryPlacement]] = []
    for ref, (op, port) in zip(block.inputs, block.readers):
        placement, _ = operand_placement(graph, chain.key, op, port)
        name = _value(op, port)
        if placement is None:
            return f"input {name} has no known placement"
        refusal = jit_input_refusal(placement)
        if refusal:
            return f"input {name}: {refusal}"
        shape = tuple(op.dataflow.get("shapes", {}).get("in", {}).get(port) or ())
        if out_shape and shape and shape != out_shape:
            return f"input {name} is {list(shape)}, broadcast to {list(out_shape)}; a block takes equal shapes"
        if placement.sharded:
            sharded.append((name, placement))
    for name, placement in sharded[1:]:
        if placement != sharded[0][1]:
            return (
                f"sharded inputs {sharded[0][0]} and {name} have different shard specs (ttnn-jit needs identical ones)"
            )
    memory, reader = output_target(graph, chain)
    if memory is None:
        return "no output placement to write: ttnn-jit's default (L1 block-sharded) would reach an unknown reader"
    refusal = jit_output_refusal(memory)
    if refusal:
        return f"its output, read by {reader}, is in a placement ttnn-jit cannot write: {refusal}"
    return None


# ---------------------------------------------------------------- verdicts


def form_costs(chain: Chain, graph: Graph, block: Block) -> dict[str, OpCost | float]:
    """Modeled ns of each way to run the chain: `ttnn` (each op as ttnn runs it), `jit` (one kernel over the
    block's steps, priced on the root), `unfused` (one ttnn op per step)."""
    ttnn = [chain_cost(m, graph, cost_steps(m), one_kernel=ttnn_one_kernel(m)) for m in chain.members]
    unfused = [chain_cost(m, graph, cost_steps(m), one_kernel=False) for m in chain.members]
    jit = chain_cost(chain.root, graph, tuple(s.cost_step for s in block.steps), one_kernel=True)
    return {
        "ttnn": sum(c.total_ns for c in ttnn),
        "jit": jit.total_ns,
        "unfused": sum(c.total_ns for c in unfused),
    }


def _us(ns: float) -> str:
    return f"{ns / 1000:.1f} us"


def chain_verdict(graph: Graph, chain: Chain, refusal: tuple[str, str] | None = None) -> dict[str, Any] | None:
    """The chain's record: verdict fused / kept (ttnn is as fast) / refused with the first rule that stopped it.
    None: a single one-step op no cut touches, nothing to fuse. `refusal` rules the block out."""
    members, steps = chain.members, [s for m in chain.members for s in op_steps(m)]
    if len(steps) == 1 and not chain.stops:
        return None
    ttnn_text = " then ".join(ttnn_form(m) for m in members)
    record: dict[str, Any] = dict(
        id=chain.id,
        mode=chain.key,
        members=[m.name for m in members],
        ops=[s.op for s in steps],
        stops=[f"{rule}: {why}" for rule, why in chain.stops],
        block=None,
        ttnn=ttnn_text,
    )

    def refused(rule: str, why: str) -> dict[str, Any]:
        return dict(record, verdict="refused", rule=rule, reason=f"no ttnn-jit block: {rule}: {why}; runs {ttnn_text}")

    if not graph.hints.jit:
        return refused(DISABLED, "by hint jit=false")
    own = next((r for r in map(op_refusal, members) if r), None)
    if own:
        return refused(*own)
    if len(steps) == 1:  # a lone step: only a cut kept it from a chain
        return refused(*chain.stops[0])
    block = block_of(chain)
    costs = form_costs(chain, graph, block)
    record.update(inputs=len(block.inputs), form_ns=dict(sorted(costs.items())))
    layout = layout_refusal(graph, chain, block)
    if layout:
        return refused(LAYOUT, layout)
    dtypes = [operand_placement(graph, chain.key, op, port)[1] for op, port in block.readers]
    size = tensor_limit_refusal(dtypes, chain.root.decisions["dtypes"]["out"])
    if size:
        return refused(SIZE, size)
    if refusal:
        return refused(*refusal)
    if costs["jit"] >= costs["ttnn"]:
        return dict(
            record,
            verdict="kept",
            rule=COST,
            reason=(
                f"{ttnn_text} is as fast as a ttnn-jit block ({_us(costs['ttnn'])} vs {_us(costs['jit'])} modeled, "
                f"unfused {_us(costs['unfused'])}); the ttnn call is kept because it is not slower and needs no "
                f"optional package (ttnn_jit is not on PyPI)"
            ),
        )
    memory, reader = output_target(graph, chain)
    root = chain.root
    # a Python identifier (call paths lose their dots) per mode variant: every prefill length of one variant shares it,
    # and a chosen mode's blocks carry its name (`..._denoise_step_jit`)
    variant = graph.facts.get("mode_variants", {}).get(root.mode_key, root.mode)
    name = f"{root.name.replace('.', '_')}_{variant}_jit"
    return dict(
        record,
        verdict="fused",
        rule=None,
        block=name,
        memory=memory,
        body=block.steps,
        block_inputs=block.inputs,
        reason=(
            f"ttnn-jit block {name}: {' -> '.join(s.op for s in steps)} over {len(block.inputs)} inputs in one "
            f"kernel, {_us(costs['jit'])} modeled vs {_us(costs['ttnn'])} for {ttnn_text}; it writes "
            f"{memory.buffer} {memory.layout}, the placement {reader} reads"
        ),
    )


def _agreement(record: dict[str, Any] | None) -> tuple:
    if record is None:
        return (None,)
    return (record["block"], record.get("memory"), tuple(record["members"]))


def member_decisions(graph: Graph, chain: Chain, record: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Per member op name, the decisions the record implies."""
    out = {}
    for op in chain.members:
        own: dict[str, Any] = {}
        if len(op_steps(op)) > 1 or kind_of(op).priced_by_steps:  # priced by op_costs from its steps
            own = dict(chain_steps=cost_steps(op), one_kernel=ttnn_one_kernel(op))
        if record is None:
            out[op.name] = dict(
                own, jit=None, jit_chain=None, jit_reason=f"'{op.facts['fn']}' is a single op, not a chain to fuse"
            )
            continue
        common = dict(jit=record["block"], jit_chain=record["id"], jit_reason=record["reason"])
        if record["verdict"] != "fused":
            out[op.name] = dict(
                own, **common, **({"form_ns": record["form_ns"]} if "form_ns" in record and op is chain.root else {})
            )
        elif op is not chain.root:
            out[op.name] = dict(common, jit_member_of=chain.root.name)
        else:
            fidelity = op.decisions["kernel"].math_fidelity if op.decisions.get("kernel") else "HiFi4"
            out[op.name] = dict(
                common,
                chain_steps=tuple(s.cost_step for s in record["body"]),
                one_kernel=True,
                form_ns=record["form_ns"],
                jit_ops=tuple(s.op for s in record["body"]),
                jit_body=record["body"],
                jit_inputs=record["block_inputs"],
                jit_memory=record["memory"],
                jit_fidelity=fidelity,
            )
    return out


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """The record as graph fact `fusion_chains` keeps it (explain prints it)."""
    hidden = ("body", "block_inputs", "memory")
    return {k: v for k, v in record.items() if k not in hidden}


@make_pass("fusion", requires=("reshard", "precision"), produces=("fusion",))
def fusion(graph: Graph) -> Graph:
    """Partition elementwise ops into ttnn-jit blocks where legal and modeled faster than ttnn."""
    chains = [c for key in graph.mode_keys() for c in mode_chains(graph, key)]
    records = {c.id: chain_verdict(graph, c) for c in chains}
    # every prefill length's method calls the same block of an op: it is defined once, with one memory_config
    prefill = [c for c in chains if c.key != "decode"]
    for root in sorted({c.root.name for c in prefill}):
        group = [c for c in prefill if c.root.name == root]
        if len({_agreement(records[c.id]) for c in group}) > 1 or any(
            len(c.members) != len(group[0].members) for c in group
        ):
            for c in group:
                records[c.id] = chain_verdict(graph, c, refusal=(PREFILL, PREFILL_DISAGREE))
    decisions: dict[str, dict[str, Any]] = {}
    for c in chains:
        for name, values in member_decisions(graph, c, records[c.id]).items():
            decisions[f"{c.key}.{name}"] = values
    graph = graph.with_ops(op.decide(**decisions[op.key]) if op.key in decisions else op for op in graph.ops)
    return graph.with_facts(fusion_chains=tuple(_public(r) for r in records.values() if r is not None))
