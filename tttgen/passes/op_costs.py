"""Pass `op_costs`: modeled time of every non-matmul op, and per-mode totals.

Inputs: placements, chunk sizes, dtypes, kernels and the form of each elementwise chain (fusion).
Produces: `op_costs` (decisions `time_ns`, `binding`, `cost` on every op that runs; graph fact `mode_time_ns`: mode key -> modeled device time of
one forward (decoder layers x layer count + embedding + head), op-to-op gaps included; `host_io_ns`: mode key -> host time of one call of
the package's entry for it (input copies, trace replay, output reads over PCIe); `emitted_time_ns`: what one such call costs as emitted).
Costs come from the calibrated model (tttgen.cost); reshards the reshard pass elided cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tttgen.cost.ccl import collective_on_mesh_ns
from tttgen.cost.host import HostIO, host_io_ns, tensor_bytes
from tttgen.cost.measured import measured, sampling_ns, topk_ns
from tttgen.cost.model import OpCost, estimate_eltwise_chain, estimate_matmul
from tttgen.ir.configs import MemoryPlacement
from tttgen.ir.graph import Graph, Op
from tttgen.ops.kinds import kind_of
from tttgen.ops.kinds.base import CostTools
from tttgen.ops.kinds.linear import pads_columns
from tttgen.passes.base import make_pass
from tttgen.scoring import op_time_ns
from tttgen.tiling import even_chunks, pow2_splits

BYTES_BF16 = 2


def storage(p: MemoryPlacement | None) -> str:
    if p is None or p.buffer == "DRAM":
        return "dram"
    return "sharded" if p.sharded else "l1"


def cost_tools(op: Op, graph: Graph, kv_len: int, traced: bool = True) -> CostTools:
    """What an op's kind needs to price it (tttgen/ops/kinds/ cost_facts and cost)."""
    d = op.decisions
    return CostTools(
        src=storage(d.get("in0")),
        dst=storage(d.get("out")),
        fidelity=d["kernel"].math_fidelity if d.get("kernel") else "HiFi4",
        device_cores=graph.device.grid.cores,
        users=graph.facts["decode_users"],
        kv_len=kv_len,
        kv_tile_kb=graph.device.tile_bytes[graph.facts["kv_dtype"]] / 1024,
        kv_dtype=graph.facts["kv_dtype"],
        op_time=lambda kind, traced, **facts: op_time_ns(graph.device, kind, traced=traced, **facts),
        estimate_matmul=lambda *args, **kwargs: estimate_matmul(graph.device, *args, **kwargs),
        chain_cost=lambda o, steps, one_kernel, traced: chain_cost(o, graph, steps, one_kernel, traced),
        traced=traced,
        collective=lambda name, axis, size: collective_cost(graph, name, axis, size),
    )


def collective_cost(graph: Graph, name: str, axis: int, size_bytes: float) -> OpCost:
    """One collective along a mesh axis (tttgen/cost/ccl.py), with the op gap every dispatched op pays."""
    ns = collective_on_mesh_ns(graph.device, name, axis, size_bytes)
    gap = graph.device.op_gap.traced_ns
    return OpCost(
        total_ns=ns + gap,
        compute_ns=0.0,
        dram_ns=0.0,
        noc_ns=ns,
        overhead_ns=gap,
        binding="ccl",
        active_cores=0,
        utilization=0.0,
        dram_bytes=0,
        device_ns=ns,
        op_gap_ns=gap,
    )


def chain_cost(op: Op, graph: Graph, steps: tuple[str, ...], one_kernel: bool, traced: bool = True) -> OpCost:
    """An elementwise chain op run as one kernel or as one ttnn op per step."""
    d = op.decisions
    return estimate_eltwise_chain(
        graph.device,
        steps,
        elements=op.facts["rows"] * op.facts["dim"],
        one_kernel=one_kernel,
        storage=storage(d.get("in0")),
        dtype=d["dtypes"]["in0"],
        fidelity=d["kernel"].math_fidelity if d.get("kernel") else "HiFi4",
        traced=traced,
    )


def op_cost(op: Op, graph: Graph, kv_len: int, traced: bool = True) -> OpCost | None:
    """An op's modeled cost, as its kind prices it (None: it does not run)."""
    return kind_of(op).cost(op, cost_tools(op, graph, kv_len, traced))


