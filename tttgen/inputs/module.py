"""Module descriptions: strict models of a module YAML, and the checks a compiler front end would make.

A module declares params, inputs/outputs, weights (checkpoint keys and load-time transforms), an ordered list
of ops from the registry (tttgen/ops/registry.py), calls of other modules (bindings, weight-key prefix, loops
over repeated layers), per-mode variants, state (KV caches), a torch reference and, for a model, its checkpoint
format. `load_module` reports every problem of a file at once, each with its line, or returns the description.

Every package is built from a description: tttgen/builder/ expands it, tttgen/render/module.py renders it.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import keyword
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    AfterValidator,
    ValidationError,
    model_validator,
)

from tttgen.errors import InputError
from tttgen.ops.registry import DTYPES, REGISTRY, WEIGHT_ROLES, kind_names
from tttgen.inputs.bounds import MAX_BYTES
from tttgen.inputs.extends import Patcher, PatchedLines, read_chain
from tttgen.inputs.load import ROOT, Problem, YamlLines, _display, problems_error, read_yaml_lines

MODULE_DIR = ROOT / "modules"
MODES = ("prefill", "decode")
# the conventional `modes` keys: a role's own name, or `prefill_<param>`: a prefill mode of its own at rows = that
# int param (its methods are the builder's `prefill_<rows>`, as an LLM's)
MODE_KEY = r"^(prefill|decode|prefill_[a-z][a-z0-9_]*)$"
# a mode name a description chooses (`prefix`, `denoise_step`): it names the generated methods, the config class (in
# CamelCase), traces and report rows, so a lowercase identifier
MODE_NAME = r"^[a-z][a-z0-9_]*$"
ROLES = ("prefill", "decode")
NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

# ---------------------------------------------------------------- safe arithmetic over params

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
}


class ExprError(ValueError):
    pass


MAX_EXPR_CHARS = 256  # bounds Python's parser (its recursion, its 4300-digit ints) and the values it can make


@functools.lru_cache(maxsize=4096)
def parse_expr(text: str) -> ast.expr:
    """The AST of `text` if it uses only ints, names, + - * // and parentheses; ExprError otherwise. Memoised (a
    build parses each of a description's expressions many times); callers only read the tree."""
    if len(text) > MAX_EXPR_CHARS:
        raise ExprError(f"an expression of {len(text)} characters (at most {MAX_EXPR_CHARS})")
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExprError(
            f"'{text}' is not an arithmetic expression (ints, param names, + - * // and parentheses)"
        ) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            continue
        if isinstance(node, (ast.Name, ast.Load)) or type(node) in _BINOPS:
            continue
        if isinstance(node, ast.Constant) and type(node.value) is int:
            continue
        what = type(node.op).__name__ if isinstance(node, (ast.BinOp, ast.UnaryOp)) else type(node).__name__
        raise ExprError(f"'{text}' uses {what}; only ints, param names, + - * // and parentheses are allowed")
    return tree


def expr_names(text: str) -> list[str]:
    return sorted({n.id for n in ast.walk(parse_expr(text)) if isinstance(n, ast.Name)})


def names_in(value: Any) -> list[str]:
    """The names an expression reads; none for a number, or for an expression the schema refuses (it reports the
    grammar where the expression stands)."""
    try:
        return expr_names(value) if isinstance(value, str) else []
    except ExprError:
        return []


def eval_expr(text: str | int, env: dict[str, int]) -> int:
    """Evaluate a shape expression with param values; never calls eval."""
    if isinstance(text, int):
        return text

    def walk(node: ast.expr) -> int:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in env:
                raise ExprError(f"unknown param '{node.id}' in '{text}'")
            return env[node.id]
        if isinstance(node, ast.BinOp):
            right = walk(node.right)
            if isinstance(node.op, ast.FloorDiv) and right == 0:
                raise ExprError(f"division by zero in '{text}'")
            return _BINOPS[type(node.op)](walk(node.left), right)
        raise ExprError(f"unexpected {type(node).__name__} in '{text}'")  # parse_expr refused it already

    return walk(parse_expr(text))


def _check_expr(value: Any) -> Any:
    if isinstance(value, str):
        parse_expr(value)
    return value


# A shape item or count: an int, or arithmetic over params (its grammar checked here, its names by _Checker).
Expr = Annotated[Union[StrictInt, Annotated[StrictStr, AfterValidator(_check_expr)]], Field(union_mode="left_to_right")]
Shape = list[Expr]

# ---------------------------------------------------------------- schema


def _docstring_text(value: str) -> str:
    """Text the renderer prints into docstrings and comments: no double quote, backslash or control character
    may end or escape them (three double quotes in a description once made model.py unparseable)."""
    bad = sorted({c for c in value if c in '"\\' or (ord(c) < 32 and c not in "\n\t") or ord(c) == 127})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise ValueError(f"text may not contain {shown} (it is printed into generated docstrings)")
    return value


def _checkpoint_key(value: str) -> str:
    """A checkpoint key is printed into weights.py's docstrings and string literals: printable, no quotes,
    backslashes or spaces (Hugging Face's are dotted names)."""
    if not re.fullmatch(r"[^\s\"'\\\x00-\x1f\x7f]+", value):
        raise ValueError(
            f"checkpoint key {value!r} may not be empty nor contain spaces, quotes, backslashes or control characters"
        )
    return value


Text = Annotated[StrictStr, AfterValidator(_docstring_text)]
Key = Annotated[StrictStr, AfterValidator(_checkpoint_key)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


class Param(Strict):
    type: Literal["int", "float", "bool", "str"]
    default: StrictInt | StrictFloat | StrictBool | StrictStr | None = None
    doc: Text

    @model_validator(mode="after")
    def _default_matches(self) -> "Param":
        ok = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}[self.type]
        if self.default is not None and (
            not isinstance(self.default, ok) or (self.type != "bool" and isinstance(self.default, bool))
        ):
            raise ValueError(f"default {self.default!r} is not a {self.type}")
        return self


DType = Literal[DTYPES]


class Tensor(Strict):
    shape: Shape
    dtype: DType | None = None
    doc: Text = ""
    example: Literal["randn", "ones", "zeros", "arange", "causal", "assign"] = Field(
        "randn",
        description="what the README's example and verification pass: arange counts (positions); causal is an "
        "additive causal mask (0 on and below the diagonal, -1e9 above); assign gives each row one 1, rows in order "
        "over the columns (row i at column i * cols // rows: atoms to their tokens)",
    )
    layout: Literal["tile", "row_major"] = Field("tile", description="how to_device lays the input out (fold reads row-major)")


class Transpose(Strict):
    kind: Literal["transpose"]


class Concat(Strict):
    kind: Literal["concat"]
    axis: StrictInt


class RotaryPermute(Strict):
    """Hugging Face rotate-half row order -> adjacent-pair order, per head (for the `pair` rotary convention)."""

    kind: Literal["rotary_permute"]
    heads: Expr


class Reshape(Strict):
    kind: Literal["reshape"]
    shape: Shape


class PadToTile(Strict):
    kind: Literal["pad_to_tile"]


class Scale(Strict):
    """Multiply by `value`, divided by sqrt(`rsqrt_of`) when given (an attention scale folded into a weight) and
    multiplied by sqrt(`sqrt_of`) when given (Gemma's embedding normalizer folded into its table)."""

    kind: Literal["scale"]
    value: StrictFloat | StrictInt = 1.0
    rsqrt_of: Expr | None = None
    sqrt_of: Expr | None = None
    # the factor rounded to the checkpoint tensor's dtype first, as transformers' Gemma embeddings multiply by
    # embed_scale.to(weight.dtype) (sqrt(1152) = 33.94 is 34.0 in bfloat16)
    in_weight_dtype: StrictBool = False


class Offset(Strict):
    """Add `value` to every element (Gemma's RMSNorm scales by 1 + weight: the 1 folded in at load time)."""

    kind: Literal["offset"]
    value: StrictFloat | StrictInt


class PadHeads(Strict):
    """Zero-pad each of `heads` equal groups along `axis` to a multiple of `multiple` (a head width ttnn's head
    ops can take: 24 -> 32); zero columns of q and k add nothing to a score, of v give zero outputs."""

    kind: Literal["pad_heads"]
    heads: Expr
    axis: StrictInt
    multiple: Expr = 32


class Permute(Strict):
    kind: Literal["permute"]
    dims: list[StrictInt]


class Split(Strict):
    kind: Literal["split"]
    axis: StrictInt
    parts: Expr
    index: StrictInt = Field(ge=0)


Transform = Annotated[
    Union[Transpose, Concat, RotaryPermute, Reshape, PadToTile, Scale, Offset, PadHeads, Permute, Split],
    Field(discriminator="kind"),
]


# A float field of a generated weight: a literal, or the name of a float param.
FloatOrParam = Annotated[Union[StrictFloat, StrictInt, StrictStr], Field(union_mode="left_to_right")]


class RopeTable(Strict):
    """[positions, head_dim]: cos or sin of position * inv_freq, inv_freq = theta ** (-2i / head_dim) (with Llama-3's
    frequency scaling when rope_type is llama3), each frequency over both halves (`half`: Hugging Face's split-half
    convention) or both members of an adjacent pair (`pair`: rotary_embedding_llama's), computed on the host in
    float64 at load time."""

    kind: Literal["rope_cos", "rope_sin"]
    theta: FloatOrParam
    head_dim: Expr
    positions: Expr
    convention: Literal["half", "pair"] = "half"
    rope_type: StrictStr = Field("default", description="default or llama3, or a str param holding one")
    factor: FloatOrParam = 1.0
    low_freq_factor: FloatOrParam = 1.0
    high_freq_factor: FloatOrParam = 4.0
    original_max_position_embeddings: Expr = 8192


