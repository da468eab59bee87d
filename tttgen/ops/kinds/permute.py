"""permute: reorder dims (ttnn.permute)."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, Inferred, OpKind, ShapeError, data_movement, ports


class Permute(OpKind):
    name = "permute"
    doc = "reorder dims"
    inputs = ports("input")
    attrs = (Attr("dims", "int_list", required=True),)
    macro = "permute"

    def infer(self, ins, attrs):
        x = ins["input"]
        if sorted(attrs["dims"]) != list(range(len(x))):
            raise ShapeError(f"dims {attrs['dims']} are not a permutation of {len(x)} dims")
        return Inferred((tuple(x[d] for d in attrs["dims"]),), {})

    def render_args(self, op, ins, attrs, tools):
        return {"dims": list(attrs["dims"])}

    def cost_facts(self, op, tools):
        return data_movement(op, tools)


KIND = Permute()
