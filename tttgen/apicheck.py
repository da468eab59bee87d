"""Check generated code against the real ttnn API ("real API" check).

Generated code may only use ``ttnn.*`` names, and keyword arguments, that exist
in the ttnn release tttgen targets.  The reference is a snapshot of the real
wheel, ``tttgen/data/ttnn_api/<version>.json``, produced without importing
ttnn by ``scripts/snapshot_ttnn_api.py`` (see docs/api-check.md).  When a real
``ttnn`` of the requested version is installed, :func:`load_api` introspects it
instead.

    api = load_api()
    api.has("ttnn.experimental.nlp_create_qkv_heads_decode")   # True
    api.keywords("ttnn.linear")   # frozenset({... "program_config", ...})
    for finding in check_tree(Path("generated/llama"), api):
        print(finding)   # generated/llama/model.py:12:5: ttnn.made_up_op does not exist in ttnn 0.81.1
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

DEFAULT_VERSION = "0.81.1"

__all__ = [
    "ApiFinding",
    "TtnnApi",
    "load_api",
    "check_source",
    "check_tree",
    "introspect_module",
    "main",
]

# Attributes every Python object / nanobind enum has; never reported.
_ENUM_ATTRS = frozenset({"name", "value", "__members__", "__entries", "__class__", "__doc__"})


@dataclass(frozen=True)
class ApiFinding:
    """One use of a name or keyword that the target API does not have."""

    file: str
    line: int
    col: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class TtnnApi:
    """The set of public names (and their keyword arguments) of one ttnn release.

    ``entries`` maps dotted names (``"ttnn.linear"``) to dicts with a ``kind``
    (``module``, ``op``, ``function``, ``class``, ``enum``, ``value``) and,
    depending on the kind, ``kwargs`` / ``init_kwargs`` (sorted names, or None
    when unknown) and ``members`` (enum members; class attributes, or None when
    unknown).
    """

    def __init__(
        self,
        version: str,
        entries: Mapping[str, dict],
        source: str = "snapshot",
        labels: Mapping[str, str] | None = None,
    ):
        self.version = version
        self.source = source
        self._entries = dict(entries)
        # root package -> how findings name the reference ("ttnn 0.81.1")
        self._labels = {"ttnn": f"ttnn {version}"}
        self._labels.update(labels or {})

    # -- queries ---------------------------------------------------------------
    def __contains__(self, dotted: str) -> bool:
        return self.has(dotted)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """All dotted names with an entry, sorted."""
        return sorted(self._entries)

    def entry(self, dotted: str) -> dict | None:
        """The raw entry for exactly this dotted name, or None."""
        return self._entries.get(dotted)

    def kind(self, dotted: str) -> str | None:
        e = self._entries.get(dotted)
        return e["kind"] if e else None

    def label(self, root: str) -> str:
        return self._labels.get(root, root)

    def missing_prefix(self, dotted: str) -> str | None:
        """The shortest prefix of ``dotted`` that does not exist, or None if it all exists."""
        parts = dotted.split(".")
        if parts[0] not in self._entries:
            return parts[0]
        for i in range(2, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in self._entries:
                continue
            parent = self._entries[".".join(parts[: i - 1])]
            if self._attr_exists(parent, parts[i - 1]):
                return None  # beyond what the snapshot describes: accept the rest
            return prefix
        return None

    def has(self, dotted: str) -> bool:
        """True if ``dotted`` (e.g. ``ttnn.UnaryOpType.SILU``) exists in this API."""
        return self.missing_prefix(dotted) is None

    def keywords(self, dotted: str) -> frozenset[str] | None:
        """Keyword arguments accepted when calling ``dotted``; None = unknown / anything goes."""
        e = self._entries.get(dotted)
        if e is None:
            return None
        names = e.get("init_kwargs") if e["kind"] == "class" else e.get("kwargs")
        return None if names is None else frozenset(names)

    @staticmethod
    def _attr_exists(parent: dict, attr: str) -> bool:
        kind = parent["kind"]
        if attr.startswith("__") and attr.endswith("__"):
            return True
        if kind == "module":
            return False  # module listings are complete
        if kind == "enum":
            return attr in parent.get("members", ()) or attr in _ENUM_ATTRS
        if kind == "class":
            members = parent.get("members")
            return members is None or attr in members
        return True  # attributes of values / functions are not described

    # -- construction ----------------------------------------------------------
    @classmethod
    def from_snapshot(cls, data: Mapping) -> "TtnnApi":
        entries = {"ttnn": {"kind": "module"}}
        entries.update(data["names"])
        labels = {}
        jit = data.get("ttnn_jit")
        if jit:
            entries.setdefault("ttnn_jit", {"kind": "value"})  # other ttnn_jit attributes: not described
            entries.update(jit["names"])
            labels["ttnn_jit"] = "ttnn_jit (tt-mlir)"
        return cls(data["ttnn_version"], entries, source="snapshot", labels=labels)


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------


def _snapshot_path(version: str) -> Path:
    name = f"{version}.json"
    try:
        from importlib import resources

        ref = resources.files("tttgen").joinpath("data", "ttnn_api", name)
        if ref.is_file():
            return Path(str(ref))
    except (ModuleNotFoundError, TypeError, AttributeError):
        pass
    return Path(__file__).resolve().parent / "data" / "ttnn_api" / name


def _real_ttnn(version: str):
    """The installed real ttnn module if it is the requested version, else None.

    The tttgen emulator (``ttnn.__tttgen_emulator__ = True``) never counts.
    The version is checked from package metadata first so that a mismatching
    or absent wheel is never imported.
    """
    mod = sys.modules.get("ttnn")
    if mod is not None:
        if getattr(mod, "__tttgen_emulator__", False):
            return None
    elif importlib.util.find_spec("ttnn") is None:
        return None
    try:
        from importlib.metadata import PackageNotFoundError, version as dist_version

        if dist_version("ttnn") != version:
            return None
    except PackageNotFoundError:
        return None
    if mod is None:
        try:
            import ttnn as mod  # noqa: F811 - the real wheel, only on machines that have it
        except Exception:  # pragma: no cover - broken installation
            return None
    if getattr(mod, "__tttgen_emulator__", False):
        return None
    return mod


def load_api(version: str = DEFAULT_VERSION, *, use_installed: bool = True) -> TtnnApi:
    """Load the API description of ttnn ``version``.

    With ``use_installed`` (default), a real ``ttnn`` wheel of that version
    importable in this interpreter is introspected; otherwise the committed
    snapshot JSON is used.  The ``ttnn_jit`` flags always come from the snapshot.
    """
    path = _snapshot_path(version)
    data = json.loads(path.read_text()) if path.is_file() else None
    real = _real_ttnn(version) if use_installed else None
    if real is not None:
        entries = introspect_module(real)
        labels = {}
        if data and data.get("ttnn_jit"):
            entries.setdefault("ttnn_jit", {"kind": "value"})
            entries.update(data["ttnn_jit"]["names"])
            labels["ttnn_jit"] = "ttnn_jit (tt-mlir)"
        return TtnnApi(version, entries, source="introspection", labels=labels)
    if data is None:
        raise FileNotFoundError(f"no ttnn API snapshot for version {version} ({path})")
    return TtnnApi.from_snapshot(data)


# ---------------------------------------------------------------------------
# introspection of a real (importable) ttnn
# ---------------------------------------------------------------------------

_NB_PARAM = re.compile(r"(?:^|[(,]\s*)\\?\*{0,2}([A-Za-z_]\w*)\s*(?=[:=,)])")


def _nb_signature_kwargs(obj) -> list[str] | None:
    """Keyword names from nanobind's ``__nb_signature__`` (one entry per overload)."""
    sigs = getattr(obj, "__nb_signature__", None)
    if not sigs:
        return None
    names = set()
    for entry in sigs:
        text = entry[0] if isinstance(entry, tuple) else str(entry)
        m = re.search(r"\((.*)\)", text, re.S)
        if not m:
            return None
        body = m.group(1)
        if "**" in body:
            return None
        for name in _NB_PARAM.findall(body):
            if name != "self":
                names.add(name)
    return sorted(names)


