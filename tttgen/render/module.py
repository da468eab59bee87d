"""render_module(graph) -> {relative path: text} for a module built from a description (issue 8).

The graph builder recorded, per module function (a call path) and mode, its body: ops and calls, each op with the
values it reads and writes (Op.dataflow). This module turns that into view-models, and templates/module/ prints
them: one class per module function, one straight-line method per mode, every config a name in configs.py that
a pass chose. Op kinds are printed by the macro tttgen/ops/registry.py's RENDER_MACROS names; weights are laid
out per the port that reads them (WEIGHT_LAYOUTS).
"""

from __future__ import annotations

import keyword
import math
from typing import Any

from tttgen.errors import InputError
from tttgen.ir.configs import ComputeKernelConfig
from tttgen.ir.graph import Graph, Op
from tttgen.ops.registry import RENDER_MACROS, WEIGHT_LAYOUTS, weight_kn
from tttgen.render import literals as L
from tttgen.render.context import MemoryNames, weight_pins
from tttgen.render.weight_code import host_weight_source

PYTHON_FILES = ("__init__.py", "configs.py", "model.py", "weights.py")
RESERVED = {"self", "ttnn", "C", "load_weights", "rows", "check_inputs"}  # names model.py itself uses
BINARY_FNS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide"}


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
        return [
            {"name": n, "value": L.kernel(c, self.cls)} for c, n in sorted(self.by_config.items(), key=lambda kv: kv[1])
        ]


def ident(name: str) -> str:
    """An op or call path as a Python identifier: `layers.attention.wqkv` -> `layers_attention_wqkv`."""
    return name.replace(".", "_")


def class_name(path: str, top: str) -> str:
    return "".join(part.capitalize() for part in (path or top).replace(".", "_").split("_"))


def _unsupported(what: str, module: str) -> InputError:
    return InputError(
        f"{what} cannot be rendered by the module renderer yet",
        where=module,
        hint="kinds it prints: " + ", ".join(sorted(k for k, v in RENDER_MACROS.items() if v)),
    )


def check_renderable(graph: Graph, where: str | None = None) -> None:
    """Before any pass runs: every op, host op and looped call of the expanded module is one the renderer prints;
    all the others in one error."""
    module, found = graph.facts["module"], []
    for fn in graph.facts["functions"]:
        for entry in fn["body"]:
            kind = entry.get("kind") if "host" in entry or "op" not in entry else None
            if "op" in entry:
                op = next(o for o in graph.ops if o.name == entry["op"])
                kind = op.dataflow["kind"]
            if "call" in entry:
                if entry["loop"] is not None:
                    found.append(f"looped call '{entry['call']}'")
                continue
            if RENDER_MACROS.get(kind) is None or "host" in entry:
                found.append(f"'{entry.get('op') or entry.get('host')}' ({kind})")
    if found:
        raise _unsupported("ops " + ", ".join(sorted(set(found))), where or module)


def _value(ref: Any, module: str) -> str:
    if isinstance(ref, dict):
        return f'self.w["{ref["weight"]}"]'
    if "[" in ref:
        raise _unsupported(f"indexed state '{ref}'", module)
    if keyword.iskeyword(ref) or ref in RESERVED:
        raise InputError(
            f"value name '{ref}' is reserved in generated code", where=module, hint=f"reserved: {sorted(RESERVED)}"
        )
    return ref


def mode_class(key: str) -> str:
    return "Decode" if key == "decode" else f"Prefill{key.split('_')[1]}"


