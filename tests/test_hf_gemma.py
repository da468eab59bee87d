"""Gemma 2 and Gemma 3 from their config.json (modules/gemma2.yaml, modules/gemma3.yaml): verified against
transformers' Gemma2ForCausalLM / Gemma3ForCausalLM at small dims on the emulator, with a sliding window (32)
shorter than the verified sequence (128 prompt tokens, then decode steps past them), so a layer attending the wrong
span fails; planted bugs in Gemma's own features (the 1 + w norms, a post-norm, the window, the logit soft-capping)
fail verify; the config fields Gemma adds are mapped or refused by name."""

import json
from pathlib import Path

import pytest

from tttgen.errors import InputError
from tttgen.generate import Request, plan
from tttgen.inputs.load import load_model
from tttgen.checking.verification import PCC_ACCURACY, run_verify

DATA = Path(__file__).parent / "data"
TINY = (("max_seq_len", 256), ("prefill_lens", [128]), ("precision", "accuracy"))
GEMMA3_1B = DATA / "hf_configs" / "gemma-3-1b.json"


def tiny_plan(name: str, device: str = "n150"):
    return plan(Request(str(DATA / name / "config.json"), device, None, TINY))


def planted(files: dict[str, str], file: str, old: str, new: str) -> dict[str, str]:
    """The package with every `old` of `file` replaced by `new` (the planted bug); `old` must be there."""
    assert old in files[file], f"{old!r} is not in {file}"
    return {**files, file: files[file].replace(old, new)}


@pytest.mark.parametrize("name, family", [("tiny-gemma2", "gemma2"), ("tiny-gemma3", "gemma3")])
def test_tiny_gemma_matches_transformers(name, family):
    p = tiny_plan(name)
    assert p.graph.entry.reference.family == family and p.graph.entry.reference.sliding_window == 32 < 128
    report = run_verify(p, steps=2, prompt_len=128)
    assert report.passed, report.as_dict()
    assert min(report.layer_pcc) >= PCC_ACCURACY and report.token_agreement >= 1, report.as_dict()


# (config, file, text, replacement): a planted bug in a Gemma feature, which verify must catch
PLANTED = {
    # Gemma's RMSNorm scales by 1 + w: the 1 of one post-norm dropped at load time
    "norm offset dropped": ("tiny-gemma3", "weights.py", "w_post_attention_norm = w_post_attention_norm + 1.0", "pass"),
    # the MLP's post-norm skipped (its input passed on as it is)
    "post-norm dropped": (
        "tiny-gemma3",
        "model.py",
        "down_normed = ttnn.rms_norm(\n            down,",
        "down_normed = ttnn.clone(down)\n        _skipped = ttnn.rms_norm(\n            down,",
    ),
    # the sliding layers attend every cached position (the global layers' window)
    "window ignored": ("tiny-gemma3", "model.py", "256 if (layer + 1) % 3 == 0 else 32", "256"),
    # Gemma 2's final logits not soft-capped (on Wormhole as cap * tanh(x / cap): ttnn.softcap is Blackhole-only)
    "softcap dropped": (
        "tiny-gemma2",
        "model.py",
        "logits = ttnn.multiply(ttnn.tanh(ttnn.multiply(scores, 0.03333333333333333)), 30.0)",
        "logits = ttnn.clone(scores)",
    ),
}


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_a_planted_bug_in_a_gemma_feature_fails_verify(bug):
    name, *edit = PLANTED[bug]
    # prefill only (its layer and logits PCCs): every bug here shows there; decode past the window is verified above
    report = run_verify(tiny_plan(name), steps=0, prompt_len=128, edit_files=lambda f: planted(f, *edit))
    assert not report.passed, report.as_dict()
    assert min(report.layer_pcc + [report.prefill_logits_pcc]) < PCC_ACCURACY, report.as_dict()


