"""Hugging Face families beyond Llama and Mistral, each from its config.json: the config picks the built-in
description (modules/<family>.yaml), the package verifies against transformers' own model class at small dims on
the emulator, and a planted bug in the family's own feature (a bias, a q/k norm, a fused-weight split) fails."""

import json
from pathlib import Path

import pytest

from tttgen.errors import InputError
from tttgen.generate import Request, plan
from tttgen.spec.load import load_model
from tttgen.verification import PCC_ACCURACY, run_verify

DATA = Path(__file__).parent / "data"
TINY = (("max_seq_len", 256), ("prefill_lens", [128]), ("precision", "accuracy"))
STEPS = 3  # decode steps per verify: enough to compare decode logits and the greedy tokens, cheap on the emulator

# tiny config -> the description its config selects
FAMILIES = {
    "tiny-llama-bias": "llama_bias",
    "tiny-qwen2": "qwen2",
}


def tiny_plan(name: str, device: str = "n150"):
    return plan(Request(str(DATA / name / "config.json"), device, None, TINY))


def drop_line(files: dict[str, str], file: str, text: str) -> dict[str, str]:
    """The package with every line of `file` holding `text` removed (the planted bug); the text must be there."""
    lines = files[file].splitlines(keepends=True)
    kept = [line for line in lines if text not in line]
    assert len(kept) < len(lines), f"{text!r} is not in {file}"
    return {**files, file: "".join(kept)}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_tiny_family_matches_transformers(name):
    p = tiny_plan(name)
    assert p.graph.model.family == FAMILIES[name]
    report = run_verify(p, steps=STEPS, prompt_len=128)
    assert report.passed, report.as_dict()
    assert min(report.layer_pcc) >= PCC_ACCURACY and report.token_agreement >= STEPS - 1, report.as_dict()


# family -> (file, a line of the package that applies the family's own feature): without it, verify must fail
PLANTED = {
    "tiny-llama-bias": ("model.py", 'bias=self.w["bo"],'),  # the output projection's bias
    "tiny-qwen2": ("model.py", 'bias=self.w["bqkv"],'),  # the q/k/v biases
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_dropping_the_family_feature_fails_verify(name):
    file, text = PLANTED[name]
    report = run_verify(tiny_plan(name), steps=1, prompt_len=128, edit_files=lambda f: drop_line(f, file, text))
    assert not report.passed and min(report.layer_pcc) < PCC_ACCURACY, report.as_dict()


def test_llama_attention_bias_selects_the_biased_description(tmp_path):
    spec, info = load_model(str(DATA / "tiny-llama-bias" / "config.json"))
    assert spec.family == "llama_bias" and "attention_bias" not in info.ignored_fields
    keys = {w.hf_names for w in tiny_plan("tiny-llama-bias").graph.weights}
    assert ("model.layers.{i}.self_attn.o_proj.bias",) in keys


def test_qwen2_biases_are_loaded_and_the_head_is_tied():
    p = tiny_plan("tiny-qwen2")
    names = {n for w in p.graph.weights for n in w.hf_names}
    assert {f"model.layers.{{i}}.self_attn.{x}_proj.bias" for x in "qkv"} <= names
    assert "model.layers.{i}.self_attn.o_proj.bias" not in names  # Qwen2's o_proj has none
    assert "lm_head.weight" not in names and p.graph.model.tie_word_embeddings


def write(tmp_path, base: Path, **changes) -> Path:
    data = {**json.loads(base.read_text()), **changes}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


QWEN25 = DATA / "hf_configs" / "qwen2.5-0.5b.json"


def test_qwen2_sliding_window_off_is_bookkeeping():
    spec, info = load_model(str(QWEN25))
    assert spec.sliding_window is None
    assert {"max_window_layers", "use_mrope"} <= set(info.ignored_fields)


def test_qwen2_sliding_window_on_is_kept_and_refused_beyond_max_seq_len(tmp_path):
    from tttgen.errors import UnsupportedTarget

    path = write(tmp_path, QWEN25, use_sliding_window=True, sliding_window=512, max_window_layers=12)
    spec, info = load_model(str(path))
    assert spec.sliding_window == 512 and "max_window_layers" not in info.ignored_fields
    with pytest.raises(UnsupportedTarget, match="sliding_window 512 is shorter than max_seq_len 1024"):
        plan(Request(str(path), "n150"))
    # every layer below max_window_layers: no layer slides, the window is bookkeeping
    spec, _ = load_model(str(write(tmp_path, QWEN25, use_sliding_window=True, sliding_window=1024)))
    assert spec.sliding_window is None


@pytest.mark.parametrize(
    "base, changes, message",
    [
        (QWEN25, {"use_mrope": True}, "field 'use_mrope': value true is not supported (allowed: false"),
        (QWEN25, {"attention_bias": True}, "field 'attention_bias': value true is not supported for qwen2 (allowed: false"),
        (QWEN25, {"layer_types": ["full_attention"] * 3}, "field 'layer_types': 3 entries for 24 layers"),
        (QWEN25, {"layer_types": ["global"] * 24}, 'field \'layer_types\': value "global" is not supported (allowed: null or one'),
        (QWEN25, {"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}, '(allowed: "default", "llama3")'),
        (QWEN25, {"architectures": ["Qwen2MoeForCausalLM"]}, '["Qwen2ForCausalLM"]'),
    ],
)
def test_refused_field_is_named_with_its_allowed_values(tmp_path, base, changes, message):
    with pytest.raises(InputError) as err:
        load_model(str(write(tmp_path, base, **changes)))
    assert message in str(err.value), str(err.value)
