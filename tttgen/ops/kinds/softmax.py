"""softmax: softmax along dim, after an optional scale (ttnn.softmax)."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, OpKind, ports, same_shape


class Softmax(OpKind):
    name = "softmax"
    doc = "softmax along dim, after an optional scale"
    inputs = ports("input")
    attrs = (Attr("dim", "int"), Attr("scale", "float"))
    macro = "softmax"
    pins = ("compute_kernel_config",)
    infer = same_shape("input")

    def render_args(self, op, ins, attrs, tools):
        scaled = f"ttnn.multiply({ins['input']}, {float(attrs['scale'])!r})" if "scale" in attrs else ins["input"]
        return dict(scaled=scaled, dim=attrs.get("dim", -1))

    def config_entries(self, op, ident, tools):
        tools.add(f"{ident}_compute", tools.kernel(op.decisions["kernel"]), pinned=tools.pin("compute_kernel_config"))
        tools.add(f"{ident}_memory", tools.out())

    def precision(self, op, tools):
        return tools.norm_kernel(op), None  # a row reduction like the norms: their kernel

    def cost_facts(self, op, tools):
        # a row reduction then a normalise, priced as LayerNorm's (no measured softmax numbers)
        facts = {"rows": op.facts["rows"], "dim": op.facts["dim"], "storage": tools.src, "fidelity": tools.fidelity}
        return "layer_norm", facts | {"cores": tools.device_cores}


KIND = Softmax()
