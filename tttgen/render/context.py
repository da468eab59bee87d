"""View-model helpers shared by the renderer: named memory configs, ttnn-jit blocks, weight pins."""

from __future__ import annotations

from tttgen.ir.configs import MemoryPlacement
from tttgen.ir.graph import Graph
from tttgen.render import literals as L


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
        return [
            {"name": name, "value": L.memory(p)} for p, name in sorted(self.by_placement.items(), key=lambda kv: kv[1])
        ]


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
