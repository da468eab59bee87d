"""rms_norm: RMSNorm over the last dim (ttnn.rms_norm)."""

from __future__ import annotations

from dataclasses import replace

from tttgen.ops.kinds.base import REPLICATE, MeshSplit, ports
from tttgen.tiling import TILE
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


# tt_transformers distributes the norm over the mesh above this width ("Somewhere between 4k and 8k WH
# runs out of L1 if not distributed", models/tt_transformers/tt/model_config.py; shared reference multi-device.md
# section 3); ttnn 0.81.1 on the mock T3K rejects a gathered [128, 8192] rms_norm: its dataflow buffers grow to
# 2,301,280 B per core, above the 1,499,136 B of L1 (tests/test_parallelism.py pins the choice).
GATHERED_NORM_MAX_WIDTH = 4096


class RmsNorm(Norm):
    name = "rms_norm"
    doc = "RMSNorm over the last dim"
    inputs = ports("input", "weight?")
    macro = "rms_norm"
    weight_layouts = {"weight": "norm_rows"}

    def render_args(self, op, ins, attrs, tools):
        view = super().render_args(op, ins, attrs, tools)
        internal = (op.decisions.get("mesh") or {}).get("internal", ())
        rows = op.facts["rows"]
        view["distributed"] = [
            {
                "axis": axis,
                "topology": topology.capitalize(),
                "links": links,
                # decode's sharded norm reads its gathered statistics width-sharded on one core (ttnn: "Stats must be
                # sharded"), as tt_transformers' distributed_norm.py gathers them
                "memory": (
                    f"ttnn.create_sharded_memory_config(shape=(1, 1, {rows}, {size // (rows * 2)}), "
                    "core_grid=ttnn.CoreGrid(y=1, x=1), strategy=ttnn.ShardStrategy.WIDTH)"
                    if op.mode == "decode"
                    else "ttnn.DRAM_MEMORY_CONFIG"
                ),
            }
            for _, axis, size, topology, links in internal
        ]
        return view

    def rule_problem(self, op, graph):
        if op.decisions.get("program") is not None:
            found = r22_sharded_norm(op.get("program"), op.get("in0"), op.facts["rows"], op.facts["dim"])
            if found:
                return found
        return decode_shard_problem(op, graph)

    def mesh_splits(self, op):
        """Replicated, or distributed over a width-split input (tt_transformers' distributed_norm.py, ttnn 0.81.1's
        rms_norm_pre_all_gather, all_gather, rms_norm_post_all_gather): each chip's per-row sum of squares (one
        tile wide) is gathered over the axis and each chip normalises its own slice with its slice of the weight."""
        distributed = MeshSplit(
            "distributed",
            inputs=(("input", "S-1"),),
            output="S-1",
            weight="S-1",
            internal=(("all_gather", TILE),),
        )
        return (REPLICATE, distributed)

    def mesh_problem(self, op, ins):
        """A norm of more than GATHERED_NORM_MAX_WIDTH columns per chip on a mesh (tt_transformers distributes it)."""
        width = ins["input"][-1]
        if width > GATHERED_NORM_MAX_WIDTH:
            return f"a norm of {width} columns per chip does not fit L1 (distributed above {GATHERED_NORM_MAX_WIDTH})"
        return None

    def cost(self, op, tools):
        """The norm on its slice, plus the statistics' all_gather of a distributed norm."""
        base = super().cost(op, tools)
        internal = (op.decisions.get("mesh") or {}).get("internal", ())
        if base is None or not internal:
            return base
        for name, axis, size, *_ in internal:
            c = tools.collective(name, axis, size)
            base = replace(
                base,
                total_ns=base.total_ns + c.total_ns,
                noc_ns=base.noc_ns + c.noc_ns,
                overhead_ns=base.overhead_ns + c.overhead_ns,
                device_ns=base.device_ns + c.device_ns,
                op_gap_ns=base.op_gap_ns + c.op_gap_ns,
            )
        return base

    def flops(self, op, graph):
        return 4 * op.facts["rows"] * op.facts["dim"]


KIND = RmsNorm()
