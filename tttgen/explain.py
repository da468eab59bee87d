"""`tttgen explain`: the chosen config per op, why, and what it beat."""

from __future__ import annotations

from typing import Any

from tttgen.ir.graph import Graph
from tttgen.ops.kinds import kind_of
from tttgen.inputs.load import InputFile


def _summary(value: Any) -> str:
    if value is None:
        return "-"
    if hasattr(value, "fields") and hasattr(value, "type"):
        f = value.fields()
        short = value.type.replace("MatmulMultiCoreReuse", "").replace("ProgramConfig", "") or "Reuse"
        grid = f.get("compute_with_storage_grid_size")
        parts = [short]
        if grid:
            parts.append(f"grid={grid[0]}x{grid[1]}")
        parts.append(f"pcM={f['per_core_M']} pcN={f['per_core_N']} kbw={f['in0_block_w']}")
        if f.get("out_subblock_h"):
            parts.append(f"sub={f['out_subblock_h']}x{f['out_subblock_w']}")
        return " ".join(parts)
    return type(value).__name__


def _chunks(op) -> str:
    """The chunk sizes the chunking pass chose: row chunks of a matmul called several times, SDPA's q/k chunks."""
    return kind_of(op).chunks_note(op)


def op_flops(graph: Graph, op) -> int:
    """Arithmetic of one op (matmul exact; others counted per element) for the roofline chart."""
    return kind_of(op).flops(op, graph)


def explain_chains(graph: Graph) -> dict[str, dict[str, Any]]:
    """Every candidate elementwise chain the fusion pass weighed (graph fact `fusion_chains`), by id."""
    return {c["id"]: dict(c) for c in graph.facts.get("fusion_chains", ())}


def chain_line(chain: dict[str, Any]) -> str:
    """One candidate chain: its ops in ttnn-jit names, inputs, and the verdict or the first rule that stopped it."""
    ops = " -> ".join(chain["ops"])
    n = chain.get("inputs")
    inputs = f", {n} input{'s' if n != 1 else ''}" if n is not None else ""
    if chain["verdict"] == "fused":
        verdict = f"fused as {chain['block']}"
    elif chain["verdict"] == "kept":
        verdict = "kept as ttnn (not slower)"
    else:
        verdict = f"refused ({chain['rule']})"
    forms = chain.get("form_ns") or {}
    times = f" [jit {forms['jit'] / 1000:.1f} us, ttnn {forms['ttnn'] / 1000:.1f} us]" if forms else ""
    return f"{chain['mode']}: {' + '.join(chain['members'])} ({ops}{inputs}): {verdict}{times}"


def explain_rows(graph: Graph, op_name: str | None = None) -> list[dict[str, Any]]:
    rows = []
    chains = explain_chains(graph)
    for op in graph.ops:
        if op_name and op_name not in (op.name, op.key):
            continue
        d = op.decisions
        row = {
            "op": op.key,
            "kind": op.kind,
            "config": _summary(d.get("program")) + _chunks(op),
            "fidelity": d["kernel"].math_fidelity if d.get("kernel") else "-",
            "dtypes": d.get("dtypes"),
            "time_ns": d.get("time_ns"),
            "binding": d.get("binding", "-"),
            "l1_bytes_per_core": d.get("l1_bytes"),
            "cores": d.get("cores"),
            "utilization": d["cost"].utilization if d.get("cost") is not None else None,
            "flops": op_flops(graph, op),
            "dram_bytes": d["cost"].dram_bytes if d.get("cost") is not None else None,
            "pinned": {"by": d["pinned"]["by"], "fields": list(d["pinned"]["fields"])} if d.get("pinned") else None,
        }
        if "jit_reason" in d:  # elementwise ops: which form runs (ttnn call or ttnn-jit block) and why
            if d.get("jit_member_of"):
                row["config"] = f"inside ttnn-jit block {d['jit']} (called at {d['jit_member_of']})"
            elif d.get("form_ns"):
                row["config"] = f"ttnn-jit block {d['jit']}" if d["jit"] else "one ttnn call"
            row["fusion"] = {
                "jit": d["jit"],
                "reason": d["jit_reason"],
                "form_ns": dict(d.get("form_ns") or {}),
                "chain": chains.get(d.get("jit_chain")),
            }
        if d.get("projection"):  # linears reading one tensor: fused into one linear and slices, or one each
            row["projection"] = {"form": d["projection"], "group": d["projection_group"], "reason": d["projection_reason"],
                                 "form_ns": dict(d["projection_ns"])}
        if op_name and op.kind == "linear" and op.weight:
            row["weight_placement"] = weight_placement(graph, op.weight)
        if op_name:
            row["rejected"] = [{"config": _summary(c.config), "time_ns": c.time_ns, "binding": c.note} for c in d.get("rejected", ())]
            row["pruned_by_rule"] = dict(d.get("pruned", {}))
            row["memory"] = {side: d[side].manifest() if d.get(side) is not None else None for side in ("in0", "in1", "out")}
        rows.append(row)
    return rows