def test_gemma3_layers_alternate_windows_and_rotary_tables():
    """Every third layer of the tiny config is global: the global rotary tables and every cached position; the
    others the local tables and the 32-position window, passed to ttnn's SDPA as sliding_window_size."""
    p = tiny_plan("tiny-gemma3")
    from tttgen.generate import render_plan

    model = render_plan(p)["model.py"]
    assert "cos if (layer + 1) % 3 == 0 else cos_local" in model
    assert "256 if (layer + 1) % 3 == 0 else 32" in model
    assert model.count("sliding_window_size=window") == 2  # prefill SDPA and decode SDPA
    # the global tables are moved to the rotary's height shards like the local ones
    decode = {op.name for op in p.graph.ops if op.mode == "decode"}
    assert {"rope_cos_out", "rope_cos_local_out", "rope_sin_out", "rope_sin_local_out"} <= decode
    names = {n for w in p.graph.weights for n in w.hf_names}
    norms = ("input", "post_attention", "pre_feedforward", "post_feedforward")
    assert {f"model.layers.{{i}}.{n}_layernorm.weight" for n in norms} <= names
    assert {"model.layers.{i}.self_attn.q_norm.weight", "lm_head.weight"} & names == {
        "model.layers.{i}.self_attn.q_norm.weight"
    }  # tied head


def test_gemma_3_1b_published_config():
    spec, info = load_model(str(GEMMA3_1B))
    assert (spec.family, spec.hidden_size, spec.num_hidden_layers, spec.num_attention_heads) == ("gemma3", 1152, 26, 4)
    assert (spec.num_key_value_heads, spec.head_dim, spec.intermediate_size, spec.vocab_size) == (1, 256, 6912, 262144)
    assert (spec.sliding_window, spec.sliding_window_pattern, spec.query_pre_attn_scalar) == (512, 6, 256)
    assert (spec.rope_theta, spec.rope_local_base_freq, spec.final_logit_softcapping) == (1e6, 1e4, None)
    assert "cache_implementation" in info.ignored_fields
    # its window is shorter than the default 4096-position cache: the description attends within it itself
    for device in ("n150", "p150"):
        p = plan(Request(str(GEMMA3_1B), device))
        assert p.graph.hints.max_seq_len > spec.sliding_window


def write(tmp_path, base: Path, **changes) -> Path:
    data = {**json.loads(base.read_text()), **changes}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


TINY2 = DATA / "tiny-gemma2" / "config.json"


@pytest.mark.parametrize(
    "base, changes, message",
    [
        (
            # Gemma 2's capped scores have a description of their own (gemma2_capped); Gemma 3 has none
            GEMMA3_1B,
            {"attn_logit_softcapping": 50.0},
            "field 'attn_logit_softcapping': 50.0 is not supported for gemma3 (allowed: null; a positive number only "
            "for gemma2",
        ),
        (TINY2, {"attn_logit_softcapping": 0}, "field 'attn_logit_softcapping'"),
        (TINY2, {"final_logit_softcapping": None}, "field 'final_logit_softcapping': null is not supported for gemma2"),
        (
            GEMMA3_1B,
            {"final_logit_softcapping": 30.0},
            "field 'final_logit_softcapping': 30.0 is not supported for gemma3 (allowed: null)",
        ),
        (GEMMA3_1B, {"sliding_window": None}, "field 'sliding_window': null is not supported for gemma3"),
        (GEMMA3_1B, {"rope_scaling": {"rope_type": "linear", "factor": 8.0}}, "field 'rope_scaling'"),
        (GEMMA3_1B, {"use_bidirectional_attention": True}, "field 'use_bidirectional_attention'"),
        (GEMMA3_1B, {"hidden_activation": "gelu"}, "field 'hidden_activation': value \"gelu\" is not supported"),
        (GEMMA3_1B, {"query_pre_attn_scalar": 0}, "field 'query_pre_attn_scalar'"),
        (
            GEMMA3_1B,
            {"layer_types": ["full_attention"] + ["sliding_attention"] * 25},
            "field 'layer_types': not a periodic pattern",
        ),
        (
            GEMMA3_1B,
            {"model_type": "gemma2"},
            'contradicts architectures ["Gemma3ForCausalLM"] (allowed: "gemma3_text")',
        ),
        (TINY2, {"rope_local_base_freq": 10000.0}, "field 'rope_local_base_freq': not a field of gemma2 configs"),
        (
            DATA / "tiny-qwen3" / "config.json",
            {"query_pre_attn_scalar": 128},
            "field 'query_pre_attn_scalar': not a field of qwen3 configs",
        ),
    ],
)
def test_refused_gemma_field_is_named(tmp_path, base, changes, message):
    with pytest.raises(InputError) as err:
        load_model(str(write(tmp_path, base, **changes)))
    assert message in str(err.value), str(err.value)


