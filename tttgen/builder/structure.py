"""The graph-wide sizes the passes read (graph fact `dims`, tttgen/ir/facts.py), recorded by the builder.

A causal LM's come from the config it is bound to. A module has no such config; its are what its expanded graph
says: the width of its first input, the heads its first attention declares, the widest op output, and the product
of its loop counts. Nothing here is a guess about the module: a value the graph does not state is the neutral one
(one head as wide as the input, no sliding window). Readers prefer an op's own facts wherever it states them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

from tttgen.ir.facts import Dimensions
from tttgen.ir.graph import Op, Weight, frozen
from tttgen.inputs.model import ModelSpec
from tttgen.ops.kinds import kind_of
from tttgen.ops.kinds.sdpa import Attention


def spec_op_facts(ops: Iterable[Op], weights: Mapping[str, Weight], spec: ModelSpec) -> list[Op]:
    """A causal LM's ops with what its config says about them that their shapes cannot: the LM head's vocabulary
    before tile padding (fact `vocab_size`: the decode tails mask or slice the padded columns) and, when the config
    has one, each attention's window (fact `sliding_window`: the target pass refuses an attention that takes no
    window input while max_seq_len exceeds it)."""
    out = []
    for op in ops:
        facts = dict(op.facts)
        if op.weight is not None and weights[op.weight].role == "LM_HEAD":
            facts["vocab_size"] = spec.vocab_size
        if spec.sliding_window is not None and isinstance(kind_of(op), Attention):
            facts["sliding_window"] = spec.sliding_window
        out.append(op if facts == dict(op.facts) else replace(op, facts=frozen(facts)))
    return out


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
