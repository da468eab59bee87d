"""Typed records the IR carries: the graph facts (`GraphFacts`), an op's and a weight's decisions (`OpDecisions`,
`WeightDecisions`).

There are no graph-wide sizes: a graph may hold attentions and layer stacks of different shapes (PI0's vision tower,
language model and expert), so every reader takes an op's own facts (an attention's `num_heads`, `num_kv_heads`,
`head_dim`; a looped call's `loop_count` (times its repeated calls' counts), Op.runs; an LM head's `vocab_size`; an
attention's `sliding_window`) or its dataflow shapes (an op's input and output widths).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Iterator, Mapping


class _Unset:
    """A graph fact or op decision no pass has set yet (the records' mapping view leaves it out)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        return "UNSET"  # one instance, also across pickling


UNSET: Any = _Unset()


class _Record:
    """A frozen record of named values set one pass at a time, also read as a read-only mapping of the values set so
    far (in name order); a name that is no field is an error, whether set or read."""

    NAMES: ClassVar[tuple[str, ...]] = ()

    def updated(self, **values: Any):
        unknown = sorted(set(values) - set(self.NAMES))
        if unknown:
            raise KeyError(f"no {self._what()} {', '.join(unknown)}: {self._declared()}")
        return replace(self, **values)

    @classmethod
    def _what(cls) -> str:
        return {GraphFacts: "graph fact", OpDecisions: "op decision"}.get(cls, "weight decision")

    @classmethod
    def _declared(cls) -> str:
        return f"{cls.__name__} (tttgen/ir/facts.py) declares {', '.join(cls.NAMES)}"

    def _known(self, name: object) -> None:
        if name not in self.NAMES:
            raise KeyError(f"no {self._what()} {name!r}: {self._declared()}")

    def __getitem__(self, name: str) -> Any:
        self._known(name)
        value = getattr(self, name)
        if value is UNSET:
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        self._known(name)
        value = getattr(self, name)
        return default if value is UNSET else value

    def __contains__(self, name: object) -> bool:
        self._known(name)
        return getattr(self, name) is not UNSET  # type: ignore[arg-type]

    def keys(self) -> list[str]:
        return [n for n in self.NAMES if getattr(self, n) is not UNSET]

    def items(self) -> list[tuple[str, Any]]:
        return [(n, getattr(self, n)) for n in self.keys()]

    def values(self) -> list[Any]:
        return [getattr(self, n) for n in self.keys()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


@dataclass(frozen=True)
class GraphFacts(_Record):
    """What the builder and the passes record about a whole graph, one field per fact, each saying who sets it.

    Set with Graph.with_facts(name=value) (a name that is no field is an error); read as an attribute
    (`graph.facts.kv_dtype`) or as a read-only mapping of the facts set so far (`graph.facts["io"]`,
    `graph.facts.get("mesh")`, `"mesh" in graph.facts`; a name that is no field is an error there too)."""

    # builder (tttgen/builder/expand.py)
    decode_rows: int = UNSET  # builder: rows of a decode step (the padded decode batch)
    batch: int = UNSET  # builder: the hints' batch
    module: str = UNSET  # builder: the top description's name
    module_doc: str = UNSET  # builder: its `description`
    module_usage: str = UNSET  # builder: its `usage`
    module_params: Mapping[str, Any] = UNSET  # builder: its params as bound (rows, the size param and hint_params left out)
    hint_params: tuple[str, ...] = UNSET  # builder: the params it declares whose values the hints own (Graph.params)
    precision_policy: Mapping[str, Any] = UNSET  # builder: its `precision` per preset
    size_param: str = UNSET  # builder: the param the prefill modes run over (`rows`, or `sizes.param`)
    io: Mapping[str, Any] = UNSET  # builder: per mode key, the top module's inputs and outputs
    mode_variants: Mapping[str, str] = UNSET  # builder: per mode key, the `modes` key it runs
    mode_entries: Mapping[str, Any] = UNSET  # builder: the `modes` key Model.forward serves and each other to_device_<name> entry
    sampler: Mapping[str, Any] | None = UNSET  # builder: the description's `sampler`, evaluated (or None)
    host_shapes: Mapping[str, Any] = UNSET  # builder: shapes of the values computed on the host
    called_files: tuple[str, ...] = UNSET  # builder: every description file a call read
    state_shapes: Mapping[str, Any] = UNSET  # builder, parallelism: each state tensor's shape (per chip on a mesh)
    functions: tuple[Mapping[str, Any], ...] = UNSET  # builder: the module functions the renderer prints
    key_maps: Mapping[str, Any] = UNSET  # builder: the top description's `key_maps`, when it declares any
    # passes, in pipeline order
    grid: tuple[int, int] = UNSET  # target: the device's compute grid
    compute_kernel_class: str = UNSET  # target: the device's compute-kernel config class
    mesh: Mapping[str, Any] = UNSET  # parallelism: on a mesh, the layout (strategy, collectives, designs)
    heads_per_chip_divisor: int = UNSET  # parallelism: on a mesh, how many chips split the attention heads
    kv_dtype: str = UNSET  # precision: the KV cache's dtype
    activation_dtype: str = UNSET  # precision: the activations' dtype
    residual: Any = UNSET  # memory: the decode residual's placement
    decode_users: int = UNSET  # memory: users a decode step serves (one per padded row)
    heads_placement: Any = UNSET  # memory: the decode heads' placement
    decode_l1_reserve: int = UNSET  # memory: L1 per core the decode residual and rope tables hold
    weight_placements: Mapping[str, Any] = UNSET  # memory: every placement weighed per weight, for explain
    projection_groups: tuple[Mapping[str, Any], ...] = UNSET  # projections: every group of linears reading one tensor, its form and why
    fusion_chains: tuple[Mapping[str, Any], ...] = UNSET  # fusion: every elementwise chain weighed
    step_state: Mapping[str, Any] | None = UNSET  # step_state: the decode inputs kept on device (None: a module)
    module_traces: Mapping[str, Any] | None = UNSET  # step_state: whether a module's calls can be traces
    mode_time_ns: Mapping[str, float] = UNSET  # op_costs: modeled device time per mode
    host_io_ns: Mapping[str, float] = UNSET  # op_costs: modeled host transfers per mode
    emitted_time_ns: Mapping[str, float] = UNSET  # op_costs: modeled time per mode as the package runs it
    decode_host_transfers: Mapping[str, Any] = UNSET  # op_costs: a causal LM's per-token transfers per tail
    greedy_decode_ns: float = UNSET  # op_costs: a causal LM's greedy decode step
    sampled_decode_ns: float = UNSET  # op_costs: a causal LM's sampled decode step
    traced_modes: tuple[str, ...] = UNSET  # op_costs: the modes the package replays as a trace
    trace: Mapping[str, int] = UNSET  # op_costs: ops the traces hold, bytes per op, the trace region's bytes
    sampling_plan: Mapping[str, Any] | None = UNSET  # op_costs: a causal LM's sampled_step topk chunks and mask
    dram: Mapping[str, int] = UNSET  # feasibility: DRAM bytes per use and the capacity
    problems: tuple[str, ...] = UNSET  # feasibility: the rules the graph breaks (a build stops unless told not to)


FACT_NAMES: tuple[str, ...] = tuple(sorted(f.name for f in fields(GraphFacts)))
GraphFacts.NAMES = FACT_NAMES


@dataclass(frozen=True)
class OpDecisions(_Record):
    """What the passes decided about one op, one field per decision, each saying which passes set it.

    Set with Op.decide(name=value) (a name that is no field is an error); read as an attribute (`op.decisions.dtypes`)
    or as a read-only mapping of the decisions made so far (`op.decisions["program"]`, `op.get("program")`,
    `op.decisions.get("elide")`; a name that is no field is an error there too)."""

    mesh: Mapping[str, Any] = UNSET  # parallelism: on a mesh, the op's input and output placements per axis
    pinned: Mapping[str, Any] = UNSET  # precision, memory: the fields a hints file's override pinned, and by whom
    dtypes: Mapping[str, str] = UNSET  # precision: dtype per operand (in0, in1, out)
    kernel: Any = UNSET  # precision: the compute-kernel config
    shape: Any = UNSET  # chunking, matmul_program, op_programs: the per-call MatmulShape (row chunks as batch)
    calls: int = UNSET  # chunking: calls one prefill matmul is split into
    q_chunk_size: int = UNSET  # chunking: SDPA's query chunk
    projection: str = UNSET  # projections: a linear sharing its input with others runs fused or separate
    projection_group: str = UNSET  # projections: the group of linears reading one tensor it belongs to
    projection_reason: str = UNSET  # projections: why that form
    projection_ns: Mapping[str, float] = UNSET  # projections: the modeled time of each form
    k_chunk_size: int = UNSET  # chunking: SDPA's key chunk
    in0: Any = UNSET  # memory, matmul_program, reshard: the first input's memory placement
    in1: Any = UNSET  # memory: the weight's (second input's) memory placement
    out: Any = UNSET  # memory, matmul_program, reshard: the output's memory placement
    program: Any = UNSET  # matmul_program, op_programs: the program config
    cores: int = UNSET  # matmul_program, op_programs: cores the program runs on
    l1_bytes: int = UNSET  # matmul_program, op_programs: L1 per core the program claims
    column_chunks: int = UNSET  # matmul_program: column chunks a wide matmul is called in
    in0_moved: bool = UNSET  # matmul_program: whether the input is resharded to the program's grid first
    pruned: Any = UNSET  # matmul_program: candidates the search dropped and why, for explain
    rejected: Any = UNSET  # matmul_program: candidates the rules refused and why, for explain
    time_ns: float = UNSET  # matmul_program, op_costs: modeled time of one call
    binding: str = UNSET  # matmul_program, op_costs: what bounds that time (compute, dram, noc, ...)
    cost: Any = UNSET  # matmul_program, op_costs: the whole OpCost behind time_ns
    elide: bool = UNSET  # reshard: a move whose producer already writes the consumer's placement
    qk: Any = UNSET  # op_programs: written-out attention's scores matmul shape
    qk_program: Any = UNSET  # op_programs: its program config
    pv: Any = UNSET  # op_programs: written-out attention's values matmul shape
    pv_program: Any = UNSET  # op_programs: its program config
    softcap_fused: bool = UNSET  # op_programs: whether ttnn's fused softcap runs on this device
    jit: str | None = UNSET  # fusion: the ttnn-jit block the op is part of (None: none)
    jit_chain: str | None = UNSET  # fusion: the elementwise chain weighed
    jit_reason: str = UNSET  # fusion: why fused or not
    jit_member_of: str = UNSET  # fusion: a fused member's block root (it is not dispatched itself)
    jit_ops: tuple[str, ...] = UNSET  # fusion: a block root's ops in order
    jit_body: Any = UNSET  # fusion: a block root's steps
    jit_inputs: Any = UNSET  # fusion: a block root's inputs
    jit_memory: Any = UNSET  # fusion: a block root's output placement
    jit_fidelity: str = UNSET  # fusion: a block root's math fidelity
    chain_steps: tuple[str, ...] = UNSET  # fusion: the cost steps op_costs prices a chain op by
    one_kernel: bool = UNSET  # fusion: whether those steps run as one kernel
    form_ns: float = UNSET  # fusion: the modeled time of the block form weighed


OpDecisions.NAMES = tuple(sorted(f.name for f in fields(OpDecisions)))


@dataclass(frozen=True)
class WeightDecisions(_Record):
    """What the passes decided about one weight, as OpDecisions are an op's (set with Weight.decide)."""

    mesh: Mapping[str, Any] = UNSET  # parallelism: on a mesh, the weight's split per axis and per-chip shape
    dtype: str = UNSET  # precision: the stored dtype
    placement: Any = UNSET  # memory: DRAM-sharded or interleaved
    column_chunks: Any = UNSET  # memory: column chunks a wide weight is stored in (None: one piece)


WeightDecisions.NAMES = tuple(sorted(f.name for f in fields(WeightDecisions)))
