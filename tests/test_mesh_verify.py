"""Tensor-parallel packages on the emulator's mesh equal transformers as on one chip: TP=2 (n300), TP=8 (t3k) and a
2D split (p150x4, 2x2: columns over one axis, rows over the other, the distributed norm); a dropped collective is
caught. Kept small: tiny configs, a 32-token prompt, one decode step."""

import re

import pytest

from tttgen.generate import Request, plan
from tttgen.checking.verification import run_verify

TINY = "tests/data/tiny-llama/config.json"  # 4 heads, 2 KV heads
TINY_TP8 = "tests/data/tiny-llama-tp8/config.json"  # 8 heads, 8 KV heads of 32: one of each per chip on t3k
SMALL = (("max_seq_len", 256), ("prefill_lens", [128]))
# tt_transformers' Galaxy-style 2D layout (multi-device.md: wqkv dims (3, 2), wo (2, 3), w1/w3 (-1, -2), w2 (-2, -1))
TWO_D = {
    "embedding": "replicate/column",
    "wqkv": "column/row",
    "wo": "row/column",
    "w1": "column/row",
    "w3": "column/row",
    "w2": "row/column",
    "lm_head": "column/replicate",
}


def verified(model, device, overrides=None, edit_files=None):
    flags = SMALL + ((("overrides", {k: {"split": v} for k, v in overrides.items()}),) if overrides else ())
    p = plan(Request(model, device, None, flags))
    return p, run_verify(p, steps=1, prompt_len=32, edit_files=edit_files)


@pytest.mark.parametrize("model,device", [(TINY, "n300"), (TINY_TP8, "t3k")])
def test_tensor_parallel_package_matches_transformers(model, device):
    p, report = verified(model, device)
    assert p.graph.facts["mesh"]["strategy"] == "tensor_parallel"
    assert report.passed, report.__dict__
    assert not report.api_findings


def test_2d_split_with_distributed_norm_matches_transformers():
    p, report = verified(TINY, "p150x4", TWO_D)
    weights = p.graph.facts["mesh"]["chosen"]["weights"]
    assert weights["w1"] == ["S-1", "S-2"] and weights["wo"] == ["S-2", "S-1"]
    assert any(op.decisions.get("mesh", {}).get("internal") for op in p.graph.ops_of("rms_norm"))  # distributed
    assert report.passed, report.__dict__


def drop_all_reduces(files):
    """The planted bug: every all_reduce returns a copy of its input, so each chip keeps only its own partial sums."""
    text = re.sub(r"ttnn\.all_reduce\(", "(lambda t, **kw: ttnn.add(t, 0.0))(", files["model.py"])
    assert text != files["model.py"]
    return {**files, "model.py": text}


def test_a_dropped_collective_fails_verify():
    # w2 pinned row-parallel: its partial sums need an all_reduce before the residual add
    p, report = verified(TINY, "n300", {"w2": "row"}, edit_files=drop_all_reduces)
    assert p.graph.ops_of("all_reduce")
    assert not report.passed
