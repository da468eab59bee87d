"""What a causal LM's config says about its ops that their shapes cannot, put on the ops by the builder.

The IR has no graph-wide sizes (tttgen/ir/facts.py): readers take an op's own facts and dataflow shapes. Shapes
give heads, widths and loop counts; a config adds only the LM head's unpadded vocabulary and the attention window.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

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