class SinusoidSteps(Strict):
    """[rows, dim]: row i is the sinusoidal embedding [sin(t f), cos(t f)] of the i-th Euler step's time
    t = 1 + i * dt (i < steps; rows past the steps are zero), f = 2 pi / period, periods geometric from min_period
    to max_period (PI0's create_sinusoidal_pos_embedding)."""

    kind: Literal["sinusoid_steps"]
    steps: Expr
    dt: FloatOrParam
    dim: Expr
    min_period: FloatOrParam
    max_period: FloatOrParam
    rows: Expr


class Shift(Strict):
    """[size, size]: ones at (i, i + by) (by may be negative), so x @ it moves x's columns `by` to the right (a
    one-hot row times it is the one-hot of the index `by` later); columns moved past either edge drop."""

    kind: Literal["shift"]
    size: Expr
    by: Expr = 1


class OneHot(Strict):
    """[rows, size]: every row one-hot at `index` (a selector times a table gives that table row in every row)."""

    kind: Literal["one_hot"]
    rows: Expr = 1
    size: Expr
    index: Expr = 0


class RowMask(Strict):
    """[rows, width]: one in rows begin <= r < end, zero elsewhere (a multiplier that keeps those rows; as wide as
    the tensor it masks, since ttnn tensors keep whole-tile widths)."""

    kind: Literal["row_mask"]
    rows: Expr
    width: Expr
    begin: Expr
    end: Expr


class WindowKeys(Strict):
    """[(keys // (queries // 2)) * windows, 2 * windows]: which half-window of queries // 2 rows each slot of a key
    window reads. Query window k covers half-windows 2k and 2k + 1; its key window is the h = keys // (queries // 2)
    half-windows 2k - h // 2 + 1 .. 2k + h // 2 centred on it, so row k * h + t is one-hot at column
    2k + t - h // 2 + 1 (all zero where that half-window is outside the sequence: a padded key). This matrix times
    the activations viewed as [2 * windows, queries // 2 * width] gathers every key window at once (boltz's
    get_indexing_matrix, transposed; AF3's sequence-local atom attention)."""

    kind: Literal["window_keys"]
    windows: Expr
    queries: Expr
    keys: Expr


Generator = Annotated[
    Union[RopeTable, SinusoidSteps, Shift, OneHot, RowMask, WindowKeys], Field(discriminator="kind")
]
# fields that may name a float param; fields that are literal strings or name a str param
GENERATOR_FLOATS = ("theta", "dt", "min_period", "max_period", "factor", "low_freq_factor", "high_freq_factor")
GENERATOR_STRINGS = ("convention", "rope_type")


class KeyPart(Strict):
    """One of several checkpoint tensors a weight concatenates, with transforms applied before the concat."""

    key: Key
    transforms: list[Transform] = []


class Weight(Strict):
    shape: Shape
    key: Key | None = None
    keys: list[Annotated[Union[Key, KeyPart], Field(union_mode="left_to_right")]] | None = None
    # A constant computed at load time from params instead of read from the checkpoint (rotary tables).
    generate: Generator | None = None
    transforms: list[Transform] = []
    # Precision group; norm weights, embedding tables and biases get theirs from the op reading them.
    role: Literal[WEIGHT_ROLES] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "Weight":
        if sum(x is not None for x in (self.key, self.keys, self.generate)) != 1:
            raise ValueError(
                "give exactly one of `key` (one checkpoint tensor), `keys` (several, concatenated) or `generate`"
                " (a constant computed at load time)"
            )
        return self


class State(Strict):
    shape: Shape
    dtype: DType | None = None
    kind: Literal["kv_cache"]


Names = Annotated[Union[StrictStr, list[StrictStr]], Field(union_mode="left_to_right")]


class OpStep(Strict):
    op: str = Field(description="an op kind of tttgen/ops/registry.py")
    name: str = Field(pattern=NAME)
    in_: dict[str, Names] = Field(default_factory=dict, alias="in")
    out: Names | None = None
    attrs: dict[str, Any] = {}
    chunk_rows: bool = Field(False, description="the optimizer may split this op's rows into several calls")


class Loop(Strict):
    """Repeat a call `count` times; weights and indexed state take the loop var, nothing is unrolled."""

    var: str = Field(pattern=NAME)
    count: Expr
    carry: dict[str, str] = Field(description="callee output -> the callee input it feeds on the next iteration")
    every: "Every | None" = Field(None, description="inputs that differ in every period-th iteration")


class Every(Strict):
    """Every `period`-th iteration of a looped call (iterations period - 1, 2 * period - 1, ...) the callee inputs
    named here take these values instead of the call's `in` (Gemma's global-attention layers among its sliding
    ones: other rotary tables, no window)."""

    period: Expr
    in_: dict[str, str] = Field(alias="in", description="callee input -> the value it takes in those iterations")


Loop.model_rebuild()


class Repeat(Strict):
    """Run a call `count` times with the SAME weights (the callee built and loaded once), each iteration's `carry`
    outputs fed back as those inputs (Boltz-2's recycling: the trunk run recycling_steps + 1 times, s and z carried).
    Unlike `loop`, iterations do not differ: no loop var, no per-layer weights or lists; the outputs are the last
    iteration's."""

    count: Expr = Field(description="iterations: an int, a param or int arithmetic over params (at least 1)")
    carry: dict[str, str] = Field(description="callee output -> the callee input it feeds on the next iteration")


class CallStep(Strict):
    op: Literal["call"]
    name: str = Field(pattern=NAME)
    module: str
    in_: dict[str, str] = Field(default_factory=dict, alias="in")
    out: Names | None = None
    bind: dict[
        str, Annotated[Union[StrictInt, StrictFloat, StrictBool, StrictStr], Field(union_mode="left_to_right")]
    ] = {}
    weight_prefix: str = ""
    loop: Loop | None = None
    repeat: Repeat | None = None


def _step_tag(value: Any) -> str:
    op = value.get("op") if isinstance(value, dict) else getattr(value, "op", None)
    return "call-step" if op == "call" else "op-step"


Step = Annotated[
    Union[Annotated[CallStep, Tag("call-step")], Annotated[OpStep, Tag("op-step")]], Discriminator(_step_tag)
]
STEP_TAGS = ("call-step", "op-step")


class ModeVariant(Strict):
    """A mode whose ops (and, when given, inputs/outputs) differ from the module's own. Its `modes` key is its name:
    `prefill` and `decode` (the LLM modes, their role by their name), `prefill_<param>`, or a name the description
    chooses (PI0's `prefix`, `denoise_step`), which then states its role."""

    role: Literal[ROLES] | None = Field(
        None,
        description="how its ops run: `prefill` over the mode's rows, `decode` one row per user (the KV-cache step); "
        "what passes ask, never the name. Required for a chosen name; `prefill`/`decode` keys have their own",
    )
    rows: Expr | None = Field(
        None,
        description="a chosen-name prefill mode's one row count (a param or expression: PI0's `denoise_step` runs at "
        "`suffix` rows); without it the mode runs at every size (`sizes`, or the hints' prefill lengths)",
    )
    inputs: dict[str, Tensor] | None = None
    outputs: dict[str, Tensor] | None = None
    ops: list[Step]


class PaddedAxis(Strict):
    """Another axis `forward_tokens` pads besides the size param's own (Boltz's atoms beside its tokens): a `derived`
    name of the size param (atoms = atoms_per_token * n) written as a dim of inputs' and outputs' shapes. Every dim
    so written is padded at the end to that name's value at the built size, and outputs are cut back to the real
    length."""

    mask: str | None = Field(
        None,
        pattern=NAME,
        description="the input that masks this axis's padding, shaped [1, ..., 1, axis]: forward_tokens sets it to "
        "1 on the real entries and 0 on the padding (an optional argument of forward_tokens, default all real)",
    )
    length: Expr | None = Field(
        None,
        description="the real length as an expression of the size param and the axes declared above this one "
        "(the atoms' windows: `(atoms + queries - 1) // queries`); without it the inputs give the real length, any "
        "up to the axis's value at the largest size built",
    )
    doc: Text = ""


class Sizes(Strict):
    """The param each prefill mode binds, and its default values (a pair module runs once per token count n)."""

    param: str = Field(pattern=NAME)
    default: list[Annotated[int, Field(ge=32, multiple_of=32)]] = Field(min_length=1, max_length=16)  # modes each
    mask: str | None = Field(
        None,
        pattern=NAME,
        description="the input that masks padded tokens: the package gets `forward_tokens`, which takes any token "
        "count up to the largest size, pads it on the host to the smallest size it fits and sets this mask",
    )
    axes: dict[str, PaddedAxis] = Field(
        {},
        description="the other axes forward_tokens pads, by their `derived` name (atoms); with them and without a "
        "`mask` the package gets forward_tokens too, the description stating that no op mixes padding into real "
        "entries (every op per token, per pair or per atom)",
    )

    @property
    def padded(self) -> bool:
        """Whether the package gets forward_tokens."""
        return self.mask is not None or bool(self.axes)


KERNEL_SETTINGS = ("LOFI", "HIFI2", "HIFI2_FP16", "HIFI4")  # tttgen/passes/precision.py KERNELS (a test keeps them equal)


class PrecisionPolicy(Strict):
    """A module's own precision at one preset: the dtype of every matmul weight and the compute-kernel setting of
    every op that takes one (TT-Boltz runs bf16 weights with HiFi4 and fp32 accumulation for every op)."""

    weights: DType
    kernel: Literal[KERNEL_SETTINGS]
    doc: Text = ""


# `path/to/file.py:name`, the file relative to the description: Python beside it, imported from its location
PYTHON_FILE_OBJECT = r"^[^:]+\.py:[A-Za-z_][A-Za-z0-9_]*$"


