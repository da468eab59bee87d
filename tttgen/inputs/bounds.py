"""The one gate every input file passes before it is parsed: size, nesting depth, integer size, alias expansion,
keys. Description YAMLs, Hugging Face config.json files, hints files and device profiles are all read here, so no
input can crash (a C parser's stack, Python's recursion limit or its 4300-digit int limit) or hang the process;
every refusal is one InputError (exit 2) naming `file:line` and the field.

The depth checks run on the raw text in one linear pass, before libyaml or json (both recursive, and libyaml slow
on deep flow nesting) see it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tttgen.errors import InputError

MAX_BYTES = 4 * 1024 * 1024  # the largest shipped input is ~15 KB
MAX_DEPTH = 64  # nested mappings/lists; shipped descriptions reach 9
MAX_INT_DIGITS = 40  # no size, count or byte budget tttgen takes needs more (2**128 has 39 digits)
MAX_VALUES = 1_000_000  # values after aliases (*name) are expanded: a billion-laughs file stops here

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same results, faster
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def read_input(path: Path, where: str) -> bytes:
    """The file's bytes, refused before reading when larger than MAX_BYTES."""
    try:
        if path.is_dir():
            raise InputError("is a directory, not a file", where=where)
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as err:
        raise InputError(f"cannot read file: {err.strerror}", where=where) from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; an input file is a few KB", where=where)
    return raw


def _refuse(problems: list[tuple[int, str]], where: str) -> InputError:
    """One error for every (line, message) found, in line order."""
    rows = sorted(set(problems))
    if len(rows) == 1:
        return InputError(rows[0][1], where=f"{where}:{rows[0][0]}")
    text = "\n".join(f"  {where}:{line}: {message}" for line, message in rows)
    return InputError(f"{len(rows)} problems\n{text}", where=where)


# ---------------------------------------------------------------- raw-text pre-checks (linear, no recursion)


