"""render_module(graph) -> {relative path: text} for any graph the generic builder expanded (issue 8).

The builder recorded, per module function (a call path) and mode, its body: ops and calls, each op with the
values it reads and writes (Op.dataflow). This module turns that into view-models and templates/module/ prints
them: one class per module function, one straight-line method per mode, every config a name in configs.py that a
pass chose. An op is printed by its kind's macro with the values its kind's `render_args` gives (tttgen/ops/kinds/);
weights are laid out per the port that reads them (the kind's `weight_layouts`). The placement moves the builder added between decode ops are
printed where they sit (before their consumer, or after a producer of another scope) unless the reshard pass
elided them; a value an op wrote is deallocated after its last reader.

A module is entered through `Model.forward` on device tensors; a model (a description with a checkpoint format,
e.g. Llama) through the causal-LM entry points of templates/module/lm.py.j2: prompts padded to a prefill length,
one decode token per user slot, logits back on the host.
"""

from __future__ import annotations

import keyword
import math
from dataclasses import replace
from typing import Any

from tttgen.errors import InputError
from tttgen.ir.configs import ComputeKernelConfig
from tttgen.ir.graph import Graph, Op, frozen
from tttgen.inputs.hints import PAGED_PARAMS, paged_params
from tttgen.ops.kinds import kind_of
from tttgen.ops.kinds.base import ConfigTools, RenderTools
from tttgen.ops.kinds.linear import pads_columns
from tttgen.ops.registry import REGISTRY, weight_kn
from tttgen.render import literals as L
from tttgen.render.context import MemoryNames, jit_views, mode_variant_of, weight_pins
from tttgen.render.weight_code import key_expression, weight_source

PYTHON_FILES = ("__init__.py", "configs.py", "model.py", "weights.py")
LM_FILES = ("generate.py", "__main__.py")  # a causal LM's generate loop and its demo (`python -m <package>`)
RESERVED = {"self", "ttnn", "torch", "math", "C", "layer", "rows", "check_inputs"}  # names model.py itself uses
LAYER = "layer"  # the loop variable of a looped call in model.py


class KernelNames:
    """Each distinct compute-kernel config is one constant in configs.py, named after what it holds."""

    def __init__(self, cls: str) -> None:
        self.cls = cls
        self.by_config: dict[ComputeKernelConfig, str] = {}

    def __call__(self, cfg: ComputeKernelConfig | None) -> str:
        if cfg is None:
            return "None"
        if cfg not in self.by_config:
            parts = [cfg.math_fidelity.upper()]
            parts += ["APPROX"] if cfg.math_approx_mode else []
            parts += ["FP32ACC"] if cfg.fp32_dest_acc_en else []
            parts += ["PACKL1"] if cfg.packer_l1_acc else []
            parts += ["DSTSYNC"] if cfg.dst_full_sync_en else []
            self.by_config[cfg] = "KERNEL_" + "_".join(parts)
        return self.by_config[cfg]

    def definitions(self) -> list[dict[str, str]]:
        items = sorted(self.by_config.items(), key=lambda kv: kv[1])
        return [{"name": n, "value": L.kernel(c, self.cls)} for c, n in items]


def ident(name: str) -> str:
    """An op or call path as a Python identifier: `layers.attention.wqkv` -> `layers_attention_wqkv`."""
    return name.replace(".", "_")


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace(".", "_").split("_"))


def class_names(graph: Graph) -> dict[str, str]:
    """Each module function's (call path's) class: its description's class name (`class_name:`, else its name in
    CamelCase). Paths calling different functions under one name (two modules, or one module called at two places
    with its own configs each) are each named by their call path instead (`language.mlp` -> `LanguageMlp`)."""
    own = {fn["path"]: fn["class_name"] for fn in graph.facts["functions"]}
    taken: dict[str, list[str]] = {}
    for path, cls in own.items():
        taken.setdefault(cls, []).append(path)
    names = {path: cls if len(taken[cls]) == 1 else camel(path) for path, cls in own.items()}
    clashes: dict[str, list[str]] = {}
    for path, cls in names.items():
        clashes.setdefault(cls, []).append(path)
    clashes = {c: p for c, p in clashes.items() if len(p) > 1 or c == "Model"}
    if clashes:
        raise InputError(
            "generated class names clash: "
            + "; ".join(f"{c} for {', '.join(repr(p or graph.facts['module']) for p in ps)}" for c, ps in clashes.items()),
            where=f"{graph.facts['module']}: class_name",
            hint="give the called modules distinct `class_name:`s (`Model` is the package's entry class)",
        )
    return names


def mode_class(key: str) -> str:
    """A mode's configs class: its key in CamelCase (`Prefill128`, `Decode`, `DenoiseStep`)."""
    return "".join(part.capitalize() for part in key.split("_"))


def mode_rows(graph: Graph) -> dict[str, int]:
    """Each mode key's row count (its ops' rows), in mode order."""
    rows: dict[str, int] = {}
    for op in graph.ops:
        rows.setdefault(op.mode_key, op.seq)
    return rows


def mode_label(graph: Graph, key: str) -> str:
    """How the README's table lists a mode: a chosen name as it is, a prefill length by its rows, `decode`."""
    op = next(o for o in graph.ops if o.mode_key == key)
    return key if op.mode_name or op.mode == "decode" else str(op.seq)


def _unsupported(what: str, where: str) -> InputError:
    return InputError(
        f"{what} cannot be rendered by the module renderer yet",
        where=where,
        hint="kinds it prints: " + ", ".join(sorted(k.name for k in REGISTRY.values() if k.macro)),
    )


def check_renderable(graph: Graph, where: str | None = None) -> None:
    """Before any pass runs: every op and host op of the expanded module is one the renderer prints; all the
    others in one error."""
    module, found = graph.facts["module"], []
    by_name = {op.name: op for op in graph.ops}
    for fn in graph.facts["functions"]:
        for entry in fn["body"]:
            if "call" in entry:
                continue
            kind = by_name[entry["op"]].dataflow["kind"] if "op" in entry else entry["kind"]
            if REGISTRY[kind].macro is None:
                found.append(f"'{entry.get('op') or entry.get('host')}' ({kind})")
    if found:
        raise _unsupported("ops " + ", ".join(sorted(set(found))), where or module)


class Names:
    """Local value names of one method: description names, checked against what model.py uses itself. A host
    input that device steps read too is read by them as its uploaded copy, `<name>_device`."""

    def __init__(
        self, where: str, device_copies: frozenset[str] = frozenset(), layer_lists: frozenset[str] = frozenset()
    ) -> None:
        self.where = where
        self.device_copies = device_copies
        self.layer_lists = layer_lists  # inputs given as one device tensor per layer

    def host(self) -> "Names":
        return Names(self.where)

    def __call__(self, ref: Any) -> str:
        if isinstance(ref, dict):
            return f'self.w["{ref["weight"]}"]'
        base = ref.split("[", 1)[0]
        if keyword.iskeyword(base) or base in RESERVED:
            raise InputError(
                f"value name '{base}' is reserved in generated code",
                where=self.where,
                hint=f"reserved: {sorted(RESERVED)}",
            )
        if "[" in ref:  # state (the Model's KV caches) or an input's per-layer list, indexed by the layer loop
            return f"{base}[{LAYER}]" if base in self.layer_lists else f"self.{base}[{LAYER}]"
        return f"{ref}_device" if ref in self.device_copies else ref


# ---------------------------------------------------------------- one op


