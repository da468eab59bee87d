"""Pass `projections`: linears that read one tensor run one call each, or fused: one linear over their weights side
by side, then a slice per linear giving its columns back.

A group is every linear of one prefill function reading the same value (a Boltz triangle multiplication's p_a, g_a,
p_b, g_b and g_out all read LN(z); triangle attention's pair_bias, wqkv and gate). The fused form reads the input
once instead of once per linear, but writes all outputs into one tensor that each slice copies out again
(TT-Boltz's [c, 4c] `p_in`/`g_in` linear and `ttnn.chunk`, module-library facts §2.3). Both forms are priced by the
cost model: each linear with the program config the matmul search finds for it (at the chunking pass's rows per
call, the precision pass's dtypes and kernel, weights in DRAM), each slice as the DRAM copy it is; the cheaper form
is kept. Prefill sizes share one function body, so a group's forms are compared summed over every size it runs at.
An override `projection: fused` or `separate` on any member pins its group; a member whose own config is pinned
(program, kernel, memory or dtype) keeps the group separate.

The fused weight is the members' weights concatenated along their columns at load time, each part read from the
same checkpoint keys with the same transforms as before (`Weight.parts`). The slices keep the members' names, so
their outputs, readers and explain rows keep theirs.

Inputs: precision (dtypes, kernels), chunking (rows per call). Produces: `projections` (op decisions `projection`
(fused or separate), `projection_group`, `projection_reason` and `projection_ns` (each form's modeled time) on each
member and on the fused linear; graph fact `projection_groups`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tttgen.errors import InputError
from tttgen.ir.configs import DRAM_INTERLEAVED, MatmulShape
from tttgen.ir.facts import OpDecisions, WeightDecisions
from tttgen.ir.graph import Graph, Op, Weight, frozen
from tttgen.ops.kinds import KINDS
from tttgen.ops.kinds.base import rows_dim
from tttgen.passes.base import make_pass
from tttgen.passes.matmul_program import baseline_seeds, l1_reserve, search
from tttgen.passes.precision import override_entry
from tttgen.rules.placement import dram_sharded_weight
from tttgen.scoring import op_time_ns

FUSED, SEPARATE = "fused", "separate"
CONFIG_PINS = ("program_config", "compute_kernel_config", "memory_config", "dtype")


def _local(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def functions_of(graph: Graph) -> dict[tuple[str, str], str]:
    """(mode, op name) -> the path of the module function whose body holds the op."""
    return {
        (fn["mode"], entry["op"]): fn["path"]
        for fn in graph.facts.get("functions", ())
        for entry in fn["body"]
        if "op" in entry
    }


def groups_of(graph: Graph) -> dict[tuple[str, str, str], list[str]]:
    """(mode, function path, input value) -> the names of the linears reading it, in program order: each prefill
    linear with the others that read its row chunks (fact `shares_input_with`: the builder's readers of one value
    in one module function)."""
    where = functions_of(graph)
    owners: dict[tuple[str, str], list[str]] = {}
    for op in graph.ops:
        owner = op.facts.get("shares_input_with")
        if op.mode != "prefill" or not owner:
            continue
        names = owners.setdefault((op.mode, owner), [owner])
        if op.name not in names:
            names.append(op.name)
    found = {}
    for (mode, owner), names in owners.items():
        first = next(o for o in graph.ops if o.mode == mode and o.name == owner)
        found[(mode, where.get((mode, owner), ""), first.dataflow["in"]["input"])] = names
    return found


def _pin(graph: Graph, ops: list[Op]) -> tuple[str | None, str | None]:
    """(form, where) pinned by an override `projection` on a member, or (None, None); members pinned to both forms
    are a user error."""
    pins: dict[str, str] = {}
    for op in ops:
        entry = override_entry(graph, op)
        if entry and entry[1].projection:
            pins.setdefault(entry[1].projection, f"{graph.hints.source} overrides.{entry[0]}")
    if len(pins) > 1:
        raise InputError(
            f"the linears {', '.join(_local(o.name) for o in ops)} read one tensor and run fused or separate together; "
            f"their overrides pin both ({', '.join(f'{f} by {w}' for f, w in sorted(pins.items()))})",
            where=f"{graph.hints.source}: overrides",
            hint="pin projection on one member, or the same form on all (allowed: fused, separate)",
        )
    return next(iter(pins.items()), (None, None))


def alone(graph: Graph, op: Op) -> str | None:
    """Why this linear cannot be part of a fused one, or None."""
    w = graph.weight(op.weight)
    name = _local(op.name)
    if op.facts.get("bias"):
        return f"{name} has a bias"
    if op.facts.get("activation"):
        return f"{name} fuses an activation"
    if "mesh" in op.decisions:
        return f"{name} is placed on a mesh (each op's split is decided before this pass)"
    entry = override_entry(graph, op)
    pinned = [f for f in CONFIG_PINS if entry and getattr(entry[1], f) is not None]
    if pinned:
        return f"{name}'s {', '.join(pinned)} is pinned"
    if w.generator is not None or w.parts or not w.hf_names:
        return f"{name}'s weight is not read from checkpoint keys"
    if sum(1 for o in graph.ops if o.weight == op.weight and o.mode_key == op.mode_key) > 1:
        return f"{name}'s weight is read by another op too"
    return None


def compatible(graph: Graph, op: Op) -> tuple:
    """What linears fused into one must share: dtypes, kernel, rows per call, weight group, dtype and layer loop."""
    w, d = graph.weight(op.weight), op.decisions
    dtypes = (d["dtypes"]["in0"], d["dtypes"]["in1"], d["dtypes"]["out"])
    return (dtypes, d["kernel"], d["shape"].m, d["shape"].batch, w.role, w.decisions.get("dtype"), w.per_layer, w.loop,
            w.loop_count, w.k)


def candidates(graph: Graph, readers: list[str]) -> tuple[list[list[str]], dict[str, str]]:
    """The reader groups that could run as one linear (two or more, same `compatible` key at every size), and why
    each other reader stays alone."""
    keys = [key for key in graph.mode_keys() if key != "decode"]
    left: dict[str, str] = {}
    groups: dict[tuple, list[str]] = {}
    for name in readers:
        ops = [o for o in graph.ops if o.name == name and o.mode_key in keys]
        why = next((r for r in (alone(graph, o) for o in ops) if r), None)
        if why:
            left[name] = why
            continue
        groups.setdefault(tuple(compatible(graph, o) for o in ops), []).append(name)
    found = []
    for members in groups.values():
        if len(members) > 1:
            found.append(members)
        else:
            left[members[0]] = f"{_local(members[0])} has no sibling of its weight group, dtypes, kernel and rows"
    return found, left


def _linear_ns(graph: Graph, op: Op, n: int) -> float:
    """`op` with `n` output columns, as the memory and matmul_program passes would run it: the faster of its weight
    DRAM-sharded or interleaved, each with the fastest legal config the search finds (baseline configs seeded)."""
    d = op.decisions
    shape = replace(d["shape"], n=n)
    dtypes = (d["dtypes"]["in0"], d["dtypes"]["in1"], d["dtypes"]["out"])
    seeds = baseline_seeds(graph, op, shape)
    best = float("inf")
    for placement in (dram_sharded_weight(shape.k, n, graph.device), DRAM_INTERLEAVED):
        found, _, _ = search(graph.device, shape, d["kernel"], dtypes, placement, False, seeds, l1_reserve(graph, op), counted=False)
        if found is not None:
            best = min(best, found.time_ns)
    return best


def _slice_ns(graph: Graph, member: Op) -> float:
    """The slice that would take the place of `member` in the fused form, priced by the slice kind itself."""
    out_shape = member.dataflow["shapes"]["out"][0]
    piece = replace(member, kind="slice", shape=None, weight=None, facts=frozen(rows_dim(tuple(out_shape))))
    step, facts = KINDS["slice"].cost_facts(piece, None)
    return op_time_ns(graph.device, step, **facts).total_ns


def forms_ns(graph: Graph, ops: list[Op]) -> dict[str, float]:
    """Modeled time of one size's group in each form: the linears as described, or one linear and the slices."""
    widths = [graph.weight(op.weight).n for op in ops]
    separate = sum(_linear_ns(graph, op, n) for op, n in zip(ops, widths))
    fused = _linear_ns(graph, ops[0], sum(widths))
    fused += sum(_slice_ns(graph, op) for op in ops)
    return {SEPARATE: separate, FUSED: fused}


