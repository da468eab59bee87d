"""Import a Hugging Face causal-LM config.json (Llama, Mistral, Qwen2, Qwen3, Phi-3, Gemma 2, Gemma 3) as a ModelSpec.

The architecture names the family, and the family names the built-in model description the spec binds to
(modules/<family>.yaml): a Llama config with `attention_bias: true` binds to `llama_bias`. Every key of the file
is one of (decided field by field from transformers 5.23's LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config,
Phi3Config, Gemma2Config, Gemma3TextConfig, their PreTrainedConfig base and the GenerationConfig defaults old
configs carry):

- a math field (`HfFields`): type- and range-checked, then mapped; when absent, transformers' default;
- a fixed field (also `HfFields`): changes the math unless it holds the one value tttgen computes
  (mlp_bias false, rope_interleaved false, quantization_config null, ...);
- a family field (`FAMILY_FIELDS`): a field only some families' config classes have (Qwen's max_window_layers);
- bookkeeping (`BOOKKEEPING`): token ids, the checkpoint's storage dtype, training-only and generation
  settings, export metadata. Accepted, and listed in `InputFile.ignored_fields` (`tttgen explain` prints them);
- anything else: refused by name.

All problems are collected and reported in one error before any arithmetic uses the values.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tttgen.errors import InputError
from tttgen.inputs.bounds import parse_json, read_input
from tttgen.inputs.files import InputFile, _display, describe_error, validate_as
from tttgen.inputs.model import SCORE_CAPPED, ModelSpec, RopeScaling, dimension_problems

ARCHITECTURES = {
    "LlamaForCausalLM": "llama",
    "MistralForCausalLM": "mistral",
    "Qwen2ForCausalLM": "qwen2",
    "Qwen3ForCausalLM": "qwen3",
    "Phi3ForCausalLM": "phi3",
    "Gemma2ForCausalLM": "gemma2",
    "Gemma3ForCausalLM": "gemma3",
}
# model_type of each family where it is not the family's name (Gemma3ForCausalLM is the text-only "gemma3_text";
# "gemma3" is the multimodal Gemma3ForConditionalGeneration, whose config nests the text model's).
MODEL_TYPES = {"gemma3": "gemma3_text"}

# transformers 5.23 defaults that differ between the config classes (configuration_llama.py, _mistral.py,
# _qwen2.py, _qwen3.py, _phi3.py). num_key_value_heads None means "= num_attention_heads".
FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "llama": {"max_position_embeddings": 2048, "num_key_value_heads": None, "sliding_window": None},
    "mistral": {"max_position_embeddings": 4096 * 32, "num_key_value_heads": 8, "sliding_window": 4096},
    "qwen2": {
        "max_position_embeddings": 32768,
        "num_key_value_heads": 32,
        "sliding_window": 4096,
        "max_window_layers": 28,
    },
    "qwen3": {
        "max_position_embeddings": 32768,
        "num_key_value_heads": 32,
        "sliding_window": 4096,
        "max_window_layers": 28,
        "head_dim": 128,
    },
    "phi3": {
        "max_position_embeddings": 4096,
        "num_key_value_heads": None,
        "sliding_window": None,
        "rms_norm_eps": 1e-5,
    },
    # configuration_gemma2.py / configuration_gemma3.py (Gemma3TextConfig); rope_theta: Gemma3TextConfig's
    # default_theta {"global": 1e6, "local": 1e4}, Gemma 2 PreTrainedConfig.default_theta
    "gemma2": {
        "max_position_embeddings": 8192,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "sliding_window": 4096,
        "tie_word_embeddings": True,
        "query_pre_attn_scalar": 256,
        "final_logit_softcapping": 30.0,
        "attn_logit_softcapping": 50.0,
    },
    "gemma3": {
        "max_position_embeddings": 131072,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "sliding_window": 4096,
        "tie_word_embeddings": True,
        "query_pre_attn_scalar": 256,
        "rope_theta": 1000000.0,
        "rope_local_base_freq": 10000.0,
    },
}
GEMMA = ("gemma2", "gemma3")
# Fields only some config classes have: anywhere else they are refused by name.
FAMILY_FIELDS: dict[str, tuple[str, ...]] = {
    "max_window_layers": ("qwen2", "qwen3"),
    "layer_types": ("qwen2", "qwen3", *GEMMA),
    "use_mrope": ("qwen2",),
    "query_pre_attn_scalar": GEMMA,
    "final_logit_softcapping": GEMMA,
    "attn_logit_softcapping": GEMMA,
    "hidden_activation": GEMMA,
    "use_bidirectional_attention": GEMMA,
    "sliding_window_pattern": ("gemma3",),
    "rope_local_base_freq": ("gemma3",),
}
# Gemma's layer pattern (transformers' default layer_types): layer i attends globally when (i + 1) % period == 0
# and within sliding_window otherwise; Gemma 2 alternates (period 2), Gemma 3 reads sliding_window_pattern.
GEMMA_PERIOD = {"gemma2": 2, "gemma3": 6}
# Families whose attention reads use_sliding_window (then layers from max_window_layers on, or those layer_types
# names "sliding_attention", attend within sliding_window); the others attend within sliding_window when it is set.
SLIDING_SWITCH = ("qwen2", "qwen3")
# The family whose attention_bias: true has a description of its own (q/k/v/o biases): family -> that description.
BIASED = {"llama": "llama_bias"}
# Families whose description splits a fused qkv_proj into three equal thirds (modules/phi3_attention.yaml).
EQUAL_THIRDS_QKV = ("phi3",)
DEFAULT_ROPE_THETA = 10000.0  # PreTrainedConfig.default_theta, used when a config names none (Llama-2)

POSITIVE_TILE = "a positive multiple of 32"

# HfFields copied into the ModelSpec under the same name (rope fields are normalised first).
SAME_NAME = (
    "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "head_dim", "num_hidden_layers",
    "rms_norm_eps", "vocab_size", "tie_word_embeddings", "hidden_act", "max_position_embeddings", "sliding_window",
)


class HfFields(BaseModel):
    """The config fields that decide what the model computes. Strict: "4096" is not 4096, true is not 1."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    model_type: Literal["llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3_text"] | None = Field(
        None, description='"llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2" or "gemma3_text", matching architectures'
    )
    hidden_size: int = Field(gt=0, description=POSITIVE_TILE)
    intermediate_size: int = Field(gt=0, description=POSITIVE_TILE)
    num_attention_heads: int = Field(gt=0, description="a positive integer dividing hidden_size")
    num_key_value_heads: int | None = Field(None, gt=0, description="a positive divisor of num_attention_heads")
    head_dim: int | None = Field(
        None, gt=0, description="32 or a multiple of 64, or null for hidden_size / num_attention_heads"
    )
    num_hidden_layers: int = Field(gt=0, description="a positive integer")
    vocab_size: int = Field(gt=0, description="a positive integer")
    rms_norm_eps: float = Field(1e-6, gt=0, description="a positive number")
    rope_theta: float | None = Field(None, gt=0, description="a positive number")
    rope_scaling: dict[str, Any] | None = Field(None, description="null or llama3 parameters")
    rope_parameters: dict[str, Any] | None = Field(
        None, description='null or {"rope_type": "default" or "llama3", ...}'
    )
    max_position_embeddings: int | None = Field(None, gt=0, description="a positive integer")
    tie_word_embeddings: bool = Field(False, description="true or false")
    hidden_act: Literal["silu", "gelu_pytorch_tanh"] = Field(
        "silu", description='"silu" ("gelu_pytorch_tanh" for Gemma)'
    )
    hidden_activation: Literal["gelu_pytorch_tanh"] | None = Field(
        None, description='"gelu_pytorch_tanh" (Gemma: tanh-approximated GELU; wins over hidden_act)'
    )
    sliding_window: int | None = Field(None, gt=0, description="null, or a window of at least max_seq_len tokens")
    attention_bias: bool = Field(False, description="false, or true for LlamaForCausalLM (the llama_bias description)")
    use_sliding_window: bool = Field(
        False, description="false, or true for Qwen2/Qwen3 with a window of at least max_seq_len"
    )
    max_window_layers: int | None = Field(None, ge=0, description="a layer count (Qwen2/Qwen3)")
    layer_types: list[Literal["full_attention", "sliding_attention"]] | None = Field(
        None, description='null or one "full_attention"/"sliding_attention" per layer (Qwen2/Qwen3/Gemma)'
    )
    # Gemma 2 / Gemma 3
    query_pre_attn_scalar: int | None = Field(
        None, gt=0, description="a positive integer: attention scores are scaled by its inverse square root (Gemma)"
    )
    final_logit_softcapping: float | int | None = Field(
        None, gt=0, description="a positive number for Gemma 2 (logits = cap * tanh(logits / cap)), null for Gemma 3"
    )
    attn_logit_softcapping: float | int | None = Field(
        None,
        gt=0,
        description="a positive number for Gemma 2 (scores = cap * tanh(scores / cap), attention written out as "
        "ttnn ops), null for Gemma 3",
    )
    sliding_window_pattern: int | None = Field(
        None, gt=0, description="a positive integer: every so many layers one attends globally (Gemma 3)"
    )
    rope_local_base_freq: float | int | None = Field(
        None, gt=0, description="a positive number: the rotary base of the sliding layers (Gemma 3)"
    )
    use_bidirectional_attention: Literal[False] | None = Field(
        None, description="false or null: tttgen's LMs attend causally (Gemma)"
    )
    partial_rotary_factor: float | int | None = Field(None, description="1.0: tttgen rotates the whole head")
    # Fixed: tttgen emits no MLP biases, no tensor-parallel split, no interleaved rotary, no quantized weights.
    mlp_bias: Literal[False] = Field(False, description="false")
    pretraining_tp: Literal[1] | None = Field(1, description="1")
    rope_interleaved: Literal[False] = Field(
        False, description="false (nanotron export flag; true would pair adjacent dims)"
    )
    use_mrope: Literal[False] = Field(
        False, description="false (multimodal rotary is Qwen2-VL's, not Qwen2ForCausalLM's)"
    )
    quantization_config: None = Field(None, description="null: tttgen loads float weights and chooses its own dtypes")


