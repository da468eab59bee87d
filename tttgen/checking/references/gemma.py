"""Torch references for the Gemma module descriptions, built from transformers' own Gemma classes.

Each takes the module's inputs in its order (tttgen/checking/verification.py passes them positionally) and has the state_dict
keys the description reads. Used by verification only; never imported by generated code.
"""

from __future__ import annotations

import torch


class GemmaDecoderLayer(torch.nn.Module):
    """transformers' GemmaDecoderLayer with an explicit additive mask and given rotary tables: forward(x, cos, sin,
    mask, k_cache, v_cache, slot) -> [1, rows, hidden] (the caches and slot are the generated layer's to write)."""

    def __init__(self, hidden: int, intermediate: int, heads: int, kv_heads: int, head_dim: int, eps: float):
        super().__init__()
        from transformers.models.gemma.modeling_gemma import GemmaDecoderLayer as Layer

        from tttgen.checking.references.pi0 import gemma_config

        layer = Layer(gemma_config(hidden, intermediate, heads, kv_heads, head_dim, 1, eps, 1e4), 0)
        # the layer's own parameters at the top level: keys as in a checkpoint's `layers.{i}.`
        self.input_layernorm, self.self_attn = layer.input_layernorm, layer.self_attn
        self.post_attention_layernorm, self.mlp = layer.post_attention_layernorm, layer.mlp
        object.__setattr__(self, "_layer", layer)  # not a child: its keys would repeat under `_layer.`

    def forward(self, x, cos, sin, mask, k_cache=None, v_cache=None, slot=None):
        x = x.reshape(1, -1, x.shape[-1])
        mask = mask.reshape(1, 1, x.shape[1], -1)
        cos, sin = cos.reshape(1, x.shape[1], -1), sin.reshape(1, x.shape[1], -1)
        return self._layer(x, attention_mask=mask, position_embeddings=(cos, sin))
