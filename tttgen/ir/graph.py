"""The frozen op-graph IR. Built without decisions; passes return new graphs with decisions added."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Iterable, Literal, Mapping

from tttgen.ir.configs import MatmulShape
from tttgen.ir.facts import GraphFacts, OpDecisions, WeightDecisions
from tttgen.inputs.device import DeviceProfile
from tttgen.inputs.hints import Hints, hint_param_values
from tttgen.inputs.model import ModelSpec

EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(sorted(mapping.items())))


@dataclass(frozen=True)
class Op:
    """One op of one mode. Decoder-layer ops stand for every layer (the layer loop is not unrolled)."""

    name: str
    kind: str
    mode: str  # "prefill" | "decode"
    seq: int  # activation rows: prefill length, or the padded decode batch
    scope: str  # "embed" | "layer" | "head"
    shape: MatmulShape | None = None
    weight: str | None = None
    facts: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    decisions: OpDecisions = field(default_factory=OpDecisions)
    # Where the op sits in its description, for rendering: the module function (call path), the values it reads
    # per port (weight names or the function's locals), the values it writes and its evaluated attrs. Empty for
    # graphs built by tttgen/build.py.
    dataflow: Mapping[str, Any] = field(default_factory=lambda: EMPTY, compare=False)
    # the mode's name when its description chose one (`prefix`, `denoise_step`): its key; "" keys it by role and rows
    mode_name: str = ""

    @property
    def key(self) -> str:
        """Unique id: mode (with prefill length) and name, e.g. `decode.wqkv`, `prefill_128.wo`."""
        return f"{self.mode_key}.{self.name}"

    @property
    def mode_key(self) -> str:
        """The mode's name: what its description chose, else `decode` or `prefill_<seq>` (passes ask `mode`, the
        role, never parse this)."""
        return self.mode_name or ("decode" if self.mode == "decode" else f"prefill_{self.seq}")

    def decide(self, **values: Any) -> "Op":
        """The op with these decisions made (each an OpDecisions field: an unknown name is an error)."""
        return replace(self, decisions=self.decisions.updated(**values))

    def get(self, name: str) -> Any:
        return self.decisions[name]

    @property
    def runs(self) -> int:
        """How often one call of its mode runs the op: its looped call's count times the counts of the repeated calls
        around it (fact `loop_count`, which the builder puts on every op of a looped or repeated call and on the
        moves and collectives between them; a module graph's loops may differ per mode, PI0's language and expert
        layers), else once."""
        return self.facts.get("loop_count", 1)


@dataclass(frozen=True)
class Weight:
    """A weight tensor as ttnn stores it: [k, n] (HF nn.Linear weights transposed)."""

    name: str
    role: str  # precision group: WQKV, WO, FF1_FF3, FF2, LM_HEAD, EMBEDDING, NORM
    k: int
    n: int
    hf_names: tuple[str, ...]
    per_layer: bool
    decisions: WeightDecisions = field(default_factory=WeightDecisions)
    # Load-time transforms from a module description, evaluated: per checkpoint key its own transforms, then the
    # weight's (tttgen/render/weight_code.py prints them). Empty for graphs built by tttgen/build.py.
    source_transforms: tuple[tuple[Mapping[str, Any], ...], ...] = ()
    transforms: tuple[Mapping[str, Any], ...] = ()
    shape: tuple[int, ...] = ()  # as the description declares it, after the transforms
    # A load-time constant instead of checkpoint keys (module.py's Generator, fields evaluated), or None.
    generator: Mapping[str, Any] | None = None
    # A per-layer weight's looped call (its attribute name, under which weights.py lists the layers) and count.
    loop: str = ""
    loop_count: int = 1
    # A weight fused at load time (the projections pass): these weights, each read and transformed as its own
    # sources and transforms say, side by side along the columns. Empty for every other weight.
    parts: tuple["Weight", ...] = ()

    def decide(self, **values: Any) -> "Weight":
        """The weight with these decisions made (each a WeightDecisions field: an unknown name is an error)."""
        return replace(self, decisions=self.decisions.updated(**values))


@dataclass(frozen=True)
class Entry:
    """What a graph's package is an entry point of: a causal LM (a generate loop, sampling, a KV cache, the
    description's `entry: causal_lm`) or a plain module (Model.forward). `reference` is the Hugging Face-style
    config a causal LM was bound to: verification and the real-ttnn check build the transformers reference from
    it; passes and the renderer never read it (they read op facts and graph facts)."""

    kind: Literal["causal_lm", "module"]
    reference: ModelSpec | None = None

    @property
    def is_module(self) -> bool:
        return self.kind == "module"


@dataclass(frozen=True)
class Graph:
    name: str  # the model or module name messages, READMEs and package names use
    entry: Entry
    device: DeviceProfile
    hints: Hints
    ops: tuple[Op, ...]
    weights: tuple[Weight, ...]
    facts: GraphFacts = field(default_factory=GraphFacts)
    annotated: frozenset[str] = field(default_factory=frozenset)

    def params(self) -> dict[str, Any]:
        """The top description's params as bound, in name order: graph fact `module_params`, and those it declares
        whose values the hints own (fact `hint_params`: max_seq_len, the paged geometry), read from the hints."""
        owned = hint_param_values(self.hints, self.facts["decode_rows"])
        return dict(sorted({**self.facts["module_params"], **{n: owned[n] for n in self.facts["hint_params"]}}.items()))

    def op(self, key: str) -> Op:
        for op in self.ops:
            if op.key == key:
                return op
        raise KeyError(key)

    def weight(self, name: str) -> Weight:
        for w in self.weights:
            if w.name == name:
                return w
        raise KeyError(name)

    def bias_dtype(self, op: Op) -> str | None:
        """The dtype of the bias weight a linear reads (fact `bias`), or None without one."""
        name = op.facts.get("bias")
        return self.weight(name).decisions["dtype"] if name else None

    def ops_of(self, kind: str | Iterable[str]) -> list[Op]:
        kinds = {kind} if isinstance(kind, str) else set(kind)
        return [op for op in self.ops if op.kind in kinds]

    def mode_keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for op in self.ops:
            seen.setdefault(op.mode_key, None)
        return list(seen)

    def with_ops(self, ops: Iterable[Op]) -> "Graph":
        return replace(self, ops=tuple(ops))

    def with_weights(self, weights: Iterable[Weight]) -> "Graph":
        return replace(self, weights=tuple(weights))

    def with_facts(self, **values: Any) -> "Graph":
        """A graph with these facts set (each a GraphFacts field: an unknown name is an error)."""
        return replace(self, facts=self.facts.updated(**values))

    def map_ops(self, fn, kinds: Iterable[str] | None = None) -> "Graph":
        wanted = None if kinds is None else set(kinds)
        return self.with_ops(fn(op) if wanted is None or op.kind in wanted else op for op in self.ops)
