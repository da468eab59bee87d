"""all_gather: every chip on a mesh axis receives every chip's slice, concatenated along one dim (ttnn.all_gather).

Never written in a description: the parallelism pass (tttgen/passes/parallelism.py) inserts the collectives where a
consumer reads a value in another state than its producer left it. Facts: `axis` (the mesh axis it runs along),
`chips` on it, `dim` (the tensor dim gathered or scattered), `topology` and `links` (the profile's, for that axis),
`bytes` (the tensor the collective is named after, per chip, as tttgen/cost/ccl.py counts it), `rows`/`dim_width`
of the result. Priced by the collective model (tttgen/cost/ccl.py), fitted to tt-metal's published CCL sweeps.
"""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, OpKind, ports


class Collective(OpKind):
    """A collective the parallelism pass inserts (all_gather, reduce_scatter, all_reduce)."""

    name = "all_gather"
    doc = "every chip on a mesh axis receives every chip's slice, concatenated along dim"
    inputs = ports("input")
    attrs = (Attr("dim", "int"), Attr("cluster_axis", "int"))
    described = False
    macro = "collective"
    has_memory_config = False  # writes into its reader's placement (the move it replaces) or DRAM

    takes_dim = True  # all_gather and reduce_scatter name the dim; all_reduce keeps the shape

    def render_args(self, op, ins, attrs, tools):
        f = op.facts
        return {
            "fn": self.name,
            "dim": f["dim"] % f["rank"] if self.takes_dim else None,
            "axis": f["axis"],
            "links": f["links"],
            "topology": f["topology"].capitalize(),
        }

    def cost(self, op, tools):
        if tools.collective is None:
            raise ValueError(f"{op.key}: a collective needs a mesh device")
        return tools.collective(self.name, op.facts["axis"], op.facts["bytes"])


KIND = Collective()
