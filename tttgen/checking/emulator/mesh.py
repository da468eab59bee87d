"""Meshes on the emulator: ``ttnn.open_mesh_device``, a mesh tensor as one emulated tensor per chip, the mesh
mappers and composers, and per-chip dispatch of every other op.

A ``MeshDevice`` is a row-major grid of emulated ``Device`` objects (chip ``i`` at mesh coordinate
``(i // cols, i % cols)``, as ttnn's golden functions index them, ``_mesh_coordinate_to_index``). A ``MeshTensor``
holds one ``Tensor`` per chip; its ``shape`` is the per-device shape, as ttnn's. Element-wise ops, matmuls, norms and
every op that does not talk between chips run once per chip (``per_chip``): a call whose arguments hold mesh tensors is
made once for each chip with that chip's tensors and device, and returns a mesh tensor of the results. Collectives
(``ops/ccl.py``) read all chips.

Mappers and composers follow ttnn 0.81.1's ``ttnn/distributed/distributed.py`` (same names and argument order):
``ReplicateTensorToMesh(mesh_device)``, ``ShardTensorToMesh(mesh_device, dim)``,
``ShardTensor2dMesh(mesh_device, mesh_shape, dims)`` (``dims[0]`` splits over mesh rows, ``dims[1]`` over columns,
``None`` replicates), ``ConcatMeshToTensor(mesh_device, dim)``, ``ConcatMesh2dToTensor(mesh_device, mesh_shape, dims)``.
"""

from __future__ import annotations

import enum
import functools
from typing import Any, Callable, Optional, Sequence

import torch

from .device import Device
from .errors import EmulatorUnsupported, check, fail
from .tensor import Shape, Tensor


class FabricConfig(enum.Enum):
    DISABLED = "DISABLED"
    FABRIC_1D = "FABRIC_1D"
    FABRIC_1D_RING = "FABRIC_1D_RING"
    FABRIC_2D = "FABRIC_2D"


class Topology(enum.Enum):
    Linear = "Linear"
    Ring = "Ring"
    Mesh = "Mesh"
    Torus = "Torus"


class DispatchCoreType(enum.Enum):
    WORKER = "WORKER"
    ETH = "ETH"


class DispatchCoreAxis(enum.Enum):
    ROW = "ROW"
    COL = "COL"


class DispatchCoreConfig:
    """``ttnn.DispatchCoreConfig(type=None, axis=None)``: recorded; the emulated grid is the installed one."""

    def __init__(self, type: Optional[DispatchCoreType] = None, axis: Optional[DispatchCoreAxis] = None):
        self.type = type
        self.axis = axis

    def __repr__(self) -> str:
        return f"DispatchCoreConfig(type={self.type}, axis={self.axis})"


class MeshShape:
    """``ttnn.MeshShape(r, c)`` (or one sequence of dims)."""

    def __init__(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (list, tuple, MeshShape)):
            dims = tuple(dims[0])
        check(
            all(isinstance(d, int) and d > 0 for d in dims) and len(dims) >= 1,
            "ttnn.MeshShape",
            "mesh.shape",
            f"mesh dimensions must be positive integers, got {list(dims)}",
        )
        self._dims = tuple(int(d) for d in dims)

    def dims(self) -> int:
        return len(self._dims)

    def mesh_size(self) -> int:
        size = 1
        for d in self._dims:
            size *= d
        return size

    def __iter__(self):
        return iter(self._dims)

    def __len__(self) -> int:
        return len(self._dims)

    def __getitem__(self, index: int) -> int:
        return self._dims[index]

    def __eq__(self, other: object) -> bool:
        try:
            return tuple(self) == tuple(other)  # type: ignore[arg-type]
        except TypeError:
            return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MeshShape([{', '.join(map(str, self._dims))}])"


