"""Pass `target`: stop early when tttgen cannot emit runnable code for the device.

Inputs: device profile, model. Produces: `target` (graph facts: grid used, compute-kernel class).
"""

from __future__ import annotations

from tttgen import TARGET_TTNN_VERSION
from tttgen.errors import UnsupportedTarget
from tttgen.ir.graph import Graph
from tttgen.passes.base import make_pass
from tttgen.ttnn_classes import ttnn_has


@make_pass("target", requires=(), produces=("target",))
def target(graph: Graph) -> Graph:
    """Refuse devices the targeted ttnn cannot drive, and multi-chip meshes (not generated yet)."""
    device = graph.device
    cls = device.compute_kernel_config_class
    if not ttnn_has(f"ttnn.{cls}"):
        raise UnsupportedTarget(
            f"ttnn {TARGET_TTNN_VERSION} has no {cls}: {device.arch} is no longer supported by ttnn, "
            "so no runnable code can be generated",
            where=f"device_profiles/{device.name}.yaml",
        )
    if device.chips > 1:
        raise UnsupportedTarget(
            f"{device.name} is a {device.chips}-chip mesh {list(device.mesh_shape)}; tttgen generates "
            "single-chip packages only so far (multi-device generation is not implemented)",
            where=f"device_profiles/{device.name}.yaml",
            hint="use a single-chip profile: n150, p150, p150-legacy-fw or p100",
        )
    return graph.with_facts(grid=(device.grid.x, device.grid.y), compute_kernel_class=cls)
