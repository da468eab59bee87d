"""How verify calls transformers' Qwen2DecoderLayer for qwen2_decoder_layer.yaml.

The layer takes its rotary tables as `position_embeddings` (cos, sin), which Qwen2Model computes once with
Qwen2RotaryEmbedding from the config (rope_theta), and its attention mask as an additive tensor. verify passes the
description's inputs by name: x as [1, rows, hidden], positions as [1, rows] ids.
"""

import torch
from transformers.models.qwen2.modeling_qwen2 import Qwen2RotaryEmbedding


def decoder_layer(layer, x, positions):
    rows = x.shape[-2]
    position_ids = positions.long()
    cos, sin = Qwen2RotaryEmbedding(layer.self_attn.config)(x, position_ids)
    causal = torch.full((rows, rows), torch.finfo(torch.float32).min).triu(1)[None, None]
    y = layer(x, attention_mask=causal, position_ids=position_ids, position_embeddings=(cos, sin))
    return {"y": y}
