"""unary: elementwise fn(input * scale) (ttnn.<fn>, or part of a ttnn-jit block the fusion pass chose)."""

from __future__ import annotations

from tttgen.ops.kinds.base import UNARY_FNS, Attr, OpKind, out_elements, ports, same_shape


class Elementwise(OpKind):
    """An elementwise kind: the fusion pass may run it as part of a ttnn-jit block or a chain of steps."""

    def config_entries(self, op, ident, tools):
        if not op.decisions.get("jit"):  # a jit block writes the placement its decorator names
            super().config_entries(op, ident, tools)

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
    ir_kind = "unary"
    macro = "unary"
    infer = same_shape("input", fn="fn")

    def render_args(self, op, ins, attrs, tools):
        view = dict(fn=attrs["fn"], scale=repr(float(attrs["scale"])) if "scale" in attrs else None)
        return view | tools.jit(op)

    def cost_facts(self, op, tools):
        facts = {"elements": out_elements(op), "inputs": 1, "storage": tools.src, "op": "unary"}
        return "eltwise", facts | {"fidelity": tools.fidelity}


KIND = Unary()
