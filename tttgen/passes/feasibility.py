"""Pass `feasibility`: the package must fit the device and every op must obey ttnn's rules.

Inputs: all decisions. Produces: `feasibility` (graph facts `dram` {weights, kv_cache, activations,
reserved (an LM's trace region and sampling buffers), total, capacity} in bytes and `problems`). Stops the build
when they exceed DRAM (or the --dram-budget), naming the shortfall; with fit_check=false it records the problems
instead.
"""

from __future__ import annotations

from math import prod

from tttgen.errors import DoesNotFit
from tttgen.ir.graph import Graph
from tttgen.ops.kinds import kind_of
from tttgen.passes.base import make_pass
from tttgen.passes.op_costs import sampling_buffer_bytes, trace_region_bytes
from tttgen.tiling import ceil_div

GIB = 2**30
ACTIVATION_BUFFERS = 6  # live DRAM activations as large as the largest prefill output (x, h, qkv/w1, w3, out, residual)


def weight_bytes(graph: Graph) -> int:
    tb = graph.device.tile_bytes
    total = 0
    for w in graph.weights:
        dtype = w.decisions["dtype"]
        placement = w.decisions["placement"]
        n = placement.shard_shape[1] * graph.device.dram.banks if placement.layout == "WIDTH_SHARDED" else w.n
        if w.role in ("EMBEDDING", "NORM"):
            size = w.k * n * 2 if w.role == "EMBEDDING" else 32 * n * 2
        else:
            size = ceil_div(w.k, 32) * ceil_div(n, 32) * tb[dtype]
        total += size * w.loop_count  # a per-layer weight's looped call's count, else 1
    return total


def kv_cache_bytes(graph: Graph) -> int:
    """Every KV-cache state tensor, in tiles of the cache dtype: [layers, users or blocks, kv heads, positions
    per user or block, head_dim] (a paged cache holds however many blocks the hints ask for)."""
    tile = graph.device.tile_bytes[graph.facts["kv_dtype"]]
    total = 0
    for shape in graph.facts["state_shapes"].values():
        *outer, rows, cols = shape
        total += prod(outer) * ceil_div(rows, 32) * ceil_div(cols, 32) * tile
    return total


def largest_activation(graph: Graph) -> int:
    """Elements of the largest activation a prefill op writes (its own output shape: per chip on a mesh, n x n rows
    for a pair module), the head's left out: it runs on the last rows only (a causal LM's logits are one tile of
    rows). A graph without prefill ops: every op's."""
    ops = [op for op in graph.ops if op.dataflow and op.scope != "head"]
    prefill = [op for op in ops if op.mode != "decode"] or ops
    return max((prod(shape) for op in prefill for shape in op.dataflow["shapes"]["out"]), default=0)


def activation_bytes(graph: Graph) -> int:
    return ACTIVATION_BUFFERS * largest_activation(graph) * 2  # bfloat16


def rule_problems(graph: Graph) -> list[str]:
    problems = []
    for op in graph.ops:
        found = kind_of(op).rule_problem(op, graph)  # the ttnn rules of the op's own kind
        if found:
            problems.append(f"{op.key}: {found}")
    return problems


def reserved_bytes(graph: Graph) -> int:
    """DRAM a package holds beside weights, caches and activations: the trace region its device is opened with (an
    LM's three decode traces; a module's traced calls) and an LM's sampled_step label and mask tensors."""
    return trace_region_bytes(graph) + sampling_buffer_bytes(graph)


@make_pass("feasibility", requires=("matmul_program", "op_programs", "reshard", "fusion"), produces=("feasibility",))
def feasibility(graph: Graph) -> Graph:
    """Check DRAM capacity and every non-matmul rule; stop with the shortfall when it does not fit."""
    weights, kv, acts = weight_bytes(graph), kv_cache_bytes(graph), activation_bytes(graph)
    reserved = reserved_bytes(graph)
    total = weights + kv + acts + reserved
    capacity = graph.device.dram.bytes_total // graph.device.chips  # per chip: weights and caches are per chip
    budget = graph.hints.dram_budget or capacity
    limit = min(capacity, budget)
    problems = rule_problems(graph)
    if total > limit:
        problems.insert(
            0,
            f"weights {weights / GIB:.2f} GiB + KV cache {kv / GIB:.2f} GiB + activations {acts / GIB:.2f} GiB + "
            f"trace region and sampling buffers {reserved / GIB:.2f} GiB = "
            f"{total / GIB:.2f} GiB exceed the {'DRAM budget' if budget < capacity else 'device DRAM'} of "
            f"{limit / GIB:.2f} GiB by {(total - limit) / GIB:.2f} GiB",
        )
    if problems and graph.hints.fit_check:
        hint = "lower --max-seq-len, use --precision performance, or pick a device with more DRAM"
        raise DoesNotFit(problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""), where=f"{graph.name} on {graph.device.name}", hint=hint)
    return graph.with_facts(
        dram={
            "weights": weights,
            "kv_cache": kv,
            "activations": acts,
            "reserved": reserved,
            "total": total,
            "capacity": limit,
        },
        problems=tuple(problems),
    )