# The fixed fields above: once validated they hold the one value tttgen computes, so they too change nothing.
FIXED = ("mlp_bias", "pretraining_tp", "rope_interleaved", "use_mrope", "quantization_config")
# Qwen's sliding-window bookkeeping: no effect on the math while no layer attends within a window.
SLIDING_BOOKKEEPING = ("max_window_layers", "layer_types")

# Accepted and ignored: they change nothing tttgen computes at inference.
# fmt: off
BOOKKEEPING = frozenset(
    {
        # PreTrainedConfig base: provenance, output plumbing, fine-tuning heads, attention kernel choice.
        # (`_model_name_or_path`: the model name transformers' GGUF import reads from the file's general.name.)
        "_name_or_path", "name_or_path", "_model_name_or_path", "_commit_hash", "transformers_version", "auto_map",
        "dtype", "torch_dtype", "output_attentions", "output_hidden_states", "return_dict", "torchscript",
        "use_return_dict", "chunk_size_feed_forward", "is_encoder_decoder", "is_decoder", "add_cross_attention",
        "cross_attention_hidden_size", "tie_encoder_decoder", "pruned_heads", "id2label", "label2id",
        "num_labels", "problem_type", "finetuning_task", "tokenizer_class", "prefix", "task_specific_params",
        "attn_implementation", "_attn_implementation", "_attn_implementation_autoset", "experts_implementation",
        # Token ids: the tokenizer's business, not the forward's.
        "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "unk_token_id", "decoder_start_token_id",
        # Training-only: weight init, dropout (off at inference: Phi-3's resid_pdrop and embd_pdrop too), HF's own
        # KV-cache switch.
        "initializer_range", "attention_dropout", "resid_pdrop", "embd_pdrop", "use_cache",
        # Phi-3: the context longrope scaling starts from; tttgen refuses longrope, and no other rope reads it.
        "original_max_position_embeddings",
        # Generation defaults old configs carry (GenerationConfig._get_default_generation_params).
        "assistant_confidence_threshold", "assistant_lookbehind", "bad_words_ids", "begin_suppress_tokens",
        "diversity_penalty", "do_sample", "early_stopping", "encoder_no_repeat_ngram_size",
        "encoder_repetition_penalty", "epsilon_cutoff", "eta_cutoff", "exponential_decay_length_penalty",
        "forced_bos_token_id", "forced_eos_token_id", "length_penalty", "max_length", "min_length",
        "no_repeat_ngram_size", "num_assistant_tokens", "num_assistant_tokens_schedule", "num_beam_groups",
        "num_beams", "num_return_sequences", "output_scores", "remove_invalid_values", "repetition_penalty",
        "return_dict_in_generate", "suppress_tokens", "target_lookbehind", "temperature", "top_k", "top_p",
        "typical_p",
        # Export metadata read by no transformers code: nanotron (SmolLM), transformers.js, early LLaMA ports.
        "is_llama_config", "transformers.js_config", "max_sequence_length",
        # Gemma 3: the KV-cache class generate() builds (a serving choice, not the forward's math), and the
        # pattern transformers 5 writes back beside layer_types (Gemma3TextConfig reads sliding_window_pattern only).
        "cache_implementation", "_sliding_window_pattern",
    }
)
# fmt: on


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-")
    return slug or "model"