def _callable_kwargs(obj, _depth: int = 0) -> list[str] | None:
    if _depth > 3:
        return None
    nb = _nb_signature_kwargs(obj)
    if nb is not None:
        return nb
    call = getattr(type(obj), "__call__", None)
    if call is not None and hasattr(call, "__nb_signature__"):  # ttnn op wrapper objects
        return _nb_signature_kwargs(call)
    wrapped = getattr(obj, "function", None)  # ttnn.decorators.Operation
    if wrapped is not None and wrapped is not obj:
        return _callable_kwargs(wrapped, _depth + 1)
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    names = []
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            return None
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in ("self", "cls"):
            names.append(p.name)
    return sorted(names)


def _describe_object(obj) -> dict:
    if isinstance(obj, types.ModuleType):
        return {"kind": "module"}
    if isinstance(obj, type):
        members = getattr(obj, "__members__", None)
        if isinstance(members, Mapping) and members:
            return {"kind": "enum", "members": sorted(members)}
        attrs = sorted(a for a in dir(obj) if not (a.startswith("__") and a.endswith("__")))
        return {"kind": "class", "init_kwargs": _callable_kwargs(obj.__init__), "members": attrs}
    if callable(obj):
        kind = "op" if hasattr(obj, "python_fully_qualified_name") else "function"
        return {"kind": kind, "kwargs": _callable_kwargs(obj)}
    return {"kind": "value"}


