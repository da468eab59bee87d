"""Collectives and the distributed RMSNorm on emulated meshes.

Signatures: ttnn 0.81.1's (input_tensor and dim positional, the rest keyword-only, as its docstrings' "Keyword Args").
Semantics: the golden functions of ttnn 0.81.1 (``ttnn/operations/ccl.py``, ``ttnn/operations/normalization.py``):
- ``all_gather(input_tensor, dim, cluster_axis=None, ...)``: every chip of a group (all chips, or one line of the mesh
  along ``cluster_axis``) gets the concatenation of the group's tensors along ``dim``, in row-major chip order.
- ``reduce_scatter(input_tensor, dim, cluster_axis=None, ...)``: the group's tensors are summed and the sum is split
  along ``dim``; chip k of the group keeps chunk k.
- ``all_reduce(input_tensor, cluster_axis=None, ...)``: every chip of the group gets the group's sum.
- ``rms_norm_pre_all_gather(input_tensor, ...)``: a one-tile-wide stats tensor, sum(x^2) over the local width in
  column 0 (the other columns are undefined on hardware; zero here).
- ``rms_norm_post_all_gather(input_tensor, stats, ...)``: the gathered stats hold one tile-wide block per device;
  ``x * rsqrt(sum_d stats_d[..., 0] / (local width * devices) + eps)``, then ``weight``.
Messages: ttnn 0.81.1's TT_FATAL texts where the mock mesh gives one (asked 2026-12: gather dim, cluster axis,
scatter divisibility, no fabric, no cluster_axis on a 2D mesh).
Numerics: sums are taken in fp32 over bf16-rounded inputs and rounded once to the output dtype (the reduction order
of the fabric is not modelled). Topology, links and memory configs are recorded, not modelled: the real ttnn judges
them on the mock mesh (tttgen/checking/realttnn/mesh.py).
"""

from __future__ import annotations

from typing import Optional

import torch

from .. import dtypes as dt
from ..errors import check, fail
from ..mesh import MeshDevice, MeshTensor, mesh_groups
from ..tensor import Tensor
from .common import make_output, set_values

TILE_WIDTH = 32


class FabricState:
    """What ``ttnn.set_fabric_config`` last set (collectives need a fabric, as ttnn's control plane)."""

    def __init__(self):
        self.config = None


FABRIC = FabricState()


def set_fabric_config(config, *args, **kwargs) -> None:
    FABRIC.config = config


def _check_ccl(op: str, tensor, cluster_axis: Optional[int]) -> MeshDevice:
    if not isinstance(tensor, MeshTensor):
        fail(
            op,
            "ccl.not_mesh",
            f"{op} needs a tensor on a mesh device (ttnn.open_mesh_device), got {type(tensor).__name__}",
        )
    mesh = tensor.mesh
    check(tensor.device() is not None, op, "ccl.host", "the input tensor must be on device")
    config = FABRIC.config
    check(
        config is not None and getattr(config, "name", str(config)) != "DISABLED",
        op,
        "ccl.no_fabric",
        "TT_FATAL: this->fabric_context_ != nullptr (call ttnn.set_fabric_config before opening the mesh)",
    )
    if cluster_axis is not None:
        check(
            cluster_axis in (0, 1),
            op,
            "ccl.axis",
            f"TT_FATAL: Invalid cluster axis {cluster_axis}. Must be 0 or 1",
        )
    elif mesh.rows > 1 and mesh.cols > 1 and getattr(config, "name", "") != "FABRIC_2D":
        fail(
            op,
            "ccl.axis_required",
            "TT_FATAL: fabric_is_2d || args.cluster_axis.has_value() || mesh_shape[0] == 1 "
            f"|| mesh_shape[1] == 1: a collective on the 2D mesh {[mesh.rows, mesh.cols]} needs cluster_axis",
        )
    return mesh


def _dim(op: str, tensor: MeshTensor, dim: int) -> int:
    rank = len(tensor.shape)
    check(-rank <= dim < rank, op, "ccl.dim", f"TT_FATAL: Invalid gather dim {dim} for {rank}D input tensor")
    return dim % rank


def _outputs(op: str, tensor: MeshTensor, values: list[torch.Tensor], memory_config) -> MeshTensor:
    chips = []
    for src, vals in zip(tensor.chips, values):
        mem = memory_config if memory_config is not None else src.memory_config()
        chips.append(set_values(make_output(op, vals.shape, src.dtype, src.layout, src.device(), mem), vals))
    return MeshTensor(chips, tensor.mesh)


def all_gather(
    input_tensor,
    dim: int,
    *,
    cluster_axis: Optional[int] = None,
    subdevice_id=None,
    memory_config=None,
    output_tensor=None,
    num_links: Optional[int] = None,
    topology=None,
    chunks_per_sync=None,
    num_workers_per_link=None,
    num_buffers_per_channel=None,
    sub_core_grids=None,
    use_l1_small_for_semaphores: bool = False,
) -> MeshTensor:
    op = "ttnn.all_gather"
    mesh = _check_ccl(op, input_tensor, cluster_axis)
    d = _dim(op, input_tensor, dim)
    out: list[Optional[torch.Tensor]] = [None] * len(input_tensor.chips)
    for group in mesh_groups(mesh, cluster_axis):
        gathered = torch.cat([input_tensor.chips[i].values for i in group], dim=d)
        for i in group:
            out[i] = gathered
    return _outputs(op, input_tensor, out, memory_config)


