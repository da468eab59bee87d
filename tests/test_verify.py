"""Numerics: generated packages on the ttnn CPU emulator against Hugging Face transformers."""

import json

import pytest
import yaml

from tttgen.generate import Request, plan
from tttgen.checking.verification import PCC_ACCURACY, PCC_PERFORMANCE, run_verify

TINY = (("max_seq_len", 256), ("prefill_lens", [128]))


def verify(model, device, precision, **kw):
    p = plan(Request(model, device, None, TINY + (("precision", precision),)))
    return run_verify(p, steps=8, prompt_len=128, **kw)


@pytest.mark.parametrize("device", ["n150", "p150"])
@pytest.mark.parametrize("precision, threshold", [("accuracy", PCC_ACCURACY), ("performance", PCC_PERFORMANCE)])
def test_tiny_llama_matches_transformers(device, precision, threshold):
    report = verify("tests/data/tiny-llama/config.json", device, precision)
    assert report.prefill_logits_pcc >= threshold, report.as_dict()
    assert min(report.decode_logits_pcc) >= threshold, report.as_dict()
    assert min(report.layer_pcc) >= threshold, report.as_dict()
    assert report.token_agreement >= 7, report.as_dict()
    assert report.passed


def test_mistral_config_matches_transformers():
    report = verify("tests/data/tiny-mistral/config.json", "n150", "accuracy")
    assert report.passed and report.token_agreement >= 7, report.as_dict()


def test_llama_3_2_1b_layer_matches(tmp_path):
    """One decoder layer at real Llama-3.2-1B dimensions (a small vocabulary keeps the head cheap)."""
    spec = yaml.safe_load(open("model_specs/llama-3.2-1b.yaml"))
    spec.update(name="llama-3.2-1b-one-layer", num_hidden_layers=1, vocab_size=512, tie_word_embeddings=False)
    path = tmp_path / "one-layer.yaml"
    path.write_text(yaml.safe_dump(spec))
    p = plan(Request(str(path), "n150", None, TINY))
    report = run_verify(p, steps=2, prompt_len=128)
    assert len(report.layer_pcc) == 1 and report.layer_pcc[0] >= 0.99, report.as_dict()


def test_a_planted_bug_is_caught():
    """Skip the rotate-half -> adjacent-pair permutation of Q/K: the comparison must fail."""

    def drop_permutation(files):
        lines = files["weights.py"].splitlines(keepends=True)
        permute = next(i for i, line in enumerate(lines) if "w_wqkv_part0 = w_wqkv_part0.reshape(" in line)
        del lines[permute]  # q rows stay in rotate-half order
        files["weights.py"] = "".join(lines)
        return files

    report = verify("tests/data/tiny-llama/config.json", "n150", "accuracy", edit_files=drop_permutation)
    assert not report.passed
    assert min(report.layer_pcc) < PCC_ACCURACY


def test_cli_verify_json(tmp_path):
    from click.testing import CliRunner

    from tttgen.cli import cli

    result = CliRunner().invoke(
        cli,
        [
            "verify",
            "--config",
            "tests/data/tiny-llama/config.json",
            "--device",
            "p150",
            "--prefill-lens",
            "128",
            "--max-seq-len",
            "256",
            "--steps",
            "2",
            "--json",
        ],
    )
    data = json.loads(result.output[result.output.index("{") :])
    assert result.exit_code == 0 and data["passed"] and data["steps"] == 2


def test_vocab_off_the_tile_grid_matches_transformers(tmp_path):
    """Vocabulary 1001: weights.py pads embedding and LM head to 1024 rows, model.py slices the logits back."""
    from click.testing import CliRunner

    from tttgen.cli import cli

    config = json.loads(open("tests/data/tiny-llama/config.json").read())
    config.update(_name_or_path="tiny-llama-vocab-1001", vocab_size=1001)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    p = plan(Request(str(path), "n150", None, TINY))
    assert p.graph.op("decode.lm_head").shape.n == p.graph.op("prefill_128.lm_head").shape.n == 1024
    args = [
        "verify",
        "--config",
        str(path),
        "--device",
        "n150",
        "--prefill-lens",
        "128",
        "--max-seq-len",
        "256",
        "--steps",
        "4",
        "--json",
    ]
    result = CliRunner().invoke(cli, args)
    data = json.loads(result.output[result.output.index("{") :])
    assert result.exit_code == 0 and data["passed"] and data["token_agreement"] >= 3, data
