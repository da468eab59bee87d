"""linear: x @ weight (+ bias), the weight a checkpoint tensor stored [K, N]; ttnn.linear."""

from __future__ import annotations

from tttgen.ops.kinds.base import (
    ACTIVATIONS,
    PARTIAL,
    REPLICATE,
    Attr,
    Inferred,
    MeshSplit,
    OpKind,
    ShapeError,
    ports,
    rows_of,
    weight_kn,
)


def pads_columns(op) -> bool:
    """Whether a column-chunked matmul's chunks hold more columns than its output (the last chunk zero-padded)."""
    chunks = op.decisions.get("column_chunks", 1)
    return chunks > 1 and chunks * op.decisions["shape"].n > op.dataflow["shapes"]["out"][0][-1]


class Linear(OpKind):
    name = "linear"
    doc = "x @ weight (+ bias), weight stored [K, N]; optional fused activation"
    inputs = ports("input", "weight", "bias?")
    attrs = (Attr("activation", "str", allowed=ACTIVATIONS),)
    weight_roles = (("bias", "NORM"),)
    shares_input = True
    macro = "linear"
    weight_layouts = {"weight": "tile", "bias": "tile"}
    pins = ("program_config", "compute_kernel_config", "memory_config", "dtype")
    priced_by_program_search = True
    chunk_planner = "matmul_rows"
    promises = {
        "chunking": ("shape",),
        "memory": ("in1",),
        "matmul_program": ("program", "in0", "out", "l1_bytes", "cores", "time_ns"),
    }

    def infer(self, ins, attrs):
        x, (k, n) = ins["input"], weight_kn(ins["weight"])
        if x[-1] != k:
            raise ShapeError(f"input width {x[-1]} does not match the weight's {k} rows")
        act = attrs.get("activation", "none")
        return Inferred((x[:-1] + (n,),), {} if act == "none" else {"activation": act}, (rows_of(x), k, n))

    def mesh_splits(self, op):
        """Megatron's two: column-parallel (replicated input, weight split by columns, output split by width) and
        row-parallel (input split by width, weight split by rows, partial sums out); a row split with a bias would
        add it on every chip, and a fused activation of partial sums is wrong, so those admit columns only."""
        column = MeshSplit("column", inputs=(("input", "R"),), output="S-1", weight="S-1")
        row = MeshSplit("row", inputs=(("input", "S-1"),), output=PARTIAL, weight="S-2")
        fused = op.facts.get("bias") or op.facts.get("activation")
        return (REPLICATE, column) if fused else (REPLICATE, column, row)

    def render_args(self, op, ins, attrs, tools):
        d = op.decisions
        calls = d["shape"].batch  # row chunks: an op reading another's input reads its chunks (same count)
        return dict(
            column_chunks=d.get("column_chunks", 1),
            in0_moved=d.get("in0_moved", False),
            padded_columns=tools.pads_columns(op),
            bias=ins.get("bias"),
            k=op.shape.k,
            rows=op.shape.m,
            make_chunks=calls > 1 and op.facts.get("shares_input_with") is None,
            source=f"{ins['input']}_chunks" if calls > 1 else ins["input"],
            out_shape=list(op.dataflow["shapes"]["out"][0]),
            dtype=tools.dtype(d["dtypes"]["out"]),
        )

    def config_entries(self, op, ident, tools):
        d = op.decisions
        note = f"{d.get('binding', '')}: {d['time_ns'] / 1000:.1f} us modeled"
        tools.add(f"{ident}_program", tools.matmul_program(d["program"]), note, tools.pin("program_config"))
        tools.add(f"{ident}_compute", tools.kernel(d["kernel"]), pinned=tools.pin("compute_kernel_config"))
        tools.add(f"{ident}_memory", tools.out(), pinned=tools.pin("memory_config.out"))
        if d.get("in0_moved"):
            tools.add(
                f"{ident}_input_memory", tools.memory(d["in0"]), "the input, moved out of DRAM once for every chunk"
            )
        if d.get("calls", 1) > 1:
            tools.add(f"{ident}_calls", str(d["calls"]), "row chunks per call (chunking pass)")

    def precision(self, op, tools):
        return tools.kernel(op, tools.weight_group(op)), tools.weight_dtype(op)

    def violations(self, op, graph):
        owner = op.facts.get("shares_input_with")
        if "chunking" not in graph.annotated or owner is None:
            return None
        mine, theirs = op.decisions["shape"].batch, graph.op(f"{op.mode_key}.{owner}").decisions["shape"].batch
        if mine != theirs:
            return f"reads {owner}'s reshaped input, so it needs {owner}'s {theirs} row chunks, not {mine}"
        return None

    def flops(self, op, graph):
        return op.decisions["shape"].flops * op.decisions.get("column_chunks", 1)

    def chunks_note(self, op):
        d = op.decisions
        if d.get("calls", 1) > 1:
            return f" | {d['calls']} calls of {d['shape'].m} rows"
        if d.get("column_chunks", 1) > 1:
            return f" | {d['column_chunks']} column chunks of {d['shape'].n}, joined in DRAM"
        return ""


KIND = Linear()
