"""OpKind: everything one op kind says about itself, with the defaults most kinds keep.

A kind is one module of tttgen/ops/kinds/ holding one subclass of OpKind and its instance `KIND`. The class
says, in this order:
- schema: its named inputs, outputs and attributes (module descriptions are checked against them, spec/module.py);
- graph: `infer`, its output shapes and the per-op facts passes read (the IR knows it by its `name` too);
- rendering: its macro in templates/ops.j2, the layout of each weight port and `render_args`, the view-model
  values the macro prints beyond the ones every op has (tttgen/render/module.py op_view); `config_entries`, the
  configs.py names its call passes;
- decisions: `precision` (its compute kernel and second operand's dtype), `pins` (the override fields it takes),
  `chunk_planner` / `program_planner` (which planner of the chunking / op_programs pass it uses), and for an
  elementwise kind its `steps` (the fusion pass);
- cost: `cost_facts` (the calibrated model's kind and facts) or `cost` for a kind priced another way;
- rules: `rule_problem`, the first ttnn rule its decisions break (the feasibility pass);
- explain: `flops` and `chunks_note`;
- the IR verifier: `promises`, the decisions a pass promises on every op of the kind, and `violations`.

The hooks receive small context objects (below) built by the pass or renderer that calls them: a kind imports
only tttgen/rules (the ttnn rules it checks) and tttgen/tiling at run time, never a pass, the renderer or the cost
model, and the callers never switch on a kind's name.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from math import prod
from typing import TYPE_CHECKING, Any, Callable, Literal

from tttgen.ir.configs import ACTIVATIONS  # noqa: F401  (kinds and the matmul rules read it)

if TYPE_CHECKING:  # types only: a kind never imports a pass or the renderer
    from tttgen.ir.configs import ComputeKernelConfig
    from tttgen.ir.graph import Graph, Op

# Attribute types. Numeric and bool attributes may also be written as an expression over module params
# (e.g. `eps: rms_norm_eps`, `num_heads: num_attention_heads`); `shape` is a list of such expressions;
# `mapping` is a fixed set of named numbers (rope scaling); `str` takes one of `allowed` when it is given.
AttrType = Literal["int", "float", "bool", "str", "int_list", "shape", "mapping"]

UNARY_FNS = ("relu", "gelu", "silu", "sigmoid", "tanh", "exp", "neg", "sqrt", "rsqrt", "reciprocal", "square", "cos")
BINARY_FNS = ("add", "sub", "mul", "div")
DTYPES = ("bfloat16", "bfloat8_b", "bfloat4_b", "float32", "uint32", "int32")
WEIGHT_ROLES = ("EMBEDDING", "NORM", "WQKV", "WO", "FF1_FF3", "FF2", "LM_HEAD")  # precision groups of weights
ACTIVATION = "bfloat16"  # the dtype of every activation
BYTES_BF16 = 2

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Port:
    name: str
    required: bool = True
    variadic: bool = False  # takes a list of values (concat)
    doc: str = ""


@dataclass(frozen=True)
class Attr:
    name: str
    type: AttrType
    required: bool = False
    allowed: tuple[str, ...] = ()  # for "str"; empty means any string
    doc: str = ""


def ports(*names: str) -> tuple[Port, ...]:
    """Ports from names; a trailing `?` marks an optional one."""
    return tuple(Port(n.rstrip("?"), required=not n.endswith("?")) for n in names)


class ShapeError(ValueError):
    """Input shapes an op kind cannot take (the builder names the op)."""


@dataclass(frozen=True)
class Inferred:
    outputs: tuple[Shape, ...]
    facts: dict
    matmul: tuple[int, int, int] | None = None  # (m, k, n) of an op with a weight


def weight_kn(shape: Shape) -> tuple[int, int]:
    """A weight as the IR stores it, [k, n]: a 1-D weight (norm) is one row."""
    return (1, shape[0]) if len(shape) == 1 else (prod(shape[:-1]), shape[-1])


def rows_of(shape: Shape) -> int:
    return prod(shape[:-1])


def rows_dim(shape: Shape) -> dict:
    return {"rows": rows_of(shape), "dim": shape[-1]}


def out_elements(op: "Op") -> int:
    return prod(op.dataflow["shapes"]["out"][0])


# ---------------------------------------------------------------- what the callers hand the hooks


@dataclass(frozen=True)
class RenderTools:
    """What render/module.py gives `render_args`: printers of its literals and the decisions of other passes."""

    dtype: Callable[[str], str]  # a dtype name as ttnn code
    jit: Callable[["Op"], dict[str, Any]]  # the op's part in a ttnn-jit block (jit_call_view)
    pads_columns: Callable[["Op"], bool]
    unsupported: Callable[[str], Exception]  # the renderer's error for what it cannot print yet


@dataclass(frozen=True)
class ConfigTools:
    """What render/module.py gives `config_entries`: `add(name, value, comment, pinned)` appends one configs.py
    attribute; the others print configs.py values of the op's decisions."""

    add: Callable[..., None]
    kernel: Callable[[Any], str]  # a ComputeKernelConfig's constant name
    memory: Callable[[Any], str]  # a placement's constant name
    out: Callable[[], str]  # the op's output placement (DRAM when it has none)
    pin: Callable[[str], str]  # "pinned by ..." when that field was pinned by an override, else ""
    matmul_program: Callable[[Any], str]
    norm_program: Callable[[Any], str]
    sdpa_program: Callable[[Any], str]
    by_key: dict[str, "Op"]  # every op of the graph by key


