"""Descriptions that extend another and state only what differs: `extends:` and patches.

A description with `extends: llama` (a module name, looked up as calls are, or a path relative to the file) is its
base's raw data with the rest of the file applied as a merge patch (RFC 7386, with op lists patched by op name):

- a mapping merges into the base's mapping key by key: a key the base has is patched (mappings recursively,
  anything else replaced), `null` removes the base's key, a new key is added after the base's keys or where its
  value says with `after: <key>` / `before: <key>` (mode inputs in the order the entry points pass them);
- an `ops:` list of the base is patched by a mapping `{op name: patch}`: the op of that name is patched as a
  mapping (`null` removes it); an op the base lacks is added, and says where with `after: <op>` or
  `before: <op>` (the whole op, as in any op list);
- any other value (a list, a string, a number) replaces the base's.

The same patch grammar is what a feature's `patch:` applies to the description (Feature in spec/module.py).
Every misuse is a Problem at its own field (the caller turns them into `file:line` rows, all at once): an
unknown base, a cycle of extends, removing a key or op the base lacks, patching ops under a section the base
lacks, a new op without an anchor, an entry with both anchors or anchored at one the list lacks or the same patch
removes, an op added under the name of one the base has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml

from tttgen.inputs.load import Problem, YamlLines

ANCHORS = ("after", "before")


def _op_patch(value: Any, at: tuple = ()) -> tuple | None:
    """Where in `value` an `ops:` mapping (an op-list patch) sits, or None."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("ops"), dict):
        return at + ("ops",)
    for key, inner in value.items():
        found = _op_patch(inner, at + (key,))
        if found is not None:
            return found
    return None


def _named(steps: list) -> dict[str, int]:
    return {s["name"]: i for i, s in enumerate(steps) if isinstance(s, dict) and isinstance(s.get("name"), str)}