class Reference(Strict):
    torch: str = Field(
        pattern=r"^([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+|[^:]+\.py:[A-Za-z_][A-Za-z0-9_]*)$",
        description="dotted.path.Class, or file.py:Class beside the description",
    )
    # Constructor keywords: a literal, or the name of a module param whose value it takes.
    init: dict[str, Annotated[Union[StrictInt, StrictFloat, StrictBool, StrictStr], Field(union_mode="left_to_right")]] = {}
    weights: dict[str, str] = {}
    # forward keyword -> an input: a mask shaped like that input without its channel dim (Boltz masks): all ones,
    # or, with `token_mask`, the token mask along every dim of the token count's size (a pair mask is its outer product)
    masks: dict[str, str] = {}
    # the input that is the module's token mask [1, 1, 1, n] (1 real, 0 padding): verify masks padded tokens with it
    token_mask: str | None = None
    # forward keyword -> an input passed again under that name (Boltz's k_in: keys from the same tokens)
    repeat: dict[str, str] = {}
    # input -> dims: the reference takes that input permuted (Boltz's pair bias is [1, n, n, heads], the module's
    # [1, heads, n, n] as SDPA reads it)
    permute: dict[str, list[StrictInt]] = {}
    # output -> the input it is a residual update of: verify compares out - input (the update), which the input
    # would otherwise hide from the PCC
    residual: dict[str, str] = {}
    # inputs drawn small (as residual inputs are) where the output is normalised and cannot be compared as an
    # update: a stack's final RMSNorm of x + updates would otherwise show mostly x
    small: list[str] = []
    # the reference's constructor takes a config object of this class, built from `init`
    config: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
    # the reference's output field compared with the module's (first) output (a Hugging Face ModelOutput)
    output: str | None = None
    # input -> k: the reference takes only the first k entries of the input's last dim (host-side channel padding)
    channels: dict[str, StrictInt] = {}
    # input -> shape: the reference takes that many of the input's first elements (Boltz's per-sample time, a
    # [1, 1, 1, 32] tile row on device whose first column is the time)
    first: dict[str, list[StrictInt]] = {}
    # the constructor's keywords besides the config object (`config`), e.g. transformers' layers' layer_idx
    kwargs: dict[str, Annotated[Union[StrictInt, StrictFloat, StrictBool, StrictStr], Field(union_mode="left_to_right")]] = {}
    # `file.py:function` beside the description: verify calls function(reference, **inputs) with the inputs by name
    # (as the reference takes them) and compares what it returns: a tensor, a tuple in `outputs` order, or a dict by
    # output name (docs/module-descriptions.md, "Checking module packages")
    adapter: str | None = Field(None, pattern=PYTHON_FILE_OBJECT)


# the locals of the generated forward_tokens besides its arguments and the axes' lengths (templates/model.py.j2)
FORWARD_TOKENS_LOCALS = (
    "self", "size", "built", "lengths", "real", "outs", "shape", "designs", "torch", "ttnn", "C",
)
MODEL_METHODS = ("forward", "to_device", "open", "close", "from_host_weights", "check_inputs", "check_shapes")
# names a mode may not take: the methods and attributes of the generated classes (templates/model.py.j2, lm.py.j2),
# beside which each mode's method sits (tests/test_mode_names.py keeps this list complete)
MODE_RESERVED = tuple(sorted(set(MODEL_METHODS) | {
    "advance_held", "advance_step", "allocate_kv_cache", "bind_kv_cache", "capture", "check_current",
    "decode_forward", "decode_forward_text", "device_rows", "fetch", "forward_batch", "forward_tokens",
    "gather_logits", "greedy_step", "initialize", "inputs_of", "ints", "logits", "logits_step", "per_user",
    "prefill_forward", "prefill_forward_text", "read", "require_kv_cache", "reseed", "sampled_step", "seed_sampling",
    "step_changes", "to_host", "tokens", "tokens_read", "traced_call", "warmup",
    "device", "weights", "mesh", "traces", "w", "design_composer", "design_mapper",
}))


class Sampler(Strict):
    """A generated method that runs one mode `count` times on device, each call's `carry` outputs feeding the next
    call's inputs (PI0's flow-matching Euler steps): straight-line, no host work between the calls."""

    name: str = Field(pattern=NAME, description="the Model method")
    mode: str = Field(pattern=NAME, description="the `modes` key of the step it repeats")
    count: Expr
    carry: dict[str, str] = Field(description="step output -> the step input it feeds on the next call")
    start: dict[str, str] = Field({}, description="step input -> the weight holding its first value")
    returns: str = Field(description="the step output the method returns")
    doc: Text = ""


class Feature(Strict):
    """A build option (`tttgen build --paged` turns on `paged`) as an overlay of the description: while it is on,
    its params are added and its inputs, outputs, state entries and `modes` variants replace the module's own of
    the same name. A feature reaches every called module that declares it too."""

    doc: Text
    params: dict[str, Param] = {}
    inputs: dict[str, Tensor] = {}
    outputs: dict[str, Tensor] = {}
    state: dict[str, State] = {}
    modes: dict[str, ModeVariant] = {}  # keys: the checks' mode_names
    # a merge patch of the description (spec/extends.py: op lists by op name), applied after the sections above:
    # the ops, inputs and binds the feature changes, where `modes` would restate whole op lists
    patch: dict[str, Any] = {}


FEATURE_SECTIONS = ("params", "inputs", "outputs", "state", "modes")


def with_features(data: Any, features: tuple[str, ...]) -> Any:
    """The description's raw data with the overlays of those `features` it declares applied, in the given order."""
    declared = _d(_d(data).get("features"))
    if not isinstance(data, dict) or not any(f in declared for f in features):
        return data
    merged = dict(data)
    for name in features:
        overlay = _d(declared.get(name))
        for section in FEATURE_SECTIONS:
            if section in overlay:
                merged[section] = {**_d(merged.get(section)), **_d(overlay[section])}
        merged = _feature_patch(merged, name, overlay).merged
    return merged


class Checkpoint(Strict):
    format: Literal["huggingface"]
    config_map: dict[str, str] = Field(description="checkpoint config field -> module param")


class KeyMap(Strict):
    """Another checkpoint layout of the tensors the module reads (docs/module-descriptions.md, "Key maps"): the
    generated weights.py's `load_weights(device, checkpoint, key_map=<name>)` reads a checkpoint written with that
    layout's key names. A key the module reads becomes the layout's by its longest matching `prefixes` entry; the
    same tensors, so no transform (those stay on the weights)."""

    doc: Text = Field(description="what writes this layout, with the source of its key names")
    prefixes: dict[Key, Key] = Field(min_length=1, description="module key prefix -> the layout's key prefix")
    fallbacks: dict[Key, list[Key]] = Field(
        {}, description="module key -> the layout's keys tried in turn when the mapped one is absent (tied weights)"
    )


class ModuleDescription(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    # the generated class's name (tt_transformers' `Attention`, `MLP`, `TransformerBlock`); default: the name in
    # CamelCase
    class_name: str | None = Field(None, pattern=r"^[A-Z][A-Za-z0-9]*$")
    description: Text
    # markdown the package README prints under "Use it" (how to feed the package its real inputs); optional
    usage: Text = ""
    params: dict[str, Param] = {}
    # named expressions over the params (and earlier names): written once, used wherever a param may be
    # (`vocab_padded: (vocab_size + 31) // 32 * 32`); evaluated per mode, after the params are bound
    derived: dict[Annotated[str, Field(pattern=NAME)], Expr] = {}
    inputs: dict[str, Tensor] = {}
    outputs: dict[str, Tensor] = {}
    weights: dict[str, Weight] = {}
    state: dict[str, State] = {}
    ops: list[Step] = []
    # per mode its own ops (and inputs, outputs): `prefill` and `decode` (an LLM's), `prefill_<param>` (one more prefill
    # mode at rows = that param), or a name the description chooses with its role (PI0's `prefix`, `denoise_step`)
    modes: dict[str, ModeVariant] = {}  # keys checked by ModuleChecker.mode_names (all problems at once, with lines)
    sizes: Sizes | None = Field(None, description="prefill modes over a param other than `rows` (pair modules)")
    precision: dict[Literal["accuracy", "performance"], PrecisionPolicy] = Field(
        default_factory=dict, description="per preset, this module's precision instead of the LLM presets"
    )
    reference: Reference | None = None
    checkpoint: Checkpoint | None = None
    sampler: Sampler | None = None
    features: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Feature] = {}
    key_maps: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], KeyMap] = {}
    # what the package is an entry point of: `causal_lm` (generate loop, sampling, KV cache; built bound to a model
    # config) or `module` (Model.forward). Default: `causal_lm` when built bound to a model config, else `module`.
    entry: Literal["causal_lm", "module"] | None = None

    @property
    def is_model(self) -> bool:
        return self.checkpoint is not None


def sized_variants(desc: "ModuleDescription") -> dict[str, str]:
    """`prefill_<param>` keys of `modes` -> their param."""
    return {k: k[len("prefill_"):] for k in desc.modes if k.startswith("prefill_")}


def is_named_mode(key: str) -> bool:
    """A `modes` key the description chose (`prefix`), not a conventional one (`prefill`, `decode`,
    `prefill_<param>`): the builder names its methods and configs after it."""
    return key not in MODES and not key.startswith("prefill_")


def named_modes(desc: "ModuleDescription") -> dict[str, "ModeVariant"]:
    """The modes a description named itself, in its order."""
    return {k: v for k, v in desc.modes.items() if is_named_mode(k)}


def mode_role(key: str, variant: "ModeVariant | None") -> str:
    """A mode's role (`prefill` or `decode`): what it states, else what its conventional key is."""
    if variant is not None and variant.role is not None:
        return variant.role
    return "decode" if key == "decode" else "prefill"


def variant_key(desc: "ModuleDescription", mode: str, rows: int, env: dict) -> str:
    """The `modes` key a mode runs: a `prefill_<param>` one whose param is these rows, else the mode's name (whose
    variant may be absent: then `ops`)."""
    if mode == "prefill":
        for key, param in sized_variants(desc).items():
            if env.get(param) == rows:
                return key
    return mode


