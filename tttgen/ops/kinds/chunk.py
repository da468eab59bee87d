"""chunk: split into `parts` equal pieces along dim. The module renderer does not print it yet (no macro)."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, Inferred, OpKind, ShapeError, ports


class Chunk(OpKind):
    name = "chunk"
    doc = "split into `parts` equal pieces along dim"
    inputs = ports("input")
    outputs = ()
    attrs = (Attr("parts", "int", required=True), Attr("dim", "int", required=True))
    variadic_outputs = "parts"

    def infer(self, ins, attrs):
        x, parts, dim = list(ins["input"]), attrs["parts"], attrs["dim"]
        if x[dim] % parts:
            raise ShapeError(f"dim {dim} ({x[dim]}) does not split into {parts} equal parts")
        x[dim] //= parts
        return Inferred((tuple(x),) * parts, {})


KIND = Chunk()
