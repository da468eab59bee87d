"""embedding: rows of a table gathered by token ids (ttnn.embedding)."""

from __future__ import annotations

from math import prod

from tttgen.ops.kinds.base import BYTES_BF16, REPLICATE, Inferred, MeshSplit, OpKind, ports


class Embedding(OpKind):
    name = "embedding"
    doc = "rows of weight gathered by token ids"
    inputs = ports("input", "weight")
    weight_roles = (("weight", "EMBEDDING"),)
    macro = "embedding"
    weight_layouts = {"weight": "row_major"}

    def infer(self, ins, attrs):
        rows, dim = prod(ins["input"]), ins["weight"][-1]
        return Inferred(((1, 1, rows, dim),), {"rows": rows, "dim": dim})

    def render_args(self, op, ins, attrs, tools):
        return {"out_shape": list(op.dataflow["shapes"]["out"][0])}

    def cost_facts(self, op, tools):
        return "embedding", {"bytes": 2 * op.seq * op.facts["dim"] * BYTES_BF16, "src": "dram", "dst": tools.dst}

    def mesh_splits(self, op):
        """The table split by columns: each chip gathers its slice of every row (the width-fractured residual
        tt_transformers starts from)."""
        return (REPLICATE, MeshSplit("column", inputs=(("input", "R"),), output="S-1", weight="S-1"))


KIND = Embedding()
