"""unary: elementwise fn(input * scale) (ttnn.<fn>, or part of a ttnn-jit block the fusion pass chose)."""

from __future__ import annotations

from typing import Any

from tttgen.ops.kinds.base import UNARY_FNS, Attr, OpKind, out_elements, passthrough, ports, same_shape

# A step operand: ("port", name) an input of the op, ("step", k) the result of its step k, ("scalar", x).
Operand = tuple[str, Any]


class Elementwise(OpKind):
    """An elementwise kind: the fusion pass may run it as part of a ttnn-jit block or a chain of steps."""

    elementwise = True
    # Whether the op's steps are priced one by one (chain_steps) even when it is a single step.
    priced_by_steps: bool = False

    def steps(self, op, attrs: dict[str, Any]) -> tuple[tuple[str, tuple[Operand, ...]], ...]:
        """The ttnn calls the op is, by ttnn's names: (name, operands) each."""
        raise NotImplementedError

    def one_ttnn_kernel(self, op, steps: tuple) -> bool:
        """Whether ttnn runs all of the op's steps in one kernel."""
        return False

    def ttnn_form(self, attrs: dict[str, Any], steps: tuple, value) -> str:
        """The ttnn call(s) the op is printed as, for the fusion pass's reasons; value(port) names an input."""
        raise NotImplementedError

    def config_entries(self, op, ident, tools):
        if not op.decisions.get("jit"):  # a jit block writes the placement its decorator names
            super().config_entries(op, ident, tools)

    def mesh_splits(self, op):
        """Elementwise: each chip computes its own slice (width- or heads-split), or all of it."""
        return passthrough("S-1", "S-3")

    def cost(self, op, tools):
        d = op.decisions
        if d.get("jit_member_of"):  # absorbed into a ttnn-jit block: the block is priced once, at its last op
            return None
        if d.get("chain_steps"):  # priced as the form the fusion pass chose
            return tools.chain_cost(op, d["chain_steps"], d["one_kernel"], tools.traced)
        return super().cost(op, tools)


class Unary(Elementwise):
    name = "unary"
    doc = "elementwise fn(input * scale)"
    inputs = ports("input")
    attrs = (Attr("fn", "str", required=True, allowed=UNARY_FNS), Attr("scale", "float"))
    macro = "unary"
    infer = same_shape("input", fn="fn")
    priced_by_steps = True

    def steps(self, op, attrs):
        """fn(input), after its multiply by `scale`."""
        x: Operand = ("port", "input")
        steps = []
        if "scale" in attrs:
            steps.append(("multiply", (x, ("scalar", float(attrs["scale"])))))
            x = ("step", 0)
        return (*steps, (op.facts["fn"], (x,)))

    def ttnn_form(self, attrs, steps, value):
        x = f"ttnn.multiply({value('input')}, {attrs['scale']})" if "scale" in attrs else value("input")
        return f"ttnn.{steps[-1][0]}({x})"

    def render_args(self, op, ins, attrs, tools):
        view = dict(fn=attrs["fn"], scale=repr(float(attrs["scale"])) if "scale" in attrs else None)
        return view | tools.jit(op)

    def cost_facts(self, op, tools):
        facts = {"elements": out_elements(op), "inputs": 1, "storage": tools.src, "op": "unary"}
        return "eltwise", facts | {"fidelity": tools.fidelity}


KIND = Unary()