def _allowed(name: str) -> str:
    field = HfFields.model_fields.get(name)
    return f" (allowed: {field.description})" if field is not None and field.description else ""


def _read(path: Path, where: str) -> tuple[bytes, dict[str, Any]]:
    raw = read_input(path, where)  # bounded before parsing (spec/bounds.py)
    data = parse_json(raw, where)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", where=where)
    return raw, data


def _family(data: dict[str, Any], problems: list[str]) -> str | None:
    archs = data.get("architectures")
    known = isinstance(archs, list) and len(archs) == 1 and archs[0] in ARCHITECTURES
    if not known:
        problems.append(
            f"field 'architectures': {json.dumps(archs)} is not supported (allowed: "
            + " or ".join(f'["{a}"]' for a in ARCHITECTURES)
            + ")"
        )
        return None
    family = ARCHITECTURES[archs[0]]
    expected = MODEL_TYPES.get(family, family)
    model_type = data.get("model_type", expected)
    if model_type != expected and model_type in {*ARCHITECTURES.values(), *MODEL_TYPES.values()}:
        problems.append(
            f"field 'model_type': {json.dumps(model_type)} contradicts architectures {json.dumps(archs)} (allowed: \"{expected}\")"
        )
    return family


def _rope(fields: dict[str, Any], problems: list[str]) -> tuple[float | None, dict[str, Any] | None]:
    """(rope_theta, llama3 scaling or None) from rope_scaling (transformers 4) or rope_parameters (5).

    As transformers does, rope_scaling wins over rope_parameters, a theta inside the dict wins over the
    top-level rope_theta, and the legacy key `type` means `rope_type`.
    """
    source = "rope_scaling" if fields.get("rope_scaling") else "rope_parameters"
    params = dict(fields.get(source) or {})
    if "type" in params and "rope_type" not in params:
        params["rope_type"] = params.pop("type")
    # Phi-3 rotates only the first partial_rotary_factor of each head; tttgen's rotary takes the whole head.
    factors = (
        (f"{source}.partial_rotary_factor", params.pop("partial_rotary_factor", None)),
        ("partial_rotary_factor", fields.get("partial_rotary_factor")),
    )
    for where, factor in factors:
        if factor is not None and (isinstance(factor, bool) or factor != 1):
            problems.append(f"field '{where}': got {json.dumps(factor)} (allowed: 1.0: tttgen rotates the whole head)")
    theta = params.pop("rope_theta", fields.get("rope_theta"))
    if theta is None:
        theta = DEFAULT_ROPE_THETA
    elif isinstance(theta, bool) or not isinstance(theta, (int, float)) or theta <= 0:
        problems.append(f"field '{source}.rope_theta': got {json.dumps(theta)} (allowed: a positive number)")
        theta = None
    rope_type = params.get("rope_type", "default")
    if rope_type == "default":
        for key in sorted(set(params) - {"rope_type"}):
            problems.append(
                f'field \'{source}.{key}\': not used by rope_type "default" (allowed: rope_type "llama3" to scale)'
            )
        return theta, None
    if rope_type != "llama3":
        problems.append(
            f'field \'{source}.rope_type\': {json.dumps(rope_type)} is not supported (allowed: "default", "llama3")'
        )
        return theta, None
    try:
        return theta, RopeScaling.model_validate(params).model_dump()
    except ValidationError as err:
        problems += [describe_error({**e, "loc": (source, *e["loc"])}) for e in err.errors()]
        return theta, None


