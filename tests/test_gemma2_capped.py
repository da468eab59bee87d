"""Gemma 2 as published: attention scores soft-capped (attn_logit_softcapping) before the mask, which ttnn's SDPA
cannot do, so modules/gemma2_capped*.yaml write the attention out as ttnn ops (sdpa_explicit in prefill,
sdpa_explicit_decode against the KV cache in decode). A tiny config (4 query / 2 KV heads, a window of 32 on every
other layer, a cap of 1.0 so the cap bends most scores) verifies against transformers' Gemma2ForCausalLM on the
emulator, prefill and decode steps past the window; planted bugs in the cap, the window and the decode mask fail
verify; the published Gemma-2-2B config builds and the explicit attention is priced above flash SDPA."""

import json
from pathlib import Path

import pytest

from tttgen.errors import InputError
from tttgen.generate import Request, plan, render_plan
from tttgen.inputs.load import load_model
from tttgen.checking.verification import PCC_ACCURACY, run_verify

DATA = Path(__file__).parent / "data"
CAPPED = DATA / "tiny-gemma2-capped" / "config.json"
GEMMA2_2B = DATA / "hf_configs" / "gemma-2-2b.json"
TINY = (("max_seq_len", 256), ("prefill_lens", [128]), ("precision", "accuracy"))


def tiny_plan(device: str = "n150"):
    return plan(Request(str(CAPPED), device, None, TINY))


def planted(files: dict[str, str], old: str, new: str) -> dict[str, str]:
    assert old in files["model.py"], f"{old!r} is not in model.py"
    return {**files, "model.py": files["model.py"].replace(old, new)}


def test_a_capped_config_binds_the_capped_description():
    spec, _ = load_model(str(CAPPED))
    assert (spec.family, spec.attn_logit_softcapping, spec.description) == ("gemma2", 1.0, "gemma2_capped")
    plain, _ = load_model(str(DATA / "tiny-gemma2" / "config.json"))
    assert (plain.attn_logit_softcapping, plain.description) == (None, "gemma2")  # flash SDPA
    model = render_plan(tiny_plan())["model.py"]
    assert "scaled_dot_product_attention" not in model
    assert model.count("ttnn.matmul(q_rot, attn_k, transpose_b=True") == 1  # prefill: KV heads repeated
    assert model.count("ttnn.matmul(attn_q, k_cache, transpose_b=True") == 1  # decode: q regrouped per KV head
    assert model.count("ttnn.repeat_interleave(k_rot, 2, dim=1)") == 1
    # Wormhole has no ttnn.softcap (Blackhole only in 0.81.1): cap * tanh(s / cap), scores and logits alike
    assert model.count("ttnn.multiply(ttnn.tanh(ttnn.multiply(attn_scores, 1.0)), 1.0)") == 2
    assert "ttnn.softcap(" not in model
    blackhole = render_plan(tiny_plan("p150"))["model.py"]
    assert blackhole.count("ttnn.softcap(attn_scores, 1.0)") == 2 and "ttnn.softcap(scores, 30.0)" in blackhole
    # the window reaches the mask; the layers alternate as gemma2's
    assert model.count("ttnn.ge(attn_dist, window)") == 2 and "256 if (layer + 1) % 2 == 0 else 32" in model


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_tiny_capped_gemma2_matches_transformers(device):
    p = tiny_plan(device)
    assert p.graph.entry.reference.sliding_window == 32 < 128
    report = run_verify(p, steps=2, prompt_len=128)
    assert report.passed, report.as_dict()
    assert min(report.layer_pcc) >= PCC_ACCURACY and report.token_agreement >= 1, report.as_dict()
    assert min(report.decode_logits_pcc) >= PCC_ACCURACY, report.as_dict()


