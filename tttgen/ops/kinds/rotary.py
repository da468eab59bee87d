"""rotary: rotary embedding; pair: adjacent pairs (ttnn.experimental.rotary_embedding_llama)."""

from __future__ import annotations

from tttgen.ops.kinds.base import ACTIVATION, BYTES_BF16, REPLICATE, Attr, Inferred, MeshSplit, OpKind, ports
from tttgen.tiling import round_up


class Rotary(OpKind):
    name = "rotary"
    doc = "rotary embedding; pair: adjacent pairs (rotary_embedding_llama), half: HF rotate-half"
    inputs = ports("input", "cos", "sin")
    attrs = (Attr("convention", "str", required=True, allowed=("pair", "half")),)
    macro = "rotary"
    has_memory_config = False

    def infer(self, ins, attrs):
        x = ins["input"]
        return Inferred((x,), {"heads": x[-3], "head_dim": x[-1]})

    def render_args(self, op, ins, attrs, tools):
        if attrs["convention"] != "pair":
            raise tools.unsupported(f"rotary convention '{attrs['convention']}' of '{op.name}'")
        which = "decode" if op.mode == "decode" else "prefill"
        return dict(cos=ins["cos"], sin=ins["sin"], trans_mat=f'self.transformation_mats["{which}"]')

    def precision(self, op, tools):
        return tools.fixed_kernel("ROTARY"), ACTIVATION  # ttnn's default for rotary ops, no override

    def cost_facts(self, op, tools):
        heads = op.facts["heads"]
        tokens = tools.users * round_up(heads, 32) if op.mode == "decode" else op.seq * heads
        return "rotary", {"bytes": 4 * tokens * op.facts["head_dim"] * BYTES_BF16, "src": tools.src, "dst": tools.dst}

    def mesh_splits(self, op):
        """Heads split over the chips; every chip reads the whole (replicated) cos and sin tables."""
        heads = MeshSplit("heads", inputs=(("input", "S-3"),), output="S-3")
        return (REPLICATE, heads)


KIND = Rotary()
