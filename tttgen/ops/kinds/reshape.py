"""reshape: same elements, new shape (ttnn.reshape; a view when the last dim is kept)."""

from __future__ import annotations

from math import prod

from tttgen.ops.kinds.base import BYTES_BF16, Attr, Inferred, OpKind, ShapeError, ports


class Reshape(OpKind):
    name = "reshape"
    doc = "same elements, new shape"
    inputs = ports("input")
    attrs = (Attr("shape", "shape", required=True),)
    macro = "reshape"
    aliases_input = True
    has_memory_config = False

    def infer(self, ins, attrs):
        shape = tuple(attrs["shape"])
        if prod(shape) != prod(ins["input"]):
            raise ShapeError(f"cannot reshape {list(ins['input'])} to {list(shape)}")
        return Inferred((shape,), {})

    def render_args(self, op, ins, attrs, tools):
        return {"shape": list(attrs["shape"])}

    def cost_facts(self, op, tools):
        (shape_in,), shape_out = op.dataflow["shapes"]["in"].values(), op.dataflow["shapes"]["out"][0]
        if shape_in[-1] == shape_out[-1]:
            return None  # tile rows regrouped, the last dim kept: a view (ttnn.reshape returns the same buffer)
        size = prod(shape_out) * BYTES_BF16  # a new last dim re-tiles every element
        return "reshard", {"bytes_in": size, "bytes_out": size, "src": tools.src, "dst": tools.dst}


KIND = Reshape()
