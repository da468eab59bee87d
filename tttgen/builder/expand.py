"""Module description -> the frozen op-graph IR, generically.

Every mode is expanded on its own: prefill once per prefill length (rows = that length) and decode with rows =
DECODE_ROWS. Calls are inlined with their parameter bindings and weight-key prefixes; a looped call is expanded
ONCE, its ops standing for every iteration (scope "layer", weights per_layer, the loop var written `{i}` in
checkpoint keys, as build.py does); a repeated call (`repeat`) is expanded once too, its weights shared and its ops'
`loop_count` multiplied by its count. Shapes are evaluated with the params and propagated op by op; each op's IR
kind (its name), output shapes, MatmulShape and facts come from its kind (tttgen/ops/kinds/<kind>.py: infer) — the
expander knows no model or op names.

Decode placement moves are added from the dataflow (tttgen/builder/moves.py); names are call paths, shortened
where unambiguous (short_names). Each op keeps its dataflow (Op.dataflow) and each module function its body
(graph fact `functions`) for the renderer. A callee's inputs take the shapes the callee declares (not yet matched
against the caller's).
"""

from __future__ import annotations

import ast
import copy
import re
import string
from math import prod
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from tttgen.builder.moves import decode_moves, rename
from tttgen.builder.structure import spec_op_facts
from tttgen.errors import InputError
from tttgen.ir.configs import MatmulShape
from tttgen.ir.facts import GraphFacts
from tttgen.ir.graph import Entry, Graph, Op, Weight, frozen
from tttgen.ops.registry import GRAPH, REGISTRY, WEIGHT_ROLES, ShapeError, weight_kn
from tttgen.inputs.device import DeviceProfile
from tttgen.inputs.hints import HINT_PARAMS, PAGED_PARAMS, Hints, hint_param_values
from tttgen.inputs.model import ModelSpec
from tttgen.inputs.module import (
    MODULE_DIR,
    ExprError,
    ModuleDescription,
    OpStep,
    base_files,
    eval_expr,
    find_module,
    load_module,
    mode_role,
    mode_variant,
    named_modes,
    parse_expr,
    read_module_lines,
    with_derived,
    sized_variants,
    variant_key,
)

# Params the builder binds when a description declares them: rows per mode, and the KV-cache size from hints.
ROWS = "rows"
DECODE_ROWS = 32  # decode activations are [1, 1, 32, dim]: users padded to one tile of rows
LOOP_INDEX = "{i}"  # how the IR writes the layer index in checkpoint keys (weights.py formats it)
_REF = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([A-Za-z_][A-Za-z0-9_]*)\])?$")


def _error(where: str, message: str, hint: str | None = None) -> InputError:
    return InputError(message, where=where, hint=hint)


MAX_DIM = 2**31 - 1  # no device tensor has a longer dim; bigger values are typos (and overflow the cost model)


class _Located(Exception):
    """A problem at a known place of a description file: (file, field path) -> `file:line:` when reported."""

    def __init__(self, source: Path | None, loc: tuple, message: str):
        super().__init__(message)
        self.source, self.loc, self.message = source, loc, message


def _dims(items: list, env: Mapping[str, Any], source: Path | None, loc: tuple) -> tuple[int, ...]:
    """A declared tensor shape, evaluated: every dim a positive int (the passes and the cost model divide by
    them), else a located problem."""
    try:
        shape = _shape(items, env, "")
    except InputError as err:
        raise _Located(source, loc, err.message) from None
    return _checked_dims(shape, source, loc, f"shape [{', '.join(str(item) for item in items)}]")


def _checked_dims(shape: tuple, source: Path | None, loc: tuple, what: str) -> tuple[int, ...]:
    bad = [d for d in shape if type(d) is not int or not 0 < d <= MAX_DIM]
    if bad:
        too_big = any(type(d) is int and d > 0 for d in bad)
        raise _Located(source, loc, f"{what} evaluates to {list(shape)}: a dim must be a positive int"
                       + (f" up to {MAX_DIM}" if too_big else ""))
    return shape


@dataclass(frozen=True)
class _Val:
    shape: tuple[int, ...]
    id: str  # which tensor this is (its definer), so two ops reading one tensor can be told apart from copies
    weight: str | None = None  # IR weight name when the value is a weight
    producer: str | None = None  # the device op that wrote it (None: an input, state, a weight or a host op)
    failed: bool = False  # its definition has a reported problem: readers are skipped, not reported again


class _Skip(Exception):
    """A step reads a value whose definition failed: its own check is meaningless, and it adds no problem."""


