"""`tttgen check --ttnn`: ask the real ttnn 0.81.1, on a mock device, about every op of generated packages.

Host side (the main venv). For each package it writes a job for `runner.py` — the checkpoint's tensor shapes (from
the torch reference built on the meta device, so nothing is allocated), and the calls that cover every mode —
runs the runner in the ttnn venv once per board (one mock cluster per process), and turns its records into
findings: ops ttnn rejected (with its message and the model.py line), L1 per core the generator claims below
what ttnn reports, configs.py objects that fail to construct, API names or keywords the real package lacks.
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tttgen.errors import InputError, TttgenError
from tttgen.checking.realttnn import environment, report_cache
from tttgen.checking.realttnn.mesh import mesh_rules

RUNNER = Path(__file__).resolve().parent / "runner.py"
DECODE_USERS_DEFAULT = 32


@dataclass
class PackageVerdict:
    package: str
    device: str
    ops: list[dict[str, Any]] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False  # the report of an identical earlier run (report_cache): same package, job, runner, board
    # op calls, distinct calls and calls ttnn ran (runner.py judges each distinct call once, memo.py)
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "device": self.device,
            "ok": self.ok,
            "findings": self.findings,
            "phases": self.phases,
            "ops": self.ops,
            "seconds": self.seconds,
            "cached": self.cached,
            "memo": self.memo,
        }

    def judged_line(self) -> str:
        """`N op calls, M distinct, judged J`: how many calls ttnn itself ran (an identical call, same op, argument
        specs, configs and allocator state as one it accepted, reuses that verdict and its L1 figures)."""
        m = self.memo
        calls = m.get("calls", sum(op["calls"] for op in self.ops))
        judged = m.get("judged", sum(op.get("judged", op["calls"]) for op in self.ops))
        line = f"{calls} op calls, {m.get('distinct', judged)} distinct, judged {judged}"
        if m.get("unkeyed"):
            line += f" ({m['unkeyed']} not keyable, judged each time)"
        return line


def checkpoint_shapes(graph) -> dict[str, list[int]]:
    """Tensor name -> shape of the checkpoint the package loads: the torch reference built on the meta device.

    Parameters shared between modules (tied embeddings) appear once, under their first name, as save_pretrained
    writes them."""
    import torch
    from transformers import AutoModelForCausalLM

    from tttgen.checking.verification import hf_config

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(hf_config(graph.entry.reference))
    saved = model.state_dict(keep_vars=True).keys()  # persistent buffers only (rotary inv_freq is not)
    shapes = {name: list(p.shape) for name, p in model.named_parameters()}
    shapes.update({name: list(b.shape) for name, b in model.named_buffers() if name in saved})
    return dict(sorted(shapes.items()))


def calls_for(graph) -> list[dict[str, Any]]:
    """The calls that run every mode the package was built for: each prefill length once, then one decode step with
    each decode tail (the argmax, the sampled draw)."""
    users = int(graph.facts.get("decode_rows", DECODE_USERS_DEFAULT))
    calls = [
        {"phase": f"prefill_{n}", "method": "prefill_forward", "args": [{"tensor": [1, n], "dtype": "int64"}, 0]}
        for n in graph.hints.prefill_lens
    ]
    calls.append(
        {
            "phase": "decode",
            "method": "decode_forward",
            # untraced (each op dispatched on its own, as the mock device validates them; the trace replays them)
            # and greedy: the step's every op, then the on-device argmax the plain step leaves out
            "args": [{"tensor": [users], "dtype": "int64"}, {"tensor": [users], "dtype": "int64"}, False, True],
        }
    )
    calls.append({"phase": "seed_sampling", "method": "seed_sampling", "args": [1234]})
    calls.append(
        {
            "phase": "decode_sampled",
            "method": "decode_forward",
            # untraced again, with the top-k / top-p draw on device in place of the argmax
            "args": [{"tensor": [users], "dtype": "int64"}, {"tensor": [users], "dtype": "int64"}, False],
            "kwargs": {"sampling": {"top_k": 32, "top_p": 0.9, "temperature": 0.7}},
        }
    )
    return calls


def _claims(directory: Path) -> dict[str, int]:
    manifest = json.loads((directory / "MANIFEST.json").read_text())
    return {op["key"]: op["l1_bytes_per_core"] for op in manifest.get("ops", []) if op.get("l1_bytes_per_core")}


def findings_for(report: dict[str, Any], claims: dict[str, int]) -> tuple[list[str], list[dict[str, Any]]]:
    """Runner report -> (findings, per-op rows with the generator's L1 claim next to ttnn's figure)."""
    findings = [f"error: {e}" for e in report.get("errors", [])]
    findings += [f"api: {a}" for a in report.get("api", [])]
    rows = []
    for op in report.get("ops", []):
        claim = claims.get(op["key"])
        row = {**op, "l1_claimed": claim}
        rows.append(row)
        where = f"{op['file']}:{op['line']} {op['fn']} [{op['key']}]"
        if op["accepted"] < op["calls"]:
            prefix = "rejected (after an earlier rejection)" if op["after_rejection"] else "rejected"
            findings.append(f"{prefix}: {where}: {op['message']}")
        elif claim is not None and claim < op["l1_total"]:
            findings.append(
                f"L1 claim below ttnn's figure: {where}: claimed {claim} B/core, ttnn reports {op['l1_total']} B/core"
            )
    for phase in report.get("phases", []):
        if phase["status"].startswith("aborted"):
            findings.append(f"{phase['phase']}: {phase['status']}")
    return findings, rows


def _planned_graph(directory: Path):
    """The optimized graph of a package on disk, re-planned from its MANIFEST request."""
    from tttgen.generate import plan, request_from_manifest

    try:
        manifest = json.loads((directory / "MANIFEST.json").read_text())
        request = request_from_manifest(manifest)
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(
            "MANIFEST.json is unreadable or has no request", where=str(directory / "MANIFEST.json")
        ) from None
    return plan(request).graph


def module_job(graph) -> dict[str, Any]:
    """A module package's runner job: its weights placed from host tensors of the shapes weights.host_weights
    gives (the load-time transforms are checked against torch by the emulator tests, not here), then `forward`
    once per mode on inputs moved by `to_device` (on a mesh: one design per chip, each chip its own)."""
    from tttgen.render.module import host_weight_shapes

    variants = graph.facts.get("mode_variants", {})
    # a data-parallel mesh package takes one design per chip, concatenated on the host dim the pass chose
    placed = (graph.facts.get("mesh") or {}).get("designs")
    calls = []
    for key, io in graph.facts["io"].items():
        args = [{"tensor": shape, "dtype": "float32"} for shape in io["inputs"].values()]
        if placed:
            for arg, name in zip(args, io["inputs"]):
                if name in placed["inputs"][key]:
                    d = placed["inputs"][key][name]  # a per-layer list's designs: dim 0 of each layer's tensor
                    arg["tensor"] = [*arg["tensor"][:d], arg["tensor"][d] * placed["per_call"], *arg["tensor"][d + 1 :]]
        variant = variants.get(key, "prefill")
        entries = graph.facts.get("mode_entries") or {"to_device": {}}
        if variant in entries["to_device"]:  # a variant forward does not serve: its own to_device, its mode method
            entry = f"to_device_{entries['to_device'][variant]}"
            calls.append({"phase": key, "method": key, "through": entry, "args": args})
        else:
            calls.append({"phase": key, "method": "forward", "through": "to_device", "args": args})
    return {"host_weights": host_weight_shapes(graph), "calls": calls}


def runner_job(directory: Path, graph) -> tuple[dict[str, Any], str]:
    """The runner job of one package (plain JSON data: `tttgen check` computes it beside its drift check, from the
    same plan) and its device profile name. prepare_job places it in a work directory."""
    module = graph.entry.is_module
    job = {
        "dir": str(directory.resolve()),
        "label": str(directory),
        "checkpoint_shapes": {} if module else checkpoint_shapes(graph),
        "calls": calls_for(graph),
        "grid": [graph.device.grid.x, graph.device.grid.y],
    }
    rules = mesh_rules(graph.device)
    if rules:
        job["mesh_rules"] = rules
    if module:
        job.update(module_job(graph))
    return job, graph.device.name


def prepare_job(directory: Path, workdir: Path, graph=None, prepared=None) -> tuple[dict[str, Any], str]:
    """The runner job of one package in `workdir`, and its device profile name (`graph`: the package's, when the
    caller has it; `prepared`: its runner_job, when the caller computed that already)."""
    job, device = prepared or runner_job(directory, graph if graph is not None else _planned_graph(directory))
    job = dict(job)
    shapes_file = workdir / f"{abs(hash(str(directory)))}_shapes.json"
    shapes_file.write_text(json.dumps(job.pop("checkpoint_shapes")))
    job["shapes_file"] = str(shapes_file)
    job["checkpoint_dir"] = str(workdir / "checkpoint")  # never read: the safetensors stand-in serves the shapes
    return job, device


def run_real_ttnn(
    packages: list[Path], graphs: dict[Path, Any] | None = None, jobs: dict[Path, tuple[dict, str]] | None = None
) -> list[PackageVerdict]:
    """Check every package under the real ttnn; one runner process per device profile, side by side. `graphs`
    gives the optimized graph of packages the caller has just planned, `jobs` their runner_job (the others are
    re-planned from their MANIFEST)."""
    environment.require()
    graphs, jobs = graphs or {}, jobs or {}
    verdicts: list[PackageVerdict] = []
    with tempfile.TemporaryDirectory(prefix="tttgen-realttnn-") as tmp:
        work = Path(tmp)
        by_device: dict[str, list[dict[str, Any]]] = {}
        known: list[tuple[dict[str, Any], str, dict[str, Any]]] = []  # (job, device, report) judged before
        for directory in packages:
            job, device = prepare_job(directory, work, graphs.get(directory), jobs.get(directory))
            job["cache_key"] = report_cache.key(job, device)
            report = report_cache.load(job["cache_key"])
            if report is not None:
                known.append((job, device, report))
            else:
                by_device.setdefault(device, []).append(job)
        files = {device: (work / f"job_{device}.json", work / f"out_{device}.json") for device in by_device}
        for device, (job_file, _) in files.items():
            job_file.write_text(json.dumps({"packages": by_device[device]}))
        # one mock board per device profile, each its own process: they run side by side
        with ThreadPoolExecutor(max_workers=max(1, len(files))) as pool:
            failures = dict(zip(files, pool.map(lambda d: environment.run_script(RUNNER, *files[d], d), files)))
        for device in sorted(by_device):
            jobs = by_device[device]
            out_file = files[device][1]
            failure = failures[device]
            if failure:
                verdicts += [
                    PackageVerdict(job["label"], device, findings=[f"runner failed: {failure}"]) for job in jobs
                ]
                continue
            result = json.loads(out_file.read_text())
            for job, report in zip(jobs, result["packages"]):
                if not any(e.startswith("runner:") for e in report.get("errors", [])):
                    report_cache.store(job["cache_key"], report)  # a crash of the runner itself is not a verdict
                verdicts.append(package_verdict(job, device, report))
        verdicts += [package_verdict(job, device, report, cached=True) for job, device, report in known]
    return sorted(verdicts, key=lambda v: v.package)


def package_verdict(job: dict[str, Any], device: str, report: dict[str, Any], cached: bool = False) -> PackageVerdict:
    findings, rows = findings_for(report, _claims(Path(job["dir"])))
    return PackageVerdict(
        job["label"], device, rows, report.get("phases", []), findings, report.get("seconds", 0.0), cached,
        report.get("memo", {}),
    )


class RejectedByTtnn(TttgenError):
    """The real ttnn rejects a config tttgen chose: a gap in tttgen's rules, not bad input."""

    exit_code = 3