def _validate_fields(given: dict[str, Any], problems: list[str]) -> tuple[dict[str, Any], set[str]]:
    """(every HfFields value, the names that failed): a failed field reads None and the valid ones keep
    their values, so the cross-field checks still run and every problem is reported in one pass."""
    try:
        return HfFields.model_validate(given).model_dump(), set()
    except ValidationError as err:
        errors = err.errors()
    bad = set()
    for e in errors:
        field = str(e["loc"][0])
        if field in bad:
            continue  # one problem per field (a list field fails once per bad entry)
        bad.add(field)
        if e["type"] in ("literal_error", "none_required"):
            what = f"value {json.dumps(e['input'])} is not supported"
        elif e["type"] == "missing":
            what = "required field is missing"
        else:
            what = f"got {json.dumps(e['input'])}: {e['msg'][0].lower()}{e['msg'][1:]}"
        problems.append(f"field '{field}': {what}{_allowed(field)}")
    return {k: (None if k in bad else given.get(k, f.default)) for k, f in HfFields.model_fields.items()}, bad


def _sliding_window(family: str | None, fields: dict[str, Any], problems: list[str]) -> int | None:
    """The window some layers attend within (None: every layer attends causally to every position), as
    transformers 5.23 derives it: Qwen2/Qwen3 only with use_sliding_window, and then only in the layers from
    max_window_layers on (or those layer_types names); the other families in every layer when one is set."""
    window, switch = fields["sliding_window"], fields["use_sliding_window"]
    if family not in SLIDING_SWITCH:
        if switch:
            problems.append(f"field 'use_sliding_window': value true is not supported for {family} (allowed: false)")
        return window
    types, layers = fields["layer_types"], fields["num_hidden_layers"]
    if types is not None and layers is not None and len(types) != layers:
        problems.append(f"field 'layer_types': {len(types)} entries for {layers} layers (allowed: one per layer)")
    if not switch or window is None:
        return None
    if types is None and layers is not None and fields["max_window_layers"] is not None:
        types = ["sliding_attention" if i >= fields["max_window_layers"] else "full_attention" for i in range(layers)]
    return window if types is None or "sliding_attention" in types else None