@dataclass(frozen=True)
class PrecisionTools:
    """What the precision pass gives `precision`: kernels by the preset's group name (overrides applied), the
    norms' kernel, the fixed kernels, the weight an op reads and the KV cache dtype."""

    kernel: Callable[["Op", str], "ComputeKernelConfig"]  # a group of OP_KERNELS (QKV, SDPA_DECODE, ...)
    norm_kernel: Callable[["Op"], "ComputeKernelConfig"]
    fixed_kernel: Callable[[str], "ComputeKernelConfig"]  # a KERNELS entry, no override
    weight_group: Callable[["Op"], str]  # the OP_KERNELS group of the weight a linear reads
    weight_dtype: Callable[["Op"], str]
    kv_dtype: str


@dataclass(frozen=True)
class CostTools:
    """What the op_costs pass gives `cost_facts` and `cost`: the op's placements as the cost model names them,
    the decode step's sizes, and the cost model's estimators. An op's own sizes (heads, head width, widths) are
    its facts and dataflow shapes, which its kind reads: no model-wide size is handed in (a graph may hold
    attentions of different shapes, PI0's language model and vision tower)."""

    src: str  # storage of the op's input: dram, l1 or sharded
    dst: str  # storage of its output
    fidelity: str
    device_cores: int  # the device's whole compute grid
    users: int  # decode users
    kv_len: int
    kv_tile_kb: float  # one KV-cache tile in KiB
    kv_dtype: str
    op_time: Callable[..., Any]  # (cost kind, traced=..., **facts) -> OpCost
    estimate_matmul: Callable[..., Any]
    chain_cost: Callable[..., Any]  # (op, steps, one_kernel, traced) -> OpCost
    traced: bool = True
    # (collective name, mesh axis, bytes) -> OpCost of one collective on the device's mesh (tttgen/cost/ccl.py)
    collective: Callable[..., Any] | None = None


# ---------------------------------------------------------------- placement on a mesh (the parallelism pass)

# A tensor's state along one mesh axis: "R" replicated (every chip holds all of it), "P" partial sums (every chip
# holds a full-shaped addend: the sum over the axis is the value), or "S<d>" split along tensor dim d (negative,
# counted from the last: "S-1" the width, "S-3" the heads of a [batch, heads, rows, head_dim] tensor).
REPLICATED, PARTIAL = "R", "P"


def split_dim(state: str) -> int | None:
    """The tensor dim a state splits (None: replicated or partial)."""
    return int(state[1:]) if state.startswith("S") else None


