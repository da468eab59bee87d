"""IR -> plain view-models for the templates: sorted, pre-stringified, no decisions made here."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tttgen.ir.configs import MemoryPlacement
from tttgen.ir.graph import Graph, Op
from tttgen.render import literals as L

GIB = 2**30


def _mode_doc(graph: Graph, key: str) -> str:
    if key == "decode":
        return f"Decode: one token for each of {graph.facts['decode_users']} user slots, activations width-sharded in L1."
    return f"Prefill of {key.split('_')[1]} tokens (one user), activations DRAM interleaved."


def _why(op: Op) -> str:
    d = op.decisions
    if "time_ns" in d:
        return (
            f"{op.name}: {d['program'].type.replace('MatmulMultiCoreReuse', '')}, {d['binding']}-bound, "
            f"{d['time_ns'] / 1000:.1f} us modeled on {d['cores']} cores, {d['l1_bytes'] // 1024} KiB L1/core"
        )
    return ""


def _pin_note(op: Op):
    """field -> the `pinned by` comment for the configs.py attribute an override fixed ("" when searched)."""
    pinned = op.decisions.get("pinned")
    return lambda field: f"pinned by {pinned['by']}" if pinned and field in pinned["fields"] else ""


def weight_pins(graph: Graph, name: str) -> str:
    """Which overrides fixed a weight's dtype or placement (through the matmuls that read it)."""
    notes = []
    for op in graph.ops:
        pinned = op.decisions.get("pinned")
        if op.weight == name and pinned:
            fields = [f for f in pinned["fields"] if f in ("dtype", "memory_config.in1")]
            if fields and f"{pinned['by']} ({', '.join(fields)})" not in notes:
                notes.append(f"{pinned['by']} ({', '.join(fields)})")
    return f"pinned by {', '.join(notes)}" if notes else ""


class MemoryNames:
    """Gives every explicitly sharded placement one named constant in configs.py, so a placement
    used by several ops is spelled once and each op's line says which one it uses."""

    def __init__(self) -> None:
        self.by_placement: dict[MemoryPlacement, str] = {}

    def __call__(self, placement: MemoryPlacement) -> str:
        if not placement.sharded or placement.infer_shard:
            return L.memory(placement)
        if placement not in self.by_placement:
            h, w = placement.shard_shape
            unit = "BANKS" if placement.buffer == "DRAM" else "CORES"
            base = f"{placement.buffer}_{placement.layout}_{h}X{w}_{placement.grid.cores}_{unit}"
            name, n = base, 2
            while name in self.by_placement.values():
                name, n = f"{base}_{n}", n + 1
            self.by_placement[placement] = name
        return self.by_placement[placement]

    def definitions(self) -> list[dict[str, str]]:
        return [{"name": name, "value": L.memory(p)} for p, name in sorted(self.by_placement.items(), key=lambda kv: kv[1])]


def mode_entries(graph: Graph, key: str, memory_name: MemoryNames) -> list[dict[str, str]]:
    cls = graph.device.compute_kernel_config_class
    entries: list[dict[str, str]] = []

    def add(name: str, value: str, comment: str = "", pinned: str = "") -> None:
        entries.append({"name": name, "value": value, "comment": comment, "pinned": pinned})

    by_key = {op.key: op for op in graph.ops}
    for op in graph.ops:
        if op.mode_key != key:
            continue
        d = op.decisions
        pin = _pin_note(op)
        if op.kind == "matmul":
            add(f"{op.name}_program", L.matmul_program(d["program"]), _why(op), pin("program_config"))
            add(f"{op.name}_compute", L.kernel(d["kernel"], cls), pinned=pin("compute_kernel_config"))
            add(f"{op.name}_memory", memory_name(d["out"]), pinned=pin("memory_config.out"))
            if "calls" in d:
                add(f"{op.name}_calls", str(d["calls"]), "row chunks per call (chunking pass)")
        elif op.kind == "rms_norm":
            add(f"{op.name}_program", L.norm_program(d["program"]))
            add(f"{op.name}_compute", L.kernel(d["kernel"], cls), pinned=pin("compute_kernel_config"))
            add(f"{op.name}_memory", memory_name(d["out"]) if "out" in d else "ttnn.DRAM_MEMORY_CONFIG")
        elif op.kind in ("sdpa_prefill", "sdpa_decode"):
            add("sdpa_program", L.sdpa_program(d["program"]), "chunks chosen by the chunking pass")
            add("sdpa_compute", L.kernel(d["kernel"], cls), pinned=pin("compute_kernel_config"))
            add("sdpa_memory", memory_name(d["out"]) if "out" in d else "ttnn.DRAM_MEMORY_CONFIG")
        elif "out" in d and op.kind in ("reshard", "eltwise", "create_heads", "concat_heads", "embedding"):
            # A reshard writes its consumer's in0: a pin of that in0 marks this attribute.
            dst = by_key.get(f"{key}.{op.facts['dst']}") if op.kind == "reshard" and "dst" in op.facts else None
            add(f"{op.name}_memory", memory_name(d["out"]), pinned=_pin_note(dst)("memory_config.in0") if dst else "")
    if key == "decode":
        heads = graph.facts["heads_placement"]
        add("rope_memory", memory_name(heads), "cos/sin: one [1, head_dim] row per user, one user per core")
        add("trans_mat_memory", memory_name(replace(heads, shard_shape=(32, 32))), "one rotation tile per user core")
    return entries


