"""Command line: argument plumbing only. Exit codes: 0 ok, 1 drift found, 2 bad input."""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from tttgen.cli_cost import cost
from tttgen.errors import InputError, TttgenError
from tttgen.generate import Request, is_module_plan, plan, render_plan, request_from_manifest
from tttgen.checking.drift import compare
from tttgen.output.write import write_package
from tttgen.render.emit import MANIFEST, jsonable
from tttgen.render.emit import formatter as format_ahead
from tttgen.inputs import load as spec_load
from tttgen.inputs.module import is_module_data, load_module, module_names


def _parse_lens(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"'{value}' is not a comma-separated list of integers", where="--prefill-lens") from None


def _parse_overrides(items: tuple[str, ...]) -> dict[str, dict[str, str]] | None:
    if not items:
        return None
    out: dict[str, dict[str, str]] = {}
    for item in items:
        op, _, rest = item.partition(":")
        field, _, value = rest.partition("=")
        if not (op and field and value):
            raise InputError(f"'{item}' is not OP:FIELD=VALUE (e.g. wqkv:fidelity=HiFi4)", where="--override")
        out.setdefault(op, {})[field] = value
    return out


def ttnn_check_option(what: str):
    """--ttnn-check auto|on|off: ask the real ttnn 0.81.1 on a mock device (auto: when its venv exists)."""
    return click.option(
        "--ttnn-check",
        type=click.Choice(["auto", "on", "off"]),
        default=lambda: os.environ.get("TTTGEN_TTNN_CHECK", "auto"),
        show_default="auto, or $TTTGEN_TTNN_CHECK",
        help=f"{what} (auto: when its venv exists)",
    )


