"""The op-kind registry: every op kind a module description may use, declared once.

Per kind: its named inputs (required or optional; a variadic input takes a list of values), its outputs
(a fixed tuple of names, or variadic when the count comes from an attribute) and its attribute schema
(name, type, allowed values, required or not). Module descriptions are checked against this table
(tttgen/spec/module.py); nothing else lists op kinds. GRAPH (below) gives each kind's graph rule: its IR kind,
output shapes and facts, for the generic builder (tttgen/builder/expand.py).

RENDER_MACROS and WEIGHT_LAYOUTS (below) say how the renderer prints a kind (its macro in templates/ops.j2) and
lays out its weights. The decisions passes make, the cost-model entry and the emulator semantics are keyed by the
kind's IR kind in tttgen/passes/, tttgen/cost/ and tttgen/emulator/.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any, Callable, Literal

# Attribute types. Numeric and bool attributes may also be written as an expression over module params
# (e.g. `eps: rms_norm_eps`, `num_heads: num_attention_heads`); `shape` is a list of such expressions;
# `mapping` is a fixed set of named numbers (rope scaling); `str` takes one of `allowed` when it is given.
AttrType = Literal["int", "float", "bool", "str", "int_list", "shape", "mapping"]

ACTIVATIONS = ("none", "relu", "gelu", "silu", "sigmoid")
UNARY_FNS = ("relu", "gelu", "silu", "sigmoid", "tanh", "exp", "neg", "sqrt", "rsqrt", "reciprocal", "square", "cos")
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
        "one query row per user against the KV cache up to each user's position (paged: through page_table)",
        _in("q", "k_cache", "v_cache", "positions", "page_table?"),
        ("output",),
        (Attr("scale", "float"),),
    ),
    OpKind(
        "sdpa_chunked",
        "causal attention of one user's prompt chunk over its paged K/V cache, the chunk's first row at chunk_start",
        _in("q", "k_cache", "v_cache", "page_table", "chunk_start"),
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
    OpKind(
        "cache_fill",
        "write one user's prompt K or V into its cache slot, or (paged) into the blocks page_table lists",
        _in("cache", "input", "slot?", "page_table?"),
        (),
        exactly_one=(("slot", "page_table"),),
    ),
    OpKind(
        "cache_update",
        "write one K or V row per user at its position (paged: in the block page_table maps it to)",
        _in("cache", "input", "positions", "page_table?"),
        (),
    ),
    OpKind("embedding", "rows of weight gathered by token ids", _in("input", "weight"), ("output",)),
    OpKind(
        "fold",
        "space-to-depth of row-major NHWC pixels: one tile row per stride_h x stride_w patch (channels fastest)",
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


# ---------------------------------------------------------------- graph rules (the generic builder)
#
# Per kind, what tttgen/builder/expand.py needs to turn one op of a description into one op of the frozen IR:
# the IR kind the passes know it by, and `infer`: output shapes and the per-op facts passes read, from the
# shapes of the op's inputs (weights included, evaluated with the params) and its evaluated attrs. Activations
# are 4-D [1, heads or 1, rows, width]: `rows` is everything but the last dim, heads sit at dim -3.

WEIGHT_ROLES = ("EMBEDDING", "NORM", "WQKV", "WO", "FF1_FF3", "FF2", "LM_HEAD")  # precision groups of weights

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """Input shapes an op kind cannot take (the builder names the op)."""


@dataclass(frozen=True)
class Inferred:
    outputs: tuple[Shape, ...]
    facts: dict
    matmul: tuple[int, int, int] | None = None  # (m, k, n) of an op with a weight


@dataclass(frozen=True)
class GraphRule:
    ir_kind: str | None  # None: computed on the host when the package runs, no device op in the graph
    infer: Callable[[dict, dict], Inferred]
    # Weight role per input port when the description gives none (norm weights, embedding tables, biases).
    weight_roles: tuple[tuple[str, str], ...] = ()
    # Linear readers of one tensor are related: prefill row chunking reshapes the first reader's input and
    # later readers reuse it (`shares_input_with`); in decode their outputs are live in L1 at once
    # (`sibling_output_live`).
    shares_input: bool = False


def weight_kn(shape: Shape) -> tuple[int, int]:
    """A weight as the IR stores it, [k, n]: a 1-D weight (norm) is one row."""
    return (1, shape[0]) if len(shape) == 1 else (prod(shape[:-1]), shape[-1])


def _rows(shape: Shape) -> int:
    return prod(shape[:-1])


def _rows_dim(shape: Shape) -> dict:
    return {"rows": _rows(shape), "dim": shape[-1]}


def _same(port: str, **extra: Any) -> Callable[[dict, dict], Inferred]:
    """Output shaped like input `port`; facts rows/dim (plus the attrs named in extra)."""

    def infer(ins: dict, attrs: dict) -> Inferred:
        facts = _rows_dim(ins[port]) | {f: attrs[a] for f, a in extra.items() if a in attrs}
        return Inferred((ins[port],), facts)

    return infer


def _linear(ins: dict, attrs: dict) -> Inferred:
    x, (k, n) = ins["input"], weight_kn(ins["weight"])
    if x[-1] != k:
        raise ShapeError(f"input width {x[-1]} does not match the weight's {k} rows")
    act = attrs.get("activation", "none")
    return Inferred((x[:-1] + (n,),), {} if act == "none" else {"activation": act}, (_rows(x), k, n))


def _act_matmul(ins: dict, attrs: dict) -> Inferred:
    a, b = ins["a"], ins["b"]
    a = a[:-2] + (a[-1], a[-2]) if attrs.get("transpose_a") else a
    b = b[:-2] + (b[-1], b[-2]) if attrs.get("transpose_b") else b
    if a[-1] != b[-2]:
        raise ShapeError(f"a width {a[-1]} does not match b rows {b[-2]}")
    if b[:-2] != a[:-2] and prod(b[:-2]) != 1:
        raise ShapeError(f"b's batch dims {list(b[:-2])} neither match a's {list(a[:-2])} nor are all 1")
    out = a[:-1] + (b[-1],)
    facts = {"m": a[-2], "k": a[-1], "n": b[-1], "batch": prod(a[:-2]), "batch_b": prod(b[:-2])}
    return Inferred((out,), _rows_dim(out) | facts)


def _norm(ins: dict, attrs: dict) -> Inferred:
    x = ins["input"]
    for port in ("weight", "bias"):
        if port in ins and ins[port][-1] != x[-1]:
            raise ShapeError(f"{port} width {ins[port][-1]} does not match the input width {x[-1]}")
    return Inferred((x,), _rows_dim(x))


def _binary(ins: dict, attrs: dict) -> Inferred:
    act = attrs.get("a_activation", "none")
    fn = attrs["fn"] if act == "none" else f"{act}_{attrs['fn']}"  # e.g. silu_mul: SwiGLU in one kernel
    return Inferred((ins["a"],), _rows_dim(ins["a"]) | {"fn": fn})


def _heads(num_heads: int, num_kv_heads: int, head_dim: int) -> dict:
    return {"num_heads": num_heads, "num_kv_heads": num_kv_heads, "head_dim": head_dim}


def _sdpa(ins: dict, attrs: dict) -> Inferred:
    q, k = ins["q"], ins.get("k", ins.get("k_cache"))
    return Inferred((q,), _heads(q[-3], k[-3], q[-1]))


def _create_heads(ins: dict, attrs: dict) -> Inferred:
    x, nh, nkv, hd = ins["input"], attrs["num_heads"], attrs["num_kv_heads"], attrs["head_dim"]
    if x[-1] != hd * (nh + 2 * nkv):
        raise ShapeError(f"input width {x[-1]} != head_dim * (num_heads + 2 * num_kv_heads) = {hd * (nh + 2 * nkv)}")
    if len(x) != 4 or x[1] != 1:
        raise ShapeError(f"input {list(x)} is not [batch, 1, rows, width] (ttnn's nlp_create_qkv_heads)")
    b, rows = x[0], x[-2]
    return Inferred(((b, nh, rows, hd), (b, nkv, rows, hd), (b, nkv, rows, hd)), _heads(nh, nkv, hd))


def _concat_heads(ins: dict, attrs: dict) -> Inferred:
    x, nh = ins["input"], attrs["num_heads"]
    if x[-3] != nh:
        raise ShapeError(f"input has {x[-3]} heads, not num_heads {nh}")
    return Inferred(((x[0], 1, x[-2], nh * x[-1]),), {"num_heads": nh, "head_dim": x[-1]})


def _rotary_tables(ins: dict, attrs: dict) -> Inferred:
    table = (1, 1, prod(ins["positions"]), attrs["head_dim"])
    return Inferred((table, table), {})


def _rotary(ins: dict, attrs: dict) -> Inferred:
    x = ins["input"]
    return Inferred((x,), {"heads": x[-3], "head_dim": x[-1]})


def _cache_write(ins: dict, attrs: dict) -> Inferred:
    x, cache = ins["input"], ins["cache"]
    # a paged cache is [blocks, kv_heads, block_size, head_dim]: a user holds page_table's width of blocks
    held = cache[-2] * (ins["page_table"][-1] if "page_table" in ins else 1)
    if x[-2] > held:  # ttnn's update_cache: "Fill update_idx (0) + input tensor height ... must be <= cache height"
        raise ShapeError(f"writes {x[-2]} rows into a cache of {held} positions")
    return Inferred((), {"num_kv_heads": x[-3], "head_dim": x[-1]})


def _embedding(ins: dict, attrs: dict) -> Inferred:
    rows, dim = prod(ins["input"]), ins["weight"][-1]
    return Inferred(((1, 1, rows, dim),), {"rows": rows, "dim": dim})


def _fold(ins: dict, attrs: dict) -> Inferred:
    """[N, H, W, C] (row-major pixels) -> one row per patch, [1, 1, N * H/sh * W/sw, sh * sw * C] tiles."""
    n, h, w, c = ins["input"]
    sh, sw = attrs["stride_h"], attrs["stride_w"]
    if h % sh or w % sw:
        raise ShapeError(f"{h}x{w} is not divisible by the {sh}x{sw} stride")
    out = (1, 1, n * (h // sh) * (w // sw), c * sh * sw)
    if out[-1] % 32:
        raise ShapeError(f"a patch holds {out[-1]} values, not whole tiles: pad the channels ({c}) on the host")
    return Inferred((out,), _rows_dim(out))


def _reshape(ins: dict, attrs: dict) -> Inferred:
    shape = tuple(attrs["shape"])
    if prod(shape) != prod(ins["input"]):
        raise ShapeError(f"cannot reshape {list(ins['input'])} to {list(shape)}")
    return Inferred((shape,), {})


def _permute(ins: dict, attrs: dict) -> Inferred:
    x = ins["input"]
    if sorted(attrs["dims"]) != list(range(len(x))):
        raise ShapeError(f"dims {attrs['dims']} are not a permutation of {len(x)} dims")
    return Inferred((tuple(x[d] for d in attrs["dims"]),), {})


def _transpose(ins: dict, attrs: dict) -> Inferred:
    x = list(ins["input"])
    x[attrs["dim0"]], x[attrs["dim1"]] = x[attrs["dim1"]], x[attrs["dim0"]]
    return Inferred((tuple(x),), {})


def _slice(ins: dict, attrs: dict) -> Inferred:
    steps = attrs.get("steps") or [1] * len(attrs["ends"])
    out = tuple(-(-(e - b) // s) for b, e, s in zip(attrs["begins"], attrs["ends"], steps))
    if len(out) != len(ins["input"]) or min(out) <= 0:
        raise ShapeError(f"begins/ends {attrs['begins']}/{attrs['ends']} do not cut a box of {list(ins['input'])}")
    return Inferred((out,), _rows_dim(out))


def _concat(ins: dict, attrs: dict) -> Inferred:
    parts, dim = ins["inputs"], attrs["dim"]
    out = list(parts[0])
    out[dim] = sum(p[dim] for p in parts)
    return Inferred((tuple(out),), _rows_dim(tuple(out)))


def _chunk(ins: dict, attrs: dict) -> Inferred:
    x, parts, dim = list(ins["input"]), attrs["parts"], attrs["dim"]
    if x[dim] % parts:
        raise ShapeError(f"dim {dim} ({x[dim]}) does not split into {parts} equal parts")
    x[dim] //= parts
    return Inferred((tuple(x),) * parts, {})


NORM_ROLES = (("weight", "NORM"), ("bias", "NORM"))

GRAPH: dict[str, GraphRule] = {
    "linear": GraphRule("matmul", _linear, (("bias", "NORM"),), shares_input=True),
    "matmul": GraphRule("activation_matmul", _act_matmul),
    "layer_norm": GraphRule("layer_norm", _norm, NORM_ROLES),
    "rms_norm": GraphRule("rms_norm", _norm, NORM_ROLES),
    "unary": GraphRule("unary", _same("input", fn="fn")),
    "binary": GraphRule("eltwise", _binary),
    "softmax": GraphRule("softmax", _same("input")),
    "sdpa": GraphRule("sdpa_prefill", _sdpa),
    "sdpa_decode": GraphRule("sdpa_decode", _sdpa),
    "sdpa_chunked": GraphRule("sdpa_prefill", _sdpa),  # the passes plan it as prefill attention over its rows
    "create_heads": GraphRule("create_heads", _create_heads),
    "concat_heads": GraphRule("concat_heads", _concat_heads),
    "rotary_tables": GraphRule(None, _rotary_tables),
    "rotary": GraphRule("rotary", _rotary),
    "cache_fill": GraphRule("cache_fill", _cache_write),
    "cache_update": GraphRule("cache_update", _cache_write),
    "embedding": GraphRule("embedding", _embedding, (("weight", "EMBEDDING"),)),
    "fold": GraphRule("fold", _fold),
    "reshape": GraphRule("reshape", _reshape),
    "permute": GraphRule("permute", _permute),
    "transpose": GraphRule("transpose", _transpose),
    "slice": GraphRule("slice", _slice),
    "concat": GraphRule("concat", _concat),
    "chunk": GraphRule("chunk", _chunk),
    "typecast": GraphRule("typecast", _same("input")),
}
assert set(GRAPH) == set(REGISTRY), "every op kind needs a graph rule"


# ---------------------------------------------------------------- render rules (the module renderer)
#
# Per kind, how tttgen/render/module.py prints it: the macro of templates/module/ops.j2 that spells its ttnn call
# (None: the module renderer cannot print it yet, and says so), and the layout each weight port is stored in:
# "tile" ([1, 1, K, N] tiles: linear weights and biases), "norm_rows" (row-major [1, 1, dim / 32, 32]: the gamma
# and beta ttnn's norms read), "row_major" (as declared: embedding tables).

RENDER_MACROS: dict[str, str | None] = {
    "linear": "linear",
    "matmul": "matmul",
    "layer_norm": "layer_norm",
    "rms_norm": "rms_norm",
    "unary": "unary",
    "binary": "binary",
    "softmax": "softmax",
    "sdpa": "sdpa",
    "sdpa_decode": "sdpa_decode",
    "sdpa_chunked": "sdpa_chunked",
    "create_heads": "create_heads",
    "concat_heads": "concat_heads",
    "rotary_tables": "rotary_tables",
    "rotary": "rotary",
    "cache_fill": "cache_fill",
    "cache_update": "cache_update",
    "embedding": "embedding",
    "fold": "fold",
    "reshape": "reshape",
    "permute": "permute",
    "transpose": None,
    "slice": "slice",
    "concat": "concat",
    "chunk": None,
    "typecast": "typecast",
}
assert set(RENDER_MACROS) == set(REGISTRY), "every op kind needs a render rule (None when not printable yet)"

WEIGHT_LAYOUTS: dict[tuple[str, str], str] = {
    ("linear", "weight"): "tile",
    ("linear", "bias"): "tile",
    ("layer_norm", "weight"): "norm_rows",
    ("layer_norm", "bias"): "norm_rows",
    ("rms_norm", "weight"): "norm_rows",
    ("embedding", "weight"): "row_major",
    ("binary", "a"): "tile",  # a table added to activations (SigLIP's position embedding)
    ("binary", "b"): "tile",
}
