"""matmul: a @ b of two activations (ttnn.matmul with a searched program config)."""

from __future__ import annotations

from math import prod

from tttgen.ops.kinds.base import ACTIVATION, Attr, Inferred, OpKind, ShapeError, ports, rows_dim


class Matmul(OpKind):
    name = "matmul"
    doc = "a @ b of two activations"
    inputs = ports("a", "b")
    attrs = (Attr("transpose_a", "bool"), Attr("transpose_b", "bool"))
    macro = "matmul"
    pins = ("compute_kernel_config",)
    promises = {"op_programs": ("program",)}
    program_planner = "searched_matmul"
    weight_layouts = {"a": "tile", "b": "tile"}  # a constant operand (the atom transformer's row of ones)

    def infer(self, ins, attrs):
        a, b = ins["a"], ins["b"]
        a = a[:-2] + (a[-1], a[-2]) if attrs.get("transpose_a") else a
        b = b[:-2] + (b[-1], b[-2]) if attrs.get("transpose_b") else b
        if a[-1] != b[-2]:
            raise ShapeError(f"a width {a[-1]} does not match b rows {b[-2]}")
        if b[:-2] != a[:-2] and prod(b[:-2]) != 1:
            raise ShapeError(f"b's batch dims {list(b[:-2])} neither match a's {list(a[:-2])} nor are all 1")
        out = a[:-1] + (b[-1],)
        facts = {"m": a[-2], "k": a[-1], "n": b[-1], "batch": prod(a[:-2]), "batch_b": prod(b[:-2])}
        return Inferred((out,), rows_dim(out) | facts)

    def render_args(self, op, ins, attrs, tools):
        return dict(
            a=ins["a"],
            b=ins["b"],
            transpose_a=bool(attrs.get("transpose_a")),
            transpose_b=bool(attrs.get("transpose_b")),
            dtype=tools.dtype(op.decisions["dtypes"]["out"]),
        )

    def config_entries(self, op, ident, tools):
        d = op.decisions
        note = f"searched from ttnn's own config; {d.get('binding', '')}: {d['time_ns'] / 1000:.1f} us modeled"
        tools.add(f"{ident}_program", tools.matmul_program(d["program"]), note)
        tools.add(f"{ident}_compute", tools.kernel(d["kernel"]), pinned=tools.pin("compute_kernel_config"))
        tools.add(f"{ident}_memory", tools.out())

    def precision(self, op, tools):
        return tools.kernel(op, "ACT_MATMUL"), ACTIVATION

    def cost(self, op, tools):
        """The config op_programs chose, both operands read from DRAM."""
        d = op.decisions
        return tools.estimate_matmul(
            d["shape"],
            d["program"],
            in0_dtype=d["dtypes"]["in0"],
            in1_dtype=d["dtypes"]["in1"],
            out_dtype=d["dtypes"]["out"],
            fidelity=d["kernel"].math_fidelity,
            in0_storage=tools.src,
            in1_storage="dram",
            out_storage=tools.dst,
            traced=tools.traced,
            fp32_dest_acc_en=d["kernel"].fp32_dest_acc_en,
        )


KIND = Matmul()
