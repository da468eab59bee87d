"""sdpa_chunked: causal attention of one user's prompt chunk over its paged K/V cache
(ttnn.transformer.chunked_scaled_dot_product_attention). The passes plan it as prefill attention over its rows."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, ports
from tttgen.ops.kinds.sdpa import Attention


class SdpaChunked(Attention):
    name = "sdpa_chunked"
    doc = "causal attention of one user's prompt chunk over its paged K/V cache, the chunk's first row at chunk_start"
    inputs = ports("q", "k_cache", "v_cache", "page_table", "chunk_start")
    attrs = (Attr("scale", "float"),)
    macro = "sdpa_chunked"


KIND = SdpaChunked()
