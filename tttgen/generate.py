"""The whole path from a request to {path: text}: load inputs, build the graph, run passes, render."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tttgen.build import build_graph
from tttgen.ir.graph import Graph
from tttgen.passes import run_pipeline
from tttgen.render.emit import package_name
from tttgen.inputs.load import ROOT, InputFile, load_device, load_hints, load_model, read_yaml
from tttgen.inputs.module import base_files, find_module, is_module_data, load_module, module_names


@dataclass(frozen=True)
class Request:
    model: str  # built-in name, alias, model YAML or HF config.json path
    device: str
    hints_file: str | None = None
    flags: tuple[tuple[str, Any], ...] = ()
    params: tuple[tuple[str, str], ...] = ()  # module description params, NAME=VALUE as given (--param)
    config: str | None = None  # a Hugging Face config.json bound to the description MODEL names (--config)

    def resolve_path(self, value: str) -> str:
        path = Path(value)
        if path.suffix in (".json", ".yaml", ".yml") and not path.is_absolute() and not path.exists():
            return str(ROOT / path)
        return value


@dataclass(frozen=True)
class Plan:
    request: Request
    graph: Graph
    inputs: list[InputFile]

    @property
    def out_subdir(self) -> Path:
        return Path(package_name(self.graph.name)) / self.graph.device.name


def module_source(value: str) -> Path | None:
    """The description file when MODEL names a module (a module YAML, or a built-in module that is not a model
    with a checkpoint format: those build through their ModelSpec); None otherwise."""
    path = Path(value)
    if path.suffix in (".yaml", ".yml") and path.exists():
        data, _ = read_yaml(path)
        return path if is_module_data(data) else None
    if value in module_names():
        found = find_module(value, None)
        return found if found is not None and load_module(found).checkpoint is None else None
    return None


def plan_module(request: Request, source: Path) -> Plan:
    """A module description -> graph -> passes: the generic path (tttgen/builder/expand.py)."""
    from tttgen.builder.expand import expand

    from tttgen.render.module import check_renderable

    _, desc_info = read_yaml(source)
    device, hints, target_inputs = device_and_hints(request)
    desc = load_module(source, hints.features)
    graph = expand(desc, module_param_values(desc, request.params), device, hints, near=source.parent)
    check_renderable(graph, desc_info.label)  # refuse what cannot be printed before the passes spend time on it
    graph = run_pipeline(graph)
    return Plan(request, graph, [desc_info, *target_inputs, *called_inputs(graph, *base_files(source))])


def device_and_hints(request: Request):
    """The request's device profile and hints, and their input files (device, then hints when given)."""
    device, device_info = load_device(request.device)
    hints_path = Path(request.resolve_path(request.hints_file)) if request.hints_file else None
    hints, hints_info = load_hints(hints_path, dict(request.flags))
    return device, hints, [device_info] + ([hints_info] if hints_info else [])


def called_inputs(graph: Graph, *extra: Path) -> list[InputFile]:
    """The description files a build read beyond the ones it names (called modules; a model's own description):
    hashed in the MANIFEST so a changed description shows as drift."""
    from dataclasses import replace

    paths = sorted({Path(p) for p in graph.facts.get("called_files", ())} | set(extra))
    return [replace(read_yaml(p)[1], called=True) for p in paths]