def weight_placement(graph: Graph, name: str) -> dict[str, Any]:
    """Why a weight sits where it does: every placement the memory pass weighed (graph fact `weight_placements`), its
    per-token objective and, per matmul reading the weight, the fastest config with that placement and its bound."""
    w = graph.weight(name)
    chosen = (w.decisions.get("placement"), w.decisions.get("column_chunks"))
    options = []
    for o in graph.facts.get("weight_placements", {}).get(name, ()):
        options.append({
            "placement": o.label,
            "chosen": (o.placement, o.chunks) == chosen,
            "objective_ns": o.objective_ns,
            "readers": [
                {"op": op.key, "time_ns": t, "config": _summary(best.config), "binding": best.note,
                 "cores": best.extra["cost"].active_cores}
                for op, best, t in o.readers
            ],
        })
    return {"weight": name, "options": options}


def _placement_lines(p: dict[str, Any]) -> list[str]:
    lines = [f"    weight {p['weight']}: placements weighed by modeled time per token over the matmuls reading it"]
    if p["options"] and not any(o["chosen"] for o in p["options"]):
        lines.append("      (its placement was set by an override, not chosen among these)")
    for o in p["options"]:
        mark = "chosen" if o["chosen"] else "not chosen"
        total = f"{o['objective_ns'] / 1000:.1f} us/token" if o["objective_ns"] is not None else "no legal config"
        lines.append(f"      {o['placement']} ({mark}): {total}")
        for r in o["readers"]:
            lines.append(
                f"        {r['op']}: {r['time_ns'] / 1000:.1f} us, {r['binding']}-bound on {r['cores']} cores: {r['config']}"
            )
    return lines


def layer_moves(graph: Graph) -> dict[str, dict[str, int]]:
    """Per mode, the reshards of one decoder layer the package runs and those the reshard pass elided (producer
    and consumer placements chosen to match: a norm writing what the next matmul reads)."""
    out: dict[str, dict[str, int]] = {}
    for op in graph.ops:
        if op.kind != "reshard" or op.scope != "layer":
            continue
        counts = out.setdefault(op.mode_key, {"run": 0, "elided": 0})
        counts["elided" if op.decisions.get("elide") else "run"] += 1
    return out


def moves_line(moves: dict[str, dict[str, int]]) -> str | None:
    if not moves:
        return None
    parts = [f"{k} {c['run']} run, {c['elided']} elided" for k, c in moves.items()]
    return "reshards per layer: " + "; ".join(parts)


