"""reduce_scatter: partial sums on every chip of a mesh axis added, each chip keeping its slice along one dim
(ttnn.reduce_scatter). Inserted by the parallelism pass; see all_gather.py for its facts and pricing."""

from __future__ import annotations

from tttgen.ops.kinds.all_gather import Collective


class ReduceScatter(Collective):
    name = "reduce_scatter"
    doc = "partial sums added over a mesh axis, each chip keeping its slice along dim"


KIND = ReduceScatter()
