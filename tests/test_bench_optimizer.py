"""The optimizer benchmark's real-ttnn filtering, with made-up ttnn verdicts (no ttnn needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tttgen.generate import Request, plan
from tttgen.checking.realttnn.oracle import Verdict

ACCEPT = Verdict(True, None, 1000, 0, 1000)
REJECT = Verdict(False, "TT_FATAL @ matmul.cpp:12: in0_block_w\nbacktrace line", 0, 0, 0)


@pytest.fixture(scope="module")
def bench(load_benchmark):
    yield from load_benchmark("optimizer")


@pytest.fixture(scope="module")
def graph():
    flags = (("prefill_lens", [128]), ("max_seq_len", 1024), ("fit_check", False))
    return plan(Request("llama-3.2-1b", "n150", None, flags)).graph


def test_every_policy_is_judged_in_one_call_per_device(bench, graph):
    cases = [c for op in graph.ops_of("linear") for c in bench.policy_cases(graph, op).values() if c is not None]
    calls = []

    def judge(device, oracle_cases, l1_small_size):
        calls.append((device.name, len(oracle_cases), l1_small_size))
        return [ACCEPT] * len(oracle_cases)

    verdicts = bench.judge_all(cases + cases, judge)
    distinct = {bench.oracle_case(c) for c in cases}
    assert calls == [("n150", len(distinct), graph.device.l1_small_size)]
    assert set(verdicts) == {("n150", c) for c in distinct}


def test_oracle_case_carries_the_rules_case_fields(bench, graph):
    op = next(o for o in graph.ops_of("linear") if o.mode == "decode")
    case = bench.tttgen_case(graph, op)
    oc = bench.oracle_case(case)
    assert (oc.shape, oc.program, oc.kernel, oc.in0, oc.in1, oc.out) == (case.shape, case.config, case.kernel, case.in0, case.in1, case.out)
    assert oc.dtypes == (case.in0_dtype, case.in1_dtype, case.out_dtype)


def test_a_rejected_config_leaves_the_comparison_with_ttnn_first_line(bench, graph):
    op = next(o for o in graph.ops_of("linear") if o.mode == "decode")
    case = bench.tt_transformers_case(graph, op)
    rejected = bench.outcome(case, REJECT)
    assert rejected.time_ns is None and rejected.rejected
    assert rejected.excluded == "rejected by ttnn: TT_FATAL @ matmul.cpp:12: in0_block_w"
    accepted = bench.outcome(case, ACCEPT)
    assert accepted.time_ns > 0 and not accepted.rejected and accepted.l1_ttnn == 1000


def test_a_config_the_rules_reject_but_ttnn_accepts_stays_flagged(bench, graph):
    op = next(o for o in graph.ops_of("linear") if o.mode != "decode" and o.name == "wo")
    case = bench.tttgen_case(graph, op)
    bad = replace(case, config=replace(case.config, in0_block_w=case.shape.kt + 1))  # K not divisible
    result = bench.outcome(bad, ACCEPT)
    assert result.rules_illegal and result.time_ns is not None and bench.fmt(result).endswith("*")


def outcomes_for(bench, graph, verdict_of):
    """Outcomes of every matmul with the verdict `verdict_of(policy)`."""
    out = {}
    for op in graph.ops_of("linear"):
        cases = bench.policy_cases(graph, op)
        verdicts = {(c.device.name, bench.oracle_case(c)): verdict_of(p) for p, c in cases.items() if c is not None}
        out[op.key] = bench.op_outcomes(graph, op, cases, verdicts)
    return out


def test_ratios_only_over_pairs_ttnn_accepts_and_failures_are_loud(bench, graph):
    n = len(graph.ops_of("linear"))
    summary: dict = {}
    outs = outcomes_for(bench, graph, lambda p: REJECT if p == "tt_transformers" else ACCEPT)
    bench.matmul_table(graph, outs, [], summary)
    assert "ratio_vs_tt_transformers" not in summary and len(summary["rejected_tt_transformers"]) == n
    lines, ok = bench.summary_lines(summary)
    assert ok and f"- tt_transformers configs rejected by ttnn: {n} of {n}" in lines
    assert f"- tttgen configs rejected by ttnn: 0 of {n} (must be 0)" in lines

    summary = {}
    bench.matmul_table(graph, outcomes_for(bench, graph, lambda p: REJECT if p == "tttgen" else ACCEPT), [], summary)
    lines, ok = bench.summary_lines(summary)
    assert not ok and any(line.startswith("**FAILURE") for line in lines)
    assert "ratio_vs_ttnn_auto" not in summary  # tttgen's side rejected: no pair


def test_l1_claim_below_ttnn_figure_fails(bench, graph):
    summary: dict = {}
    huge = Verdict(True, None, 1 << 30, 0, 1 << 30)
    bench.matmul_table(graph, outcomes_for(bench, graph, lambda p: huge), [], summary)
    lines, ok = bench.summary_lines(summary)
    assert not ok and len(summary["l1_under"]) == summary["l1_compared"] == len(graph.ops_of("linear"))
