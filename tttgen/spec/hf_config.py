"""Import a Hugging Face LlamaForCausalLM / MistralForCausalLM config.json as a ModelSpec."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from tttgen.errors import InputError
from tttgen.spec.load import InputFile, _display, validate_as
from tttgen.spec.model import ModelSpec

ARCHITECTURES = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral"}

# Fields copied into the ModelSpec under the same name.
MAPPED = (
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "num_hidden_layers",
    "rms_norm_eps",
    "rope_theta",
    "vocab_size",
    "tie_word_embeddings",
    "hidden_act",
    "max_position_embeddings",
    "rope_scaling",
    "rope_parameters",
)

# Fields that do not change the computation tttgen emits (token ids, training-only settings, bookkeeping).
IGNORED = frozenset(
    {
        "architectures",
        "model_type",
        "torch_dtype",
        "dtype",
        "transformers_version",
        "bos_token_id",
        "eos_token_id",
        "pad_token_id",
        "initializer_range",
        "use_cache",
        "attention_dropout",
        "_name_or_path",
        "auto_map",
        "output_attentions",
        "output_hidden_states",
    }
)

# Fields accepted only with the value that matches what tttgen emits.
REQUIRED_VALUES: dict[str, tuple[Any, ...]] = {
    "attention_bias": (False,),
    "mlp_bias": (False,),
    "pretraining_tp": (1,),
    "sliding_window": (None,),
    "use_sliding_window": (False,),
}


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-")
    return slug or "model"


def load_hf_config(path: Path) -> tuple[ModelSpec, InputFile]:
    where = _display(path)
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except OSError as err:
        raise InputError(f"cannot read file: {err.strerror}", where=where) from None
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg} at line {err.lineno}", where=where) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", where=where)
    archs = data.get("architectures") or []
    family = None
    for arch in archs:
        family = ARCHITECTURES.get(arch, family)
    if family is None or len(archs) != 1:
        raise InputError(
            f"field 'architectures': {archs!r} is not supported",
            where=where,
            hint=f"allowed: {', '.join(sorted(ARCHITECTURES))}",
        )
    spec: dict[str, Any] = {"family": family}
    for key in sorted(data):
        value = data[key]
        if key in IGNORED:
            continue
        if key in REQUIRED_VALUES:
            if value not in REQUIRED_VALUES[key]:
                allowed = ", ".join(json.dumps(v) for v in REQUIRED_VALUES[key])
                raise InputError(f"field '{key}': value {json.dumps(value)} is not supported", where=where, hint=f"allowed: {allowed}")
            continue
        if key not in MAPPED:
            raise InputError(
                f"field '{key}' is not supported by tttgen",
                where=where,
                hint=f"supported fields: {', '.join(sorted(MAPPED))}",
            )
        spec[key] = value
    if spec.get("head_dim") is None and "hidden_size" in spec and "num_attention_heads" in spec:
        spec["head_dim"] = spec["hidden_size"] // spec["num_attention_heads"]
    spec.setdefault("num_key_value_heads", spec.get("num_attention_heads"))
    spec.setdefault("max_position_embeddings", 4096)
    params = spec.pop("rope_parameters", None)
    if isinstance(params, dict):
        # transformers >= 5 writes rope_theta and the scaling together as rope_parameters.
        params = dict(params)
        if "rope_theta" in params:
            spec["rope_theta"] = params.pop("rope_theta")
        if params.get("rope_type", "default") != "default":
            spec["rope_scaling"] = params
    scaling = spec.get("rope_scaling")
    if isinstance(scaling, dict):
        scaling = dict(scaling)
        if "type" in scaling and "rope_type" not in scaling:
            scaling["rope_type"] = scaling.pop("type")
        spec["rope_scaling"] = scaling
    name = data.get("_name_or_path") or path.parent.name or path.stem
    spec["name"] = _slug(str(name).split("/")[-1])
    spec["source"] = f"Hugging Face config {where}"
    return validate_as(ModelSpec, spec, where), InputFile(where, hashlib.sha256(raw).hexdigest())