def verdict_for_rendered(files: dict[str, str], subdir: Path, graph) -> PackageVerdict:
    """Write a rendered package (of the optimized `graph`) to a scratch directory and run it under the real ttnn."""
    from tttgen.output.write import write_package

    with tempfile.TemporaryDirectory(prefix="tttgen-build-check-") as tmp:
        directory = Path(tmp) / subdir
        write_package(files, directory, force=True)
        [verdict] = run_real_ttnn([directory], {directory: graph})
    verdict.package = str(subdir)
    return verdict


def op_verdicts(verdict: PackageVerdict, key: str) -> list[dict[str, Any]]:
    """ttnn's verdict on one op (`decode.wqkv`), one row per model.py call site."""
    rows = []
    for op in verdict.ops:
        if op["key"] == key:
            state = "accepted" if op["accepted"] == op["calls"] else "rejected"
            rows.append(
                {
                    "verdict": state,
                    "message": op["message"],
                    "calls": op["calls"],
                    "judged": op.get("judged", op["calls"]),  # calls ttnn ran; the rest matched one it accepted
                    "line": f"{op['file']}:{op['line']}",
                    "l1_total": op["l1_total"],
                    "l1_dataflow": op["l1_dataflow"],
                    "l1_claimed": op.get("l1_claimed"),
                }
            )
    return rows


