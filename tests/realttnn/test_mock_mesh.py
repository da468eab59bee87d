"""The real ttnn 0.81.1 opens each mesh profile's mock mesh as a mesh package will (fabric config, MeshShape,
dispatch core config), reports the profile's grid, places host tensors through the mesh mappers, and accepts a
column-parallel linear + all_gather and a row-parallel linear + reduce_scatter / all_reduce with the profile's
topology and links, per-device shapes, inside NO_DISPATCH captures. CCL L1 is in peak_cb (old-style circular
buffers), not peak_dataflow_buffer."""

import os

import pytest

from tttgen.checking.realttnn.mesh import mesh_spec, run_mesh
from tttgen.inputs.load import load_device

SLOW = pytest.mark.skipif(
    os.environ.get("TTTGEN_SLOW_TESTS") != "1", reason="Galaxy opens in ~11 s cold: TTTGEN_SLOW_TESTS=1"
)

# Collective L1 per core seen with ttnn 0.81.1 on these meshes (2026-12): all_gather 36,864 B on Wormhole and
# 49,152 B on Blackhole; linear reduce_scatter / all_reduce 196,608 B; on the T3K ring 65,536 B.
CASES = [
    ("n300", [1, 2], (8, 7), 36864, 196608),
    ("n300-eth", [1, 2], (8, 8), 36864, 196608),
    ("t3k", [1, 8], (8, 8), 36864, 65536),
    ("p150x4", [2, 2], (11, 10), 49152, 196608),
    ("p300", [1, 2], (11, 10), 49152, 196608),
    pytest.param("galaxy", [8, 4], (8, 9), None, None, marks=[SLOW, pytest.mark.slow]),
]


@pytest.mark.parametrize("name, shape, grid, gather_cb, reduce_cb", CASES)
def test_mock_mesh_opens_and_accepts_tensor_parallel_ops(real_ttnn, name, shape, grid, gather_cb, reduce_cb):
    device, _ = load_device(name)
    result = run_mesh(device, ["tp", "mappers"])
    assert result["shape"] == shape == list(device.mesh_shape) and result["devices"] == device.chips
    assert tuple(result["grid"]) == grid == (device.grid.x, device.grid.y)
    records = {r["op"]: r for r in result["records"]}
    assert sorted(records) == [
        "column.all_gather",
        "column.linear",
        "mapper.replicate",
        "mapper.replicate.all_gather",
        "mapper.shard2d",
        "mapper.shard2d.all_gather",
        "mapper.shard3",
        "mapper.shard3.all_gather",
        "row.all_reduce",
        "row.linear",
        "row.reduce_scatter",
    ]
    rejected = {op: r["message"] for op, r in records.items() if not r["accepted"]}
    assert not rejected
    for op in ("column.all_gather", "row.reduce_scatter", "row.all_reduce"):
        ccl = records[op]
        assert ccl["peak_cb"] > 0 and ccl["peak_dataflow_buffer"] == 0 and ccl["peak_total"] >= ccl["peak_cb"]
    assert records["column.linear"]["peak_cb"] == 0 and records["column.linear"]["peak_dataflow_buffer"] > 0
    if gather_cb is not None:
        assert records["column.all_gather"]["peak_cb"] == gather_cb
        assert records["row.reduce_scatter"]["peak_cb"] == reduce_cb
    # per-device shapes: the gather restores the full width, the scatter leaves 1/n of it
    n = shape[1] if shape[1] > 1 else shape[0]
    # mesh mappers (placing tilizes on device: the op ttnn's mock rejects on an 8x7/8x8 grid mismatch)
    rows, width = 32 * shape[0], 256 * n
    assert records["mapper.replicate"]["shape"] == [1, 1, rows, width]
    assert records["mapper.shard3"]["shape"] == [1, 1, rows, width // device.chips]
    assert records["mapper.shard2d"]["shape"] == [1, 1, rows // shape[0], width // shape[1]]
    assert all(records[f"mapper.{m}"]["devices"] == device.chips for m in ("replicate", "shard3", "shard2d"))
    assert records["column.all_gather"]["shape"][-1] == 2048
    assert records["row.reduce_scatter"]["shape"][-1] == 2048 // n
    assert records["row.all_reduce"]["shape"][-1] == 2048


def test_mesh_spec_follows_the_profile():
    spec = mesh_spec(load_device("t3k")[0])
    assert spec == {
        "shape": [1, 8],
        "fabric": "FABRIC_1D_RING",
        "dispatch_core_type": "ETH",
        "dispatch_core_axis": "ROW",
        "axes": [{"topology": "linear", "links": 1}, {"topology": "ring", "links": 1}],
    }


def test_single_chip_profile_has_no_mesh_to_open():
    from tttgen.errors import UnsupportedTarget

    with pytest.raises(UnsupportedTarget, match="n150 is a single-chip profile"):
        mesh_spec(load_device("n150")[0])