class Patcher:
    """Applies patches to raw description data without touching it (YAML aliases share objects between fields),
    collecting problems and, for every merged location a patch wrote, the patch's own location (for lines)."""

    def __init__(self, patch_loc: tuple = ()):
        self.problems: list[Problem] = []
        self.origin: dict[tuple, tuple] = {}  # merged location -> the patch field it came from
        self.whole: set[tuple] = set()  # merged locations whose whole value the patch gave (added or replaced)
        self.patch_loc = patch_loc  # where the patch document sits in its file (() for a whole extending file)

    def add(self, loc: tuple, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def merge(self, base: Any, patch: Any, at: tuple = (), ploc: tuple = ()) -> Any:
        """`base` patched by `patch`; `at` is the merged location, `ploc` the patch's (relative to patch_loc)."""
        if at and at[-1] == "ops" and isinstance(base, list) and isinstance(patch, dict):
            return self.ops(base, patch, at, ploc)
        if not isinstance(patch, dict) or not isinstance(base, dict):
            self.whole.add(at)
            self.origin[at] = self.patch_loc + ploc
            return patch
        self.origin[at] = self.patch_loc + ploc
        removed = {key for key, value in patch.items() if value is None}
        items: list[tuple[Any, Any]] = list(base.items())
        new: set[Any] = set()
        for key, value in patch.items():
            here = self.patch_loc + ploc + (key,)
            keys = [k for k, _ in items]
            if value is None:
                if key not in base:
                    self.add(
                        here,
                        f"removes '{key}', which the base does not have"
                        f" (allowed: {', '.join(map(str, base)) or 'none'})",
                    )
                continue
            if key in base:
                items[keys.index(key)] = (key, self.merge(base[key], value, at + (key,), ploc + (key,)))
                continue
            inner = _op_patch(value)
            if inner is not None:  # an op patch has no list to patch: a misspelt mode or section
                self.add(
                    here + inner,
                    f"patches ops under '{key}', which the base does not have"
                    f" (allowed: {', '.join(map(str, base)) or 'none'})",
                )
                continue
            anchors = [a for a in ANCHORS if a in value] if isinstance(value, dict) else []
            if not anchors:
                items.append((key, value))
            else:
                value = {k: v for k, v in value.items() if k not in ANCHORS}
                index = self.anchor(here, key, anchors, patch[key][anchors[0]], keys, removed, new)
                if index is None:
                    continue
                items.insert(index, (key, value))
            new.add(key)
            self.origin[at + (key,)] = self.patch_loc + ploc + (key,)
            self.whole.add(at + (key,))
        return {k: v for k, v in items if k not in removed}

    def anchor(self, here: tuple, name: Any, anchors: list, target: Any, names: list, removed: set, new: set):
        """Where an entry added `after:` or `before:` another goes in `names` (several at one anchor keep the
        patch's order), or None with the problem recorded."""
        if len(anchors) != 1:
            self.add(here, f"'{name}' says both after: and before:; give one")
            return None
        if target in removed:
            self.add(here + (anchors[0],), f"'{name}' is placed {anchors[0]} '{target}', which this patch removes")
            return None
        if target not in names:
            self.add(
                here + (anchors[0],),
                f"no '{target}' to put '{name}' {anchors[0]}"
                f" (allowed: {', '.join(str(n) for n in names if n not in removed) or 'none'})",
            )
            return None
        index = names.index(target)
        if anchors[0] == "after":
            index += 1
            while index < len(names) and names[index] in new:
                index += 1
        return index

    def ops(self, steps: list, patch: dict, at: tuple, ploc: tuple) -> list:
        """An op list patched by op name: patch, remove (null) or add (with after/before)."""
        named = _named(steps)
        removed = {name for name, value in patch.items() if value is None}
        patched: dict[str, Any] = {}
        result: list[tuple[Any, Any]] = [(s.get("name") if isinstance(s, dict) else None, s) for s in steps]
        new: set[str] = set()
        for name, value in patch.items():
            here = self.patch_loc + ploc + (name,)
            if value is None:
                if name not in named:
                    self.add(
                        here,
                        f"removes op '{name}', which the base's list does not have"
                        f" (allowed: {', '.join(named) or 'none'})",
                    )
                continue
            if not isinstance(value, dict):
                self.add(here, f"an op patch is a mapping of the op's fields or null, got {value!r}")
                continue
            anchors = [a for a in ANCHORS if a in value]
            if name in named:
                if anchors:
                    self.add(
                        here + (anchors[0],),
                        f"op '{name}' is in the base's list already: patch its fields"
                        f" (no {anchors[0]}:), or remove it (null) and add one of another name",
                    )
                else:
                    patched[name] = value
                continue
            if not anchors:
                self.add(
                    here,
                    f"op '{name}' is not in the base's list (allowed: {', '.join(named) or 'none'}); a new"
                    " op says where it goes with after: or before: <op>",
                )
                continue
            op = {k: v for k, v in value.items() if k not in ANCHORS}
            if op.setdefault("name", name) != name:
                self.add(here + ("name",), f"the op added as '{name}' is named '{op['name']}'")
                continue
            index = self.anchor(here, name, anchors, value[anchors[0]], [n for n, _ in result], removed, new)
            if index is not None:
                result.insert(index, (name, op))
                new.add(name)
        out = []
        for name, step in result:
            if name in removed:
                continue
            j = len(out)
            if name in patched:
                step = self.merge(step, patched[name], at + (j,), ploc + (name,))
            elif name in new:
                self.origin[at + (j,)] = self.patch_loc + ploc + (name,)
                self.whole.add(at + (j,))
            out.append(step)
        return out


class PatchedLines(YamlLines):
    """Lines of a patched description: a field a patch wrote is on the patch's line in the file that wrote it;
    an inherited one on the line of `extends:` (its own line is in the base, which is checked on its own)."""

    def __init__(self, root: yaml.Node | None, origin: dict[tuple, tuple], fallback: tuple = ("extends",)):
        super().__init__(root)
        self.origin = origin
        self.whole: set[tuple] = set()
        self.fallback = fallback
        self.problems: list[Problem] = []  # problems of the extends and patches themselves
        self.bases: tuple[Path, ...] = ()  # the base files read, nearest first

    def line(self, loc: tuple) -> int:
        return super().line(self.source(loc))

    def source(self, loc: tuple) -> tuple:
        """The field of this file that `loc` (a location in the merged data) came from."""
        if self.problems:
            return loc  # the extends failed: the locations are this file's own (the patch's problems)
        for n in range(len(loc), 0, -1):
            if loc[:n] in self.origin:
                mapped = self.origin[loc[:n]] + tuple(loc[n:])
                if loc[:n] in self.whole or len(self._walk(mapped)[0]) == len(mapped):
                    return mapped
                break
        return self.fallback


def resolve(
    path: Path,
    data: dict,
    lines: YamlLines,
    find: Callable[[str, Path], Path | None],
    read: Callable[[Path], tuple[Any, YamlLines]],
    chain: tuple[Path, ...] = (),
) -> tuple[Any, PatchedLines]:
    """The description `data` (read from `path`, with `extends:`) as its base patched by it. Problems of the
    extends and the patch are on the returned lines' `problems`; with any, the data is the file's own."""
    plines = PatchedLines(lines.root, {})
    base_ref = data.get("extends")
    if not isinstance(base_ref, str) or not base_ref:
        plines.problems.append(Problem(("extends",), f"extends takes a module name or a path, got {base_ref!r}"))
        return data, plines
    base_path = find(base_ref, path.parent)
    if base_path is None:
        plines.problems.append(
            Problem(
                ("extends",),
                f"unknown base '{base_ref}' (a module name, looked up beside"
                " the file and then in modules/, or a .yaml path relative to the file)",
            )
        )
        return data, plines
    here = (*chain, path.resolve())
    if base_path.resolve() in here:
        names = [p.stem for p in here[here.index(base_path.resolve()) :]] + [base_path.stem]
        plines.problems.append(Problem(("extends",), f"cyclic extends: {' -> '.join(names)}"))
        return data, plines
    base, blines = read_chain(base_path, find, read, here)
    bproblems = getattr(blines, "problems", [])
    cycles = [p for p in bproblems if p.message.startswith("cyclic extends")]
    if cycles:  # one problem, as the base that closes the cycle says it (from the file first read)
        plines.problems.append(Problem(("extends",), cycles[0].message))
        return data, plines
    if bproblems:
        plines.problems.append(
            Problem(
                ("extends",),
                f"base '{base_ref}' has {len(bproblems)} problem(s) in its "
                f"extends or patches: tttgen validate {base_path}",
            )
        )
        return data, plines
    if not isinstance(base, dict):
        plines.problems.append(Problem(("extends",), f"base '{base_ref}' is not a mapping of fields"))
        return data, plines
    patcher = Patcher()
    merged = patcher.merge(base, {k: v for k, v in data.items() if k != "extends"})
    merged.pop("extends", None)
    patcher.origin.pop((), None)
    plines.origin, plines.whole = patcher.origin, patcher.whole
    plines.problems = patcher.problems
    plines.bases = (base_path, *getattr(blines, "bases", ()))
    if plines.problems:
        return data, plines
    return merged, plines


def read_chain(path: Path, find, read, chain: tuple[Path, ...] = ()) -> tuple[Any, YamlLines]:
    """A description file's data and lines, its `extends:` resolved (recursively: a base may extend another)."""
    data, lines = read(path)
    if isinstance(data, dict) and "extends" in data:
        return resolve(path, data, lines, find, read, chain)
    return data, lines
