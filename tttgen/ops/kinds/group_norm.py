"""group_norm: GroupNorm over channels-last activations (ttnn.group_norm, diffusion and vision models).

ttnn 0.81.1 (ttnn/operations/normalization.py): the input is NHWC, [N, 1, H*W, C] here; each of `num_groups`
groups of C / num_groups adjacent channels is normalized over its channels and all H*W rows of its batch item,
then scaled and shifted per channel (golden: torch.nn.functional.group_norm on the input permuted to NCHW). The
channels must fill whole tiles (determine_expected_group_norm_*_grid_size asserts C % 32 == 0) and split into the
groups evenly; gamma and beta are row-major [1, 1, C / 32, 32] (create_group_norm_weight_bias_rm with one core
across the channels), the layout the other norms read.
"""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, Inferred, OpKind, ShapeError, ports, rows_dim


class GroupNorm(OpKind):
    name = "group_norm"
    doc = "GroupNorm of [N, 1, H*W, C] channels-last activations: num_groups groups of channels, per batch item"
    inputs = ports("input", "weight?", "bias?")
    attrs = (Attr("num_groups", "int", required=True), Attr("eps", "float", required=True))
    weight_roles = (("weight", "NORM"), ("bias", "NORM"))
    macro = "group_norm"
    weight_layouts = {"weight": "norm_rows", "bias": "norm_rows"}
    pins = ("compute_kernel_config",)

    def infer(self, ins, attrs):
        x, groups = ins["input"], attrs["num_groups"]
        if len(x) != 4 or x[1] != 1:
            raise ShapeError(f"input {list(x)} is not [batch, 1, rows, channels] (ttnn.group_norm reads NHWC)")
        if x[-1] % 32:
            raise ShapeError(f"{x[-1]} channels do not fill whole tiles of 32 (ttnn.group_norm asserts it)")
        if groups <= 0 or x[-1] % groups:
            raise ShapeError(f"{x[-1]} channels do not split into num_groups {groups} equal groups")
        for port in ("weight", "bias"):
            if port in ins and ins[port][-1] != x[-1]:
                raise ShapeError(f"{port} width {ins[port][-1]} does not match the {x[-1]} channels")
        return Inferred((x,), rows_dim(x) | {"num_groups": groups})

    def render_args(self, op, ins, attrs, tools):
        return {"eps": repr(float(attrs["eps"])), "num_groups": attrs["num_groups"]}

    def config_entries(self, op, ident, tools):
        tools.add(f"{ident}_compute", tools.kernel(op.decisions["kernel"]), pinned=tools.pin("compute_kernel_config"))
        tools.add(f"{ident}_memory", tools.out())

    def precision(self, op, tools):
        return tools.norm_kernel(op), "bfloat16"  # a norm: the norms' kernel, bf16 gamma and beta

    def cost_facts(self, op, tools):
        # Two passes over the rows like LayerNorm's (statistics, then normalise), priced as LayerNorm of the same
        # elements on the whole grid: no measured group_norm numbers.
        facts = {"rows": op.facts["rows"], "dim": op.facts["dim"], "storage": tools.src, "fidelity": tools.fidelity}
        return "layer_norm", facts | {"cores": tools.device_cores}


KIND = GroupNorm()
