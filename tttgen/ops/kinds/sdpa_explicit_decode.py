"""sdpa_explicit_decode: one query row per user against its KV cache, written out as ttnn ops (sdpa_explicit's
decode form, for scores ttnn's SDPA decode cannot transform: Gemma 2's attn_logit_softcapping).

Q `[1, users, heads, head_dim]` is regrouped as `[users, kv_heads, group, head_dim]` (GQA: a KV head's query heads
are its group's rows, so the cache is read once per KV head, not repeated); scores = `ttnn.matmul(q, k_cache,
transpose_b=True)` `[users, kv_heads, group, max_seq_len]` over every cached position; scale and cap as prefill; the
mask from each user's current position, read on the device from the `positions` input (int32 `[users]`, advanced in
the trace by the step state's `ttnn.plus_one`): d = position - key position in float32, hidden when d < 0 (not yet
written) or d >= window (ttnn's `_window_mask` with `query_start=position`); softmax; `ttnn.matmul(probs, v_cache)`
regrouped back to `[1, users, heads, head_dim]`. An idle slot (position -1) hides every key: its row is a uniform
average nobody reads. Paged caches are not read by this form: a description with a `paged` feature keeps sdpa_decode.
"""

from __future__ import annotations

from tttgen.ops.kinds.base import ShapeError, ports
from tttgen.ops.kinds.sdpa_explicit import ExplicitAttention


class ExplicitAttentionDecode(ExplicitAttention):
    name = "sdpa_explicit_decode"
    doc = (
        "one query row per user against the KV cache as ttnn ops: q k^T matmul, scale, optional soft-capping, mask "
        "from each user's position (and window) built on device, softmax, scores v matmul"
    )
    inputs = ports("q", "k_cache", "v_cache", "positions", "window?")
    macro = "sdpa_explicit_decode"
    kernel_group = "SDPA_DECODE"
    decode = True

    # q as the graph shapes decode heads, [1, nq, users, d] (ttnn holds it as [1, users, nq, d]); the caches
    # [users, nkv, max_seq_len, d]
    def _k(self, ins):
        return ins["k_cache"]

    def _v(self, ins):
        return ins["v_cache"]

    def _heads(self, q, k):
        if q[-2] != k[0]:
            raise ShapeError(f"q's {q[-2]} users do not match the cache's {k[0]} user slots")
        return q[1], k[1]


KIND = ExplicitAttentionDecode()
