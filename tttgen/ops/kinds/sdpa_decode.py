"""sdpa_decode: one query row per user against its KV cache (ttnn.transformer.scaled_dot_product_attention_decode,
paged_scaled_dot_product_attention_decode through a page table)."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, ports
from tttgen.ops.kinds.sdpa import Attention


class SdpaDecode(Attention):
    name = "sdpa_decode"
    doc = (
        "one query row per user against the KV cache up to each user's position (paged: through page_table; "
        "window: only the latest window positions)"
    )
    inputs = ports("q", "k_cache", "v_cache", "positions", "page_table?", "window?")
    attrs = (Attr("scale", "float"),)
    macro = "sdpa_decode"
    kernel_group = "SDPA_DECODE"
    chunk_planner = "sdpa_decode"
    program_planner = "sdpa_decode"

    def precision(self, op, tools):
        return tools.kernel(op, self.kernel_group), tools.kv_dtype

    def cost_facts(self, op, tools):
        return "sdpa_decode", {
            "batch": tools.users,
            "heads": op.facts["num_heads"],  # this attention's own (per chip on a mesh)
            "kv_heads": op.facts["num_kv_heads"],
            "kv_len": tools.kv_len,
            "head_dim": op.facts["head_dim"],  # padded heads (Phi-3) are wider
            "kv_dtype": tools.kv_dtype,
            "fidelity": tools.fidelity,
        }

    def rule_problem(self, op, graph):
        return None  # rule 23 is prefill attention's

    def flops(self, op, graph):
        heads, head_dim = op.facts["num_heads"], op.facts["head_dim"]  # this attention's own
        return 4 * graph.facts["decode_users"] * heads * graph.hints.max_seq_len * head_dim


KIND = SdpaDecode()