def test_layer_types_set_the_period(tmp_path):
    """A config listing layer_types (transformers 5 writes them) gives the period they repeat with."""
    types = ["sliding_attention"] * 3 + ["full_attention"]
    spec, _ = load_model(str(write(tmp_path, GEMMA3_1B, num_hidden_layers=8, layer_types=types * 2)))
    assert spec.sliding_window_pattern == 4


@pytest.mark.parametrize("name", ["tiny-gemma2", "tiny-gemma3"])
def test_config_saved_by_transformers_loads_to_the_same_spec(tmp_path, name):
    """verify's reference config, saved by transformers 5 (per-layer-type rope_parameters, layer_types,
    _sliding_window_pattern), imports unchanged."""
    pytest.importorskip("transformers")
    from tttgen.checking.verification import hf_config

    spec, _ = load_model(str(DATA / name / "config.json"))
    config = hf_config(spec)
    config.architectures = ["Gemma2ForCausalLM" if spec.family == "gemma2" else "Gemma3ForCausalLM"]
    config.save_pretrained(str(tmp_path / name))
    again, _ = load_model(str(tmp_path / name / "config.json"))
    keep = {"name", "source"}
    assert again.model_dump(exclude=keep) == spec.model_dump(exclude=keep)


# ---------------------------------------------------------------- loop.every and int params as call inputs


def own_gemma3(tmp_path, old: str, new: str) -> Path:
    text = (Path(__file__).parents[1] / "modules" / "gemma3.yaml").read_text()
    assert old in text
    path = tmp_path / "my_gemma3.yaml"
    path.write_text(text.replace("name: gemma3\n", "name: my_gemma3\n").replace(old, new))
    return path


@pytest.mark.parametrize(
    "old, new, message",
    [
        # every may only replace inputs the call gives
        (
            "in: {cos: cos, sin: sin, window: max_seq_len}",
            "in: {cos: cos, sin: sin, tokens: max_seq_len}",
            "'tokens' is not one of the call's inputs",
        ),
        # ... each by a value shaped like the one it replaces
        (
            "in: {cos: cos, sin: sin, window: max_seq_len}",
            "in: {cos: x, sin: sin, window: max_seq_len}",
            "the value an iteration takes instead must be shaped alike",
        ),
        (
            "in: {cos: cos, sin: sin, window: max_seq_len}",
            "in: {cos: nothing, sin: sin, window: max_seq_len}",
            "undefined value 'nothing'",
        ),
        (
            "every: &global {period: sliding_window_pattern,",
            "every: &global {period: sliding_window_pattern - 6,",
            "must be a positive int",
        ),
    ],
)
def test_every_mistakes_exit_2_with_their_line(tmp_path, old, new, message):
    import subprocess
    import sys

    path = own_gemma3(tmp_path, old, new)
    result = subprocess.run([sys.executable, "-m", "tttgen", "validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "my_gemma3.yaml:" in result.stderr and "Traceback" not in result.stderr


def test_embedding_scale_is_rounded_to_the_table_dtype_as_transformers_does():
    """Gemma multiplies the rows by sqrt(hidden_size) cast to the embedding's dtype (34.0 for sqrt(1152) in bfloat16):
    the folded table of a bfloat16 checkpoint equals transformers' looked-up rows bit for bit."""
    torch = pytest.importorskip("torch")
    from transformers.models.gemma3.modeling_gemma3 import Gemma3TextScaledWordEmbedding

    from tttgen.render.weight_code import host_weight_source

    scale = {"kind": "scale", "value": 1.0, "rsqrt_of": None, "sqrt_of": 1152, "in_weight_dtype": True}
    lines = host_weight_source("embedding", [("model.embed_tokens.weight", [])], [scale])
    table = torch.randn(64, 1152).to(torch.bfloat16)
    scope = {"torch": torch, "state": {"model.embed_tokens.weight": table}}
    exec("\n".join(lines), scope)
    reference = Gemma3TextScaledWordEmbedding(64, 1152, 0, embed_scale=1152**0.5).to(torch.bfloat16)
    reference.weight.data.copy_(table)
    ids = torch.arange(64)
    assert torch.equal(scope["embedding"], reference(ids))
    assert not torch.equal((table * 1152**0.5), reference(ids))  # the unrounded factor differs
