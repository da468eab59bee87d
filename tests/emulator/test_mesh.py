"""Meshes on the emulator: mappers and composers, collectives and the distributed RMSNorm as ttnn's goldens, and
tensor-parallel MLPs (TP=2, TP=8, a 2x4 2D split) equal to the single-chip MLP."""

from __future__ import annotations

import pytest
import torch

import tttgen.checking.emulator as emu
from tttgen.checking.emulator.errors import EmulatorValidationError

from emu_helpers import N150

D, H, ROWS = 256, 512, 32


@pytest.fixture
def fast():
    with emu.installed(**N150, numerics="fast") as mod:
        mod.set_fabric_config(mod.FabricConfig.FABRIC_1D)
        yield mod


def open_mesh(ttnn, rows, cols):
    return ttnn.open_mesh_device(ttnn.MeshShape(rows, cols))


def put(ttnn, mesh, x, mapper, dtype=None):
    return ttnn.from_torch(
        x,
        dtype=dtype or ttnn.bfloat16,
        layout=ttnn.TILE_LAYOUT,
        device=mesh,
        memory_config=ttnn.DRAM_MEMORY_CONFIG,
        mesh_mapper=mapper,
    )


def weights(gen):
    w1, w3 = (torch.randn(D, H, generator=gen) / D**0.5 for _ in range(2))
    w2 = torch.randn(H, D, generator=gen) / H**0.5
    return torch.randn(1, 1, ROWS, D, generator=gen), w1, w3, w2


def mlp(ttnn, x, w1, w3, w2):
    a = ttnn.linear(x, w1)
    b = ttnn.linear(x, w3)
    return ttnn.linear(ttnn.mul(a, b, input_tensor_a_activations=[ttnn.UnaryOpType.SILU]), w2)


def single_chip(ttnn, x, w1, w3, w2):
    dev = ttnn.open_device(device_id=0)
    on = lambda t: ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev)
    return ttnn.to_torch(mlp(ttnn, on(x), on(w1), on(w3), on(w2)))


def close(a, b):
    return torch.allclose(a, b, rtol=0.02, atol=0.02 * float(b.abs().max()))


@pytest.mark.parametrize("n, reduce", [(2, "all_reduce"), (8, "reduce_scatter")])
def test_tensor_parallel_mlp_equals_single_chip(fast, n, reduce):
    ttnn, gen = fast, torch.Generator().manual_seed(0)
    x, w1, w3, w2 = weights(gen)
    reference = single_chip(ttnn, x, w1, w3, w2)
    mesh = open_mesh(ttnn, 1, n)
    xm = put(ttnn, mesh, x, ttnn.ReplicateTensorToMesh(mesh))
    column = lambda w: put(ttnn, mesh, w, ttnn.ShardTensorToMesh(mesh, dim=-1))
    row = put(ttnn, mesh, w2, ttnn.ShardTensor2dMesh(mesh, mesh_shape=(1, n), dims=(None, -2)))
    partial = mlp(ttnn, xm, column(w1), column(w3), row)
    assert list(partial.shape) == [1, 1, ROWS, D]  # per-device shape: partial sums, full width
    assert not close(ttnn.to_torch(ttnn.get_device_tensors(partial)[0]), reference)  # a partial sum is not the answer
    if reduce == "all_reduce":
        y = ttnn.all_reduce(partial, cluster_axis=1)
        out = ttnn.to_torch(y, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=0))
        assert out.shape[0] == n and all(torch.equal(out[i], out[0]) for i in range(n))
        out = out[:1]
    else:
        y = ttnn.reduce_scatter(partial, dim=3, cluster_axis=1)
        assert list(y.shape) == [1, 1, ROWS, D // n]
        out = ttnn.to_torch(y, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=3))
    assert out.shape == reference.shape and close(out, reference)