def _text(raw: bytes, where: str, what: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InputError(f"not valid {what}: byte {raw[err.start]:#04x} is not UTF-8 text", where=f"{where}:{line}") from None


def _yaml_depth(text: str, where: str) -> None:
    """Refuse nesting past MAX_DEPTH: flow brackets outside quotes and comments, plus block indentation levels
    (each leading `- ` on a line is a level too). An over-estimate at worst (brackets inside a plain scalar)."""
    flow, indents = 0, []
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip(" ")
        if stripped and not stripped.startswith("#") and flow == 0:
            indent = len(line) - len(stripped)
            while indents and indents[-1] >= indent:
                indents.pop()
            indents.append(indent)
            dashes = len(re.match(r"^(?:-[ \t]+)*", stripped).group(0).replace(" ", "").replace("\t", ""))
            if len(indents) + dashes > MAX_DEPTH:
                raise _refuse([(number, f"nesting deeper than {MAX_DEPTH} levels")], where)
        quote, prev, escaped = None, " ", False
        for ch in line:
            if quote == "'":
                quote = None if ch == "'" else quote
            elif quote == '"':
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    quote = None
            elif ch == "#" and prev in " \t":
                break
            elif ch in "'\"" and prev in " \t[{,:-":
                quote = ch
            elif ch in "[{":
                flow += 1
                if flow + len(indents) > MAX_DEPTH:
                    raise _refuse([(number, f"nesting deeper than {MAX_DEPTH} levels")], where)
            elif ch in "]}":
                flow = max(0, flow - 1)
            prev = ch


def _json_prescan(text: str, where: str) -> None:
    """Refuse JSON nesting past MAX_DEPTH and number literals past MAX_INT_DIGITS digits, with their line."""
    depth, in_string, escaped, digits, line = 0, False, False, 0, 1
    start, last_string, key = 0, "", ""  # the field a number belongs to: the string before the last ':'
    for i, ch in enumerate(text):
        if ch == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string, last_string = False, text[start:i][:80]
            continue
        if ch.isdigit():
            digits += 1
            if digits > MAX_INT_DIGITS:
                field = f"field '{key}': " if key else ""
                raise _refuse([(line, f"{field}a number with more than {MAX_INT_DIGITS} digits")], where)
            continue
        digits = 0
        if ch == '"':
            in_string, start = True, i + 1
        elif ch == ":":
            key = last_string
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _refuse([(line, f"nesting deeper than {MAX_DEPTH} levels")], where)
        elif ch in "]}":
            depth -= 1


# ---------------------------------------------------------------- YAML

# libyaml's problem texts, in this project's words
_YAML_WORDS = {
    "did not find expected ',' or ']'": "a [ list is not closed by ] (or two items lack a comma between them)",
    "did not find expected ',' or '}'": "a { mapping is not closed by } (or two fields lack a comma between them)",
    "mapping values are not allowed in this context": "a ':' where no mapping can start (quote the value, or "
    "put the mapping on its own indented lines)",
    "found character that cannot start any token": "a character that cannot start a value here (a tab, or `@`/`%`"
    " at the start of a value: indent with spaces, quote the value)",
    "did not find expected key": "this line is not indented like the keys of the mapping above it",
    "could not find expected ':'": "a key without its ':'",
    "found undefined alias": "an alias (*name) that no anchor (&name) defines",
    "found unexpected end of stream": "the file ends inside a quoted string or an open [ or {",
    "did not find expected '-' indicator": "a list item not indented like the items above it",
    "block sequence entries are not allowed in this context": "a `- ` list item where a value was expected on "
    "the same line (start the list on the next line)",
    "found duplicate anchor": "an anchor (&name) defined twice",
}


def _yaml_error(err: yaml.YAMLError, raw: bytes, where: str) -> InputError:
    mark = getattr(err, "problem_mark", None)
    if isinstance(err, yaml.reader.ReaderError):
        line = raw[: err.position].count(b"\n") + 1
        return InputError(f"not valid YAML: character {err.character!r} cannot appear in a YAML file", where=f"{where}:{line}")
    problem = str(getattr(err, "problem", None) or "not valid YAML").strip()
    words = next((w for p, w in _YAML_WORDS.items() if problem.startswith(p)), problem)
    context, cmark = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and cmark is not None and (mark is None or cmark.line != mark.line):
        words += f" ({context} that starts at line {cmark.line + 1}:{cmark.column + 1})"
    place = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark is not None else where
    return InputError(f"not valid YAML: {words}", where=place)


def _node_checks(root: yaml.Node, where: str) -> list[tuple[yaml.ScalarNode, str]]:
    """Keys are strings and appear once per mapping, ints are short, aliases neither loop nor explode: one
    iterative walk over the composed nodes (each node once, however many aliases point at it). Returns the
    scalars that are not plain strings, with their field (to name one the constructor cannot make)."""
    problems: list[tuple[int, str]] = []
    typed: list[tuple[yaml.ScalarNode, str]] = []
    state: dict[int, int] = {}  # id(node) -> 1 on the walk's path, 2 done
    size: dict[int, int] = {}  # id(node) -> values it expands to
    stack: list[tuple[yaml.Node, str, bool]] = [(root, "", False)]
    while stack:
        node, path, leaving = stack.pop()
        key = id(node)
        children = [] if isinstance(node, yaml.ScalarNode) else node.value
        if leaving:
            state[key] = 2
            if isinstance(node, yaml.MappingNode):
                size[key] = 1 + sum(size.get(id(k), 1) + size.get(id(v), 1) for k, v in children)
            elif isinstance(node, yaml.SequenceNode):
                size[key] = 1 + sum(size.get(id(c), 1) for c in children)
            if size.get(key, 1) > MAX_VALUES:
                raise _refuse([(node.start_mark.line + 1, f"aliases (*name) expand to more than {MAX_VALUES} values")], where)
            continue
        if state.get(key) == 1:
            problems.append((node.start_mark.line + 1, f"field '{path}': an alias refers to a value that contains it"))
            continue
        if state.get(key) == 2:
            continue
        state[key] = 1
        stack.append((node, path, True))
        if isinstance(node, yaml.ScalarNode):
            if node.tag != _STR_TAG:
                typed.append((node, path))
            if node.tag == _INT_TAG and sum(c.isdigit() for c in node.value) > MAX_INT_DIGITS:
                problems.append(
                    (node.start_mark.line + 1, f"field '{path}': an integer with more than {MAX_INT_DIGITS} digits")
                )
        elif isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for knode, vnode in children:
                line = knode.start_mark.line + 1
                if knode.tag == _MERGE_TAG:
                    stack.append((vnode, path, False))
                    continue
                if not isinstance(knode, yaml.ScalarNode) or knode.tag != _STR_TAG:
                    shown = knode.value if isinstance(knode, yaml.ScalarNode) else "a list or mapping"
                    problems.append(
                        (line, f"field '{path or '(top level)'}': key {shown} is not a string (quote it: '{shown}')")
                    )
                    continue
                name = knode.value
                if name in seen:
                    problems.append(
                        (line, f"field '{path + '.' if path else ''}{name}': appears twice in one mapping (first at "
                         f"line {seen[name]}; YAML would keep only the last)")
                    )
                seen.setdefault(name, line)
                stack.append((vnode, f"{path}.{name}" if path else name, False))
        else:
            for i, child in enumerate(children):
                stack.append((child, f"{path}.{i}" if path else str(i), False))
    if problems:
        raise _refuse(problems, where)
    return typed


def parse_yaml(raw: bytes, where: str) -> tuple[Any, yaml.Node | None]:
    """(the data, its root node for line numbers) of a bounded YAML file; an empty file is (None, None)."""
    text = _text(raw, where, "YAML")
    _yaml_depth(text, where)
    loader = SAFE_LOADER(raw)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        typed = _node_checks(root, where)
        try:
            return loader.construct_document(root), root
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            # a scalar of a type it cannot be (`2001-02-30` resolves as a date, `!!int 9x`): find and name it
            for node, path in typed:
                try:
                    SAFE_LOADER("").construct_object(node, deep=True)
                except Exception as err:  # noqa: BLE001 - the constructor's own complaint, reported as input
                    raise _refuse([(node.start_mark.line + 1, f"field '{path}': '{node.value}' is not a valid "
                                    f"{node.tag.rsplit(':', 1)[-1]} ({err})")], where) from None
            raise InputError("not valid YAML: a value cannot be read", where=where) from None
    except yaml.YAMLError as err:
        raise _yaml_error(err, raw, where) from None
    finally:
        loader.dispose()


# ---------------------------------------------------------------- JSON


def parse_json(raw: bytes, where: str) -> Any:
    """The data of a bounded JSON file; a key given twice in one object is refused (json keeps the last)."""
    text = _text(raw, where, "JSON")
    _json_prescan(text, where)
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for k, v in items:
            if k in seen:
                duplicates.append(k)
            seen[k] = v
        return seen

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg}", where=f"{where}:{err.lineno}:{err.colno}") from None
    if duplicates:
        problems = []
        for name in sorted(set(duplicates)):
            hits = [m.start() for m in re.finditer(re.escape(json.dumps(name)) + r"\s*:", text)]
            line = text[: hits[1]].count("\n") + 1 if len(hits) > 1 else 1
            problems.append((line, f"field '{name}': appears twice in one object (json would keep only the last)"))
        raise _refuse(problems, where)
    return data
