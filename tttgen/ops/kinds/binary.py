"""binary: elementwise a <fn> b, b a tensor (either operand broadcast over the other's size-1 dims) or a scalar
(ttnn.add/subtract/multiply/divide)."""

from __future__ import annotations

from tttgen.ops.kinds.base import ACTIVATIONS, BINARY_FNS, Attr, Inferred, ShapeError, ports, rows_dim
from tttgen.ops.kinds.rms_norm import decode_shard_problem
from tttgen.ops.kinds.unary import Elementwise, Operand

TTNN_FNS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide"}


class Binary(Elementwise):
    name = "binary"
    doc = "elementwise a <fn> b, b a tensor (both broadcast) or a scalar; `a_activation` applies to a first (SwiGLU)"
    inputs = ports("a", "b?")
    attrs = (
        Attr("fn", "str", required=True, allowed=BINARY_FNS),
        Attr("scalar", "float"),
        Attr("a_activation", "str", allowed=ACTIVATIONS),
    )
    exactly_one = (("b", "scalar"),)
    macro = "binary"
    weight_layouts = {"a": "tile", "b": "tile"}  # a table added to activations (SigLIP's position embedding)
    promises = {"fusion": ("jit", "jit_reason")}

    def infer(self, ins, attrs):
        act = attrs.get("a_activation", "none")
        fn = attrs["fn"] if act == "none" else f"{act}_{attrs['fn']}"  # e.g. silu_mul: SwiGLU in one kernel
        out = broadcast_shape(ins["a"], ins["b"]) if ins.get("b") is not None else ins["a"]
        return Inferred((out,), rows_dim(out) | {"fn": fn})

    def steps(self, op, attrs):
        """a <fn> b, after the activation on a (the fact `fn` is `<act>_<fn>` then)."""
        act, _, base = op.facts["fn"].rpartition("_")
        a: Operand = ("port", "a")
        steps = []
        if act:
            steps.append((act, (a,)))
            a = ("step", 0)
        b: Operand = ("scalar", float(attrs["scalar"])) if "scalar" in attrs else ("port", "b")
        return (*steps, (TTNN_FNS.get(base, base), (a, b)))

    def one_ttnn_kernel(self, op, steps):
        """An activation on the first operand runs in the binary op's kernel (`input_tensor_a_activations`)."""
        return len(steps) > 1

    def ttnn_form(self, attrs, steps, value):
        b = repr(float(attrs["scalar"])) if "scalar" in attrs else value("b")
        if len(steps) > 1:
            return f"ttnn.{steps[-1][0]}({value('a')}, {b}, input_tensor_a_activations=[{steps[0][0].upper()}])"
        return f"ttnn.{steps[-1][0]}({value('a')}, {b})"

    def render_args(self, op, ins, attrs, tools):
        act = attrs.get("a_activation", "none")
        view = dict(
            fn=TTNN_FNS[attrs["fn"]],
            a=ins["a"],
            b=ins.get("b"),
            scalar=repr(float(attrs["scalar"])) if "scalar" in attrs else None,
            a_activation=act.upper() if act != "none" else None,
            dtype=tools.dtype(op.decisions["dtypes"]["out"]),
        )
        return view | tools.jit(op)

    def cost_facts(self, op, tools):
        fn = op.facts["fn"]
        return "eltwise", {
            "elements": op.facts["rows"] * op.facts["dim"],
            "inputs": 2,
            "storage": tools.src,
            "op": "add" if fn == "add" else "mul",
            "fidelity": tools.fidelity,
        }

    def rule_problem(self, op, graph):
        return decode_shard_problem(op, graph)

    def flops(self, op, graph):
        return op.facts["rows"] * op.facts["dim"]


def broadcast_shape(a, b):
    """The shape of a <fn> b: numpy broadcasting, a size-1 dim of either operand stretched to the other's (ttnn 0.81.1
    accepts both sides broadcast: a [K, 1, H, 32] minus a [K, W, 1, 32] is [K, W, H, 32], Boltz's atom-pair offsets)."""
    rank = max(len(a), len(b))
    a, b = (1,) * (rank - len(a)) + tuple(a), (1,) * (rank - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ShapeError(f"shapes {list(a)} and {list(b)} do not broadcast")
        out.append(max(x, y))
    return tuple(out)


KIND = Binary()