def op_view(graph: Graph, op: Op, name: Names, jit: dict[str, str | None]) -> dict[str, Any]:
    """What the op's macro prints: its values, attrs and the configs.py names of its decisions."""
    flow, kind = op.dataflow, kind_of(op)
    ins = {port: ([name(r) for r in ref] if isinstance(ref, list) else name(ref)) for port, ref in flow["in"].items()}
    outs = [name(o) for o in flow["out"]]
    decode = op.mode == "decode"
    view: dict[str, Any] = {
        "macro": kind.macro,
        "id": ident(op.name),
        "cfg": f"C.{mode_class(op.mode_key)}",
        "decode": decode,
        "out": outs[0] if outs else None,
        "outs": ", ".join(outs),
        "input": ins.get("input"),
        "weight": ins.get("weight"),
        "bias": ins.get("bias", "None"),
        "reads": [
            v for port, v in ins.items() for v in (v if isinstance(v, list) else [v]) if not v.startswith("self.")
        ],
        "writes": outs,
        "owned": not kind.aliases_input,
    }
    tools = RenderTools(
        dtype=L.dtype,
        jit=lambda op: jit_call_view(jit.get(op.name), name),
        pads_columns=pads_columns,
        unsupported=lambda what: _unsupported(what, graph.facts["module"]),
    )
    view.update(kind.render_args(op, ins, flow["attrs"], tools))
    return view


def jit_call_view(call: dict[str, Any] | None, name: Names) -> dict[str, Any]:
    """An elementwise op's part in a ttnn-jit block (tttgen/render/context.py jit_views): its block's last op
    calls the block with the block's inputs (what the step reads); an earlier op of the block is absorbed,
    printing a comment and reading and writing nothing, so its intermediate is never bound or deallocated."""
    if call is None:
        return {"jit": None, "jit_absorbed": False}
    if call["absorbed"]:
        return {"jit": call["block"], "jit_absorbed": True, "jit_root": ident(call["root"]), "reads": [], "writes": []}
    args = [name(r) for r in call["inputs"]]
    return {
        "jit": call["block"],
        "jit_absorbed": False,
        "jit_args": ", ".join(args),
        "reads": [a for a in args if not a.startswith("self.")],
    }


def host_view(entry: dict[str, Any], key: str, name: Names, shapes: dict[str, Any]) -> dict[str, Any]:
    """A host op (rotary tables): computed with torch from host inputs, its outputs moved to the device."""
    attrs = entry["attrs"]
    scaling = attrs.get("scaling") or {}
    scaling = (
        None
        if scaling.get("rope_type", "default") == "default"
        else {k: v for k, v in sorted(scaling.items()) if k != "rope_type"}
    )
    outs = [name(o) for o in entry["out"]]
    shape = list(shapes["out"][0])  # this mode's (the function body holds its first mode's)
    memory = f"C.{mode_class(key)}.rope_memory" if key == "decode" else "ttnn.DRAM_MEMORY_CONFIG"
    return {
        "macro": "rotary_tables",
        "positions": name(entry["in"]["positions"]),
        "cos": outs[0],
        "sin": outs[1],
        "head_dim": attrs["head_dim"],
        "theta": repr(float(attrs["theta"])),
        "scaling": repr(scaling),
        # rotary_embedding_llama's decode mode reads one table row per user as [1, users, 1, head_dim].
        "shape": [1, shape[-2], 1, shape[-1]] if key == "decode" else shape,
        "memory": memory,
        "reads": [],
        "writes": outs,
        "owned": True,
    }


class Renamed:
    """An op's value names with the values it reads through collectives renamed to the collectives' outputs."""

    def __init__(self, name: "Names", renamed: dict[str, str]) -> None:
        self.name, self.renamed = name, renamed

    def __call__(self, ref: Any) -> str:
        return self.renamed[ref] if isinstance(ref, str) and ref in self.renamed else self.name(ref)


def ccl_edges(graph: Graph, key: str) -> set[tuple[str, str]]:
    """(producer, reader) pairs of one mode that a collective joins: the moves on them are not printed (the
    collective writes straight into the reader's placement)."""
    edges = set()
    for op in graph.ops:
        reads = (op.decisions.get("mesh") or {}).get("reads") or {}
        if op.mode_key == key and reads:
            for port in reads:
                edges.add((op.dataflow["producers"][port], op.name))
    return edges


