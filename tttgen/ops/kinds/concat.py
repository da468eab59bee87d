"""concat: join inputs along dim (ttnn.concat)."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, Inferred, OpKind, Port, data_movement, rows_dim


class Concat(OpKind):
    name = "concat"
    doc = "join inputs along dim"
    inputs = (Port("inputs", variadic=True),)
    attrs = (Attr("dim", "int", required=True),)
    macro = "concat"

    def infer(self, ins, attrs):
        parts, dim = ins["inputs"], attrs["dim"]
        out = list(parts[0])
        out[dim] = sum(p[dim] for p in parts)
        return Inferred((tuple(out),), rows_dim(tuple(out)))

    def render_args(self, op, ins, attrs, tools):
        return dict(inputs=", ".join(ins["inputs"]), dim=attrs["dim"])

    def cost_facts(self, op, tools):
        return data_movement(op, tools)


KIND = Concat()