def runs_per_call(graph: Graph, op: Op) -> int:
    """How often one call of its mode runs the op (Op.runs: its looped call's count times its repeated calls')."""
    return op.runs


def mode_totals(graph: Graph, time_of) -> dict[str, float]:
    """Per mode: every op's ns (`time_of(op)`) times its runs per call (layer ops x layers + embedding and head)."""
    totals: dict[str, float] = {}
    for op in graph.ops:
        totals[op.mode_key] = totals.get(op.mode_key, 0.0) + time_of(op) * runs_per_call(graph, op)
    return totals


@make_pass("op_costs", requires=("matmul_program", "op_programs", "reshard", "fusion", "step_state"), produces=("op_costs",))
def op_costs(graph: Graph) -> Graph:
    """Model every op's time so explain, the benchmark and the totals see whole forwards."""
    kv_len = graph.hints.max_seq_len

    def decide(op: Op) -> Op:
        if kind_of(op).priced_by_program_search:
            return op
        cost = op_cost(op, graph, kv_len)
        if cost is None:
            return op.decide(time_ns=0.0, binding="-", cost=None)
        return op.decide(time_ns=cost.total_ns, binding=cost.binding, cost=cost)

    graph = graph.with_ops(decide(op) for op in graph.ops)
    totals = mode_totals(graph, lambda op: op.decisions["time_ns"])
    host = {k: host_io_ns(graph.device.host_link, entry_host_io(graph, k)) for k in totals}
    emitted = emitted_totals(graph, totals, host)
    facts = {"mode_time_ns": totals, "host_io_ns": host, "emitted_time_ns": emitted}
    # what the package prints of its traces and of sampled_step (the renderer reads these, never computes them)
    facts["traced_modes"] = tuple(sorted(traced_modes(graph)))
    facts["trace"] = {"ops": trace_ops(graph), "bytes_per_op": TRACE_BYTES_PER_OP, "region_bytes": trace_region_bytes(graph)}
    facts["sampling_plan"] = None if graph.entry.is_module else sampling_plan(graph)
    if "decode" in traced_modes(graph):
        link = graph.device.host_link
        emitted["decode"] += advance_ns(graph)  # the step advances its own inputs (step_state)
        facts["decode_host_transfers"] = {
            tail: per_token_transfers(graph, None if tail == "logits" else tail) for tail in ("logits", *TAILS)
        }
        facts["greedy_decode_ns"] = (
            totals["decode"] + greedy_tail_ns(graph) + host_io_ns(link, entry_host_io(graph, "decode", tail="greedy"))
        )
        facts["sampled_decode_ns"] = (
            totals["decode"]
            + tail_ns(graph, "sampled")
            + host_io_ns(link, entry_host_io(graph, "decode", tail="sampled"))
        )
    return graph.with_facts(**facts)


def calls_of(op: Op) -> int:
    """ttnn calls one op makes: a column-chunked matmul moves its input out of DRAM when it runs decode configs in
    prefill, runs and moves each chunk, concatenates, and slices off the padding when its chunks pad the columns."""
    chunks = op.decisions.get("column_chunks", 1)
    if chunks == 1:
        return 1
    return 2 * chunks + 1 + int(pads_columns(op)) + int(op.decisions.get("in0_moved", False))


def dispatched_ops(graph: Graph, key: str) -> int:
    """Ops one call of a mode dispatches: each op once per loop iteration, moves that are not elided, a ttnn-jit
    block once (its inner ops are not dispatched)."""
    count = 0
    for op in graph.ops:
        d = op.decisions
        if op.mode_key != key or d.get("elide") or d.get("jit_member_of"):
            continue
        count += calls_of(op) * runs_per_call(graph, op)
    return count


def traced_modes(graph: Graph) -> frozenset[str]:
    """The modes the emitted code replays as a trace: a causal LM's decode step (templates/lm.py.j2)."""
    return frozenset() if graph.entry.is_module else frozenset({"decode"})


ELEMENT_BYTES = {"uint32": 4, "int32": 4, "float32": 4}  # host tensors; anything else goes over as bfloat16
ID_BYTES = 4  # the token ids ttnn.argmax and ttnn.sampling write (uint32), one per user
SAMPLING_CANDIDATES = 32  # ttnn.sampling (0.81.1 docstring): top_k in (0, 32], W a power-of-two multiple of 32
# the ops each decode tail adds after the model's last op (templates/lm.py.j2 greedy_step / sampled_step)
TAILS = ("greedy", "sampled")