def collective_views(graph: Graph, op: Op, key: str, name: "Names") -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The collectives the parallelism pass put before `op` (each writing its own variable) and, per value the op
    reads through them, the variable it reads instead."""
    reads = (op.decisions.get("mesh") or {}).get("reads") or {}
    steps, renamed = [], {}
    by_key = {o.key: o for o in graph.ops if o.mode_key == key}
    moves = {
        (o.facts["src"], o.facts["dst"]): o
        for o in by_key.values()
        if o.kind == "reshard" and not o.decisions.get("elide")
    }
    for port, chain in sorted(reads.items()):
        ref = op.dataflow["in"][port]
        var = name(ref)
        move = moves.get((op.dataflow["producers"][port], op.name))
        for ccl_name in chain:
            ccl = by_key[f"{key}.{ccl_name}"]
            out = ident(ccl.name)
            if ccl.facts["dst"] == op.name:  # made here; a reader after the first reuses its output
                view = op_view(graph, replace(ccl, dataflow=frozen({"in": {}, "out": [], "attrs": {}})), name, {})
                memory = collective_memory(op, move, key)
                view.update(input=var, out=out, memory=memory, reads=[var], writes=[out], owned=True)
                steps.append(view)
            var = out
        renamed[ref] = var
    return steps, renamed


def collective_memory(reader: Op, move: Op | None, key: str) -> str:
    """Where a collective writes: the placement of the move it replaces; without one, the reader's own placement
    when it reads and writes the same one (a norm or an add on the residual: ttnn's norms take input and output in
    one buffer type); else DRAM."""
    if move is not None:
        return f"C.{mode_class(key)}.{ident(move.name)}_memory"
    d = reader.decisions
    if d.get("in0") is not None and d.get("in0") == d.get("out") and kind_of(reader).has_memory_config and not d.get("jit"):
        return f"C.{mode_class(key)}.{ident(reader.name)}_memory"
    return "ttnn.DRAM_MEMORY_CONFIG"


def move_view(op: Op, var: str) -> dict[str, Any]:
    return {
        "macro": "reshard",
        "var": var,
        "cfg": f"C.{mode_class(op.mode_key)}",
        "id": ident(op.name),
        "reads": [var],
        "writes": [var],
        "owned": True,
    }


# ---------------------------------------------------------------- classes and methods


def _moves(graph: Graph, key: str) -> tuple[dict[str, list[Op]], dict[str, list[Op]]]:
    """Printed moves of one mode: by consumer (printed before it) and by producer (printed after it)."""
    before: dict[str, list[Op]] = {}
    after: dict[str, list[Op]] = {}
    by_name = {op.name: op for op in graph.ops if op.mode_key == key}
    joined = ccl_edges(graph, key)
    for op in by_name.values():
        if op.kind != "reshard" or op.decisions.get("elide") or (op.facts["src"], op.facts["dst"]) in joined:
            continue
        src, dst = by_name[op.facts["src"]], by_name[op.facts["dst"]]
        (before.setdefault(dst.name, []) if src.scope == dst.scope else after.setdefault(src.name, [])).append(op)
    return before, after


def _moved_var(graph: Graph, move: Op, key: str, name: Names) -> str:
    """The local name of the value a move acts on, in the function it is printed in."""
    dst = graph.op(f"{key}.{move.facts['dst']}")
    src = graph.op(f"{key}.{move.facts['src']}")
    if src.scope != dst.scope:
        return name(src.dataflow["out"][0])
    port = next(p for p, n in dst.dataflow["producers"].items() if n == src.name)
    return name(dst.dataflow["in"][port])


def _with_deallocations(steps: list[dict[str, Any]], keep: set[str]) -> list[dict[str, Any]]:
    """Each value a step wrote (and owns) deallocated right after its last reader, unless the method returns it."""
    owned: set[str] = set()
    aliased: set[str] = set()
    last: dict[str, int] = {}
    for i, step in enumerate(steps):
        for v in step["reads"]:
            last[v] = i
            if not step["owned"]:
                aliased.add(v)
        for v in step["writes"]:
            (owned if step["owned"] else aliased).add(v)
    out = []
    for i, step in enumerate(steps):
        out.append(step)
        done = sorted(v for v, j in last.items() if j == i and v in owned and v not in aliased and v not in keep)
        out += [{"macro": "deallocate", "var": v} for v in done]
    return out


def _call_view(graph: Graph, entry: dict, fn_mode: str, key: str, name: Names) -> tuple[dict, dict]:
    attr = entry["call"].rsplit(".", 1)[-1]
    callee = next(f for f in graph.facts["functions"] if f["path"] == entry["call"] and f["mode"] == fn_mode)
    # a list: the per-layer slices the builder cut a stacked value into (one tensor per layer, as the callee takes)
    refs = [entry["in"][n] for n in callee["inputs"]]
    named = [[name(r) for r in ref] if isinstance(ref, list) else [name(ref)] for ref in refs]
    args = ["[" + ", ".join(names) + "]" if isinstance(ref, list) else names[0] for ref, names in zip(refs, named)]
    outs = [name(o) for o in entry["out"]]
    child = {"attr": attr, "cls": class_names(graph)[entry["call"]], "loop": entry["loop"]}
    view = {
        "macro": "call",
        "attr": attr,
        "method": key,
        "args": ", ".join(args),
        "outs": ", ".join(outs),
        "loop": None,
        "repeat": None,
    }
    view["reads"] = [a for names in named for a in names if not a.startswith("self.")]
    view["writes"] = outs
    view["owned"] = True
    loop = entry["loop"]
    if loop is not None:
        # The callee output named in `carry` feeds that input on the next iteration: the call's output variable
        # starts as the caller's value for the input and is passed and rebound in every iteration.
        loop_args, init = list(args), []
        for out, inp in sorted(loop["carry"].items()):
            var = outs[callee["outputs"].index(out)]
            i = callee["inputs"].index(inp)
            init.append((var, args[i]))
            loop_args[i] = var
        every = loop.get("every")
        if every is not None:
            # every period-th iteration (Gemma's global layers among its sliding ones) takes other inputs
            period = every["period"]
            for port, ref in sorted(every["in"].items()):
                i = callee["inputs"].index(port)
                alt = name(ref)
                loop_args[i] = f"{alt} if ({LAYER} + 1) % {period} == 0 else {loop_args[i]}"
                view["reads"].append(alt)
        count = f"C.{ident(loop['var']).upper()}_COUNT"
        view["loop"] = {"count": count, "init": init, "args": ", ".join(loop_args)}
    repeat = entry.get("repeat")
    if repeat is not None:
        # The same callee (one instance, its weights loaded once) called `count` times, the carried outputs fed
        # back as those inputs: a plain for loop, as tt_transformers writes loops whose iterations do not differ.
        rep_args, init = list(args), []
        for out, inp in sorted(repeat["carry"].items()):
            var = outs[callee["outputs"].index(out)]
            i = callee["inputs"].index(inp)
            init.append((var, args[i]))
            rep_args[i] = var
        view["repeat"] = {
            "count": f"C.{ident(attr).upper()}_REPEATS", "init": init, "args": ", ".join(rep_args)
        }
    return view, child


def _device_copies(fn: dict[str, Any], flows: dict[str, Any]) -> frozenset[str]:
    """Inputs of a function that a host op reads (so they come as torch tensors) and device steps read too."""
    host, device = set(), set()
    for entry in fn["body"]:
        ins = flows[entry["op"]]["in"] if "op" in entry else entry["in"]
        refs = [r for ref in ins.values() for r in (ref if isinstance(ref, list) else [ref])]
        (host if "host" in entry else device).update(r for r in refs if isinstance(r, str))
    return frozenset(host & device & set(fn["inputs"]))


def class_views(
    graph: Graph, jit_calls: dict[str, dict[str, str | None]]
) -> tuple[list[dict[str, Any]], str, dict[str, int], dict[str, int]]:
    """One class per module function, callees first; its methods, one per mode key of the function's mode.
    Also the loop counts (configs constants) by loop variable, and the repeated calls' counts by constant name."""
    module = graph.facts["module"]
    classes, loops, repeats = [], {}, {}
    classes_by_path = class_names(graph)
    rows_of = mode_rows(graph)
    decode_keys = {op.mode_key for op in graph.ops if op.mode == "decode"}
    for fn in graph.facts["functions"]:
        keys = [k for k in graph.mode_keys() if graph.facts["mode_variants"].get(k) == fn["mode"]]
        cls = classes_by_path[fn["path"]]
        existing = next((c for c in classes if c["name"] == cls), None)
        view = existing or {"name": cls, "doc": "", "children": [], "methods": []}
        copies = _device_copies(fn, {op.name: op.dataflow for op in graph.ops})
        lists = frozenset(n for k in keys for n in graph.facts["io"].get(k, {}).get("layer_lists", ()))
        own = lists if not fn["path"] else frozenset(fn.get("layer_lists", ()))
        name = Names(f"{module}: {fn['path'] or module}", copies, own)
        for key in keys:
            before, after = _moves(graph, key)
            dtypes = graph.facts["io"][key].get("dtypes", {}) if not fn["path"] else {}
            steps: list[dict[str, Any]] = [
                {
                    "macro": "upload",
                    "var": v,
                    "dtype": dtypes.get(v, "int32"),
                    "reads": [],
                    "writes": [f"{v}_device"],
                    "owned": True,
                }
                for v in sorted(copies)
            ]
            for entry in fn["body"]:
                if "call" in entry:
                    step, child = _call_view(graph, entry, fn["mode"], key, name)
                    if entry["loop"] is not None:
                        var, count = entry["loop"]["var"], entry["loop"]["count"]
                        if loops.setdefault(var, count) != count:  # one configs constant per loop var
                            raise InputError(
                                f"two looped calls name their loop var '{var}' but run {loops[var]} and {count} times",
                                where=f"{graph.name}: ops: loop.var",
                                hint="give each looped call its own `var` (its count becomes configs' <VAR>_COUNT)",
                            )
                    if step["repeat"] is not None:
                        const, count = step["repeat"]["count"].removeprefix("C."), entry["repeat"]["count"]
                        if repeats.setdefault(const, count) != count:  # one configs constant per repeated call
                            raise InputError(
                                f"repeated calls named '{const.removesuffix('_REPEATS').lower()}' run "
                                f"{repeats[const]} and {count} times (two modes or two callers)",
                                where=f"{graph.name}: ops: repeat.count",
                                hint="its count becomes one configs constant <NAME>_REPEATS: one count per call name",
                            )
                    if child not in view["children"]:
                        view["children"].append(child)
                    steps.append(step)
                    continue
                if "host" in entry:
                    shapes = graph.facts["host_shapes"][key][entry["host"]]
                    steps.append(host_view(entry, key, name.host(), shapes))
                    continue
                op = graph.op(f"{key}.{entry['op']}")
                steps += [move_view(m, _moved_var(graph, m, key, name)) for m in before.get(op.name, [])]
                ccl_steps, renamed = collective_views(graph, op, key, name)
                steps += ccl_steps
                steps.append(op_view(graph, op, Renamed(name, renamed), jit_calls.get(mode_variant_of(graph, op), {})))
                steps += [move_view(m, _moved_var(graph, m, key, name)) for m in after.get(op.name, [])]
            cut = fn.get("list_outputs", {})  # an output returned as per-layer slices of the value (the builder's cut)
            keep = {name(n) for n in fn["outputs"] if n not in cut} | {name(v) for names in cut.values() for v in names}
            returned = ["[" + ", ".join(name(v) for v in cut[n]) + "]" if n in cut else name(n) for n in fn["outputs"]]
            view["methods"].append(
                {
                    "name": key,
                    "args": ", ".join(name.host()(n) for n in fn["inputs"]),
                    "returns": ", ".join(returned),
                    "steps": _with_deallocations(steps, keep),
                    "doc": f"{fn['module']}, {'one decode step' if key in decode_keys else f'{rows_of[key]} rows'}.",
                }
            )
        called = f" (called as `{fn['path']}`)" if fn["path"] else ""
        view["doc"] = f"{fn['module']}{called}: {fn['doc']}"
        if existing is None:
            classes.append(view)
    _constructor_args(classes)
    return classes, classes_by_path[""], loops, repeats


