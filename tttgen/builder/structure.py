"""The graph-wide sizes the passes read (graph fact `dims`, tttgen/ir/facts.py), recorded by the builder.

A causal LM's come from the config it is bound to. A module has no such config; its are what its expanded graph
says: the width of its first input, the heads its first attention declares, the widest op output, and the product
of its loop counts. Nothing here is a guess about the module: a value the graph does not state is the neutral one
(one head as wide as the input, no sliding window). Readers prefer an op's own facts wherever it states them.
"""

from __future__ import annotations

from typing import Iterable

from tttgen.ir.facts import Dimensions
from tttgen.ir.graph import Op
from tttgen.inputs.model import ModelSpec


def spec_dimensions(spec: ModelSpec) -> Dimensions:
    return Dimensions(
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        head_dim=spec.head_dim,
        layers=spec.num_hidden_layers,
        vocab_size=spec.vocab_size,
        sliding_window=spec.sliding_window,
        sliding_window_pattern=spec.sliding_window_pattern,
    )


def module_dimensions(input_width: int, layers: int, ops: Iterable[Op]) -> Dimensions:
    ops = list(ops)
    heads = next((op.facts for op in ops if {"num_heads", "num_kv_heads", "head_dim"} <= set(op.facts)), None)
    widest = max([op.shape.n for op in ops if op.shape is not None] + [input_width])
    return Dimensions(
        hidden_size=input_width,
        intermediate_size=widest,
        num_attention_heads=heads["num_heads"] if heads else 1,
        num_key_value_heads=heads["num_kv_heads"] if heads else 1,
        head_dim=heads["head_dim"] if heads else input_width,
        layers=layers,
    )
