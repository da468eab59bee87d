"""rms_norm: RMSNorm over the last dim (ttnn.rms_norm)."""

from __future__ import annotations

from tttgen.ops.kinds.base import ports
from tttgen.ops.kinds.layer_norm import Norm
from tttgen.rules.other import r21_shard_spec, r22_sharded_norm


def decode_shard_problem(op, graph) -> str | None:
    """A decode op reading and writing sharded rows: each shard spec must tile its rows x dim (rule 21)."""
    if op.mode != "decode":
        return None
    for side in ("in0", "out"):
        placement = op.decisions.get(side)
        found = r21_shard_spec(placement, op.facts["rows"], op.facts["dim"], graph.device) if placement else None
        if found:
            return found
    return None


class RmsNorm(Norm):
    name = "rms_norm"
    doc = "RMSNorm over the last dim"
    inputs = ports("input", "weight?")
    macro = "rms_norm"
    weight_layouts = {"weight": "norm_rows"}

    def rule_problem(self, op, graph):
        if op.decisions.get("program") is not None:
            found = r22_sharded_norm(op.get("program"), op.get("in0"), op.facts["rows"], op.facts["dim"])
            if found:
                return found
        return decode_shard_problem(op, graph)

    def flops(self, op, graph):
        return 4 * op.facts["rows"] * op.facts["dim"]


KIND = RmsNorm()