# ---------------------------------------------------------------- the fused form in the graph


def _fused_names(graph: Graph, members: list[str], mode: str, path: str) -> tuple[str, str]:
    """The fused linear's (op and weight) name, its members' names joined under their common prefix, and its output
    value's name, their outputs' joined; neither used in its function or graph yet."""
    prefix = members[0].rsplit(".", 1)[0] + "." if "." in members[0] else ""
    qualified = prefix + "_".join(_local(m) for m in members)
    where = functions_of(graph)
    ops = [o for o in graph.ops if o.mode == mode and o.dataflow and where.get((mode, o.name)) == path]
    used = {v for o in ops for v in o.dataflow.get("out", ())}
    used |= {v for o in ops for v in o.dataflow["in"].values() if isinstance(v, str)}
    outs = [next(o for o in ops if o.name == m).dataflow["out"][0] for m in members]
    value = "_".join(outs)
    taken = {o.name for o in graph.ops} | {w.name for w in graph.weights}
    while value in used or qualified in taken:
        value, qualified = value + "_fused", qualified + "_fused"
    return qualified, value


def fused_weight(graph: Graph, members: list[str], name: str) -> Weight:
    parts = tuple(graph.weight(m_weight) for m_weight in members)
    w0 = parts[0]
    width = sum(w.n for w in parts)
    return Weight(
        name=name,
        role=w0.role,
        k=w0.k,
        n=width,
        hf_names=tuple(k for w in parts for k in w.hf_names),
        per_layer=w0.per_layer,
        decisions=WeightDecisions().updated(dtype=w0.decisions["dtype"]),
        shape=(w0.k, width),
        loop=w0.loop,
        loop_count=w0.loop_count,
        parts=parts,
    )


