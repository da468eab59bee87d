"""Rules the mock mesh does not check, judged beside ttnn's own validation of every collective.

ttnn 0.81.1 on a mock mesh creates a collective's programs without any ethernet behind them, so it accepts calls that
hardware would not run (each accepted by the mock in a probe of 0.81.1): more links than an axis has, a ring on an axis that is
a line, a gathered or scattered tile dim that is not whole tiles on every chip, and per-core buffers beyond L1.
The runner asks `before` ahead of each collective and `after` with ttnn's L1 figures; a problem is reported like a
rejection by ttnn, with the package line.

Standard library only: this file runs inside the ttnn venv next to runner.py. The rules are plain JSON, built on the
host side from the device profile (`tttgen.checking.realttnn.mesh.mesh_rules`: the mesh spec the package opens, plus the L1
budget per core).
"""

from __future__ import annotations

from typing import Any

TILE = 32
# The collective calls a package makes (ttnn 0.81.1's names; the `_async` forms are ttnn.experimental's).
COLLECTIVES = frozenset(
    {"all_gather", "reduce_scatter", "all_reduce", "experimental.all_gather_async", "experimental.reduce_scatter_minimal_async"}
)
SCATTERS = frozenset({"reduce_scatter", "experimental.reduce_scatter_minimal_async"})
NOT_CHECKED = "a rule the mock mesh does not check"


def _axis(kwargs: dict, shape: list[int]) -> tuple[int | None, str | None]:
    """The mesh axis a collective runs along, or why it has none."""
    axis = kwargs.get("cluster_axis")
    if axis is None:
        spread = [i for i, n in enumerate(shape) if n > 1]
        if len(spread) > 1:
            return None, f"no cluster_axis on a {shape[0]}x{shape[1]} mesh: a collective runs along one axis (0 or 1)"
        return (spread[0] if spread else 1), None
    if axis not in (0, 1):
        return None, f"cluster_axis={axis}: a mesh has axes 0 and 1"
    return axis, None


def before(fn_name: str, args: tuple, kwargs: dict, rules: dict[str, Any]) -> str | None:
    """Why hardware would refuse this collective call although the mock accepts it (None: nothing)."""
    if fn_name not in COLLECTIVES:
        return None
    shape = rules["shape"]
    axis, problem = _axis(kwargs, shape)
    if problem:
        return f"{fn_name}: {problem} ({NOT_CHECKED})"
    along = rules["axes"][axis]
    links = kwargs.get("num_links", 1)
    if links is not None and not 1 <= int(links) <= along["links"]:
        return (
            f"{fn_name}: num_links={links} on mesh axis {axis}, where the device profile gives {along['links']} "
            f"link(s) (allowed: 1..{along['links']}; {NOT_CHECKED})"
        )
    topology = kwargs.get("topology")
    if topology is not None and "ring" in str(topology).lower() and along["topology"] != "ring":
        return (
            f"{fn_name}: topology Ring on mesh axis {axis}, which is a {along['topology']} of {shape[axis]} chips "
            f"(allowed: Linear; {NOT_CHECKED})"
        )
    dim = kwargs.get("dim", args[1] if len(args) > 1 and isinstance(args[1], int) else None)
    tensor = args[0] if args else kwargs.get("input_tensor")
    if dim is not None and tensor is not None and hasattr(tensor, "shape"):
        dims = list(tensor.shape)
        d = dim % len(dims)
        tiled = "TILE" in str(getattr(tensor, "layout", "TILE"))
        if tiled and d >= len(dims) - 2:
            per_chip = dims[d] // shape[axis] if fn_name in SCATTERS else dims[d]
            whole = dims[d] % shape[axis] == 0 if fn_name in SCATTERS else True
            if not whole or per_chip % TILE:
                return (
                    f"{fn_name}: dim {dim} holds {per_chip if whole else dims[d] / shape[axis]:g} elements per chip "
                    f"over the {shape[axis]} chips of axis {axis}, not whole {TILE}-wide tiles ({NOT_CHECKED})"
                )
    return None


def after(fn_name: str, figures: dict[str, int], rules: dict[str, Any]) -> str | None:
    """Why this collective's per-core L1 (ttnn's own peak_total figure) cannot fit on hardware (None: it fits)."""
    if fn_name not in COLLECTIVES:
        return None
    total, budget = figures.get("l1_total", 0), rules["l1_budget"]
    if total > budget:
        return f"{fn_name}: peak_total {total} B per core is over the L1 budget of {budget} B ({NOT_CHECKED})"
    return None
