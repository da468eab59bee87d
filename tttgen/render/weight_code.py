"""Load-time weight transforms of module descriptions as straight-line torch code (issue 8).

The graph builder hands over each weight's checkpoint sources and transforms with every expression already
evaluated to an int (the plain-data form of tttgen/inputs/module.py's Weight, KeyPart and Transform);
`host_weight_source` turns them into Python statements that a generated weights.py runs on the host, between
reading the checkpoint and handing the tensor to ttnn. Pure: strings in, strings out.

Shapes are unknown here (a key names a tensor of some checkpoint), so only what the transform list itself fixes is
checked: ranks set by a reshape, the place of `concat`, and `rotary_permute` coming before any transpose.
"""

from __future__ import annotations

import json
import keyword
import math
import re
import string
from dataclasses import dataclass, replace
from typing import Any, Sequence

from tttgen.tiling import TILE

# kind -> the fields it carries besides "kind" (module.py's Transform union, expressions evaluated)
FIELDS = {
    "transpose": (),
    "concat": ("axis",),
    "rotary_permute": ("heads",),
    "reshape": ("shape",),
    "pad_to_tile": (),
    "scale": ("value", "rsqrt_of", "sqrt_of", "in_weight_dtype"),
    "pad_heads": ("heads", "axis", "multiple"),
    "permute": ("dims",),
    "offset": ("value",),
    "split": ("axis", "parts", "index"),
}
OPTIONAL_FIELDS = {"scale": ("rsqrt_of", "sqrt_of", "in_weight_dtype")}  # may be absent (or None) from an evaluated transform
DOTTED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
LAYER_PLACEHOLDER = "i"


@dataclass(frozen=True)
class _Known:
    """What generation time knows of the tensor held in `var`."""

    var: str
    rank: int | None = None  # fixed once a reshape gave the shape; a checkpoint tensor's rank is unknown
    transposed: bool = False  # a transpose was applied: dim 0 no longer holds Hugging Face's output rows


def host_weight_source(
    name: str,
    sources: Sequence[tuple[str, Sequence[dict]]],
    transforms: Sequence[dict],
    state: str = "state",
    layer: str = "i",
    generator: dict | None = None,
) -> list[str]:
    """Statements (unindented) that compute the torch tensor `name` from the checkpoint dict `state`.

    `sources`: (key template, that tensor's own transforms) per checkpoint tensor; "{i}" in a key is the layer
    index, read from the variable `layer`. `transforms` apply after the sources; with several sources the first one
    must be `concat`. Raises ValueError for a transform list that cannot be right whatever the tensor shapes.
    """
    _check_names(name, state, layer)
    where = f"weight '{name}'"
    if generator is not None:
        if sources:
            raise ValueError(f"{where}: a generated weight reads no checkpoint key")
        lines, known = generated_lines(name, dict(generator), where), _Known(name, rank=2)
        for n, t in enumerate(transforms):
            step, known = _transform_lines(_checked(t, f"{where}, transform {n}"), known, f"{where}, transform {n}")
            lines += step
        return lines + [f"{name} = {name}.contiguous()"]
    if not sources:
        raise ValueError(f"weight '{name}': no checkpoint key")
    transforms = [_checked(t, f"{where}, transform {n}") for n, t in enumerate(transforms)]
    if len(sources) == 1:
        key, own = sources[0]
        lines, known = _source_lines(name, key, own, state, layer, f"{where}, key '{key}'")
    else:
        if not transforms or transforms[0]["kind"] != "concat":
            raise ValueError(f"{where}: {len(sources)} checkpoint keys need `concat` as the first transform")
        lines, parts = [], []
        for n, (key, own) in enumerate(sources):
            part_lines, part = _source_lines(f"{name}_part{n}", key, own, state, layer, f"{where}, key '{key}'")
            lines += part_lines
            parts.append(part)
        concat, transforms = transforms[0], transforms[1:]
        known = _joined(name, parts, concat["axis"], f"{where}, transform 0")
        part_vars = ", ".join(p.var for p in parts)
        lines.append(f"{name} = torch.cat([{part_vars}], dim={concat['axis']})")
        lines.append(f"del {part_vars}")  # the parts are copies the fused weight no longer needs
    first = 1 if len(sources) > 1 else 0  # numbering as in the description, concat included
    for n, t in enumerate(transforms, start=first):
        step, known = _transform_lines(t, known, f"{where}, transform {n}")
        lines += step
    lines.append(f"{name} = {name}.contiguous()")
    return lines


