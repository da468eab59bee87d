"""The op-kind registry: every op kind a module description may use, declared once.

Per kind: its named inputs (required or optional; a variadic input takes a list of values), its outputs
(a fixed tuple of names, or variadic when the count comes from an attribute) and its attribute schema
(name, type, allowed values, required or not). Module descriptions are checked against this table
(tttgen/spec/module.py); nothing else lists op kinds.

Later steps of issue 8 attach the rest of a kind here, so adding a kind stays one small change: its ttnn
call (render), the decisions passes make for it, its cost-model entry, its emulator semantics and its
ttnn rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Attribute types. Numeric and bool attributes may also be written as an expression over module params
# (e.g. `eps: rms_norm_eps`, `num_heads: num_attention_heads`); `shape` is a list of such expressions;
# `mapping` is a fixed set of named numbers (rope scaling); `str` takes one of `allowed` when it is given.
AttrType = Literal["int", "float", "bool", "str", "int_list", "shape", "mapping"]

ACTIVATIONS = ("none", "relu", "gelu", "silu")
UNARY_FNS = ("relu", "gelu", "silu", "sigmoid", "tanh", "exp", "neg", "sqrt", "rsqrt", "reciprocal", "square")
BINARY_FNS = ("add", "sub", "mul", "div")
DTYPES = ("bfloat16", "bfloat8_b", "bfloat4_b", "float32", "uint32", "int32")


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


@dataclass(frozen=True)
class OpKind:
    name: str
    doc: str
    inputs: tuple[Port, ...]
    outputs: tuple[str, ...]  # empty: the op only writes state (cache fill/update)
    attrs: tuple[Attr, ...] = ()
    variadic_outputs: str | None = None  # attribute holding the output count (chunk)
    # Groups of input/attr names of which exactly one must be given (binary: a second tensor or a scalar).
    exactly_one: tuple[tuple[str, ...], ...] = ()

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def attr(self, name: str) -> Attr | None:
        return next((a for a in self.attrs if a.name == name), None)


def _in(*names: str) -> tuple[Port, ...]:
    """Ports from names; a trailing `?` marks an optional one."""
    return tuple(Port(n.rstrip("?"), required=not n.endswith("?")) for n in names)


KINDS: tuple[OpKind, ...] = (
    OpKind(
        "linear",
        "x @ weight (+ bias), weight stored [K, N]; optional fused activation",
        _in("input", "weight", "bias?"),
        ("output",),
        (Attr("activation", "str", allowed=ACTIVATIONS),),
    ),
    OpKind(
        "matmul",
        "a @ b of two activations",
        _in("a", "b"),
        ("output",),
        (Attr("transpose_a", "bool"), Attr("transpose_b", "bool")),
    ),
    OpKind(
        "layer_norm",
        "LayerNorm over the last dim",
        _in("input", "weight?", "bias?"),
        ("output",),
        (Attr("eps", "float", required=True),),
    ),
    OpKind(
        "rms_norm",
        "RMSNorm over the last dim",
        _in("input", "weight?"),
        ("output",),
        (Attr("eps", "float", required=True),),
    ),
    OpKind(
        "unary",
        "elementwise fn(input * scale)",
        _in("input"),
        ("output",),
        (Attr("fn", "str", required=True, allowed=UNARY_FNS), Attr("scale", "float")),
    ),
    OpKind(
        "binary",
        "elementwise a <fn> b, b a tensor or a scalar; `a_activation` applies to a first (SwiGLU)",
        _in("a", "b?"),
        ("output",),
        (
            Attr("fn", "str", required=True, allowed=BINARY_FNS),
            Attr("scalar", "float"),
            Attr("a_activation", "str", allowed=ACTIVATIONS),
        ),
        exactly_one=(("b", "scalar"),),
    ),
    OpKind(
        "softmax",
        "softmax along dim, after an optional scale",
        _in("input"),
        ("output",),
        (Attr("dim", "int"), Attr("scale", "float")),
    ),
    OpKind(
        "sdpa",
        "scaled dot-product attention over whole sequences, with an optional additive mask",
        _in("q", "k", "v", "mask?"),
        ("output",),
        (Attr("causal", "bool", required=True), Attr("scale", "float")),
    ),
    OpKind(
        "sdpa_decode",
        "one query row per user against the KV cache up to each user's position",
        _in("q", "k_cache", "v_cache", "positions"),
        ("output",),
        (Attr("scale", "float"),),
    ),
    OpKind(
        "create_heads",
        "split a fused QKV activation into q, k, v heads",
        _in("input"),
        ("q", "k", "v"),
        (
            Attr("num_heads", "int", required=True),
            Attr("num_kv_heads", "int", required=True),
            Attr("head_dim", "int", required=True),
        ),
    ),
    OpKind(
        "concat_heads",
        "merge heads back into one activation",
        _in("input"),
        ("output",),
        (Attr("num_heads", "int", required=True),),
    ),
    OpKind(
        "rotary_tables",
        "host-side cos and sin tables for the given positions",
        _in("positions"),
        ("cos", "sin"),
        (
            Attr("head_dim", "int", required=True),
            Attr("theta", "float", required=True),
            Attr("convention", "str", required=True, allowed=("pair", "half")),
            Attr("scaling", "mapping"),
        ),
    ),
    OpKind(
        "rotary",
        "rotary embedding; pair: adjacent pairs (rotary_embedding_llama), half: HF rotate-half",
        _in("input", "cos", "sin"),
        ("output",),
        (Attr("convention", "str", required=True, allowed=("pair", "half")),),
    ),
    OpKind("cache_fill", "write one user's whole prompt K or V into its cache slot", _in("cache", "input", "slot"), ()),
    OpKind("cache_update", "write one K or V row per user at its position", _in("cache", "input", "positions"), ()),
    OpKind("embedding", "rows of weight gathered by token ids", _in("input", "weight"), ("output",)),
    OpKind(
        "fold",
        "space-to-depth: stride_h x stride_w patches into channels",
        _in("input"),
        ("output",),
        (Attr("stride_h", "int", required=True), Attr("stride_w", "int", required=True)),
    ),
    OpKind("reshape", "same elements, new shape", _in("input"), ("output",), (Attr("shape", "shape", required=True),)),
    OpKind("permute", "reorder dims", _in("input"), ("output",), (Attr("dims", "int_list", required=True),)),
    OpKind(
        "transpose",
        "swap two dims",
        _in("input"),
        ("output",),
        (Attr("dim0", "int", required=True), Attr("dim1", "int", required=True)),
    ),
    OpKind(
        "slice",
        "a box of the input; with `start` (a runtime row), begins/ends along dim -2 count from it",
        _in("input", "start?"),
        ("output",),
        (Attr("begins", "shape", required=True), Attr("ends", "shape", required=True), Attr("steps", "shape")),
    ),
    OpKind(
        "concat",
        "join inputs along dim",
        (Port("inputs", variadic=True),),
        ("output",),
        (Attr("dim", "int", required=True),),
    ),
    OpKind(
        "chunk",
        "split into `parts` equal pieces along dim",
        _in("input"),
        (),
        (Attr("parts", "int", required=True), Attr("dim", "int", required=True)),
        variadic_outputs="parts",
    ),
    OpKind(
        "typecast",
        "convert the element type",
        _in("input"),
        ("output",),
        (Attr("dtype", "str", required=True, allowed=DTYPES),),
    ),
)

REGISTRY: dict[str, OpKind] = {k.name: k for k in KINDS}
assert len(REGISTRY) == len(KINDS), "op kinds must have unique names"


def kind_names() -> list[str]:
    return sorted(REGISTRY)
