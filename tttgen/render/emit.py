"""Shared by the renderer (tttgen/render/module.py): the Jinja environment, black in-process, graph.json and
MANIFEST.json. Writes no package file; black's output is cached by content (in memory, and on disk under
.tttgen-cache/black/ when that is writable), which never changes what it returns."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import jinja2

from tttgen import TARGET_TTNN_VERSION, __version__
from tttgen.ir.configs import CoreRanges, MatmulConfig, MatmulShape, MemoryPlacement
from tttgen.ir.graph import Graph, Op
from tttgen.inputs.load import InputFile

try:  # black's own version module: the version without importing black (which takes a tenth of a second)
    from _black_version import version as BLACK_VERSION
except ImportError:  # pragma: no cover - a black installed without it
    from importlib.metadata import version as _version

    BLACK_VERSION = _version("black")

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
BLACK_LINE_LENGTH = 120
BLACK_TARGET = "PY310"
PYTHON_FILES = ("__init__.py", "configs.py", "model.py", "weights.py")
MANIFEST = "MANIFEST.json"
# Graph facts graph.json leaves out: placements printed per op already, and the description's structure (module
# functions, inputs, params) that model.py itself shows.
HIDDEN_FACTS = (
    "residual",
    "heads_placement",
    "functions",
    "io",
    "module",
    "module_doc",
    "module_usage",
    "module_params",
    "hint_params",
    "mode_entries",
    "state_shapes",
    "host_shapes",
    "called_files",
    "traced_modes",  # op_costs' trace and sampling decisions: model.py, configs.py and the README print them
    "trace",
    "sampling_plan",
    "weight_placements",  # what the memory pass weighed per weight, for `explain` (the choice is printed per weight)
)


@functools.lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """One per process: the templates are parsed once, not once per render. Compiled templates are kept on disk as
    Python keeps .pyc files (jinja2's bytecode cache, keyed by each template's source and checked against it on
    load; a tenth of a second a process): under .tttgen-cache/jinja/, or the directory TTTGEN_JINJA_CACHE names, or
    none when it is "off" or cannot be created. It holds compiled templates, never rendered output."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_template_cache(),
    )


def _template_cache() -> jinja2.BytecodeCache | None:
    setting = os.environ.get("TTTGEN_JINJA_CACHE", "")
    if setting == "off":
        return None
    directory = Path(setting) if setting else TEMPLATES.parent / ".tttgen-cache" / "jinja"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(directory))


class FormatError(RuntimeError):
    """black rejected rendered code: a template bug. The message carries the source."""


# black is most of a render's time, and the same rendered source recurs (`tttgen check` then the tests, several
# tests over one package). A result is keyed by black's version, its mode and how it runs (one pass, below), so a
# hit returns exactly what black would. TTTGEN_BLACK_CACHE names another directory, or "off" for none on disk.
# black itself is imported on the first miss only: a build whose every file is cached never loads it.
BLACK_KEY = f"black {BLACK_VERSION} mode line_length={BLACK_LINE_LENGTH} target_versions={BLACK_TARGET} one pass"
BLACK_CACHE_BUCKET = 32  # entries kept per bucket (256 buckets by the key's first two hex digits), least recent dropped
_formatted: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    if name == "BLACK_MODE":
        return black_mode()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.lru_cache(maxsize=None)
def black_mode():
    import black

    return black.Mode(line_length=BLACK_LINE_LENGTH, target_versions={getattr(black.TargetVersion, BLACK_TARGET)})


def black_cache_dir() -> Path | None:
    setting = os.environ.get("TTTGEN_BLACK_CACHE", "")
    if setting == "off":
        return None
    return Path(setting) if setting else TEMPLATES.parent / ".tttgen-cache" / "black"


def run_black(source: str) -> str:
    """black's first pass. black.format_str formats a second time when the first pass changed anything: that pass
    is black's guard against its own unstable output (a trailing comma the first pass added changing the split on a
    second run). tttgen runs one, which halves black's time; what it renders is stable under black: every committed
    golden equals a fresh render (tests/test_golden.py, `tttgen check generated`), and the full two-pass black
    leaves goldens unchanged (test_black_leaves_a_golden_unchanged). A black without the one-pass entry point gets
    format_str."""
    import black

    once = getattr(black, "_format_str_once", None)
    if once is None:
        return black.format_str(source, mode=black_mode())
    return once(source, mode=black_mode())


def format_python(source: str, name: str) -> str:
    return format_files({name: source})[name]


