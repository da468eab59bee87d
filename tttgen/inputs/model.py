"""Model description: the dimensions of a decoder-only transformer of the Llama family."""

from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tttgen.tiling import TILE


class RopeScaling(BaseModel):
    """Llama-3 frequency scaling (HF `rope_scaling` with rope_type "llama3")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rope_type: Literal["llama3"]
    factor: float = Field(gt=0)
    low_freq_factor: float = Field(gt=0)
    high_freq_factor: float = Field(gt=0)
    original_max_position_embeddings: int = Field(gt=0)


# Families whose description zero-pads every head to head_width (modules/phi3*.yaml): any even head_dim is theirs.
PADDED_HEAD_FAMILIES = ("phi3",)


def head_width(head_dim: int) -> int:
    """The width a head is computed at: ttnn's rotary embedding takes heads of 32 or a multiple of 64, so any
    other head_dim is zero-padded up to the next multiple of 64 (Phi-3-mini's 96 -> 128)."""
    return head_dim if head_dim == 32 or head_dim % 64 == 0 else -(-head_dim // 64) * 64


def dimension_problems(dims: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, what is wrong) for every dimension rule tttgen's kernels need. A dimension that is None
    (missing, or already reported invalid) skips the rules that read it, so all problems show at once."""
    problems = []
    for name in ("hidden_size", "intermediate_size"):
        value = dims.get(name)
        if value is not None and value % TILE:
            problems.append((name, f"({value}) must be a multiple of the {TILE}-wide tile"))
    head_dim = dims.get("head_dim")
    if dims.get("family") in PADDED_HEAD_FAMILIES:
        if head_dim is not None and head_dim % 2:
            problems.append(("head_dim", f"({head_dim}) must be even: rotary embedding rotates pairs"))
    elif head_dim is not None and head_dim != 32 and head_dim % 64:
        problems.append(("head_dim", f"({head_dim}) must be 32 or a multiple of 64 for ttnn rotary embedding"))
    heads, kv_heads = dims.get("num_attention_heads"), dims.get("num_key_value_heads")
    if heads is not None and kv_heads is not None and heads % kv_heads:
        problems.append(("num_attention_heads", f"({heads}) must be a multiple of num_key_value_heads ({kv_heads})"))
    return problems


class AttentionSizes:
    """Widths derived from the head counts, for anything with head_dim, num_attention_heads, num_key_value_heads."""

    @property
    def qkv_size(self) -> int:
        return self.head_dim * (self.num_attention_heads + 2 * self.num_key_value_heads)

    @property
    def attn_size(self) -> int:
        return self.head_dim * self.num_attention_heads


# family -> the description of its configs whose attention scores are soft-capped (attn_logit_softcapping)
SCORE_CAPPED = {"gemma2": "gemma2_capped"}


class ModelSpec(BaseModel, AttentionSizes):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    # The built-in model description the spec binds to (modules/<family>.yaml): decided by the architecture, and
    # for Llama by attention_bias (llama_bias).
    family: Literal["llama", "llama_bias", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"]
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
    hidden_act: Literal["silu", "gelu_pytorch_tanh"] = "silu"
    max_position_embeddings: int = Field(gt=0)
    sliding_window: int | None = Field(
        default=None,
        gt=0,
        description="the sliding-window attention span some layers use; builds need max_seq_len <= it",
    )
    # Gemma 2 / Gemma 3 (None elsewhere): layer i attends within sliding_window unless (i + 1) is a multiple of
    # sliding_window_pattern, then globally; scores scaled by query_pre_attn_scalar ** -0.5; the sliding layers'
    # rotary base (Gemma 3); logits soft-capped as cap * tanh(logits / cap) (Gemma 2).
    sliding_window_pattern: int | None = Field(default=None, gt=0)
    query_pre_attn_scalar: int | None = Field(default=None, gt=0)
    rope_local_base_freq: float | None = Field(default=None, gt=0)
    final_logit_softcapping: float | None = Field(default=None, gt=0)
    # Attention scores soft-capped as cap * tanh(scores / cap) before the mask (Gemma 2's attn_logit_softcapping):
    # the family's score-capped description (SCORE_CAPPED), which writes the attention out as ttnn ops.
    attn_logit_softcapping: float | None = Field(default=None, gt=0)
    source: str = Field(description="where the dimensions come from")

    @property
    def description(self) -> str:
        """The built-in model description the spec binds to (modules/<description>.yaml): the family's, or its
        score-capped one when the attention scores are soft-capped."""
        return SCORE_CAPPED[self.family] if self.attn_logit_softcapping is not None else self.family

    @model_validator(mode="after")
    def _check(self) -> "ModelSpec":
        if self.attn_logit_softcapping is not None and self.family not in SCORE_CAPPED:
            raise ValueError(
                f"attn_logit_softcapping is set, but {self.family} has no score-capped description "
                f"(allowed for: {', '.join(SCORE_CAPPED)})"
            )
        problems = dimension_problems(self.model_dump())
        if problems:
            raise ValueError("; ".join(f"{name} {what}" for name, what in problems))
        return self

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
