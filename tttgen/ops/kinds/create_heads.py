"""create_heads: split a fused QKV activation into q, k, v heads (ttnn.experimental.nlp_create_qkv_heads...)."""

from __future__ import annotations

from tttgen.ops.kinds.base import BYTES_BF16, REPLICATE, Attr, Inferred, MeshSplit, OpKind, ShapeError, ports
from tttgen.ops.kinds.sdpa import heads
from tttgen.rules.other import r24_qkv_heads_decode, r26_prefill_len, r31_heads_decode_rectangle


class CreateHeads(OpKind):
    name = "create_heads"
    doc = "split a fused QKV activation into q, k, v heads"
    inputs = ports("input")
    outputs = ("q", "k", "v")
    attrs = (
        Attr("num_heads", "int", required=True),
        Attr("num_kv_heads", "int", required=True),
        Attr("head_dim", "int", required=True),
    )
    macro = "create_heads"

    def infer(self, ins, attrs):
        x, nh, nkv, hd = ins["input"], attrs["num_heads"], attrs["num_kv_heads"], attrs["head_dim"]
        if x[-1] != hd * (nh + 2 * nkv):
            raise ShapeError(
                f"input width {x[-1]} != head_dim * (num_heads + 2 * num_kv_heads) = {hd * (nh + 2 * nkv)}"
            )
        if len(x) != 4 or x[1] != 1:
            raise ShapeError(f"input {list(x)} is not [batch, 1, rows, width] (ttnn's nlp_create_qkv_heads)")
        b, rows = x[0], x[-2]
        return Inferred(((b, nh, rows, hd), (b, nkv, rows, hd), (b, nkv, rows, hd)), heads(nh, nkv, hd))

    def render_args(self, op, ins, attrs, tools):
        return dict(num_heads=attrs["num_heads"], num_kv_heads=attrs.get("num_kv_heads"))

    def rule_problem(self, op, graph):
        device = graph.device
        if op.mode == "decode":
            found = r24_qkv_heads_decode(
                op.seq,
                graph.hints.batch,
                op.facts["num_heads"],  # per chip on a mesh
                op.facts["num_kv_heads"],
                op.get("out"),
                device.grid.cores,
            )
            return found or r31_heads_decode_rectangle(op.get("out"))
        rows = op.dataflow["shapes"]["in"]["input"][-2] if op.dataflow else op.seq
        return r26_prefill_len(rows, device.max_qkv_prefill_rows)

    def cost_facts(self, op, tools):
        f = op.facts  # this op's own heads (per chip on a mesh)
        qkv = f["head_dim"] * (f["num_heads"] + 2 * f["num_kv_heads"])
        return "create_heads", {"bytes": 2 * op.seq * qkv * BYTES_BF16, "src": tools.src, "dst": tools.dst}

    def mesh_splits(self, op):
        """Heads split over the chips: the fused QKV activation arrives split by width, each chip's slice holding
        its own q, k and v heads (the weight's columns grouped per chip), and each chip makes its own heads."""
        heads = MeshSplit(
            "heads",
            inputs=(("input", "S-1"),),
            output="S-3",
            divides=("num_heads", "num_kv_heads"),
            needs=(("num_heads", "attention heads"), ("num_kv_heads", "KV heads")),
        )
        return (REPLICATE, heads)


KIND = CreateHeads()
