"""cache_update: write one K or V row per user at its position (ttnn.experimental.paged_update_cache)."""

from __future__ import annotations

from tttgen.ops.kinds.base import ports
from tttgen.ops.kinds.cache_fill import CacheWrite


class CacheUpdate(CacheWrite):
    name = "cache_update"
    doc = "write one K or V row per user at its position (paged: in the block page_table maps it to)"
    inputs = ports("cache", "input", "positions", "page_table?")
    exactly_one = ()
    macro = "cache_update"

    def cost_facts(self, op, tools):
        size = int(2 * tools.users * 32 * op.facts["head_dim"] * tools.kv_tile_kb)
        return "cache_update", {"bytes": size, "src": tools.src, "dst": "dram"}


KIND = CacheUpdate()