def reduce_scatter(
    input_tensor,
    dim: int,
    *,
    cluster_axis: Optional[int] = None,
    subdevice_id=None,
    memory_config=None,
    intermediate_memory_config=None,
    output_tensor=None,
    num_links: Optional[int] = None,
    topology=None,
    chunks_per_sync=None,
    num_workers_per_link=None,
    num_buffers_per_channel=None,
    compute_kernel_config=None,
    use_l1_small_for_semaphores: bool = False,
) -> MeshTensor:
    op = "ttnn.reduce_scatter"
    mesh = _check_ccl(op, input_tensor, cluster_axis)
    d = _dim(op, input_tensor, dim)
    out: list[Optional[torch.Tensor]] = [None] * len(input_tensor.chips)
    for group in mesh_groups(mesh, cluster_axis):
        size = input_tensor.shape[d]
        check(
            size % len(group) == 0,
            op,
            "ccl.scatter_divisible",
            f"TT_FATAL: Dimension {d} must be divisible by ring_size",
        )
        if d == len(input_tensor.shape) - 1 and input_tensor.layout == dt.Layout.TILE:
            # ttnn falls back to a composite reduce-scatter when a scatter breaks tiles; the emulator's tile contract
            # (tile-aligned widths) refuses it
            check(
                (size // len(group)) % TILE_WIDTH == 0,
                op,
                "ccl.scatter_tiles",
                f"scattering width {size} over {len(group)} devices leaves {size // len(group)} columns per device, "
                "not whole tiles of 32",
            )
        reduced = torch.stack([input_tensor.chips[i].values.float() for i in group]).sum(dim=0)
        for i, chunk in zip(group, torch.chunk(reduced, len(group), dim=d)):
            out[i] = chunk
    return _outputs(op, input_tensor, out, memory_config)


def all_reduce(
    input_tensor,
    *,
    cluster_axis: Optional[int] = None,
    subdevice_id=None,
    memory_config=None,
    num_links: Optional[int] = None,
    topology=None,
) -> MeshTensor:
    op = "ttnn.all_reduce"
    mesh = _check_ccl(op, input_tensor, cluster_axis)
    out: list[Optional[torch.Tensor]] = [None] * len(input_tensor.chips)
    for group in mesh_groups(mesh, cluster_axis):
        reduced = torch.stack([input_tensor.chips[i].values.float() for i in group]).sum(dim=0)
        for i in group:
            out[i] = reduced
    return _outputs(op, input_tensor, out, memory_config)


def rms_norm_pre_all_gather(
    input_tensor: Tensor,
    *,
    residual_input_tensor: Optional[Tensor] = None,
    compute_kernel_config=None,
    program_config=None,
    memory_config=None,
    dtype=None,
    use_2d_core_grid=None,
    fast_and_approximate_mode: bool = False,
) -> Tensor:
    """One chip's stats (called per chip on a mesh tensor)."""
    op = "ttnn.rms_norm_pre_all_gather"
    check(isinstance(input_tensor, Tensor), op, "norm.input", "input_tensor must be a ttnn.Tensor")
    device = input_tensor.require_device(op)
    check(
        input_tensor.layout == dt.Layout.TILE,
        op,
        "norm.layout",
        "Only tile layout is supported for rms_norm_pre_all_gather",
    )
    x = input_tensor.values.float()
    if residual_input_tensor is not None:
        x = x + residual_input_tensor.values.float()
    stats = torch.zeros((*x.shape[:-1], TILE_WIDTH), dtype=torch.float32)
    stats[..., 0] = (x * x).sum(dim=-1)
    out_dtype = dtype if dtype is not None else dt.bfloat16
    out = make_output(op, stats.shape, out_dtype, dt.Layout.TILE, device, memory_config or input_tensor.memory_config())
    return set_values(out, stats)


def rms_norm_post_all_gather(
    input_tensor: Tensor,
    stats: Tensor,
    *,
    epsilon: float = 1e-12,
    weight: Optional[Tensor] = None,
    bias: Optional[Tensor] = None,
    memory_config=None,
    program_config=None,
    compute_kernel_config=None,
    dtype=None,
    use_2d_core_grid=None,
) -> Tensor:
    """One chip's normalized slice from its local input and the gathered stats (called per chip)."""
    op = "ttnn.rms_norm_post_all_gather"
    check(
        isinstance(input_tensor, Tensor) and isinstance(stats, Tensor),
        op,
        "norm.input",
        "input_tensor and stats must be ttnn.Tensors",
    )
    device = input_tensor.require_device(op)
    width = stats.shape[-1]
    check(
        width % TILE_WIDTH == 0 and width > 0,
        op,
        "norm.stats_width",
        f"stats width {width} is not a whole number of tiles (one tile per device)",
    )
    devices = width // TILE_WIDTH
    x = input_tensor.values.float()
    s = stats.values.float()
    ex2 = sum(s[..., d * TILE_WIDTH] for d in range(devices)) / (x.shape[-1] * devices)
    y = x * torch.rsqrt(ex2.unsqueeze(-1) + epsilon)
    local = x.shape[-1]
    if weight is not None:
        y = y * weight.values.float().reshape(-1)[:local]
    if bias is not None:
        y = y + bias.values.float().reshape(-1)[:local]
    out_dtype = dtype if dtype is not None else input_tensor.dtype
    out = make_output(
        op, y.shape, out_dtype, input_tensor.layout, device, memory_config or input_tensor.memory_config()
    )
    return set_values(out, y)