def judge_rendered(files: dict[str, str], subdir: Path, graph) -> PackageVerdict:
    """Run a rendered package under the real ttnn and stop on any finding."""
    verdict = verdict_for_rendered(files, subdir, graph)
    if not verdict.ok:
        listed = "\n  ".join(verdict.findings)
        raise RejectedByTtnn(
            f"the real ttnn 0.81.1 does not accept the generated package (a gap in tttgen's rules; nothing was written):\n  {listed}",
            where=str(subdir),
        )
    return verdict


def summarize(verdicts: list[PackageVerdict]) -> list[str]:
    lines = []
    totals = {"calls": 0, "distinct": 0, "judged": 0}
    for v in verdicts:
        accepted = sum(op["accepted"] for op in v.ops)
        calls = sum(op["calls"] for op in v.ops)
        lines.append(
            f"{'ok   ' if v.ok else 'FAIL '} {v.package} [real ttnn, mock {v.device}]: {accepted}/{calls} op calls accepted "
            f"({v.judged_line()}), "
            + (f"cached ({v.seconds:.1f} s when run)" if v.cached else f"{v.seconds:.1f} s")
        )
        lines += [f"  {f}" for f in v.findings]
        for k in totals:
            totals[k] += v.memo.get(k, 0)
    if len(verdicts) > 1 and totals["calls"]:
        lines.append(
            f"real ttnn: {totals['calls']} op calls, {totals['distinct']} distinct, judged {totals['judged']} "
            f"(each distinct call once: same op, argument specs, configs and allocator state; docs/real-ttnn.md)"
        )
    return lines
