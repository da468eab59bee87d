"""Open a device profile's mock mesh with the real ttnn and judge ops on it (host side of `mesh_runner.py`).

    result = run_mesh(load_device("t3k")[0], ["tp"])

The mesh spec comes from the profile's `mesh:` section, so the runner opens the mesh exactly as a mesh package
does: fabric config, MeshShape, dispatch core config, and CCLs with the profile's topology and links per axis.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from tttgen.errors import UnsupportedTarget
from tttgen.checking.realttnn import environment
from tttgen.inputs.device import DeviceProfile

RUNNER = Path(__file__).resolve().parent / "mesh_runner.py"


def mesh_spec(device: DeviceProfile) -> dict[str, Any]:
    """The job's description of how to open the device's mesh and run collectives on it."""
    mesh = device.mesh
    if mesh is None:
        raise UnsupportedTarget(
            f"{device.name} is a single-chip profile: it has no mesh to open",
            where=f"device_profiles/{device.name}.yaml",
        )
    return {
        "shape": list(device.mesh_shape),
        "fabric": mesh.fabric,
        "dispatch_core_type": mesh.dispatch_core_type,
        "dispatch_core_axis": mesh.dispatch_core_axis,
        "axes": [{"topology": a.topology, "links": a.links} for a in mesh.axes],
    }


def mesh_rules(device: DeviceProfile) -> dict[str, Any] | None:
    """What the runner checks a mesh package's collectives against (realttnn/mesh_rules.py; None for one chip): the
    mesh spec it opens with (shape, per-axis topology and links) and the L1 budget per core."""
    if device.mesh is None:
        return None
    return {**mesh_spec(device), "l1_budget": device.l1_budget}


def run_mesh(device: DeviceProfile, programs: list[str]) -> dict[str, Any]:
    """Open the device's mock mesh, run the named runner programs, and return what ttnn reported: mesh shape,
    device count, worker grid, open time and one record per op (accepted or ttnn's message; peak_cb,
    peak_dataflow_buffer, peak_l1, peak_total per core)."""
    with tempfile.TemporaryDirectory(prefix="tttgen-mesh-") as tmp:
        job, out = Path(tmp) / "job.json", Path(tmp) / "out.json"
        job.write_text(json.dumps({"mesh": mesh_spec(device), "programs": programs}))
        failure = environment.run_script(RUNNER, job, out, device.name)
        if failure:
            raise RuntimeError(f"the real-ttnn mesh runner failed on {device.name}: {failure}")
        return json.loads(out.read_text())