@dataclass(frozen=True)
class MeshSplit:
    """One way an op runs with its tensors placed along one mesh axis: the state each activation input must arrive
    in (`inputs`: port -> state; ports not named take `default`), the state of every output, how its weight is laid
    out (`weight`: "R" or "S<d>" of the weight's own shape: "S-1" its columns, "S-2" its rows of a [k, n] weight),
    and which attrs become per-chip by dividing them by the chips on the axis (`divides`; `divides_full` names attrs
    of shape lists whose entries equal the full size of the split dim). `needs` lists (attr, what it counts) that
    must divide by the chip count, for the refusal naming the dimension; `internal` the collectives it makes
    itself."""

    name: str
    inputs: tuple[tuple[str, str], ...] = ()
    default: str = REPLICATED
    output: str = REPLICATED
    weight: str = REPLICATED
    divides: tuple[str, ...] = ()
    divides_full: tuple[str, ...] = ()
    needs: tuple[tuple[str, str], ...] = ()
    # Collectives the op runs inside itself along the axis: (name, elements per row per chip it gathers or
    # reduces), e.g. the distributed norm's all_gather of one tile of statistics per row.
    internal: tuple[tuple[str, int], ...] = ()

    def input_state(self, port: str) -> str:
        return dict(self.inputs).get(port, self.default)


REPLICATE = MeshSplit("replicate")


def passthrough(*states: str, ports_: tuple[str, ...] = ()) -> tuple[MeshSplit, ...]:
    """Splits of an op that computes each element from the same element of its inputs: each state in, the same out."""
    return (REPLICATE,) + tuple(MeshSplit(f"split{s[1:]}", default=s, output=s) for s in states)


# ---------------------------------------------------------------- the base class


class OpKind:
    """One op kind. Subclasses set the class attributes and override the hooks whose defaults do not fit."""

    # ---- schema (module descriptions)
    name: str
    doc: str
    inputs: tuple[Port, ...] = ()
    outputs: tuple[str, ...] = ("output",)  # empty: the op only writes state (cache fill/update)
    attrs: tuple[Attr, ...] = ()
    variadic_outputs: str | None = None  # attribute holding the output count (chunk)
    # Groups of input/attr names of which exactly one must be given (binary: a second tensor or a scalar).
    exactly_one: tuple[tuple[str, ...], ...] = ()
    described: bool = True  # False: an op the builder adds itself (reshard), not one a description names

    # ---- graph (tttgen/builder/expand.py)
    # True: a device op in the graph, named `name` there too (Op.kind, graph.json, MANIFEST.json); False: computed
    # on the host when the package runs, no op in the graph.
    device_op: bool = True
    # Weight role per input port when the description gives none (norm weights, embedding tables, biases).
    weight_roles: tuple[tuple[str, str], ...] = ()
    # Linear readers of one tensor are related: prefill row chunking reshapes the first reader's input and
    # later readers reuse it (`shares_input_with`); in decode their outputs are live in L1 at once.
    shares_input: bool = False

    # ---- rendering (tttgen/render/module.py, templates/ops.j2)
    macro: str | None = None  # its macro in templates/ops.j2; None: the module renderer cannot print it yet
    # Per weight port, the layout the weight is stored in: "tile" ([1, 1, K, N]), "norm_rows" (row-major
    # [1, 1, dim / 32, 32], the gamma and beta ttnn's norms read), "row_major" (as declared: embedding tables).
    weight_layouts: dict[str, str] = {}
    aliases_input: bool = False  # its output shares its input's buffer: neither is deallocated by the renderer

    # ---- decisions
    # Override fields (hints `overrides`) an op of the kind takes: program_config, compute_kernel_config,
    # memory_config, dtype.
    pins: tuple[str, ...] = ()
    # An elementwise kind the fusion pass may join into ttnn-jit blocks (tttgen/passes/fusion.py; its steps below).
    elementwise: bool = False
    # Its call passes an output memory config in configs.py (the default `config_entries`).
    has_memory_config: bool = True
    # Priced by the matmul program search (its decisions carry time_ns), not by the op_costs pass.
    priced_by_program_search: bool = False
    # Which planner of the chunking pass (the `planners` of tttgen/passes/chunking.py) picks its chunks, and which
    # of the op_programs pass (tttgen/passes/op_programs.py) its program config; None: it has none. A kind reusing
    # a planner names it; a new planner is a decision, and lives in its pass.
    chunk_planner: str | None = None
    program_planner: str | None = None

    # ---- the IR verifier (tttgen/ir/verify.py): pass annotation -> decisions every op of the kind carries after it
    promises: dict[str, tuple[str, ...]] = {}

    def __init__(self) -> None:
        assert self.name, "an op kind needs a name"

    def __repr__(self) -> str:
        return f"<op kind {self.name}>"

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def attr(self, name: str) -> Attr | None:
        return next((a for a in self.attrs if a.name == name), None)

    # ---- graph
    def infer(self, ins: dict, attrs: dict) -> Inferred:
        """Output shapes and facts from the shapes of the op's inputs (weights included) and its evaluated attrs."""
        raise NotImplementedError(f"op kind {self.name} has no shape rule")

    # ---- rendering
    def render_args(self, op: "Op", ins: dict[str, Any], attrs: dict[str, Any], tools: RenderTools) -> dict[str, Any]:
        """View-model values its macro reads beyond the common ones (input, weight, bias, out, cfg, id, ...)."""
        return {}

    def config_entries(self, op: "Op", ident: str, tools: ConfigTools) -> None:
        """The configs.py attributes its call passes (default: its output placement, when it has one)."""
        if self.has_memory_config:
            tools.add(f"{ident}_memory", tools.out())

    # ---- decisions
    def precision(self, op: "Op", tools: PrecisionTools) -> tuple["ComputeKernelConfig | None", str | None]:
        """Its compute-kernel config (None: its call takes none) and its second operand's dtype (None: none)."""
        return None, None

    # ---- cost
    def cost_facts(self, op: "Op", tools: CostTools) -> tuple[str, dict[str, Any]] | None:
        """(cost-model kind, facts) of one run, or None when it costs nothing (a view)."""
        raise ValueError(f"no cost mapping for op kind {op.kind}")

    def cost(self, op: "Op", tools: CostTools) -> Any:
        """Its modeled OpCost, or None when it does not run."""
        found = self.cost_facts(op, tools)
        if found is None:
            return None
        kind, facts = found
        return tools.op_time(kind, traced=tools.traced, **facts)

    # ---- placement on a mesh (tttgen/passes/parallelism.py)
    def mesh_splits(self, op: "Op") -> tuple[MeshSplit, ...]:
        """The ways the op may run with its tensors split along one mesh axis (default: replicated only)."""
        return (REPLICATE,)

    def mesh_problem(self, op: "Op", ins: dict) -> str | None:
        """Why the op cannot run on these per-chip input shapes on a mesh (None: it can); the pass drops that layout."""
        return None

    # ---- the feasibility pass
    def rule_problem(self, op: "Op", graph: "Graph") -> str | None:
        """The first ttnn rule (tttgen/rules/) the op's decisions break, or None."""
        return None

    # ---- the IR verifier
    def violations(self, op: "Op", graph: "Graph") -> str | None:
        """What breaks the kind's own invariants between the passes that have run (graph.annotated), or None."""
        return None

    # ---- explain
    def flops(self, op: "Op", graph: "Graph") -> int:
        """Arithmetic of one op for the roofline chart (0: not counted)."""
        return 0

    def chunks_note(self, op: "Op") -> str:
        """The chunk sizes the chunking pass chose, for explain (empty: none)."""
        return ""


