"""Typed records the IR carries beside its ops and weights.

`Dimensions` are the graph-wide sizes the builder records once (graph fact `dims`): what pricing and the
tt_transformers seeds read where they ask for a model's widths rather than one op's. Wherever an op states its
own (an attention's `num_heads`, `num_kv_heads`, `head_dim`; a looped call's `loop_count`), readers take the op's.
"""

from __future__ import annotations

from dataclasses import dataclass

from tttgen.spec.model import AttentionSizes


@dataclass(frozen=True)
class Dimensions(AttentionSizes):
    hidden_size: int  # the residual width: a causal LM's hidden_size, a module's first input width
    intermediate_size: int  # a causal LM's MLP width; a module's widest op output (or its input width)
    num_attention_heads: int  # the first attention's query heads (one for a module without attention)
    num_key_value_heads: int  # the first attention's KV heads
    head_dim: int  # the first attention's head width (a module without attention: its input width)
    layers: int  # how often a `layer`-scope op without its own loop_count runs per call
    vocab_size: int | None = None  # a causal LM's vocabulary before tile padding; None for a module
    sliding_window: int | None = None  # a causal LM's attention window (HF sliding_window), if any
    sliding_window_pattern: int | None = None  # layers alternate sliding and global attention with this period