def op_view(graph: Graph, op: Op, module: str) -> dict[str, Any]:
    """What the op's macro prints: its values, attrs and the configs.py names of its decisions."""
    flow, d = op.dataflow, op.decisions
    kind = flow["kind"]
    macro = RENDER_MACROS[kind]
    if macro is None:
        raise _unsupported(f"op '{op.name}' of kind '{kind}'", module)
    ins = {
        port: ([_value(r, module) for r in ref] if isinstance(ref, list) else _value(ref, module))
        for port, ref in flow["in"].items()
    }
    outs = [_value(o, module) for o in flow["out"]]
    attrs = flow["attrs"]
    view: dict[str, Any] = {
        "macro": macro,
        "id": ident(op.name),
        "cfg": f"C.{mode_class(op.mode_key)}",
        "out": outs[0] if outs else None,
        "outs": ", ".join(outs),
        "input": ins.get("input"),
        "weight": ins.get("weight"),
        "bias": ins.get("bias", "None"),
    }
    if kind == "linear":
        calls = d.get("calls", 1)
        owner = op.facts.get("shares_input_with")
        k, n = op.shape.k, op.shape.n
        view.update(
            bias=ins.get("bias"),
            k=k,
            rows=op.shape.m,
            make_chunks=calls > 1 and owner is None,
            source=f"{ins['input']}_chunks" if calls > 1 else ins["input"],
            out_shape=list(flow["shapes"]["out"][0]),
            dtype=L.dtype(d["dtypes"]["out"]),
        )
    elif kind in ("layer_norm", "rms_norm"):
        view["eps"] = repr(float(attrs["eps"]))
    elif kind == "binary":
        view.update(
            fn=BINARY_FNS[attrs["fn"]],
            a=ins["a"],
            b=ins.get("b"),
            scalar=repr(float(attrs["scalar"])) if "scalar" in attrs else None,
            a_activation=(
                attrs.get("a_activation", "none").upper() if attrs.get("a_activation", "none") != "none" else None
            ),
        )
    elif kind == "unary":
        view.update(fn=attrs["fn"], scale=repr(float(attrs["scale"])) if "scale" in attrs else None)
    elif kind == "create_heads":
        view.update(num_heads=attrs["num_heads"], num_kv_heads=attrs["num_kv_heads"])
    elif kind == "sdpa":
        head_dim = op.facts["head_dim"]
        view.update(
            q=ins["q"],
            k=ins["k"],
            v=ins["v"],
            mask=ins.get("mask"),
            causal=bool(attrs["causal"]),
            scale=repr(float(attrs.get("scale", 1.0 / math.sqrt(head_dim)))),
        )
    elif kind == "typecast":
        view["dtype_name"] = attrs["dtype"]
    elif kind == "reshape":
        view["shape"] = list(attrs["shape"])
    elif kind == "permute":
        view["dims"] = list(attrs["dims"])
    elif kind == "concat":
        view.update(inputs=", ".join(ins["inputs"]), dim=attrs["dim"])
    elif kind == "slice":
        view.update(
            begins=list(attrs["begins"]),
            ends=list(attrs["ends"]),
            steps=list(attrs.get("steps") or [1] * len(attrs["ends"])),
        )
    return view


def mode_entries(graph: Graph, key: str, kernel_name: KernelNames, memory_name: MemoryNames) -> list[dict[str, str]]:
    """The configs.py attributes of one mode: per op, the configs its call passes."""
    entries: list[dict[str, str]] = []

    def add(name: str, value: str, comment: str = "", pinned: str = "") -> None:
        entries.append({"name": name, "value": value, "comment": comment, "pinned": pinned})

    for op in graph.ops:
        if op.mode_key != key:
            continue
        d, i = op.decisions, ident(op.name)
        pinned = d.get("pinned") or {}
        pin = lambda field: f"pinned by {pinned['by']}" if field in pinned.get("fields", ()) else ""  # noqa: E731
        out = memory_name(d["out"]) if d.get("out") is not None else "ttnn.DRAM_MEMORY_CONFIG"
        if op.kind == "matmul":
            note = f"{d.get('binding', '')}: {d['time_ns'] / 1000:.1f} us modeled"
            add(f"{i}_program", L.matmul_program(d["program"]), note, pin("program_config"))
            add(f"{i}_compute", kernel_name(d["kernel"]), pinned=pin("compute_kernel_config"))
            add(f"{i}_memory", out, pinned=pin("memory_config.out"))
            if d.get("calls", 1) > 1:
                add(f"{i}_calls", str(d["calls"]), "row chunks per call (chunking pass)")
        elif op.kind in ("rms_norm", "layer_norm"):
            add(f"{i}_program", L.norm_program(d["program"]))
            add(f"{i}_compute", kernel_name(d["kernel"]), pinned=pin("compute_kernel_config"))
            add(f"{i}_memory", out)
        elif op.kind == "sdpa_prefill":
            add(f"{i}_program", L.sdpa_program(d["program"]), "chunks chosen by the chunking pass")
            add(f"{i}_compute", kernel_name(d["kernel"]), pinned=pin("compute_kernel_config"))
            add(f"{i}_memory", out)
        elif op.dataflow.get("kind") != "reshape":
            add(f"{i}_memory", out)
    return entries