def same_shape(port: str = "input", **facts_from_attrs: str) -> Callable[[Any, dict, dict], Inferred]:
    """An `infer` whose output is shaped like input `port`, with facts rows/dim (plus the attrs named)."""

    def infer(self: Any, ins: dict, attrs: dict) -> Inferred:
        facts = rows_dim(ins[port]) | {f: attrs[a] for f, a in facts_from_attrs.items() if a in attrs}
        return Inferred((ins[port],), facts)

    return infer


def data_movement(op: "Op", tools: CostTools, kind: str = "reshard") -> tuple[str, dict[str, Any]]:
    """Every element of the output read and written once."""
    size = out_elements(op) * BYTES_BF16
    return kind, {"bytes_in": size, "bytes_out": size, "src": tools.src, "dst": tools.dst}


def sum_costs(costs: list):
    """One OpCost of several ttnn calls run one after another: times and bytes add; the binding term and the
    active cores are the slowest call's."""
    costs = [c for c in costs if c is not None]
    slowest = max(costs, key=lambda c: c.total_ns)
    total = {f.name: sum(getattr(c, f.name) for c in costs) for f in fields(slowest) if f.name not in ("binding", "active_cores", "utilization")}
    busy = sum(c.utilization * c.device_ns for c in costs)
    device_ns = total["device_ns"]
    return type(slowest)(
        **total,
        binding=slowest.binding,
        active_cores=slowest.active_cores,
        utilization=busy / device_ns if device_ns else 0.0,
    )
