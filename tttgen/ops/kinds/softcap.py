"""softcap: cap * tanh(input / cap), the logit soft-capping of Gemma 2 (ttnn.softcap, whose docstring in ttnn
0.81.1 reads `output = beta * tanh(input / beta)`, "Known as soft capping (e.g. Gemma logit softcapping)").

ttnn 0.81.1 runs ttnn.softcap on Blackhole only (unary_device_operation.cpp:197, "SOFTCAP is implemented for
Blackhole only"): on other arches the op_programs pass decides the same math as ttnn.multiply, ttnn.tanh,
ttnn.multiply (decision `softcap_fused`, tttgen/rules/other.py has_fused_softcap)."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, OpKind, out_elements, ports, same_shape, sum_costs


class Softcap(OpKind):
    name = "softcap"
    doc = "cap * tanh(input / cap): smooth bound of the input to +/-cap (logit soft-capping)"
    inputs = ports("input")
    attrs = (Attr("cap", "float", required=True),)
    macro = "softcap"
    infer = same_shape("input")
    program_planner = "softcap"
    promises = {"op_programs": ("softcap_fused",)}

    def render_args(self, op, ins, attrs, tools):
        cap = float(attrs["cap"])
        return {"cap": repr(cap), "inv_cap": repr(1.0 / cap), "fused": bool(op.decisions.get("softcap_fused"))}

    def cost(self, op, tools):
        # one SFPU pass over the tensor fused, three unfused: each priced as a unary elementwise op (no measured
        # numbers of its own)
        facts = {"elements": out_elements(op), "inputs": 1, "storage": tools.src, "op": "unary"}
        one = tools.op_time("eltwise", traced=tools.traced, **facts, fidelity=tools.fidelity)
        return one if op.decisions.get("softcap_fused", True) else sum_costs([one, one, one])


KIND = Softcap()
