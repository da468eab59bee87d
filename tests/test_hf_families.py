"""Hugging Face families beyond Llama and Mistral, each from its config.json: the config picks the built-in
description (modules/<family>.yaml), the package verifies against transformers' own model class at small dims on
the emulator, and a planted bug in the family's own feature (a bias, a q/k norm, a fused-weight split) fails."""

import json
from pathlib import Path

import pytest

from tttgen.errors import InputError
from tttgen.generate import Request, plan
from tttgen.inputs.load import load_model
from tttgen.checking.verification import PCC_ACCURACY, run_verify

DATA = Path(__file__).parent / "data"
TINY = (("max_seq_len", 256), ("prefill_lens", [128]), ("precision", "accuracy"))
STEPS = 3  # decode steps per verify: enough to compare decode logits and the greedy tokens, cheap on the emulator

# tiny config -> the description its config selects
FAMILIES = {
    "tiny-llama-bias": "llama_bias",
    "tiny-qwen2": "qwen2",
    "tiny-qwen3": "qwen3",
    "tiny-phi3": "phi3",
}


def tiny_plan(name: str, device: str = "n150"):
    return plan(Request(str(DATA / name / "config.json"), device, None, TINY))


def planted(files: dict[str, str], file: str, old: str, new: str) -> dict[str, str]:
    """The package with every `old` of `file` replaced by `new` (the planted bug); `old` must be there."""
    assert old in files[file], f"{old!r} is not in {file}"
    return {**files, file: files[file].replace(old, new)}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_tiny_family_matches_transformers(name):
    p = tiny_plan(name)
    assert p.graph.entry.reference.family == FAMILIES[name]
    report = run_verify(p, steps=STEPS, prompt_len=128)
    assert report.passed, report.as_dict()
    assert min(report.layer_pcc) >= PCC_ACCURACY and report.token_agreement >= STEPS - 1, report.as_dict()