def mode_variant(desc: "ModuleDescription", mode: str, rows: int, env: dict) -> "ModeVariant | None":
    return desc.modes.get(variant_key(desc, mode, rows, env))


def is_module_data(data: Any) -> bool:
    """A YAML is a module description when it has an op list (or per-mode op lists)."""
    return isinstance(data, dict) and ("ops" in data or "modes" in data or "extends" in data)


# ---------------------------------------------------------------- semantic checks (on the raw data)

_REF = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([A-Za-z_][A-Za-z0-9_]*)\])?$")


def module_names() -> list[str]:
    return sorted(p.stem for p in MODULE_DIR.glob("*.yaml"))


def find_module(name: str, near: Path | None) -> Path | None:
    """A called module: the calling file's own directory first, then the built-in library."""
    for folder in ([near] if near else []) + [MODULE_DIR]:
        path = folder / f"{name}.yaml"
        if path.exists():
            return path
    return None


def _placeholders(template: str) -> list[str]:
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError:
        return ["{"]  # unbalanced braces: reported as an unknown placeholder


def _d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list:
    return value if isinstance(value, list) else []


_LITERALS = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr, ast.ListComp, ast.DictComp,
             ast.SetComp, ast.GeneratorExp, ast.BinOp, ast.Compare, ast.BoolOp)