def hint_options(fn):
    options = [
        click.option("--hints", "hints_file", type=click.Path(dir_okay=False), help="hints YAML (flags win over it)"),
        click.option("--batch", type=int, help="users served at once (1..32)"),
        click.option("--max-seq-len", type=int, help="longest context kept in the KV cache"),
        click.option("--prefill-lens", help="comma-separated padded prefill lengths, multiples of 128"),
        click.option("--optimize", type=click.Choice(["latency", "throughput"])),
        click.option("--precision", type=click.Choice(["accuracy", "performance"])),
        click.option("--dram-budget", type=int, help="bytes of device DRAM the package may use"),
        click.option(
            "--jit/--no-jit",
            default=None,
            help="consider ttnn_jit fused blocks (emitted where legal and modeled faster)",
        ),
        click.option(
            "--no-fit-check", is_flag=True, help="record (not stop on) DRAM/head infeasibility: planning only"
        ),
        click.option(
            "--override", "overrides", multiple=True, help="OP:FIELD=VALUE, FIELD in memory, sharding, fidelity, dtype, split (mesh: replicate, column, row), projection (fused, separate)"
        ),
        click.option(
            "--paged", is_flag=True, default=None, help="paged KV cache: page-table inputs, paged cache ops, chunked prefill"
        ),
        click.option("--page-block-size", type=int, help="positions per KV-cache block with --paged (default 32)"),
        click.option("--page-blocks", type=int, help="blocks per layer's K/V cache with --paged (default: all users full)"),
        click.option("--param", "params", multiple=True, help="NAME=VALUE: a module description's param (repeatable)"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _flags(kw: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    flags = {
        "batch": kw.get("batch"),
        "max_seq_len": kw.get("max_seq_len"),
        "prefill_lens": _parse_lens(kw.get("prefill_lens")),
        "optimize": kw.get("optimize"),
        "precision": kw.get("precision"),
        "dram_budget": kw.get("dram_budget"),
        "jit": kw.get("jit"),
        "fit_check": False if kw.get("no_fit_check") else None,
        "overrides": _parse_overrides(kw.get("overrides", ())),
        "paged": _paged(kw),
    }
    return tuple(sorted((k, v) for k, v in flags.items() if v is not None))


def _paged(kw: dict[str, Any]) -> dict[str, int] | None:
    """--paged and its two sizes as the hints' `paged` mapping (a size alone implies --paged)."""
    sizes = {"block_size": kw.get("page_block_size"), "blocks": kw.get("page_blocks")}
    sizes = {k: v for k, v in sizes.items() if v is not None}
    return sizes if kw.get("paged") or sizes else None


def _request(model: str | None, config: str | None, device: str, kw: dict[str, Any]) -> Request:
    params = _params(kw.get("params") or ())
    if model and config:  # the description MODEL bound to the config.json (generate.plan_bound)
        return Request(model, device, kw.get("hints_file"), _flags(kw), params, config)
    return Request(_model_arg(model, config), device, kw.get("hints_file"), _flags(kw), params)


def _params(items: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"'{item}' is not NAME=VALUE", where="--param", hint="e.g. --param dim=128")
        pairs.append((name.strip(), value.strip()))
    return tuple(sorted(pairs))


def _model_arg(model: str | None, config: str | None) -> str:
    if not (config or model):
        raise InputError(
            "name a MODEL or pass --config path/config.json",
            where="tttgen build",
            hint=f"models: {', '.join(spec_load.model_names())}",
        )
    return config or model


@click.group()
@click.version_option(package_name="tttgen")
def cli() -> None:
    """tttgen: generate standalone TTNN model packages ahead of time."""


@cli.command()
@click.argument("model", required=False)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    help="a Hugging Face config.json: alone, its family's built-in model; with MODEL, bound to that description",
)
@click.option("--device", "devices", multiple=True, required=True, help="device profile or alias (repeatable)")
@click.option("--out", type=click.Path(file_okay=False), default="generated", show_default=True)
@click.option("--force", is_flag=True, help="overwrite hand-edited generated files")
@ttnn_check_option("run the package under the real ttnn on a mock device before writing it")
@click.option("--json", "as_json", is_flag=True)
@hint_options
def build(model, config, devices, out, force, ttnn_check, as_json, **kw) -> None:
    """Generate the package for MODEL (a built-in model, a module name from `tttgen list modules`, or a module
    description YAML) on each --device into OUT/<model>/<device>/."""
    with format_ahead():  # black imported in another process while this one plans, and run there (emit.formatter)
        plans = [plan(_request(model, config, d, kw)) for d in devices]
        rendered = [(p, render_plan(p)) for p in plans]
    judged: list[str] = []
    if _ttnn_check_enabled(ttnn_check):
        from tttgen.checking.realttnn.check import judge_rendered

        # Every package is judged before anything is written: a rejection is a gap in tttgen's rules.
        for p, files in rendered:
            if p.graph.facts.get("problems"):
                continue  # a --no-fit-check planning package records why it cannot run; there is nothing to run
            verdict = judge_rendered(files, p.out_subdir, p.graph)
            judged.append(f"real ttnn 0.81.1 accepted {p.out_subdir} on a mock {verdict.device}: {verdict.judged_line()}")
    written = []
    for p, files in rendered:
        target = Path(out) / p.out_subdir
        write_package(files, target, force=force)
        written.append({"path": str(target), "files": len(files), "problems": list(p.graph.facts.get("problems", ()))})
    if as_json:
        click.echo(json.dumps({"written": written}, indent=2, sort_keys=True))
    else:
        for line in judged:
            click.echo(line)
        for w in written:
            click.echo(f"wrote {w['path']} ({w['files']} files)")
            for problem in w["problems"]:
                click.echo(f"  not runnable: {problem}")


def _ttnn_check_enabled(mode: str) -> bool:
    if mode == "off":
        return False
    from tttgen.checking.realttnn import environment

    if mode == "on":
        environment.require(where="--ttnn-check on")
        return True
    return environment.available() is not None


def find_packages(root: Path) -> list[Path]:
    if (root / MANIFEST).exists():
        return [root]
    return sorted(p.parent for p in root.rglob(MANIFEST))


@cli.command()
@click.argument("path", required=False, default="generated")
@click.option("--api", "api_check", is_flag=True, help="also check ttnn names and keywords against the API snapshot")
@click.option(
    "--ttnn", "ttnn_check", is_flag=True, help="also run every package under the real ttnn 0.81.1 on a mock device"
)
@click.option("--json", "as_json", is_flag=True)
def check(path, api_check, ttnn_check, as_json) -> None:
    """Regenerate every package under PATH in memory and report missing, changed and stale files."""
    root = Path(path)
    packages = find_packages(root)
    if not packages:
        raise InputError("no generated package (MANIFEST.json) found", where=str(root))
    jobs = [(str(directory), api_check, ttnn_check) for directory in packages]
    if len(jobs) > 1:
        # Packages are independent: check them on every core (fork keeps the imports warm).
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = min(len(jobs), multiprocessing.cpu_count())
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            report = list(pool.map(_check_package, jobs))
    else:
        report = [_check_package(job) for job in jobs]
    drifted = [r for r in report if r["drift"]]
    verdicts = []
    if ttnn_check:
        from tttgen.checking.realttnn.check import run_real_ttnn, summarize

        # the drift check planned every package already: its runner jobs come from those plans
        verdicts = run_real_ttnn(packages, jobs={Path(r["package"]): r.pop("runner_job") for r in report})
    if as_json:
        click.echo(
            json.dumps({"packages": report, "real_ttnn": [v.as_dict() for v in verdicts]}, indent=2, sort_keys=True)
        )
    else:
        for r in report:
            click.echo(f"{'DRIFT' if r['drift'] else 'ok   '} {r['package']}")
            for d in r["drift"]:
                click.echo("  " + d.replace("\n", "\n  "))
        if verdicts:
            for line in summarize(verdicts):
                click.echo(line)
    if drifted or not all(v.ok for v in verdicts):
        sys.exit(1)


def _check_package(job: tuple[str, bool, bool]) -> dict[str, Any]:
    directory, api_check, ttnn_check = Path(job[0]), job[1], job[2]
    try:
        data = json.loads((directory / MANIFEST).read_text())
        request = request_from_manifest(data)
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError("MANIFEST.json is unreadable or has no request", where=str(directory / MANIFEST)) from None
    planned = plan(request)
    drifts = [str(d) for d in compare(render_plan(planned), directory)]
    if not gc.isenabled():  # main() paused the collector: free this package's cycles before the next
        gc.collect()
    if api_check:
        from tttgen.apicheck import check_tree, load_api

        drifts += [f"api: {f}" for f in check_tree(directory, load_api())]
    result: dict[str, Any] = {"package": str(directory), "drift": drifts}
    if ttnn_check:  # the real-ttnn runner's job, from this same plan (not planned a second time)
        from tttgen.checking.realttnn.check import runner_job

        result["runner_job"] = runner_job(directory, planned.graph)
    return result


@cli.command(name="list")
@click.argument("what", type=click.Choice(["models", "devices", "modules"]))
@click.option("--json", "as_json", is_flag=True)
def list_(what, as_json) -> None:
    """List built-in model descriptions, device profiles or module descriptions."""
    if what == "modules":
        _list_modules(as_json)
        return
    names = spec_load.model_names() if what == "models" else spec_load.device_names()
    rows = []
    for name in names:
        if what == "models":
            m, _ = spec_load.load_model(name)
            rows.append(
                {
                    "name": name,
                    "layers": m.num_hidden_layers,
                    "hidden": m.hidden_size,
                    "params_b": round(m.params / 1e9, 2),
                }
            )
        else:
            d, _ = spec_load.load_device(name)
            rows.append(
                {
                    "name": name,
                    "arch": d.arch,
                    "grid": [d.grid.x, d.grid.y],
                    "chips": d.chips,
                    "aliases": list(d.aliases),
                }
            )
    if as_json:
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    for r in rows:
        click.echo("  ".join(f"{k}={v}" for k, v in r.items()))


def _list_modules(as_json: bool) -> None:
    rows = []
    for name in module_names():
        m = load_module(name)
        params = {p: {"type": v.type, "default": v.default, "doc": v.doc} for p, v in m.params.items()}
        kind = "model" if m.is_model else "module"
        rows.append({"name": name, "kind": kind, "description": m.description, "params": params})
    if as_json:
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    for r in rows:
        click.echo(f"{r['name']} ({r['kind']}): {r['description']}")
        for p, v in r["params"].items():
            default = "required" if v["default"] is None else f"default {v['default']}"
            click.echo(f"    {p}: {v['type']}, {default} - {v['doc']}")


VALIDATE_DEVICE = "n150"  # shapes do not depend on the device; validate infers them on one


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
def validate(file) -> None:
    """Validate a module or model description, device profile, hints YAML or Hugging Face config.json."""
    path = Path(file)
    # the whole front end: a description's every shape inferred (no passes, nothing written)
    device, _ = spec_load.load_device(VALIDATE_DEVICE)
    hints, _ = spec_load.load_hints(None, {})
    if path.suffix == ".json":
        from tttgen.build import build_graph

        build_graph(spec_load.load_model(str(path))[0], device, hints)
        click.echo(f"ok: {file} is a supported Hugging Face config")
        return
    data, info = spec_load.read_yaml(path)
    if is_module_data(data):
        from tttgen.builder.expand import infer_defaults

        module = load_module(path)
        unbound = infer_defaults(module, path.parent, device, hints)
        note = f"; shapes not inferred: {', '.join(unbound)} have no default (build --param checks them)" if unbound else ""
        click.echo(f"ok: {file} is a valid {'model' if module.is_model else 'module'} description ({module.name}){note}")
        return
    if isinstance(data, dict) and "arch" in data:
        spec_load.validate_as(spec_load.DeviceProfile, data, info.label)
        kind = "device profile"
    elif isinstance(data, dict) and "hidden_size" in data:
        from tttgen.build import build_graph

        build_graph(spec_load.validate_as(spec_load.ModelSpec, data, info.label), device, hints)
        kind = "model description"
    else:
        spec_load.load_hints(path, {})
        kind = "hints file"
    click.echo(f"ok: {file} is a valid {kind}")


@cli.command()
@click.argument("model", required=False)
@click.option("--config", type=click.Path(dir_okay=False))
@click.option("--device", required=True)
@click.option("--op", "op_name", help="one op (name or key) with its rejected candidates")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table")
@ttnn_check_option("with --op: show the real ttnn's verdict and L1 figure")
@hint_options
def explain(model, config, device, op_name, fmt, ttnn_check, **kw) -> None:
    """Per-op table of the chosen configs and why."""
    from tttgen.explain import (
        explain_inputs,
        explain_rows,
        explain_table,
        layer_moves,
        mesh_lines,
        mesh_summary,
        step_state_lines,
    )

    p = plan(_request(model, config, device, kw))
    rows = explain_rows(p.graph, op_name)
    if op_name and _ttnn_check_enabled(ttnn_check):
        from tttgen.checking.realttnn.check import op_verdicts, verdict_for_rendered

        verdict = verdict_for_rendered(render_plan(p), p.out_subdir, p.graph)
        for row in rows:
            row["ttnn"] = op_verdicts(verdict, row["op"])
    if fmt == "html":
        from tttgen.report_html import explain_html

        click.echo(explain_html(p.graph, rows), nl=False)
    elif fmt == "json":
        doc = {
            "inputs": explain_inputs(p.inputs),
            "ops": rows,
            "layer_moves": layer_moves(p.graph),
            "step_state": p.graph.facts.get("step_state"),
            "decode_host_transfers": p.graph.facts.get("decode_host_transfers"),
        }
        if p.graph.device.chips > 1:
            doc["mesh"] = mesh_summary(p.graph)
        click.echo(json.dumps(jsonable(doc), indent=2, sort_keys=True))
    else:
        moves = None if op_name else layer_moves(p.graph)
        steps = [] if op_name else step_state_lines(p.graph)
        click.echo(
            explain_table(rows, detail=op_name is not None, inputs=explain_inputs(p.inputs), moves=moves, step_state=steps)
        )
        for line in [] if op_name else mesh_lines(mesh_summary(p.graph)):
            click.echo(line)


@cli.command()
@click.argument("model", required=False)
@click.option("--config", type=click.Path(dir_okay=False))
@click.option("--device", required=True)
@click.option(
    "--checkpoint",
    type=click.Path(file_okay=False, exists=True),
    help="HF safetensors checkpoint (default: random init)",
)
@click.option("--steps", type=int, default=8, show_default=True, help="decode steps after the prefill")
@click.option("--prompt-len", type=int, default=128, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@hint_options
def verify(model, config, device, checkpoint, steps, prompt_len, as_json, **kw) -> None:
    """Run the generated package on the ttnn CPU emulator against Hugging Face transformers."""
    from tttgen.checking.verification import run_verify

    p = plan(_request(model, config, device, kw))
    if is_module_plan(p):
        _verify_module(p, as_json)
        return
    hints = p.graph.hints
    # a paged package runs longer prompts as chunks; the decode steps must still fit the cache
    longest = hints.max_seq_len - steps if hints.paged else max(hints.prefill_lens)
    if not 1 <= prompt_len <= longest:
        raise InputError(
            f"--prompt-len {prompt_len} is not in [1, {longest}]",
            where="--prompt-len",
            hint="with --paged: up to max_seq_len - steps (chunked prefill); without: up to the largest prefill length",
        )
    report = run_verify(p, Path(checkpoint) if checkpoint else None, steps=steps, prompt_len=prompt_len)
    data = report.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(f"{data['model']} on {data['device']} ({data['precision']}), threshold PCC >= {data['threshold']}")
        for i, value in enumerate(data["layer_pcc"]):
            click.echo(f"  layer {i:3d} output PCC  {value:.5f}")
        click.echo(f"  prefill logits PCC    {data['prefill_logits_pcc']:.5f}")
        for i, value in enumerate(data["decode_logits_pcc"]):
            click.echo(f"  decode step {i} logits PCC {value:.5f}")
        click.echo(f"  greedy tokens agree   {data['token_agreement']}/{data['steps']} (need {data['min_agreement']})")
        failures = data["sampling_failures"]
        click.echo(f"  sampled draws         {'within their limits' if not failures else f'{len(failures)} broke them'}")
        for failure in failures:
            click.echo(f"  sampling: {failure}")
        for finding in data["api_findings"]:
            click.echo(f"  api: {finding}")
        click.echo("PASS" if report.passed else "FAIL")
    if not report.passed:
        sys.exit(1)


@cli.command()
@click.argument("model", required=False)
@click.option(
    "--config", type=click.Path(dir_okay=False), help="a Hugging Face config.json (default: the checkpoint's)"
)
@click.option("--device", default="n150", show_default=True, help="the device profile the package is built for")
@click.option(
    "--package",
    "package_dir",
    type=click.Path(file_okay=False, exists=True),
    help="an LM package already built (instead of building MODEL into a temporary directory)",
)
@click.option(
    "--checkpoint",
    type=click.Path(file_okay=False, exists=True),
    required=True,
    help="Hugging Face checkpoint folder: safetensors, config.json, tokenizer files",
)
@click.option("--prompt", "prompts", multiple=True, required=True, help="a prompt (repeat: one user slot each)")
@click.option("--max-new-tokens", type=int, default=16, show_default=True)
@click.option("--no-chat", is_flag=True, help="encode the prompts as plain text, not with the chat template")
@click.option("--system", help="a system message before each prompt (chat template only)")
@click.option("--top-k", type=int, help="sample on device (default: greedy)")
@click.option("--top-p", type=float, help="sample on device (default: greedy)")
@click.option("--temperature", type=float, help="sample on device (default: greedy)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per prompt: ids, text, finish reason")
@hint_options
def run(model, config, device, package_dir, checkpoint, prompts, **kw) -> None:
    """Generate text with an LM package's own generate loop (`python -m <package>` on a board) on tttgen's ttnn CPU
    emulator: slow (every op runs on the CPU; minutes for a 135M model), for trying a package without a device.
    MODEL defaults to the checkpoint's config.json."""
    from tttgen.checking.run import run_package, run_plan

    argv = _demo_argv(checkpoint, prompts, kw)
    if package_dir is not None and (model or config):
        raise InputError("--package runs a package already built: give no MODEL or --config with it", where="--package")
    if package_dir is None and not (model or config):
        config = str(Path(checkpoint) / "config.json")
        if not Path(config).is_file():
            raise InputError(f"{checkpoint} has no config.json", where="--checkpoint", hint="name a MODEL or --config")
    note = "tttgen run: {}, on tttgen's ttnn CPU emulator (no device; slow: every op runs on the CPU)"
    if package_dir is not None:
        click.echo(note.format(f"the package {package_dir}"), err=True)
        code = run_package(Path(package_dir), argv)
    else:
        p = plan(_request(model, config, device, kw))
        click.echo(note.format(f"{p.graph.name} built for {p.graph.device.name} in a temporary directory"), err=True)
        code = run_plan(p, argv)
    if code:
        sys.exit(code)


def _demo_argv(checkpoint: str, prompts: tuple[str, ...], kw: dict[str, Any]) -> list[str]:
    """`tttgen run`'s generation options as the package demo's arguments (popped from kw: the rest are hints)."""
    argv = ["--checkpoint", str(checkpoint), "--max-new-tokens", str(kw.pop("max_new_tokens"))]
    argv += ["--seed", str(kw.pop("seed"))]
    for text in prompts:
        argv += ["--prompt", text]
    argv += ["--no-chat"] if kw.pop("no_chat") else []
    argv += ["--json"] if kw.pop("as_json") else []
    for name in ("system", "top_k", "top_p", "temperature"):
        value = kw.pop(name)
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return argv


def _verify_module(p, as_json: bool) -> None:
    """A module package on the emulator against the torch reference its description names, once per mode."""
    from tttgen.checking.verification import verify_module

    report = verify_module(p)
    data = report.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo("\n".join(report.lines()))
    if not report.passed:
        sys.exit(1)


cli.add_command(cost)


def main() -> None:
    """One command, as `tttgen` runs it (tests call it in process too). The cyclic garbage collector is paused while
    it runs: reference counting frees nearly everything a build makes, and the collector's passes over the growing
    graph and black's syntax trees cost ~0.2 s of a 70B build's CPU (benchmarks/results/2026-12-07-build-time.md;
    the peak RSS grows ~3 MB). A command that plans many packages collects after each (_check_package). Output does
    not depend on it; the collector is as it was when main returns."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        cli.main(standalone_mode=False)
    except TttgenError as err:
        click.echo(f"error: {err.render()}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(2)
    finally:
        if was_enabled:
            gc.enable()


def program() -> None:
    """The `tttgen` program (python -m tttgen, the console script; not the `run` command above): main(), then out of the process without the
    interpreter's teardown, which frees every object of the build one by one and collects once more (~0.1 s of a
    70B build's CPU) for a process that is ending anyway. The exit handlers still run and the output is flushed;
    an exception other than SystemExit leaves the usual way, with its traceback."""
    import atexit

    gc.disable()
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, status 1, as Python does
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120  # Python's own status when the final flush fails
    os._exit(code)
