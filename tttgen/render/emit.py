"""Shared by the renderer (tttgen/render/module.py): the Jinja environment, black in-process, graph.json and
MANIFEST.json. Writes no package file; black's output is cached by content (in memory, and on disk under
.tttgen-cache/black/ when that is writable), which never changes what it returns."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import signal
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
    here. A child that fails for any reason leaves its files to this process. With a formatter started beforehand
    (`formatter()`, which `tttgen build` opens), its processes format the misses instead (see start_format)."""
    return start_format(sources)()


def start_format(sources: dict[str, str]):
    """format_files' result, as a function to call for it: when a formatter (`formatter()`) is open, the misses go to
    its processes now and the call collects them, so this process can do other work while black runs (the
    renderer writes graph.json and plan.json meanwhile); without one, everything is done here and now. The result
    is the same either way: black's text for every file, or the same FormatError for the first file in order that
    black cannot parse."""
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
    helper = _helper if misses else None
    sent = helper.send(misses) if helper else False

    def finish(done: dict[str, str | Exception]) -> dict[str, str]:
        for name, source in misses.items():  # files nobody delivered, then errors in file order
            result = done[name] if name in done else _black_or_error(source)
            if isinstance(result, Exception):
                numbered = "\n".join(f"{i + 1:5d} {line}" for i, line in enumerate(source.splitlines()))
                raise FormatError(f"black could not parse rendered {name}: {result}\n{numbered}") from None
            out[name] = _formatted[keys[name]] = result
            if directory:
                _write_cached(directory / keys[name][:2] / f"{keys[name]}.json", result)
        return {name: out[name] for name in sources}

    if sent:
        return lambda: finish(helper.receive())
    result = finish(_format_split(misses) if misses else {})
    return lambda: result


def _format_split(misses: dict[str, str]) -> dict[str, str | Exception]:
    """black's text (or parse error) for every miss: about half of the text (the largest files) in a forked child
    where _parallel_ok, the rest in this process; a file the child did not deliver is formatted here too. Used by
    start_format without a formatter, and by the formatter process for each request."""
    black_mode()  # black imported and its mode built before a fork: the child inherits both
    child = _fork_black(misses) if _parallel_ok(misses) else None
    done: dict[str, str | Exception] = {}
    try:
        for name, source in misses.items():
            if not (child and name in child.names):
                done[name] = _black_or_error(source)
    finally:
        done.update(child.collect() if child else {})
    return done


_helper: _Formatter | None = None


@contextlib.contextmanager
def formatter():
    """Within this block, format_files' misses go to a formatter process forked at its start (where forking is safe
    and a second core can run it, as for format_files' own child: _parallel_ok): when black will surely be needed
    (_misses_likely) it imports black while this process plans, which takes that off the build's path (~0.1 s),
    and it formats each request's files in two processes (itself and a child it forks, the largest files on one
    side) while this process writes the package's JSON. It sends back black's text for the files black could
    format; the rest (a parse error, a dead formatter) this process formats itself, so output and errors are as
    without it. Stopped when the block ends. Not reentrant: a block inside another one uses the outer formatter."""
    global _helper
    if _helper is not None or not _fork_ok():
        yield
        return
    _helper = _Formatter.start(eager=_misses_likely())
    try:
        yield
    finally:
        helper, _helper = _helper, None
        if helper is not None:
            helper.stop()


def _misses_likely() -> bool:
    """Whether black will surely be needed: its disk cache is off, or holds nothing yet. Then the formatter imports
    black at once, while the build plans; otherwise (most files are usually cached: a rebuild, the tests) at its
    first request, so a build whose every file is a hit spends nothing on black (~0.1 s of CPU)."""
    directory = black_cache_dir()
    if directory is None:
        return True
    try:
        return next(directory.iterdir(), None) is None
    except OSError:
        return True


def _split_by_size(misses: dict[str, str]) -> tuple[list[str], list[str]]:
    """The largest files first, each to the lighter side: (first side, second side)."""
    sides: tuple[list[str], list[str]] = ([], [])
    load = [0, 0]
    for name in sorted(misses, key=lambda n: (-len(misses[n]), n)):
        side = 0 if load[0] <= load[1] else 1
        sides[side].append(name)
        load[side] += len(misses[name])
    return sides


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view):]


