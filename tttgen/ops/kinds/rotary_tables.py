"""rotary_tables: host-side cos and sin tables for the given positions (torch, when the package runs; the renderer
prints it with host_view)."""

from __future__ import annotations

from math import prod

from tttgen.ops.kinds.base import Attr, Inferred, OpKind, ports


class RotaryTables(OpKind):
    name = "rotary_tables"
    doc = "host-side cos and sin tables for the given positions"
    inputs = ports("positions")
    outputs = ("cos", "sin")
    attrs = (
        Attr("head_dim", "int", required=True),
        Attr("theta", "float", required=True),
        Attr("convention", "str", required=True, allowed=("pair", "half")),
        Attr("scaling", "mapping"),
    )
    device_op = False  # computed on the host when the package runs
    macro = "rotary_tables"

    def infer(self, ins, attrs):
        table = (1, 1, prod(ins["positions"]), attrs["head_dim"])
        return Inferred((table, table), {})


KIND = RotaryTables()