# what a printed step reads besides its weights and values: the device (host tables and ids it uploads) and the
# rotary ops' transformation matrices (tt_transformers' `transformation_mats`, one per mode)
STEP_NEEDS = {"upload": "device", "rotary_tables": "device", "rotary": "transformation_mats"}
CONSTRUCTOR_ARGS = ("device", "transformation_mats")


def _constructor_args(classes: list[dict[str, Any]]) -> None:
    """Each class's constructor takes its weights and what it or a class it builds uses (no back-reference to the
    Model); it keeps as attributes what its own methods read. Classes come callees first."""
    by_name: dict[str, dict[str, Any]] = {}
    for view in classes:
        own = {STEP_NEEDS[s["macro"]] for m in view["methods"] for s in m["steps"] if s["macro"] in STEP_NEEDS}
        needs = own.union(*(by_name[c["cls"]]["needs"] for c in view["children"]))
        view["needs"] = needs
        view["kept"] = [a for a in CONSTRUCTOR_ARGS if a in own]
        view["params"] = ", ".join(["weights"] + [a for a in CONSTRUCTOR_ARGS if a in needs])
        for child in view["children"]:
            child["args"] = ", ".join(a for a in CONSTRUCTOR_ARGS if a in by_name[child["cls"]]["needs"])
        by_name[view["name"]] = view


# ---------------------------------------------------------------- configs


def mode_entries(graph: Graph, key: str, kernel_name: KernelNames, memory_name: MemoryNames) -> list[dict[str, str]]:
    """The configs.py attributes of one mode: per op, the configs its call passes."""
    entries: list[dict[str, str]] = []

    def add(name: str, value: str, comment: str = "", pinned: str = "") -> None:
        entries.append({"name": name, "value": value, "comment": comment, "pinned": pinned})

    by_key = {op.key: op for op in graph.ops}
    for op in graph.ops:
        if op.mode_key != key:
            continue
        d, i = op.decisions, ident(op.name)
        pinned = d.get("pinned") or {}
        pin = lambda field: f"pinned by {pinned['by']}" if field in pinned.get("fields", ()) else ""  # noqa: E731
        # named only where a call passes it: an elided reshard's placement must not become an unread config
        out = lambda d=d: memory_name(d["out"]) if d.get("out") is not None else "ttnn.DRAM_MEMORY_CONFIG"  # noqa: E731
        kind_of(op).config_entries(
            op,
            i,
            ConfigTools(
                add=add,
                kernel=kernel_name,
                memory=memory_name,
                out=out,
                pin=pin,
                matmul_program=L.matmul_program,
                norm_program=L.norm_program,
                sdpa_program=L.sdpa_program,
                by_key=by_key,
            ),
        )
    if key == "decode" and any(op.kind == "rotary" and op.mode == "decode" for op in graph.ops):
        heads = graph.facts["heads_placement"]
        if host_rope_tables(graph):
            add("rope_memory", memory_name(heads), "cos/sin: one [1, head_dim] row per user, one user per core")
        add("trans_mat_memory", memory_name(replace(heads, shard_shape=(32, 32))), "one rotation tile per user core")
    return entries


# ---------------------------------------------------------------- weights


def _weight_ports(graph: Graph) -> dict[str, tuple[str, str]]:
    """weight name -> (op kind, port) of the first op reading it: that port decides the weight's layout."""
    ports: dict[str, tuple[str, str]] = {}
    for op in graph.ops:
        for port, ref in op.dataflow.get("in", {}).items():
            for r in ref if isinstance(ref, list) else [ref]:
                if isinstance(r, dict):
                    ports.setdefault(r["weight"], (op.dataflow["kind"], port))
    for name in (graph.facts.get("sampler") or {}).get("start", {}).values():
        ports.setdefault(name, ("binary", "a"))  # the sampler's first value of a step input: an activation's tiles
    return ports


def weight_layout(reader: tuple[str, str]) -> str | None:
    """The layout a weight is stored in, from the (kind, port) of its first reader (None: no kind lays it out)."""
    kind = REGISTRY.get(reader[0])
    return kind.weight_layouts.get(reader[1]) if kind else None


