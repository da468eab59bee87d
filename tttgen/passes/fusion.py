"""Pass `fusion`: run each elementwise chain as one ttnn call or as a `@ttnn_jit.jit` block, by modeled cost.

Inputs: placements (memory, reshard), dtypes and kernels (precision). Produces: `fusion`. Every eltwise op gets
`jit` (block name or None) and `jit_reason`; chain ops also get `chain_steps` and `one_kernel` (how op_costs prices
the chosen form) and `form_ns` (modeled ns of each form); a chosen block also gets `jit_ops` (its body, ttnn-jit op
names), `jit_memory` (the placement it writes) and `jit_fidelity`.

ttnn-jit's rules (tt-mlir tools/ttnn-jit @19c86fc, reference module-library-facts §1.2-1.3): ops of its lists only,
spelled as its handlers are (`multiply`; `mul` is "not supported"); TILE tensors of f32, bf16 or bfp8, no typecast;
inputs DRAM interleaved or L1 sharded, never L1 interleaved or DRAM sharded, no COL_MAJOR shards. Its output is
"maximally L1 block sharded" unless the decorator's memory_config says otherwise, so a block always declares the
placement its consumer reads, and is refused when that is a placement ttnn-jit cannot write.
"""

from __future__ import annotations

from dataclasses import dataclass

from tttgen.cost.model import OpCost
from tttgen.ir.configs import MemoryPlacement
from tttgen.ir.graph import Graph, Op
from tttgen.passes.base import make_pass
from tttgen.passes.op_costs import chain_cost

JIT_DTYPES = ("float32", "bfloat16", "bfloat8_b")


@dataclass(frozen=True)
class Chain:
    """An elementwise chain (the IR's `fn`): its ttnn-jit ops in order (a unary op takes the running value, a binary
    op the running value and the next operand), their cost-model steps, and the one ttnn call that runs the whole
    chain in one kernel (None: ttnn needs one op per step)."""

    jit_ops: tuple[str, ...]
    steps: tuple[str, ...]
    ttnn_one_kernel: str | None


CHAINS = {
    "silu_mul": Chain(("silu", "multiply"), ("unary", "mul"), "ttnn.mul(gate, up, input_tensor_a_activations=[SILU])"),
    # Boltz-2 AdaLN's sigmoid(s_scale(s)) * a.
    "sigmoid_mul": Chain(
        ("sigmoid", "multiply"), ("unary", "mul"), "ttnn.multiply(a, b, input_tensor_a_activations=[SIGMOID])"
    ),
}


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


def consumer(graph: Graph, op: Op) -> Op | None:
    """The op that reads `op`'s output: a reshard naming it as its source, else the next op of its mode."""
    later = [o for o in graph.ops if o.mode_key == op.mode_key]
    later = later[[o.key for o in later].index(op.key) + 1 :]
    for o in later:
        if o.facts.get("src") == op.name:
            return o
    return later[0] if later else None


def form_costs(op: Op, graph: Graph, chain: Chain) -> dict[str, OpCost]:
    """Modeled cost of each way to run the chain: `ttnn` (the form ttnn runs), `jit` (one fused block), `unfused`."""
    unfused = chain_cost(op, graph, chain.steps, one_kernel=False)
    fused = chain_cost(op, graph, chain.steps, one_kernel=True)
    return {"ttnn": fused if chain.ttnn_one_kernel else unfused, "jit": fused, "unfused": unfused}


def jit_refusal(op: Op, graph: Graph, chain: Chain) -> str | None:
    """Why this chain cannot be a ttnn-jit block writing its consumer's placement, or None."""
    if not graph.hints.jit:
        return "disabled by hint jit=false"
    d = op.decisions
    dtypes = d["dtypes"]
    if dtypes["in0"] not in JIT_DTYPES:
        return f"dtype {dtypes['in0']} is not supported by ttnn-jit (f32, bf16, bfp8 only)"
    if dtypes["out"] != dtypes["in0"]:
        return f"the output dtype {dtypes['out']} needs a typecast, which ttnn-jit has no op for"
    refusal = jit_input_refusal(d["in0"])
    if refusal:
        return f"input: {refusal}"
    reader = consumer(graph, op)
    if reader is None or reader.decisions.get("in0") is None:
        return "no consumer placement to write: ttnn-jit's default (L1 block-sharded) would reach an unknown reader"
    refusal = jit_output_refusal(reader.decisions["in0"])
    if refusal:
        return f"its consumer {reader.name} reads a placement ttnn-jit cannot write: {refusal}"
    return None