def module_param_values(desc, given: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """--param NAME=VALUE strings typed by the description's params; every mistake in one error (exit 2)."""
    from tttgen.errors import InputError

    values, problems = {}, []
    for name, text in given:
        param = desc.params.get(name)
        if param is None:
            problems.append(f"'{name}' is not a param of {desc.name} (params: {', '.join(sorted(desc.params))})")
            continue
        try:
            if param.type == "bool":
                if text.lower() not in ("true", "false"):
                    raise ValueError
                values[name] = text.lower() == "true"
            else:
                values[name] = {"int": int, "float": float, "str": str}[param.type](text)
        except ValueError:
            problems.append(f"'{name}' takes a {param.type}, got '{text}'")
    if problems:
        raise InputError("; ".join(problems), where="--param", hint="NAME=VALUE, as `tttgen list modules` lists them")
    return values


def is_module_plan(p: Plan) -> bool:
    return p.graph.entry.is_module


def plan_bound(request: Request) -> Plan:
    """A model description (any: built-in or the user's own) bound to a Hugging Face config.json: the config is
    imported as its architecture's family decides (every field checked, tttgen/inputs/hf_config.py), and the
    description's `checkpoint.config_map` reads the params from it, as for a built-in model."""
    from tttgen.builder.bind import spec_params
    from tttgen.builder.expand import expand
    from tttgen.errors import InputError
    from tttgen.render.module import check_renderable

    path = Path(request.resolve_path(request.model))
    source = path if path.suffix in (".yaml", ".yml") and path.exists() else find_module(request.model, None)
    if source is None or not is_module_data(read_yaml(source)[0]):
        raise InputError(
            f"'{request.model}' is not a module description, so --config has nothing to bind to",
            where="MODEL",
            hint="name a description YAML with checkpoint.config_map (or a built-in model), or pass --config alone",
        )
    if request.params:
        raise InputError(
            "--param sets a module description's params; with --config they come from the config.json",
            where="--param",
        )
    config = request.resolve_path(request.config)
    if Path(config).suffix != ".json":
        raise InputError(f"'{request.config}' is not a Hugging Face config.json", where="--config")
    model, model_info = load_model(config)
    _, desc_info = read_yaml(source)
    device, hints, target_inputs = device_and_hints(request)
    desc = load_module(source, hints.features)
    if desc.checkpoint is None:
        raise InputError(
            f"module '{desc.name}' has no checkpoint.config_map: nothing says which config.json field sets which param",
            where=desc_info.label,
            hint="add `checkpoint: {format: huggingface, config_map: {hidden_size: hidden_size, ...}}` "
            "(docs/module-descriptions.md)",
        )
    graph = expand(desc, spec_params(desc, model), device, hints, reference=model, near=source.parent)
    check_renderable(graph, desc_info.label)
    graph = run_pipeline(graph)
    return Plan(request, graph, [model_info, desc_info, *target_inputs, *called_inputs(graph, *base_files(source))])


def plan(request: Request) -> Plan:
    if request.config is not None:
        return plan_bound(request)
    source = module_source(request.resolve_path(request.model))
    if source is not None:
        return plan_module(request, source)
    if request.params:
        from tttgen.errors import InputError

        raise InputError(
            "--param sets a module description's params; a model takes its dimensions from its spec",
            where="--param",
            hint="use --config path/config.json for other model dimensions",
        )
    model, model_info = load_model(request.resolve_path(request.model))
    device, hints, target_inputs = device_and_hints(request)
    graph = run_pipeline(build_graph(model, device, hints))
    description = find_module(model.description, None)  # the model's description: an input as much as its spec
    inputs = called_inputs(graph, description, *base_files(description))
    return Plan(request, graph, [model_info, *target_inputs, *inputs])


def render_plan(p: Plan) -> dict[str, str]:
    from tttgen.render.plan_json import plan_document
    from tttgen.render.emit import dumps

    request = {
        "model": p.request.model,
        "device": p.request.device,
        "hints_file": p.request.hints_file,
        "flags": dict(p.request.flags),
    }
    if p.request.params:  # recorded only when given, so `tttgen check` rebuilds the same package
        request["params"] = dict(p.request.params)
    if p.request.config is not None:  # a description bound to a config.json (build MODEL --config)
        request["config"] = p.request.config
    from tttgen.render.module import render_module

    extra = None if is_module_plan(p) else (lambda: {"plan.json": dumps(plan_document(p.graph))})
    return render_module(p.graph, p.inputs, request=request, extra_files=extra)


def request_from_manifest(data: dict[str, Any]) -> Request:
    req = data["request"]
    return Request(
        req["model"],
        req["device"],
        req.get("hints_file"),
        tuple(sorted(req.get("flags", {}).items())),
        tuple(sorted(req.get("params", {}).items())),
        req.get("config"),
    )
