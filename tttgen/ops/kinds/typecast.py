"""typecast: convert the element type (ttnn.typecast)."""

from __future__ import annotations

from tttgen.ops.kinds.base import DTYPES, Attr, OpKind, data_movement, ports, same_shape


class Typecast(OpKind):
    name = "typecast"
    doc = "convert the element type"
    inputs = ports("input")
    attrs = (Attr("dtype", "str", required=True, allowed=DTYPES),)
    macro = "typecast"
    infer = same_shape("input")

    def render_args(self, op, ins, attrs, tools):
        return {"dtype_name": attrs["dtype"]}

    def cost_facts(self, op, tools):
        return data_movement(op, tools, kind="typecast")


KIND = Typecast()
