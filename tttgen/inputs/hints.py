"""Build hints (CLI flags or a hints YAML) and per-op overrides."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from tttgen.ir.configs import MATMUL_1D, MATMUL_2D, MATMUL_DRAM_SHARDED, MATMUL_REUSE, CoreRanges, MatmulConfig, MemoryPlacement

# Synonyms users write for buffer types; normalised before validation (layout-hint pass rules).
MEMORY_SYNONYMS = {"DDR": "DRAM", "DRAM": "DRAM", "SRAM": "L1", "L1": "L1"}
SHARDING_CHOICES = ("interleaved", "width", "height", "block", "dram_sharded", "column_chunks")
FIDELITY_CHOICES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")
DTYPE_CHOICES = ("bfloat16", "bfloat8_b", "bfloat4_b")
DTYPE_SYNONYMS = {"bf16": "bfloat16", "bfp8": "bfloat8_b", "bfp4": "bfloat4_b"}


def _choice(value: str, allowed: tuple[str, ...], synonyms: dict[str, str] | None = None) -> str:
    key = value.strip()
    if synonyms:
        key = synonyms.get(key.upper() if key.upper() in synonyms else key, key)
    for item in allowed:
        if key.lower() == item.lower():
            return item
    raise ValueError(f"'{value}' is not one of {', '.join(allowed)}")


# Matmul program-config fields per family, with ttnn's names: (required, optional). Required are the fields
# tttgen emits for that family; optional ones take ttnn's default when left out.
_BLOCKED = ("compute_with_storage_grid_size", "in0_block_w", "out_subblock_h", "out_subblock_w", "per_core_M", "per_core_N")
PROGRAM_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    MATMUL_2D: (_BLOCKED + ("transpose_mcast", "fuse_batch"), ("out_block_h", "out_block_w", "fused_activation")),
    MATMUL_1D: (_BLOCKED + ("fuse_batch", "mcast_in0"), ("out_block_h", "out_block_w", "fused_activation")),
    MATMUL_DRAM_SHARDED: (("in0_block_w", "per_core_M", "per_core_N"), ("fused_activation",)),
    MATMUL_REUSE: (_BLOCKED, ("out_block_h", "out_block_w")),
}


SPLIT_CHOICES = ("replicate", "column", "row", "heads", "distributed")  # OpKind.mesh_splits names an override may pin

class ProgramConfigPin(BaseModel):
    """A full matmul program config, as ttnn spells it; which fields are allowed depends on `type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal[MATMUL_2D, MATMUL_1D, MATMUL_DRAM_SHARDED, MATMUL_REUSE]
    compute_with_storage_grid_size: tuple[int, int] | None = None
    in0_block_w: int = Field(ge=1)
    out_subblock_h: int | None = Field(default=None, ge=1)
    out_subblock_w: int | None = Field(default=None, ge=1)
    out_block_h: int | None = Field(default=None, ge=1)
    out_block_w: int | None = Field(default=None, ge=1)
    per_core_M: int = Field(ge=1)
    per_core_N: int = Field(ge=1)
    transpose_mcast: bool | None = None
    fuse_batch: bool | None = None
    mcast_in0: bool | None = None
    fused_activation: Literal["SILU", "GELU", "RELU"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _family_fields(cls, data: Any) -> Any:
        """Every field the family does not take and every field it needs, reported together."""
        if not isinstance(data, dict) or data.get("type") not in PROGRAM_FIELDS:
            return data  # the field validators name the bad type
        required, optional = PROGRAM_FIELDS[data["type"]]
        allowed = ("type",) + required + optional
        problems = [f"'{k}' is not a field of {data['type']}" for k in data if k not in allowed]
        problems += [f"'{k}' is required for {data['type']}" for k in required if k not in data]
        if problems:
            raise ValueError(f"{'; '.join(problems)} (allowed: {', '.join(allowed[1:])})")
        return data

    def config(self) -> MatmulConfig:
        grid = self.compute_with_storage_grid_size
        return MatmulConfig(
            type=self.type, in0_block_w=self.in0_block_w, per_core_M=self.per_core_M, per_core_N=self.per_core_N,
            out_subblock_h=self.out_subblock_h, out_subblock_w=self.out_subblock_w, out_block_h=self.out_block_h,
            out_block_w=self.out_block_w, grid=tuple(grid) if grid else None, transpose_mcast=self.transpose_mcast,
            fuse_batch=self.fuse_batch, mcast_in0=self.mcast_in0, fused_activation=self.fused_activation,
        )


class ComputeKernelPin(BaseModel):
    """A full compute-kernel config (the device's ComputeKernelConfig class is chosen by the device profile)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    math_fidelity: Literal["LoFi", "HiFi2", "HiFi3", "HiFi4"]
    math_approx_mode: bool
    fp32_dest_acc_en: bool
    packer_l1_acc: bool
    dst_full_sync_en: bool = False


class PlacementPin(BaseModel):
    """A tensor's memory config, mirroring tttgen.ir.configs.MemoryPlacement; grid: [[[x0, y0], [x1, y1]], ...]."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    buffer: Literal["DRAM", "L1"]
    layout: Literal["INTERLEAVED", "HEIGHT_SHARDED", "WIDTH_SHARDED", "BLOCK_SHARDED"]
    shard_shape: tuple[int, int] | None = None
    grid: tuple[tuple[tuple[int, int], tuple[int, int]], ...] | None = None
    orientation: Literal["ROW_MAJOR", "COL_MAJOR"] | None = None

    @model_validator(mode="after")
    def _shard_spec(self) -> "PlacementPin":
        spec = {"shard_shape": self.shard_shape, "grid": self.grid, "orientation": self.orientation}
        if self.layout == "INTERLEAVED":
            given = [k for k, v in spec.items() if v is not None]
            if given:
                raise ValueError(f"{', '.join(given)} only apply to a sharded layout")
        else:
            missing = [k for k, v in spec.items() if v is None]
            if missing:
                raise ValueError(f"{self.layout} needs {', '.join(missing)}")
        return self

    def placement(self) -> MemoryPlacement:
        grid = CoreRanges(tuple((tuple(a), tuple(b)) for a, b in self.grid)) if self.grid else None
        return MemoryPlacement(self.buffer, self.layout, self.shard_shape, grid, self.orientation)


class OpOverride(BaseModel):
    """What a user may force for one op (by op name, e.g. `wqkv` or `decode.wqkv`): a few fields
    (memory, sharding, fidelity, dtype) or whole configs that pin the op (program_config,
    compute_kernel_config, memory_config per operand)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    memory: str | None = None
    sharding: str | None = None
    fidelity: str | None = None
    dtype: str | None = None
    program_config: ProgramConfigPin | None = None
    compute_kernel_config: ComputeKernelPin | None = None
    memory_config: dict[Literal["in0", "in1", "out"], PlacementPin] | None = None
    # Placement of the op's weight on a mesh (the parallelism pass): one split for every mesh axis, or
    # AXIS0/AXIS1 on a 2D mesh.
    split: str | None = None
    # Linears that read one tensor (the projections pass): run them as one fused linear and slices, or one each.
    projection: Literal["fused", "separate"] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> "OpOverride":
        if self.fidelity and self.compute_kernel_config:
            raise ValueError("give fidelity or compute_kernel_config, not both (compute_kernel_config has math_fidelity)")
        if (self.memory or self.sharding) and self.memory_config and "in1" in self.memory_config:
            raise ValueError("give memory/sharding or memory_config.in1 for the weight, not both")
        return self

    def pinned_fields(self) -> tuple[str, ...]:
        """The whole-object pins this override carries (dtype counts: it fixes the weight's dtype)."""
        return tuple(k for k in ("program_config", "compute_kernel_config", "memory_config", "dtype") if getattr(self, k))

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str | None) -> str | None:
        if v is None:
            return v
        key = v.strip().upper()
        if key not in MEMORY_SYNONYMS:
            raise ValueError(f"'{v}' is not one of DRAM, L1 (synonyms: DDR, SRAM)")
        return MEMORY_SYNONYMS[key]

    @field_validator("sharding")
    @classmethod
    def _sharding(cls, v: str | None) -> str | None:
        return None if v is None else _choice(v, SHARDING_CHOICES)

    @field_validator("split")
    @classmethod
    def _split(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = [p.strip().lower() for p in v.split("/")]
        bad = [p for p in parts if p not in SPLIT_CHOICES]
        if bad or len(parts) > 2:
            raise ValueError(f"'{v}' is not one of {', '.join(SPLIT_CHOICES)} (or AXIS0/AXIS1 of them on a 2D mesh)")
        return "/".join(parts)

    @field_validator("fidelity")
    @classmethod
    def _fidelity(cls, v: str | None) -> str | None:
        return None if v is None else _choice(v, FIDELITY_CHOICES)

    @field_validator("dtype")
    @classmethod
    def _dtype(cls, v: str | None) -> str | None:
        if v is None:
            return v
        return _choice(DTYPE_SYNONYMS.get(v.strip().lower(), v), DTYPE_CHOICES)


class Paged(BaseModel):
    """A paged KV cache (vLLM-style serving): each layer's K and V cache is a pool of `blocks` blocks of
    `block_size` positions, and a page table maps each user's positions to blocks (tt_transformers'
    PagedAttentionConfig). Turns on the descriptions' `paged` feature."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    block_size: int = Field(default=32, ge=32, multiple_of=32, description="positions per block")
    blocks: int | None = Field(
        default=None, ge=1, description="blocks per layer's K (and V) cache; default: every user slot at max_seq_len"
    )


# The paged cache's geometry a `paged` hint sets: the builder binds it to the params of these names (the `paged`
# feature of modules/llama.yaml declares them); the causal-LM entry points print it (tttgen/render/module.py).
PAGED_PARAMS = ("page_block_size", "pages_per_user", "page_blocks")


def paged_params(hints: "Hints", user_slots: int) -> dict[str, int]:
    """PAGED_PARAMS' values: the block size, a user's pages at max_seq_len, and the blocks of each layer's cache
    (by default every user slot's pages)."""
    assert hints.paged is not None
    pages = hints.max_seq_len // hints.paged.block_size
    values = (hints.paged.block_size, pages, hints.paged.blocks or user_slots * pages)
    return dict(zip(PAGED_PARAMS, values))


# Params a description may declare whose values the hints own (their one home, graph.hints): the builder binds them
# from the hints and records only which of them the description declares (graph fact `hint_params`).
HINT_PARAMS = ("max_seq_len", *PAGED_PARAMS)


def hint_param_values(hints: "Hints", user_slots: int) -> dict[str, int]:
    """HINT_PARAMS' values as these hints set them (the paged geometry only with a `paged` hint)."""
    values = {"max_seq_len": hints.max_seq_len}
    if hints.paged is not None:
        values |= paged_params(hints, user_slots)
    return values


class Hints(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch: int = Field(default=1, ge=1, le=32)
    max_seq_len: int = Field(default=1024, ge=128)
    # each length is one planned mode: a bounded list keeps a build from running for hours on a pasted range
    prefill_lens: tuple[int, ...] = Field(default=(128, 1024), max_length=16)
    optimize: Literal["latency", "throughput"] = "latency"
    precision: Literal["accuracy", "performance"] = "accuracy"
    dram_budget: int | None = Field(default=None, gt=0, description="bytes of DRAM the package may use")
    jit: bool = True
    fit_check: bool = Field(
        default=True,
        description="false: record DRAM/heads infeasibility in the manifest instead of stopping (planning only)",
    )
    paged: Paged | None = None
    overrides: dict[str, OpOverride] = Field(default_factory=dict)
    _source: str = PrivateAttr(default="hints")  # where the overrides came from, for "pinned by" marks and errors

    @property
    def source(self) -> str:
        return self._source

    @field_validator("prefill_lens")
    @classmethod
    def _prefill(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v:
            raise ValueError("needs at least one prefill length")
        for n in v:
            if n < 128 or n % 128:
                raise ValueError(f"{n} is not a positive multiple of 128 (ttnn prefill attention needs seq % 128 == 0)")
        return tuple(sorted(set(v)))

    @model_validator(mode="after")
    def _check(self) -> "Hints":
        too_long = [n for n in self.prefill_lens if n > self.max_seq_len]
        if too_long:
            raise ValueError(f"prefill_lens {too_long} exceed max_seq_len {self.max_seq_len}")
        if self.max_seq_len % 128:
            raise ValueError(f"max_seq_len {self.max_seq_len} is not a multiple of 128")
        if self.paged is not None:
            block = self.paged.block_size
            uneven = [n for n in (self.max_seq_len, *self.prefill_lens) if n % block]
            if uneven:
                raise ValueError(f"paged.block_size {block} does not divide max_seq_len and prefill_lens {uneven}")
            if (self.max_seq_len // block) % 8:
                # ttnn's chunked SDPA with a start tensor reads page-table rows of whole 32-byte sticks (int32 ids)
                raise ValueError(
                    f"with paged, max_seq_len / block_size ({self.max_seq_len} / {block}) must be a multiple of 8: "
                    "ttnn reads each user's page-table row as a multiple of 32 bytes"
                )
            if self.max_seq_len % max(self.prefill_lens):
                # chunked prefill runs chunks of the largest prefill length: the last must end inside the cache
                raise ValueError(
                    f"with paged, max_seq_len {self.max_seq_len} must be a multiple of the largest prefill length "
                    f"{max(self.prefill_lens)} (chunked prefill's chunk)"
                )
        return self

    @property
    def features(self) -> tuple[str, ...]:
        """The description features these hints turn on (tttgen.inputs.module.Feature)."""
        return ("paged",) if self.paged is not None else ()