def weight_source(var: str, weight: Any, state: str = "state", layer: str = "i") -> list[str]:
    """Statements computing `var` for one IR weight (duck-typed: hf_names, source_transforms, transforms,
    generator, parts): its own sources and transforms, or for a weight fused at load time (`parts`), each part so
    computed and the parts joined along the columns."""
    if weight.parts:
        lines, names = [], []
        for n, part in enumerate(weight.parts):
            names.append(f"{var}_part{n}")
            lines += weight_source(names[-1], part, state, layer)
        joined = ", ".join(names)
        return lines + [f"{var} = torch.cat([{joined}], dim=-1)", f"del {joined}", f"{var} = {var}.contiguous()"]
    sources = list(zip(weight.hf_names, [list(t) for t in (weight.source_transforms or ((),) * len(weight.hf_names))]))
    return host_weight_source(
        var,
        [(k, [dict(t) for t in ts]) for k, ts in sources],
        [dict(t) for t in weight.transforms],
        state=state,
        layer=layer,
        generator=dict(weight.generator) if weight.generator is not None else None,
    )


# ---------------------------------------------------------------- sources


def _source_lines(
    var: str, key: str, own: Sequence[dict], state: str, layer: str, where: str
) -> tuple[list[str], _Known]:
    """Read one checkpoint tensor into `var` and apply its own transforms."""
    lines = [f"{var} = {state}[{key_expression(key, layer)}]"]
    known = _Known(var)
    for n, t in enumerate(own):
        step, known = _transform_lines(_checked(t, f"{where}, transform {n}"), known, f"{where}, transform {n}")
        lines += step
    return lines, known


def key_expression(template: str, layer: str = "i") -> str:
    """A Python expression for a checkpoint key: an f-string reading `layer` when the key holds "{i}"."""
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError as err:
        raise ValueError(f"checkpoint key '{template}': {err}") from None
    literal, formatted, has_layer = "", "", False
    for text, field, spec, conversion in pieces:
        literal += text
        formatted += _escaped(text).replace("{", "{{").replace("}", "}}")
        if field is None:
            continue
        if field != LAYER_PLACEHOLDER or spec or conversion:
            raise ValueError(f"checkpoint key '{template}': only the layer placeholder {{i}} may remain in a key")
        formatted += "{" + layer + "}"
        has_layer = True
    return f'f"{formatted}"' if has_layer else f'"{_escaped(literal)}"'


def _escaped(text: str) -> str:
    # JSON's string escapes (\" \\ \n \uXXXX ...) mean the same in a Python string literal.
    return json.dumps(text, ensure_ascii=False)[1:-1]


# ---------------------------------------------------------------- generated constants