def _fuse_size(ops: list[Op], name: str, value: str, weight: Weight, decision, owner: str | None) -> list[Op]:
    """The fused linear, then one slice per member (same name, output and readers as the member). `owner`: the
    linear whose row chunks the fused one reads (None: the fused one makes them, as its first member did)."""
    first = ops[0]
    in_shape = tuple(first.dataflow["shapes"]["in"]["input"])
    out_shape = list(in_shape[:-1]) + [weight.n]
    facts = {k: v for k, v in first.facts.items() if k != "shares_input_with"}
    if owner is not None:
        facts["shares_input_with"] = owner
    flow = {
        "kind": "linear",
        "in": {"input": first.dataflow["in"]["input"], "weight": {"weight": weight.name}},
        "out": [value],
        "attrs": {},
        "shapes": {"in": {"input": in_shape, "weight": (weight.k, weight.n)}, "out": [out_shape]},
        "producers": dict(first.dataflow.get("producers", {})),
    }
    shape = first.decisions["shape"]
    fused = Op(
        name=name,
        kind="linear",
        mode=first.mode,
        mode_name=first.mode_name,
        seq=first.seq,
        scope=first.scope,
        shape=MatmulShape(first.shape.m, weight.k, weight.n, first.shape.batch),
        weight=weight.name,
        facts=frozen(facts),
        decisions=OpDecisions().updated(
            **{k: v for k, v in first.decisions.items() if k in ("dtypes", "kernel")},
            **({"calls": first.decisions["calls"]} if owner is None and "calls" in first.decisions else {}),
            shape=replace(shape, n=weight.n),
            **decision(name),
        ),
        dataflow=frozen(flow),
    )
    out = [fused]
    offset = 0
    for op, part in zip(ops, weight.parts):
        member_out = list(op.dataflow["shapes"]["out"][0])
        begins = [0] * len(out_shape)
        begins[-1] = offset
        ends = list(out_shape)
        ends[-1] = offset + part.n
        offset += part.n
        dtype = op.decisions["dtypes"]["out"]
        slice_facts = rows_dim(tuple(member_out))
        if "loop_count" in op.facts:
            slice_facts["loop_count"] = op.facts["loop_count"]
        out.append(
            Op(
                name=op.name,
                kind="slice",
                mode=op.mode,
                mode_name=op.mode_name,
                seq=op.seq,
                scope=op.scope,
                facts=frozen(slice_facts),
                decisions=OpDecisions().updated(dtypes={"in0": dtype, "in1": None, "out": dtype}, kernel=None, **decision(op.name)),
                dataflow=frozen(
                    {
                        "kind": "slice",
                        "in": {"input": value},
                        "out": list(op.dataflow["out"]),
                        "attrs": {"begins": begins, "ends": ends},
                        "shapes": {"in": {"input": tuple(out_shape)}, "out": [member_out]},
                        "producers": {"input": name},
                    }
                ),
            )
        )
    return out


def _decision(form: str, group: str, reason: str, ns: dict[str, float]) -> dict[str, Any]:
    """The op decisions of a group's members (flat: texts that name ops are top-level strings)."""
    return {"projection": form, "projection_group": group, "projection_reason": reason, "projection_ns": dict(ns)}


def _with_body_entry(functions, mode: str, path: str, before: str, name: str):
    """The module functions with {"op": name} before member `before` in the function at (mode, path)."""
    out = []
    for fn in functions:
        if fn["mode"] == mode and fn["path"] == path:
            body = []
            for entry in fn["body"]:
                if entry.get("op") == before:
                    body.append({"op": name})
                body.append(entry)
            fn = {**fn, "body": body}
        out.append(fn)
    return tuple(out)


