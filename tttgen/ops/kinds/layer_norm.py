"""layer_norm: LayerNorm over the last dim (ttnn.layer_norm with a LayerNorm*ProgramConfig)."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, Inferred, OpKind, ShapeError, ports, rows_dim


class Norm(OpKind):
    """A row norm over the last dim: the layer_norm and rms_norm kinds share everything but their math."""

    name = "layer_norm"
    doc = "LayerNorm over the last dim"
    inputs = ports("input", "weight?", "bias?")
    attrs = (Attr("eps", "float", required=True),)
    weight_roles = (("weight", "NORM"), ("bias", "NORM"))
    macro = "layer_norm"
    weight_layouts = {"weight": "norm_rows", "bias": "norm_rows"}
    pins = ("compute_kernel_config",)
    promises = {"op_programs": ("program",)}
    program_planner = "norm"  # one program config family (LayerNorm*ProgramConfig)

    def infer(self, ins, attrs):
        x = ins["input"]
        for port in ("weight", "bias"):
            if port in ins and ins[port][-1] != x[-1]:
                raise ShapeError(f"{port} width {ins[port][-1]} does not match the input width {x[-1]}")
        return Inferred((x,), rows_dim(x))

    def render_args(self, op, ins, attrs, tools):
        return {"eps": repr(float(attrs["eps"]))}

    def config_entries(self, op, ident, tools):
        d = op.decisions
        tools.add(f"{ident}_program", tools.norm_program(d["program"]))
        tools.add(f"{ident}_compute", tools.kernel(d["kernel"]), pinned=tools.pin("compute_kernel_config"))
        tools.add(f"{ident}_memory", tools.out())

    def precision(self, op, tools):
        return tools.norm_kernel(op), "bfloat16"

    def cost_facts(self, op, tools):
        in0 = op.decisions.get("in0")
        cores = in0.grid.cores if in0 is not None and in0.grid else tools.device_cores
        facts = {"rows": op.facts["rows"], "dim": op.facts["dim"], "storage": tools.src, "cores": cores}
        return self.name, facts | {"fidelity": tools.fidelity}


KIND = Norm()