# family -> (file, text, replacement): a planted bug in the family's own feature, which verify must catch
PLANTED = {
    "tiny-llama-bias": ("model.py", 'bias=self.w["bo"],', ""),  # the output projection's bias dropped
    "tiny-qwen2": ("model.py", 'bias=self.w["bqkv"],', ""),  # the q/k/v biases dropped
    "tiny-qwen3": ("model.py", 'weight=self.w["q_norm"],', ""),  # q's per-head norm without its gamma
    "tiny-phi3": ("weights.py", "w_w1.chunk(2, dim=0)[0]", "w_w1.chunk(2, dim=0)[1]"),  # gate read from up's half
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_planted_bug_in_the_family_feature_fails_verify(name):
    bug = PLANTED[name]
    report = run_verify(tiny_plan(name), steps=1, prompt_len=128, edit_files=lambda f: planted(f, *bug))
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
    assert "lm_head.weight" not in names and p.graph.entry.reference.tie_word_embeddings


def write(tmp_path, base: Path, **changes) -> Path:
    data = {**json.loads(base.read_text()), **changes}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


QWEN25 = DATA / "hf_configs" / "qwen2.5-0.5b.json"
QWEN3 = DATA / "hf_configs" / "qwen3-0.6b.json"
PHI3_MINI = DATA / "hf_configs" / "phi-3-mini-4k-instruct.json"


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
        (
            QWEN25,
            {"attention_bias": True},
            "field 'attention_bias': value true is not supported for qwen2 (allowed: false",
        ),
        (QWEN25, {"layer_types": ["full_attention"] * 3}, "field 'layer_types': 3 entries for 24 layers"),
        (
            QWEN25,
            {"layer_types": ["global"] * 24},
            "field 'layer_types': value \"global\" is not supported (allowed: null or one",
        ),
        (QWEN25, {"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}, '(allowed: "default", "llama3")'),
        (QWEN25, {"architectures": ["Qwen2MoeForCausalLM"]}, '["Qwen2ForCausalLM"]'),
        (
            QWEN3,
            {"attention_bias": True},
            "field 'attention_bias': value true is not supported for qwen3 (allowed: false",
        ),
        (
            PHI3_MINI,
            {"rope_scaling": {"rope_type": "longrope", "short_factor": [1.0], "long_factor": [1.0]}},
            '"longrope"',
        ),
        (PHI3_MINI, {"partial_rotary_factor": 0.75}, "field 'partial_rotary_factor': got 0.75 (allowed: 1.0"),
        (PHI3_MINI, {"use_sliding_window": True}, "field 'use_sliding_window': value true is not supported for phi3"),
        (PHI3_MINI, {"max_window_layers": 2}, "field 'max_window_layers': not a field of phi3 configs"),
    ],
)
def test_refused_field_is_named_with_its_allowed_values(tmp_path, base, changes, message):
    with pytest.raises(InputError) as err:
        load_model(str(write(tmp_path, base, **changes)))
    assert message in str(err.value), str(err.value)


def test_qwen3_norms_q_and_k_per_head_before_rotary():
    p = tiny_plan("tiny-qwen3")
    assert p.graph.entry.reference.head_dim == 128  # the config's own, not hidden_size / heads (64)
    decode = [op.name for op in p.graph.ops if op.mode == "decode" and op.scope == "layer"]
    assert decode.index("create_heads") < decode.index("q_norm") < decode.index("rotary_q")
    assert decode.index("k_norm") < decode.index("rotary_k")
    # ttnn's norms take no height-sharded heads: moved to L1 interleaved for the norm and back for the rotary
    assert {"q_norm_in", "q_norm_out", "k_norm_in", "k_norm_out"} <= set(decode)
    names = {n for w in p.graph.weights for n in w.hf_names}
    assert {"model.layers.{i}.self_attn.q_norm.weight", "model.layers.{i}.self_attn.k_norm.weight"} <= names


def test_phi3_splits_its_fused_weights_at_load_time():
    p = tiny_plan("tiny-phi3")
    keys = {w.name: w.hf_names for w in p.graph.weights}
    assert keys["wqkv"] == ("model.layers.{i}.self_attn.qkv_proj.weight",) * 3
    assert keys["w1"] == keys["w3"] == ("model.layers.{i}.mlp.gate_up_proj.weight",)
    assert p.graph.entry.reference.sliding_window == 2047


def test_phi3_pads_heads_of_96_to_128():
    """Phi-3-mini's heads are 96 wide; ttnn's rotary takes 32 or a multiple of 64: the phi3 description computes
    them 128 wide (zero-padded rows, q scaled so SDPA's 1/sqrt(128) is the checkpoint's 1/sqrt(96))."""
    spec, _ = load_model(str(PHI3_MINI))
    assert spec.head_dim == 96
    p = tiny_plan("tiny-phi3")  # hidden 384, 4 heads: 96 wide too
    assert p.graph.entry.reference.head_dim == 96 and p.graph.facts["module_params"]["head_width"] == 128
    heads = next(op for op in p.graph.ops if op.kind == "create_heads" and op.mode == "decode")
    assert heads.facts["head_dim"] == 128 and p.graph.facts["heads_placement"].shard_shape == (32, 128)
    assert p.graph.weight("wo").shape == (4 * 128, 384)


def test_llama_with_96_wide_heads_is_still_refused(tmp_path):
    """Only a description that pads its heads takes them: llama's rotary would get 96-wide heads."""
    path = write(tmp_path, DATA / "tiny-llama" / "config.json", hidden_size=384, head_dim=96)
    with pytest.raises(InputError, match=r"field 'head_dim': \(96\) must be 32 or a multiple of 64"):
        load_model(str(path))


def test_phi3_with_grouped_kv_heads_is_refused(tmp_path):
    path = write(tmp_path, DATA / "tiny-phi3" / "config.json", num_key_value_heads=2)
    with pytest.raises(InputError, match=r"field 'num_key_value_heads': \(2\) must equal num_attention_heads \(4\)"):
        load_model(str(path))


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_config_saved_by_transformers_loads_to_the_same_spec(tmp_path, name):
    """verify's reference config (transformers 5 writes rope_parameters, layer_types, ...) imports unchanged."""
    pytest.importorskip("transformers")
    from tttgen.checking.verification import hf_config

    spec, _ = load_model(str(DATA / name / "config.json"))
    config = hf_config(spec)
    config.architectures = [type(config).__name__.replace("Config", "ForCausalLM")]
    config.save_pretrained(str(tmp_path / name))
    again, _ = load_model(str(tmp_path / name / "config.json"))
    keep = {"name", "source"}
    assert again.model_dump(exclude=keep) == spec.model_dump(exclude=keep)


# ---------------------------------------------------------------- a user's own description bound to a config.json


def own_description(tmp_path, name="my_qwen2", text=None):
    """A user's copy of the built-in qwen2 description under another name, in their own folder."""
    text = text or (Path(__file__).parents[1] / "modules" / "qwen2.yaml").read_text()
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("name: qwen2\n", f"name: {name}\n"))
    return path


