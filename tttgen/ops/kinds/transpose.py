"""transpose: swap two dims. The module renderer does not print it yet (no macro)."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, Inferred, OpKind, data_movement, ports


class Transpose(OpKind):
    name = "transpose"
    doc = "swap two dims"
    inputs = ports("input")
    attrs = (Attr("dim0", "int", required=True), Attr("dim1", "int", required=True))

    def infer(self, ins, attrs):
        x = list(ins["input"])
        x[attrs["dim0"]], x[attrs["dim1"]] = x[attrs["dim1"]], x[attrs["dim0"]]
        return Inferred((tuple(x),), {})

    def cost_facts(self, op, tools):
        return data_movement(op, tools)


KIND = Transpose()
