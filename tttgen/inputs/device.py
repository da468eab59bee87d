"""Device profile: everything the passes know about a target, read from device_profiles/*.yaml."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Fidelity = Literal["LoFi", "HiFi2", "HiFi3", "HiFi4"]
FIDELITIES: tuple[str, ...] = ("LoFi", "HiFi2", "HiFi3", "HiFi4")
DType = Literal["bfloat16", "float32", "bfloat8_b", "bfloat4_b"]
DTYPES: tuple[str, ...] = ("bfloat16", "float32", "bfloat8_b", "bfloat4_b")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Bounds on every number (a profile is data: a zero clock or cycle count divides by zero in the cost model, a grid of
# 10**39 cores never finishes enumerating core grids). The upper bounds are far above any Tenstorrent part.
COUNT = Field(gt=0, le=2**20)  # a positive count or size of modest range (tiles, rows, bytes of alignment)
BIG = Field(gt=0, le=2**60)  # a positive byte count or rate
TIME = Field(ge=0, le=1e12)  # nanoseconds


class Grid(Strict):
    x: int = Field(gt=0, le=64)
    y: int = Field(gt=0, le=64)

    @property
    def cores(self) -> int:
        return self.x * self.y


class Dram(Strict):
    banks: int = Field(gt=0, le=64)
    bytes_total: int = BIG
    nominal_gbps: float = BIG
    interleaved_gbps: float = Field(gt=0, le=2**60, description="achieved by interleaved reads")
    sharded_gbps: float = Field(gt=0, le=2**60, description="achieved by one bank-adjacent reader per bank")


class Noc(Strict):
    word_bytes: int = COUNT
    max_burst_bytes: int = COUNT
    dram_alignment_bytes: int = COUNT
    l1_alignment_bytes: int = COUNT


class OpGaps(Strict):
    """Host/dispatch gap between consecutive ops, nanoseconds."""

    traced_ns: float = TIME
    untraced_ns: float = TIME


class HostLink(Strict):
    """The PCIe link between the host and the device, and the host's cost of one ttnn host call."""

    h2d_gbps: float = Field(gt=0, le=2**60, description="host -> device DRAM, large transfers")
    d2h_gbps: float = Field(gt=0, le=2**60, description="device DRAM -> host, large transfers")
    h2d_latency_ns: float = Field(ge=0, le=1e12, description="a minimal (4-byte) host -> device transfer")
    d2h_latency_ns: float = Field(ge=0, le=1e12, description="a minimal (4-byte) device -> host transfer")
    host_call_ns: float = Field(ge=0, le=1e12, description="host time of one enqueued ttnn call (program-cache hit)")


class MeshAxis(Strict):
    """How collectives run along one mesh axis (0: rows, 1: columns)."""

    topology: Literal["ring", "linear"] = Field(description="ttnn.Topology the package's CCLs use on this axis")
    links: int = Field(gt=0, description="ethernet links per neighbour pair a CCL uses (num_links)")


class Mesh(Strict):
    """What a multi-chip package opens and how fast its chips talk: read by the real-ttnn runner, the emulator's
    mesh and the collective cost model (tttgen/cost/ccl.py)."""

    fabric: Literal["FABRIC_1D", "FABRIC_1D_RING", "FABRIC_2D"] = Field(
        description="ttnn.FabricConfig set before open_mesh_device"
    )
    axes: tuple[MeshAxis, MeshAxis] = Field(description="per mesh axis: rows (0), then columns (1)")
    dispatch_core_type: Literal["WORKER", "ETH"] = Field(description="ttnn.DispatchCoreType the mesh opens with")
    dispatch_core_axis: Literal["ROW", "COL"] = Field(description="ttnn.DispatchCoreAxis the mesh opens with")
    eth_link_gbps: float = Field(gt=0, description="GB/s per ethernet link per direction")
    hop_latency_ns: float = Field(ge=0, description="one-way latency of one chip-to-chip hop")