@make_pass("projections", requires=("precision", "chunking"), produces=("projections",))
def projections(graph: Graph) -> Graph:
    """Run linears that read one tensor as one fused linear and slices where that models faster (or is pinned)."""
    records = []
    decided: dict[tuple[str, str], dict[str, Any]] = {}  # (mode, op name) -> its projection decision
    fuse: list[tuple[list[str], list[str], str, str, dict[str, Any]]] = []
    for (mode, path, value), readers in sorted(groups_of(graph).items()):
        groups, left = candidates(graph, readers)
        for m, why in left.items():
            pinned, pinned_by = _pin(graph, [o for o in graph.ops if o.name == m and o.mode == mode])
            if pinned == FUSED:
                raise InputError(f"{_local(m)} cannot run in a fused linear: {why}", where=f"{pinned_by}.projection",
                                 hint="allowed: separate")
        for members in groups:
            sizes = [
                [graph.op(f"{key}.{m}") for m in members]
                for key in graph.mode_keys()
                if key != "decode" and any(o.mode_key == key and o.name == members[0] for o in graph.ops)
            ]
            group = f"{mode}.{members[0]}:{value}"  # the first member's input (op names, not the function's path)
            pinned, pinned_by = _pin(graph, [o for ops in sizes for o in ops])
            ns = {SEPARATE: 0.0, FUSED: 0.0}
            for ops in sizes:
                for form, t in forms_ns(graph, ops).items():
                    ns[form] += t
            if pinned:
                form, reason = pinned, f"pinned by {pinned_by}"
            elif ns[FUSED] < ns[SEPARATE]:
                form, reason = FUSED, "fused: one linear and slices model faster than one linear each"
            else:
                form, reason = SEPARATE, "one linear each: the fused linear's slices copy more than the input reads it saves"
            reason += f" ({ns[FUSED] / 1000:.1f} us fused against {ns[SEPARATE] / 1000:.1f} us)"
            if left:
                reason += "; read alone: " + "; ".join(left.values())
            record = {"id": group, "mode": mode, "members": [_local(m) for m in members], "form": form, "reason": reason,
                      "form_ns": dict(ns), "fused_op": None}
            records.append(record)
            for m in members:
                decided[(mode, m)] = _decision(form, group, reason, ns)
            if form == FUSED:
                fuse.append((members, readers, mode, path, record))

    grouped = {(mode, m) for (mode, _, _), readers in groups_of(graph).items() for m in readers}
    stray = sorted({entry[0] for op in graph.ops if (entry := override_entry(graph, op)) and entry[1].projection
                    and (op.mode, op.name) not in grouped})
    if stray:
        raise InputError(
            f"{', '.join(stray)}: projection pins a linear that shares its input with another linear of its function; "
            "this op has none",
            where=f"{graph.hints.source}: overrides",
            hint="linears reading one tensor: " + ", ".join(sorted({m for _, m in grouped})) if grouped else "none here",
        )
    ops = [op.decide(**decided[(op.mode, op.name)]) if (op.mode, op.name) in decided else op for op in graph.ops]
    graph = graph.with_ops(ops)
    weights = list(graph.weights)
    functions = graph.facts.get("functions", ())
    for members, readers, mode, path, record in fuse:
        name, value = _fused_names(graph, members, mode, path)
        record["fused_op"] = _local(name)
        first_key = next(op.mode_key for op in graph.ops if op.mode == mode and op.name == members[0])
        weight_names = [graph.op(f"{first_key}.{m}").weight for m in members]
        weight = fused_weight(graph, weight_names, name)
        at = next(i for i, w in enumerate(weights) if w.name == weight_names[0])
        weights = weights[:at] + [weight] + [w for w in weights[at:] if w.name not in weight_names]

        def decision(op_name: str, record=record):
            return _decision(FUSED, record["id"], record["reason"], record["form_ns"])

        owner = None if readers[0] in members else readers[0]  # the first reader makes the row chunks
        new_ops: list[Op] = []
        for op in graph.ops:
            if op.mode == mode and op.name in members:
                if op.name == members[0]:
                    size = [graph.op(f"{op.mode_key}.{m}") for m in members]
                    new_ops += _fuse_size(size, name, value, weight, decision, owner)
                continue
            if op.mode == mode and owner is None and op.facts.get("shares_input_with") == readers[0]:
                op = replace(op, facts=frozen({**op.facts, "shares_input_with": name}))  # reads the fused one's chunks
            new_ops.append(op)
        graph = graph.with_ops(new_ops).with_weights(weights)
        functions = _with_body_entry(functions, mode, path, members[0], name)
    return graph.with_facts(functions=functions, projection_groups=tuple(records))
