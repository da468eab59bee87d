"""Open a mock mesh as a mesh package would and judge ops on it, inside the ttnn venv (Python 3.12, ttnn 0.81.1).

    python mesh_runner.py JOB.json OUT.json

The job (written by `tttgen.checking.realttnn.mesh`) holds the mesh spec of a device profile (shape, fabric config,
dispatch core config, topology and links per axis) and the names of the programs to run. The environment already
points `TT_METAL_MOCK_CLUSTER_DESC_PATH` at the profile's descriptor. `open_mesh` and `judge` are the pieces a mesh
package check reuses: open the mesh exactly as the package will, then run each op in its own NO_DISPATCH capture and
record ttnn's verdict and the L1 it reports. CCL ops still use old-style circular buffers, so their L1 is in
`peak_cb`, not `peak_dataflow_buffer`; both are recorded, with `peak_total`.

Only the standard library, ttnn and `probe.py` are imported here.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from probe import first_lines  # noqa: E402


def open_mesh(ttnn, spec: dict):
    """Set the fabric config, then open the mesh with the profile's shape and dispatch core config."""
    ttnn.set_fabric_config(getattr(ttnn.FabricConfig, spec["fabric"]))
    dispatch = ttnn.DispatchCoreConfig(
        getattr(ttnn.DispatchCoreType, spec["dispatch_core_type"]),
        getattr(ttnn.DispatchCoreAxis, spec["dispatch_core_axis"]),
    )
    rows, cols = spec["shape"]
    return ttnn.open_mesh_device(ttnn.MeshShape(rows, cols), dispatch_core_config=dispatch)


def close_mesh(ttnn, mesh) -> None:
    ttnn.close_mesh_device(mesh)
    ttnn.set_fabric_config(ttnn.FabricConfig.DISABLED)


def judge(ttnn, name: str, fn, records: list[dict]):
    """Run `fn` in a NO_DISPATCH capture; append the verdict and L1 per core; return its result (None if rejected)."""
    graph = ttnn._ttnn.graph
    graph.begin_graph_capture(graph.RunMode.NO_DISPATCH)
    try:
        out = fn()
    except Exception as err:  # ttnn's TT_FATAL / TypeError: the verdict
        graph.end_graph_capture()
        records.append({"op": name, "accepted": False, "message": first_lines(err)})
        return None
    usage = graph.extract_resource_usage_per_core(graph.end_graph_capture())
    records.append(
        {
            "op": name,
            "accepted": True,
            "message": None,
            "shape": list(out.shape),
            "peak_cb": int(usage.peak_cb),
            "peak_dataflow_buffer": int(usage.peak_dataflow_buffer),
            "peak_l1": int(usage.peak_l1),
            "peak_total": int(usage.peak_total),
        }
    )
    return out


def ccl_kwargs(ttnn, spec: dict, axis: int) -> dict:
    """cluster_axis, topology and num_links of a collective along a mesh axis, as the profile states them."""
    along = spec["axes"][axis]
    topology = ttnn.Topology.Ring if along["topology"] == "ring" else ttnn.Topology.Linear
    return {"cluster_axis": axis, "topology": topology, "num_links": along["links"]}


def tp_programs(ttnn, mesh, spec: dict, records: list[dict]) -> None:
    """A column-parallel linear + all_gather and a row-parallel linear + reduce_scatter / all_reduce over the
    tensor-parallel axis (the columns of the mesh), with per-device shapes."""
    axis = 1 if spec["shape"][1] > 1 else 0
    n = spec["shape"][axis]
    k, width = 1024, 2048
    bf16, bfp8, tile, dram = ttnn.bfloat16, ttnn.bfloat8_b, ttnn.TILE_LAYOUT, ttnn.DRAM_MEMORY_CONFIG

    def alloc(shape, dtype):
        return ttnn.allocate_tensor_on_device(ttnn.Shape(shape), dtype, tile, mesh, dram)

    ccl = ccl_kwargs(ttnn, spec, axis)
    x_replicated, w_column = alloc([1, 1, 32, k], bf16), alloc([1, 1, k, width // n], bfp8)
    y = judge(ttnn, "column.linear", lambda: ttnn.linear(x_replicated, w_column, dtype=bf16), records)
    if y is not None:
        judge(ttnn, "column.all_gather", lambda: ttnn.all_gather(y, dim=3, **ccl), records)
    x_fractured, w_row = alloc([1, 1, 32, k // n], bf16), alloc([1, 1, k // n, width], bfp8)
    partial = judge(ttnn, "row.linear", lambda: ttnn.linear(x_fractured, w_row, dtype=bf16), records)
    if partial is not None:
        judge(ttnn, "row.reduce_scatter", lambda: ttnn.reduce_scatter(partial, dim=3, **ccl), records)
        judge(ttnn, "row.all_reduce", lambda: ttnn.all_reduce(partial, **ccl), records)


def mapper_programs(ttnn, mesh, spec: dict, records: list[dict]) -> None:
    """Host tensors placed through mesh mappers by the C++ constructor ttnn.from_torch uses (numpy stands in for
    torch, which this venv lacks; placing tilizes on device, the op the ETH-dispatch mock trap rejects), then an
    all_gather of each. Records the per-device shape each mapper gives."""
    import numpy as np

    rows, cols = spec["shape"]
    axis = 1 if cols > 1 else 0
    n = spec["shape"][axis]
    host = np.zeros((1, 1, 32 * rows, 256 * n), dtype=np.float32)
    mappers = {
        "replicate": lambda: ttnn.ReplicateTensorToMesh(mesh).unwrap(),
        "shard3": lambda: ttnn.ShardTensorToMesh(mesh, dim=3),
        "shard2d": lambda: ttnn.ShardTensor2dMesh(mesh, mesh_shape=(rows, cols), dims=(2 if rows > 1 else None, 3)),
    }
    ccl = ccl_kwargs(ttnn, spec, axis)
    for name, make in mappers.items():
        try:
            placed = ttnn.Tensor(
                tensor=host,
                data_type=ttnn.bfloat16,
                device=mesh,
                layout=ttnn.TILE_LAYOUT,
                mem_config=ttnn.DRAM_MEMORY_CONFIG,
                mesh_mapper=make(),
            )
        except Exception as err:  # ttnn's verdict on placing the tensor
            records.append({"op": f"mapper.{name}", "accepted": False, "message": first_lines(err)})
            continue
        per_device = ttnn.get_device_tensors(placed)
        records.append(
            {
                "op": f"mapper.{name}",
                "accepted": True,
                "message": None,
                "shape": list(per_device[0].shape),
                "devices": len(per_device),
            }
        )
        judge(ttnn, f"mapper.{name}.all_gather", lambda: ttnn.all_gather(placed, dim=3, **ccl), records)


PROGRAMS = {"tp": tp_programs, "mappers": mapper_programs}


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[1]).read_text())
    spec = job["mesh"]
    import ttnn

    start = time.perf_counter()
    mesh = open_mesh(ttnn, spec)
    opened_s = time.perf_counter() - start
    grid = mesh.compute_with_storage_grid_size()
    records: list[dict] = []
    for name in job["programs"]:
        PROGRAMS[name](ttnn, mesh, spec, records)
    result = {
        "shape": list(mesh.shape),
        "devices": mesh.get_num_devices(),
        "grid": [grid.x, grid.y],
        "open_s": round(opened_s, 2),
        "records": records,
    }
    close_mesh(ttnn, mesh)
    Path(argv[2]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
