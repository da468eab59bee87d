"""Typed records the IR carries beside its ops and weights: the graph facts (`GraphFacts`) and the sizes one holds.

`Dimensions` are the graph-wide sizes the builder records once (graph fact `dims`): what pricing and the
tt_transformers seeds read where they ask for a model's widths rather than one op's. Wherever an op states its
own (an attention's `num_heads`, `num_kv_heads`, `head_dim`; a looped call's `loop_count`), readers take the op's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Iterator, Mapping

from tttgen.spec.model import AttentionSizes


@dataclass(frozen=True)
class Dimensions(AttentionSizes):
    hidden_size: int  # the residual width: a causal LM's hidden_size, a module's first input width
    intermediate_size: int  # a causal LM's MLP width; a module's widest op output (or its input width)
    num_attention_heads: int  # the first attention's query heads (one for a module without attention)
    num_key_value_heads: int  # the first attention's KV heads
    head_dim: int  # the first attention's head width (a module without attention: its input width)
    layers: int  # how often a `layer`-scope op without its own loop_count runs per call
    vocab_size: int | None = None  # a causal LM's vocabulary before tile padding; None for a module
    sliding_window: int | None = None  # a causal LM's attention window (HF sliding_window), if any
    sliding_window_pattern: int | None = None  # layers alternate sliding and global attention with this period


class _Unset:
    """A graph fact no pass has set yet (the Mapping view of GraphFacts leaves it out)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        return "UNSET"  # one instance, also across pickling


UNSET: Any = _Unset()


@dataclass(frozen=True)
class GraphFacts:
    """What the builder and the passes record about a whole graph, one field per fact, each saying who sets it.

    Set with Graph.with_facts(name=value) (a name that is no field is an error); read as an attribute
    (`graph.facts.kv_dtype`) or as a read-only mapping of the facts set so far (`graph.facts["io"]`,
    `graph.facts.get("mesh")`, `"mesh" in graph.facts`; a name that is no field is an error there too)."""

    # builder (tttgen/builder/expand.py)
    decode_rows: int = UNSET  # builder: rows of a decode step (the padded decode batch)
    dims: Dimensions = UNSET  # builder: graph-wide sizes (tttgen/builder/structure.py)
    batch: int = UNSET  # builder: the hints' batch
    module: str = UNSET  # builder: the top description's name
    module_doc: str = UNSET  # builder: its `description`
    module_usage: str = UNSET  # builder: its `usage`
    module_params: Mapping[str, Any] = UNSET  # builder: its params as bound (rows and the size param left out)
    precision_policy: Mapping[str, Any] = UNSET  # builder: its `precision` per preset
    size_param: str = UNSET  # builder: the param the prefill modes run over (`rows`, or `sizes.param`)
    io: Mapping[str, Any] = UNSET  # builder: per mode key, the top module's inputs and outputs
    mode_variants: Mapping[str, str] = UNSET  # builder: per mode key, the `modes` key it runs
    sampler: Mapping[str, Any] | None = UNSET  # builder: the description's `sampler`, evaluated (or None)
    host_shapes: Mapping[str, Any] = UNSET  # builder: shapes of the values computed on the host
    called_files: tuple[str, ...] = UNSET  # builder: every description file a call read
    state_shapes: Mapping[str, Any] = UNSET  # builder (per chip after parallelism): each state tensor's shape
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

    def updated(self, **values: Any) -> "GraphFacts":
        unknown = sorted(set(values) - set(FACT_NAMES))
        if unknown:
            raise KeyError(f"no graph fact {', '.join(unknown)}: GraphFacts (tttgen/ir/facts.py) declares {', '.join(FACT_NAMES)}")
        return replace(self, **values)

    def _known(self, name: str) -> None:
        if name not in FACT_NAMES:
            raise KeyError(f"no graph fact {name!r}: GraphFacts (tttgen/ir/facts.py) declares {', '.join(FACT_NAMES)}")

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
        self._known(name)  # type: ignore[arg-type]
        return getattr(self, name) is not UNSET  # type: ignore[arg-type]

    def keys(self) -> list[str]:
        return [n for n in FACT_NAMES if getattr(self, n) is not UNSET]

    def items(self) -> list[tuple[str, Any]]:
        return [(n, getattr(self, n)) for n in self.keys()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


FACT_NAMES: tuple[str, ...] = tuple(sorted(f.name for f in fields(GraphFacts)))
