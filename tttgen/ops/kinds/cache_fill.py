"""cache_fill: write one user's prompt K or V into its cache slot (ttnn.fill_cache), or into the blocks a page
table lists (ttnn.experimental.paged_fill_cache)."""

from __future__ import annotations

from tttgen.ops.kinds.base import BYTES_BF16, Inferred, MeshSplit, OpKind, ShapeError, ports


class CacheWrite(OpKind):
    """A KV-cache write (cache_fill, cache_update): it writes state and returns nothing."""

    name = "cache_fill"
    doc = "write one user's prompt K or V into its cache slot, or (paged) into the blocks page_table lists"
    inputs = ports("cache", "input", "slot?", "page_table?")
    outputs = ()
    exactly_one = (("slot", "page_table"),)
    macro = "cache_fill"
    has_memory_config = False

    def infer(self, ins, attrs):
        x, cache = ins["input"], ins["cache"]
        # a paged cache is [blocks, kv_heads, block_size, head_dim]: a user holds page_table's width of blocks
        held = cache[-2] * (ins["page_table"][-1] if "page_table" in ins else 1)
        if x[-2] > held:  # ttnn's update_cache: "Fill update_idx (0) + input tensor height ... must be <= cache height"
            raise ShapeError(f"writes {x[-2]} rows into a cache of {held} positions")
        return Inferred((), {"num_kv_heads": x[-3], "head_dim": x[-1]})

    def render_args(self, op, ins, attrs, tools):
        return dict(
            cache=ins["cache"], slot=ins.get("slot"), positions=ins.get("positions"), page_table=ins.get("page_table")
        )

    def cost_facts(self, op, tools):
        size = int(op.seq * op.facts["num_kv_heads"] * op.facts["head_dim"] * (BYTES_BF16 + tools.kv_tile_kb))
        return "cache_fill", {"bytes": size, "src": "dram", "dst": "dram"}

    def mesh_splits(self, op):
        """Each chip writes its own KV heads into its part of the cache (split by KV heads too)."""
        heads = MeshSplit("heads", inputs=(("cache", "S-3"), ("input", "S-3")), output="")
        return (MeshSplit("replicate", output=""), heads)


KIND = CacheWrite()