CAP = "attn_scores = ttnn.multiply(ttnn.tanh(ttnn.multiply(attn_scores, 1.0)), 1.0)  # cap * tanh(s / cap)"
# (old, new, whether only decode shows it)
PLANTED = {
    "cap dropped": (CAP, "pass", False),
    # the cap doubled: only the scores it bends differ (prefill logits PCC 0.988 at these dims)
    "cap 2.0 instead of 1.0": (CAP, CAP.replace("1.0)), 1.0)", "0.5)), 2.0)"), False),
    "window dropped": ("attn_hidden = ttnn.add(attn_hidden, ttnn.ge(attn_dist, window))", "pass", False),
    # decode: each user's mask one position early (its newest key hidden, one key past the window shown)
    "decode mask one position off": (
        "ttnn.deallocate(attn_pos)\n",
        "ttnn.deallocate(attn_pos)\n        attn_dist = ttnn.subtract(attn_dist, 1.0)\n",
        True,
    ),
}


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_a_planted_bug_in_the_capped_attention_fails_verify(bug):
    old, new, decode_only = PLANTED[bug]
    steps = 2 if decode_only else 0
    report = run_verify(tiny_plan(), steps=steps, prompt_len=128, edit_files=lambda f: planted(f, old, new))
    assert not report.passed, report.as_dict()
    if decode_only:
        assert min(report.decode_logits_pcc) < PCC_ACCURACY, report.as_dict()
    else:
        assert min(report.layer_pcc + [report.prefill_logits_pcc]) < PCC_ACCURACY, report.as_dict()


def test_gemma_2_2b_published_config_builds():
    spec, info = load_model(str(GEMMA2_2B))
    assert (spec.family, spec.description, spec.attn_logit_softcapping, spec.final_logit_softcapping) == (
        "gemma2", "gemma2_capped", 50.0, 30.0
    )
    assert (spec.hidden_size, spec.num_hidden_layers, spec.num_attention_heads, spec.num_key_value_heads) == (2304, 26, 8, 4)
    assert (spec.sliding_window, spec.sliding_window_pattern, spec.query_pre_attn_scalar) == (4096, 2, 256)
    p = plan(Request(str(GEMMA2_2B), "n150"))  # fits: the default 1024-position cache
    kinds = {op.kind for op in p.graph.ops}
    assert {"sdpa_explicit", "sdpa_explicit_decode"} <= kinds and not {"sdpa", "sdpa_decode"} & kinds


def explicit_vs_flash(seq: int, tmp_path: Path) -> tuple[float, float]:
    """Modeled ns of one prefill attention of Gemma-2-2B at `seq` rows: written out as ops (capped), and flash SDPA
    (the same config with attn_logit_softcapping null)."""
    hints = (("max_seq_len", seq), ("prefill_lens", [seq]))
    times = []
    for cap in (50.0, None):
        data = {**json.loads(GEMMA2_2B.read_text()), "attn_logit_softcapping": cap}
        path = tmp_path / f"gemma2-{cap}-{seq}.json"
        path.write_text(json.dumps(data))
        g = plan(Request(str(path), "n150", None, hints)).graph
        times.append(g.op(f"prefill_{seq}.sdpa").decisions["time_ns"])
    return times[0], times[1]


def test_the_explicit_attention_is_priced_above_flash_sdpa(tmp_path):
    for seq in (128, 1024):
        explicit, flash = explicit_vs_flash(seq, tmp_path)
        assert explicit > flash > 0, (seq, explicit, flash)


def test_attention_capping_is_refused_where_no_capped_description_exists(tmp_path):
    data = {**json.loads((DATA / "hf_configs" / "gemma-3-1b.json").read_text()), "attn_logit_softcapping": 50.0}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        load_model(str(path))
    assert "field 'attn_logit_softcapping': 50.0 is not supported for gemma3 (allowed: null; a positive number only for gemma2" in str(err.value)


def test_a_paged_build_of_the_capped_description_is_refused(tmp_path):
    """The capped attention reads unpaged caches only: gemma2_capped declares no `paged` feature, so --paged is
    refused by name (exit 2, nothing written)."""
    import subprocess
    import sys

    args = [sys.executable, "-m", "tttgen", "build", str(CAPPED), "--device", "n150", "--ttnn-check", "off"]
    args += ["--out", str(tmp_path), "--max-seq-len", "256", "--prefill-lens", "128", "--paged"]
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "gemma2_capped: has no feature 'paged'" in result.stderr and "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())
