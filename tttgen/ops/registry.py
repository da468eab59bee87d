"""The op kinds a module description may use, by name: a view of tttgen/ops/kinds/ (one module per kind) for the
description checker (tttgen/inputs/module.py) and the generic builder (tttgen/builder/expand.py).

Per kind (tttgen/ops/kinds/base.py OpKind): its named inputs, outputs and attribute schema; its graph rule (IR
kind, `infer`: output shapes and facts, default weight roles); how the renderer prints it and lays out its weights;
the decisions, cost and verifier promises the passes ask it for. Nothing else lists op kinds.
"""

from __future__ import annotations

from tttgen.ops.kinds import DESCRIBED
from tttgen.ops.kinds.base import (  # noqa: F401  (the names the description checker and builder import)
    ACTIVATIONS,
    DTYPES,
    UNARY_FNS,
    WEIGHT_ROLES,
    OpKind,
    ShapeError,
    weight_kn,
)

REGISTRY: dict[str, OpKind] = dict(DESCRIBED)
# A kind is its own graph rule: `device_op`, `infer`, `weight_roles`, `shares_input`.
GRAPH: dict[str, OpKind] = REGISTRY


def kind_names() -> list[str]:
    return sorted(REGISTRY)
