"""softcap: cap * tanh(input / cap), the logit soft-capping of Gemma 2 (ttnn.softcap, whose docstring in ttnn
0.81.1 reads `output = beta * tanh(input / beta)`, "Known as soft capping (e.g. Gemma logit softcapping)")."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, OpKind, out_elements, ports, same_shape


class Softcap(OpKind):
    name = "softcap"
    doc = "cap * tanh(input / cap): smooth bound of the input to +/-cap (logit soft-capping)"
    inputs = ports("input")
    attrs = (Attr("cap", "float", required=True),)
    macro = "softcap"
    infer = same_shape("input")

    def render_args(self, op, ins, attrs, tools):
        return {"cap": repr(float(attrs["cap"]))}

    def cost_facts(self, op, tools):
        # one SFPU pass over the tensor: priced as a unary elementwise op (no measured numbers of its own)
        facts = {"elements": out_elements(op), "inputs": 1, "storage": tools.src, "op": "unary"}
        return "eltwise", facts | {"fidelity": tools.fidelity}


KIND = Softcap()