@dataclass
class _Mode:
    name: str  # its role: "prefill" | "decode" (what Op.mode carries and passes ask)
    rows: int
    variant: str = ""  # the top description's `modes` key this mode runs (`prefill_small`, `prefix`); its role when ""
    chosen: str = ""  # the mode key a description chose (`denoise_step`, or `prefix_544` at one of several sizes)
    ops: list[Op] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)  # op name -> where it was defined (duplicates)
    readers: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (tensor id, function) -> shares_input ops
    # producer of a looped call's input -> producers of the values some iterations take instead (loop.every)
    alternates: dict[str, list[str]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The mode key ops carry (Op.mode_key): a chosen one, else `decode` or `prefill_<rows>`."""
        return self.chosen or ("decode" if self.name == "decode" else f"prefill_{self.rows}")

    def variant_of(self, desc: ModuleDescription, env: Mapping[str, Any]) -> str:
        """The `modes` key of `desc` (the top description or a callee) this mode runs: a chosen mode's own name
        where `desc` has it, else the variant of its role at these rows (whose ops may be the module's own)."""
        if self.chosen and self.variant in desc.modes:
            return self.variant
        return variant_key(desc, self.name, self.rows, dict(env))

    def inputs_of(self, desc: ModuleDescription, env: Mapping[str, Any]) -> Mapping[str, Any]:
        """The inputs `desc` declares for the variant this mode runs: its `modes` entry's own, else the module's."""
        variant = desc.modes.get(self.variant_of(desc, env))
        return variant.inputs if variant and variant.inputs is not None else desc.inputs


def _fill(template: str, env: Mapping[str, Any], loop_var: str | None, where: str) -> str:
    """A key template with params filled in and the loop var kept as the IR's per-layer index."""
    out = []
    for text, name, _, _ in string.Formatter().parse(template):
        out.append(text)
        if name is None:
            continue
        if name == loop_var:
            out.append(LOOP_INDEX)
        elif name in env:
            out.append(str(env[name]))
        else:
            raise _error(where, f"unknown placeholder '{{{name}}}' in '{template}'")
    return "".join(out)


def _number(value: Any, env: Mapping[str, Any], where: str) -> Any:
    """An int/float attr or binding: a literal, a param (of any numeric type) or int arithmetic over params."""
    if not isinstance(value, str):
        return value
    if value in env:
        return env[value]
    try:
        return eval_expr(value, dict(env))
    except ExprError as err:
        raise _error(where, str(err)) from None


def _shape(items: list, env: Mapping[str, Any], where: str) -> tuple[int, ...]:
    return tuple(_number(item, env, where) for item in items)


class _Expander:
    def __init__(self, top: str, features: tuple[str, ...] = ()) -> None:
        self.top = top
        self.features = features  # build options every called module that declares them applies too
        self.layers = 1  # iterations of the (one level of) looped call
        self.loop = ("", 1)  # the looped call being expanded (its attribute name) and its count
        self.repeats = 1  # iterations of the repeated calls being expanded (shared weights), multiplied
        self.host_shapes: dict[str, dict[str, Any]] = {}  # mode key -> host op -> its input and output shapes
        self.called: set[Path] = set()  # description files of called modules (inputs of the build too)
        self.weights: dict[str, Weight] = {}
        self.weight_paths: dict[str, str] = {}
        # (mode, function path) -> the module function the renderer emits: its inputs, outputs and body
        self.functions: dict[tuple[str, str], dict[str, Any]] = {}
        self.sources: dict[str, Path] = {}  # module name -> its description file (for `file:line:` in problems)
        self.problems: dict[tuple[str, int], tuple[str, str]] = {}  # (file, line) -> (mode key, message)
        self.lines: dict[Path, Any] = {}
        self.mode_key = ""
        self.calls: list[tuple[Path | None, tuple]] = []  # the call steps being expanded, outermost first
        self.list_memo: dict[tuple[str, str, str], list[str]] = {}  # (module, folder, mode key) -> its list inputs

    def report(self, problem: _Located) -> None:
        """Keep a problem, once per line: another mode (prefill at each length, decode) repeats the same op."""
        from tttgen.inputs.load import _display

        if problem.source is None:
            label, line = self.top, 0
        else:
            if problem.source not in self.lines:
                self.lines[problem.source] = read_module_lines(problem.source)[1]
            label, line = _display(problem.source), self.lines[problem.source].line(problem.loc)
        earlier = self.problems.get((label, line))
        if earlier is None or (earlier[0] == self.mode_key and problem.message not in earlier[1].split("\n")):
            text = problem.message if earlier is None else f"{earlier[1]}\n{problem.message}"
            self.problems[(label, line)] = (self.mode_key, text)

    def raise_problems(self) -> None:
        """Every problem found, each as `file:line: message`, in one InputError (exit 2)."""
        if not self.problems:
            return
        rows = [(f, line, m) for (f, line), (_, text) in sorted(self.problems.items()) for m in text.split("\n")]
        body = "\n".join(f"  {f}:{line}: {m}" if line else f"  {f}: {m}" for f, line, m in rows)
        first = rows[0][0]
        raise InputError(f"{len(rows)} problem{'s' if len(rows) > 1 else ''}\n{body}", where=first)

    def qualified(self, path: str) -> str:
        """An op's or function's name relative to the top module: `fc1`, `layers.attention.wqkv`."""
        return path[len(self.top) + 1 :] if path.startswith(self.top + ".") else ""

    # ---- one module (or a callee) in one mode

    def module(
        self,
        desc: ModuleDescription,
        near: Path,
        env: dict[str, Any],
        mode: _Mode,
        inputs: dict[str, _Val],
        prefix: str,
        loop_var: str | None,
        path: str,
        scope: str | None,
    ) -> dict[str, _Val]:
        key = mode.variant_of(desc, env)
        variant = desc.modes.get(key)
        if variant is None and not desc.ops:  # a callee whose modes are all chosen ones, none of this one's name
            wanted = " or ".join(f"'{k}'" for k in dict.fromkeys([mode.variant or mode.name, key]))
            raise _error(path, f"module '{desc.name}' has no mode {wanted} and no `ops` to run in it",
                         f"its modes: {', '.join(desc.modes)}")
        steps = variant.ops if variant else desc.ops
        declared_in = variant.inputs if variant and variant.inputs is not None else desc.inputs
        declared_out = variant.outputs if variant and variant.outputs is not None else desc.outputs
        source = near / f"{desc.name}.yaml"  # the name matches the file's (spec/module.py checks it)
        source = source if source.exists() else None
        self.sources.setdefault(desc.name, source)
        steps_loc = ("modes", key, "ops") if variant else ("ops",)
        in_loc = ("modes", key, "inputs") if variant and variant.inputs is not None else ("inputs",)
        out_loc = ("modes", key, "outputs") if variant and variant.outputs is not None else ("outputs",)
        values: dict[str, _Val] = {}
        mismatched = []
        for name, t in declared_in.items():
            caller = inputs.get(name)
            try:
                shape = _dims(t.shape, env, source, in_loc + (name,))
            except _Located as problem:
                self.report(problem)
                values[name] = _Val((), f"{path}.{name}", failed=True)
                continue
            if caller is not None and not caller.failed and not _fits(caller.shape, shape):
                mismatched.append(
                    f"passes a value of shape {list(caller.shape)} where module '{desc.name}' declares input "
                    f"'{name}' as {list(shape)} (the widths, last dims, and element counts must agree)"
                )
            values[name] = _Val(
                shape,
                caller.id if caller else f"{path}.{name}",
                producer=caller.producer if caller else None,
                failed=caller is not None and caller.failed,
            )
        if mismatched:
            raise _error(path, "; ".join(mismatched))  # the caller reports it at its call
        for name, s in desc.state.items():
            try:
                values[name] = _Val(_dims(s.shape, env, source, ("state", name)), f"{path}.{name}")
            except _Located as problem:
                self.report(problem)
                values[name] = _Val((), f"{path}.{name}", failed=True)
        loops = [i for i, s in enumerate(steps) if s.op == "call" and s.loop is not None]
        lists = self.list_inputs(desc, near, env, mode)
        function = {
            "path": self.qualified(path),
            "mode": mode.variant or mode.name,  # every prefill length of one variant runs the same functions
            "module": desc.name,
            "class_name": desc.class_name or "".join(part.capitalize() for part in desc.name.split("_")),
            "doc": desc.description,
            "inputs": list(declared_in),
            "outputs": list(declared_out),
            "state": list(desc.state),
            "body": [],
        }
        if lists:  # inputs given as one device tensor per layer (a looped call indexes them, here or in a callee)
            function["layer_lists"] = lists
        self.functions.setdefault((function["mode"], function["path"]), function)
        body = function["body"] if self.functions[(function["mode"], function["path"])] is function else None
        for i, step in enumerate(steps):
            where = f"{path}.{step.name}"
            if scope is not None:
                here = scope
            elif not loops or (step.op == "call" and step.loop is not None):
                here = "layer"  # a module without a layer loop is one block, like a layer
            else:
                here = "embed" if i < loops[0] else "head"
            try:
                if step.op == "call":
                    self.calls.append((source, steps_loc + (i,)))
                    try:
                        entry = self.call(step, desc, near, env, mode, values, prefix, loop_var, where, here)
                    finally:
                        self.calls.pop()
                else:
                    entry = self.op(step, desc, env, mode, values, prefix, loop_var, where, here)
            except (_Located, InputError, _Skip) as problem:
                if isinstance(problem, _Located):
                    self.report(problem)
                elif isinstance(problem, InputError):
                    what = f"call '{step.name}' ({step.module})" if step.op == "call" else f"op '{step.name}' ({step.op})"
                    text = problem.message.removeprefix(f"{step.op}: ") + (f" ({problem.hint})" if problem.hint else "")
                    self.report(_Located(source, steps_loc + (i,), f"{what}: {text}"))
                outs = [step.out] if isinstance(step.out, str) else list(step.out or [])
                values.update({o: _Val((), f"{where}:{j}", failed=True) for j, o in enumerate(outs)})
                continue
            before = entry.pop("before", []) if isinstance(entry, dict) else []
            if body is not None:
                body.extend(before)  # the slices a call cut a stacked input into (cut_stacks)
                body.append(entry)
        missing = [n for n in declared_out if n not in values]
        if missing:
            raise _error(path, f"outputs {missing} are not defined in mode {mode.key}")
        for name, t in declared_out.items():
            # The declared shape is what the README and check_shapes promise: it must be what the ops compute.
            got = values[name]
            try:
                want = _dims(t.shape, env, source, out_loc + (name,))
            except _Located as problem:
                self.report(problem)
                continue
            if not got.failed and tuple(got.shape) != want and not self.qualified(path) and len(want) == len(got.shape) + 1:
                # a mode's output declared one tensor per layer: the stacked value it computes, cut (one slice each)
                what = f"output '{name}' computes {list(got.shape)} and is declared as"
                try:
                    names, entries = self.cut(name, tuple(got.shape), want, name, what, desc, env, mode, values,
                                              prefix, loop_var, f"{path}.{name}", scope or ("head" if loops else "layer"))
                except InputError as err:
                    self.report(_Located(source, out_loc + (name,), err.message))
                    continue
                if body is not None:
                    body.extend(entries)
                    function.setdefault("list_outputs", {})[name] = names
                values[name] = _Val(want, "|".join(names))
            elif not got.failed and tuple(got.shape) != want:
                self.report(
                    _Located(
                        source,
                        out_loc + (name,),
                        f"output '{name}' is declared {list(want)} but the ops compute {list(got.shape)}"
                        + f" (mode {mode.key})",
                    )
                )
        return {n: values[n] for n in declared_out}

    def argument(self, ref: str, values: dict[str, _Val], env: Mapping[str, Any], where: str) -> _Val:
        """A call input: a value, or an int param the callee takes as a scalar (a constant of generated code)."""
        if ref not in values and type(env.get(ref)) is int:
            return _Val((), f"const:{env[ref]}")
        return self.value(ref, values, where)

    @staticmethod
    def literal(ref: str, values: dict[str, _Val], env: Mapping[str, Any]) -> str:
        """How a call input is written in generated code: its value's name, or an int param's number."""
        return repr(env[ref]) if ref not in values and type(env.get(ref)) is int else ref

    def value(self, ref: str, values: dict[str, _Val], where: str) -> _Val:
        m = _REF.match(ref)
        if not m or m.group(1) not in values:
            raise _error(where, f"undefined value '{ref}'", f"allowed: {', '.join(sorted(values))}")
        val = values[m.group(1)]
        return replace(val, shape=val.shape[1:], id=f"{val.id}[]") if m.group(2) else val  # state by layer

    def weight(
        self, desc: ModuleDescription, name: str, port: str, kind: str, env, prefix: str, loop_var, where: str
    ) -> _Val:
        w, w_name = desc.weights[name], name
        shape = _dims(w.shape, env, self.sources.get(desc.name), ("weights", name, "shape"))
        role = w.role or dict(GRAPH[kind].weight_roles).get(port)
        if role is None:
            raise _error(
                f"{where}.in.{port}",
                f"weight '{name}' needs a `role` (its precision group)",
                f"allowed: {', '.join(WEIGHT_ROLES)}",
            )
        parts = [p if isinstance(p, str) else p.key for p in parts_of(w)]
        # (the IR name is set below)
        keys = tuple(prefix + _fill(k, env, loop_var, where) for k in parts)
        k, n = weight_kn(shape)
        sources = tuple(() if isinstance(p, str) else self.transforms(p.transforms, env, where) for p in parts_of(w))
        generator = None
        if w.generate is not None:
            try:
                generator = self.generator(w.generate, env, f"{where}.weights.{name}", shape, w.transforms)
            except InputError as err:
                where_w = ("weights", name, "generate")
                raise _Located(self.sources.get(desc.name), where_w, f"weight '{name}': {err.message}") from None
        # Named by the call path of its module, like ops (`ffn.fc1`); shortened later where unambiguous.
        name = self.qualified(f"{where.rsplit('.', 1)[0]}.{name}")
        ir = Weight(
            name,
            role,
            k,
            n,
            keys,
            loop_var is not None,
            source_transforms=sources,
            transforms=self.transforms(w.transforms, env, where),
            shape=shape,
            generator=generator,
            loop=self.loop[0] if loop_var is not None else "",
            loop_count=self.loop[1] if loop_var is not None else 1,
        )
        if name in self.weights and self.weights[name] != ir:
            raise _error(where, f"weight name '{name}' is also a different weight at {self.weight_paths[name]}")
        twin = next(
            (o for o in self.weights.values() if o.name != name and keys and (o.hf_names, o.transforms,
             o.source_transforms) == (ir.hf_names, ir.transforms, ir.source_transforms)),
            None,
        )
        if twin is not None:  # e.g. two calls of one module with the same weight_prefix: named at the outer call
            raise _Located(
                *(self.calls[0] if self.calls else (self.sources.get(desc.name), ("weights", w_name))),
                f"weight '{name}' reads checkpoint key(s) {', '.join(keys)} as weight '{twin.name}' does, the same "
                "way: one tensor loaded twice (two calls with the same weight_prefix?)",
            )
        self.weights.setdefault(name, ir)
        self.weight_paths.setdefault(name, where)
        return _Val(shape, f"weight:{name}", name)

    def generator(self, gen, env: Mapping[str, Any], where: str, shape, transforms) -> Mapping[str, Any]:
        """A generated weight's recipe with every field evaluated (params, int arithmetic), checked as its lines
        check it and, without transforms, against the weight's declared shape."""
        from tttgen.render.weight_code import generated_lines, generated_shape

        here = f"generate.{gen.kind}"
        recipe = {
            k: v if k == "kind" else env.get(v, v) if k in ("convention", "rope_type") else _number(v, env, here)
            for k, v in gen.model_dump().items()
        }
        try:
            generated_lines("w", recipe, here)  # its own checks (a mask row outside the tensor), at plan time
        except ValueError as err:
            raise _error(here, f"{here}: " + str(err).removeprefix(f"{here}: ")) from None
        made = generated_shape(recipe)
        if not transforms and list(shape) != made:
            raise _error(here, f"{here} makes a {made} tensor; the weight declares shape {list(shape)}")
        return frozen(recipe)

    def transforms(self, items, env: Mapping[str, Any], where: str) -> tuple[Mapping[str, Any], ...]:
        """Load-time transforms with every expression evaluated (heads, parts, reshape shapes)."""
        out = []
        for t in items:
            raw = t.model_dump()
            here = f"{where}.transforms.{raw['kind']}"
            out.append(
                frozen(
                    {
                        k: v if k == "kind" else list(_shape(v, env, here)) if k in ("shape", "dims") else _number(v, env, here)
                        for k, v in raw.items()
                    }
                )
            )
        return tuple(out)

    def attrs(self, kind_name: str, raw: dict, env: Mapping[str, Any], where: str) -> dict[str, Any]:
        kind, out = REGISTRY[kind_name], {}
        for name, value in raw.items():
            atype = kind.attr(name).type
            here = f"{where}.attrs.{name}"
            if atype in ("int", "float"):
                out[name] = _number(value, env, here)
            elif atype == "bool":
                out[name] = env[value] if isinstance(value, str) else value
            elif atype == "str":
                out[name] = value if value in kind.attr(name).allowed else env.get(value, value)
            elif atype == "shape":
                out[name] = list(_shape(value, env, here))
            elif atype == "mapping":
                out[name] = {k: env[v] if isinstance(v, str) else v for k, v in value.items()}
            else:
                out[name] = value
        return out

    def op(self, step, desc, env, mode: _Mode, values, prefix, loop_var, where: str, scope: str) -> None:
        rule = GRAPH[step.op]
        ins: dict[str, Any] = {}
        read: dict[str, _Val] = {}
        flow_in: dict[str, Any] = {}  # port -> a value's local name, or {"weight": IR weight name}
        for port, ref in step.in_.items():
            refs = ref if isinstance(ref, list) else [ref]
            vals = []
            for r in refs:
                if r in desc.weights:
                    vals.append(self.weight(desc, r, port, step.op, env, prefix, loop_var, where))
                else:
                    vals.append(self.value(r, values, f"{where}.in.{port}"))
            if any(v.failed for v in vals):
                raise _Skip()
            read[port] = vals[0]
            ins[port] = [v.shape for v in vals] if isinstance(ref, list) else vals[0].shape
            flows = [{"weight": v.weight} if v.weight else r for r, v in zip(refs, vals)]
            flow_in[port] = flows if isinstance(ref, list) else flows[0]
        attrs = self.attrs(step.op, step.attrs, env, where)
        try:
            info = rule.infer(ins, attrs)
        except ShapeError as err:
            raise _error(where, f"{step.op}: {err}", f"inputs: {ins}") from None
        outs = [step.out] if isinstance(step.out, str) else list(step.out or [])
        for out, shape in zip(outs, info.outputs):
            if any(type(d) is not int or not 0 < d <= MAX_DIM for d in shape):
                raise _error(where, f"makes '{out}' of shape {list(shape)}: a dim must be a positive int", f"inputs: {ins}")
        name = self.qualified(where)
        device_op = rule.device_op
        for j, (out, shape) in enumerate(zip(outs, info.outputs)):
            values[out] = _Val(tuple(shape), f"{where}:{j}", producer=name if device_op else None)
        dataflow = frozen(
            {
                "kind": step.op,
                # A weight is {"weight": name}; a value is its name in the module function.
                "in": flow_in,
                "out": outs,
                "attrs": attrs,
                "shapes": {"in": ins, "out": [list(shape) for shape in info.outputs]},
                # port -> the device op that wrote the value read there, for the decode moves (builder/moves.py)
                "producers": {port: v.producer for port, v in read.items() if v.producer is not None},
            }
        )
        if not device_op:
            self.host_shapes.setdefault(mode.key, {})[name] = dataflow["shapes"]  # the body holds the first mode's
            return {"host": name, **dataflow}  # computed on the host
        if name in mode.paths:
            raise _error(where, f"op name '{name}' is also used at {mode.paths[name]} in mode {mode.key}")
        mode.paths[name] = where
        if rule.shares_input and "input" in read:
            # readers share row chunks within one module function only: a callee cannot see its caller's chunks
            # (a diffusion layer's out_gate and its transition's out_proj both read s)
            mode.readers.setdefault((read["input"].id, where.rsplit(".", 1)[0]), []).append(len(mode.ops))
        weight = read["weight"].weight if "weight" in read else None
        facts = dict(info.facts)
        if "bias" in read and read["bias"].weight:
            facts["bias"] = read["bias"].weight  # its CB counts in the op's L1 (rules/l1.py)
        if loop_var is not None or self.repeats > 1:
            # runs once per iteration of its looped call, and of every repeated call around it (Op.runs)
            facts["loop_count"] = (self.loop[1] if loop_var is not None else 1) * self.repeats
        mode.ops.append(
            Op(
                name=name,
                kind=rule.name,
                mode=mode.name,
                seq=mode.rows,
                mode_name=mode.chosen,
                scope=scope,
                shape=MatmulShape(*info.matmul) if info.matmul else None,
                weight=weight,
                facts=frozen(facts),
                dataflow=dataflow,
            )
        )
        return {"op": name}

    def call(self, step, desc, near: Path, env, mode: _Mode, values, prefix, loop_var, where: str, scope: str) -> None:
        found = find_module(step.module, near)
        callee = load_module(found, self.features)
        self.called.update((found, *base_files(found)))  # a called description's bases are inputs too
        cenv = {n: p.default for n, p in callee.params.items() if p.default is not None}
        for pname, value in step.bind.items():
            ptype = callee.params[pname].type
            if ptype == "str":
                cenv[pname] = env[value] if isinstance(env.get(value), str) else value
            elif ptype == "bool":
                cenv[pname] = env[value] if isinstance(value, str) else value
            else:
                cenv[pname] = _number(value, env, f"{where}.bind.{pname}")
        # a param the call does not bind takes the caller's param (or named expression) of the same name
        cenv.update({n: env[n] for n in callee.params if n not in step.bind and _declares(desc, n) and n in env})
        try:
            cenv = with_derived(callee, cenv)
        except (ExprError, ZeroDivisionError) as err:
            raise _error(f"{where}.derived", str(err)) from None
        unbound = [n for n in callee.params if n not in cenv]
        if unbound:
            raise _error(where, f"params {unbound} of module '{step.module}' have no value")
        inner_var = loop_var
        if step.loop is not None:
            if loop_var is not None:
                raise _error(where, "a looped call inside a looped call", "the IR holds one level of per-layer ops")
            inner_var = step.loop.var
            self.layers = _number(step.loop.count, env, f"{where}.loop.count")
            self.loop = (step.name, self.layers)
        cprefix = prefix + _fill(step.weight_prefix, env, inner_var, f"{where}.weight_prefix")
        ins = {port: self.argument(ref, values, env, f"{where}.in.{port}") for port, ref in step.in_.items()}
        repeat = None
        if step.repeat is not None:
            count = _number(step.repeat.count, env, f"{where}.repeat.count")
            if type(count) is not int or count < 1:
                raise _error(f"{where}.repeat.count", f"count {count!r}: a repeated call runs a positive int of times")
            repeat = {"count": count, "carry": dict(step.repeat.carry)}
        cut, before = self.cut_stacks(step, callee, found.parent, cenv, mode, ins, values, prefix, loop_var, where, scope, desc)
        ins.update(cut)
        every = step.loop.every if step.loop is not None else None
        alternates = {}
        if every is not None:
            alternates = {p: self.argument(r, values, env, f"{where}.loop.every.in.{p}") for p, r in every.in_.items()}
            for port, val in alternates.items():
                if port in ins and not val.failed and not ins[port].failed and val.shape != ins[port].shape:
                    raise _error(
                        f"{where}.loop.every.in.{port}",
                        f"'{every.in_[port]}' has shape {list(val.shape)}, the call's '{step.in_[port]}' "
                        f"{list(ins[port].shape)}: the value an iteration takes instead must be shaped alike",
                    )
        if any(v.failed for v in [*ins.values(), *alternates.values()]):
            raise _Skip()
        for port, val in alternates.items():
            default = ins[port].producer if port in ins else None
            if default is not None and val.producer is not None and val.producer != default:
                mode.alternates.setdefault(default, []).append(val.producer)
        if repeat is not None:
            self.repeats *= repeat["count"]
        try:
            outs = self.module(callee, found.parent, cenv, mode, ins, cprefix, inner_var, where, scope)
        finally:
            if repeat is not None:
                self.repeats //= repeat["count"]
        if step.loop is not None:
            self.loop = ("", 1)
        for out_name, in_name in (repeat or {}).get("carry", {}).items():
            got, fed = outs.get(out_name), ins.get(in_name)
            if got is not None and fed is not None and not got.failed and not fed.failed and got.shape != fed.shape:
                raise _error(
                    f"{where}.repeat.carry.{out_name}",
                    f"carried output '{out_name}' is {list(got.shape)} but feeds input '{in_name}' given "
                    f"{list(fed.shape)}: a carried value keeps its shape",
                )
        names = [step.out] if isinstance(step.out, str) else list(step.out or [])
        for name, (_, val) in zip(names, outs.items()):
            values[name] = val
        loop = None
        if step.loop is not None:
            count = _number(step.loop.count, env, f"{where}.loop.count")
            loop = {"var": step.loop.var, "count": count, "carry": dict(step.loop.carry)}
            if every is not None:
                period = _number(every.period, env, f"{where}.loop.every.period")
                if period < 1:
                    raise _error(f"{where}.loop.every.period", f"period {period}: must be a positive int")
                loop["every"] = {"period": period, "in": {p: self.literal(r, values, env) for p, r in every.in_.items()}}
        return {
            "call": self.qualified(where),
            "module": callee.name,
            "in": {
                port: cut[port].id.split("|") if port in cut else self.literal(ref, values, env)
                for port, ref in step.in_.items()
            },
            "out": names,
            "callee_outputs": list(outs),
            "loop": loop,
            **({"repeat": repeat} if repeat else {}),
            **({"before": before} if before else {}),
        }


    def list_inputs(self, desc: ModuleDescription, near: Path, env: Mapping[str, Any], mode: _Mode) -> list[str]:
        """Inputs of `desc` in this mode that are one device tensor per layer: those a looped call indexes by its
        loop var (`bias[layer]`), and those passed whole to such an input of a called module."""
        key = mode.variant_of(desc, env)
        memo = (desc.name, str(near), key)
        if memo in self.list_memo:
            return self.list_memo[memo]
        variant = desc.modes.get(key)
        steps = variant.ops if variant and variant.ops is not None else desc.ops
        declared = mode.inputs_of(desc, env)
        out = set(_layer_lists(steps, declared))
        for step in steps:
            if step.op != "call" or step.loop is not None:
                continue
            try:
                found = find_module(step.module, near)
                callee = load_module(found, self.features)
            except InputError:
                continue  # reported where the call is expanded
            inner = self.list_inputs(callee, found.parent, env, mode)
            cdeclared = mode.inputs_of(callee, env)
            # passed on whole where its rank is the list's (a stacked value, one dim fewer, is cut: cut_stacks)
            out |= {
                ref for port, ref in step.in_.items()
                if port in inner and ref in declared and len(declared[ref].shape) == len(cdeclared[port].shape)
            }
        self.list_memo[memo] = sorted(out)
        return self.list_memo[memo]

    def cut_stacks(self, step, callee, near: Path, cenv, mode: _Mode, ins, values, prefix, loop_var, where, scope, desc):
        """A callee input that is one tensor per layer ([layers, *layer], a looped call indexes it) given one
        stacked tensor instead: the layers side by side along the one dim that is `layers` times the layer's
        (boltz2_diffusion_conditioning's token biases [1, depth * heads, n, n] for boltz2_diffusion_step's
        [depth, 1, heads, n, n]). Cut into one `slice` op per layer at the call, layer i the i-th block of that dim;
        the call passes the slices as the list. Returns port -> the list's value (its id the slices' names)."""
        lists = set(self.list_inputs(callee, near, cenv, mode))
        if not lists:
            return {}, []
        declared = mode.inputs_of(callee, cenv)
        out, before = {}, []
        for port, val in ins.items():
            if port not in lists or val.failed or port not in declared:
                continue
            want = _dims(declared[port].shape, with_derived(callee, dict(cenv)), None, ("inputs", port))
            given = tuple(val.shape)
            if given == want:
                continue  # a list passed on as it is
            what = f"passes a value of shape {list(given)} where module '{callee.name}' takes input '{port}' as"
            names, entries = self.cut(step.in_[port], given, want, f"{step.name}_{port}", what, desc, cenv, mode,
                                      values, prefix, loop_var, where, scope)
            before += entries
            out[port] = _Val(want, "|".join(names), producer=None)
        return out, before

    def cut(self, ref, given, want, stem, what, desc, env, mode: _Mode, values, prefix, loop_var, where, scope):
        """Value `ref` of shape `given` cut into the per-layer list `want` ([layers, *layer]): one `slice` op per
        layer (`<stem>_<i>`), layer i the i-th block of the one dim of `given` that is `layers` times the layer's.
        Returns the slices' names and their body entries; refused (naming `what`) unless exactly one dim is so."""
        layers, part = want[0], want[1:]
        dims = [
            d for d in range(len(given))
            if len(given) == len(part) and given[d] == layers * part[d]
            and all(g == p for i, (g, p) in enumerate(zip(given, part)) if i != d)
        ]
        if layers == 1 and len(dims) > 1:
            dims = dims[:1]  # one layer: the value itself, cut along any dim it could be stacked on
        if len(dims) != 1:
            raise _error(
                where,
                f"{what} one tensor per layer {list(want)}: a stacked value must hold the {layers} layers' "
                f"{list(part)} side by side along one dim",
            )
        d = dims[0]
        names, entries = [], []
        for i in range(layers):
            begins = [0] * len(part)
            begins[d] = i * part[d]
            ends = list(part)
            ends[d] = (i + 1) * part[d]
            name = f"{stem}_{i}"
            step = OpStep.model_validate(
                {"op": "slice", "name": name, "in": {"input": ref}, "out": name, "attrs": {"begins": begins, "ends": ends}}
            )
            entries.append(self.op(step, desc, env, mode, values, prefix, loop_var, where.rsplit(".", 1)[0] + "." + name, scope))
            names.append(name)
        return names, entries


def _derived_or_not(desc: ModuleDescription, env: dict) -> dict:
    """`env` with the named expressions that need no per-mode value (rows) evaluated."""
    try:
        return with_derived(desc, env)
    except ExprError:
        return env


def _declares(desc: ModuleDescription, name: str) -> bool:
    """A param or a named expression of the description (what a callee's same-named param defaults to)."""
    return name in desc.params or name in desc.derived


def _dataflow_facts(mode: _Mode) -> list[Op]:
    """Facts about linear ops reading one tensor (see OpKind.shares_input)."""
    ops = list(mode.ops)
    for idxs in mode.readers.values():
        if len(idxs) < 2:
            continue
        if mode.name == "prefill":
            for j in idxs[1:]:
                ops[j] = _with_facts(ops[j], shares_input_with=ops[idxs[0]].name)
        else:
            for j in idxs:
                ops[j] = _with_facts(ops[j], sibling_output_live=True)
    return ops


def _with_facts(op: Op, **facts: Any) -> Op:
    return replace(op, facts=frozen({**op.facts, **facts}))


def module_params(desc: ModuleDescription, params: Mapping[str, Any], hints: Hints) -> dict[str, Any]:
    """Defaults, then what the builder binds from hints (KV-cache size), then the caller's params."""
    unknown = sorted(set(params) - set(desc.params))
    if unknown:
        raise _error(desc.name, f"unknown params {unknown}", f"allowed: {', '.join(sorted(desc.params))}")
    env = {n: p.default for n, p in desc.params.items() if p.default is not None}
    builder = {"max_batch": DECODE_ROWS, **hint_param_values(hints, DECODE_ROWS)}
    env.update({n: v for n, v in builder.items() if n in desc.params})
    env.update(params)
    return env


def expand(
    desc: ModuleDescription,
    params: Mapping[str, Any],
    device: DeviceProfile,
    hints: Hints,
    *,
    reference: ModelSpec | None = None,
    near: Path | None = None,
) -> Graph:
    """The op graph of `desc` for every mode: prefill at each of hints.prefill_lens, then decode.

    `near` is the folder called modules are looked up in first (the description's own); `reference` is the model
    config `params` were bound from (a causal LM's), kept on the graph's entry for verification."""
    undeclared = [f for f in hints.features if f not in desc.features]
    if undeclared:
        raise _error(
            desc.name,
            f"has no feature {', '.join(repr(f) for f in undeclared)} (asked by --{undeclared[0]} or the hints)",
            f"its features: {', '.join(sorted(desc.features)) or 'none'}",
        )
    env = module_params(desc, params, hints)
    unbound = [n for n in desc.params if n not in env and n != (desc.sizes.param if desc.sizes else ROWS)]
    if unbound:
        raise _error(desc.name, f"params {unbound} have no value")
    # A module without state (no KV cache anywhere) and no decode variant has no decode step: it runs once per
    # prefill length, on that many rows.
    # state implies a decode step, unless the modes name prefill alone (PI0's prefix only fills its KV cache)
    roles = {mode_role(k, v) for k, v in desc.modes.items()}
    implied = _has_state(desc, near or MODULE_DIR) and roles != {"prefill"}
    decode = [("decode", DECODE_ROWS)] if "decode" in desc.modes or implied else []
    size_param = desc.sizes.param if desc.sizes else ROWS
    if desc.sizes:  # a bound value is the one size built; otherwise the description's defaults, not prefill_lens
        sizes = [env[size_param]] if size_param in env else sorted(set(desc.sizes.default))
    else:
        sizes = list(hints.prefill_lens)
    extra = sorted({env[p] for p in sized_variants(desc).values() if p in env})
    clash = [f"prefill_{p} ({env[p]})" for p in sized_variants(desc).values() if env.get(p) in sizes]
    if clash and (desc.modes.get("prefill") or desc.ops):
        raise _error(
            f"{desc.name}.modes",
            f"{', '.join(clash)} runs at a prefill length of `prefill` too ({sorted(sizes)}): one mode per row count",
        )
    modes = [("prefill", seq, "", "") for seq in sorted(set(sizes) | set(extra))] + [(n, r, "", "") for n, r in decode]
    modes = sorted(modes + _chosen_modes(desc, env, sizes), key=lambda m: (m[0] == "decode", m[1]))
    expander = _Expander(desc.name, hints.features)
    forward = _forward_variant(desc)
    ops: list[Op] = []
    io: dict[str, dict] = {}  # mode key -> the top module's input and output shapes
    variants: dict[str, str] = {}  # mode key -> the `modes` key it runs (`prefill`, `prefill_small`, `prefix`)
    prefill_rows: dict[str, int] = {}  # prefill mode key -> its rows
    for name, rows, chosen, chosen_variant in modes:
        menv = {**env, size_param: rows} if size_param in desc.params else env
        try:
            menv = with_derived(desc, menv)
        except (ExprError, ZeroDivisionError) as err:
            raise _error(f"{desc.name}.derived", str(err)) from None
        if chosen:
            mode = _Mode(name, rows, chosen_variant, chosen)
        elif mode_variant(desc, name, rows, menv) is None and not desc.ops:
            continue
        else:
            mode = _Mode(name, rows, variant_key(desc, name, rows, menv))
        variants[mode.key] = mode.variant
        # Model.forward tells its modes apart by their rows; a mode run by its own method (to_device_<name>) may
        # share them (boltz2's condition and denoise_step at the trunk's n)
        by_forward = name == "prefill" and (chosen_variant or "prefill") == forward
        same = [k for k, r in prefill_rows.items() if r == rows] if by_forward else []
        if same:  # the package's input checks (and forward) tell modes apart by their rows
            raise _error(f"{desc.name}.modes.{mode.variant or name}",
                         f"mode '{mode.key}' runs at {rows} rows, as '{same[0]}' does: one mode per row count")
        if by_forward:
            prefill_rows[mode.key] = rows
        expander.mode_key = mode.key
        outs = expander.module(desc, near or MODULE_DIR, menv, mode, {}, "", None, desc.name, None)
        if expander.problems:
            continue  # the other modes may show more problems; nothing below runs on a failed mode
        ops += _dataflow_facts(mode) if name == "prefill" else decode_moves(_dataflow_facts(mode), mode.alternates)
        variant = desc.modes.get(mode.variant_of(desc, menv))
        declared = variant.inputs if variant and variant.inputs is not None else desc.inputs
        io[mode.key] = {
            "inputs": {n: list(_shape(t.shape, menv, f"{desc.name}.inputs.{n}")) for n, t in declared.items()},
            "dtypes": {n: t.dtype or "bfloat16" for n, t in declared.items()},
            "docs": {n: t.doc for n, t in declared.items() if t.doc},
            "examples": {n: t.example for n, t in declared.items()},
            "layouts": {n: t.layout for n, t in declared.items()},
            # input -> the dim its shape declares as the mode's rows (the size param), counted from the end
            "rows_axes": {n: _rows_axis(t.shape, size_param) for n, t in declared.items() if size_param in t.shape},
            "outputs": {n: list(v.shape) for n, v in outs.items()},
        }
        lists = expander.list_inputs(desc, near or MODULE_DIR, menv, mode)
        if lists:
            io[mode.key]["layer_lists"] = lists
        if desc.sizes and desc.sizes.padded:
            outputs = variant.outputs if variant and variant.outputs is not None else desc.outputs
            io[mode.key]["padding"] = _padding(desc, menv, declared, outputs)
    expander.raise_problems()  # every problem of every mode, each at its file:line, before any IR is made
    for wname in sorted(desc.sampler.start.values()) if desc.sampler else ():
        # a value the sampler starts its loop from: loaded like an activation operand (tiles)
        try:
            expander.weight(desc, wname, "a", "binary", _derived_or_not(desc, env), "", None, f"{desc.name}.sampler")
        except _Located as problem:
            expander.report(problem)
    for problem in key_map_problems(desc, expander.weights.values(), expander.sources.get(desc.name)):
        expander.report(problem)
    expander.raise_problems()
    names = short_names([op.name for op in ops])
    weight_names = short_names(list(expander.weights))
    ops = [rename(op, names, weight_names) for op in ops]
    weights = [replace(w, name=weight_names.get(w.name, w.name)) for w in expander.weights.values()]
    functions = [
        {**f, "body": [{**e, "op": names.get(e["op"], e["op"])} if "op" in e else e for e in f["body"]]}
        for _, f in sorted(expander.functions.items(), key=_function_order(list(named_modes(desc))))
    ]
    if reference is not None:
        ops = spec_op_facts(ops, {w.name: w for w in weights}, reference)
    return Graph(
        name=reference.name if reference is not None else desc.name,
        entry=Entry(entry_kind(desc, reference), reference),
        device=device,
        hints=hints,
        ops=tuple(ops),
        weights=tuple(weights),
        facts=GraphFacts().updated(
            decode_rows=DECODE_ROWS,
            batch=hints.batch,
            module=desc.name,
            module_doc=desc.description,
            module_usage=desc.usage,
            # the hint-owned params (max_seq_len, the paged geometry) have one home, graph.hints: only their names here
            module_params={n: v for n, v in sorted(env.items()) if n not in (ROWS, size_param, *HINT_PARAMS)},
            hint_params=tuple(n for n in HINT_PARAMS if n in desc.params),
            precision_policy={k: v.model_dump() for k, v in sorted(desc.precision.items())},
            size_param=size_param,
            io=io,
            mode_variants=variants,
            mode_entries=_mode_entries(desc, variants),
            sampler=_sampler_facts(desc, env, variants, io),
            host_shapes=expander.host_shapes,
            called_files=tuple(sorted(str(f) for f in expander.called)),
            state_shapes={
                n: list(_shape(st.shape, env, f"{desc.name}.state.{n}")) for n, st in desc.state.items()
            },
            functions=tuple(functions),
            **key_map_facts(desc),
        ),
    )


def _forward_variant(desc: ModuleDescription) -> str:
    """The `modes` key Model.forward serves, as _mode_entries chooses it among the variants a build makes."""
    if "prefill" in desc.modes or desc.ops:
        return "prefill"
    return next((k for k, v in named_modes(desc).items() if v.rows is None), "prefill")


def _mode_entries(desc: ModuleDescription, variants: dict[str, str]) -> dict[str, Any]:
    """Which `modes` key Model.forward serves (`prefill` at each size, or the first chosen mode without its own
    `rows`, else the first mode built) and the to_device_<name> entry of each other prefill variant (a
    `prefill_<param>` one's param, a chosen mode's name)."""
    built = list(dict.fromkeys(variants.values()))
    per_size = [k for k, v in named_modes(desc).items() if v.rows is None and k in built]
    main = "prefill" if "prefill" in built else (per_size or built or ["prefill"])[0]
    params = sized_variants(desc)
    return {
        "forward": main,
        "to_device": {v: params.get(v, v) for v in built if v not in (main, "decode")},
    }


def _chosen_modes(desc: ModuleDescription, env: Mapping[str, Any], sizes: list[int]) -> list[tuple[str, int, str, str]]:
    """The modes a description named (`prefix`, `denoise_step`): (role, rows, mode key, `modes` key) each. One with
    `rows:` runs once at that count; one without runs at every size, keyed by its name alone at one size and
    `<name>_<rows>` at several."""
    out = []
    for name, variant in named_modes(desc).items():
        if variant.rows is not None:
            try:
                names = with_derived(desc, dict(env))
            except (ExprError, ZeroDivisionError):
                names = dict(env)  # a named expression over the sizes' param: `rows` may use params only
            counts = [_number(variant.rows, names, f"{desc.name}.modes.{name}.rows")]
            if type(counts[0]) is not int or counts[0] <= 0:
                raise _error(f"{desc.name}.modes.{name}.rows", f"rows {variant.rows!r} evaluates to {counts[0]}: a "
                             "mode's row count is a positive int")
        else:
            counts = sorted(set(sizes))
        role = mode_role(name, variant)
        out += [(role, n, name if len(counts) == 1 else f"{name}_{n}", name) for n in counts]
    keys = [key for _, _, key, _ in out]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise _error(f"{desc.name}.modes", f"mode key {', '.join(twice)} is made twice (a mode's name, and another "
                     "mode's `<name>_<rows>` at one of several sizes); rename one")
    return out


def entry_kind(desc: ModuleDescription, reference: ModelSpec | None) -> str:
    """The description's `entry`, or by default `causal_lm` when it is bound to a model config, else `module`."""
    if desc.entry == "causal_lm" and reference is None:
        raise _error(
            f"{desc.name}.entry",
            "entry: causal_lm needs the model config its params are bound from",
            "build it by a model name or as `tttgen build DESCRIPTION --config config.json`, or say `entry: module`",
        )
    return desc.entry or ("causal_lm" if reference is not None else "module")


def key_map_facts(desc: ModuleDescription) -> dict[str, Any]:
    """The top module's `key_maps` as graph facts (none when it declares none)."""
    if not desc.key_maps:
        return {}
    return {
        "key_maps": {
            name: {"doc": km.doc, "prefixes": dict(km.prefixes), "fallbacks": dict(km.fallbacks)}
            for name, km in sorted(desc.key_maps.items())
        }
    }


def key_map_problems(desc: ModuleDescription, weights, source: Path | None) -> list[_Located]:
    """The top module's `key_maps` against the checkpoint keys its expansion reads ("{i}" for a layer): every key
    must have a prefix entry, every prefix entry must map some key, every fallback must name a key that is read."""
    keys = sorted({k for w in weights for k in w.hf_names})
    problems = []
    for name, km in sorted(desc.key_maps.items()):
        unmapped = [k for k in keys if not any(k.startswith(p) for p in km.prefixes)]
        if unmapped:
            problems.append(
                _Located(source, ("key_maps", name, "prefixes"), f"key map '{name}' maps no prefix of "
                         f"{len(unmapped)} key(s) the module reads: {', '.join(unmapped)}")
            )
        for prefix in km.prefixes:
            if not any(k.startswith(prefix) for k in keys):
                problems.append(
                    _Located(source, ("key_maps", name, "prefixes", prefix),
                             f"key map '{name}': prefix '{prefix}' begins no key the module reads")
                )
        for key, tried in km.fallbacks.items():
            if "{" in key or any("{" in t for t in tried):
                problems.append(
                    _Located(source, ("key_maps", name, "fallbacks", key),
                             f"key map '{name}': a fallback maps one key to whole keys, without a layer's {{i}}")
                )
            elif key not in keys:
                problems.append(
                    _Located(source, ("key_maps", name, "fallbacks", key),
                             f"key map '{name}': fallback for '{key}', a key the module does not read")
                )
    return problems


def _layer_lists(steps: list, inputs: Mapping[str, Any]) -> list[str]:
    """Inputs a looped call reads by its loop var (`bias[layer]`: one tensor per layer, a list on device)."""
    out = set()
    for step in steps:
        if getattr(step, "loop", None) is None:
            continue
        for ref in step.in_.values():
            m = _REF.match(ref) if isinstance(ref, str) else None
            if m and m.group(2) and m.group(1) in inputs:
                out.add(m.group(1))
    return sorted(out)


def _padding(desc: ModuleDescription, env: Mapping[str, Any], inputs: Mapping[str, Any], outputs: Mapping[str, Any]) -> dict:
    """What forward_tokens pads and cuts (`sizes.mask`, `sizes.axes`): the padded axes in order, the size param's
    first, each with its mask input, the Python expression of its real length where the description derives it
    (params replaced by their values, the axes above it by their variables) and the input dim whose built shape
    holds its capacity; each input's and output's dims declared as an axis, [dim, axis] pairs."""
    sizes = desc.sizes
    declared = [(sizes.param, sizes.mask, None, "tokens")] + [
        (name, a.mask, a.length, a.doc) for name, a in sizes.axes.items()
    ]
    names = [name for name, *_ in declared]
    masks = {mask for _, mask, _, _ in declared if mask}

    def dims(shape: list) -> list[list]:
        return [[i, item] for i, item in enumerate(shape) if item in names]

    axes = []
    for name, mask, length, doc in declared:
        holder = next(([n, i] for n, t in inputs.items() if n not in masks for i, item in enumerate(t.shape)
                       if item == name), None)
        # an axis with a derived length may be held by outputs only: its capacity per size is read there
        output_holder = next(([n, i] for n, t in outputs.items() for i, item in enumerate(t.shape) if item == name),
                             None)
        axes.append({
            "name": name,
            "mask": mask,
            "length": None if length is None else _python_expr(length, env, keep=set(names)),
            "holder": holder,
            "output_holder": output_holder,
            "doc": doc,
        })
    return {
        "axes": axes,
        "inputs": {n: dims(t.shape) for n, t in inputs.items() if n not in masks},
        "outputs": {n: dims(t.shape) for n, t in outputs.items()},
    }


def _python_expr(text: str | int, env: Mapping[str, Any], keep: set[str]) -> str:
    """A shape expression as Python source: the names in `keep` left as variables, every other param replaced by
    its value (`(atoms + queries - 1) // queries` -> `(atoms + 32 - 1) // 32`)."""
    if isinstance(text, int):
        return str(text)

    class Values(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return node if node.id in keep else ast.Constant(int(env[node.id]))

    return ast.unparse(Values().visit(copy.deepcopy(parse_expr(text))))


def _rows_axis(shape: list, size_param: str) -> int:
    """The dim of a declared shape that is the size param itself, as a negative index: -2 where it is there (token
    rows [1, 1, rows, w], a pair's [1, n, n, c], a mask [1, 1, rows, rows]), else the last (token ids [1, rows])."""
    if len(shape) > 1 and shape[-2] == size_param:
        return -2
    return max(i for i, item in enumerate(shape) if item == size_param) - len(shape)


def _sampler_facts(desc: ModuleDescription, env: Mapping[str, Any], variants: dict[str, str], io: dict) -> dict | None:
    """The description's sampler with its count evaluated and the mode key of the step it repeats."""
    sm = desc.sampler
    if sm is None:
        return None
    keys = [k for k, v in variants.items() if v == sm.mode]
    if len(keys) != 1:
        raise _error(f"{desc.name}.sampler.mode", f"mode '{sm.mode}' runs at {len(keys)} sizes; a sampler repeats one")
    shapes = io[keys[0]]
    for out, inp in sorted(sm.carry.items()):  # a carried output must fit the input it feeds next time
        if list(shapes["outputs"][out]) != list(shapes["inputs"][inp]):
            raise _error(
                f"{desc.name}.sampler.carry.{out}",
                f"output {out} {list(shapes['outputs'][out])} cannot feed input {inp} {list(shapes['inputs'][inp])}",
            )
    return {
        "name": sm.name,
        "mode_key": keys[0],
        "count": _number(sm.count, env, f"{desc.name}.sampler.count"),
        "count_param": sm.count if isinstance(sm.count, str) else None,
        "carry": dict(sorted(sm.carry.items())),
        "start": dict(sorted(sm.start.items())),
        "returns": sm.returns,
        "doc": sm.doc,
    }


def _function_order(chosen: list[str]):
    """Callees before callers (deeper paths first), then by mode: the conventional ones by name, then the chosen
    ones in the description's order (the order model.py defines them)."""

    def key(item: tuple[tuple[str, str], dict]) -> tuple:
        (mode, path), _ = item
        by_mode = (1, chosen.index(mode), "") if mode in chosen else (0, 0, mode)
        return (-path.count(".") - (1 if path else 0), path, by_mode)

    return key


def _fits(given: tuple[int, ...], declared: tuple[int, ...]) -> bool:
    """A caller's value fits a callee's declared input when it holds the same elements with the same width: the
    layout of leading dims may differ (decode rotary tables are [1, users, 1, d] where the op computes [1, 1, users, d]).
    """
    if not given or not declared:
        return given == declared
    return given[-1] == declared[-1] and prod(given) == prod(declared)


def short_names(names: list[str]) -> dict[str, str]:
    """Call-path name -> its own (last) part, for every op or weight whose own name no other has: names stay
    short (`wqkv`, what hints' overrides and explain use) and only ambiguous ones keep their path (`ffn.fc1`)."""
    paths: dict[str, set[str]] = {}
    for name in names:
        paths.setdefault(name.rsplit(".", 1)[-1], set()).add(name)
    return {next(iter(full)): bare for bare, full in paths.items() if len(full) == 1 and next(iter(full)) != bare}


def _has_state(desc: ModuleDescription, near: Path) -> bool:
    steps = list(desc.ops) + [s for v in desc.modes.values() for s in v.ops]
    if desc.state:
        return True
    for step in steps:
        if step.op == "call":
            found = find_module(step.module, near)
            if found is not None and _has_state(load_module(found), found.parent):
                return True
    return False


def parts_of(w) -> list:
    """A description weight's checkpoint sources: its one `key`, or its `keys`."""
    if w.generate is not None:
        return []
    return [w.key] if w.key is not None else list(w.keys)


def infer_defaults(desc: ModuleDescription, near: Path, device: DeviceProfile, hints: Hints) -> list[str]:
    """Expand `desc` at its params' defaults (what `tttgen validate` runs: every shape inferred and checked, each
    problem at its file:line, raised as one InputError). Returns the params left without a value, when some have
    no default: then shapes cannot be inferred before `build --param` gives them."""
    bound = {ROWS, "max_batch", "max_seq_len", *PAGED_PARAMS} | ({desc.sizes.param} if desc.sizes else set())
    unbound = sorted(n for n, p in desc.params.items() if p.default is None and n not in bound)
    if not unbound:
        expand(desc, {}, device, hints, near=near)
    return unbound