def generated_lines(v: str, g: dict, where: str) -> list[str]:
    """Statements computing a generated weight (tttgen/inputs/module.py's Generator, fields evaluated) as a 2-D
    float32 tensor in `v`: float64 on the host at load time, so bf16 on device rounds the result only once."""
    kind = g["kind"]
    f64 = "dtype=torch.float64"
    if kind in ("rope_cos", "rope_sin"):
        half = g["head_dim"] // 2
        if g["head_dim"] % 2 or half < 1:
            raise ValueError(f"{where}: rotary head_dim {g['head_dim']} is not a positive even number")
        fn = "cos" if kind == "rope_cos" else "sin"
        lines = [f"{v}_inv_freq = 1.0 / ({float(g['theta'])!r} ** (torch.arange(0, {2 * half}, 2, {f64}) / {2 * half}))"]
        rope_type = g.get("rope_type", "default")
        if rope_type == "llama3":
            lines += _llama3_scaling(f"{v}_inv_freq", g)
        elif rope_type != "default":
            raise ValueError(f"{where}: rope_type {rope_type!r} is not one of default, llama3")
        lines.append(f"{v} = torch.outer(torch.arange({g['positions']}, {f64}), {v}_inv_freq)")
        if g.get("convention", "half") == "pair":  # each frequency for both members of an adjacent pair
            return lines + [f"{v} = torch.repeat_interleave(torch.{fn}({v}), 2, dim=-1).float()"]
        return lines + [f"{v} = torch.{fn}(torch.cat([{v}, {v}], dim=-1)).float()"]  # split-half: both halves
    if kind == "sinusoid_steps":
        if g["dim"] % 2 or g["steps"] > g["rows"]:
            raise ValueError(f"{where}: sinusoid_steps needs an even dim and steps <= rows")
        if abs(g["dt"] * g["steps"] + 1.0) > 1e-9:  # the flow-matching schedule: t from 1 to 0 in `steps` steps
            raise ValueError(f"{where}: dt ({g['dt']}) must be -1 / steps ({g['steps']}): t runs from 1 to 0")
        lo, hi = float(g["min_period"]), float(g["max_period"])
        return [
            f"{v}_period = {lo!r} * ({hi / lo!r} ** torch.linspace(0.0, 1.0, {g['dim'] // 2}, {f64}))",
            f"{v}_time = 1.0 + {float(g['dt'])!r} * torch.arange({g['steps']}, {f64})",
            f"{v}_angle = {v}_time[:, None] * ({2 * math.pi!r} / {v}_period)[None, :]",
            f"{v} = torch.zeros({g['rows']}, {g['dim']})",
            f"{v}[: {g['steps']}] = torch.cat([torch.sin({v}_angle), torch.cos({v}_angle)], dim=-1).float()",
        ]
    if kind == "shift":
        by = g.get("by", 1)
        if not -g["size"] < by < g["size"]:
            raise ValueError(f"{where}: shift by {by} leaves nothing of [{g['size']}, {g['size']}]")
        return [f"{v} = torch.diag(torch.ones({g['size'] - abs(by)}), {by})"]
    if kind == "one_hot":
        if not 0 <= g["index"] < g["size"]:
            raise ValueError(f"{where}: one_hot index {g['index']} is outside [0, {g['size']})")
        return [f"{v} = torch.zeros({g['rows']}, {g['size']})", f"{v}[:, {g['index']}] = 1.0"]
    if kind == "row_mask":
        if not 0 <= g["begin"] < g["end"] <= g["rows"]:
            raise ValueError(f"{where}: row_mask rows [{g['begin']}, {g['end']}) are not inside [0, {g['rows']})")
        return [f"{v} = torch.zeros({g['rows']}, {g['width']})", f"{v}[{g['begin']} : {g['end']}] = 1.0"]
    if kind == "window_keys":
        w, h, k = g["queries"], g["keys"], g["windows"]
        if w % 2 or h % (w // 2) or (h // (w // 2)) % 2:
            raise ValueError(f"{where}: window_keys needs even queries ({w}) and keys ({h}) an even number of half-windows")
        slots = h // (w // 2)
        return [
            f"{v}_row = torch.arange({slots * k})",
            f"{v}_half = 2 * ({v}_row // {slots}) + {v}_row % {slots} - {slots // 2 - 1}",
            f"{v} = (torch.arange({2 * k})[None, :] == {v}_half[:, None]).float()",
        ]
    raise ValueError(f"{where}: unknown generated weight {kind!r}")


def _llama3_scaling(inv: str, g: dict) -> list[str]:
    """Llama-3's frequency scaling of `inv` (transformers' _compute_llama3_parameters): long wavelengths divided by
    factor, short ones kept, the band between interpolated."""
    old, low, high, factor = (
        float(g["original_max_position_embeddings"]),
        float(g["low_freq_factor"]),
        float(g["high_freq_factor"]),
        float(g["factor"]),
    )
    if high <= low:
        raise ValueError(f"llama3 rope scaling needs high_freq_factor ({high}) > low_freq_factor ({low})")
    return [
        f"{inv}_wavelen = {2 * math.pi!r} / {inv}",
        f"{inv}_smooth = ({old!r} / {inv}_wavelen - {low!r}) / {high - low!r}",
        f"{inv}_scaled = (1 - {inv}_smooth) * {inv} / {factor!r} + {inv}_smooth * {inv}",
        f"{inv}_scaled = torch.where({inv}_wavelen > {old / low!r}, {inv} / {factor!r}, {inv}_scaled)",
        f"{inv} = torch.where({inv}_wavelen < {old / high!r}, {inv}, {inv}_scaled)",
    ]


def generated_shape(g: dict) -> list[int]:
    """The [rows, cols] a generated weight's lines make (generated_lines)."""
    kind = g["kind"]
    if kind in ("rope_cos", "rope_sin"):
        return [g["positions"], g["head_dim"]]
    if kind == "sinusoid_steps":
        return [g["rows"], g["dim"]]
    if kind == "shift":
        return [g["size"], g["size"]]
    if kind == "one_hot":
        return [g["rows"], g["size"]]
    if kind == "window_keys":
        return [g["keys"] // (g["queries"] // 2) * g["windows"], 2 * g["windows"]]
    return [g["rows"], g["width"]]  # row_mask


# ---------------------------------------------------------------- transforms


def _transform_lines(t: dict, known: _Known, where: str) -> tuple[list[str], _Known]:
    """The statements applying transform `t` to `known.var`, and what is known of the result."""
    v, kind = known.var, t["kind"]
    if kind == "concat":
        raise ValueError(f"{where}: `concat` is only valid as the first transform after several checkpoint keys")
    if kind == "transpose":
        if known.rank is not None and known.rank < 2:
            raise ValueError(f"{where}: transpose swaps the last two dims; the tensor is {known.rank}-D")
        return [f"{v} = {v}.transpose(-2, -1)"], replace(known, transposed=True)
    if kind == "rotary_permute":
        if known.transposed:
            raise ValueError(
                f"{where}: rotary_permute permutes dim 0 (the rows of Hugging Face's [out, in] weight); "
                "put it before any transpose"
            )
        _check_rank_at_least(known, 1, kind, where)
        # Per head, row j and row j + head_dim / 2 (a rotate-half pair) become rows 2j and 2j + 1: the same
        # permutation as to_pair_order of the Llama package's weights.py (templates/weights.py.j2).
        return [f"{v} = {v}.reshape({t['heads']}, 2, -1, *{v}.shape[1:]).transpose(1, 2).reshape({v}.shape)"], known
    if kind == "reshape":
        return [f"{v} = {v}.reshape({list(t['shape'])})"], replace(known, rank=len(t["shape"]))
    if kind == "pad_to_tile":
        _check_rank_at_least(known, 1, kind, where)
        return _tile_padding(v, known.rank), known
    if kind == "scale":
        factor = float(t["value"])
        if t.get("rsqrt_of") is not None:
            factor /= math.sqrt(t["rsqrt_of"])
        if t.get("sqrt_of") is not None:
            factor *= math.sqrt(t["sqrt_of"])
        if t.get("in_weight_dtype"):
            return [f"{v} = {v} * torch.tensor({factor!r}, dtype={v}.dtype)"], known
        return [f"{v} = {v} * {factor!r}"], known
    if kind == "offset":
        return [f"{v} = {v} + {float(t['value'])!r}"], known
    if kind == "permute":
        if known.rank is not None and sorted(t["dims"]) != list(range(known.rank)):
            raise ValueError(f"{where}: permute dims {t['dims']} are not a permutation of {known.rank} dims")
        return [f"{v} = {v}.permute({list(t['dims'])}).contiguous()"], replace(known, rank=len(t["dims"]))
    if kind == "pad_heads":
        _check_axis(known, t["axis"], where)
        # [.., heads * d, ..] -> [.., heads, d, ..], pad d up to the multiple, merge back
        axis, heads, multiple = t["axis"], t["heads"], t["multiple"]
        return [
            f"{v}_shape = list({v}.shape)",
            f"{v} = {v}.reshape({v}_shape[:{axis}] + [{heads}, -1] + {v}_shape[{axis}:][1:])",
            f"{v}_pad = [0, 0] * ({v}.dim() - {axis} - 2) + [0, (-{v}.shape[{axis} + 1]) % {multiple}]",
            f"{v} = torch.nn.functional.pad({v}, {v}_pad)",
            f"{v} = {v}.reshape({v}_shape[:{axis}] + [-1] + {v}_shape[{axis}:][1:])",
        ], known
    # split: chunk gives `parts` equal chunks only when the dim divides evenly; sizes are unknown here
    _check_axis(known, t["axis"], where)
    return [f"{v} = {v}.chunk({t['parts']}, dim={t['axis']})[{t['index']}]"], known


def _tile_padding(v: str, rank: int | None) -> list[str]:
    """Zero padding of the last two dims (the only one of a 1-D tensor) up to whole tiles."""
    last = f"0, (-{v}.shape[-1]) % {TILE}"
    rows = f"0, (-{v}.shape[-2]) % {TILE}"
    if rank is not None:
        return [f"{v} = torch.nn.functional.pad({v}, ({last}{', ' + rows if rank > 1 else ''}))"]
    # Rank unknown (a bias or a norm is 1-D): pad's (left, right) pairs run from the last dim backwards.
    return [
        f"{v}_padding = [amount for size in reversed({v}.shape[-2:]) for amount in (0, (-size) % {TILE})]",
        f"{v} = torch.nn.functional.pad({v}, {v}_padding)",
    ]


def _joined(name: str, parts: list[_Known], axis: int, where: str) -> _Known:
    """What is known of torch.cat(parts): ranks must agree where known."""
    ranks = {p.rank for p in parts if p.rank is not None}
    if len(ranks) > 1:
        raise ValueError(f"{where}: concat of tensors of ranks {sorted(ranks)}")
    known = _Known(name, rank=ranks.pop() if ranks else None, transposed=any(p.transposed for p in parts))
    _check_axis(known, axis, where)
    return known


# ---------------------------------------------------------------- checks


def _checked(t: Any, where: str) -> dict:
    """`t` if it is a well-formed evaluated transform; ValueError naming what is wrong otherwise."""
    if not isinstance(t, dict) or not isinstance(t.get("kind"), str) or t["kind"] not in FIELDS:
        kind = t.get("kind") if isinstance(t, dict) else t
        raise ValueError(f"{where}: unknown transform {kind!r} (allowed: {', '.join(FIELDS)})")
    fields = set(t) - {"kind"}
    required = set(FIELDS[t["kind"]]) - set(OPTIONAL_FIELDS.get(t["kind"], ()))
    if not required <= fields <= set(FIELDS[t["kind"]]):
        raise ValueError(f"{where}: {t['kind']} takes fields {list(FIELDS[t['kind']])}, got {sorted(fields)}")
    ints = {k: t[k] for k in ("axis", "heads", "parts", "index") if k in t}
    for k, value in ints.items():
        if not _is_int(value):
            raise ValueError(f"{where}: {t['kind']}.{k} must be an int, got {value!r}")
    if t["kind"] == "rotary_permute" and t["heads"] < 1:
        raise ValueError(f"{where}: rotary_permute.heads must be positive, got {t['heads']}")
    if t["kind"] == "split" and not 0 <= t["index"] < t["parts"]:
        raise ValueError(f"{where}: split index {t['index']} is not one of {t['parts']} parts")
    if t["kind"] == "reshape":
        shape = t["shape"]
        if not isinstance(shape, (list, tuple)) or not all(_is_int(d) and d >= -1 for d in shape):
            raise ValueError(f"{where}: reshape.shape must be a list of ints (-1 at most once), got {shape!r}")
        if list(shape).count(-1) > 1:
            raise ValueError(f"{where}: reshape.shape {list(shape)} has more than one -1")
    if t["kind"] == "scale":
        value = t["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{where}: scale.value must be a finite number, got {value!r}")
    return t


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_rank_at_least(known: _Known, rank: int, kind: str, where: str) -> None:
    if known.rank is not None and known.rank < rank:
        raise ValueError(f"{where}: {kind} needs a tensor of at least {rank} dims; it is {known.rank}-D")


def _check_axis(known: _Known, axis: int, where: str) -> None:
    if known.rank is not None and not -known.rank <= axis < known.rank:
        raise ValueError(f"{where}: axis {axis} is out of range for a {known.rank}-D tensor")


def _check_names(name: str, state: str, layer: str) -> None:
    for what, value in (("weight variable", name), ("layer variable", layer)):
        if not value.isidentifier() or keyword.iskeyword(value):
            raise ValueError(f"{what} '{value}' is not a Python identifier")
    if not DOTTED_NAME.match(state) or any(keyword.iskeyword(part) for part in state.split(".")):
        raise ValueError(f"state '{state}' is not a (dotted) Python name")
    if name in (layer, state.split(".")[0]):
        raise ValueError(f"weight variable '{name}' would overwrite the state or layer variable")
