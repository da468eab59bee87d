"""A ModelSpec (what `tttgen build <model>` loads) as the params of its model description.

The description's `checkpoint.config_map` names, per Hugging Face config field, the param it sets; ModelSpec
keeps HF's field names, so the same map reads a ModelSpec. Fields a ModelSpec leaves unset (no rope_scaling,
no sliding_window) keep the description's default, except the params below that a ModelSpec states another way.
"""

from __future__ import annotations

from typing import Any, Callable

from tttgen.inputs.model import ModelSpec, head_width
from tttgen.inputs.module import ModuleDescription, load_module

# param -> its value from the spec (None: keep the default), for facts the HF config states without a field.
DERIVED: dict[str, Callable[[ModelSpec], Any]] = {
    # tie_word_embeddings: the LM head loads the embedding table.
    "lm_head_key": lambda s: "model.embed_tokens.weight" if s.tie_word_embeddings else "lm_head.weight",
    # No rope_scaling in the config: plain rotary frequencies.
    "rope_type": lambda s: None if s.rope_scaling is not None else "default",
    # The width a description that pads heads computes each head at (Phi-3-mini: 96 -> 128).
    "head_width": lambda s: head_width(s.head_dim),
}


def _field(spec: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        spec = getattr(spec, part, None)
        if spec is None:
            return None
    return spec


def description_for(spec: ModelSpec, features: tuple[str, ...] = ()) -> ModuleDescription:
    """The built-in model description of the spec (modules/llama.yaml, modules/mistral.yaml; a score-capped Gemma 2
    modules/gemma2_capped.yaml), with the build's features (tttgen.inputs.module.Feature)."""
    return load_module(spec.description, features)


def spec_params(desc: ModuleDescription, spec: ModelSpec) -> dict[str, Any]:
    if desc.checkpoint is None:
        raise ValueError(f"module '{desc.name}' is not a model: it has no checkpoint config_map")
    params = {}
    for hf_field, pname in desc.checkpoint.config_map.items():
        value = _field(spec, hf_field)
        if value is not None:
            params[pname] = value
    for pname, derive in DERIVED.items():
        value = derive(spec) if pname in desc.params else None
        if value is not None:
            params[pname] = value
    return params