def _read_frame(fd: int) -> bytes | None:
    """One length-prefixed frame, or None at the end of the stream or on a cut-off frame."""
    head = _read_exactly(fd, 8)
    if head is None:
        return None
    return _read_exactly(fd, int.from_bytes(head, "little"))


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class _Formatter:
    """The process `formatter()` forks: requests ({name: source}, JSON in a length-prefixed frame) come down one
    pipe, answers ({name: black's text} for the files black formatted) go back up another, one answer per request,
    until the request pipe closes."""

    def __init__(self, pid: int, requests: int, answers: int):
        self.pid, self.requests, self.answers = pid, requests, answers
        self.alive = True

    @classmethod
    def start(cls, eager: bool = True) -> _Formatter | None:
        try:
            request_read, request_write = os.pipe()
            answer_read, answer_write = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            for fd in (request_read, request_write, answer_read, answer_write):
                os.close(fd)
            return None
        if pid == 0:  # the formatter: never returns to the caller
            try:
                os.close(request_write)
                os.close(answer_read)
                if eager:
                    black_mode()
                while (frame := _read_frame(request_read)) is not None:
                    _write_frame(answer_write, _serve(json.loads(frame.decode("utf-8"))))
            finally:
                os._exit(0)
        os.close(request_read)
        os.close(answer_write)
        _widen(request_write)
        return cls(pid, request_write, answer_read)

    def send(self, misses: dict[str, str]) -> bool:
        if not self.alive:
            return False
        try:
            _write_frame(self.requests, json.dumps(misses).encode("utf-8"))
        except OSError:
            self.alive = False
            return False
        return True

    def receive(self) -> dict[str, str]:
        frame = _read_frame(self.answers)
        try:
            texts = json.loads(frame.decode("utf-8")) if frame is not None else None
        except ValueError:
            texts = None
        if not isinstance(texts, dict):
            self.alive = False  # it died or answered garbage: this process formats what is left from now on
            return {}
        return {name: text for name, text in texts.items() if isinstance(text, str)}

    def stop(self) -> None:
        """Kill and reap it: it is either waiting for a request, or still importing black (never asked), or
        formatting a request whose answer is no longer wanted (the block left early); none is worth waiting for."""
        os.close(self.requests)
        os.close(self.answers)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _widen(fd: int) -> None:
    """Let a request (a package's Python, ~100 KB for a 70B model) fit the pipe: sending it then never waits for a
    formatter still importing black. Linux's F_SETPIPE_SZ; where it is refused, a send waits for the reader."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def _serve(misses: dict[str, str]) -> bytes:
    """In the formatter: one request's answer, black's text for the files it formatted (split as without a
    formatter, _format_split; a parse error is left to the building process, which meets it in file order)."""
    done = _format_split(misses)
    return json.dumps({n: t for n, t in done.items() if isinstance(t, str)}).encode("utf-8")


def _parallel_ok(misses: dict[str, str]) -> bool:
    """Fork only where it is safe and can pay: two or more misses, Linux (fork is unsafe after some system libraries
    load on macOS, absent on Windows), one thread (forking a threaded process is unsafe), a second core this
    process may run on."""
    return len(misses) >= 2 and _fork_ok()


def _fork_ok() -> bool:
    """Forking a formatter is safe and can pay here (see _parallel_ok); TTTGEN_BLACK_PARALLEL=off: never."""
    if os.environ.get("TTTGEN_BLACK_PARALLEL", "") == "off" or not sys.platform.startswith("linux"):
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
    theirs, mine = _split_by_size(misses)
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
    """`json.dumps(data, indent=2, sort_keys=True)` and a newline, byte for byte, about twice as fast: with an indent
    the standard library encodes with its pure-Python encoder (its C encoder only writes compact JSON), ~0.07 s for a
    70B build's graph.json, plan.json and MANIFEST. This writes the same text directly (strings by the standard
    library's own C string encoder, numbers by their repr as it does); any value it does not know (a dict subclass,
    a non-string key, another type) is left to json.dumps for the whole document, which gives the same text or
    raises the same error."""
    parts: list[str] = []
    try:
        _write_json(data, "", parts.append)
    except _NotPlainJson:
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    parts.append("\n")
    return "".join(parts)


class _NotPlainJson(Exception):
    """A value _write_json leaves to json.dumps."""


_encode_str = json.encoder.encode_basestring_ascii  # json.dumps' string encoder (ensure_ascii, its C version)


def _json_float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _write_json(o: Any, indent: str, out) -> None:
    """One value at `indent` (its first line already indented), as json.encoder's _iterencode writes it."""
    t = type(o)
    if t is str:
        out(_encode_str(o))
    elif t is dict:
        if not o:
            out("{}")
            return
        if not all(type(k) is str for k in o):
            raise _NotPlainJson
        inner = indent + "  "
        separator = ",\n" + inner
        out("{\n" + inner)
        for i, key in enumerate(sorted(o)):
            value = o[key]
            head = (separator if i else "") + _encode_str(key) + ": "
            kind = type(value)
            if kind is str:
                out(head + _encode_str(value))
            elif kind is int:
                out(head + int.__repr__(value))
            else:
                out(head)
                _write_json(value, inner, out)
        out("\n" + indent + "}")
    elif t is list or t is tuple:
        if not o:
            out("[]")
            return
        inner = indent + "  "
        separator = ",\n" + inner
        out("[\n" + inner)
        for i, value in enumerate(o):
            if i:
                out(separator)
            _write_json(value, inner, out)
        out("\n" + indent + "]")
    elif t is int:
        out(int.__repr__(o))
    elif o is None:
        out("null")
    elif o is True:
        out("true")
    elif o is False:
        out("false")
    elif t is float:
        out(_json_float(o))
    else:
        raise _NotPlainJson


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