def step_state_lines(graph: Graph) -> list[str]:
    """What a causal LM's decode step keeps on the device (the step_state pass) and what a steady step still moves
    over PCIe per token, per decode tail (op_costs' decode_host_transfers)."""
    state = graph.facts.get("step_state")
    if not state:
        return []
    kept = [f"{i['name']} ({i['advance']}: {i['why']})" for i in state["inputs"] if i["advance"]]
    lines = ["decode step inputs advanced on device: " + "; ".join(kept)]
    lines.append("copied from the host only when they change: " + ", ".join(state["on_change"]))
    parts = []
    for tail, t in graph.facts.get("decode_host_transfers", {}).items():
        copied = ", ".join(state["per_token"][tail]) or "nothing"
        parts.append(f"{tail}: {t['in']} in ({copied}), {t['out']} read, {t['transfer_ns'] / 1000:.1f} us "
                     f"({t['read_ns'] / 1000:.1f} us of it the read)")
    lines.append("host transfers per decode token: " + "; ".join(parts))
    return lines


COLLECTIVE_KINDS = ("all_gather", "reduce_scatter", "all_reduce")


def mesh_summary(graph: Graph) -> dict[str, Any] | None:
    """On a mesh: the strategy, per decode layer the collectives and their modeled share of the decode step (the
    distributed norms' statistics gathers included), per-chip DRAM, and tt_transformers' layout as the parallelism
    pass priced it beside its choice. None on one chip."""
    mesh = graph.facts.get("mesh")
    if mesh is None:
        return None
    out: dict[str, Any] = {"mesh_shape": mesh["mesh_shape"], "strategy": mesh["strategy"]}
    dram = graph.facts.get("dram", {})
    out["dram_per_chip"] = {k: dram[k] for k in ("weights", "kv_cache", "total", "capacity") if k in dram}
    if mesh["strategy"] != "tensor_parallel":
        out.update({k: mesh[k] for k in ("dp_step_ns", "tp_step_ns", "tp_refused") if k in mesh})
        return out
    step = graph.facts.get("mode_time_ns", {}).get("decode")
    ccl_ns, per_layer = 0.0, {}
    for op in graph.ops:
        if op.mode_key != "decode":
            continue
        runs = op.runs
        if op.kind in COLLECTIVE_KINDS:
            ccl_ns += op.decisions.get("time_ns", 0.0) * runs
            if op.scope == "layer":
                per_layer[op.kind] = per_layer.get(op.kind, 0) + 1
        for name, *_ in (op.decisions.get("mesh") or {}).get("internal", ()):
            if op.scope == "layer":
                per_layer[name] = per_layer.get(name, 0) + 1
    out.update(
        chosen_from=mesh["chosen_from"],
        collectives_per_layer=dict(sorted(per_layer.items())),
        decode_step_us=None if step is None else round(step / 1000, 1),
        decode_ccl_us=round(ccl_ns / 1000, 1),
        decode_ccl_share=None if not step else round(ccl_ns / step, 3),
        weights=mesh["chosen"]["weights"],
        pass_estimate_us={"chosen": round(mesh["chosen"]["decode_step_ns"] / 1000, 1)},
    )
    if "tt_transformers" in mesh:
        out["pass_estimate_us"]["tt_transformers"] = round(mesh["tt_transformers"]["decode_step_ns"] / 1000, 1)
        out["tt_transformers_collectives_per_layer"] = mesh["tt_transformers"]["collectives_per_layer"]
    return out


def mesh_lines(summary: dict[str, Any] | None) -> list[str]:
    if summary is None:
        return []
    gib = 2**30
    d = summary["dram_per_chip"]
    lines = [
        f"mesh {summary['mesh_shape']}: {summary['strategy'].replace('_', ' ')}; per chip DRAM "
        f"{d.get('total', 0) / gib:.2f} of {d.get('capacity', 0) / gib:.2f} GiB (weights {d.get('weights', 0) / gib:.2f}, "
        f"KV cache {d.get('kv_cache', 0) / gib:.2f})"
    ]
    if summary["strategy"] != "tensor_parallel":
        return lines
    ccls = ", ".join(f"{n} {c}" for n, c in summary["collectives_per_layer"].items()) or "none"
    share = summary["decode_ccl_share"]
    lines.append(
        f"collectives per decode layer: {ccls}; {summary['decode_ccl_us']} us of the {summary['decode_step_us']} us "
        f"decode step ({share * 100:.0f} %)" if share is not None else f"collectives per decode layer: {ccls}"
    )
    est = summary["pass_estimate_us"]
    if "tt_transformers" in est:
        lines.append(
            f"layout ({summary['chosen_from']}): {est['chosen']} us per decode step as the parallelism pass estimates it; "
            f"tt_transformers' layout {est['tt_transformers']} us"
        )
    return lines