def python_object_problem(path: Path, shown: str, name: str) -> str | None:
    """Why `name` is no callable top-level object of the Python file `path`, read (parsed, never run) as verify
    would import it: the file does not parse, nothing at its top level binds the name, or it binds a plain value.
    None when a class, a function, an import or any other expression binds it."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return f"'{shown}' is larger than {MAX_BYTES} bytes"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=shown)
    except SyntaxError as err:
        return f"'{shown}' does not parse: {err.msg} (line {err.lineno})"
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, MemoryError) as err:
        return f"'{shown}' cannot be read: {type(err).__name__}"
    bound: dict[str, ast.AST | None] = {}  # top-level name -> the value bound last (None: a def, class or import)
    modules = set()  # names bound by `import x`: modules, never what a reference names
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[node.name] = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound[(alias.asname or alias.name).split(".")[0]] = None
                if isinstance(node, ast.Import):
                    modules.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    bound[target.id] = node.value
        elif isinstance(node, (ast.If, ast.Try, ast.With)):  # bound on some path (an optional import): accepted
            for inner in ast.walk(node):
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    bound[inner.name] = None
                elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                    bound[inner.id] = None
                elif isinstance(inner, ast.alias):
                    bound[(inner.asname or inner.name).split(".")[0]] = None
    if name not in bound:
        defined = sorted(
            n for n, v in bound.items()
            if n not in modules and not n.startswith("_") and (v is None or not isinstance(v, _LITERALS))
        )
        return f"'{shown}' defines no '{name}' at its top level (defined: {', '.join(defined) or 'none'})"
    if isinstance(bound[name], _LITERALS):
        return f"'{name}' in '{shown}' is a plain value, not a class or function verify can call"
    return None


@dataclass
class _Checker:
    data: dict
    path: Path
    stack: tuple[Path, ...] = ()  # modules being checked above this one (a cycle is reported on its own)
    problems: list[Problem] = field(default_factory=list)
    features: tuple[str, ...] = ()  # the build options on (their overlays are in `data`): called modules get them too

    def add(self, loc: tuple, message: str, allowed: list[str] | None = None) -> None:
        if allowed is not None:
            message += f" (allowed: {', '.join(allowed) if allowed else 'none'})"
        self.problems.append(Problem(loc, message))

    @property
    def params(self) -> dict:
        """The params, and the named expressions (`derived:`) as the int or float params they stand for."""
        return {**_d(self.data.get("params")), **derived_params(self.data)}

    def param_type(self, name: str) -> str | None:
        return _d(self.params.get(name)).get("type")

    def expr(self, loc: tuple, value: Any, extra: tuple[str, ...] = ()) -> None:
        """A shape item or param expression: grammar (when the schema did not already) and known params."""
        if not isinstance(value, str):
            return
        for n in names_in(value):
            if n not in self.params and n not in extra:
                self.add(loc, f"unknown param '{n}' in '{value}'", sorted(self.params) + list(extra))

    def shapes(self, section: str, tensors: Any) -> None:
        for tname, t in _d(tensors).items():
            for i, item in enumerate(_l(_d(t).get("shape"))):
                self.expr((section, tname, "shape", i), item)

    # ---- the checks

    def run(self) -> list[Problem]:
        d = self.data
        for pname in self.params:
            if not re.match(NAME, str(pname)):
                self.add(("params", pname), f"param name '{pname}' is not an identifier")
        self.derived()
        for section in ("inputs", "outputs", "weights", "state"):
            self.shapes(section, d.get(section))
        for mode, variant in _d(d.get("modes")).items():
            for section in ("inputs", "outputs"):
                self.shapes_in_mode(mode, section, _d(variant).get(section))
        self.weights()
        self.names_and_usage()
        if not _l(d.get("ops")) and not _d(d.get("modes")):
            self.add(("ops",), "a module needs `ops` or per-mode `modes` with ops")
        if _l(d.get("ops")) or not _d(d.get("modes")):
            self.op_list(("ops",), _l(d.get("ops")), None)
        self.mode_names()
        for mode, variant in _d(d.get("modes")).items():
            if isinstance(mode, str) and re.match(MODE_NAME, mode):
                self.op_list(("modes", mode, "ops"), _l(_d(variant).get("ops")), mode)
        reference = _d(d.get("reference"))
        for wname in _d(reference.get("weights")):
            if wname not in _d(d.get("weights")):
                self.add(("reference", "weights", wname), f"unknown weight '{wname}'", sorted(_d(d.get("weights"))))
        for field in ("permute", "first", "channels", "small"):
            for iname in _d(reference.get(field)) if field != "small" else _l(reference.get(field)):
                if iname not in _d(d.get("inputs")):
                    self.add(("reference", field, iname), f"unknown input '{iname}'", sorted(_d(d.get("inputs"))))
        for field in ("torch", "adapter"):  # file.py:name beside the description (verify imports it)
            value = reference.get(field)
            if isinstance(value, str) and re.match(PYTHON_FILE_OBJECT, value):
                file, _, obj = value.rpartition(":")
                if not (self.path.parent / file).is_file():
                    self.add(("reference", field), f"no file '{file}' beside the description")
                else:
                    problem = python_object_problem(self.path.parent / file, file, obj)
                    if problem:
                        self.add(("reference", field), problem)
            elif field == "torch" and isinstance(value, str) and re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", value):
                top = value.split(".")[0]  # found without importing it (a dotted path's deeper parts need imports)
                if importlib.util.find_spec(top) is None:
                    self.add(("reference", field), f"no Python package '{top}' is installed (reference '{value}')")
        tm = reference.get("token_mask")
        if tm is not None and tm not in _d(d.get("inputs")):
            self.add(("reference", "token_mask"), f"unknown input '{tm}'", sorted(_d(d.get("inputs"))))
        for oname, iname in _d(reference.get("residual")).items():
            if oname not in _d(d.get("outputs")) or iname not in _d(d.get("inputs")):
                self.add(("reference", "residual", oname), f"'{oname}: {iname}' must map an output to an input",
                         sorted(_d(d.get("outputs"))) + sorted(_d(d.get("inputs"))))
        for field in ("masks", "repeat"):
            for kw, iname in _d(reference.get(field)).items():
                if iname not in _d(d.get("inputs")):
                    self.add(("reference", field, kw), f"unknown input '{iname}'", sorted(_d(d.get("inputs"))))
        self.sampler(_d(d.get("sampler")))
        sizes = _d(d.get("sizes"))
        if "param" in sizes and self.param_type(sizes["param"]) != "int":
            self.add(("sizes", "param"), f"'{sizes['param']}' is not an int param", sorted(
                n for n in self.params if self.param_type(n) == "int"))
        self.sizes_padding(d, sizes)
        for hf, pname in _d(_d(d.get("checkpoint")).get("config_map")).items():
            if pname not in _d(d.get("params")):
                self.add(("checkpoint", "config_map", hf), f"unknown param '{pname}'", sorted(_d(d.get("params"))))
        return self.problems

    def callee_mode(self, mode: str | None, callee_modes: dict) -> str | None:
        """The callee's `modes` key a call in `mode` runs (as the builder picks it): the same name, else the one of
        the caller's mode's role (`prefill`, `decode`), else none: its `ops`."""
        if mode is None or mode in callee_modes:
            return mode
        variant = _d(_d(self.data.get("modes")).get(mode))
        role = variant.get("role") if variant.get("role") in ROLES else ("decode" if mode == "decode" else "prefill")
        return role if role in callee_modes else None

    def mode_names(self) -> None:
        """Each `modes` key is a conventional one (`prefill`, `decode`, `prefill_<int param>`) or a chosen name: a
        lowercase identifier, no keyword, none of the generated classes' own names, no call's attribute, not the
        sampler's, stating its role; no two make one config class (`a_1`, `a1`: `A1`)."""
        d = self.data
        ints = sorted(n for n in self.params if self.param_type(n) == "int")
        calls = {
            s.get("name") for _, ops in self.op_lists() for s in ops if isinstance(s, dict) and s.get("op") == "call"
        }
        sampler = _d(d.get("sampler")).get("name")
        classes: dict[str, str] = {}
        for mode, variant in _d(d.get("modes")).items():
            loc, variant = ("modes", mode), _d(variant)
            role = variant.get("role")
            if not isinstance(mode, str) or not re.match(MODE_NAME, mode):
                self.add(loc, f"mode name '{mode}' is not a lowercase Python identifier (a-z, 0-9, _; it names the "
                         "mode's methods and, in CamelCase, its configs class)")
                continue
            if keyword.iskeyword(mode) or keyword.issoftkeyword(mode):
                self.add(loc, f"mode name '{mode}' is a Python keyword; choose another")
                continue
            if mode in MODE_RESERVED or mode.startswith("to_device"):
                self.add(loc, f"mode name '{mode}' is reserved: the generated classes use it themselves; choose "
                         f"another (reserved: to_device*, {', '.join(MODE_RESERVED)})")
                continue
            if mode in calls:
                self.add(loc, f"mode name '{mode}' is the attribute of the call '{mode}'; choose another")
            if mode == sampler:
                self.add(loc, f"mode name '{mode}' is the sampler's method too; choose another")
            camel = "".join(part.capitalize() for part in mode.split("_"))
            if camel in classes:
                self.add(loc, f"modes '{classes[camel]}' and '{mode}' make the same configs class '{camel}'; "
                         "choose names that differ by more than underscores")
            classes.setdefault(camel, mode)
            if mode.startswith("prefill_"):
                sized = mode[len("prefill_"):]
                if self.param_type(sized) != "int":
                    self.add(loc, f"'{sized}' is not an int param: prefill_<param> runs at rows = it", ints)
                if role not in (None, "prefill") or "rows" in variant:
                    self.add(loc, f"'{mode}' is a prefill mode at rows = {sized}: it takes no other `role` or `rows`")
            elif mode.startswith("decode_"):
                self.add(loc, f"mode name '{mode}': names beginning `decode_` are refused (decode is one mode, "
                         "`decode`); choose another",
                         ["decode", "prefill", "prefill_<int param>", "a name of your own"])
            elif mode in MODES:
                if role not in (None, mode):
                    self.add(loc + ("role",), f"mode '{mode}' has the role of its name", [mode])
                if "rows" in variant:
                    self.add(loc + ("rows",), f"mode '{mode}' runs at the builder's rows; a chosen name takes `rows`")
            elif role is None:
                self.add(loc, f"mode '{mode}' needs a `role`: how its ops run", list(ROLES))
            elif role == "decode":
                self.add(loc + ("role",), f"a decode mode is named `decode` for now (the LLM entry points and the "
                         f"decode-step costs read it by that name), not '{mode}'", ["prefill"])
            if "rows" in variant and role == "prefill" and is_named_mode(mode):
                self.expr(loc + ("rows",), variant["rows"])

    def derived(self) -> None:
        """Each named expression uses params and the names before it, and is named like no param."""
        params = _d(self.data.get("params"))
        known: list[str] = []
        for name, value in _d(self.data.get("derived")).items():
            if name in params:
                self.add(("derived", name), f"'{name}' is a param already; a named expression needs a name of its own")
            for n in names_in(value):
                if n not in params and n not in known:
                    later = " (named expressions may use only the ones above them)" if n in _d(
                        self.data.get("derived")) else ""
                    self.add(("derived", name), f"unknown param '{n}' in '{value}'{later}",
                             sorted(set(params) | set(known)))
            known.append(name)

    def sizes_padding(self, d: dict, sizes: dict) -> None:
        """What forward_tokens pads (`sizes.mask`, `sizes.axes`): each padded axis a derived name of the size param,
        each mask an input shaped [1, ..., 1, axis], each `length` over the size param, the axes above it and params
        free of the size param; every input and output dim that depends on the size param written as the param or
        an axis (the dims forward_tokens pads and cuts), and each axis held by an input it reads the length from."""
        mask, axes, param = sizes.get("mask"), _d(sizes.get("axes")), sizes.get("param")
        if (mask is None and not axes) or not isinstance(param, str):
            return
        inputs, derived = _d(d.get("inputs")), _d(d.get("derived"))
        reach = derived_reach(d)

        def depends(item: Any) -> bool:
            return any(n == param or param in reach.get(n, ()) for n in names_in(item))

        masks = [(("sizes", "mask"), mask, param)] if mask is not None else []
        known = [param]  # what a later axis's `length` may read
        constants = sorted(n for n in self.params if self.param_type(n) == "int" and n != param and not depends(n))
        for name, axis in axes.items():
            loc, axis = ("sizes", "axes", name), _d(axis)
            if not isinstance(name, str) or not re.match(NAME, name):
                self.add(loc, f"axis name '{name}' is not an identifier")
                continue
            if name not in derived:
                self.add(loc, f"'{name}' is not a derived name: a padded axis is a named expression of {param} "
                         f"(atoms: 8 * {param}) written as a dim of the inputs", sorted(derived))
                continue
            if param not in reach.get(name, ()):
                self.add(loc, f"'{name}' = {derived[name]} does not depend on {param}: forward_tokens pads only "
                         f"axes whose built length grows with the size")
                continue
            if name in inputs or name in FORWARD_TOKENS_LOCALS:
                self.add(loc, f"'{name}' is the name of an input or of a local of forward_tokens (its real length "
                         f"is a variable of that name there): name the axis otherwise")
            if axis.get("mask") is not None:
                masks.append(((*loc, "mask"), axis["mask"], name))
            length = axis.get("length")
            for n in names_in(length):
                if n not in known and n not in constants:
                    self.add((*loc, "length"), f"'{n}' in '{length}' is neither {param}, an axis above '{name}' "
                             f"nor an int param free of {param}", known + constants)
            known.append(name)
        if param in inputs or param in FORWARD_TOKENS_LOCALS:
            self.add(("sizes", "param"), f"'{param}' is the name of an input or of a local of forward_tokens (the "
                     "real token count is a variable of that name there)")
        for iname in inputs:
            if iname in FORWARD_TOKENS_LOCALS:
                self.add(("inputs", iname), f"input '{iname}' is named like a local of the generated forward_tokens "
                         f"({', '.join(FORWARD_TOKENS_LOCALS)}): name it otherwise")
        mask_names: dict[str, str] = {}
        for loc, m, axis in masks:
            if m not in inputs:
                self.add(loc, f"unknown input '{m}'", sorted(inputs))
                continue
            if m in mask_names:
                self.add(loc, f"input '{m}' masks '{mask_names[m]}' already: each padded axis has its own mask")
                continue
            mask_names[m] = axis
            shape = _d(inputs[m]).get("shape")
            if not isinstance(shape, list) or not shape or shape[-1] != axis or any(
                item != 1 for item in shape[:-1]
            ):
                self.add(loc, f"input '{m}' must be shaped [1, ..., 1, {axis}] (got {shape})")
        padded = list(known)  # the size param and every well-declared axis
        sections = [((section,), d.get(section)) for section in ("inputs", "outputs")] + [
            (("modes", mode, section), _d(variant).get(section))
            for mode, variant in _d(d.get("modes")).items()
            for section in ("inputs", "outputs")
        ]
        for where, tensors in sections:
            for tname, t in _d(tensors).items():
                for i, item in enumerate(_l(_d(t).get("shape"))):
                    if item not in padded and depends(item):
                        self.add((*where, tname, "shape", i),
                                 f"'{item}' depends on {param} but is no padded axis: forward_tokens pads and cuts "
                                 f"only dims written as one (name it in `derived` and declare it in sizes.axes)",
                                 padded)
        lengths = {name for name, axis in axes.items() if _d(axis).get("length") is not None}
        for axis in padded:
            held = [n for n, t in inputs.items() if n not in mask_names and axis in _l(_d(t).get("shape"))]
            if not held and axis not in lengths:  # a derived length needs no input: it is computed
                self.add(("sizes", "param") if axis == param else ("sizes", "axes", axis),
                         f"no input but a mask has a dim '{axis}': forward_tokens reads its length and each built "
                         f"size's capacity from one")

    def sampler(self, sampler: dict) -> None:
        """The sampler's mode, carried values, start weights and result name what the description declares."""
        if not sampler:
            return
        name = sampler.get("name")
        if isinstance(name, str) and (name in MODEL_METHODS or name.startswith(("prefill", "decode", "to_device"))):
            self.add(("sampler", "name"), f"'{name}' is a Model method of its own (forward, to_device*, open, close, "
                     "the mode methods prefill_*/decode); name the sampler otherwise")
        modes = _d(self.data.get("modes"))
        mode = sampler.get("mode")
        if not isinstance(mode, str) or mode not in modes:
            self.add(("sampler", "mode"), f"unknown mode '{mode}'", sorted(modes))
            return
        ins, outs = self.inputs_for(self.data, mode), self.outputs_for(self.data, mode)
        self.expr(("sampler", "count"), sampler.get("count"))
        for out, inp in _d(sampler.get("carry")).items():
            if out not in outs:
                self.add(("sampler", "carry", out), f"'{out}' is not an output of mode {mode}", sorted(outs))
            if inp not in ins:
                self.add(("sampler", "carry", out), f"'{inp}' is not an input of mode {mode}", sorted(ins))
        for inp, weight in _d(sampler.get("start")).items():
            if inp not in ins:
                self.add(("sampler", "start", inp), f"'{inp}' is not an input of mode {mode}", sorted(ins))
            if weight not in _d(self.data.get("weights")):
                self.add(("sampler", "start", inp), f"unknown weight '{weight}'", sorted(_d(self.data.get("weights"))))
        if sampler.get("returns") not in outs:
            self.add(("sampler", "returns"), f"'{sampler.get('returns')}' is not an output of mode {mode}", sorted(outs))

    def shapes_in_mode(self, mode: str, section: str, tensors: Any) -> None:
        for tname, t in _d(tensors).items():
            for i, item in enumerate(_l(_d(t).get("shape"))):
                self.expr(("modes", mode, section, tname, "shape", i), item)

    def weights(self) -> None:
        for wname, w in _d(self.data.get("weights")).items():
            w = _d(w)
            parts = _l(w.get("keys"))
            templates = [(("key",), w.get("key"))] if isinstance(w.get("key"), str) else []
            for i, part in enumerate(parts):
                key = part if isinstance(part, str) else _d(part).get("key")
                if isinstance(key, str):
                    templates.append((("keys", i) if isinstance(part, str) else ("keys", i, "key"), key))
                for j, t in enumerate(_l(_d(part).get("transforms"))):
                    self.transform(("weights", wname, "keys", i, "transforms", j), t)
            for loc, template in templates:
                for name in _placeholders(template):
                    if name not in self.params:
                        self.add(
                            ("weights", wname) + loc,
                            f"unknown placeholder '{{{name}}}' in key '{template}'",
                            sorted(self.params),
                        )
            generate = _d(w.get("generate"))
            for fname, value in generate.items():
                if fname in GENERATOR_FLOATS:
                    if isinstance(value, str) and self.param_type(value) not in ("float", "int"):
                        numeric = sorted(n for n in self.params if self.param_type(n) in ("float", "int"))
                        self.add(("weights", wname, "generate", fname), f"'{value}' is not a numeric param", numeric)
                elif fname not in ("kind", *GENERATOR_STRINGS):
                    self.expr(("weights", wname, "generate", fname), value)
            transforms = _l(w.get("transforms"))
            for j, t in enumerate(transforms):
                self.transform(("weights", wname, "transforms", j), t)
            concats = [j for j, t in enumerate(transforms) if _d(t).get("kind") == "concat"]
            if len(parts) > 1 and concats[:1] != [0]:
                self.add(("weights", wname, "transforms"), f"{len(parts)} `keys` need a concat as the first transform")
            if len(parts) <= 1 and concats:
                self.add(("weights", wname, "transforms", concats[0]), "concat needs several `keys` to join")

    def transform(self, loc: tuple, t: Any) -> None:
        t = _d(t)
        for fname in ("heads", "parts", "multiple", "rsqrt_of", "sqrt_of"):
            self.expr(loc + (fname,), t.get(fname))
        for i, item in enumerate(_l(t.get("shape"))):
            self.expr(loc + ("shape", i), item)

    def inputs_for(self, data: dict, mode: str | None) -> dict:
        variant = _d(_d(data.get("modes")).get(mode)) if mode else {}
        return _d(variant.get("inputs")) if "inputs" in variant else _d(data.get("inputs"))

    def outputs_for(self, data: dict, mode: str | None) -> dict:
        variant = _d(_d(data.get("modes")).get(mode)) if mode else {}
        return _d(variant.get("outputs")) if "outputs" in variant else _d(data.get("outputs"))

    def op_list(self, loc: tuple, ops: list, mode: str | None) -> None:
        d = self.data
        values: dict[str, str] = {}  # value name -> what defines it
        for section in ("weights", "state"):
            values.update({n: section for n in _d(d.get(section))})
        values.update({n: "inputs" for n in self.inputs_for(d, mode)})
        names: set[str] = set()
        for i, step in enumerate(ops):
            if not isinstance(step, dict):
                continue
            here = loc + (i,)
            name = step.get("name")
            if isinstance(name, str):
                if name in names:
                    self.add(here + ("name",), f"duplicate op name '{name}'")
                names.add(name)
            if step.get("op") == "call":
                outs = self.call(here, step, values, mode)
            else:
                outs = self.op(here, step, values)
            for j, out in enumerate(outs):
                if out in values:
                    self.add(
                        here + ("out",) + ((j,) if isinstance(step.get("out"), list) else ()),
                        f"'{out}' is already defined (by {values[out]}); value names are defined once",
                    )
                values[out] = f"op '{name}'"
        for oname in self.outputs_for(d, mode):
            if oname not in values:
                where = (
                    ("modes", mode, "outputs", oname)
                    if mode and "outputs" in _d(_d(d.get("modes")).get(mode))
                    else ("outputs", oname)
                )
                self.add(where, f"output '{oname}' is not defined by any op" + (f" in mode {mode}" if mode else ""))

    def value(self, loc: tuple, ref: Any, values: dict, loop_var: str | None = None) -> None:
        if not isinstance(ref, str):
            return
        m = _REF.match(ref)
        if not m:
            self.add(loc, f"'{ref}' is not a value name (or state[loop_var] in a looped call)")
            return
        base, index = m.groups()
        if base not in values:
            self.add(
                loc, f"undefined value '{base}' (module inputs, weights, state and earlier op outputs)", sorted(values)
            )
        elif index is not None and (index != loop_var or values[base] not in ("state", "inputs")):
            self.add(loc, f"'{ref}': only state and module inputs may be indexed, and only by the call's loop var")

    def op(self, loc: tuple, step: dict, values: dict) -> list[str]:
        kind_name = step.get("op")
        outs = step.get("out")
        outs = [outs] if isinstance(outs, str) else [o for o in _l(outs) if isinstance(o, str)]
        kind = REGISTRY.get(kind_name) if isinstance(kind_name, str) else None
        if kind is None:
            if isinstance(kind_name, str):
                self.add(loc + ("op",), f"unknown op kind '{kind_name}'", kind_names() + ["call"])
            return outs
        ins = _d(step.get("in"))
        for port_name, ref in ins.items():
            port = kind.input(port_name)
            if port is None:
                self.add(
                    loc + ("in", port_name),
                    f"unknown input '{port_name}' of {kind.name}",
                    [p.name for p in kind.inputs],
                )
                continue
            if port.variadic != isinstance(ref, list):
                self.add(
                    loc + ("in", port_name),
                    f"input '{port_name}' of {kind.name} takes {'a list of values' if port.variadic else 'one value'}",
                )
            for j, r in enumerate(ref if isinstance(ref, list) else [ref]):
                self.value(loc + ("in", port_name) + ((j,) if isinstance(ref, list) else ()), r, values)
        for port in kind.inputs:
            if port.required and port.name not in ins:
                self.add(loc + ("in",), f"{kind.name} needs input '{port.name}'")
        attrs = _d(step.get("attrs"))
        for aname, value in attrs.items():
            attr = kind.attr(aname)
            if attr is None:
                self.add(loc + ("attrs", aname), f"unknown attr '{aname}' of {kind.name}", [a.name for a in kind.attrs])
            else:
                self.attr(loc + ("attrs", aname), attr, value)
        for attr in kind.attrs:
            if attr.required and attr.name not in attrs:
                self.add(loc + ("attrs",), f"{kind.name} needs attr '{attr.name}'")
        for group in kind.exactly_one:
            given = [g for g in group if g in ins or g in attrs]
            if len(given) != 1:
                self.add(loc, f"{kind.name} takes exactly one of {', '.join(group)}; got {', '.join(given) or 'none'}")
        if kind.variadic_outputs:
            count = attrs.get(kind.variadic_outputs)
            if isinstance(count, int) and not isinstance(count, bool) and len(outs) != count:
                self.add(
                    loc + ("out",),
                    f"{kind.name} with {kind.variadic_outputs}={count} makes {count} outputs; got {len(outs)}",
                )
        elif len(outs) != len(kind.outputs) and "out" in step or (kind.outputs and "out" not in step):
            want = ", ".join(kind.outputs) or "none (it writes state)"
            self.add(loc + ("out",), f"{kind.name} makes {len(kind.outputs)} outputs ({want}); got {len(outs)}")
        return outs

    def attr(self, loc: tuple, attr, value: Any) -> None:
        is_num = isinstance(value, (int, float)) and not isinstance(value, bool)
        if attr.type == "str":
            if not isinstance(value, str):
                self.add(loc, f"expected a string, got {value!r}", list(attr.allowed) or None)
            elif attr.allowed and value not in attr.allowed and self.param_type(value) != "str":
                self.add(loc, f"'{value}' is not an allowed value nor a str param", list(attr.allowed))
        elif attr.type == "bool":
            if not isinstance(value, bool) and not (isinstance(value, str) and self.param_type(value) == "bool"):
                self.add(loc, f"expected true, false or a bool param, got {value!r}")
        elif attr.type in ("int", "float"):
            if isinstance(value, str) and re.match(NAME, value) and value not in self.params:
                numeric = sorted(n for n in self.params if self.param_type(n) in ("int", "float"))
                what = "an int" if attr.type == "int" else "a number"
                self.add(loc, f"{attr.name} takes {what} (or a param or expression); '{value}' is not a param", numeric)
            elif isinstance(value, str):
                self.expr_checked(loc, value)
            elif not (isinstance(value, int) and not isinstance(value, bool)) and not (attr.type == "float" and is_num):
                self.add(
                    loc,
                    f"expected {'an int' if attr.type == 'int' else 'a number'} or a param expression, got {value!r}",
                )
        elif attr.type == "int_list":
            if not (isinstance(value, list) and all(type(v) is int for v in value)):
                self.add(loc, f"expected a list of ints, got {value!r}")
        elif attr.type == "shape":
            if not isinstance(value, list):
                self.add(loc, f"expected a shape (a list of ints and param expressions), got {value!r}")
            for i, item in enumerate(_l(value)):
                if isinstance(item, str):
                    self.expr_checked(loc + (i,), item)
                elif type(item) is not int:
                    self.add(loc + (i,), f"expected an int or a param expression, got {item!r}")
        elif attr.type == "mapping":
            if not isinstance(value, dict):
                self.add(loc, f"expected a mapping of names to numbers or params, got {value!r}")
            for k, v in _d(value).items():
                if isinstance(v, str):
                    if v not in self.params:
                        self.add(loc + (k,), f"unknown param '{v}'", sorted(self.params))
                elif not isinstance(v, (int, float)) or isinstance(v, bool):
                    self.add(loc + (k,), f"expected a number or a param name, got {v!r}")

    def expr_checked(self, loc: tuple, value: str, extra: tuple[str, ...] = ()) -> None:
        try:
            parse_expr(value)
        except ExprError as err:
            self.add(loc, str(err))
            return
        self.expr(loc, value, extra)

    def bind_value(self, loc: tuple, ptype: Any, value: Any) -> None:
        """A value for a callee param of type `ptype`: a literal of that type, or the caller's param(s)."""
        if ptype == "str":
            return  # a literal string, or the name of one of the caller's str params
        if ptype == "bool":
            if not isinstance(value, bool) and not (isinstance(value, str) and self.param_type(value) == "bool"):
                self.add(loc, f"expected true, false or a bool param, got {value!r}")
        elif isinstance(value, str):
            self.expr_checked(loc, value)
        elif (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (ptype == "int" and isinstance(value, float))
        ):
            self.add(loc, f"expected {'an int' if ptype == 'int' else 'a number'} or a param expression, got {value!r}")

    def inherited(self, loc: tuple, module: str, pname: str, ctype: Any) -> None:
        """A callee param the call does not bind takes the caller's same-named one: their types must agree."""
        mine = self.param_type(pname)
        if mine == ctype or (ctype == "float" and mine == "int"):
            return
        self.add(loc + ("bind",), f"module '{module}' param '{pname}' ({ctype}) would take the caller's {mine} "
                 f"'{pname}': bind it explicitly")

    def repeat(self, loc: tuple, step: dict, repeat: dict) -> None:
        """A repeated call: an int count of at least 1, something carried, one set of weights, no loop besides."""
        count = repeat.get("count")
        self.expr(loc + ("repeat", "count"), count)
        if isinstance(count, int) and not isinstance(count, bool) and count < 1:
            self.add(loc + ("repeat", "count"), f"count {count}: a repeated call runs at least once")
        elif isinstance(count, str) and count in self.params and self.param_type(count) != "int":
            self.add(loc + ("repeat", "count"), f"count '{count}' is a {self.param_type(count)} param: "
                     "the count is an int, an int param or int arithmetic over params")
        if "carry" in repeat and not _d(repeat.get("carry")):
            self.add(loc + ("repeat", "carry"), "nothing carried: every iteration would compute the same outputs "
                     "(name a callee output -> the input it feeds next)")
        carried = list(_d(repeat.get("carry")).values())
        for in_name in sorted({n for n in carried if carried.count(n) > 1}):
            self.add(loc + ("repeat", "carry"), f"input '{in_name}' is fed by two carried outputs")
        if step.get("loop") is not None:
            self.add(loc + ("repeat",), "a call is either looped (`loop`: per-layer weights) or repeated (`repeat`: "
                     "shared weights), not both: call a looped module with `repeat`")
        prefix = step.get("weight_prefix")
        for name in _placeholders(prefix) if isinstance(prefix, str) else []:
            if name not in self.params:
                self.add(loc + ("weight_prefix",), f"placeholder '{{{name}}}' in a repeated call's weight_prefix: "
                         "its iterations share one set of weights (no per-iteration keys)", sorted(self.params))

    def call(self, loc: tuple, step: dict, values: dict, mode: str | None) -> list[str]:
        outs = step.get("out")
        outs = [outs] if isinstance(outs, str) else [o for o in _l(outs) if isinstance(o, str)]
        loop = _d(step.get("loop"))
        loop_var = loop.get("var") if isinstance(loop.get("var"), str) else None
        if loop_var in self.params:
            self.add(loc + ("loop", "var"), f"loop var '{loop_var}' shadows a param")
        self.expr(loc + ("loop", "count"), loop.get("count"))
        repeat = _d(step.get("repeat"))
        for name in _placeholders(step.get("weight_prefix", "")) if isinstance(step.get("weight_prefix"), str) else []:
            if name != loop_var and name not in self.params and not repeat:  # (a repeated call's: self.repeat)
                self.add(
                    loc + ("weight_prefix",),
                    f"unknown placeholder '{{{name}}}'",
                    ([loop_var] if loop_var else []) + sorted(self.params),
                )
        if repeat:
            self.repeat(loc, step, repeat)
        every = _d(loop.get("every"))
        if every:
            self.expr(loc + ("loop", "every", "period"), every.get("period"))
        # a call input may also be a param (a constant the callee takes as a scalar input: a window size)
        given = {**_d(step.get("in")), **{("every", p): r for p, r in _d(every.get("in")).items()}}
        for port, ref in given.items():
            where = loc + (("loop", "every", "in", port[1]) if isinstance(port, tuple) else ("in", port))
            if not (isinstance(ref, str) and ref in self.params and ref not in values):
                self.value(where, ref, values, loop_var)
        module = step.get("module")
        if not isinstance(module, str):
            return outs
        path = find_module(module, self.path.parent)
        if path is None:
            self.add(loc + ("module",), f"unknown module '{module}'", modules_near(self.path.parent))
            return outs
        callee, clines = read_module_lines(path)
        if path.resolve() in self.stack + (self.path.resolve(),):
            return outs  # a cycle: reported once, as the cycle (_cycle_problems), not again as a bad interface
        # A description is valid only when everything it calls is: validating a model checks the tree. A cycle
        # through this call is the caller's own problem (reported once, as the cycle), not the callee's.
        _, cproblems = check_module(path, callee, clines, self.stack + (self.path.resolve(),), self.features)
        cproblems = [p for p in cproblems if not p.message.startswith("cyclic call")]
        if cproblems:
            self.add(
                loc + ("module",),
                f"module '{module}' has {len(cproblems)} problem(s): tttgen validate {_display(path)}",
            )
        callee = _d(with_features(callee, self.features))
        cparams = _d(callee.get("params"))
        for pname, value in _d(step.get("bind")).items():
            if pname not in cparams:
                self.add(loc + ("bind", pname), f"module '{module}' has no param '{pname}'", sorted(cparams))
            else:
                self.bind_value(loc + ("bind", pname), _d(cparams[pname]).get("type"), value)
        for pname, p in cparams.items():
            if pname in _d(step.get("bind")):
                continue
            if pname in self.params:  # taken from the caller's param (or named expression) of that name
                self.inherited(loc, module, pname, _d(p).get("type"))
            elif _d(p).get("default") is None:
                self.add(loc + ("bind",), f"module '{module}' param '{pname}' has no default and must be bound"
                         " (or the caller declares a param of that name)")
        cmode = self.callee_mode(mode, _d(callee.get("modes")))
        cins, couts = self.inputs_for(callee, cmode), self.outputs_for(callee, cmode)
        for field in ("loop", "repeat"):
            for out_name, in_name in _d(_d(step.get(field)).get("carry")).items():
                if out_name not in couts:
                    self.add(
                        loc + (field, "carry", out_name), f"module '{module}' has no output '{out_name}'", sorted(couts)
                    )
                if in_name not in cins:
                    self.add(
                        loc + (field, "carry", out_name), f"module '{module}' has no input '{in_name}'", sorted(cins)
                    )
        for port in _d(step.get("in")):
            if port not in cins:
                self.add(loc + ("in", port), f"module '{module}' has no input '{port}'", sorted(cins))
        for port in _d(every.get("in")):
            if port not in _d(step.get("in")):
                self.add(
                    loc + ("loop", "every", "in", port),
                    f"'{port}' is not one of the call's inputs: `every` replaces inputs `in` gives",
                    sorted(_d(step.get("in"))),
                )
        for port in cins:
            if port not in _d(step.get("in")):
                self.add(
                    loc + ("in",), f"module '{module}' needs input '{port}'" + (f" in mode {mode}" if cmode else "")
                )
        if len(outs) != len(couts):
            self.add(
                loc + ("out",), f"module '{module}' makes {len(couts)} outputs ({', '.join(couts)}); got {len(outs)}"
            )
        return outs


    # ---- what is declared but never used, declared twice under two names, or missing

    def op_lists(self) -> list[tuple[tuple, list]]:
        d = self.data
        lists = [(("ops",), _l(d.get("ops")))]
        lists += [(("modes", m, "ops"), _l(_d(v).get("ops"))) for m, v in _d(d.get("modes")).items()]
        return lists

    def names_and_usage(self) -> None:
        """A name is a param or a value, never both; every weight and input is read by some op; checkpoint keys are
        not read twice; a module returns something."""
        d = self.data
        declared: list[tuple[tuple, str, str]] = []  # (loc, name, section)
        for section in ("inputs", "weights", "state"):
            declared += [((section, n), n, section) for n in _d(d.get(section))]
        for mode, variant in _d(d.get("modes")).items():
            declared += [(("modes", mode, "inputs", n), n, "inputs") for n in _d(_d(variant).get("inputs"))]
        outs = [(loc + (i, "out"), o) for loc, steps in self.op_lists() for i, st in enumerate(steps)
                for o in ([_d(st).get("out")] if isinstance(_d(st).get("out"), str) else _l(_d(st).get("out")))]
        for loc, name in [(loc, name) for loc, name, _ in declared] + outs:
            if isinstance(name, str) and keyword.iskeyword(name):
                self.add(loc, f"'{name}' is a Python keyword; the generated code names variables after values: rename it")
        for loc, name, section in declared:
            if section == "inputs" and name in self.params:
                self.add(loc, f"'{name}' is both a param and an input; a shape or an op could not tell which is meant:"
                         " rename one")
        read: set[str] = set()
        for _, steps in self.op_lists():
            for step in steps:
                for ref in _d(_d(step).get("in")).values():
                    for r in ref if isinstance(ref, list) else [ref]:
                        m = _REF.match(r) if isinstance(r, str) else None
                        if m:
                            read.add(m.group(1))
        sampler = _d(d.get("sampler"))
        read |= set(_d(sampler.get("carry")).values()) | set(_d(sampler.get("start"))) | set(
            _d(sampler.get("start")).values()
        )
        for loc, name, section in declared:
            if section != "state" and name not in read:
                self.add(loc, f"{section[:-1]} '{name}' is declared but no op reads it (remove it, or read it)")
        # Two weights reading one checkpoint tensor the same way are one weight declared twice (reading it
        # twice with other transforms, e.g. two halves by `split`, is how a fused tensor is taken apart).
        reads: dict[str, str] = {}
        for wname, w in _d(d.get("weights")).items():
            w = _d(w)
            if w.get("generate") is not None:
                continue
            how = repr((w.get("key"), w.get("keys"), w.get("transforms")))
            if how in reads:
                self.add(("weights", wname), f"reads the same checkpoint tensor(s) as weight '{reads[how]}', the same"
                         " way: one weight declared twice (use that weight in both ops)")
            reads.setdefault(how, wname)
        outputs = bool(_d(d.get("outputs"))) or any(_d(_d(v).get("outputs")) for v in _d(d.get("modes")).values())
        if not outputs and (_l(d.get("ops")) or _d(d.get("modes"))):
            self.add(("outputs",), "a module needs `outputs:` (the values its forward returns, with their shapes)")