def format_files(sources: dict[str, str]) -> dict[str, str]:
    """black's output per file name (cached by content, see above). The misses are formatted by run_black; with two
    or more and a second core, a forked child process formats about half of the text (the largest files) while this
    process formats the rest: black's time is proportional to the text, and a package's files are independent.
    Output is the same either way (the same function on the same text); TTTGEN_BLACK_PARALLEL=off formats all
    here. A child that fails for any reason leaves its files to this process."""
    directory = black_cache_dir()
    keys = {name: sha256(f"{BLACK_KEY}\n{source}") for name, source in sources.items()}
    out: dict[str, str] = {}
    misses: dict[str, str] = {}
    for name, source in sources.items():
        key = keys[name]
        hit = _formatted.get(key)
        if hit is None and directory:
            hit = _read_cached(directory / key[:2] / f"{key}.json")
        if hit is None:
            misses[name] = source
        else:
            out[name] = _formatted[key] = hit
    if misses:
        black_mode()  # black imported and its mode built before a fork: the child inherits both
        child = _fork_black(misses) if _parallel_ok(misses) else None
        done: dict[str, str | Exception] = {}
        try:
            for name, source in misses.items():
                if not (child and name in child.names):
                    done[name] = _black_or_error(source)
        finally:
            done.update(child.collect() if child else {})
        for name, source in misses.items():  # the child's files it did not deliver, then errors in file order
            result = done[name] if name in done else _black_or_error(source)
            if isinstance(result, Exception):
                numbered = "\n".join(f"{i + 1:5d} {line}" for i, line in enumerate(source.splitlines()))
                raise FormatError(f"black could not parse rendered {name}: {result}\n{numbered}") from None
            out[name] = _formatted[keys[name]] = result
            if directory:
                _write_cached(directory / keys[name][:2] / f"{keys[name]}.json", result)
    return {name: out[name] for name in sources}


def _parallel_ok(misses: dict[str, str]) -> bool:
    """Fork only where it is safe and can pay: two or more misses, Linux (fork is unsafe after some system libraries
    load on macOS, absent on Windows), one thread (forking a threaded process is unsafe), a second core this
    process may run on."""
    if len(misses) < 2 or os.environ.get("TTTGEN_BLACK_PARALLEL", "") == "off" or not sys.platform.startswith("linux"):
        return False
    import threading

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores > 1 and threading.active_count() == 1


def _black_or_error(source: str) -> str | Exception:
    """run_black's output, or black's parse error (returned, so every file is formatted before one is reported)."""
    import black

    try:
        return run_black(source)
    except black.InvalidInput as err:
        return err


class _Child:
    """A forked black for some files (`names`): it writes their texts to a pipe as JSON and exits. `collect` reads
    and reaps it, once; a file it did not deliver (a crash, a kill, black's parse error) is missing from what
    `collect` returns, and this process formats it itself (and meets the same error)."""

    def __init__(self, pid: int, fd: int, names: list[str]):
        self.pid, self.fd, self.names = pid, fd, names
        self._collected = False

    def collect(self) -> dict[str, str]:
        if self._collected:
            return {}
        self._collected = True
        with os.fdopen(self.fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return {}
        try:
            texts = json.loads(data.decode("utf-8"))
        except ValueError:
            return {}
        return {name: texts[name] for name in self.names if isinstance(texts.get(name), str)}


def _fork_black(misses: dict[str, str]) -> _Child | None:
    """Split the misses by size (largest first, each to the lighter side); fork a child for its side."""
    theirs, mine, load = [], [], [0, 0]
    for name in sorted(misses, key=lambda n: (-len(misses[n]), n)):
        side = 0 if load[0] <= load[1] else 1
        (theirs if side == 0 else mine).append(name)
        load[side] += len(misses[name])
    if not mine:
        return None
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: never returns to the caller
        code = 1
        try:
            os.close(read_fd)
            texts = {name: _black_or_error(misses[name]) for name in theirs}
            payload = json.dumps({n: t for n, t in texts.items() if isinstance(t, str)}).encode("utf-8")
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return _Child(pid, read_fd, theirs)


def _read_cached(path: Path) -> str | None:
    """A cached result, or None when absent, unreadable or not intact (its recorded hash must match its text)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        text = record["text"]
        if not (isinstance(text, str) and record.get("sha256") == sha256(text)):
            return None
        os.utime(path)  # recently used: kept when its bucket is trimmed
        return text
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cached(path: Path, text: str) -> None:
    """Write atomically (a reader sees the whole record or none); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"sha256": sha256(text), "text": text}, out)
        os.replace(staging, path)
    except OSError:
        Path(staging).unlink(missing_ok=True)
        return
    _trim(path.parent)


