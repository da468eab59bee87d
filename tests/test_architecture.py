"""docs/architecture.md stays true: the paths it names exist, its pass list is the pipeline, and the imports of
tttgen/ follow its layer table with no cycles (function-local and type-checking imports included)."""

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "tttgen"

# The house has no import cycles; an entry here would be a known one awaiting its fix (the test fails on an entry
# whose cycle is gone, to say so). Any other cycle fails.
KNOWN_CYCLES: set[frozenset[str]] = set()
# Imports into a lower layer of the doc's table that exist today, each awaiting the work that removes it: delete an
# entry once that work is merged. Any other import into a lower layer fails.
KNOWN_UPWARD_IMPORTS: set[tuple[str, str]] = set()


# --------------------------------------------------------------------------- reading the doc


def doc_text() -> str:
    return DOC.read_text()


def between(text: str, marker: str) -> str:
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    assert text.count(start) == 1 and text.count(end) == 1, f"{DOC}: one {start} ... {end} section"
    return text.split(start)[1].split(end)[0]


def named_paths(text: str) -> list[str]:
    """Backticked spans that name a repo path: no spaces, a slash; `<name>` stands for any one path part."""
    spans = re.findall(r"`([^`\s]+)`", text)
    return sorted({s for s in spans if "/" in s and not s.startswith(("http", "-"))})


def layer_table(text: str) -> dict[str, int]:
    """Path (a folder ending in / or a file) -> its layer number, from the table between the layers markers."""
    layers = {}
    for line in between(text, "layers").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].isdigit():
            continue
        for path in re.findall(r"`([^`]+)`", cells[2]):
            assert path not in layers, f"{path} is in two layers"
            layers[path] = int(cells[0])
    return layers


# --------------------------------------------------------------------------- the import graph


@functools.cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The tttgen modules `name` imports anywhere in its body. `from P import m` imports module P.m when m is one,
    else P; an import of a module not in tttgen/ is ignored."""
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            candidates = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


@functools.cache
def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], set()
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def layer_of(module: str, table: dict[str, int]) -> int | None:
    """The layer of the most specific row naming the module's file or a folder above it."""
    path = modules()[module].relative_to(ROOT).as_posix()
    rows = [p for p in table if path == p or (p.endswith("/") and path.startswith(p))]
    return table[max(rows, key=len)] if rows else None


# --------------------------------------------------------------------------- the tests


def test_every_path_the_doc_names_exists():
    paths = named_paths(doc_text())
    assert len(paths) > 40  # the doc names its paths in backticks (a parse that found none would pass vacuously)
    missing = [p for p in paths if not list(ROOT.glob(re.sub(r"<[^>]+>", "*", p).rstrip("/")))]
    assert missing == [], f"{DOC.name} names paths that do not exist: {missing}"


def test_the_path_finder_finds_paths_and_only_paths():
    text = "`tttgen/passes/` and `modules/*.yaml`, not `tttgen check --api`, `config.json`, `ttnn.*` or `--force`"
    assert named_paths(text) == ["modules/*.yaml", "tttgen/passes/"]


def test_the_doc_lists_the_passes_in_pipeline_order():
    from tttgen.passes import PIPELINE

    listed = re.findall(r"^\s*\d+\. `(\w+)`", between(doc_text(), "passes"), re.M)
    assert listed == [p.name for p in PIPELINE]


def test_every_module_has_a_layer():
    table = layer_table(doc_text())
    assert len(set(table.values())) >= 10
    assert [m for m in modules() if layer_of(m, table) is None] == []


def test_no_import_cycles():
    found = cycles(import_graph())
    new = sorted(sorted(c) for c in found - KNOWN_CYCLES)
    gone = sorted(sorted(c) for c in KNOWN_CYCLES - found)
    assert new == [], f"import cycles: {new}"
    assert gone == [], f"these cycles are gone: delete them from KNOWN_CYCLES: {gone}"


def test_no_module_imports_a_layer_below_its_own():
    table = layer_table(doc_text())
    upward = {
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if layer_of(target, table) > layer_of(module, table)
    }
    new = sorted(upward - KNOWN_UPWARD_IMPORTS)
    gone = sorted(KNOWN_UPWARD_IMPORTS - upward)
    assert new == [], f"imports into a lower layer of {DOC.name}'s table: {new}"
    assert gone == [], f"these imports are gone: delete them from KNOWN_UPWARD_IMPORTS: {gone}"


def test_cost_rules_ir_and_render_import_nothing_above_them_beyond_the_known():
    """The issue's promise, stated on its own: no upward import from cost/, rules/, ir/ or render/."""
    table = layer_table(doc_text())
    checked = ("tttgen.cost", "tttgen.rules", "tttgen.ir", "tttgen.render")
    upward = sorted(
        (module, target)
        for module, targets in import_graph().items()
        if module.startswith(checked)
        for target in targets
        if layer_of(target, table) > layer_of(module, table) and (module, target) not in KNOWN_UPWARD_IMPORTS
    )
    assert upward == []


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, {frozenset("abc")}),
        ({"a": {"b"}, "b": set(), "c": {"b"}}, set()),
        ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c", "a"}}, {frozenset("ab"), frozenset("cd")}),
    ],
)
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert cycles(graph) == expected


def test_the_import_reader_sees_local_relative_and_submodule_imports(tmp_path):
    known = {"tttgen.a": tmp_path / "a.py", "tttgen.b": tmp_path / "b.py", "tttgen.p": tmp_path / "p" / "__init__.py"}
    known["tttgen.p.m"] = tmp_path / "p" / "m.py"
    source = "import os\nfrom . import b\n\ndef f():\n    from tttgen.p import m\n    from tttgen.p.m import x\n"
    (tmp_path / "a.py").write_text(source)
    assert imports("tttgen.a", known["tttgen.a"], known) == {"tttgen.b", "tttgen.p.m"}