def explain_inputs(inputs: list[InputFile]) -> list[dict[str, Any]]:
    """Each input file with the fields it carries that tttgen accepted but that change nothing it computes."""
    return [{"path": i.label, "ignored_fields": list(i.ignored_fields)} for i in inputs]


def explain_table(
    rows: list[dict[str, Any]],
    detail: bool = False,
    inputs: list[dict[str, Any]] = (),
    moves: dict | None = None,
    step_state: list[str] = (),
) -> str:
    lines = [
        f"{i['path']}: ignored, no effect on the math: {', '.join(i['ignored_fields'])}"
        for i in inputs
        if i["ignored_fields"]
    ]
    lines += [f"{'op':28} {'kind':13} {'fid':6} {'time us':>9} {'bound':8} {'L1 KiB':>7} {'cores':>5}  config"]
    for r in rows:
        t = f"{r['time_ns'] / 1000:9.1f}" if r["time_ns"] else f"{'-':>9}"
        l1 = f"{r['l1_bytes_per_core'] // 1024:7d}" if r["l1_bytes_per_core"] else f"{'-':>7}"
        cores = f"{r['cores']:5d}" if r["cores"] else f"{'-':>5}"
        pin = " [pinned]" if r.get("pinned") else ""
        lines.append(f"{r['op']:28} {r['kind']:13} {r['fidelity']:6} {t} {r['binding']:8} {l1} {cores}  {r['config']}{pin}")
        if detail:
            if r.get("pinned"):
                lines.append(f"    pinned by {r['pinned']['by']}: {', '.join(r['pinned']['fields'])} (not searched; checked by every rule)")
            if r.get("fusion"):
                lines.append(f"    fusion: {r['fusion']['reason']}")
            if r.get("projection"):
                lines.append(f"    projection ({r['projection']['group']}): {r['projection']['reason']}")
            if r.get("weight_placement"):
                lines += _placement_lines(r["weight_placement"])
            for c in r.get("rejected", []):
                label = "searched alternative" if r.get("pinned") else "rejected (slower)"
                lines.append(f"    {label}: {c['time_ns'] / 1000:.1f} us {c['binding']}: {c['config']}")
            for rule, count in sorted(r.get("pruned_by_rule", {}).items()):
                lines.append(f"    pruned by {rule}: {count} candidates")
            for t in r.get("ttnn", []):
                claim = f", tttgen claims {t['l1_claimed']} B" if t["l1_claimed"] else ""
                verdict = t["verdict"] if t["verdict"] == "accepted" else f"REJECTED: {t['message']}"
                lines.append(f"    real ttnn 0.81.1 ({t['line']}, {t['calls']} calls): {verdict}; L1 {t['l1_total']} B/core{claim}")
    line = moves_line(moves or {})
    if line:
        lines.append(line)
    lines += list(step_state)
    groups = {r["projection"]["group"]: r["projection"] for r in rows if r.get("projection")}
    if groups:
        lines.append("linears reading one tensor (one fused linear and slices, or one linear each):")
        lines += [f"  {group}: {p['form']}: {p['reason']}" for group, p in groups.items()]
    chains = {r["fusion"]["chain"]["id"]: r["fusion"]["chain"] for r in rows if (r.get("fusion") or {}).get("chain")}
    if chains:
        lines.append("elementwise chains (ttnn-jit candidates):")
        for chain in chains.values():
            lines.append(f"  {chain_line(chain)}")
            if chain["verdict"] != "fused":
                lines.append(f"    {chain['reason']}")
            lines += [f"    stopped at {stop}" for stop in chain["stops"] if stop not in chain["reason"]]
    return "\n".join(lines)