class MeshDevice:
    """What ``ttnn.open_mesh_device`` returns: one emulated device per chip, row-major."""

    def __init__(self, shape: MeshShape, devices: list[Device], dispatch_core_config=None):
        self.shape = shape
        self.devices = devices
        self.dispatch_core_config = dispatch_core_config
        self.is_open = True

    @property
    def rows(self) -> int:
        return self.shape[0]

    @property
    def cols(self) -> int:
        return self.shape[1] if len(self.shape) > 1 else 1

    @property
    def open_kwargs(self) -> dict:
        """What the mesh was opened with (every chip alike): the trace region a trace capture needs."""
        return getattr(self.devices[0], "open_kwargs", {})

    def get_num_devices(self) -> int:
        return len(self.devices)

    def get_devices(self) -> list[Device]:
        return list(self.devices)

    def get_device_ids(self) -> list[int]:
        return [d.device_id for d in self.devices]

    def compute_with_storage_grid_size(self):
        return self.devices[0].compute_with_storage_grid_size()

    def dram_grid_size(self):
        return self.devices[0].dram_grid_size()

    @property
    def core_grid(self):
        return self.devices[0].core_grid

    def arch(self):
        return self.devices[0].arch()

    def id(self) -> int:
        return 0

    def enable_program_cache(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<emulated ttnn mesh device {list(self.shape)} ({len(self.devices)} chips)>"


class MeshTensor:
    """A tensor on a mesh: one emulated ``Tensor`` per chip (row-major). ``shape`` etc. are per device, as ttnn's."""

    def __init__(self, chips: Sequence[Tensor], mesh: MeshDevice | None):
        self.chips = list(chips)
        self.mesh = mesh

    @property
    def shape(self) -> Shape:
        return self.chips[0].shape

    @property
    def logical_shape(self) -> Shape:
        return self.chips[0].logical_shape

    @property
    def padded_shape(self) -> Shape:
        return self.chips[0].padded_shape

    @property
    def dtype(self):
        return self.chips[0].dtype

    def get_dtype(self):
        return self.chips[0].dtype

    @property
    def layout(self):
        return self.chips[0].layout

    def get_layout(self):
        return self.chips[0].layout

    def memory_config(self):
        return self.chips[0].memory_config()

    def device(self):
        return self.mesh if self.chips[0].device() is not None else None

    def storage_type(self):
        return self.chips[0].storage_type()

    def is_sharded(self) -> bool:
        return self.chips[0].is_sharded()

    def is_allocated(self) -> bool:
        return all(t.is_allocated() for t in self.chips)

    def deallocate(self, force: bool = True) -> None:
        for t in self.chips:
            t.deallocate(force)

    def __repr__(self) -> str:
        return f"<emulated mesh tensor: {len(self.chips)} chips of {list(self.shape)}>"


def mesh_groups(mesh: MeshDevice, cluster_axis: Optional[int]) -> list[list[int]]:
    """Row-major chip indices grouped along a mesh axis (every chip in one group when cluster_axis is None), as
    ttnn's ``_get_collective_groups``."""
    rows, cols = mesh.rows, mesh.cols
    if cluster_axis is None:
        return [list(range(rows * cols))]
    if cluster_axis == 0:
        return [[r * cols + c for r in range(rows)] for c in range(cols)]
    return [[r * cols + c for c in range(cols)] for r in range(rows)]


# ---- mappers and composers ------------------------------------------------------------------------------------


class TensorToMesh:
    """A mesh mapper: a host torch tensor -> one torch tensor per chip (row-major)."""

    def __init__(self, mesh_device: MeshDevice, placements: tuple[Optional[int], Optional[int]], name: str):
        if not isinstance(mesh_device, MeshDevice):
            raise TypeError(f"ttnn.{name}: mesh_device must be a ttnn.MeshDevice, got {type(mesh_device).__name__}")
        self.mesh_device = mesh_device
        self.placements = placements  # tensor dim split over mesh rows, over mesh columns (None: replicate)
        self.name = name

    def unwrap(self) -> "TensorToMesh":
        return self  # ttnn's ReplicateTensorToMeshWrapper.unwrap() returns the C++ mapper

    def map(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        rows, cols = self.mesh_device.rows, self.mesh_device.cols
        by_row = _split(tensor, self.placements[0], rows, self.name)
        return [piece for row in by_row for piece in _split(row, self.placements[1], cols, self.name)]


def _split(tensor: torch.Tensor, dim: Optional[int], parts: int, name: str) -> list[torch.Tensor]:
    """ttnn's chunking, with its TT_FATAL texts for a bad dim and an uneven split (asked of ttnn 0.81.1)."""
    if dim is None or parts == 1:
        return [tensor] * parts
    op = f"ttnn.{name}"
    rank = tensor.dim()
    check(
        -rank <= dim < rank,
        op,
        "mesh.shard_dim",
        f"TT_FATAL: Invalid dimension index; got dims: {{{dim}}}, tensor dimension: {rank}",
    )
    chunks = list(torch.chunk(tensor, parts, dim=dim))
    uneven = next((c for c in chunks if c.shape != chunks[0].shape), None)
    if uneven is not None:
        fail(
            op,
            "mesh.shard_divisible",
            f"TT_FATAL: Shard shape mismatch: expected Shape({list(chunks[0].shape)}) but got Shape({list(uneven.shape)})",
        )
    check(
        len(chunks) == parts,
        op,
        "mesh.shard_divisible",
        f"dim {dim} of size {tensor.shape[dim]} gives {len(chunks)} shards for {parts} devices",
    )
    return chunks


def ReplicateTensorToMesh(mesh_device: MeshDevice) -> TensorToMesh:
    return TensorToMesh(mesh_device, (None, None), "ReplicateTensorToMesh")


def ShardTensorToMesh(mesh_device: MeshDevice, dim: int) -> TensorToMesh:
    """Split over every chip of the mesh, row-major (a 1D view of the mesh)."""
    mapper = TensorToMesh(mesh_device, (None, None), "ShardTensorToMesh")
    n = mesh_device.get_num_devices()
    mapper.map = lambda tensor: _split(tensor, dim, n, "ShardTensorToMesh")  # type: ignore[method-assign]
    return mapper


def _check_mesh_shape(op: str, mesh_device: MeshDevice, mesh_shape: Sequence[int]) -> None:
    rows, cols = mesh_shape
    if rows * cols > mesh_device.get_num_devices():  # ttnn's TT_FATAL (asked of ttnn 0.81.1)
        fail(
            op,
            "mesh.shape_mismatch",
            f"TT_FATAL: The size of the supplied mesh shape MeshShape([{rows}, {cols}]) does not "
            f"match the device shape size MeshShape([{mesh_device.rows}, {mesh_device.cols}])",
        )
    if (rows, cols) != (mesh_device.rows, mesh_device.cols):  # ttnn maps a smaller shape onto part of the mesh
        raise EmulatorUnsupported(
            f"{op}: mesh_shape {[rows, cols]} differs from the mesh device's "
            f"{[mesh_device.rows, mesh_device.cols]}; only the whole mesh is emulated"
        )


def ShardTensor2dMesh(
    mesh_device: MeshDevice, mesh_shape: Sequence[int], dims: Sequence[Optional[int]]
) -> TensorToMesh:
    _check_mesh_shape("ttnn.ShardTensor2dMesh", mesh_device, mesh_shape)
    check(len(dims) == 2, "ttnn.ShardTensor2dMesh", "mesh.dims", f"dims must name two tensor dims, got {list(dims)}")
    return TensorToMesh(mesh_device, (dims[0], dims[1]), "ShardTensor2dMesh")


class MeshToTensor:
    """A mesh composer: one torch tensor per chip -> one host torch tensor."""

    def __init__(self, mesh_device: MeshDevice, compose: Callable[[list[torch.Tensor]], torch.Tensor]):
        if not isinstance(mesh_device, MeshDevice):
            raise TypeError(f"mesh_device must be a ttnn.MeshDevice, got {type(mesh_device).__name__}")
        self.mesh_device = mesh_device
        self.compose = compose


def ConcatMeshToTensor(mesh_device: MeshDevice, dim: int) -> MeshToTensor:
    return MeshToTensor(mesh_device, lambda pieces: torch.cat(pieces, dim=dim))


def ConcatMesh2dToTensor(mesh_device: MeshDevice, mesh_shape: Sequence[int], dims: Sequence[int]) -> MeshToTensor:
    rows, cols = mesh_shape
    _check_mesh_shape("ttnn.ConcatMesh2dToTensor", mesh_device, mesh_shape)
    check(
        dims[0] != dims[1],
        "ttnn.ConcatMesh2dToTensor",
        "mesh.dims",
        f"dims must name two different tensor dims, got {list(dims)}",
    )

    def compose(pieces: list[torch.Tensor]) -> torch.Tensor:
        row_tensors = [torch.cat(pieces[r * cols : (r + 1) * cols], dim=dims[1]) for r in range(rows)]
        return torch.cat(row_tensors, dim=dims[0])

    return MeshToTensor(mesh_device, compose)


def get_device_tensors(tensor) -> list[Tensor]:
    return list(tensor.chips) if isinstance(tensor, MeshTensor) else [tensor]


# ---- per-chip dispatch ----------------------------------------------------------------------------------------


def _find_meshes(value: Any, found: list) -> None:
    if isinstance(value, MeshTensor):
        found.append(value.mesh)
    elif isinstance(value, MeshDevice):
        found.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _find_meshes(item, found)


def _on_chip(value: Any, chip: int) -> Any:
    if isinstance(value, MeshTensor):
        return value.chips[chip]
    if isinstance(value, MeshDevice):
        return value.devices[chip]
    if isinstance(value, (list, tuple)) and any(isinstance(v, (MeshTensor, MeshDevice, list, tuple)) for v in value):
        return type(value)(_on_chip(v, chip) for v in value)
    return value


def _gather_results(results: list, mesh: MeshDevice) -> Any:
    first = results[0]
    if isinstance(first, Tensor):
        return MeshTensor(results, mesh)
    if isinstance(first, (list, tuple)) and first and any(isinstance(r, Tensor) for r in first):
        return type(first)(_gather_results([r[i] for r in results], mesh) for i in range(len(first)))
    return first


def mesh_of(name: str, args: tuple, kwargs: dict) -> Optional[MeshDevice]:
    """The one mesh a call's arguments live on (None when none does); tensors of two meshes are refused."""
    found: list = []
    _find_meshes(args, found)
    _find_meshes(tuple(kwargs.values()), found)
    meshes = {id(m): m for m in found if m is not None}
    if len(meshes) > 1:
        fail(f"ttnn.{name}", "mesh.mixed", "the inputs live on different mesh devices")
    return next(iter(meshes.values()), None) if meshes else (found[0] if found else None)


def per_chip(name: str, fn: Callable) -> Callable:
    """``fn`` made mesh-aware: with any mesh tensor (or mesh device) among its arguments it runs once per chip."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if not any(
            isinstance(v, (MeshTensor, MeshDevice)) or isinstance(v, (list, tuple)) for v in (*args, *kwargs.values())
        ):
            return fn(*args, **kwargs)
        mesh = mesh_of(name, args, kwargs)
        if mesh is None:
            return fn(*args, **kwargs)
        plain = [t for t in (*args, *kwargs.values()) if isinstance(t, Tensor) and t.device() is not None]
        if plain:
            fail(
                f"ttnn.{name}",
                "mesh.mixed",
                "a single-device tensor cannot meet a mesh tensor; place it on the mesh "
                "with a mesh_mapper (ReplicateTensorToMesh)",
            )
        results = [
            fn(*_on_chip(args, i), **{k: _on_chip(v, i) for k, v in kwargs.items()}) for i in range(len(mesh.devices))
        ]
        return _gather_results(results, mesh)

    return run


def mesh_host_io(name: str, fn: Callable) -> Callable:
    """from_torch / as_tensor with a mesh device or a mesh_mapper (one shard per chip; no mapper replicates, as
    ttnn), and to_torch / from_device / to_device of mesh tensors (to_torch needs a mesh_composer)."""

    if name in ("from_torch", "as_tensor"):

        @functools.wraps(fn)
        def upload(tensor, *args, **kwargs):
            device, mapper = kwargs.get("device"), kwargs.pop("mesh_mapper", None)
            if mapper is None and not isinstance(device, MeshDevice):
                return fn(tensor, *args, **kwargs)
            if mapper is None:
                mapper = ReplicateTensorToMesh(device)
            if not isinstance(mapper, TensorToMesh):
                raise TypeError(f"ttnn.{name}: mesh_mapper must be a ttnn mesh mapper, got {type(mapper).__name__}")
            if device is not None and device is not mapper.mesh_device:
                fail(f"ttnn.{name}", "mesh.mixed", "mesh_mapper was made for another mesh device than device=")
            if tensor is None:
                return None
            chips = []
            for i, piece in enumerate(mapper.map(tensor)):
                chip_kwargs = dict(kwargs, device=None if device is None else device.devices[i])
                if kwargs.get("cache_file_name") is not None:  # one cache file per shard
                    chip_kwargs["cache_file_name"] = (
                        f"{kwargs['cache_file_name']}_device{i}of{len(mapper.mesh_device.devices)}"
                    )
                chips.append(fn(piece.contiguous(), *args, **chip_kwargs))
            return MeshTensor(chips, mapper.mesh_device)

        return upload

    if name == "to_torch":

        @functools.wraps(fn)
        def download(tensor, *args, mesh_composer=None, **kwargs):
            if not isinstance(tensor, MeshTensor):
                out = fn(tensor, *args, **kwargs)
                return mesh_composer.compose([out]) if mesh_composer is not None else out
            if mesh_composer is None:
                if len(tensor.chips) == 1:
                    return fn(tensor.chips[0], *args, **kwargs)
                fail(
                    "ttnn.to_torch",
                    "mesh.composer",
                    f"a tensor on {len(tensor.chips)} devices needs mesh_composer= "
                    "(ConcatMeshToTensor or ConcatMesh2dToTensor) to become one torch tensor",
                )
            if not isinstance(mesh_composer, MeshToTensor):
                raise TypeError(
                    f"ttnn.to_torch: mesh_composer must be a ttnn mesh composer, got {type(mesh_composer).__name__}"
                )
            return mesh_composer.compose([fn(t, *args, **kwargs) for t in tensor.chips])

        return download

    return per_chip(name, fn)
