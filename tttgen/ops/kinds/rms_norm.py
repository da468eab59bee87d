"""rms_norm: RMSNorm over the last dim (ttnn.rms_norm)."""

from __future__ import annotations

from tttgen.ops.kinds.base import ports
from tttgen.ops.kinds.layer_norm import Norm


class RmsNorm(Norm):
    name = "rms_norm"
    doc = "RMSNorm over the last dim"
    inputs = ports("input", "weight?")
    ir_kind = "rms_norm"
    macro = "rms_norm"
    weight_layouts = {"weight": "norm_rows"}

    def flops(self, op, graph):
        return 4 * op.facts["rows"] * op.facts["dim"]


KIND = RmsNorm()