class DeviceProfile(Strict):
    name: str
    description: str
    arch: Literal["grayskull", "wormhole_b0", "blackhole"]
    aliases: tuple[str, ...] = ()
    chips: int = Field(gt=0, le=1024)
    mesh_shape: tuple[Annotated[int, Field(gt=0, le=1024)], Annotated[int, Field(gt=0, le=1024)]]
    grid: Grid = Field(description="compute_with_storage_grid_size per chip")
    dispatch: Literal["tensix", "ethernet"]
    l1_bytes_per_core: int = BIG
    usable_l1_bytes: int = Field(gt=0, description="L1 from the circular-buffer base to the top of L1, per core")
    l1_small_size: int = Field(ge=0, description="L1_SMALL region passed to open_device, taken from the L1 budget")
    dram: Dram
    clock_ghz: float = Field(gt=0, le=100)
    flops_per_cycle_per_core: int = Field(gt=0, le=2**20, description="matrix engine FLOPs per cycle at LoFi")
    cycles_per_tile: dict[Fidelity, Annotated[int, COUNT]] = Field(description="cycles per 32x32x32 tile product")
    tile_bytes: dict[DType, Annotated[int, COUNT]]
    dst_tiles_half_sync: int = Field(gt=0, le=64)
    dst_tiles_full_sync: int = Field(gt=0, le=64)
    min_matmul_rows: int = Field(gt=0, le=2**20, description="the matrix engine processes at least this many rows")
    noc: Noc
    op_gap: OpGaps
    host_link: HostLink
    compute_kernel_config_class: str
    prefill_len_cutoff: int = Field(gt=0, le=2**31, description="rows per prefill MLP matmul before chunking")
    max_qkv_prefill_rows: int = Field(gt=0, le=2**31)
    wo_prefill_rows: int = Field(gt=0, le=2**31, description="rows per prefill WO matmul before chunking")
    max_subblock_tiles_didt: int = Field(
        gt=0, le=64, description="cap on out_subblock_h*out_subblock_w below the DST limit (tt_transformers' hang workaround)"
    )
    prefill_per_core_n_matches_dram_shard: bool = Field(
        description="2D prefill matmuls reading DRAM-sharded weights need per_core_N equal to the shard width"
    )
    mesh: Mesh | None = Field(default=None, description="multi-chip profiles only: fabric, links, dispatch")
    sources: dict[str, str] = Field(description="field name -> where the number comes from")

    @model_validator(mode="after")
    def _check(self) -> "DeviceProfile":
        if self.usable_l1_bytes > self.l1_bytes_per_core:
            raise ValueError("usable_l1_bytes exceeds l1_bytes_per_core")
        if self.l1_small_size >= self.usable_l1_bytes:
            raise ValueError("l1_small_size leaves no usable L1")
        if self.mesh_shape[0] * self.mesh_shape[1] != self.chips:
            raise ValueError(f"mesh_shape {list(self.mesh_shape)} does not hold {self.chips} chips")
        self._check_mesh()
        missing = sorted(set(FIDELITIES) - set(self.cycles_per_tile))
        if missing:
            raise ValueError(f"cycles_per_tile lacks {missing}")
        missing = sorted(set(DTYPES) - set(self.tile_bytes))
        if missing:
            raise ValueError(f"tile_bytes lacks {missing}")
        return self

    def _check_mesh(self) -> None:
        mesh = self.mesh
        if mesh is None:
            if self.chips > 1:
                raise ValueError(f"a {self.chips}-chip profile needs a mesh: section (fabric, axes, dispatch, links)")
            return
        if self.chips == 1:
            raise ValueError("mesh: is for multi-chip profiles; this profile has 1 chip")
        if (mesh.dispatch_core_type == "ETH") != (self.dispatch == "ethernet"):
            raise ValueError(
                f"mesh.dispatch_core_type {mesh.dispatch_core_type} disagrees with dispatch '{self.dispatch}' "
                "(ETH goes with ethernet, WORKER with tensix)"
            )
        for axis, (size, spec) in enumerate(zip(self.mesh_shape, mesh.axes)):
            if spec.topology == "ring" and size < 3:
                raise ValueError(f"mesh.axes[{axis}]: a ring needs at least 3 chips on the axis, it has {size}")
            if spec.topology == "ring" and mesh.fabric == "FABRIC_1D":
                raise ValueError(f"mesh.axes[{axis}]: ring topology needs fabric FABRIC_1D_RING or FABRIC_2D")

    @property
    def l1_budget(self) -> int:
        """Bytes per core for circular buffers and L1 tensors: the room above the circular-buffer base
        less the L1_SMALL region the package reserves at open_device. Every L1 check uses this."""
        return self.usable_l1_bytes - self.l1_small_size

    def subblock_limit(self, fp32_dest_acc_en: bool, dst_full_sync_en: bool) -> int:
        """Largest out_subblock_h*out_subblock_w tttgen emits: the DST limit, capped for di/dt."""
        return min(self.dst_limit(fp32_dest_acc_en, dst_full_sync_en), self.max_subblock_tiles_didt)

    def dst_limit(self, fp32_dest_acc_en: bool, dst_full_sync_en: bool) -> int:
        """Tiles one output subblock may hold: ttnn 0.81.1's matmul validation checks the half-sync DST count
        (8 tiles, 4 with fp32 accumulation) whether or not dst_full_sync_en is set (asked of ttnn on a mock
        device; tests/realttnn/test_rules_agree.py)."""
        return self.dst_tiles_half_sync // 2 if fp32_dest_acc_en else self.dst_tiles_half_sync

    def peak_flops(self, fidelity: str, cores: int | None = None) -> float:
        """FLOP/s of `cores` Tensix cores at a math fidelity."""
        used = self.grid.cores if cores is None else cores
        per_cycle = self.flops_per_cycle_per_core * self.cycles_per_tile["LoFi"] / self.cycles_per_tile[fidelity]
        return per_cycle * used * self.clock_ghz * 1e9
