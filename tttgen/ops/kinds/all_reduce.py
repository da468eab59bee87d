"""all_reduce: partial sums on every chip of a mesh axis added, every chip keeping the whole sum (ttnn.all_reduce).
Inserted by the parallelism pass; see all_gather.py for its facts and pricing."""

from __future__ import annotations

from tttgen.ops.kinds.all_gather import Collective


class AllReduce(Collective):
    name = "all_reduce"
    doc = "partial sums added over a mesh axis, every chip keeping the whole sum"
    takes_dim = False


KIND = AllReduce()
