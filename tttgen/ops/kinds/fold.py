"""fold: space-to-depth of row-major NHWC pixels (ttnn.fold): one tile row per patch."""

from __future__ import annotations

from tttgen.ops.kinds.base import Attr, Inferred, OpKind, ShapeError, data_movement, ports, rows_dim


class Fold(OpKind):
    name = "fold"
    doc = "space-to-depth of row-major NHWC pixels: one tile row per stride_h x stride_w patch (channels fastest)"
    inputs = ports("input")
    attrs = (Attr("stride_h", "int", required=True), Attr("stride_w", "int", required=True))
    macro = "fold"

    def infer(self, ins, attrs):
        """[N, H, W, C] (row-major pixels) -> one row per patch, [1, 1, N * H/sh * W/sw, sh * sw * C] tiles."""
        n, h, w, c = ins["input"]
        sh, sw = attrs["stride_h"], attrs["stride_w"]
        if h % sh or w % sw:
            raise ShapeError(f"{h}x{w} is not divisible by the {sh}x{sw} stride")
        out = (1, 1, n * (h // sh) * (w // sw), c * sh * sw)
        if out[-1] % 32:
            raise ShapeError(f"a patch holds {out[-1]} values, not whole tiles: pad the channels ({c}) on the host")
        return Inferred((out,), rows_dim(out))

    def render_args(self, op, ins, attrs, tools):
        return dict(
            stride_h=attrs["stride_h"], stride_w=attrs["stride_w"], out_shape=list(op.dataflow["shapes"]["out"][0])
        )

    def cost_facts(self, op, tools):
        return data_movement(op, tools)


KIND = Fold()
