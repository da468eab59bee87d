"""slice: a box of the input (ttnn.slice); with `start` (a runtime row), begins/ends along dim -2 count from it."""

from __future__ import annotations

from tttgen.ops.kinds.base import BYTES_BF16, REPLICATE, Attr, Inferred, MeshSplit, OpKind, ShapeError, ports, rows_dim


class Slice(OpKind):
    name = "slice"
    doc = "a box of the input; with `start` (a runtime row), begins/ends along dim -2 count from it"
    inputs = ports("input", "start?")
    attrs = (Attr("begins", "shape", required=True), Attr("ends", "shape", required=True), Attr("steps", "shape"))
    macro = "slice"
    has_memory_config = False
    weight_layouts = {"input": "tile"}  # a corner of a constant table (the atom transformer's key-gather matrix)

    def infer(self, ins, attrs):
        steps = attrs.get("steps") or [1] * len(attrs["ends"])
        out = tuple(-(-(e - b) // s) for b, e, s in zip(attrs["begins"], attrs["ends"], steps))
        if len(out) != len(ins["input"]) or min(out) <= 0:
            raise ShapeError(f"begins/ends {attrs['begins']}/{attrs['ends']} do not cut a box of {list(ins['input'])}")
        # ends past the input (ttnn refuses them: "Ends ... must be less than or equal to the shape"); with a runtime
        # start, dim -2 counts from it and is checked where the start is made
        past = [
            i for i, (e, d) in enumerate(zip(attrs["ends"], ins["input"]))
            if e > d and not ("start" in ins and i == len(out) - 2)
        ]
        if past:
            raise ShapeError(f"ends {list(attrs['ends'])} reach past the input {list(ins['input'])} in dim {past[0]}")
        return Inferred((out,), rows_dim(out))

    def render_args(self, op, ins, attrs, tools):
        start = ins.get("start")
        begins, ends = list(attrs["begins"]), list(attrs["ends"])
        if start is not None:  # rows (dim -2) counted from a runtime start
            begins[-2], ends[-2] = f"{start} + {begins[-2]}" if begins[-2] else start, f"{start} + {ends[-2]}"
        view = dict(
            begins="[" + ", ".join(map(str, begins)) + "]",
            ends="[" + ", ".join(map(str, ends)) + "]",
            reads=[ins["input"]] if not ins["input"].startswith("self.") else [],  # the start is a host int
        )
        if self.whole(op, attrs, start):
            # ttnn 0.81.1 returns a box that is the whole input as the input itself: deallocating it would free the
            # input (a weight: "Input Tensor is not allocated" at its next read), so neither is deallocated
            view["owned"] = False
        return view

    @staticmethod
    def whole(op, attrs, start) -> bool:
        """The box is the whole input, step 1 everywhere, no runtime start."""
        shape = op.dataflow["shapes"]["in"]["input"] if op.dataflow else None
        steps = attrs.get("steps") or [1] * len(attrs["ends"])
        return (
            start is None and shape is not None and all(b == 0 for b in attrs["begins"])
            and list(attrs["ends"]) == list(shape) and all(s == 1 for s in steps)
        )

    def cost_facts(self, op, tools):
        size = op.facts["rows"] * op.facts["dim"] * BYTES_BF16
        return "reshard", {"bytes_in": size, "bytes_out": size, "src": "dram", "dst": "dram"}

    def mesh_splits(self, op):
        """A box that keeps the whole width runs on each chip's slice of the width (ends shrink with it)."""
        attrs = op.dataflow.get("attrs", {}) if op.dataflow else {}
        width = op.dataflow["shapes"]["in"]["input"][-1] if op.dataflow else None
        whole = attrs.get("begins", [None])[-1] == 0 and attrs.get("ends", [None])[-1] == width
        if not whole:
            return (REPLICATE,)
        return (REPLICATE, MeshSplit("split-1", default="S-1", output="S-1", divides_full=("ends",)))


KIND = Slice()
