"""Strict inputs: one test per kind of mistake, each a clear message with exit code 2 and no traceback."""

import json
import subprocess
import sys

import pytest
import yaml

from tttgen.errors import InputError
from tttgen.inputs.hints import Hints, OpOverride
from tttgen.inputs.load import load_device, load_hints, load_model

TTTGEN = [sys.executable, "-m", "tttgen"]


def run_cli(*args, cwd=None):
    return subprocess.run(TTTGEN + list(args), capture_output=True, text=True, cwd=cwd)


def write_device(tmp_path, **changes):
    data = yaml.safe_load(open("device_profiles/n150.yaml"))
    data.update(changes)
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_device_unknown_field(tmp_path, root):
    with pytest.raises(InputError, match=r"dev.yaml: field 'speed': unknown field"):
        load_device(str(write_device(tmp_path, speed=3)))


def test_device_bad_literal_names_allowed_values(tmp_path):
    with pytest.raises(InputError, match=r"field 'arch'.*'grayskull', 'wormhole_b0' or 'blackhole'"):
        load_device(str(write_device(tmp_path, arch="quasar")))


def test_device_missing_field(tmp_path):
    path = write_device(tmp_path)
    data = yaml.safe_load(path.read_text())
    del data["clock_ghz"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="field 'clock_ghz': required field is missing"):
        load_device(str(path))


def test_no_device_alias_is_a_profile_name():
    """load_device tries a profile's own file before the aliases: right only while no alias names a profile."""
    from tttgen.inputs.load import _device_aliases, device_names

    assert _device_aliases() and not set(_device_aliases()) & set(device_names())
    assert load_device("blackhole")[0] == load_device("p150")[0]


def test_unknown_device_lists_allowed():
    with pytest.raises(InputError, match=r"unknown device 'wormhole_c0'.*allowed: .*n150.*wormhole_b0"):
        load_device("wormhole_c0")


def test_unknown_model_lists_allowed():
    with pytest.raises(InputError, match=r"unknown model 'llama-9'.*llama-3.1-8b"):
        load_model("llama-9")


def test_model_yaml_bad_dims(tmp_path):
    data = yaml.safe_load(open("model_specs/llama-3.2-1b.yaml"))
    data["num_key_value_heads"] = 7
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="must be a multiple of num_key_value_heads"):
        load_model(str(path))


HF = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 256,
    "intermediate_size": 512,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "vocab_size": 512,
    "max_position_embeddings": 2048,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "attention_bias": False,
}


def write_hf(tmp_path, **changes):
    data = {**HF, **changes}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


def test_hf_config_accepted(tmp_path):
    spec, info = load_model(str(write_hf(tmp_path)))
    assert spec.head_dim == 64 and spec.family == "llama" and info.sha256


def test_hf_unsupported_architecture(tmp_path):
    with pytest.raises(InputError, match=r"architectures.*GPT2LMHeadModel.*allowed: \[\"LlamaForCausalLM\"\] or \[\"MistralForCausalLM\"\]"):
        load_model(str(write_hf(tmp_path, architectures=["GPT2LMHeadModel"])))


def test_hf_unsupported_field(tmp_path):
    with pytest.raises(InputError, match="field 'num_experts': not supported"):
        load_model(str(write_hf(tmp_path, num_experts=8)))


def test_hf_unsupported_value(tmp_path):
    with pytest.raises(InputError, match=r"field 'mlp_bias': value true is not supported.*allowed: false"):
        load_model(str(write_hf(tmp_path, mlp_bias=True)))


def test_hf_wrong_activation(tmp_path):
    with pytest.raises(InputError, match="field 'hidden_act'"):
        load_model(str(write_hf(tmp_path, hidden_act="gelu")))


def test_hints_batch_range():
    with pytest.raises(InputError, match="field 'batch'"):
        load_hints(None, {"batch": 33})


def test_hints_prefill_multiple_of_128():
    with pytest.raises(InputError, match="not a positive multiple of 128"):
        load_hints(None, {"prefill_lens": [100]})


def test_hints_yaml_unknown_key(tmp_path):
    path = tmp_path / "hints.yaml"
    path.write_text("batch: 4\nspeed: fast\n")
    with pytest.raises(InputError, match=r"hints.yaml: field 'speed': unknown field"):
        load_hints(path, {})


def test_override_normalisation():
    assert OpOverride(memory="DDR").memory == "DRAM"
    assert OpOverride(memory="sram").memory == "L1"
    assert OpOverride(dtype="bfp8").dtype == "bfloat8_b"
    assert OpOverride(fidelity="hifi4").fidelity == "HiFi4"


def test_override_unknown_value_lists_allowed():
    with pytest.raises(InputError, match=r"overrides.wqkv.memory.*'HBM' is not one of DRAM, L1"):
        load_hints(None, {"overrides": {"wqkv": {"memory": "HBM"}}})


def test_cli_bad_input_exit_2_no_traceback():
    result = run_cli("build", "llama", "--device", "quasar", "--out", "/tmp/never-written")
    assert result.returncode == 2
    assert "error: --device: unknown device 'quasar'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_unknown_override_op(tmp_path):
    result = run_cli("build", "llama-3.2-1b", "--device", "n150", "--override", "wqkx:fidelity=HiFi4", "--out", str(tmp_path))
    assert result.returncode == 2 and "override names unknown op 'wqkx'" in result.stderr
    assert not any(tmp_path.iterdir())


def test_hints_defaults():
    hints = Hints()
    assert hints.batch == 1 and hints.precision == "accuracy" and hints.prefill_lens == (128, 1024)
