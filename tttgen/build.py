"""spec -> op graph: the Llama op sequence of tt_transformers, per mode, with no decisions made."""

from __future__ import annotations

from tttgen.ir.configs import MatmulShape
from tttgen.ir.graph import Graph, Op, Weight, frozen
from tttgen.spec.device import DeviceProfile
from tttgen.spec.hints import Hints
from tttgen.spec.model import ModelSpec

DECODE_ROWS = 32  # decode activations are [1, 1, 32, dim]: users padded to one tile of rows
LAST_TILE_ROWS = 32  # prefill computes logits for the tile holding the last token only


def build_weights(m: ModelSpec) -> tuple[Weight, ...]:
    layer = "model.layers.{i}."
    lm_source = "model.embed_tokens.weight" if m.tie_word_embeddings else "lm_head.weight"
    return (
        Weight("embedding", "EMBEDDING", m.vocab_size, m.hidden_size, ("model.embed_tokens.weight",), False),
        Weight("attention_norm", "NORM", 1, m.hidden_size, (layer + "input_layernorm.weight",), True),
        Weight(
            "wqkv",
            "WQKV",
            m.hidden_size,
            m.qkv_size,
            tuple(layer + f"self_attn.{p}_proj.weight" for p in "qkv"),
            True,
        ),
        Weight("wo", "WO", m.attn_size, m.hidden_size, (layer + "self_attn.o_proj.weight",), True),
        Weight("ffn_norm", "NORM", 1, m.hidden_size, (layer + "post_attention_layernorm.weight",), True),
        Weight("w1", "FF1_FF3", m.hidden_size, m.intermediate_size, (layer + "mlp.gate_proj.weight",), True),
        Weight("w3", "FF1_FF3", m.hidden_size, m.intermediate_size, (layer + "mlp.up_proj.weight",), True),
        Weight("w2", "FF2", m.intermediate_size, m.hidden_size, (layer + "mlp.down_proj.weight",), True),
        Weight("final_norm", "NORM", 1, m.hidden_size, ("model.norm.weight",), False),
        Weight("lm_head", "LM_HEAD", m.hidden_size, m.vocab_size, (lm_source,), False),
    )