def _weight_ports(graph: Graph) -> dict[str, tuple[str, str]]:
    """weight name -> (op kind, port) of the first op reading it: that port decides the weight's layout."""
    ports: dict[str, tuple[str, str]] = {}
    for op in graph.ops:
        for port, ref in op.dataflow.get("in", {}).items():
            for r in ref if isinstance(ref, list) else [ref]:
                if isinstance(r, dict):
                    ports.setdefault(r["weight"], (op.dataflow["kind"], port))
    return ports


def host_shape(shape: tuple[int, ...], layout: str) -> list[int]:
    """The shape a weight is handed to ttnn in: [1, 1, K, N] tiles, norm rows [1, 1, dim / 32, 32], or as declared."""
    k, n = weight_kn(shape)
    if layout == "tile":
        return [1, 1, k, n]
    if layout == "norm_rows":
        return [1, 1, n // 32, 32]
    return list(shape)


def host_weight_shapes(graph: Graph) -> dict[str, list[int]]:
    """Weight name -> the shape weights.host_weights gives it (what device_weights moves to the device)."""
    ports = _weight_ports(graph)
    return {w.name: host_shape(w.shape, WEIGHT_LAYOUTS[ports[w.name]]) for w in graph.weights}


def weight_views(graph: Graph, memory_name: MemoryNames) -> list[dict[str, Any]]:
    ports, views = _weight_ports(graph), []
    module = graph.facts["module"]
    for w in graph.weights:
        if w.per_layer:
            raise _unsupported(f"per-layer weight '{w.name}' (a looped call)", module)
        layout = WEIGHT_LAYOUTS.get(ports.get(w.name, ("", "")))
        if layout is None:
            raise _unsupported(f"weight '{w.name}' read by {ports.get(w.name)}", module)
        var = f"w_{ident(w.name)}"
        sources = list(zip(w.hf_names, [list(t) for t in (w.source_transforms or ((),) * len(w.hf_names))]))
        lines = host_weight_source(
            var, [(k, [dict(t) for t in ts]) for k, ts in sources], [dict(t) for t in w.transforms]
        )
        shape = host_shape(w.shape, layout)
        expr = var if shape == list(w.shape) else f"{var}.reshape({', '.join(map(str, shape))})"
        ttnn_layout = "ttnn.TILE_LAYOUT" if layout == "tile" else "ttnn.ROW_MAJOR_LAYOUT"
        p = w.decisions["placement"]
        views.append(
            {
                "name": w.name,
                "lines": lines,
                "layout_expr": expr,
                "dtype": L.dtype(w.decisions["dtype"]),
                "layout": ttnn_layout,
                "memory": memory_name(p),
                "note": f"{w.role}: {p.buffer} {p.layout.lower().replace('_', ' ')}, {list(w.shape)} from {', '.join(w.hf_names)}",
                "pinned": weight_pins(graph, w.name),
            }
        )
    return views


def class_views(graph: Graph) -> tuple[list[dict[str, Any]], str]:
    """One class per module function, callees first; its methods, one per mode key of the function's mode."""
    module = graph.facts["module"]
    classes, top = [], class_name("", module)
    for fn in graph.facts["functions"]:
        keys = [k for k in graph.mode_keys() if (k == "decode") == (fn["mode"] == "decode")]
        children, methods = [], []
        for key in keys:
            steps = []
            for entry in fn["body"]:
                if "host" in entry:
                    raise _unsupported(f"host op '{entry['host']}' of kind '{entry['kind']}'", module)
                if "call" in entry:
                    if entry["loop"] is not None:
                        raise _unsupported(f"looped call '{entry['call']}'", module)
                    attr = entry["call"].rsplit(".", 1)[-1]
                    child = {"attr": attr, "cls": class_name(entry["call"], module)}
                    if child not in children:
                        children.append(child)
                    callee = next(
                        f for f in graph.facts["functions"] if f["path"] == entry["call"] and f["mode"] == fn["mode"]
                    )
                    args = ", ".join(_value(entry["in"][name], module) for name in callee["inputs"])
                    outs = ", ".join(_value(o, module) for o in entry["out"])
                    steps.append({"macro": "call", "outs": outs, "attr": attr, "method": key, "args": args})
                    continue
                steps.append(op_view(graph, graph.op(f"{key}.{entry['op']}"), module))
            seconds = graph.facts.get("mode_time_ns", {}).get(key)
            methods.append(
                {
                    "name": key,
                    "args": ", ".join(_value(n, module) for n in fn["inputs"]),
                    "returns": ", ".join(_value(n, module) for n in fn["outputs"]),
                    "steps": steps,
                    "doc": (
                        f"{fn['module']} with {key.split('_')[-1]} rows."
                        if key != "decode"
                        else f"{fn['module']}, one decode step."
                    ),
                }
            )
            del seconds
        classes.append(
            {
                "name": class_name(fn["path"], module),
                "doc": f"{fn['module']}{' (called as ' + fn['path'] + ')' if fn['path'] else ''}: {fn['doc']}",
                "children": children,
                "methods": methods,
            }
        )
    return classes, top


def module_context(graph: Graph, header: str, header_text: str, package: str) -> dict[str, Any]:
    memory_name = MemoryNames()
    kernel_name = KernelNames(graph.device.compute_kernel_config_class)
    module = graph.facts["module"]
    weights = weight_views(graph, memory_name)
    classes, top = class_views(graph)
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
    first_key = graph.mode_keys()[0]
    input_names = list(io[first_key]["inputs"])
    input_shapes = [
        (int(k.split("_")[1]), {n: tuple(s) for n, s in io[k]["inputs"].items()})
        for k in graph.mode_keys()
        if k != "decode"
    ]
    params = [{"name": ident(n).upper(), "value": repr(v)} for n, v in graph.facts["module_params"].items()]
    example = io[first_key]["inputs"]
    return {
        "header": header,
        "header_text": header_text,
        "package": package,
        "module": module,
        "description": graph.facts["module_doc"],
        "device": graph.device,
        "params": params,
        "activation_dtype": L.dtype(graph.facts["activation_dtype"]),
        "input_shapes": input_shapes,
        "checkpoint_keys": sorted({k for w in graph.weights for k in w.hf_names}),
        "kernels": kernel_name.definitions(),
        "memory_configs": memory_name.definitions(),
        "weights": weights,
        "modes": modes,
        "classes": classes,
        "top_class": top,
        "input_args": ", ".join(_value(n, module) for n in input_names),
        "input_names": repr(tuple(input_names)),
        "first_input": input_names[0],
        "activation_layout": "bfloat16 tiles in DRAM",
        "mode_list": ", ".join(k.split("_")[-1] for k in graph.mode_keys()),
        "mode_times": ", ".join(f"{k} {graph.facts['mode_time_ns'][k] / 1000:.1f} us" for k in graph.mode_keys()),
        "example_inputs": ", ".join(input_names) + ("," if len(input_names) == 1 else ""),
        "example_torch": ", ".join(f"torch.randn({list(s)})" for s in example.values()),
    }


def render_module(graph: Graph, inputs: list, request: dict[str, Any] | None = None) -> dict[str, str]:
    """All files of one module package, keyed by path relative to the package directory."""
    from tttgen.render.emit import (
        MANIFEST,
        dumps,
        environment,
        format_python,
        graph_document,
        header_line,
        manifest,
        package_name,
    )

    env = environment()
    header = header_line(inputs)
    ctx = module_context(graph, header, header[2:], package_name(graph.model.name))
    files = {name: format_python(env.get_template(f"module/{name}.j2").render(ctx), name) for name in PYTHON_FILES}
    files["README.md"] = env.get_template("module/README.md.j2").render(ctx)
    files["graph.json"] = dumps(graph_document(graph))
    files[MANIFEST] = dumps(manifest(graph, inputs, files, request or {}))
    return dict(sorted(files.items()))
