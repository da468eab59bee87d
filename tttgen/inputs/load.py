"""Read user inputs into strict models; turn every mistake into one InputError naming file and field."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tttgen.errors import InputError
from tttgen.inputs.bounds import parse_yaml, read_input
from tttgen.inputs.device import DeviceProfile
from tttgen.inputs.files import (  # noqa: F401  (callers read these from here too)
    DEVICE_DIR,
    MODEL_DIR,
    ROOT,
    InputFile,
    _display,
    describe_error,
    format_validation_error,
    validate_as,
)
from tttgen.inputs.hints import Hints
from tttgen.inputs.model import ModelSpec


def _read_yaml_node(path: Path) -> tuple[Any, InputFile, yaml.Node | None]:
    """Every YAML input is read here, through the bounds (spec/bounds.py) before any parser sees it."""
    where = _display(path)
    raw = read_input(path, where)
    data, root = _parsed(raw, where)
    return copy_data(data), InputFile(where, hashlib.sha256(raw).hexdigest()), root


_ATOMS = frozenset({str, int, float, bool, type(None)})


def copy_data(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """copy.deepcopy of parsed YAML, the same copy (an object the data holds twice, a YAML alias, is copied once and
    held twice) in a quarter of the time: dicts, lists and scalars, nearly all of it, are copied here; anything
    else (a set, a date, a tuple of pairs) by copy.deepcopy with the same memo."""
    if memo is None:
        memo = {}
    kind = type(value)
    if kind in _ATOMS:
        return value
    hit = memo.get(id(value))
    if hit is not None:
        return hit
    if kind is dict:
        out: Any = {}
        memo[id(value)] = out
        for key, item in value.items():
            key = key if type(key) in _ATOMS else copy.deepcopy(key, memo)
            out[key] = item if type(item) in _ATOMS else copy_data(item, memo)
        _keep(memo, value)
        return out
    if kind is list:
        out = memo[id(value)] = []
        out.extend(item if type(item) in _ATOMS else copy_data(item, memo) for item in value)
        _keep(memo, value)
        return out
    return copy.deepcopy(value, memo)


def _keep(memo: dict[int, Any], value: Any) -> None:
    """As copy.deepcopy does: the originals stay alive while the memo is in use, so no id is reused."""
    memo.setdefault(id(memo), []).append(value)


@lru_cache(maxsize=256)
def _parsed(raw: bytes, where: str) -> tuple[Any, yaml.Node | None]:
    """One parse per file content and name in a process: a build reads each called description many times (the
    70B build read ~90 files, ~10 distinct). Callers get a deep copy of the data; the node tree is only read."""
    return parse_yaml(raw, where)


def read_yaml(path: Path) -> tuple[Any, InputFile]:
    data, info, _ = _read_yaml_node(path)
    return data, info


def _names(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml") if p.stem != "aliases")


def device_names() -> list[str]:
    return _names(DEVICE_DIR)


def model_names() -> list[str]:
    return _names(MODEL_DIR)


@lru_cache(maxsize=1)
def _device_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for name in device_names():
        data, _ = read_yaml(DEVICE_DIR / f"{name}.yaml")
        for alias in data.get("aliases", []) if isinstance(data, dict) else []:
            aliases[alias] = name
    return aliases


def load_device(name_or_path: str) -> tuple[DeviceProfile, InputFile]:
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        # A profile's own name first: the aliases (every profile read) only for other names. No alias is a
        # profile's name (tests/test_inputs.py), so the order changes nothing.
        path = DEVICE_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            path = DEVICE_DIR / f"{_device_aliases().get(name_or_path, name_or_path)}.yaml"
        if not path.exists():
            allowed = device_names() + sorted(_device_aliases())
            raise InputError(
                f"unknown device '{name_or_path}'", where="--device", hint=f"allowed: {', '.join(sorted(allowed))}"
            )
    data, info = read_yaml(path)
    return validate_as(DeviceProfile, data, info.label), info


def load_model(name_or_path: str) -> tuple[ModelSpec, InputFile]:
    """A built-in name, an alias, a model-description YAML or a Hugging Face config.json."""
    path = Path(name_or_path)
    if path.suffix == ".json":
        from tttgen.inputs.hf_config import load_hf_config  # its field models are built only when a config is given

        return load_hf_config(path)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        aliases, _ = read_yaml(MODEL_DIR / "aliases.yaml")
        name = aliases.get(name_or_path, name_or_path)
        path = MODEL_DIR / f"{name}.yaml"
        if not path.exists():
            allowed = model_names() + sorted(aliases)
            raise InputError(
                f"unknown model '{name_or_path}'",
                where="MODEL",
                hint=f"allowed: {', '.join(sorted(allowed))}, a model YAML or a Hugging Face config.json",
            )
    data, info = read_yaml(path)
    return validate_as(ModelSpec, data, info.label), info


def load_hints(path: Path | None, flags: dict[str, Any]) -> tuple[Hints, InputFile | None]:
    """Hints YAML first, then CLI flags on top (flags win)."""
    data: dict[str, Any] = {}
    info = None
    if path is not None:
        loaded, info = read_yaml(path)
        if loaded is not None and not isinstance(loaded, dict):
            raise InputError("expected a mapping of hint fields", where=info.label)
        data.update(loaded or {})
    data.update({k: v for k, v in flags.items() if v is not None})
    where = info.label if info else "hints"
    hints = validate_as(Hints, data, where)
    # Flags replace the file's overrides as a whole, so every override has one source.
    hints._source = "--override" if flags.get("overrides") else where
    return hints, info


def canonical_json_sha(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------- problems with YAML line numbers


@dataclass(frozen=True)
class Problem:
    """One mistake in an input file: where (a field path into the data) and what is wrong."""

    loc: tuple
    message: str


class YamlLines:
    """Maps a field path (pydantic `loc`, or our own) to the 1-based line of that field in the YAML text."""

    def __init__(self, root: yaml.Node | None):
        self.root = root  # the composed file (read_yaml_lines), or None: every field on line 1

    def _walk(self, loc: tuple) -> tuple[tuple, int]:
        """(the path components found in the file, the line of the deepest one)."""
        node, found = self.root, []
        line = node.start_mark.line + 1 if node is not None else 1
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if key.value == str(part):
                        child, line = value, key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
            if child is None:
                continue  # a pydantic union member or tag, or a field that is missing: stay on the parent
            node = child
            found.append(part)
        return tuple(found), line

    def line(self, loc: tuple) -> int:
        return self._walk(loc)[1]

    def pydantic_problems(self, err: ValidationError, data: Any, drop: tuple[str, ...] = ()) -> list[Problem]:
        """pydantic's errors with union members and tags dropped from the path, one Problem per field."""
        merged: dict[tuple, list[str]] = {}
        for e in err.errors():
            loc = tuple(p for p in e["loc"] if p not in drop)
            found, _ = self._walk(loc)
            if e["type"] == "missing" and loc:
                found = found + (loc[-1],)  # name the missing field under the parent it belongs to
            msg = describe_error({**e, "loc": ()}).split(": ", 1)[1].removeprefix("Value error, ")
            if e["type"] == "union_tag_invalid" and "ctx" in e:
                ctx = e["ctx"]
                field_name = str(ctx.get("discriminator", "kind")).strip("'")
                msg = f"unknown {field_name} '{ctx.get('tag')}' (allowed: {ctx.get('expected_tags')})"
            msgs = merged.setdefault(found, [])
            if (e["type"] == "value_error", msg) not in msgs:
                msgs.append((e["type"] == "value_error", msg))
        # A union member that got the right type and failed our own check says more than the other members.
        return [
            Problem(loc, " or ".join(m for own, m in msgs if own or not any(o for o, _ in msgs)))
            for loc, msgs in merged.items()
        ]


def read_yaml_lines(path: Path) -> tuple[Any, YamlLines]:
    data, _, root = _read_yaml_node(path)
    return data, YamlLines(root)


def problems_error(problems: list[Problem], lines: YamlLines, where: str) -> InputError:
    """Every problem on its own line, as a compiler prints them: `file:line: field 'a.b': message`, in file order."""
    rows = sorted({(lines.line(p.loc), ".".join(str(x) for x in p.loc) or "(top level)", p.message) for p in problems})
    text = "\n".join(f"  {where}:{line}: field '{loc}': {msg}" for line, loc, msg in rows)
    count = f"{len(rows)} problem{'s' if len(rows) > 1 else ''}"
    return InputError(f"{count}\n{text}", where=where)