def introspect_module(module: types.ModuleType) -> dict[str, dict]:
    """Entries for every public attribute reachable from ``module`` through its submodules."""
    root = module.__name__
    out: dict[str, dict] = {root: {"kind": "module"}}
    seen = {id(module)}

    def walk(mod, prefix):
        for attr in sorted(dir(mod)):
            if attr.startswith("_"):
                continue
            try:
                obj = getattr(mod, attr)
            except Exception:
                continue
            dotted = f"{prefix}.{attr}"
            if isinstance(obj, types.ModuleType):
                if not getattr(obj, "__name__", "").startswith(root + ".") and obj.__name__ != f"{root}.{attr}":
                    continue  # stdlib / third-party modules imported into the namespace
                out[dotted] = {"kind": "module"}
                if id(obj) not in seen:
                    seen.add(id(obj))
                    walk(obj, dotted)
                continue
            out[dotted] = _describe_object(obj)

    walk(module, root)
    return out


# ---------------------------------------------------------------------------
# checking source code
# ---------------------------------------------------------------------------


def _chain(node) -> tuple[str, list[str]] | None:
    """``a.b.c`` -> ("a", ["b", "c"]); None if the chain is not rooted at a plain name."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return node.id, attrs[::-1]
    return None


class _Checker(ast.NodeVisitor):
    def __init__(self, filename: str, apis: Mapping[str, TtnnApi]):
        self.filename = filename
        self.apis = apis  # root package name -> API
        self.aliases: dict[str, str] = {}  # local name -> dotted name it stands for
        self.findings: list[ApiFinding] = []

    def _report(self, node, message: str) -> None:
        line = getattr(node, "lineno", 0)
        col = getattr(node, "col_offset", -1) + 1
        self.findings.append(ApiFinding(self.filename, line, col, message))

    def _check_exists(self, node, dotted: str) -> bool:
        root = dotted.split(".")[0]
        api = self.apis.get(root)
        if api is None:
            return True
        missing = api.missing_prefix(dotted)
        if missing is None:
            return True
        self._report(node, f"{missing} does not exist in {api.label(root)}")
        return False

    def _resolve(self, node) -> str | None:
        chain = _chain(node)
        if chain is None:
            return None
        base = self.aliases.get(chain[0])
        return None if base is None else ".".join([base] + chain[1])

    def collect_imports(self, tree: ast.AST) -> None:
        """Aliases from every import in the file (function-level ones included)."""
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    root = alias.name.split(".")[0]
                    if root not in self.apis:
                        continue
                    self.aliases[alias.asname or root] = alias.name if alias.asname else root
                    if "." in alias.name:
                        self._check_exists(node, alias.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level or not node.module or node.module.split(".")[0] not in self.apis:
                    continue
                if not self._check_exists(node, node.module):
                    continue
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    dotted = f"{node.module}.{alias.name}"
                    self.aliases[alias.asname or alias.name] = dotted
                    self._check_exists(node, dotted)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self._resolve(node)
        if dotted is None:
            self.generic_visit(node)
        else:
            self._check_exists(node, dotted)  # whole chain at once; its prefixes are not revisited

    def visit_Call(self, node: ast.Call) -> None:
        dotted = self._resolve(node.func)
        if dotted is None:
            self.generic_visit(node)
            return
        root = dotted.split(".")[0]
        if self._check_exists(node.func, dotted):
            api = self.apis[root]
            allowed = api.keywords(dotted)
            if allowed is not None:
                for kw in node.keywords:
                    if kw.arg is not None and kw.arg not in allowed:
                        self._report(kw, f"{dotted}() has no keyword argument '{kw.arg}' in {api.label(root)}")
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            self.visit(kw.value)


def check_source(
    source: str, filename: str, api: TtnnApi, extra_modules: Mapping[str, TtnnApi] | None = None
) -> list[ApiFinding]:
    """Findings for one Python source text, sorted by position.

    Every attribute chain rooted at an imported ``ttnn`` (``import ttnn``,
    ``import ttnn as X``, ``from ttnn import a``, ``from ttnn.experimental import b``)
    must exist in ``api``, and every call of such a chain may only pass keyword
    arguments the callee accepts (when those are known; ``**kwargs`` splats are
    not checked).  Chains rooted at ``ttnn_jit`` are checked the same way (the
    snapshot describes ``ttnn_jit.jit``'s flags only).  ``extra_modules`` maps
    further top-level package names to API objects to check them against
    (anything with ``missing_prefix``, ``keywords`` and ``label``, normally a
    :class:`TtnnApi`).  Attributes of call results (``ttnn.linear(a, b).shape``)
    and names re-bound by the code itself are not tracked.
    """
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return [ApiFinding(filename, exc.lineno or 0, exc.offset or 0, f"syntax error: {exc.msg}")]
    apis: dict[str, TtnnApi] = {"ttnn": api, "ttnn_jit": api}
    apis.update(extra_modules or {})
    checker = _Checker(filename, apis)
    checker.collect_imports(tree)
    checker.visit(tree)
    return sorted(set(checker.findings), key=lambda f: (f.line, f.col, f.message))


def check_tree(root: Path, api: TtnnApi, extra_modules: Mapping[str, TtnnApi] | None = None) -> list[ApiFinding]:
    """:func:`check_source` over every ``*.py`` below ``root`` (sorted by path)."""
    root = Path(root)
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*.py") if p.is_file())
    findings: list[ApiFinding] = []
    for path in paths:
        findings.extend(check_source(path.read_text(encoding="utf-8"), str(path), api, extra_modules))
    return findings


def main(argv: Iterable[str] | None = None) -> int:
    """``python -m tttgen.apicheck PATH...``: print findings, exit 1 if there are any."""
    import argparse

    parser = argparse.ArgumentParser(description="Check generated code against the real ttnn API.")
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--ttnn-version", default=DEFAULT_VERSION)
    parser.add_argument("--snapshot-only", action="store_true", help="ignore an installed ttnn")
    args = parser.parse_args(list(argv) if argv is not None else None)
    api = load_api(args.ttnn_version, use_installed=not args.snapshot_only)
    findings = [f for p in args.paths for f in check_tree(p, api)]
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