def block_body(ops: tuple[str, ...], steps: tuple[str, ...], memory: str) -> tuple[str, str]:
    """(argument list, body expression) of a block applying `ops` in order: a unary step takes the running value,
    a binary step the running value and the next argument. The last op carries `memory` as its memory_config."""
    args, expr = ["a"], "a"
    for i, (name, step) in enumerate(zip(ops, steps)):
        operands = [expr]
        if step != "unary":
            args.append("abcdefghijklmnopqrstuvwxyz"[len(args)])
            operands.append(args[-1])
        if i == len(ops) - 1:
            operands.append(f"memory_config={memory}")
        expr = f"ttnn.{name}({', '.join(operands)})"
    return ", ".join(args), expr


def jit_views(graph: Graph, memory_name: MemoryNames) -> tuple[list[dict[str, str]], dict[str, dict[str, str | None]]]:
    """The ttnn-jit blocks to define (one per name; the fusion pass gives every prefill length the same one) and,
    per mode and eltwise op name, the block its call site uses (None: the ttnn call)."""
    blocks: dict[str, dict[str, str]] = {}
    calls: dict[str, dict[str, str | None]] = {"prefill": {}, "decode": {}}
    for op in graph.ops_of("eltwise"):
        d = op.decisions
        calls[op.mode][op.name] = d["jit"]
        if d["jit"] and d["jit"] not in blocks:
            memory = f"{d['jit'].upper()}_MEMORY"
            args, body = block_body(d["jit_ops"], d["chain_steps"], f"C.{memory}")
            blocks[d["jit"]] = {
                "name": d["jit"],
                "eager": d["jit"].removesuffix("_jit") + "_eager",
                "args": args,
                "body": body,
                "memory": memory,
                "memory_value": memory_name(d["jit_memory"]),
                "fidelity": d["jit_fidelity"],
                "doc": f"{' then '.join(d['jit_ops'])} in one kernel under ttnn-jit (graph.json jit_reason says why).",
            }
    return [blocks[name] for name in sorted(blocks)], calls


def _dram(graph: Graph) -> dict[str, str]:
    d = graph.facts["dram"]
    return {
        "total_gib": f"{d['total'] / GIB:.2f}",
        "capacity_gib": f"{d['capacity'] / GIB:.2f}",
        "weights_gib": f"{d['weights'] / GIB:.2f}",
        "kv_gib": f"{d['kv_cache'] / GIB:.2f}",
        "act_gib": f"{d['activations'] / GIB:.2f}",
    }


def template_context(graph: Graph, header: str, header_text: str, package: str) -> dict[str, Any]:
    model, device, hints = graph.model, graph.device, graph.hints
    memory_name = MemoryNames()
    weights = []
    for w in graph.weights:
        p = w.decisions["placement"]
        note = f"{w.role}: {p.buffer} {p.layout.lower().replace('_', ' ')}"
        weights.append(
            {"name": w.name, "dtype": L.dtype(w.decisions["dtype"]), "memory": memory_name(p), "note": note, "pinned": weight_pins(graph, w.name)}
        )
    modes = []
    for key in graph.mode_keys():
        prefill = key != "decode"
        rows = int(key.split("_")[1]) if prefill else graph.facts["decode_rows"]
        modes.append(
            {
                "class_name": "Decode" if not prefill else f"Prefill{rows}",
                "doc": _mode_doc(graph, key),
                "rows": rows,
                "prefill": prefill,
                "entries": mode_entries(graph, key, memory_name),
            }
        )
    elide = {op.name: op.decisions["elide"] for op in graph.ops if op.kind == "reshard" and op.mode == "decode"}
    jit_blocks, jit_calls = jit_views(graph, memory_name)
    max_l1 = max((op.decisions.get("l1_bytes") or 0) for op in graph.ops)
    max_cores = max((op.decisions.get("cores") or 0) for op in graph.ops)
    rope = model.rope_scaling.model_dump() if model.rope_scaling else None
    w_dtypes = sorted({f"{w.role} {w.decisions['dtype']}" for w in graph.weights if w.role not in ("NORM",)})
    return {
        "header": header,
        "header_text": header_text,
        "package": package,
        "model": model,
        "device": device,
        "ttnn_version": graph.facts.get("ttnn_version", "0.81.1"),
        "rope_scaling": repr(dict(sorted(rope.items()))) if rope else "None",
        "decode_users": graph.facts["decode_users"],
        "padded_vocab_size": graph.facts["padded_vocab_size"],
        "max_seq_len": hints.max_seq_len,
        "prefill_lens": list(hints.prefill_lens),
        "kv_dtype": L.dtype(graph.facts["kv_dtype"]),
        "activation_dtype": L.dtype(graph.facts["activation_dtype"]),
        "weights": weights,
        "memory_configs": memory_name.definitions(),
        "modes": modes,
        "elide": elide,
        "jit_blocks": jit_blocks,
        "jit_calls": jit_calls,
        "max_l1_kib": max_l1 // 1024,
        "usable_l1_kib": device.l1_budget // 1024,
        "max_cores": max_cores,
        "dram": _dram(graph),
        "precision": hints.precision,
        "precision_summary": ", ".join(w_dtypes),
        "problems": list(graph.facts.get("problems", ())),
    }