def _trim(bucket: Path) -> None:
    """Keep the cache bounded: drop a bucket's least recently used entries beyond BLACK_CACHE_BUCKET."""
    try:
        entries = sorted(bucket.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
        for stale in entries[BLACK_CACHE_BUCKET:]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass


def package_name(model_name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", model_name.lower())


def jsonable(value: Any) -> Any:
    if isinstance(value, MatmulConfig):
        return {"type": value.type, **value.fields()}
    if isinstance(value, MatmulShape):
        return {"batch": value.batch, "m": value.m, "k": value.k, "n": value.n}
    if isinstance(value, MemoryPlacement):
        return value.manifest()
    if isinstance(value, CoreRanges):
        return [[list(a), list(b)] for a, b in value.ranges]
    if hasattr(value, "__dataclass_fields__"):
        return {k: jsonable(getattr(value, k)) for k in value.__dataclass_fields__ if k != "extra"}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def op_record(op: Op) -> dict[str, Any]:
    """The manifest's per-op record (issue contract: ttnn field names, memory per operand)."""
    d = op.decisions
    program = d.get("program")
    kernel = d.get("kernel")
    shape = d.get("shape") or op.shape
    pinned = {"pinned": jsonable(d["pinned"])} if d.get("pinned") else {}  # only pinned ops carry the key
    return {
        **pinned,
        "name": op.name,
        "key": op.key,
        "kind": op.kind,
        "mode": op.mode,
        "seq": op.seq,
        "shape": jsonable(shape) if shape else None,
        "dtypes": jsonable(d.get("dtypes")),
        "program_config": jsonable(program) if program is not None else None,
        "compute_kernel_config": jsonable(kernel) if kernel is not None else None,
        "memory": {side: jsonable(d[side]) if d.get(side) is not None else None for side in ("in0", "in1", "out")},
        "l1_bytes_per_core": d.get("l1_bytes"),
        "cores": d.get("cores"),
    }


def graph_document(graph: Graph) -> dict[str, Any]:
    ops = []
    for op in graph.ops:
        rec = op_record(op)
        rec["scope"] = op.scope
        rec["facts"] = jsonable(op.facts)
        rec["decisions"] = jsonable(
            {k: v for k, v in op.decisions.items() if k not in ("shape", "program", "kernel", "in0", "in1", "out")}
        )
        ops.append(rec)
    return {
        "model": graph.name,
        "device": graph.device.name,
        "passes": sorted(graph.annotated),
        "weights": [
            {
                "name": w.name,
                "role": w.role,
                "k": w.k,
                "n": w.n,
                "per_layer": w.per_layer,
                "hf_names": list(w.hf_names),
                **jsonable(dict(w.decisions.items())),
            }
            for w in graph.weights
        ],
        "facts": jsonable({k: v for k, v in graph.facts.items() if k not in HIDDEN_FACTS}),
        "ops": ops,
    }


def header_line(inputs: list[InputFile]) -> str:
    return f"# Code generated by tttgen from {' + '.join(i.label for i in inputs if not i.called)}. DO NOT EDIT."


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def manifest(graph: Graph, inputs: list[InputFile], files: dict[str, str], request: dict[str, Any]) -> dict[str, Any]:
    device, hints = graph.device, graph.hints
    return {
        "request": jsonable(request),
        "generator": {"name": "tttgen", "version": __version__, "black": BLACK_VERSION},
        "target": {
            "device": device.name,
            "arch": device.arch,
            "grid": [device.grid.x, device.grid.y],
            "ttnn_version": TARGET_TTNN_VERSION,
        },
        "inputs": [
            {
                "path": i.label,
                "sha256": i.sha256,
                "ignored_fields": list(i.ignored_fields),
                **({"called": True} if i.called else {}),
            }
            for i in inputs
        ],
        "hints": jsonable(hints.model_dump(mode="json")),
        "passes": sorted(graph.annotated),
        "dram_bytes": jsonable(graph.facts.get("dram")),
        "problems": list(graph.facts.get("problems", ())),
        "files": {name: sha256(text) for name, text in sorted(files.items())},
        "ops": [op_record(op) for op in graph.ops],
    }
