"""Issue 11: top-k / top-p sampling on device, the optional part of the decode step's on-device token choice.

- decode_forward(sampling={"top_k", "top_p", "temperature"}) runs `sampled_step`: the decode step, ttnn.topk over
  the logits (32 candidates per user) and ttnn.sampling's draw; only the ids leave the device, as with greedy=True.
- The parameters are per-user step inputs (traced: copied into persistent inputs like the tokens) and are checked
  before any device work. Model.seed_sampling seeds the device's random streams (ttnn.manual_seed).
- verify draws beside every greedy step and judges the draws against the same step's logits; planted bugs in the
  draw must be caught.
"""

import json

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.passes.op_costs import SAMPLING_CANDIDATES, sampling_plan, tail_calls, tail_ns

torch = pytest.importorskip("torch")
TINY = "tests/data/tiny-llama/config.json"
FLAGS = (("prefill_lens", [128]),)


def tiny_with_vocab(tmp_path, vocab):
    config = json.loads(open(TINY).read())
    config.update(_name_or_path=f"tiny-llama-vocab-{vocab}", vocab_size=vocab)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_sampling_plan_follows_the_logits_columns(tmp_path):
    """ttnn.topk runs multi-core only on power-of-two widths below 65536: a Llama vocab goes through it as four
    tile-aligned chunks padded to 32768; a small vocab in one; a vocab off the tile grid gets a -inf mask."""
    big = sampling_plan(plan(Request("llama-3.2-1b", "n150", None, FLAGS)).graph)
    assert big["chunks"] == [(0, 32064), (32064, 64128), (64128, 96192), (96192, 128256)]
    assert (big["chunk_width"], big["pad"], big["vocab_mask"]) == (32768, True, False)
    tiny = sampling_plan(plan(Request(TINY, "n150", None, FLAGS)).graph)
    assert (tiny["chunks"], tiny["chunk_width"], tiny["pad"], tiny["vocab_mask"]) == ([(0, 512)], 512, False, False)
    odd = sampling_plan(plan(Request(tiny_with_vocab(tmp_path, 1001), "n150", None, FLAGS)).graph)
    assert (odd["chunks"], odd["pad"], odd["vocab_mask"]) == ([(0, 1024)], False, True)


