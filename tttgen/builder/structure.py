"""The dimensions the passes read of a model, for a module built from a description, derived from its graph.

The passes were written against ModelSpec (a Llama-family config): the residual width, head counts, the widest
activation and the layer count. A module has no such config; these values are what its expanded graph says:
the width of its first input, the heads its attention ops declare, the widest linear output, and the product of
its loop counts. Nothing here is a guess about the module: a value the graph does not state is the neutral one
(one head as wide as the input, no sliding window).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from tttgen.ir.graph import Op
from tttgen.spec.model import AttentionSizes


def is_module_graph(graph) -> bool:
    """A plain module's graph (rendered by tttgen/render/module.py), not a Llama-family model's."""
    return isinstance(graph.model, ModuleModel)


@dataclass(frozen=True)
class ModuleModel(AttentionSizes):
    name: str
    source: str
    num_hidden_layers: int
    hidden_size: int
    intermediate_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    sliding_window: int | None = None


def module_model(name: str, source: str, input_width: int, layers: int, ops: Iterable[Op]) -> ModuleModel:
    ops = list(ops)
    heads = next((op.facts for op in ops if {"num_heads", "num_kv_heads", "head_dim"} <= set(op.facts)), None)
    widest = max([op.shape.n for op in ops if op.shape is not None] + [input_width])
    return ModuleModel(
        name=name,
        source=source,
        num_hidden_layers=layers,
        hidden_size=input_width,
        intermediate_size=widest,
        num_attention_heads=heads["num_heads"] if heads else 1,
        num_key_value_heads=heads["num_kv_heads"] if heads else 1,
        head_dim=heads["head_dim"] if heads else input_width,
    )