def test_own_description_binds_a_config_like_the_builtin(tmp_path):
    config = str(DATA / "tiny-qwen2" / "config.json")
    builtin = plan(Request(config, "n150", None, TINY))
    own = plan(Request(str(own_description(tmp_path)), "n150", None, TINY, (), config))
    assert own.graph.entry.reference == builtin.graph.entry.reference  # the config imported as its family decides
    assert own.inputs[0].label.endswith("tiny-qwen2/config.json") and own.inputs[1].label.endswith("my_qwen2.yaml")
    assert [(o.key, o.kind, o.shape) for o in own.graph.ops] == [(o.key, o.kind, o.shape) for o in builtin.graph.ops]
    assert [w.hf_names for w in own.graph.weights] == [w.hf_names for w in builtin.graph.weights]


def test_build_with_description_and_config_writes_and_checks(tmp_path):
    from click.testing import CliRunner

    from tttgen.cli import cli

    own = own_description(tmp_path)
    out = tmp_path / "out"
    args = ["build", str(own), "--config", str(DATA / "tiny-qwen2" / "config.json"), "--device", "n150"]
    args += ["--out", str(out), "--ttnn-check", "off", "--max-seq-len", "256", "--prefill-lens", "128"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "tiny_qwen2" / "n150" / "MANIFEST.json").read_text())
    assert manifest["request"]["config"].endswith("tiny-qwen2/config.json")
    assert manifest["request"]["model"] == str(own)
    checked = CliRunner().invoke(cli, ["check", str(out)], catch_exceptions=False)
    assert checked.exit_code == 0 and "ok" in checked.output, checked.output


@pytest.mark.parametrize(
    "model, config, message",
    [
        ("mlp", "tiny-qwen2/config.json", "module 'mlp' has no checkpoint.config_map"),
        ("no_such_module", "tiny-qwen2/config.json", "'no_such_module' is not a module description"),
        ("qwen2", "tiny-qwen2/nothing.yaml", "is not a Hugging Face config.json"),
    ],
)
def test_binding_mistakes_exit_2_with_one_message(tmp_path, model, config, message):
    import subprocess
    import sys

    args = [sys.executable, "-m", "tttgen", "build", model, "--config", str(DATA / config), "--device", "n150"]
    result = subprocess.run(args + ["--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_paged_qwen3_matches_transformers():
    """The families declare the paged feature too: Qwen3's per-head norms in chunked prefill and paged decode."""
    paged = (("max_seq_len", 256), ("prefill_lens", [128]), ("paged", {"block_size": 32}))
    p = plan(Request(str(DATA / "tiny-qwen3" / "config.json"), "n150", None, paged))
    report = run_verify(p, steps=2, prompt_len=200)  # a two-chunk prompt
    assert report.passed, report.as_dict()