def _gemma_rope(fields: dict[str, Any], problems: list[str]) -> float | None:
    """Gemma 3's sliding-layer rotary base: rope_local_base_freq, or (transformers 5) the "sliding_attention" entry of
    a per-layer-type rope_parameters, whose "full_attention" entry is then the global rotary's (left in
    fields["rope_parameters"] for _rope). Gemma's rotary is unscaled in both."""
    local = fields.get("rope_local_base_freq")
    params = fields.get("rope_parameters")
    if isinstance(params, dict) and ({"full_attention", "sliding_attention"} & set(params)):
        extra = sorted(set(params) - {"full_attention", "sliding_attention"})
        for key in extra:
            problems.append(f"field 'rope_parameters.{key}': not a layer type (allowed: full_attention, sliding_attention)")
        for key in ("full_attention", "sliding_attention"):
            entry = params.get(key)
            if entry is not None and not isinstance(entry, dict):
                problems.append(f"field 'rope_parameters.{key}': got {json.dumps(entry)} (allowed: an object)")
        sliding = params.get("sliding_attention") if isinstance(params.get("sliding_attention"), dict) else {}
        if sliding.get("rope_type", "default") != "default" or set(sliding) - {"rope_type", "rope_theta"}:
            problems.append(
                f"field 'rope_parameters.sliding_attention': {json.dumps(sliding)} is not supported "
                '(allowed: {"rope_type": "default", "rope_theta": ...})'
            )
        local = sliding.get("rope_theta", local)
        full = params.get("full_attention")
        fields["rope_parameters"] = full if isinstance(full, dict) else None
    if local is not None and (isinstance(local, bool) or not isinstance(local, (int, float)) or not local > 0):
        problems.append(f"field 'rope_local_base_freq': got {json.dumps(local)} (allowed: a positive number)")
        local = None
    return local


