"""Model description: the dimensions of a decoder-only transformer of the Llama family."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RopeScaling(BaseModel):
    """Llama-3 frequency scaling (HF `rope_scaling` with rope_type "llama3")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rope_type: Literal["llama3"]
    factor: float = Field(gt=0)
    low_freq_factor: float = Field(gt=0)
    high_freq_factor: float = Field(gt=0)
    original_max_position_embeddings: int = Field(gt=0)


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    family: Literal["llama", "mistral"]
    hidden_size: int = Field(gt=0)
    intermediate_size: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_key_value_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    num_hidden_layers: int = Field(gt=0)
    rms_norm_eps: float = Field(gt=0)
    rope_theta: float = Field(gt=0)
    rope_scaling: RopeScaling | None = None
    vocab_size: int = Field(gt=0)
    tie_word_embeddings: bool = False
    hidden_act: Literal["silu"] = "silu"
    max_position_embeddings: int = Field(gt=0)
    source: str = Field(description="where the dimensions come from")

    @model_validator(mode="after")
    def _check(self) -> "ModelSpec":
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(
                f"num_attention_heads ({self.num_attention_heads}) must be a multiple of "
                f"num_key_value_heads ({self.num_key_value_heads})"
            )
        for field in ("hidden_size", "intermediate_size", "head_dim"):
            if getattr(self, field) % 32:
                raise ValueError(f"{field} ({getattr(self, field)}) must be a multiple of the 32-wide tile")
        if self.head_dim % 64 and self.head_dim != 32:
            raise ValueError(f"head_dim ({self.head_dim}) must be 32 or a multiple of 64 for ttnn rotary embedding")
        return self

    @property
    def qkv_size(self) -> int:
        return self.head_dim * (self.num_attention_heads + 2 * self.num_key_value_heads)

    @property
    def attn_size(self) -> int:
        return self.head_dim * self.num_attention_heads

    @property
    def params(self) -> int:
        layer = (
            self.hidden_size * self.qkv_size
            + self.attn_size * self.hidden_size
            + 3 * self.hidden_size * self.intermediate_size
            + 2 * self.hidden_size
        )
        head = 0 if self.tie_word_embeddings else self.vocab_size * self.hidden_size
        return self.num_hidden_layers * layer + self.vocab_size * self.hidden_size + head + self.hidden_size
