"""The decode benchmark's arithmetic, with made-up ttnn verdicts and a fixed host-sampling time (no ttnn, no
timing in tests)."""

from __future__ import annotations

import pytest

from tttgen.checking.realttnn.oracle import Verdict

ACCEPT = Verdict(True, None, 1000, 0, 1000)


@pytest.fixture(scope="module")
def bench(load_benchmark):
    yield from load_benchmark("decode")


def judge(device, cases, l1_small):
    return [ACCEPT] * len(cases)


def test_one_row_per_model_and_the_goals_named(bench):
    lines = bench.report(rows=(("llama-3.2-1b", "n150"),), judge=judge, sampling_ms=lambda vocab: 2.0)
    rows = [line for line in lines if line.startswith("| llama-3.2-1b | n150 |")]
    assert len(rows) == 3  # the greedy table's row, the sampled one's, the host transfers per token
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    tt_dev, tt_host, tt_step = (float(x) for x in cells[3].replace("+", "=").split("="))
    ours_dev, ours_host, ours_step = (float(x) for x in cells[6].replace("+", "=").split("="))
    assert tt_dev + tt_host == pytest.approx(tt_step, abs=0.011)
    assert tt_host > 10 * ours_host  # the demo reads 8 MiB of logits; the emitted step reads 32 ids
    assert float(cells[8].split()[0]) == pytest.approx(tt_step / ours_step, abs=0.01)
    assert any(line.startswith("- host sampling") and "2.00 ms" in line for line in lines)
    assert any(line.startswith("- NOT MET") or line == "- all met" for line in lines)
    sampled = [c.strip() for c in rows[1].strip("|").split("|")]
    drawn_dev, drawn_host, drawn_step = (float(x) for x in sampled[2].replace("+", "=").split("="))
    assert drawn_dev + drawn_host == pytest.approx(drawn_step, abs=0.011)
    # the draw adds four multi-core topks (191.5 us each, measured) and the 27 us sampling kernel to the step
    assert 500 < float(sampled[4]) < 1500  # device us over the greedy step: four 191.5 us topks and the draw
    # the sampling parameters are copied only when they change: in steady state the draw moves what greedy moves
    assert drawn_host == pytest.approx(ours_host, abs=0.011)
    assert float(sampled[5]) == pytest.approx(tt_step / drawn_step, abs=0.01)
    transfers = [c.strip() for c in rows[2].strip("|").split("|")]
    assert transfers[2].startswith("3 + 1 = ") and transfers[3].startswith("0 + 1 = ") and transfers[4] == "yes"
    assert float(transfers[2].split("=")[1]) > float(transfers[3].split("=")[1])


def test_roofline_counts_every_decode_weight_and_the_kv_cache(bench):
    from tttgen.generate import Request, plan

    graph = plan(Request("llama-3.2-1b", "n150", None, bench.FLAGS)).graph
    m, dev = graph.entry.reference, graph.device
    h, f, layers = m.hidden_size, m.intermediate_size, m.num_hidden_layers
    qkv = (m.num_attention_heads + 2 * m.num_key_value_heads) * m.head_dim
    t = dev.tile_bytes  # performance preset: FF1/FF3 bfloat4, the rest bfloat8 (head included)
    per_layer = (h * qkv + h * m.num_attention_heads * m.head_dim + h * f) * t["bfloat8_b"] + 2 * h * f * t["bfloat4_b"]
    head = h * ((m.vocab_size + 31) // 32 * 32) * t["bfloat8_b"]
    kv = 2 * layers * 32 * m.num_key_value_heads * bench.KV_LEN * m.head_dim * t[graph.facts["kv_dtype"]]
    assert bench.roofline_bytes(graph) == (layers * per_layer + head + kv) // 1024