def _ops(m: ModelSpec, mode: str, rows: int) -> list[Op]:
    dim, hd = m.hidden_size, m.head_dim
    nq, nkv = m.num_attention_heads, m.num_key_value_heads
    heads = frozen({"num_heads": nq, "num_kv_heads": nkv, "head_dim": hd})
    rows_dim = frozen({"rows": rows, "dim": dim})

    def op(name: str, kind: str, scope: str = "layer", **kw) -> Op:
        return Op(name=name, kind=kind, mode=mode, seq=rows, scope=scope, **kw)

    def reshard(name: str, src: str | None, dst: str, cols: int, scope: str = "layer") -> Op:
        """Move a decode activation to the placement its consumer wants (elided when equal)."""
        return op(name, "reshard", scope, facts=frozen({"rows": rows, "dim": cols, "src": src, "dst": dst}))

    def mm(name: str, weight: str, k: int, n: int, scope: str = "layer", m_rows: int = rows, sibling: bool = False) -> Op:
        facts = frozen({"sibling_output_live": True}) if sibling else frozen({})
        return op(name, "matmul", scope, shape=MatmulShape(m=m_rows, k=k, n=n), weight=weight, facts=facts)

    embed = [op("embedding", "embedding", "embed", weight="embedding", facts=rows_dim)]
    attn_common = [
        op("attention_norm", "rms_norm", weight="attention_norm", facts=rows_dim),
        mm("wqkv", "wqkv", dim, m.qkv_size),
    ]
    mlp = [
        op("ffn_norm", "rms_norm", weight="ffn_norm", facts=rows_dim),
        mm("w1", "w1", dim, m.intermediate_size, sibling=mode == "decode"),
        mm("w3", "w3", dim, m.intermediate_size, sibling=mode == "decode"),
        op("swiglu", "eltwise", facts=frozen({"rows": rows, "dim": m.intermediate_size, "fn": "silu_mul"})),
        mm("w2", "w2", m.intermediate_size, dim),
        op("ffn_add", "eltwise", facts=frozen({"rows": rows, "dim": dim, "fn": "add"})),
    ]
    if mode == "decode":
        attention = [
            op("qkv_to_interleaved", "reshard", facts=frozen({"rows": rows, "dim": m.qkv_size})),
            op("create_heads", "create_heads", facts=heads),
            op("rotary_q", "rotary", facts=frozen({"heads": nq, "head_dim": hd})),
            op("rotary_k", "rotary", facts=frozen({"heads": nkv, "head_dim": hd})),
            op("cache_update_k", "cache_update", facts=heads),
            op("cache_update_v", "cache_update", facts=heads),
            op("sdpa", "sdpa_decode", facts=heads),
            op("sdpa_to_sharded", "reshard", facts=frozen({"rows": rows, "dim": m.attn_size})),
            op("concat_heads", "concat_heads", facts=heads),
            reshard("wo_in", "concat_heads", "wo", m.attn_size),
            mm("wo", "wo", m.attn_size, dim),
            reshard("wo_out", "wo", "attn_add", dim),
            op("attn_add", "eltwise", facts=frozen({"rows": rows, "dim": dim, "fn": "add"})),
        ]
        head = [
            op("final_norm", "rms_norm", "head", weight="final_norm", facts=rows_dim),
            reshard("lm_head_in", "final_norm", "lm_head", dim, "head"),
            mm("lm_head", "lm_head", dim, m.vocab_size, "head"),
        ]
        embed.append(reshard("embed_to_residual", "embedding", "attention_norm", dim, "embed"))
        attn_common.insert(1, reshard("wqkv_in", "attention_norm", "wqkv", dim))
        mlp = [
            mlp[0],
            reshard("w1_in", "ffn_norm", "w1", dim),
            mlp[1],
            mlp[2],
            mlp[3],
            reshard("w2_in", "swiglu", "w2", m.intermediate_size),
            mlp[4],
            reshard("w2_out", "w2", "ffn_add", dim),
            mlp[5],
        ]
    else:
        attention = [
            op("create_heads", "create_heads", facts=heads),
            op("rotary_q", "rotary", facts=frozen({"heads": nq, "head_dim": hd})),
            op("rotary_k", "rotary", facts=frozen({"heads": nkv, "head_dim": hd})),
            op("cache_fill_k", "cache_fill", facts=heads),
            op("cache_fill_v", "cache_fill", facts=heads),
            op("sdpa", "sdpa_prefill", facts=heads),
            op("concat_heads", "concat_heads", facts=heads),
            mm("wo", "wo", m.attn_size, dim),
            op("attn_add", "eltwise", facts=frozen({"rows": rows, "dim": dim, "fn": "add"})),
        ]
        head = [
            op("last_tile", "slice", "head", facts=frozen({"rows": LAST_TILE_ROWS, "dim": dim})),
            op("final_norm", "rms_norm", "head", weight="final_norm", facts=frozen({"rows": LAST_TILE_ROWS, "dim": dim})),
            mm("lm_head", "lm_head", dim, m.vocab_size, "head", m_rows=LAST_TILE_ROWS),
        ]
    return embed + attn_common + attention + mlp + head


def build_graph(model: ModelSpec, device: DeviceProfile, hints: Hints) -> Graph:
    ops: list[Op] = []
    for seq in hints.prefill_lens:
        ops += _ops(model, "prefill", seq)
    ops += _ops(model, "decode", DECODE_ROWS)
    return Graph(
        model=model,
        device=device,
        hints=hints,
        ops=tuple(ops),
        weights=build_weights(model),
        facts=frozen({"decode_rows": DECODE_ROWS, "batch": hints.batch}),
    )