def sampling_plan(graph: Graph) -> dict[str, Any]:
    """What sampled_step prints. ttnn.topk takes its multi-core factory only on power-of-two widths below 65536
    (tttgen.cost.measured; single-core it is ~50x slower on a Llama vocab), so the logits go through it in the
    fewest power-of-two count of near-equal tile-aligned chunks, each padded with -inf to one power-of-two width;
    the chunks' candidates together are a power-of-two multiple of 32, as ttnn.sampling takes them. A vocab off the
    tile grid gets a -inf mask over the head's padded columns (they would otherwise hold logits of 0)."""
    columns = _logits_columns(graph)
    limit_tiles = (measured()["topk_k32_rows32"]["multi_core_max_width"] + 1) // 32
    splits, width_tiles = pow2_splits(columns // 32, limit_tiles)
    chunks = [(a * 32, b * 32) for a, b in even_chunks(columns // 32, splits)]
    width = width_tiles * 32
    return {
        "candidates": SAMPLING_CANDIDATES,
        "columns": columns,
        "vocab_mask": columns != _head(graph).facts["vocab_size"],
        "chunks": chunks,
        "chunk_width": width,
        "pad": any(end - start < width for start, end in chunks),
    }


def _head(graph: Graph) -> Op:
    return next(op for op in reversed(graph.ops) if op.mode == "decode" and op.kind == "linear")


def _logits_columns(graph: Graph) -> int:
    """The logits' columns the decode tails read: on a mesh whose head splits the vocabulary, all chips' slices
    (the package gathers them first)."""
    head = _head(graph)
    states = (head.decisions.get("mesh") or {}).get("out", ())
    chips = graph.device.mesh_shape
    split = 1
    for axis, state in enumerate(states):
        if state == "S-1":
            split *= chips[axis]
    return head.dataflow["shapes"]["out"][0][-1] * split


@dataclass(frozen=True)
class TailOp:
    """One ttnn call a decode tail makes (templates/lm.py.j2 greedy_step / sampled_step), priced by what it does:
    data movement over `moves` (source storage, bytes in, bytes out), a published measured kernel time
    (`kernel_ns`, tttgen.cost.measured), or nothing: ttnn returns its input (probed on the 0.81.1 mock device)."""

    call: str
    moves: tuple[str, int, int] | None = None
    kernel_ns: float | None = None


def tail_ops(graph: Graph, tail: str) -> list[TailOp]:
    """The calls a decode tail adds after the head, in order.

    greedy: logits to DRAM (a no-op where the head wrote DRAM, as a column-chunked head does), untilize, slice off
    the padded vocab (a no-op over the whole tensor), argmax (reads the logits, writes one id per user). sampled:
    logits to DRAM, the -inf vocab mask added (a tile-padded vocab), per chunk a slice (several chunks), a -inf pad
    (sampling_plan) and topk, the chunks' candidates and ids concatenated (several chunks), the ids untilized, the
    ttnn.sampling draw."""
    head = _head(graph)
    rows, cols = graph.facts["decode_rows"], _logits_columns(graph)
    size = rows * cols * BYTES_BF16
    source = storage(head.decisions.get("out"))
    # a column-chunked head already concatenated its chunks in DRAM
    in_dram = source == "dram" or head.decisions.get("column_chunks", 1) != 1
    ops = [TailOp("to_memory_config", None if in_dram else (source, size, size))]
    if tail == "greedy":
        vocab_slice = ("dram", size, size) if cols != head.facts["vocab_size"] else None
        return ops + [
            TailOp("to_layout", ("dram", size, size)),
            TailOp("slice", vocab_slice),
            TailOp("argmax", ("dram", size, rows * ID_BYTES)),
        ] + token_write_ops(graph) + advance_ops(graph)
    plan = sampling_plan(graph)
    several = len(plan["chunks"]) > 1
    if plan["vocab_mask"]:
        ops.append(TailOp("add", ("dram", size + cols * BYTES_BF16, size)))
    for start, end in plan["chunks"]:
        chunk = rows * (end - start) * BYTES_BF16
        if several:
            ops.append(TailOp("slice", ("dram", chunk, chunk)))
        if plan["pad"]:
            ops.append(TailOp("pad", ("dram", chunk, rows * plan["chunk_width"] * BYTES_BF16)))
        ops.append(TailOp("topk", kernel_ns=topk_ns(plan["chunk_width"])))
    candidates = rows * SAMPLING_CANDIDATES * len(plan["chunks"])
    if several:
        ops += [
            TailOp("concat", ("dram", candidates * BYTES_BF16, candidates * BYTES_BF16)),
            TailOp("concat", ("dram", candidates * ID_BYTES, candidates * ID_BYTES)),
        ]
    return ops + [
        TailOp("to_layout", ("dram", candidates * ID_BYTES, candidates * ID_BYTES)),
        TailOp("sampling", kernel_ns=sampling_ns()),
    ] + token_write_ops(graph) + advance_ops(graph)


def token_write_ops(graph: Graph) -> list[TailOp]:
    """A greedy or sampled step writes its ids into the next step's token input (step_state `next_token`): a
    row-major reshape (a view: no data moves) and ttnn.copy of one id per user."""
    state = graph.facts.get("step_state") or {}
    if not any(i["advance"] == "next_token" for i in state.get("inputs", ())):
        return []
    ids = graph.facts["decode_rows"] * ID_BYTES
    return [TailOp("reshape"), TailOp("copy", ("dram", ids, ids))]


def advance_ops(graph: Graph) -> list[TailOp]:
    """Every decode step advances its position-like inputs in place (step_state `plus_one*`): one ttnn.plus_one
    each, a one-core kernel over a few hundred bytes, priced as that small a move."""
    state = graph.facts.get("step_state") or {}
    ops = []
    for i in state.get("inputs", ()):
        if (i["advance"] or "").startswith("plus_one"):
            nbytes = ELEMENT_BYTES.get(i["dtype"], 2)
            for d in i["shape"]:
                nbytes *= d
            ops.append(TailOp("plus_one", ("dram", nbytes, nbytes)))
    return ops


def advance_ns(graph: Graph) -> float:
    """Modeled device time of a decode step's own input advances (advance_ops)."""
    return _ops_ns(graph, advance_ops(graph))


def tail_moves(graph: Graph, tail: str) -> list[tuple[str, int, int]]:
    """The data movement of a decode tail's calls (tail_ops), each (source storage, bytes in, bytes out)."""
    return [op.moves for op in tail_ops(graph, tail) if op.moves is not None]


def tail_ns(graph: Graph, tail: str) -> float:
    """Modeled device time of a decode tail: each call's data movement or measured kernel, op-to-op gaps included."""
    return _ops_ns(graph, tail_ops(graph, tail))


def _ops_ns(graph: Graph, ops: list[TailOp]) -> float:
    device = graph.device
    total = 0.0
    for op in ops:
        if op.moves is not None:
            src, b_in, b_out = op.moves
            total += op_time_ns(device, "reshard", bytes_in=b_in, bytes_out=b_out, src=src, dst="dram").total_ns
        elif op.kernel_ns is not None:
            total += op.kernel_ns + device.op_gap.traced_ns
    return total


def tail_calls(graph: Graph, tail: str) -> int:
    """The ttnn calls a decode tail dispatches, no-ops included (tail_ops)."""
    return len(tail_ops(graph, tail))


TRACE_BYTES_PER_OP = 32 * 1024  # assumed commands per dispatched op in a trace (no measured figure found)


def trace_ops(graph: Graph) -> int:
    """Ops the traces hold together. A causal LM: the decode step returning logits, greedy_step and sampled_step
    may each be captured (templates/lm.py.j2). A module package whose modes run device ops only (step_state's
    module_traces): one trace per mode, and the sampler's loop as one more (its mode's ops, count times)."""
    modules = graph.facts.get("module_traces")
    if modules is not None:
        if not modules["traceable"]:
            return 0
        total = sum(dispatched_ops(graph, key) for key in graph.mode_keys())
        sampler = graph.facts.get("sampler")
        if sampler:
            total += sampler["count"] * dispatched_ops(graph, sampler["mode_key"])
        return total
    if "decode" not in traced_modes(graph):
        return 0
    return 3 * dispatched_ops(graph, "decode") + len(advance_ops(graph)) + sum(tail_calls(graph, tail) for tail in TAILS)


def trace_region_bytes(graph: Graph) -> int:
    """The trace region the LM opens its device with (configs.TRACE_REGION_SIZE), in whole MiB."""
    return -(-trace_ops(graph) * TRACE_BYTES_PER_OP // 2**20) * 2**20


def sampling_buffer_bytes(graph: Graph) -> int:
    """sampled_step's persistent device tensors: one uint32 label tile-row block per topk chunk and, for a vocab off
    the tile grid, the bfloat16 -inf mask (one tile row of the logits' columns)."""
    if "decode" not in traced_modes(graph):
        return 0
    plan = sampling_plan(graph)
    rows = 32
    labels = len(plan["chunks"]) * rows * plan["chunk_width"] * ID_BYTES
    return labels + (rows * plan["columns"] * BYTES_BF16 if plan["vocab_mask"] else 0)


def greedy_tail_ns(graph: Graph) -> float:
    """The device ops decode_forward(greedy=True) adds after the head (tail_moves)."""
    return tail_ns(graph, "greedy")


def entry_host_io(graph: Graph, key: str, tail: str | None = None) -> HostIO:
    """What one call of the package's entry for a mode moves between host and device, in steady state. A causal LM's
    prefill copies every tensor input in and reads the logits back. Its decode step keeps its inputs on the device
    (step_state): it copies only the inputs step_state still copies per token for this tail (the tokens when the
    host reads the logits and picks them; nothing with a greedy or sampled tail, whose ids become the next step's
    tokens on device; the page table and sampling parameters only when they change), and reads the logits, or with
    a decode tail ("greedy", "sampled") one id per user. A traced mode adds its trace replay. A module package's
    forward takes and returns device tensors: no host traffic."""
    if graph.entry.is_module:
        return HostIO()
    io = graph.facts["io"][key]
    state = graph.facts.get("step_state")
    names = list(io["inputs"])
    if key == "decode" and state:
        names = state["per_token"][tail or "logits"]
    inputs = tensor_bytes((tuple(io["inputs"][n]), ELEMENT_BYTES.get(io["dtypes"].get(n), 2)) for n in names)
    users = graph.facts["decode_rows"]
    if tail == "sampled" and not (state and "top_k" in state["on_change"]):
        inputs += (users * ID_BYTES, users * BYTES_BF16, users * BYTES_BF16)
    if tail is not None:
        outputs: tuple[int, ...] = (users * ID_BYTES,)
    else:
        outputs = tensor_bytes((tuple(s), 2) for s in io["outputs"].values())
    return HostIO(inputs=inputs, outputs=outputs, other_calls=1 if key in traced_modes(graph) else 0)


def per_token_transfers(graph: Graph, tail: str | None) -> dict[str, Any]:
    """A steady decode step's host transfers (explain, the README, the benchmark): tensors copied in and read out,
    their host time without the trace replay's call (`transfer_ns`), and the share of it that is the output read."""
    io = entry_host_io(graph, "decode", tail)
    link = graph.device.host_link
    copies = host_io_ns(link, HostIO(inputs=io.inputs))
    reads = host_io_ns(link, HostIO(outputs=io.outputs))
    return {"in": len(io.inputs), "out": len(io.outputs), "in_ns": copies, "read_ns": reads, "transfer_ns": copies + reads}


def untraced_time_ns(graph: Graph, key: str, names: set[str] | None = None) -> float:
    """One call of a mode run op by op (no trace): the host enqueues each ttnn call while the device runs the one
    before, so each dispatched op takes the longer of its device time (traced gap included) and the host's cost
    of one call (profile host_link.host_call_ns, measured). `names`: only those ops."""
    per_call = graph.device.host_link.host_call_ns
    total = 0.0
    for op in graph.ops:
        d = op.decisions
        if op.mode_key != key or d.get("elide") or d.get("jit_member_of") or (names is not None and op.name not in names):
            continue
        total += max(d.get("time_ns", 0.0), calls_of(op) * per_call) * runs_per_call(graph, op)
    return total


def emitted_totals(graph: Graph, totals: dict[str, float], host: dict[str, float]) -> dict[str, float]:
    """Per mode, what one call of the emitted code costs: a traced mode its op times (traced op-to-op gaps); a mode
    the package does not trace, op by op bound by device or host dispatch (untraced_time_ns); then the call's host
    traffic, serial with the device work (each call waits for its outputs)."""
    traced = traced_modes(graph)
    return {k: (t if k in traced else untraced_time_ns(graph, k)) + host[k] for k, t in totals.items()}