def modules_near(folder: Path) -> list[str]:
    """The modules a call may name from a file in `folder`: the built-in library and the module descriptions
    beside the file (not every YAML there: hints, profiles and broken files are not modules)."""
    names = set(module_names())
    if folder.resolve() != MODULE_DIR.resolve():
        for path in sorted(folder.glob("*.yaml"))[:200]:
            try:
                data, _ = read_yaml_lines(path)  # raw: `extends` marks a description too
            except InputError:
                continue
            if is_module_data(data):
                names.add(path.stem)
    return sorted(names)


def call_cycle(path: Path, chain: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The first cycle of calls reachable from `path` (module names, the repeated one last), or None."""
    data, _ = read_module_lines(path)
    data = _d(data)
    name = path.stem
    if name in chain:
        return chain[chain.index(name) :] + (name,)
    steps = list(_l(data.get("ops")))
    for variant in _d(data.get("modes")).values():
        steps += _l(_d(variant).get("ops"))
    for step in steps:
        if isinstance(step, dict) and step.get("op") == "call" and isinstance(step.get("module"), str):
            callee = find_module(step["module"], path.parent)
            if callee is not None:
                cycle = call_cycle(callee, chain + (name,))
                if cycle:
                    return cycle
    return None


def _cycle_problems(path: Path, data: dict) -> list[Problem]:
    problems = []
    sections = [(("ops",), _l(data.get("ops")))]
    sections += [(("modes", m, "ops"), _l(_d(v).get("ops"))) for m, v in _d(data.get("modes")).items()]
    seen = set()
    for loc, steps in sections:
        for i, step in enumerate(steps):
            if not (isinstance(step, dict) and step.get("op") == "call" and isinstance(step.get("module"), str)):
                continue
            callee = find_module(step["module"], path.parent)
            cycle = call_cycle(callee, (path.stem,)) if callee else None
            if cycle and cycle not in seen:
                seen.add(cycle)
                problems.append(Problem(loc + (i, "module"), f"cyclic call: {' -> '.join(cycle)}"))
    return problems


def check_module(
    path: Path, data: Any, lines: YamlLines, stack: tuple[Path, ...] = (), features: tuple[str, ...] = ()
) -> tuple[ModuleDescription | None, list[Problem]]:
    """Schema errors and semantic errors together, in file order. With `features`, the description those build
    options make (see Feature); without, the description as written and, apart, each feature it declares."""
    if not isinstance(data, dict):
        return None, [Problem((), f"expected a mapping of fields, got {type(data).__name__}")]
    problems: list[Problem] = []
    module = None
    if isinstance(lines, PatchedLines):
        extends_problems = _extends_problems(path, lines)
        if extends_problems:  # the rest would be checked on a half description: the extends first
            return None, extends_problems
    merged = with_features(data, features)
    try:
        module = ModuleDescription.model_validate(merged)
    except ValidationError as err:
        problems += lines.pydantic_problems(err, data, drop=STEP_TAGS)
    if isinstance(data.get("name"), str) and data["name"] != path.stem:
        problems.append(Problem(("name",), f"name '{data['name']}' must match the file name '{path.stem}'"))
    problems += _Checker(merged, path, stack, features=features).run()
    problems += _cycle_problems(path, data)
    if not features:
        problems += _feature_patch_problems(data)
    if not features and module is not None:
        seen = {(p.loc, p.message) for p in problems}
        for name in sorted(module.features):
            for p in _Checker(with_features(data, (name,)), path, stack, features=(name,)).run():
                if (p.loc, p.message) not in seen:
                    problems.append(Problem(p.loc, f"with feature '{name}': {p.message}"))
    return (module if not problems else None), problems


def load_module(path_or_name: str | Path, features: tuple[str, ...] = ()) -> ModuleDescription:
    """A module description by built-in name or path, with those of `features` it declares applied (see Feature);
    every problem in one InputError (exit 2)."""
    path = Path(path_or_name)
    if path.suffix not in (".yaml", ".yml"):
        found = find_module(str(path_or_name), None)
        if found is None:
            raise InputError(
                f"unknown module '{path_or_name}'",
                where="MODULE",
                hint=f"allowed: {', '.join(module_names())} or a module YAML",
            )
        path = found
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None:
        return _load_checked(path, None, tuple(features))  # read_yaml_lines reports the unreadable file
    return _load_checked(path.resolve(), (stat.st_mtime_ns, stat.st_size), tuple(features))


@functools.lru_cache(maxsize=256)
def _load_checked(path: Path, version: tuple[int, int] | None, features: tuple[str, ...]) -> ModuleDescription:
    """One parse and check per file version: a build expands a called module once per mode (descriptions are
    frozen, so sharing one is safe; an edited file has another mtime or size and is read again)."""
    data, lines = read_module_lines(path)
    module, problems = check_module(path, data, lines)  # checks each declared feature too
    active = tuple(f for f in features if module is not None and f in module.features)
    if len(active) > 1:  # a combination the per-feature checks did not see
        module, problems = check_module(path, data, lines, features=active)
    if problems:
        raise problems_error(problems, lines, _display(path))
    assert module is not None
    return ModuleDescription.model_validate(with_features(data, active)) if len(active) == 1 else module


# ---------------------------------------------------------------- descriptions that extend another (spec/extends.py)


def read_module_lines(path: Path) -> tuple[Any, YamlLines]:
    """A description file's data with its `extends:` resolved (the base patched by the file), and its lines: a
    PatchedLines for an extending description (its own problems on `.problems`, its bases on `.bases`)."""
    return read_chain(path, lambda ref, near: _find_base(ref, near), read_yaml_lines)


def _find_base(ref: str, near: Path) -> Path | None:
    """`extends: llama` names a module as a call does; `extends: ../x.yaml` is a path relative to the file."""
    if ref.endswith((".yaml", ".yml")):
        path = near / ref
        return path if path.is_file() else None
    return find_module(ref, near) if re.match(NAME, ref) else None


def base_files(path: Path) -> tuple[Path, ...]:
    """The descriptions `path` extends, nearest first (inputs of a build as much as the file itself)."""
    _, lines = read_module_lines(path)
    return tuple(getattr(lines, "bases", ()))


def _extends_problems(path: Path, lines: PatchedLines) -> list[Problem]:
    """The extends' and patches' own problems, or, when they have none, the base's: a description extending a
    broken one says so once (its problems are the base's file's own)."""
    if lines.problems or not lines.bases:
        return list(lines.problems)
    base = lines.bases[0].resolve()
    if base in _BASES_BEING_CHECKED:  # the base calls this extension: the call cycle is reported on its own
        return []
    _BASES_BEING_CHECKED.add(base)
    try:
        load_module(lines.bases[0])
    except InputError as err:
        first = err.message.split("\n", 1)[0]
        what = first if first.endswith(("problem", "problems")) else "problems"
        return [Problem(("extends",), f"base '{lines.bases[0].stem}' has {what}: tttgen validate "
                        f"{_display(lines.bases[0])}")]
    finally:
        _BASES_BEING_CHECKED.discard(base)
    return []


_BASES_BEING_CHECKED: set[Path] = set()


@dataclass
class _Patched:
    merged: Any
    problems: list


def _feature_patch(data: dict, name: str, overlay: dict) -> _Patched:
    """The description with feature `name`'s `patch:` applied (the patch's problems located in the feature)."""
    patch = overlay.get("patch")
    if not isinstance(patch, dict) or not patch:
        return _Patched(data, [])
    patcher = Patcher(patch_loc=("features", name, "patch"))
    merged = patcher.merge(data, patch)
    return _Patched(merged, patcher.problems)


def _feature_patch_problems(data: dict) -> list[Problem]:
    """Every feature's patch misuses (a removed op the description lacks, a bad anchor), with its lines."""
    problems = []
    for name, overlay in _d(data.get("features")).items():
        problems += _feature_patch(data, name, _d(overlay)).problems
    return problems