def _gemma(family: str, data: dict[str, Any], fields: dict[str, Any], window: int | None, problems: list[str]) -> dict[str, Any]:
    """The Gemma 2 / Gemma 3 fields of the spec (transformers' modeling_gemma2.py / modeling_gemma3.py): the
    attention scale, the layer pattern of sliding and global attention, the sliding layers' rotary base (Gemma 3),
    the final logit soft-capping (Gemma 2); what the descriptions do not compute is refused by name."""
    if window is None:
        problems.append(f"field 'sliding_window': null is not supported for {family} (allowed: a positive integer)")
    period = fields.get("sliding_window_pattern") or GEMMA_PERIOD[family]
    types, layers = fields["layer_types"], fields["num_hidden_layers"]
    if types is not None and layers is not None:
        if len(types) != layers:
            problems.append(f"field 'layer_types': {len(types)} entries for {layers} layers (allowed: one per layer)")
        else:
            full = [i for i, t in enumerate(types) if t == "full_attention"]
            period = full[0] + 1 if full else layers + 1
            if types != ["full_attention" if (i + 1) % period == 0 else "sliding_attention" for i in range(layers)]:
                problems.append(
                    "field 'layer_types': not a periodic pattern (allowed: every n-th layer full_attention, the "
                    "others sliding_attention, as transformers' default layer_types)"
                )
    cap = fields["final_logit_softcapping"]
    if family == "gemma2" and cap is None:
        problems.append("field 'final_logit_softcapping': null is not supported for gemma2 (allowed: a positive number)")
    if family == "gemma3" and cap is not None:
        problems.append(f"field 'final_logit_softcapping': {json.dumps(cap)} is not supported for gemma3 (allowed: null)")
    attn_cap = fields["attn_logit_softcapping"]
    if family not in SCORE_CAPPED and attn_cap is not None:
        problems.append(
            f"field 'attn_logit_softcapping': {json.dumps(attn_cap)} is not supported for {family} "
            f"(allowed: null; a positive number only for {', '.join(SCORE_CAPPED)}, whose capped description "
            "writes the attention out as ttnn ops: ttnn's scaled_dot_product_attention has no score soft-capping)"
        )
    rope = fields.get("rope_parameters") if isinstance(fields.get("rope_parameters"), dict) else {}
    if fields.get("rope_scaling") or rope.get("rope_type", "default") != "default":
        problems.append(f"field 'rope_scaling': scaled rotary is not supported for {family} (allowed: null)")
    local = fields.get("rope_local_base_freq") if family == "gemma3" else None
    return {
        "query_pre_attn_scalar": fields["query_pre_attn_scalar"],
        "sliding_window_pattern": period,
        "rope_local_base_freq": float(local) if local is not None else None,
        "final_logit_softcapping": float(cap) if cap is not None else None,
        "attn_logit_softcapping": float(attn_cap) if attn_cap is not None and family in SCORE_CAPPED else None,
        "hidden_act": fields["hidden_activation"] or "gelu_pytorch_tanh",
    }


