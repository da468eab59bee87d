"""Pass `target`: stop early when tttgen cannot emit runnable code for the device or the model.

Inputs: device profile, model, max_seq_len. Produces: `target` (graph facts: grid used, compute-kernel class).
"""

from __future__ import annotations

from tttgen import TARGET_TTNN_VERSION
from tttgen.errors import UnsupportedTarget
from tttgen.ir.graph import Graph
from tttgen.passes.base import make_pass
from tttgen.ttnn_classes import ttnn_has


@make_pass("target", requires=(), produces=("target",))
def target(graph: Graph) -> Graph:
    """Refuse devices the targeted ttnn cannot drive (a mesh is placed by the parallelism pass that follows)."""
    device = graph.device
    cls = device.compute_kernel_config_class
    if not ttnn_has(f"ttnn.{cls}"):
        raise UnsupportedTarget(
            f"ttnn {TARGET_TTNN_VERSION} has no {cls}: {device.arch} is no longer supported by ttnn, "
            "so no runnable code can be generated",
            where=f"device_profiles/{device.name}.yaml",
        )
    max_seq = graph.hints.max_seq_len
    unwindowed = [
        op.facts["sliding_window"] for op in graph.ops
        if "sliding_window" in op.facts and "window" not in op.dataflow.get("in", {})
    ]
    window = min(unwindowed, default=None)
    if window is not None and window < max_seq:
        # A query attends to the last `window` positions; with every position < max_seq_len <= window that
        # is all of them, so plain causal attention is exact. Beyond that tttgen has no windowed kernel, except in
        # descriptions that pass the window to the attention (its `window` input: Gemma's layers alternate sliding
        # and global attention).
        raise UnsupportedTarget(
            f"sliding_window {window} is shorter than max_seq_len {max_seq}: tttgen emits full causal "
            "attention, which equals sliding-window attention only while max_seq_len <= sliding_window",
            where=f"{graph.name}: sliding_window",
            hint=f"build with --max-seq-len {window // 128 * 128} or less",
        )
    return graph.with_facts(grid=(device.grid.x, device.grid.y), compute_kernel_class=cls)
