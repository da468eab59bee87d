"""The optimizer: a hand-checked case per family, seeds, determinism, work partition, objective."""

import json

import pytest
from click.testing import CliRunner

from plan_cache import cached_files, cached_plan
from tttgen.cli import cli
from tttgen.errors import PipelineError
from tttgen.ir.configs import DRAM_INTERLEAVED, MATMUL_1D, MATMUL_2D, MATMUL_DRAM_SHARDED, ComputeKernelConfig, MatmulShape
from tttgen.objective import token_weight
from tttgen.passes.matmul_program import search
from tttgen.passes.memory import dram_sharded_weight
from tttgen.render.plan_json import validate
from tttgen.rules.matmul import MatmulCase, matmul_violations
from tttgen.inputs.load import load_device

N150, _ = load_device("n150")
HIFI2 = ComputeKernelConfig("HiFi2", False, False, True)
DTYPES = ("bfloat16", "bfloat8_b", "bfloat16")


def best_of(shape, in1, decode):
    best, rejected, pruned = search(N150, shape, HIFI2, DTYPES, in1, decode)
    assert best is not None
    case = MatmulCase(N150, shape, best.config, HIFI2, best.extra["in0"], in1, best.extra["out"], *DTYPES)
    assert matmul_violations(case) == []
    assert all(r.time_ns >= best.time_ns for r in rejected)
    return best, pruned


def test_decode_with_dram_sharded_weight_picks_dram_sharded():
    # 32 x 2048 x 2048, weight over 12 banks: one bank-adjacent reader per bank is the fastest way to
    # stream the weight, and the activation (one tile of rows) fits any width-sharded grid.
    best, _ = best_of(MatmulShape(32, 2048, 2048), dram_sharded_weight(2048, 2048, N150), True)
    assert best.config.type == MATMUL_DRAM_SHARDED and best.config.per_core_M == 1
    assert best.note == "dram"


def test_large_square_prefill_is_2d_and_compute_bound():
    best, pruned = best_of(MatmulShape(2048, 2048, 2048), DRAM_INTERLEAVED, False)
    assert best.config.type == MATMUL_2D and best.config.grid == (8, 8)
    assert best.note == "compute"
    assert pruned  # some candidates were removed by rules (L1, DST, ...)


def test_narrow_wide_prefill_uses_1d():
    # One tile of rows times a wide weight: 2D would leave grid rows idle; 1D spreads N over all cores.
    best, _ = best_of(MatmulShape(32, 2048, 16384), DRAM_INTERLEAVED, False)
    assert best.config.type == MATMUL_1D and best.config.mcast_in0


def test_search_is_deterministic():
    shape = MatmulShape(1024, 4096, 4096)
    a = search(N150, shape, HIFI2, DTYPES, DRAM_INTERLEAVED, False)
    b = search(N150, shape, HIFI2, DTYPES, DRAM_INTERLEAVED, False, ())
    assert a[0].config == b[0].config and a[0].time_ns == b[0].time_ns


def test_never_slower_than_a_legal_seed():
    shape = MatmulShape(1024, 2048, 8192)
    from tttgen.baselines.tt_transformers import matmul_config

    seed = matmul_config(1024, 2048, 8192, (8, 8), True)
    with_seed, _, _ = search(N150, shape, HIFI2, DTYPES, DRAM_INTERLEAVED, False, ((seed, DRAM_INTERLEAVED, DRAM_INTERLEAVED),))
    from tttgen.scoring import matmul_time_ns

    seed_time = matmul_time_ns(MatmulCase(N150, shape, seed, HIFI2, DRAM_INTERLEAVED, DRAM_INTERLEAVED, DRAM_INTERLEAVED, *DTYPES)).total_ns
    assert with_seed.time_ns <= seed_time


def test_plan_json_covers_every_output_tile_once():
    plan_doc = json.loads(cached_files("llama-3.2-1b", "n150")["plan.json"])
    assert plan_doc["matmuls"]
    for entry in plan_doc["matmuls"]:
        validate(entry["op"], entry["blocks"], entry["m_tiles"], entry["n_tiles"])


def test_plan_validation_rejects_overlap():
    blocks = [{"core": 0, "m": [0, 1], "n": [0, 2]}, {"core": 1, "m": [0, 1], "n": [1, 2]}]
    with pytest.raises(PipelineError, match="other than exactly once"):
        validate("x", blocks, 1, 2)


def test_objective_weights_follow_the_optimize_hint():
    graph = cached_plan("llama-3.2-1b", "n150")
    latency = graph.graph
    decode = latency.op("decode.w1")
    prefill = latency.op("prefill_1024.w1")
    assert token_weight(latency, decode) == 1.0 and token_weight(latency, prefill) == 1 / 1024
    throughput = cached_plan("llama-3.2-1b", "n150", (("batch", 32), ("optimize", "throughput"))).graph
    assert token_weight(throughput, throughput.op("decode.w1")) == 1 / 32


def test_every_op_has_a_modeled_time_and_the_totals_add_up():
    graph = cached_plan("llama-3.2-1b", "n150").graph
    layers = graph.entry.reference.num_hidden_layers
    for key, total in graph.facts["mode_time_ns"].items():
        expected = sum(op.decisions["time_ns"] * (layers if op.scope == "layer" else 1) for op in graph.ops if op.mode_key == key)
        assert total == pytest.approx(expected)


def test_explain_html_has_a_roofline_image():
    result = CliRunner().invoke(cli, ["explain", "llama-3.2-1b", "--device", "n150", "--format", "html"])
    assert result.exit_code == 0
    assert "<svg" in result.output and "<circle" in result.output and "HiFi2 peak" in result.output
    assert "decode.wqkv" in result.output


def test_prefill_reads_a_dram_sharded_weight_with_2d_only():
    # 1D mcast_in0 cannot read a weight sharded over the DRAM banks (ttnn 0.81.1 rejects it), 2D can
    shape = MatmulShape(128, 2048, 3072)
    best, pruned = best_of(shape, dram_sharded_weight(2048, 3072, N150), False)
    assert best.config.type == MATMUL_2D
    assert dict(pruned).get("r28_dram_sharded_weight_family", 0) > 0
    assert best_of(shape, DRAM_INTERLEAVED, False)[0].config.type == MATMUL_1D


def test_subblocks_stay_within_the_didt_cap():
    # without fp32 accumulation DST holds 8 tiles, but no chosen subblock exceeds the profile's 4
    best, _ = best_of(MatmulShape(2048, 2048, 2048), DRAM_INTERLEAVED, False)
    assert best.config.out_subblock_h * best.config.out_subblock_w == N150.max_subblock_tiles_didt == 4