def hf_to_spec(data: dict[str, Any], name: str, source: str) -> tuple[dict[str, Any], tuple[str, ...], list[str]]:
    """(ModelSpec fields, ignored bookkeeping fields, every problem found) for one parsed config.json."""
    problems: list[str] = []
    family = _family(data, problems)
    given = {k: v for k, v in data.items() if k in HfFields.model_fields}
    for key in sorted(set(data) - BOOKKEEPING - set(HfFields.model_fields) - {"architectures"}):
        problems.append(
            f"field '{key}': not supported by tttgen (neither a math field of {family or 'these'} configs "
            "nor known bookkeeping)"
        )
    for key, families in FAMILY_FIELDS.items():
        if key in data and family is not None and family not in families:
            problems.append(f"field '{key}': not a field of {family} configs (allowed in: {', '.join(families)})")
    fields, bad = _validate_fields(given, problems)
    for key, value in FAMILY_DEFAULTS.get(family or "llama", {}).items():
        if key not in given:
            fields[key] = value
    if fields["num_key_value_heads"] is None and "num_key_value_heads" not in bad:
        fields["num_key_value_heads"] = fields["num_attention_heads"]
    hidden, heads = fields["hidden_size"], fields["num_attention_heads"]
    head_dim_given = fields["head_dim"] is not None or "head_dim" in bad
    if hidden is not None and heads is not None and hidden % heads and (family == "llama" or not head_dim_given):
        # transformers' LlamaConfig refuses this outright; without head_dim, hidden // heads would drop columns.
        problems.append(f"field 'hidden_size': ({hidden}) must be a multiple of num_attention_heads ({heads})")
    elif not head_dim_given and hidden is not None and heads is not None:
        fields["head_dim"] = hidden // heads
    dims = {**fields, "family": family}
    problems += [f"field '{f}': {what}" for f, what in dimension_problems(dims) if f not in bad]
    if family == "gemma3":
        fields["rope_local_base_freq"] = _gemma_rope(fields, problems)
    theta, scaling = _rope(fields, problems)
    window = _sliding_window(family, fields, problems)
    gemma = _gemma(family, data, fields, window, problems) if family in GEMMA else {}
    if family not in GEMMA and fields["hidden_act"] != "silu" and "hidden_act" not in bad:
        problems.append(f"field 'hidden_act': value {json.dumps(fields['hidden_act'])} is not supported for {family} (allowed: \"silu\")")
    if fields["attention_bias"] and family is not None and family not in BIASED:
        problems.append(
            f"field 'attention_bias': value true is not supported for {family} (allowed: false; true only for "
            + ", ".join(f"{f} (the {d} description)" for f, d in BIASED.items())
            + ")"
        )
    elif fields["attention_bias"] and family is not None:
        family = BIASED[family]
    heads, kv_heads = fields["num_attention_heads"], fields["num_key_value_heads"]
    if family in EQUAL_THIRDS_QKV and heads is not None and kv_heads is not None and kv_heads != heads:
        problems.append(
            f"field 'num_key_value_heads': ({kv_heads}) must equal num_attention_heads ({heads}) for {family} "
            f"(allowed: {heads}: the {family} description splits the fused qkv_proj into three equal parts)"
        )
    # Gemma's modeling reads hidden_activation, never hidden_act (configs carry both)
    gemma_ignored = ("hidden_act",) if family in GEMMA else ()
    ignored = tuple(
        sorted(
            k
            for k in data
            if k in BOOKKEEPING
            or k in FIXED
            or k in gemma_ignored
            or (k in SLIDING_BOOKKEEPING and window is None and family not in GEMMA)
        )
    )
    spec = {k: fields[k] for k in SAME_NAME}
    spec.update(name=name, source=source, family=family, rope_theta=theta, rope_scaling=scaling, sliding_window=window)
    spec.update(gemma)
    return spec, ignored, problems


def load_hf_config(path: Path) -> tuple[ModelSpec, InputFile]:
    where = _display(path)
    raw, data = _read(path, where)
    # A hub download is `<model>/config.json`; a config saved under another name is named by its file.
    fallback = path.parent.name if path.name == "config.json" else path.stem
    name = _slug(str(data.get("_name_or_path") or fallback).split("/")[-1])
    spec, ignored, problems = hf_to_spec(data, name, f"Hugging Face config {where}")
    if len(problems) == 1:
        raise InputError(problems[0], where=where)
    if problems:
        raise InputError(f"{len(problems)} problems:\n  " + "\n  ".join(problems), where=where)
    return validate_as(ModelSpec, spec, where), InputFile(where, hashlib.sha256(raw).hexdigest(), ignored)