def host_shape(shape: tuple[int, ...], layout: str) -> list[int]:
    """The shape a weight is handed to ttnn in: [1, 1, K, N] tiles, norm rows [1, 1, dim / 32, 32], or as declared."""
    k, n = weight_kn(shape)
    if layout == "tile":
        return [1, 1, k, n]
    if layout == "norm_rows":
        return [1, 1, n // 32, 32]
    return list(shape)


def host_weight_shapes(graph: Graph) -> dict[str, Any]:
    """Weight name -> the shape weights.host_weights gives it (what device_weights moves to the device); a looped
    call's weights as a list of per-layer dicts under the call's name, as weights.host_weights nests them."""
    ports = _weight_ports(graph)
    shapes = {w.name: host_shape(w.shape, weight_layout(ports[w.name])) for w in graph.weights if not w.per_layer}
    for attr, count in sorted({(w.loop, w.loop_count) for w in graph.weights if w.per_layer}):
        layer = {w.name: host_shape(w.shape, weight_layout(ports[w.name])) for w in graph.weights if w.loop == attr}
        shapes[attr] = [layer] * count
    return shapes


def weight_views(graph: Graph, memory_name: MemoryNames, where: str) -> list[dict[str, Any]]:
    ports, views = _weight_ports(graph), []
    for w in graph.weights:
        layout = weight_layout(ports.get(w.name, ("", "")))
        if layout is None:
            raise _unsupported(f"weight '{w.name}' read by {ports.get(w.name)}", where)
        var = f"w_{ident(w.name)}"
        lines = weight_source(var, w, layer="i")
        shape = host_shape(w.shape, layout)
        expr = var if shape == list(w.shape) else f"{var}.reshape({', '.join(map(str, shape))})"
        p = w.decisions["placement"]
        views.append(
            {
                "name": w.name,
                "fn": f"host_{ident(w.name)}",
                "per_layer": w.per_layer,
                "loop": w.loop,
                "lines": lines,
                "layout_expr": expr,
                "dtype": L.dtype(w.decisions["dtype"]),
                "layout": "ttnn.TILE_LAYOUT" if layout == "tile" else "ttnn.ROW_MAJOR_LAYOUT",
                "memory": memory_name(p),
                "note": f"{w.role}: {p.buffer} {p.layout.lower().replace('_', ' ')}, {list(w.shape)} from "
                + (", ".join(w.hf_names) or f"generated ({w.generator['kind']})"),
                "pinned": weight_pins(graph, w.name),
                "keys": [key_expression(k) for k in w.hf_names],
            }
        )
    return views


# ---------------------------------------------------------------- the whole package


def _lm_context(graph: Graph) -> dict[str, Any]:
    """What the causal-LM entry points print (models only): the serving limits, from the hints (their one home:
    the builder binds the description's same-named params from them), and what op_costs decided."""
    params = graph.facts["module_params"]
    sampling, trace = graph.facts["sampling_plan"], graph.facts["trace"]
    return {
        "trace_ops": trace["ops"],
        "trace_bytes_per_op": trace["bytes_per_op"],
        "trace_region_size": trace["region_bytes"],
        "decode_users": params["max_batch"],
        "max_seq_len": graph.hints.max_seq_len,
        "prefill_lens": list(graph.hints.prefill_lens),
        "kv_dtype": L.dtype(graph.facts["kv_dtype"]),
        "greedy_decode_us": f"{graph.facts['greedy_decode_ns'] / 1000:.1f}",
        "sampled_decode_us": f"{graph.facts['sampled_decode_ns'] / 1000:.1f}",
        "sampling": sampling,
        "sampling_chunks": repr(tuple(tuple(chunk) for chunk in sampling["chunks"])),
        "paged": _paged_geometry(graph) if graph.hints.paged else None,
        # the decode step's inputs and how each advances on device (the step_state pass)
        "step_inputs": [{**i, "ttnn_dtype": L.dtype(i["dtype"])} for i in graph.facts["step_state"]["inputs"]],
        "host_transfers": {
            tail: {**t, "transfer_us": f"{t['transfer_ns'] / 1000:.1f}", "read_us": f"{t['read_ns'] / 1000:.1f}"}
            for tail, t in graph.facts["decode_host_transfers"].items()
        },
    }


def _paged_geometry(graph: Graph) -> dict[str, int]:
    """The paged cache's sizes the entry points check page tables against, from the `paged` hint; the model's `paged`
    feature must declare them as params (its ops are sized by them)."""
    missing = [n for n in PAGED_PARAMS if n not in graph.facts["hint_params"]]
    if missing:
        raise InputError(
            f"the `paged` feature of {graph.facts['module']} has no params {missing}",
            where=f"{graph.facts['module']}.features.paged.params",
            hint=f"a paged model declares {', '.join(PAGED_PARAMS)} (bound from --paged's hints)",
        )
    return paged_params(graph.hints, graph.facts["decode_rows"])


# the causal-LM entry points' device inputs: token ids, the rotary table rows to gather (uint32), the KV-cache
# positions (decode), the user's slot and the tile holding the last prompt token (prefill); with a paged cache
# (--paged), the page tables (the user's, in prefill, and the blocks its chunk fills) and the chunk's first position
LM_INPUTS = {"prefill": ["tokens", "rope_rows", "slot", "last_tile"], "decode": ["tokens", "positions", "rope_rows"]}
PAGED_LM_INPUTS = {
    "prefill": ["tokens", "rope_rows", "page_table", "chunk_pages", "chunk_start", "last_tile"],
    "decode": ["tokens", "positions", "rope_rows", "page_table"],
}


def check_lm_inputs(graph: Graph, where: str) -> None:
    """templates/lm.py.j2 calls the top-level methods with these inputs, in this order."""
    expected = PAGED_LM_INPUTS if graph.hints.paged else LM_INPUTS
    for fn in graph.facts["functions"]:
        if fn["path"] == "" and fn["inputs"] != expected[fn["mode"]]:
            raise InputError(
                f"a model's {fn['mode']} inputs are {fn['inputs']}; the causal-LM entry points pass "
                f"{expected[fn['mode']]}",
                where=f"{where}: modes.{fn['mode']}.inputs",
                hint="declare those inputs, or drop `checkpoint:` to build it as a module with `forward`",
            )


def _state_views(graph: Graph) -> list[dict[str, Any]]:
    """KV caches: one DRAM tensor per layer and cache, zeros, in the KV-cache dtype."""
    states = []
    for fn in graph.facts["functions"]:
        if fn["path"] == "" and fn["state"]:
            for name in fn["state"]:
                states.append({"name": name, "shape": graph.facts["state_shapes"][name]})
            break
    return states


def host_rope_tables(graph: Graph) -> bool:
    """Whether a mode computes rotary tables on the host per call (a `rotary_tables` op, the only host op): then
    model.py needs its table helpers and decode the tables' placement."""
    return any("host" in e for fn in graph.facts["functions"] for e in fn["body"])


INTEGER_DTYPES = ("uint32", "int32")


def uses_torch(graph: Graph, is_lm: bool) -> bool:
    """Whether model.py's code calls torch: rotary helpers and host rotary tables, the LM entry points, KV-cache
    state, or a to_device that converts integer ids (`ids.to(torch.int32)`)."""
    integer_input = any(
        shape and io.get("dtypes", {}).get(name) in INTEGER_DTYPES
        for io in graph.facts["io"].values()
        for name, shape in io["inputs"].items()
    )
    rotary = any(op.kind == "rotary" for op in graph.ops) or host_rope_tables(graph)
    traced = (graph.facts.get("module_traces") or {}).get("traceable", False)  # warmup's zero inputs
    tokens = any("padding" in io for io in graph.facts["io"].values())
    return is_lm or integer_input or rotary or tokens or bool(_state_views(graph)) or traced


def tokens_view(graph: Graph, keys: list[str]) -> dict[str, Any] | None:
    """Model.forward_tokens of a description with `sizes.mask` or `sizes.axes`, as the builder's padding facts say:
    the axes it pads (each one's real length read from an input or derived, its mask, the input dim that holds its
    capacity), each input's and output's padded dims, and each size's capacities and modeled time (the README's
    bucket table)."""
    io = graph.facts["io"]
    first = io[keys[0]]
    padding = first.get("padding")
    if padding is None:
        return None
    design_dims = (((graph.facts.get("mesh") or {}).get("designs") or {}).get("inputs") or {}).get(keys[0], {})
    axes = padding["axes"]
    token = axes[0]["name"]  # the size param: its capacity is the size itself
    masks = [a["mask"] for a in axes if a["mask"]]
    times = graph.facts.get("mode_time_ns", {})

    def capacity(axis: str) -> str:
        return "size" if axis == token else f'built["{axis}"]'

    def nested(call: str, value: str, dims: list, limit) -> str:
        """`value` through `call` once per axis among `dims` ([dim, axis] pairs), in the axes' order."""
        for axis in [a["name"] for a in axes]:
            on = [d for d, a in dims if a == axis]
            if on:
                value = f"{call}({value}, {on}, {limit(axis)})"
        return value

    def held(key: str, axis: dict) -> int:
        if axis["holder"] is None:  # a derived length only outputs hold
            name, dim = axis["output_holder"]
            return io[key]["outputs"][name][dim]
        name, dim = axis["holder"]
        return io[key]["inputs"][name][dim]

    return {
        "args": ", ".join(n for n in first["inputs"] if n not in masks),
        "kwargs": ", ".join(f"{n}={n}" for n in first["inputs"] if n not in masks),
        "lengths_literal": "{" + ", ".join(f'"{a["name"]}": {a["name"]}' for a in axes) + "}",
        "masks": [{"name": a["mask"], "axis": a["name"], "capacity": capacity(a["name"])} for a in axes if a["mask"]],
        # each axis's real length: read from its holder's dim, or its derived expression
        "lengths": [
            {"name": a["name"], "value": a["length"] or f"{a['holder'][0]}.shape[{a['holder'][1]}]", "derived": bool(a["length"])}
            for a in axes
        ],
        "holders": {a["name"]: tuple(a["holder"]) for a in axes if a["holder"] is not None},
        "dims": {n: {d: a for d, a in dims} for n, dims in padding["inputs"].items() if dims},
        "others": [a["name"] for a in axes[1:]],
        "pads": [
            (n, nested("pad_tokens", n, dims, capacity)) for n, dims in padding["inputs"].items() if dims
        ],
        "cuts": [
            nested("cut_tokens", f"outs[{i}]", dims, lambda axis: axis) for i, dims in enumerate(padding["outputs"].values())
        ],
        # on a mesh a tensor whose designs share a host dim with a padded axis (a per-layer list's windows, the atom
        # biases' windows on dim 0 of an output) is padded and cut design by design
        "mesh_pads": [
            (n, per_design("pad_tokens", n, dims, design_dims.get(n, 0), nested, capacity))
            for n, dims in padding["inputs"].items() if dims
        ],
        "mesh_cuts": [
            per_design("cut_tokens", f"outs[{i}]", dims, 0, nested, lambda axis: axis)
            for i, dims in enumerate(padding["outputs"].values())
        ],
        "axes": [{"name": a["name"], "mask": a["mask"], "length": a["length"], "doc": a["doc"]} for a in axes],
        "sizes": [
            {
                "size": mode_rows(graph)[k],
                "capacities": [held(k, a) for a in axes[1:]],
                "us": f"{times.get(k, 0.0) / 1000:.1f}",
            }
            for k in keys
        ],
        "largest": {a["name"]: held(keys[-1], a) for a in axes},
    }


def per_design(call: str, value: str, dims: list, design_dim: int, nested, limit) -> str:
    """forward_tokens' padding or cutting (`call`) of `value` on a mesh: as on one chip unless a padded dim is its
    designs' host dim (`design_dim`: [.., designs * d, ..]), where the designs are unflattened first ([.., designs,
    d, ..]) so each is padded or cut on its own."""
    if all(d != design_dim for d, _ in dims):
        return nested(call, value, dims, limit)
    shifted = [[d + 1 if d >= design_dim else d, a] for d, a in dims]
    inner = nested(call, f"{value}.unflatten({design_dim}, (designs, -1))", shifted, limit)
    return f"{inner}.flatten({design_dim}, {design_dim + 1})"


def input_conversion(name: str, shape: list[int], io: dict[str, Any], designs: bool = False) -> str:
    """How Model.to_device hands one input to `forward`: a scalar as a host int, integer ids as a row-major uint32
    or int32 device tensor (what ttnn.embedding reads), anything else in the activation dtype. `designs`: a
    data-parallel mesh package, each chip given its own design (the mapper Model.__init__ makes)."""
    dtype = io.get("dtypes", {}).get(name, "bfloat16")
    mapper = ", mesh_mapper=self.design_mapper" if designs else ""
    if not shape:
        return f"int({name})"
    if name in io.get("layer_lists", ()):  # one device tensor per layer: the list a looped call indexes
        return (
            f"[ttnn.from_torch(x, dtype=C.ACTIVATION_DTYPE, layout=ttnn.TILE_LAYOUT, device=self.device, "
            f"memory_config=ttnn.DRAM_MEMORY_CONFIG{mapper}) for x in {name}]"
        )
    if dtype in INTEGER_DTYPES:
        return (
            f"ttnn.from_torch({name}.to(torch.int32), dtype=ttnn.{dtype}, layout=ttnn.ROW_MAJOR_LAYOUT, "
            f"device=self.device, memory_config=ttnn.DRAM_MEMORY_CONFIG{mapper})"
        )
    layout = io.get("layouts", {}).get(name, "tile").upper()
    return (
        f"ttnn.from_torch({name}, dtype=C.ACTIVATION_DTYPE, layout=ttnn.{layout}_LAYOUT, device=self.device, "
        f"memory_config=ttnn.DRAM_MEMORY_CONFIG{mapper})"
    )


def variant_entry(key: str, name: str, io: dict[str, Any], designs: bool = False) -> dict[str, Any]:
    """Model.to_device_<name> of a prefill variant forward does not serve (a `prefill_<param>` one's param, a chosen
    mode's name): its inputs converted as to_device converts them."""
    return {"name": name, "method": key, "args": ", ".join(io["inputs"]), **inputs_view(io, designs)}


def inputs_view(io: dict[str, Any], designs: bool = False) -> dict[str, Any]:
    """One mode's inputs as model.py and the README print them: to_device's conversions, the README example's torch
    expressions, and the input table."""
    inputs = io["inputs"].items()
    return {
        "conversions": [input_conversion(n, s, io, designs) for n, s in inputs],
        "example_torch": ", ".join(
            example_expression(io.get("examples", {}).get(n, "randn"), list(s)) for n, s in inputs
        ),
        "input_docs": [{"name": n, "shape": list(s), "doc": io.get("docs", {}).get(n, "")} for n, s in inputs],
    }


def sampler_view(
    sampler: dict[str, Any] | None,
    io: dict[str, Any],
    times: dict[str, float],
    emitted: dict[str, float],
    traceable: bool = False,
    variant_names: dict[str, str] | None = None,
    rows: dict[str, int] | None = None,
) -> dict[str, Any] | None:
    """The sampler method: its inputs (the step's, less those a weight starts), the loop's call and result, and the
    to_device entry that converts its mode's inputs (warmup() captures the sampler's trace from zeros through it)."""
    if sampler is None:
        return None
    key = sampler["mode_key"]
    inputs, outputs = list(io[key]["inputs"]), list(io[key]["outputs"])
    args = [n for n in inputs if n not in sampler["start"]]
    # each carried output rebinds the variable of the input it feeds; others get their own names
    out_vars = [sampler["carry"].get(o, f"{o}_last") for o in outputs]
    returns = sampler["carry"].get(sampler["returns"], f"{sampler['returns']}_last")
    return {
        "name": sampler["name"],
        "doc": sampler["doc"] or f"{key} run {sampler['count']} times, each call's outputs feeding the next.",
        "args": ", ".join(args),
        "checked": ", ".join(f"{n}={n}" for n in args),
        "rows": (rows or {})[key],
        "start": sorted(sampler["start"].items()),
        "count": f"C.{sampler['name'].upper()}_COUNT",
        "count_value": sampler["count"],
        "method": key,
        "call_args": ", ".join(inputs),
        "outs": ", ".join(out_vars) + ("," if len(out_vars) == 1 else ""),
        "returns": returns,
        "to_device": "to_device" + (f"_{variant_names[key]}" if key in (variant_names or {}) else ""),
        "modeled_us": f"{sampler['count']} x {key} = {sampler['count'] * times.get(key, 0.0) / 1000:.1f} us "
        + (f"(traced=True replays it as one trace; {sampler['count'] * emitted.get(key, 0.0) / 1000:.1f} us untraced)"
           if traceable else f"({sampler['count'] * emitted.get(key, 0.0) / 1000:.1f} us as run, untraced)"),
    }


def example_expression(kind: str, shape: list[int]) -> str:
    """The torch expression of an example input (tttgen/checking/verification.py's example_input builds the same)."""
    if kind == "arange":
        return f"torch.arange({math.prod(shape)}).reshape({shape})"
    if kind == "causal":
        return f"torch.full({shape}, -1e9).triu(1)"
    if kind == "assign":
        rows, cols = shape[-2], shape[-1]
        return f"torch.nn.functional.one_hot(torch.arange({rows}) * {cols} // {rows}, {cols}).float().reshape({shape})"
    return f"torch.{kind}({shape})"


def key_lines(views: list[dict]) -> list[str]:
    """The checkpoint-key expressions the weights read, each once, in load order."""
    return list(dict.fromkeys(k for w in views for k in w["keys"]))


def key_map_views(graph: Graph) -> list[dict[str, Any]]:
    """The description's `key_maps` as weights.py prints them: prefixes longest first (the first that matches a
    key applies), fallbacks as key expressions."""
    return [
        {
            "name": name,
            "doc": km["doc"],
            "prefixes": [(repr(p), repr(km["prefixes"][p])) for p in sorted(km["prefixes"], key=lambda p: (-len(p), p))],
            "fallbacks": [(repr(k), ", ".join(repr(f) for f in km["fallbacks"][k])) for k in sorted(km["fallbacks"])],
        }
        for name, km in graph.facts.get("key_maps", {}).items()
    ]


def loop_groups(layered: list[dict], loops: dict[str, int], classes: list[dict]) -> list[dict[str, Any]]:
    """Per looped call (its attribute), the per-layer weights weights.py loads for each iteration and the configs
    constant counting them."""
    var_of = {c["attr"]: c["loop"]["var"] for cls in classes for c in cls["children"] if c["loop"]}
    return [
        {
            "attr": attr,
            "quoted": f'"{attr}"',
            "count": f"C.{ident(var_of[attr]).upper()}_COUNT",
            "weights": [w for w in layered if w["loop"] == attr],
            "checkpoint_keys": key_lines([w for w in layered if w["loop"] == attr]),
        }
        for attr in sorted({w["loop"] for w in layered})
    ]


def module_context(graph: Graph, header: str, header_text: str, package: str, where: str) -> dict[str, Any]:
    memory_name = MemoryNames()
    kernel_name = KernelNames(graph.device.compute_kernel_config_class)
    module = graph.facts["module"]
    weights = weight_views(graph, memory_name, where)
    jit_blocks, jit_calls = jit_views(graph, memory_name)
    classes, top, loops, repeats = class_views(graph, jit_calls)
    modes = []
    for key in graph.mode_keys():
        total = graph.facts.get("mode_time_ns", {}).get(key, 0.0)
        modes.append(
            {
                "class_name": mode_class(key),
                "doc": f"{key}: configs per op; {total / 1000:.1f} us modeled device time per forward.",
                "entries": mode_entries(graph, key, kernel_name, memory_name),
            }
        )
    io = graph.facts["io"]
    variants = graph.facts.get("mode_variants", {})
    # forward serves the main variant's modes (`prefill` at each size, or a chosen mode's); another prefill variant
    # gets its own to_device_<name> and runs through its mode method (or the sampler): the builder chose which
    entries = graph.facts.get("mode_entries") or {"forward": "prefill", "to_device": {}}
    main = entries["forward"]
    rows_of = mode_rows(graph)
    first_key = next(k for k in graph.mode_keys() if variants.get(k, main) == main)
    input_names = list(io[first_key]["inputs"])
    decode_keys = {op.mode_key for op in graph.ops if op.mode == "decode"}  # by role, not by name
    prefill_keys = [k for k in graph.mode_keys() if k not in decode_keys and variants.get(k, main) == main]
    other_keys = [k for k in graph.mode_keys() if k not in decode_keys and variants.get(k, main) != main]

    # INPUT_SHAPES keys: forward's modes by their rows; a mode run by its own method by its rows too, unless another
    # mode runs at them (boltz2's condition and denoise_step at the trunk's n): then by its mode key
    taken = [rows_of[k] for k in prefill_keys + other_keys]
    shape_keys = {k: rows_of[k] for k in prefill_keys}
    shape_keys |= {k: rows_of[k] if taken.count(rows_of[k]) == 1 else k for k in other_keys}

    def shapes(keys: list[str]) -> list[tuple[int | str, dict[str, tuple]]]:
        return [(shape_keys[k], {n: tuple(s) for n, s in io[k]["inputs"].items()}) for k in keys]

    input_shapes = shapes(prefill_keys)
    # the input whose shape declares the mode's rows (the size param), preferring one with them at dim -2:
    # Model.forward picks the method by that dim (token ids [1, rows] have them at -1)
    rows_axes = io[first_key].get("rows_axes", {})
    size_input = min(rows_axes, key=lambda n: (rows_axes[n] != -2, input_names.index(n)), default=input_names[0])
    is_lm = not graph.entry.is_module
    if is_lm:
        check_lm_inputs(graph, where)
    params = [{"name": n, "value": repr(v)} for n, v in graph.params().items()]
    # Constants model.py reads: loop counts, and the params the causal-LM entry points check inputs against.
    constants = [{"name": f"{ident(var).upper()}_COUNT", "value": repr(count)} for var, count in sorted(loops.items())]
    constants += [{"name": name, "value": repr(count)} for name, count in sorted(repeats.items())]
    if graph.facts.get("sampler"):
        sm = graph.facts["sampler"]
        constants.append({"name": f"{sm['name'].upper()}_COUNT", "value": repr(sm["count"])})
    if is_lm:
        constants += [
            {"name": "VOCAB_SIZE", "value": repr(graph.facts["module_params"]["vocab_size"])},
            {"name": "MAX_SEQ_LEN", "value": repr(graph.hints.max_seq_len)},  # the hint's one home
        ]
    layered = [w for w in weights if w["per_layer"]]
    designs = "designs" in graph.facts.get("mesh", {})  # data parallel on a mesh: one design per chip
    return {
        "header": header,
        "header_text": header_text,
        "package": package,
        "module": module,
        "model_name": graph.name,
        "description": graph.facts["module_doc"],
        "usage": graph.facts.get("module_usage", ""),
        "device": graph.device,
        "params": params,
        "constants": constants,
        "activation_dtype": L.dtype(graph.facts["activation_dtype"]),
        "kv_dtype": L.dtype(graph.facts["kv_dtype"]) if any(op.kind.startswith("cache_") for op in graph.ops) else None,
        "input_shapes": [
            (repr(k), v) for k, v in sorted(input_shapes + shapes(other_keys), key=lambda e: (isinstance(e[0], str), e[0]))
        ],
        "named_shapes": any(isinstance(k, str) for k in shape_keys.values()),
        "layer_lists": any("layer_lists" in io[k] for k in graph.mode_keys()),
        "tokens": tokens_view(graph, prefill_keys),
        "variant_entries": [variant_entry(k, entries["to_device"][variants[k]], io[k], designs) for k in other_keys],
        "sampler": sampler_view(
            graph.facts.get("sampler"),
            io,
            graph.facts.get("mode_time_ns", {}),
            graph.facts.get("emitted_time_ns", {}),
            (graph.facts.get("module_traces") or {}).get("traceable", False),
            {k: entries["to_device"][variants[k]] for k in other_keys},
            {k: repr(v) for k, v in shape_keys.items()},
        ),
        "checkpoint_keys": sorted({k for w in graph.weights for k in w.hf_names}),
        "kernels": kernel_name.definitions(),
        "memory_configs": memory_name.definitions(),
        "weights": weights,
        "column_chunked": [
            {"name": w.name, "chunks": w.decisions["column_chunks"]}
            for w in graph.weights
            if w.decisions.get("column_chunks") is not None
        ],
        "global_weights": [w for w in weights if not w["per_layer"]],
        "global_keys": key_lines([w for w in weights if not w["per_layer"]]),
        "key_maps": key_map_views(graph),
        "layer_weights": layered,
        "loops": loop_groups(layered, loops, classes),
        "modes": modes,
        "classes": classes,
        "top_class": top,
        # what Model passes its base class's constructor besides the weights (names Model.__init__ binds)
        "top_args": "".join(", " + a for a in CONSTRUCTOR_ARGS if a in next(c for c in classes if c["name"] == top)["needs"]),
        "jit_blocks": jit_blocks,
        "rope": any(op.kind == "rotary" for op in graph.ops),
        "host_rope": host_rope_tables(graph),
        "states": _state_views(graph),
        "is_lm": is_lm,
        "lm": _lm_context(graph) if is_lm else None,
        # a module package's traces (the step_state pass decides whether its calls can replay one)
        "module_traces": graph.facts.get("module_traces"),
        "module_trace_region_size": graph.facts["trace"]["region_bytes"] if not is_lm else 0,
        "input_args": ", ".join(input_names),
        # forward's method: a chosen mode built at one size by its name, else `<variant>_<rows>` (`prefill_128`)
        "forward_literal": main if prefill_keys == [main] else None,
        "forward_stem": main,
        "input_names": repr(tuple(input_names)),
        "first_input": size_input,
        "rows_axis": rows_axes.get(size_input, -2),
        "imports_torch": uses_torch(graph, is_lm) or designs,
        "mode_list": ", ".join(mode_label(graph, k) for k in graph.mode_keys()),
        "mode_times": ", ".join(f"{k} {graph.facts['mode_time_ns'][k] / 1000:.1f} us" for k in graph.mode_keys()),
        # as the package runs them: untraced modes op by op (device or host dispatch bound), every call its host I/O
        "emitted_times": ", ".join(emitted_time_text(graph, k) for k in graph.mode_keys()),
        "example_inputs": ", ".join(input_names) + ("," if len(input_names) == 1 else ""),
        **inputs_view(io[first_key], designs),  # forward's: conversions, example_torch, input_docs
        "max_l1_kib": max((op.decisions.get("l1_bytes") or 0) for op in graph.ops) // 1024,
        "usable_l1_kib": graph.device.l1_budget // 1024,
        "precision": graph.hints.precision,
        "problems": list(graph.facts.get("problems", ())),
        "mesh": mesh_view(graph),
        # a data-parallel package's per-layer list inputs -> the host dim of their designs ({}: none, or not on a mesh)
        "design_lists": (designs_view(graph) or {}).get("lists", {}) if designs else {},
    }


def mesh_view(graph: Graph) -> dict[str, Any] | None:
    """How a mesh package opens its mesh, splits its weights and reads its outputs back (None on one chip): the
    parallelism pass's placements as ttnn's mesh mappers name them."""
    device = graph.device
    if device.chips == 1:
        return None
    mesh = device.mesh
    ports = _weight_ports(graph)
    splits, groups = [], []
    for w in graph.weights:
        m = w.decisions["mesh"]
        layout = weight_layout(ports.get(w.name, ("", "")))
        rank = len(host_shape(w.shape, layout))
        dims = tuple(weight_tensor_dim(s, layout, rank) for s in m["states"])
        if any(d is not None for d in dims):
            splits.append({"name": w.name, "dims": repr(dims)})
        if m.get("groups"):
            axis, widths = m["groups"]
            groups.append({"name": w.name, "value": repr((axis, tuple(widths)))})
    outputs = []
    for key in graph.mode_keys():
        for out in graph.facts["io"][key]["outputs"]:
            producer = next(
                (op for op in reversed(graph.ops) if op.mode_key == key and op.dataflow and out in op.dataflow["out"]), None
            )
            states = (producer.decisions.get("mesh") or {}).get("out", ("R", "R")) if producer else ("R", "R")
            dims = tuple(None if not s.startswith("S") else int(s[1:]) % 4 for s in states)
            entry = {"name": out, "dims": repr(dims), "split": [{"axis": a, "dim": d} for a, d in enumerate(dims) if d is not None]}
            if entry not in outputs:
                outputs.append(entry)
    residual = graph.facts["mesh"].get("residual")
    if residual:  # each decoder layer's output (verify compares it layer by layer)
        dims = tuple(None if not s.startswith("S") else int(s[1:]) % 4 for s in residual)
        outputs.append({"name": "residual", "dims": repr(dims), "split": []})
    along = [{"axis": a, "topology": x.topology.capitalize(), "links": x.links} for a, x in enumerate(mesh.axes)]
    return {
        "shape": repr(tuple(device.mesh_shape)),
        "fabric": mesh.fabric,
        "dispatch_type": mesh.dispatch_core_type,
        "dispatch_axis": mesh.dispatch_core_axis,
        "weight_splits": splits,
        "weight_groups": groups,
        "outputs": outputs,
        "logits": next((o for o in outputs if o["name"] == "logits"), None),
        "axes": along,
        "strategy": graph.facts["mesh"]["strategy"],
        "designs": designs_view(graph),
        "chosen": graph.facts["mesh"].get("chosen"),
        "baseline": graph.facts["mesh"].get("tt_transformers"),
    }


def designs_view(graph: Graph) -> dict[str, Any] | None:
    """A data-parallel module's design placement as the pass recorded it (None for tensor parallel): designs per
    call, the chip of each, and the inputs and outputs split on host dim 0."""
    placed = graph.facts["mesh"].get("designs")
    if placed is None:
        return None
    first = graph.mode_keys()[0]
    return {
        "per_call": placed["per_call"],
        "dim": placed["dim"],
        "chips": repr(tuple(tuple(c) for c in placed["chips"])),
        "chip_list": [{"design": i, "chip": tuple(c)} for i, c in enumerate(placed["chips"])],
        "inputs": list(placed["inputs"][first]),
        # inputs whose designs sit on another host dim than 0 (per-layer lists: dim 0 of each layer's tensor)
        "lists": {n: d for key in graph.mode_keys() for n, d in placed["inputs"][key].items() if d},
        "outputs": list(placed["outputs"][first]),
        "fill": placed["fill"],
        "single_us": f"{graph.facts['mesh']['dp_step_ns'] / 1000:.1f}",
        "tp_refused": graph.facts["mesh"].get("tp_refused"),
        "tp_us": None if graph.facts["mesh"].get("tp_step_ns") is None else f"{graph.facts['mesh']['tp_step_ns'] / 1000:.1f}",
    }


def weight_tensor_dim(state: str, layout: str | None, rank: int) -> int | None:
    """The dim of the host tensor weights.py hands ttnn that a weight state splits: a [k, n] weight's columns
    (S-1) are the last dim of every layout (norm rows [1, 1, dim / 32, 32]: the rows of 32), its rows (S-2) dim 2
    of [1, 1, K, N]."""
    if not state.startswith("S"):
        return None
    d = int(state[1:])
    if layout == "norm_rows" and d == -1:
        return 2
    return d % rank


def emitted_time_text(graph: Graph, key: str) -> str:
    """One mode's modeled time as the package runs it, with how it runs and its host traffic."""
    how = ["traced" if key in graph.facts["traced_modes"] else "untraced"]
    host = graph.facts["host_io_ns"][key]
    if host:
        how.append(f"host I/O {host / 1000:.1f} us")
    return f"{key} {graph.facts['emitted_time_ns'][key] / 1000:.1f} us ({', '.join(how)})"


def refuse_unplaceable_designs(graph: Graph) -> None:
    """A module package on a mesh runs one design per chip (the parallelism pass's `designs`); what it cannot split
    that way yet (host-int inputs, KV-cache state) is refused, naming it."""
    from tttgen.errors import UnsupportedTarget

    mesh = graph.facts["mesh"]
    placed = mesh.get("designs")
    problems = list(placed["unsupported"]) if placed else [f"{mesh['strategy'].replace('_', ' ')} module packages"]
    if problems:
        raise UnsupportedTarget(
            f"{graph.device.name} is a {graph.device.chips}-chip mesh: {graph.name} would run one design per chip, "
            f"but module packages on a mesh do not carry {'; '.join(problems)} yet",
            where=f"device_profiles/{graph.device.name}.yaml",
            hint=f"`tttgen explain {graph.name} --device {graph.device.name}` shows the placement; build for a single-chip profile",
        )


def render_module(
    graph: Graph, inputs: list, request: dict[str, Any] | None = None, extra_files=None
) -> dict[str, str]:
    """All files of one package, keyed by path relative to the package directory. extra_files: more files ({path:
    text}), or a function returning them (called while black formats, when a formatter is open)."""
    if graph.device.chips > 1 and graph.entry.is_module:
        refuse_unplaceable_designs(graph)
    from tttgen.render.emit import MANIFEST, dumps, environment, graph_document, header_line, manifest, package_name
    from tttgen.render.emit import start_format

    env = environment()
    header = header_line(inputs)
    where = inputs[0].label if inputs else graph.facts["module"]
    ctx = module_context(graph, header, header[2:], package_name(graph.name), where)
    names = PYTHON_FILES + (LM_FILES if ctx["is_lm"] else ())
    formatted = start_format({name: env.get_template(f"{name}.j2").render(ctx) for name in names})
    # black may be formatting in other processes now (emit.formatter): the rest of the package is written meanwhile
    files = {"README.md": env.get_template("README.md.j2").render(ctx), "graph.json": dumps(graph_document(graph))}
    files.update((extra_files() if callable(extra_files) else extra_files) or {})
    files.update(formatted())
    files[MANIFEST] = dumps(manifest(graph, inputs, files, request or {}))
    return dict(sorted(files.items()))
