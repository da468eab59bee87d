"""sdpa: scaled dot-product attention over whole sequences, with an optional additive mask or sliding window
(ttnn.transformer.scaled_dot_product_attention with an SDPAProgramConfig).

The optional `window` input is a scalar int (a call input bound to a param): ttnn's `sliding_window_size`, with
which a causal query at position p attends the keys at p - window < k <= p (transformer_golden.py `_window_mask`).
"""

from __future__ import annotations

import math
from math import prod

from tttgen.ops.kinds.base import ACTIVATION, REPLICATE, Attr, Inferred, MeshSplit, OpKind, ports
from tttgen.rules.other import r23_sdpa


def heads(num_heads: int, num_kv_heads: int, head_dim: int) -> dict:
    return {"num_heads": num_heads, "num_kv_heads": num_kv_heads, "head_dim": head_dim}


class Attention(OpKind):
    """The attention kinds (sdpa, sdpa_decode, sdpa_chunked): one macro family, one program config family."""

    name = "sdpa"
    doc = "scaled dot-product attention over whole sequences, with an optional additive mask or sliding window"
    inputs = ports("q", "k", "v", "mask?", "window?")
    attrs = (Attr("causal", "bool", required=True), Attr("scale", "float"))
    macro = "sdpa"
    pins = ("compute_kernel_config",)
    promises = {"op_programs": ("program",)}
    kernel_group = "SDPA_PREFILL"
    chunk_planner = "sdpa"
    program_planner = "sdpa"

    def infer(self, ins, attrs):
        q, k = ins["q"], ins.get("k", ins.get("k_cache"))
        return Inferred((q,), heads(q[-3], k[-3], q[-1]))

    def render_args(self, op, ins, attrs, tools):
        return dict(
            q=ins["q"],
            k=ins.get("k", ins.get("k_cache")),
            v=ins.get("v", ins.get("v_cache")),
            mask=ins.get("mask"),
            positions=ins.get("positions"),
            page_table=ins.get("page_table"),
            chunk_start=ins.get("chunk_start"),
            window=ins.get("window"),
            causal=bool(attrs.get("causal", False)),
            scale=repr(float(attrs.get("scale", 1.0 / math.sqrt(op.facts["head_dim"])))),
        )

    def config_entries(self, op, ident, tools):
        d = op.decisions
        tools.add(f"{ident}_program", tools.sdpa_program(d["program"]), "chunks chosen by the chunking pass")
        tools.add(f"{ident}_compute", tools.kernel(d["kernel"]), pinned=tools.pin("compute_kernel_config"))
        tools.add(f"{ident}_memory", tools.out())

    def precision(self, op, tools):
        return tools.kernel(op, self.kernel_group), ACTIVATION

    def cost_facts(self, op, tools):
        d, rows = op.decisions, op.seq
        f = op.facts  # this attention's own heads (per chip on a mesh)
        q = op.dataflow["shapes"]["in"]["q"] if op.dataflow else (1, f["num_heads"], rows, f["head_dim"])
        return "sdpa_prefill", {
            "heads": f["num_heads"],
            "kv_heads": f["num_kv_heads"],
            "seq": q[-2],
            "head_dim": f["head_dim"],
            "batch": prod(q[:-3]),
            "fidelity": tools.fidelity,
            "q_chunk": d["q_chunk_size"],
            "k_chunk": d["k_chunk_size"],
            "kv_dtype": "bfloat16",
        }

    def rule_problem(self, op, graph):
        q_rows = op.dataflow["shapes"]["in"]["q"][-2] if op.dataflow else op.seq
        return r23_sdpa(op.get("program"), q_rows, graph.device, op.facts["num_heads"], op.facts["num_kv_heads"])

    def flops(self, op, graph):
        # this attention's own heads (PI0's vision tower and language model differ); causal: half of 4*h*s*s*d
        return 2 * op.facts["num_heads"] * op.seq * op.seq * op.facts["head_dim"]

    def chunks_note(self, op):
        d = op.decisions
        return f" | q/k chunks {d['q_chunk_size']}/{d['k_chunk_size']}" if d.get("k_chunk_size") else ""

    def mesh_splits(self, op):
        """Heads split over the chips (query and KV heads alike: the KV cache is split by KV heads); the position
        and page-table inputs are replicated."""
        ports_ = ("q", "k", "v", "k_cache", "v_cache")
        heads = MeshSplit("heads", inputs=tuple((p, "S-3") for p in ports_), output="S-3")
        return (REPLICATE, heads)


KIND = Attention()