@pytest.mark.parametrize(
    "columns, splits, width",
    [(128256, 4, 32768), (151936, 8, 32768), (256000, 8, 32768), (32768, 1, 32768), (49152, 2, 32768), (1056, 1, 2048)],
)
def test_topk_chunks_stay_on_the_multi_core_factory(columns, splits, width):
    """tt-metal #53108 measured these splits (4 x 32768 for 128256, 8 x 32768 for 151936) as the fast ones."""
    from tttgen.cost.measured import topk_multi_core
    from tttgen.tiling import even_chunks, pow2_splits

    got_splits, width_tiles = pow2_splits(columns // 32, 2048)
    assert (got_splits, width_tiles * 32) == (splits, width) and topk_multi_core(width)
    chunks = even_chunks(columns // 32, got_splits)
    assert chunks[0][0] == 0 and chunks[-1][1] == columns // 32 and max(b - a for a, b in chunks) <= width_tiles


def test_topk_is_priced_from_the_published_measurements():
    from tttgen.cost.measured import topk_ns

    assert topk_ns(32768) == pytest.approx(191.5e3) and topk_ns(16384) == pytest.approx(141.875e3)
    assert topk_ns(32064) == pytest.approx(5098e3)  # not a power of two: the single-core factory
    assert topk_ns(65536) > 40 * topk_ns(32768)


def test_sampled_step_is_rendered_from_the_plan(tmp_path):
    files = render_plan(plan(Request("llama-3.2-1b", "n150", None, FLAGS)))
    model, configs = files["model.py"], files["configs.py"]
    step = model[model.index("    def sampled_step(") :]
    assert "ttnn.topk(chunk, k=C.SAMPLING_CANDIDATES, dim=-1, indices_tensor=labels)" in step
    assert "ttnn.pad(" in step and "ttnn.concat(chunk_values, dim=-1)" in step
    assert "ttnn.sampling(candidates, rows, k=top_k, p=top_p, temp=inv_temperature)" in step
    assert "vocab_mask" not in model
    assert f"SAMPLING_CANDIDATES = {SAMPLING_CANDIDATES}" in configs and "SAMPLING_CHUNK_WIDTH = 32768" in configs
    assert "SAMPLING_CHUNKS = ((0, 32064), (32064, 64128), (64128, 96192), (96192, 128256))" in configs
    odd = render_plan(plan(Request(tiny_with_vocab(tmp_path, 1001), "n150", None, FLAGS)))["model.py"]
    assert "ttnn.add(logits, self.vocab_mask)" in odd and "ttnn.slice(logits, [0, 0, 0, start]" not in odd


def test_the_sampled_tail_is_priced_and_has_room_in_the_trace_region():
    p = plan(Request("llama-3.2-1b", "n150", None, FLAGS))
    g = p.graph
    # each tail then writes its ids into the next step's tokens (reshape, copy) and advances positions and rotary
    # rows (two plus_one): the step state stays on device
    assert tail_calls(g, "greedy") == 4 + 2 + 2 and tail_calls(g, "sampled") == 3 + 4 * 3 + 2 + 2 + 2
    # four multi-core topks at their measured 191.5 us and the 27 us draw dominate the sampled tail
    assert 4 * 191.5e3 + 27e3 < tail_ns(g, "sampled") < 4 * 191.5e3 + 27e3 + 400e3
    facts = g.facts
    # the sampling parameters are copied only when they change: in steady state the sampled step moves what the
    # greedy one moves (no input, the ids read back)
    assert facts["sampled_decode_ns"] - tail_ns(g, "sampled") == pytest.approx(
        facts["greedy_decode_ns"] - tail_ns(g, "greedy")
    )
    configs = render_plan(p)["configs.py"]
    region = int(configs.split("TRACE_REGION_SIZE = ")[1].split("\n")[0])
    from tttgen.passes.op_costs import dispatched_ops
    from tttgen.passes.op_costs import TRACE_BYTES_PER_OP

    from tttgen.passes.op_costs import advance_ops

    calls = 3 * dispatched_ops(g, "decode") + len(advance_ops(g)) + tail_calls(g, "greedy") + tail_calls(g, "sampled")
    assert region >= calls * TRACE_BYTES_PER_OP  # the logits, greedy and sampled traces


@pytest.fixture(scope="module")
def tiny_package(tmp_path_factory):
    """The tiny Llama package on the emulator with a seeded random checkpoint, one user prefilled."""
    pytest.importorskip("transformers")
    from tiny_lm import tiny_llama_on_emulator

    with tiny_llama_on_emulator(tmp_path_factory.mktemp("sampled"), "tttgen_sampled_tiny") as (model, package):
        model.prefill_forward(torch.arange(40) % package.configs.VOCAB_SIZE, user_id=0)
        yield model, package


def step_inputs(package, position=40):
    users = package.configs.DECODE_USERS
    return torch.arange(users, dtype=torch.int64) % package.configs.VOCAB_SIZE, torch.full((users,), position)


def test_top_p_zero_and_top_k_one_draw_the_argmax(tiny_package):
    model, package = tiny_package
    tokens, positions = step_inputs(package)
    argmax = model.decode_forward(tokens, positions, traced=False).argmax(dim=-1)
    for params in ({"top_k": 32, "top_p": 0.0, "temperature": 1.0}, {"top_k": 1, "top_p": 1.0, "temperature": 2.0}):
        for traced in (False, True, True):
            ids = model.decode_forward(tokens, positions, traced=traced, sampling=params)
            assert ids.dtype == torch.int64 and torch.equal(ids, argmax), (params, traced)
    assert "sampled_step" in model.decode_traces


def test_draws_stay_in_the_top_k_spread_and_repeat_under_a_seed(tiny_package):
    model, package = tiny_package
    tokens, positions = step_inputs(package)
    logits = model.decode_forward(tokens, positions, traced=False)
    params = {"top_k": 4, "top_p": 1.0, "temperature": 5.0}
    model.seed_sampling(7)
    first = [model.decode_forward(tokens, positions, sampling=params) for _ in range(6)]
    top4 = logits.topk(4, dim=-1).values[:, -1:]
    for ids in first:
        assert bool((logits.gather(1, ids[:, None]) >= top4).all())
    assert len({tuple(ids.tolist()) for ids in first}) > 1  # each replay continues the random streams
    model.seed_sampling(7)
    again = [model.decode_forward(tokens, positions, sampling=params) for _ in range(6)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))


@pytest.mark.parametrize(
    "sampling, message",
    [
        ({"top_k": 5, "top_p": 0.9}, 'keys "top_k", "top_p" and "temperature"'),
        ({"top_k": 0, "top_p": 0.9, "temperature": 1.0}, "top_k must be whole numbers in [1, 32]"),
        ({"top_k": 33, "top_p": 0.9, "temperature": 1.0}, "top_k must be whole numbers in [1, 32]"),
        ({"top_k": 2.5, "top_p": 0.9, "temperature": 1.0}, "top_k must be whole numbers"),
        ({"top_k": 5, "top_p": 1.5, "temperature": 1.0}, "top_p must lie in [0, 1]"),
        ({"top_k": 5, "top_p": 0.9, "temperature": 0.0}, "temperature must be positive"),
        ({"top_k": [5, 6], "top_p": 0.9, "temperature": 1.0}, "must be one value or 32 (one per user slot); got 2"),
    ],
)
def test_bad_sampling_parameters_are_refused_before_device_work(tiny_package, sampling, message):
    model, package = tiny_package
    tokens, positions = step_inputs(package)
    with pytest.raises(ValueError) as err:
        model.decode_forward(tokens, positions, sampling=sampling)
    assert message in str(err.value)


def test_greedy_and_sampling_together_are_refused(tiny_package):
    model, package = tiny_package
    tokens, positions = step_inputs(package)
    with pytest.raises(ValueError, match="pass one of them"):
        model.decode_forward(tokens, positions, greedy=True, sampling={"top_k": 5, "top_p": 0.9, "temperature": 1.0})


def verify_tiny(edit_files=None, steps=8):
    from tttgen.checking.verification import run_verify

    p = plan(Request(TINY, "n150", None, (("max_seq_len", 256), ("prefill_lens", [128]))))
    return run_verify(p, steps=steps, prompt_len=128, edit_files=edit_files)


def test_verify_judges_the_draws():
    report = verify_tiny()
    assert report.passed and report.sampling_failures == [], report.as_dict()


def planted(old, new):
    def edit(files):
        assert old in files["model.py"]
        files["model.py"] = files["model.py"].replace(old, new)
        return files

    return edit


@pytest.mark.parametrize(
    "old, new, expected, steps",
    [
        # every user's top_k raised to the candidates' 32: user 0 draws past its top 4
        ("torch.tensor([int(k) for k in top_k]", "torch.tensor([32 for k in top_k]", "(top_k 4)", 4),
        # every user's top_p raised to 1: user 1 draws outside its nucleus
        (
            "(torch.tensor(top_p, dtype=torch.float32), ttnn.bfloat16)",
            "(torch.tensor([1.0 for p in top_p], dtype=torch.float32), ttnn.bfloat16)",
            "(top_p 0.5)",
            4,
        ),
        # the temperature ignored: the confident model's draws are its argmax
        (
            "torch.tensor([1.0 / t for t in temperature]",
            "torch.tensor([1.0 for t in temperature]",
            "the draw is not sampling",
            8,
        ),
        # every user's top_p dropped to 0: the draw is the argmax and never spreads
        (
            "(torch.tensor(top_p, dtype=torch.float32), ttnn.bfloat16)",
            "(torch.tensor([0.0 for p in top_p], dtype=torch.float32), ttnn.bfloat16)",
            "the draw is not sampling",
            8,
        ),
    ],
)
def test_verify_catches_a_planted_sampling_bug(old, new, expected, steps):
    """A draw past its limit shows within 4 steps; a draw that never spreads needs verify's 8 (MIN_STEPS_FOR_SPREAD)."""
    report = verify_tiny(planted(old, new), steps=steps)
    assert not report.passed
    assert any(expected in failure for failure in report.sampling_failures), report.sampling_failures


def test_the_tails_skip_the_logits_move_ttnn_does_not_make():
    """ttnn 0.81.1's to_memory_config of a DRAM-interleaved tensor to DRAM, and its slice over a whole tensor, return
    the same buffer (probed on the mock device: no allocation, no program): a column-chunked head's logits
    (concatenated in DRAM, exactly the vocab wide) cost the greedy tail only its untilize and argmax, then the ids
    written into the next step's tokens and the two position-like inputs advanced (one id or index per user each)."""
    from tttgen.passes.op_costs import tail_moves

    g = plan(Request("llama-3.1-8b", "n150", None, FLAGS)).graph
    assert g.weight("lm_head").decisions["column_chunks"].count > 1
    moves = tail_moves(g, "greedy")
    assert len(moves) == 2 + 3 and moves[2:] == [("dram", 128, 128)] * 3
    assert all(src == "dram" for src, _, _ in tail_moves(g, "sampled"))


def test_the_fit_check_counts_the_trace_region_and_the_sampling_buffers():
    from tttgen.passes.op_costs import trace_region_bytes

    g = plan(Request("llama-3.1-8b", "n150", None, FLAGS)).graph
    dram = g.facts["dram"]
    labels = 4 * 32 * 32768 * 4  # four chunks' uint32 token ids, one tile row of 32768 columns each
    assert dram["reserved"] == trace_region_bytes(g) + labels
    assert dram["total"] == dram["weights"] + dram["kv_cache"] + dram["activations"] + dram["reserved"]
    module = plan(Request("mlp", "n150")).graph
    # a module package draws nothing; it reserves only its traces' region (forward(..., traced=True))
    assert module.facts["dram"]["reserved"] == trace_region_bytes(module) > 0
