"""spec -> op graph: the Llama op sequence of tt_transformers, per mode, with no decisions made."""

from __future__ import annotations

from tttgen.ir.configs import MatmulShape
from tttgen.ir.graph import Graph, Op, Weight, frozen
from tttgen.spec.device import DeviceProfile
from tttgen.spec.hints import Hints
from tttgen.spec.model import ModelSpec
from tttgen.tiling import TILE, round_up

DECODE_ROWS = 32  # decode activations are [1, 1, 32, dim]: users padded to one tile of rows
LAST_TILE_ROWS = 32  # prefill computes logits for the tile holding the last token only


def padded_vocab(vocab_size: int) -> int:
    """Embedding rows and LM-head columns as stored: the vocabulary rounded up to whole tiles, since ttnn
    TILE tensors need tile-aligned widths. weights.py zero-pads both; model.py slices the logits back."""
    return round_up(vocab_size, TILE)


def build_weights(m: ModelSpec) -> tuple[Weight, ...]:
    layer = "model.layers.{i}."
    lm_source = "model.embed_tokens.weight" if m.tie_word_embeddings else "lm_head.weight"
    vocab = padded_vocab(m.vocab_size)
    return (
        Weight("embedding", "EMBEDDING", vocab, m.hidden_size, ("model.embed_tokens.weight",), False),
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
        Weight("lm_head", "LM_HEAD", m.hidden_size, vocab, (lm_source,), False),
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

    def mm(
        name: str, weight: str, k: int, n: int, scope: str = "layer", m_rows: int = rows, sibling: bool = False, **facts
    ) -> Op:
        facts = {**facts, "sibling_output_live": True} if sibling else facts
        return op(name, "matmul", scope, shape=MatmulShape(m=m_rows, k=k, n=n), weight=weight, facts=frozen(facts))

    decode = mode == "decode"

    def decode_only(*ops: Op) -> list[Op]:
        """Reshards exist only in decode: prefill ops all read and write DRAM interleaved."""
        return list(ops) if decode else []

    def eltwise(name: str, cols: int, fn: str) -> Op:
        return op(name, "eltwise", facts=frozen({"rows": rows, "dim": cols, "fn": fn}))

    def rotary(name: str, heads: int) -> Op:
        return op(name, "rotary", facts=frozen({"heads": heads, "head_dim": hd}))

    ops = [op("embedding", "embedding", "embed", weight="embedding", facts=rows_dim)]
    ops += decode_only(reshard("embed_to_residual", "embedding", "attention_norm", dim, "embed"))
    ops += [op("attention_norm", "rms_norm", weight="attention_norm", facts=rows_dim)]
    ops += decode_only(reshard("wqkv_in", "attention_norm", "wqkv", dim))
    ops += [mm("wqkv", "wqkv", dim, m.qkv_size)]
    if decode:
        ops += [
            op("qkv_to_interleaved", "reshard", facts=frozen({"rows": rows, "dim": m.qkv_size})),
            op("create_heads", "create_heads", facts=heads),
            rotary("rotary_q", nq),
            rotary("rotary_k", nkv),
            op("cache_update_k", "cache_update", facts=heads),
            op("cache_update_v", "cache_update", facts=heads),
            op("sdpa", "sdpa_decode", facts=heads),
            op("sdpa_to_sharded", "reshard", facts=frozen({"rows": rows, "dim": m.attn_size})),
            op("concat_heads", "concat_heads", facts=heads),
            reshard("wo_in", "concat_heads", "wo", m.attn_size),
        ]
    else:
        ops += [
            op("create_heads", "create_heads", facts=heads),
            rotary("rotary_q", nq),
            rotary("rotary_k", nkv),
            op("cache_fill_k", "cache_fill", facts=heads),
            op("cache_fill_v", "cache_fill", facts=heads),
            op("sdpa", "sdpa_prefill", facts=heads),
            op("concat_heads", "concat_heads", facts=heads),
        ]
    ops += [mm("wo", "wo", m.attn_size, dim)]
    ops += decode_only(reshard("wo_out", "wo", "attn_add", dim))
    ops += [eltwise("attn_add", dim, "add"), op("ffn_norm", "rms_norm", weight="ffn_norm", facts=rows_dim)]
    ops += decode_only(reshard("w1_in", "ffn_norm", "w1", dim))
    ops += [
        mm("w1", "w1", dim, m.intermediate_size, sibling=decode),
        # w3 reads the rows w1's prefill reshape made (swiglu multiplies their outputs elementwise).
        mm("w3", "w3", dim, m.intermediate_size, sibling=decode, **({} if decode else {"shares_input_with": "w1"})),
        eltwise("swiglu", m.intermediate_size, "silu_mul"),
    ]
    ops += decode_only(reshard("w2_in", "swiglu", "w2", m.intermediate_size))
    ops += [mm("w2", "w2", m.intermediate_size, dim)]
    ops += decode_only(reshard("w2_out", "w2", "ffn_add", dim))
    ops += [eltwise("ffn_add", dim, "add")]
    if decode:
        ops += [
            op("final_norm", "rms_norm", "head", weight="final_norm", facts=rows_dim),
            reshard("lm_head_in", "final_norm", "lm_head", dim, "head"),
            mm("lm_head", "lm_head", dim, padded_vocab(m.vocab_size), "head"),
        ]
    else:
        last = frozen({"rows": LAST_TILE_ROWS, "dim": dim})
        ops += [
            op("last_tile", "slice", "head", facts=last),
            op("final_norm", "rms_norm", "head", weight="final_norm", facts=last),
            mm("lm_head", "lm_head", dim, padded_vocab(m.vocab_size), "head", m_rows=LAST_TILE_ROWS),
        ]
    return ops


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
        facts=frozen(
            {"decode_rows": DECODE_ROWS, "batch": hints.batch, "padded_vocab_size": padded_vocab(model.vocab_size)}
        ),
    )