def test_2x4_mesh_2d_split_equals_single_chip(fast):
    """Galaxy-style: x fractured over columns (K), w1/w3 K over columns and N over rows, all_reduce over axis 1;
    w2 K over rows and N over columns, all_reduce over axis 0."""
    ttnn, gen = fast, torch.Generator().manual_seed(1)
    x, w1, w3, w2 = weights(gen)
    reference = single_chip(ttnn, x, w1, w3, w2)
    mesh = open_mesh(ttnn, 2, 4)
    xm = put(ttnn, mesh, x, ttnn.ShardTensor2dMesh(mesh, mesh_shape=(2, 4), dims=(None, 3)))
    w13 = lambda w: put(ttnn, mesh, w, ttnn.ShardTensor2dMesh(mesh, mesh_shape=(2, 4), dims=(-1, -2)))
    a = ttnn.all_reduce(ttnn.linear(xm, w13(w1)), cluster_axis=1)
    b = ttnn.all_reduce(ttnn.linear(xm, w13(w3)), cluster_axis=1)
    h = ttnn.mul(a, b, input_tensor_a_activations=[ttnn.UnaryOpType.SILU])
    w2m = put(ttnn, mesh, w2, ttnn.ShardTensor2dMesh(mesh, mesh_shape=(2, 4), dims=(-2, -1)))
    y = ttnn.all_reduce(ttnn.linear(h, w2m), cluster_axis=0)
    assert list(y.shape) == [1, 1, ROWS, D // 4]
    out = ttnn.to_torch(y, mesh_composer=ttnn.ConcatMesh2dToTensor(mesh, mesh_shape=(2, 4), dims=(0, 3)))
    assert out.shape == (2, 1, ROWS, D)
    assert torch.equal(out[0], out[1]) and close(out[:1], reference)


@pytest.mark.parametrize("n", [2, 8])
def test_distributed_rms_norm_equals_rms_norm(fast, n):
    ttnn, gen = fast, torch.Generator().manual_seed(2)
    x, gamma = torch.randn(1, 1, ROWS, D, generator=gen), torch.rand(D, generator=gen) + 0.5
    dev = ttnn.open_device(device_id=0)
    on = lambda t: ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev)
    gamma_rows = gamma.reshape(1, 1, D // 32, 32)
    reference = ttnn.to_torch(
        ttnn.rms_norm(
            on(x),
            epsilon=1e-5,
            weight=ttnn.from_torch(gamma_rows, dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT, device=dev),
        )
    )
    mesh = open_mesh(ttnn, 1, n)
    xm = put(ttnn, mesh, x, ttnn.ShardTensorToMesh(mesh, dim=3))
    gm = ttnn.from_torch(
        gamma.reshape(1, 1, 1, D),
        dtype=ttnn.bfloat16,
        layout=ttnn.ROW_MAJOR_LAYOUT,
        device=mesh,
        mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=3),
    )
    stats = ttnn.rms_norm_pre_all_gather(xm, dtype=ttnn.bfloat16)
    assert list(stats.shape) == [1, 1, ROWS, 32]
    gathered = ttnn.all_gather(stats, dim=3, cluster_axis=1)
    assert list(gathered.shape) == [1, 1, ROWS, 32 * n]
    y = ttnn.rms_norm_post_all_gather(xm, gathered, epsilon=1e-5, weight=gm)
    out = ttnn.to_torch(y, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=3))
    assert close(out, reference)
    local_only = ttnn.rms_norm_post_all_gather(xm, stats, epsilon=1e-5, weight=gm)  # stats of one chip only
    assert not close(ttnn.to_torch(local_only, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=3)), reference)


def test_mappers_and_composers_round_trip(fast):
    ttnn = fast
    t = torch.arange(2 * 3 * 64 * 256, dtype=torch.float32).reshape(2, 3, 64, 256)
    mesh = open_mesh(ttnn, 2, 4)
    sharded = put(ttnn, mesh, t, ttnn.ShardTensor2dMesh(mesh, mesh_shape=(2, 4), dims=(2, 3)), ttnn.float32)
    assert list(sharded.shape) == [2, 3, 32, 64] and len(ttnn.get_device_tensors(sharded)) == 8
    chip5 = ttnn.to_torch(ttnn.get_device_tensors(sharded)[5])  # mesh row 1, column 1
    assert torch.equal(chip5, t[:, :, 32:64, 64:128])
    back = ttnn.to_torch(sharded, mesh_composer=ttnn.ConcatMesh2dToTensor(mesh, mesh_shape=(2, 4), dims=(2, 3)))
    assert torch.equal(back, t)
    flat = put(ttnn, mesh, t, ttnn.ShardTensorToMesh(mesh, dim=-1), ttnn.float32)
    assert torch.equal(ttnn.to_torch(flat, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=-1)), t)
    replicated = put(ttnn, mesh, t, ttnn.ReplicateTensorToMesh(mesh).unwrap(), ttnn.float32)
    assert all(torch.equal(ttnn.to_torch(c), t) for c in ttnn.get_device_tensors(replicated))
    default = put(ttnn, mesh, t, None, ttnn.float32)  # no mapper on a mesh: replicated, as ttnn
    assert len(ttnn.get_device_tensors(default)) == 8


