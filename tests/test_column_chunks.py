"""A weight too wide to DRAM-shard whole (an LM head over a Llama-3 vocabulary) is stored as column chunks: each
chunk DRAM-sharded with its own matmul, the outputs joined. The choice is the memory pass's, by modeled cost."""

from __future__ import annotations

import json

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.passes.memory import ColumnChunks, chunk_width
from tttgen.passes.op_costs import calls_of
from tttgen.inputs.load import load_device

N150, _ = load_device("n150")
FLAGS = (("prefill_lens", [128]), ("max_seq_len", 1024), ("fit_check", False))
TINY = (("max_seq_len", 256), ("prefill_lens", [128]), ("overrides", {"lm_head": {"sharding": "column_chunks"}}))


@pytest.fixture(scope="module")
def wide_vocab(tmp_path_factory):
    """The tiny test Llama with Llama-3's vocabulary: a [256, 128256] head, which no DRAM-sharded config holds
    whole on n150 (interleaved models faster at this width, so the test pins chunking with an override)."""
    config = json.loads(open("tests/data/tiny-llama/config.json").read())
    config.update(vocab_size=128256, tie_word_embeddings=True)
    path = tmp_path_factory.mktemp("wide") / "config.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def chunked_vocab(tmp_path_factory):
    """The tiny test Llama with a 32000-token vocabulary, for the emulator: the pinned override stores its head as two
    column chunks whose padded width (2 x 16128) is sliced back to 32000, the same calls as Llama-3's four chunks at
    a quarter of the emulator's cost."""
    config = json.loads(open("tests/data/tiny-llama/config.json").read())
    config.update(vocab_size=32000, tie_word_embeddings=True)
    path = tmp_path_factory.mktemp("chunked") / "config.json"
    path.write_text(json.dumps(config))
    return path


def test_chunk_width_is_whole_tiles_per_bank():
    assert chunk_width(128256, 6, N150) == 21504  # 4008 tiles / 6 -> 668, up to 12 banks -> 672 tiles
    assert chunk_width(128256, 6, N150) % (32 * N150.dram.banks) == 0
    assert 6 * chunk_width(128256, 6, N150) >= 128256


def test_the_8b_head_on_n150_is_chunked_and_faster_than_interleaved():
    graph = plan(Request("llama-3.1-8b", "n150", None, FLAGS)).graph
    chunks = graph.weight("lm_head").decisions["column_chunks"]
    assert isinstance(chunks, ColumnChunks) and chunks.count > 1
    placement = graph.weight("lm_head").decisions["placement"]
    assert placement.buffer == "DRAM" and placement.layout == "WIDTH_SHARDED"
    assert placement.shard_shape == (4096, chunks.width // N150.dram.banks)
    head = graph.op("decode.lm_head")
    d = head.decisions
    assert d["column_chunks"] == chunks.count and d["shape"].n == chunks.width
    assert d["program"].type == "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig"
    # every chunk's matmul, a move to DRAM each, the concat and the slice of the padding
    assert calls_of(head) == 2 * chunks.count + 2
    # prefill's head reads one tile of rows: the same chunk configs, its input moved out of DRAM first (one call more)
    prefill = graph.op("prefill_128.lm_head")
    assert prefill.decisions["program"] == d["program"] and calls_of(prefill) == calls_of(head) + 1
    assert prefill.decisions["time_ns"] < 1.1 * d["time_ns"]
    # the same head whole and interleaved (p150's choice) models slower on n150: chunking won on cost
    assert d["time_ns"] < 3.0e6
    p150 = plan(Request("llama-3.1-8b", "p150", None, FLAGS)).graph
    assert p150.weight("lm_head").decisions["column_chunks"] is None  # interleaved models faster there


def test_rendered_head_runs_each_chunk_then_joins(wide_vocab):
    p = plan(Request(str(wide_vocab), "n150", None, TINY))
    chunks = p.graph.weight("lm_head").decisions["column_chunks"]
    assert chunks is not None
    files = render_plan(p)
    assert f'"lm_head": ({chunks.count}, {chunks.width}),' in files["configs.py"]
    model = files["model.py"]
    # the chunks differ only in their columns: one loop over them per mode, not one call each
    assert model.count('for lm_head_columns in self.w["lm_head"]:') == len(p.graph.mode_keys())
    assert 'self.w["lm_head"][' not in model
    assert "ttnn.concat(logits_chunks," in model and "# the last chunk's zero padding" in model
    # prefill's head (the prompt's last tile) runs the decode configs on its input moved out of DRAM once
    prefill = p.graph.op("prefill_128.lm_head").decisions
    assert prefill["in0_moved"] and prefill["in0"].buffer == "L1" and prefill["in0"].sharded
    assert model.count("h_norm_l1 = ttnn.to_memory_config(") == 1 and "C.Prefill128.lm_head_input_memory" in model
    assert not p.graph.op("decode.lm_head").decisions["in0_moved"]


def test_chunked_head_matches_transformers_on_the_emulator(chunked_vocab):
    pytest.importorskip("transformers")
    from tttgen.checking.verification import run_verify

    p = plan(Request(str(chunked_vocab), "n150", None, TINY))
    chunks = p.graph.weight("lm_head").decisions["column_chunks"]
    assert chunks is not None and chunks.count == 2 and chunks.count * chunks.width > 32000
    report = run_verify(p, steps=3, prompt_len=128)
    assert report.passed, report.as_dict()

    def drop_last_chunk(files):  # a planted bug: the last chunk's columns never computed
        model = files["model.py"]
        joined = "ttnn.concat(logits_chunks,"
        assert joined in model
        files["model.py"] = model.replace(joined, "ttnn.concat(logits_chunks[:-1] + logits_chunks[-2:-1],")
        return files

    bad = run_verify(p, steps=1, prompt_len=128, edit_files=drop_last_chunk)
    assert not bad.passed


def test_without_the_override_the_narrow_head_stays_interleaved(wide_vocab):
    p = plan(Request(str(wide_vocab), "n150", None, TINY[:2]))
    assert p.graph.weight("lm_head").decisions["column_chunks"] is None


def test_column_chunks_override_refused_where_no_chunking_runs():
    """The mlp module's linears take a bias, which the chunked call does not pass: the pin is refused."""
    from tttgen.errors import InputError

    with pytest.raises(InputError, match="no column chunking"):
        plan(Request("mlp", "n150", None, (("overrides", {"fc1": {"sharding": "column_chunks"}}),)))
