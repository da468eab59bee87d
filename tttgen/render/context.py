"""View-model helpers shared by the renderer: named memory configs, ttnn-jit blocks, weight pins."""

from __future__ import annotations

import keyword

from tttgen.ir.configs import MemoryPlacement
from tttgen.ir.graph import Graph
from tttgen.ops.kinds import kind_of
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


LETTERS = "abcdefghijklmnopqrstuvwxyz"
NOT_PARAMS = {"ttnn", "ttnn_jit", "C", "self", "math", "torch"}  # names model.py's module scope uses


def block_params(inputs: tuple) -> list[str]:
    """The block function's parameter names: the description's value names when they are plain distinct
    identifiers, else a, b, c..."""
    names = [r if isinstance(r, str) else "" for r in inputs]
    plain = all(n.isidentifier() and not keyword.iskeyword(n) and n not in NOT_PARAMS for n in names)
    if plain and len(set(names)) == len(names):
        return names
    return [LETTERS[i] if i < len(LETTERS) else f"x{i}" for i in range(len(inputs))]


def block_body(steps: tuple, params: list[str], memory: str) -> str:
    """The body expression of a block: its steps (tttgen/passes/fusion.py Step: a ttnn op and operands that are
    the block's inputs, earlier steps' results or scalars) nested into one expression, each step's result read
    once. The last call carries `memory` as its memory_config: the plain-ttnn form then writes the placement the
    decorator declares."""
    exprs: list[str] = []
    for i, step in enumerate(steps):
        operands = []
        for kind, value in step.operands:
            if kind == "input":
                operands.append(params[value])
            elif kind == "step":
                operands.append(exprs[value])
            else:
                operands.append(repr(float(value)))
        if i == len(steps) - 1:
            operands.append(f"memory_config={memory}")
        exprs.append(f"ttnn.{step.op}({', '.join(operands)})")
    return exprs[-1]


def mode_variant_of(graph: Graph, op) -> str:
    """The `modes` key an op's mode runs (every prefill length of `prefill` shares its functions), else its role."""
    return graph.facts.get("mode_variants", {}).get(op.mode_key, op.mode)


def jit_views(graph: Graph, memory_name: MemoryNames) -> tuple[list[dict[str, str]], dict[str, dict[str, dict | None]]]:
    """The ttnn-jit blocks to define (one per name; the fusion pass gives every prefill length the same one) and,
    per mode and elementwise op name, its call: None (the ttnn call), the block and the values it is called with
    (the block's last op), or absorbed (an earlier op of the block: nothing is printed)."""
    blocks: dict[str, dict[str, str]] = {}
    calls: dict[str, dict[str, dict | None]] = {}  # by mode variant (`prefill`, `decode`, a chosen mode's name)
    for op in (op for op in graph.ops if kind_of(op).elementwise):
        d = op.decisions
        here = calls.setdefault(mode_variant_of(graph, op), {})
        if not d.get("jit"):
            here[op.name] = None
            continue
        if d.get("jit_member_of"):
            here[op.name] = {"block": d["jit"], "absorbed": True, "root": d["jit_member_of"]}
            continue
        here[op.name] = {"block": d["jit"], "absorbed": False, "inputs": d["jit_inputs"]}
        if d["jit"] not in blocks:
            memory = f"{d['jit'].upper()}_MEMORY"
            params = block_params(d["jit_inputs"])
            blocks[d["jit"]] = {
                "name": d["jit"],
                "eager": d["jit"].removesuffix("_jit") + "_eager",
                "args": ", ".join(params),
                "body": block_body(d["jit_body"], params, f"C.{memory}"),
                "memory": memory,
                "memory_value": memory_name(d["jit_memory"]),
                "fidelity": d["jit_fidelity"],
                "doc": f"{' then '.join(d['jit_ops'])} in one kernel under ttnn-jit (graph.json jit_reason says why).",
            }
    return [blocks[name] for name in sorted(blocks)], calls