def _us(cost: OpCost) -> str:
    return f"{cost.total_ns / 1000:.1f} us"


def chain_verdict(op: Op, graph: Graph, chain: Chain, refusal: str | None = None) -> dict:
    """The decisions for one chain op: the cheaper form by modeled cost; on a tie the ttnn call, which needs no
    optional package (ttnn_jit is built from tt-mlir, not published on PyPI). `refusal` rules the block out."""
    costs = form_costs(op, graph, chain)
    ttnn_form = chain.ttnn_one_kernel or " then ".join(f"ttnn.{o}" for o in chain.jit_ops)
    common = dict(chain_steps=chain.steps, form_ns={k: c.total_ns for k, c in sorted(costs.items())})
    kept = dict(common, jit=None, one_kernel=chain.ttnn_one_kernel is not None)
    refusal = refusal or jit_refusal(op, graph, chain)
    if refusal:
        return dict(kept, jit_reason=f"no ttnn-jit block: {refusal}; runs {ttnn_form}")
    jit, ttnn = costs["jit"], costs["ttnn"]
    if jit.total_ns < ttnn.total_ns:
        reader = consumer(graph, op)
        memory = reader.decisions["in0"]
        return dict(
            common,
            jit=f"{op.name}_{op.mode}_jit",
            one_kernel=True,
            jit_ops=chain.jit_ops,
            jit_memory=memory,
            jit_fidelity=op.decisions["kernel"].math_fidelity if op.decisions.get("kernel") else "HiFi4",
            jit_reason=(
                f"ttnn-jit block {_us(jit)} modeled vs {_us(ttnn)} for {ttnn_form}; it writes "
                f"{memory.buffer} {memory.layout}, the placement its consumer {reader.name} reads"
            ),
        )
    return dict(
        kept,
        jit_reason=(
            f"{ttnn_form} is one kernel like a ttnn-jit block ({_us(ttnn)} vs {_us(jit)} modeled, unfused "
            f"{_us(costs['unfused'])}); the ttnn call is kept because it is not slower and needs no optional package "
            f"(ttnn_jit is not on PyPI)"
        ),
    )


PREFILL_DISAGREE = "prefill lengths share one forward and one block per op, and not all of them chose it alike"


@make_pass("fusion", requires=("reshard", "precision"), produces=("fusion",))
def fusion(graph: Graph) -> Graph:
    """Run elementwise chains as one ttnn call or a ttnn-jit block, whichever is modeled faster and legal."""
    chains = {op.key: CHAINS[op.facts["fn"]] for op in graph.ops_of("eltwise") if op.facts.get("fn") in CHAINS}
    verdicts = {op.key: chain_verdict(op, graph, chains[op.key]) for op in graph.ops if op.key in chains}
    # every prefill length's method calls the same block of an op: it is defined once, with one memory_config
    prefill = [op for op in graph.ops if op.key in chains and op.mode == "prefill"]
    for name in sorted({op.name for op in prefill}):
        group = [op for op in prefill if op.name == name]
        if len({(verdicts[op.key]["jit"], verdicts[op.key].get("jit_memory")) for op in group}) > 1:
            for op in group:
                verdicts[op.key] = chain_verdict(op, graph, chains[op.key], refusal=PREFILL_DISAGREE)

    def decide(op: Op) -> Op:
        if op.kind != "eltwise":
            return op
        if op.key in verdicts:
            return op.decide(**verdicts[op.key])
        return op.decide(jit=None, jit_reason=f"'{op.facts.get('fn')}' is a single op, not a chain to fuse")

    return graph.with_ops(decide(op) for op in graph.ops)
