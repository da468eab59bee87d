"""concat_heads: merge heads back into one activation (ttnn.experimental.nlp_concat_heads...)."""

from __future__ import annotations

from tttgen.ops.kinds.base import BYTES_BF16, REPLICATE, Attr, Inferred, MeshSplit, OpKind, ShapeError, ports
from tttgen.rules.other import r31_heads_decode_rectangle


class ConcatHeads(OpKind):
    name = "concat_heads"
    doc = "merge heads back into one activation"
    inputs = ports("input")
    attrs = (Attr("num_heads", "int", required=True),)
    macro = "concat_heads"

    def infer(self, ins, attrs):
        x, nh = ins["input"], attrs["num_heads"]
        if x[-3] != nh:
            raise ShapeError(f"input has {x[-3]} heads, not num_heads {nh}")
        return Inferred(((x[0], 1, x[-2], nh * x[-1]),), {"num_heads": nh, "head_dim": x[-1]})

    def render_args(self, op, ins, attrs, tools):
        return dict(num_heads=attrs["num_heads"], num_kv_heads=attrs.get("num_kv_heads"))

    def rule_problem(self, op, graph):
        return r31_heads_decode_rectangle(op.get("in0")) if op.mode == "decode" else None

    def cost_facts(self, op, tools):
        return "concat_heads", {"bytes": 2 * op.seq * op.facts["num_heads"] * op.facts["head_dim"] * BYTES_BF16, "src": tools.src, "dst": tools.dst}

    def mesh_splits(self, op):
        """Each chip concatenates its own heads: the output is split by width, in head order."""
        heads = MeshSplit("heads", inputs=(("input", "S-3"),), output="S-1", divides=("num_heads",))
        return (REPLICATE, heads)


KIND = ConcatHeads()