def test_all_gather_and_reduce_scatter_follow_the_golden_groups(fast):
    ttnn = fast
    mesh = open_mesh(ttnn, 2, 2)
    t = torch.arange(4 * 32 * 64, dtype=torch.float32).reshape(4, 1, 32, 64)  # chip i holds t[i]
    x = put(ttnn, mesh, t, ttnn.ShardTensorToMesh(mesh, dim=0), ttnn.float32)
    rows = ttnn.to_torch(ttnn.all_gather(x, dim=3, cluster_axis=1), mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=0))
    assert torch.equal(rows[2], torch.cat([t[2], t[3]], dim=-1))  # mesh row 1 = chips 2, 3
    cols = ttnn.to_torch(ttnn.all_gather(x, dim=3, cluster_axis=0), mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=0))
    assert torch.equal(cols[1], torch.cat([t[1], t[3]], dim=-1))  # mesh column 1 = chips 1, 3
    scattered = ttnn.reduce_scatter(x, dim=3, cluster_axis=0)
    out = ttnn.to_torch(scattered, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=0))
    assert torch.equal(out[3], (t[1] + t[3])[..., 32:])  # chip 3 is second in its column group: the second half


def test_collectives_refuse_bad_arguments(fast):
    ttnn = fast
    mesh = open_mesh(ttnn, 2, 4)
    x = put(ttnn, mesh, torch.zeros(1, 1, 32, 96), ttnn.ReplicateTensorToMesh(mesh))
    with pytest.raises(EmulatorValidationError, match=r"fabric_is_2d \|\| args.cluster_axis.has_value\(\)"):
        ttnn.all_gather(x, dim=3)
    with pytest.raises(EmulatorValidationError, match=r"Invalid cluster axis 2. Must be 0 or 1"):
        ttnn.all_reduce(x, cluster_axis=2)
    with pytest.raises(EmulatorValidationError, match="leaves 24 columns per device, not whole tiles"):
        ttnn.reduce_scatter(x, dim=3, cluster_axis=1)
    three = put(ttnn, mesh, torch.zeros(1, 3, 32, 64), ttnn.ReplicateTensorToMesh(mesh))
    with pytest.raises(EmulatorValidationError, match="Dimension 1 must be divisible by ring_size"):
        ttnn.reduce_scatter(three, dim=1, cluster_axis=1)
    with pytest.raises(EmulatorValidationError, match="needs mesh_composer="):
        ttnn.to_torch(x)
    with pytest.raises(EmulatorValidationError, match=r"mesh shape MeshShape\(\[4, 4\]\) does not match the device"):
        ttnn.ShardTensor2dMesh(mesh, mesh_shape=(4, 4), dims=(None, 3))
    with pytest.raises(EmulatorValidationError, match="Invalid gather dim 5 for 4D input tensor"):
        ttnn.all_gather(x, dim=5, cluster_axis=1)
    with pytest.raises(EmulatorValidationError, match=r"Invalid dimension index; got dims: \{7\}, tensor dimension: 4"):
        put(ttnn, mesh, torch.zeros(1, 1, 32, 64), ttnn.ShardTensorToMesh(mesh, dim=7))
    pair = open_mesh(ttnn, 1, 2)
    with pytest.raises(
        EmulatorValidationError, match=r"Shard shape mismatch: expected Shape\(\[1, 2, 32, 64\]\) but got"
    ):
        put(ttnn, pair, torch.zeros(1, 3, 32, 64), ttnn.ShardTensorToMesh(pair, dim=1))
    with pytest.raises(EmulatorValidationError, match="needs a tensor on a mesh device"):
        ttnn.all_gather(ttnn.get_device_tensors(x)[0], dim=3)
    with pytest.raises(TypeError):
        ttnn.all_reduce(x, 1)  # cluster_axis is a keyword argument in ttnn 0.81.1


def test_collectives_need_a_fabric():
    with emu.installed(**N150) as ttnn:
        mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2))
        x = put(ttnn, mesh, torch.zeros(1, 1, 32, 64), ttnn.ReplicateTensorToMesh(mesh))
        with pytest.raises(EmulatorValidationError, match=r"fabric_context_ != nullptr"):
            ttnn.all_gather(x, dim=3)


MESH_NAMES = (
    "all_gather",
    "reduce_scatter",
    "all_reduce",
    "rms_norm_pre_all_gather",
    "rms_norm_post_all_gather",
    "open_mesh_device",
    "ReplicateTensorToMesh",
    "ShardTensorToMesh",
    "ShardTensor2dMesh",
    "ConcatMeshToTensor",
    "ConcatMesh2dToTensor",
    "close_mesh_device",
    "get_device_tensors",
)


@pytest.mark.parametrize("name", MESH_NAMES)
def test_mesh_signatures_are_ttnn_0_81_1s(fast, name):
    """Argument names exactly as the ttnn 0.81.1 API snapshot (tttgen/data/ttnn_api/0.81.1.json)."""
    import inspect
    import json
    from pathlib import Path

    import tttgen

    snapshot = json.loads((Path(tttgen.__file__).parent / "data" / "ttnn_api" / "0.81.1.json").read_text())["names"]
    fn = getattr(fast, name)
    params = set(inspect.signature(fn).parameters) - {"args", "kwargs"}
    assert params == set(snapshot[f"ttnn.{name}"]["kwargs"])