# ---------------------------------------------------------------- named expressions (`derived:`)


def derived_params(data: Any) -> dict[str, dict]:
    """A description's named expressions as the params the checks treat them as: float when they use a float
    param, int otherwise."""
    params = _d(_d(data).get("params"))
    out: dict[str, dict] = {}
    for name, value in _d(_d(data).get("derived")).items():
        names = names_in(value)
        floats = any(_d(params.get(n)).get("type") == "float" or _d(out.get(n)).get("type") == "float" for n in names)
        out[name] = {"type": "float" if floats else "int", "doc": f"= {value}", "derived": True}
    return out


def derived_reach(data: Any) -> dict[str, set[str]]:
    """Each named expression's names, with the names those reach in turn (atoms = atoms_per_token * n reaches n;
    windows = atoms // queries reaches atoms, atoms_per_token, n and queries)."""
    out: dict[str, set[str]] = {}
    for name, value in _d(_d(data).get("derived")).items():
        names = names_in(value)
        out[name] = set(names).union(*(out.get(n, set()) for n in names))
    return out


def with_derived(desc: "ModuleDescription", env: dict[str, Any]) -> dict[str, Any]:
    """`env` (param values) with the description's named expressions evaluated in order, a new dict."""
    if not desc.derived:
        return env
    out = dict(env)
    for name, value in desc.derived.items():
        out[name] = eval_expr(value, out)
    return out
