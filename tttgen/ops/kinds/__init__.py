"""Every op kind, one module each (tttgen/ops/kinds/<kind>.py), registered under one name.

A kind's module holds one OpKind subclass (tttgen/ops/kinds/base.py) and its instance `KIND`; this package finds
them by listing its own modules, so adding a kind is adding its file (docs/adding-an-op-kind.md). Passes, the
cost model's callers, the renderer and explain ask `kind_of(op)` instead of switching on a kind's name.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from tttgen.ops.kinds.base import OpKind

if TYPE_CHECKING:
    from tttgen.ir.graph import Op


def _load() -> dict[str, OpKind]:
    found: dict[str, OpKind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base":
            continue
        kind = getattr(importlib.import_module(f"{__name__}.{info.name}"), "KIND", None)
        assert isinstance(kind, OpKind), f"tttgen/ops/kinds/{info.name}.py defines no KIND"
        assert kind.name == info.name, f"tttgen/ops/kinds/{info.name}.py holds kind {kind.name!r}"
        found[kind.name] = kind
    return found


KINDS: dict[str, OpKind] = _load()
# The kinds a module description may name (the builder adds the others itself).
DESCRIBED: dict[str, OpKind] = {name: k for name, k in KINDS.items() if k.described}


def kind_of(op: "Op") -> OpKind:
    """The kind of an IR op: an op's kind in the IR is its kind's name."""
    return KINDS[op.kind]


def kinds_with(predicate) -> tuple[str, ...]:
    """The names (sorted) of the device-op kinds for which predicate(kind) holds."""
    return tuple(sorted(name for name, k in KINDS.items() if k.device_op and predicate(k)))
