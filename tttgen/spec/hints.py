"""Build hints (CLI flags or a hints YAML) and per-op overrides."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Synonyms users write for buffer types; normalised before validation (layout-hint pass rules).
MEMORY_SYNONYMS = {"DDR": "DRAM", "DRAM": "DRAM", "SRAM": "L1", "L1": "L1"}
SHARDING_CHOICES = ("interleaved", "width", "height", "block", "dram_sharded")
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


class OpOverride(BaseModel):
    """What a user may force for one op (by op name, e.g. `wqkv` or `decode.wqkv`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    memory: str | None = None
    sharding: str | None = None
    fidelity: str | None = None
    dtype: str | None = None

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


class Hints(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch: int = Field(default=1, ge=1, le=32)
    max_seq_len: int = Field(default=1024, ge=128)
    prefill_lens: tuple[int, ...] = (128, 1024)
    optimize: Literal["latency", "throughput"] = "latency"
    precision: Literal["accuracy", "performance"] = "accuracy"
    dram_budget: int | None = Field(default=None, gt=0, description="bytes of DRAM the package may use")
    jit: bool = True
    fit_check: bool = Field(
        default=True,
        description="false: record DRAM/heads infeasibility in the manifest instead of stopping (planning only)",
    )
    overrides: dict[str, OpOverride] = Field(default_factory=dict)

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
        return self
