"""The ttnn sweep benchmark's sampling and report code, on a handful of cases with made-up ttnn verdicts."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from tttgen.ir.configs import MATMUL_1D, MATMUL_DRAM_SHARDED, ComputeKernelConfig, MatmulShape
from tttgen.passes.matmul_program import L1Reserve, search
from tttgen.rules.matmul import matmul_violations
from tttgen.inputs.load import load_device


@pytest.fixture(scope="module")
def sweep(load_benchmark):
    yield from load_benchmark("ttnn_sweep")


@pytest.fixture(scope="module")
def n150():
    return load_device("n150")[0]


def decode_problem(sweep, storage="sharded", bias=None, activation=None):
    kernel = ComputeKernelConfig("HiFi2", False, True, True)
    return sweep.Problem(
        MatmulShape(32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), kernel, storage, True, "test", bias,
        activation,
    )


def test_candidates_are_taken_before_the_rules_prune(sweep, n150):
    samples = sweep.candidate_samples(n150, decode_problem(sweep))
    assert {s.config.type for s in samples} == {MATMUL_1D, MATMUL_DRAM_SHARDED}
    assert any(s.legal for s in samples) and any(not s.legal for s in samples)
    for s in samples[:50]:
        assert list(s.violations) == matmul_violations(sweep.rules_case(n150, s.problem, s.config, s.in0, s.in1, s.out))
    # a DRAM width-sharded weight read by 1D is rejected by the family rule, so the sample holds it
    assert "r28_dram_sharded_weight_family" in {s.first_rule for s in samples}


def test_candidates_carry_the_linears_bias_activation_and_the_searchs_verdict(sweep, n150):
    """A biased GELU linear: every candidate fuses the activation and claims the bias CB; the search's choice and
    runners-up are the ones `search` keeps for the problem with the bias budgeted."""
    plain = {(s.config, s.in0, s.out): s for s in sweep.candidate_samples(n150, decode_problem(sweep))}
    biased = sweep.candidate_samples(n150, decode_problem(sweep, bias="bfloat16", activation="GELU"))
    assert {s.config.fused_activation for s in biased} == {"GELU"}
    for s in biased[:50]:
        twin = plain[(replace(s.config, fused_activation=None), s.in0, s.out)]
        assert s.l1_claim > twin.l1_claim  # the bias CB
        assert list(s.violations) == matmul_violations(sweep.rules_case(n150, s.problem, s.config, s.in0, s.in1, s.out))
    chosen = [s for s in biased if s.role == "chosen"]
    runners_up = [s for s in biased if s.role == "runner-up"]
    assert len(chosen) == 1 and len(runners_up) == 3 and all(s.legal for s in chosen + runners_up)
    p = biased[0].problem
    best, _, _ = search(n150, p.shape, p.kernel, p.dtypes, chosen[0].in1, True, (), L1Reserve(bias_dtype="bfloat16"))
    assert (replace(best.config, fused_activation="GELU"), best.extra["in0"]) == (chosen[0].config, chosen[0].in0)


def test_problems_draw_linears_with_and_without_bias_and_activation(sweep):
    rng = random.Random("unit")
    problems = [sweep.sample_problem(rng) for _ in range(200)]
    assert {p.bias for p in problems} == {None, "bfloat16", "bfloat8_b"}
    assert {p.activation for p in problems} == {None, "GELU", "SILU", "RELU"}
    assert {(p.decode, p.bias is None, p.activation is None) for p in problems} == {
        (d, b, a) for d in (True, False) for b in (True, False) for a in (True, False)
    }


def test_sampling_is_seeded_and_stratified(sweep, n150):
    first = sweep.sample_device(n150, 60, seed="unit")
    assert len(first) >= 60
    assert first == sweep.sample_device(n150, 60, seed="unit")
    assert first != sweep.sample_device(n150, 60, seed="other")
    picked = sweep.stratified(random.Random(0), sweep.candidate_samples(n150, decode_problem(sweep)))
    per_stratum = {}
    for s in picked:
        if s.role == "candidate":  # the search's choice and runners-up are always sent, beside the strata
            per_stratum[(s.family, s.first_rule)] = per_stratum.get((s.family, s.first_rule), 0) + 1
    assert sorted(s.role for s in picked if s.role != "candidate") == ["chosen", "runner-up", "runner-up", "runner-up"]
    for (family, rule), count in per_stratum.items():
        assert count <= (sweep.LEGAL_PER_FAMILY if rule == "legal" else sweep.ILLEGAL_PER_RULE)


def test_message_key_groups_one_cause_across_numbers(sweep):
    a = (
        "TT_THROW @ /project/tt_metal/impl/dataflow_buffer/dataflow_buffer.cpp:3087: tt::exception | info: | "
        "Statically allocated dataflow buffers on core range [0-0 - 7-0] grow to 19666272 B which is beyond max L1 "
        "size of 1499136 B"
    )
    b = a.replace("19666272", "1740640").replace("7-0]", "7-3]")
    assert sweep.message_key(a) == sweep.message_key(b)
    assert sweep.message_key(a).startswith("dataflow_buffer.cpp:#: Statically allocated dataflow buffers")
    assert sweep.message_key("construct: bad argument 3\nmore") == "construct: bad argument #"
    assert sweep.percentile([5, 1, 4, 2, 3], 0.9) == 5 and sweep.percentile([1, 2, 3, 4], 0.5) == 2


@pytest.fixture(scope="module")
def fake(sweep, n150):
    """Two legal and two rejected candidates with chosen ttnn verdicts: one of each cell, and more."""
    samples = sweep.candidate_samples(n150, decode_problem(sweep))
    legal = [replace(s, role="candidate") for s in samples if s.legal][:3]
    illegal = [s for s in samples if s.first_rule == "r28_dram_sharded_weight_family"][:2]
    fatal = "TT_FATAL @ /x/dfb.cpp:55: cond | info: | DFB 'in1' borrows memory {} times"
    return [
        # both accept; ttnn's figure is tttgen's less the L1-sharded in0 (an input ttnn does not count): exact
        sweep.Judged(legal[0], True, None, legal[0].l1_claim - legal[0].in0_shard),
        sweep.Judged(legal[1], True, None, legal[1].l1_claim * 2),  # both accept, tttgen at half ttnn's figure
        sweep.Judged(legal[2], False, fatal.format(3), 0),  # false legal
        sweep.Judged(illegal[0], True, None, 1000),  # false illegal
        sweep.Judged(illegal[1], False, fatal.format(4), 0),  # both reject
    ]


def test_confusion_groups_and_goals(sweep, fake):
    assert sweep.confusion(fake) == {(True, True): 2, (True, False): 1, (False, True): 1, (False, False): 1}
    [(message, count, example)] = sweep.false_legal(fake)
    assert (message, count, example) == ("dfb.cpp:#: DFB 'in1' borrows memory # times", 1, fake[2])
    assert sweep.false_illegal(fake) == [("r28_dram_sharded_weight_family", 1, fake[3])]
    st = sweep.l1_stats(fake)
    assert (st.both, st.below, st.exact, st.max_ratio, st.worst) == (2, 1, 1, 2.0, fake[1])
    assert fake[0].sample.in0_shard > 0
    assert st.p90_ratio == 2.0 and st.median_ratio == pytest.approx((2.0 + sweep.l1_ratio(fake[0])) / 2)
    assert st.min_ratio == st.p10_ratio == sweep.l1_ratio(fake[0]) < 1
    [(where, n, worst)] = sweep.l1_under_groups(fake)
    assert n == 1 and worst is fake[1]
    assert where.startswith(f"{fake[1].sample.family}, in0 L1 WIDTH_SHARDED, in1 DRAM WIDTH_SHARDED")
    met = [ok for _, ok in sweep.goals(fake)]
    assert met == [False, False, False]  # 1 false legal, 1 L1 below, 1 of 3 accepted rejected by the rules
    assert [ok for _, ok in sweep.goals(fake[:1])] == [True, True, True]
    # the benchmark fails on a false legal config or an L1 figure below ttnn's, not on a false illegal one
    assert sweep.failed(fake) and sweep.failed([fake[0], fake[2]]) and sweep.failed(fake[:2])
    assert not sweep.failed([fake[0], fake[3], fake[4]])


def test_report_shows_every_section(sweep, fake):
    text = sweep.report("2026-01-01", {"n150": fake})
    assert text.startswith("# tttgen rules and L1 estimate against the real ttnn, 2026-01-01")
    assert "| n150 | 5 | 1 | 1 | 1 | 0 of 3 |" in text
    assert "| legal | 2 | 1 (false legal) |" in text and "| illegal | 1 (false illegal) | 1 |" in text
    assert "### False legal (tttgen legal, ttnn rejects): 1" in text
    assert "| 1 | 33.3% | 0 | r28_dram_sharded_weight_family | A weight width-sharded over the DRAM banks" in text
    assert "goal NOT met" in text and "decode 32x2048x3072 (test)" in text
    assert "| mode | search | bias | activation | legal | ttnn accepts | false legal | L1 below ttnn |" in text
    assert "| decode | candidate | none | none | 3 | 2 | 1 | 1 |" in text
    assert "DFB 'in1' borrows memory 3 times" in text  # the example's own message, unnormalised
    assert "\\|" in text  # ttnn's ' | ' separators are escaped inside table cells


def test_report_counts_false_illegal_cases_ttnn_accepts_beyond_the_budget(sweep, fake):
    over = sweep.Judged(fake[3].sample, True, None, fake[3].sample.l1_budget + 1)
    text = sweep.report("2026-01-01", {"n150": [over, fake[4]]})
    assert "| 1 | 100.0% | 1 | r28_dram_sharded_weight_family |" in text


def test_hazard_rules_are_counted_apart_from_legality(sweep, fake):
    """A config only the hazard rules (di/dt cap, silent-PCC guard) reject is not a legality disagreement."""
    from dataclasses import replace

    legal_disagreement = fake[3]
    hazard_only = replace(
        legal_disagreement,
        sample=replace(legal_disagreement.sample, violations=["r30_subblock_didt: 8 tiles exceed the cap of 4"]),
    )
    assert sweep.by_legality_rule(legal_disagreement) and not sweep.by_legality_rule(hazard_only)
    [_, _, with_legality] = sweep.goals([fake[0], legal_disagreement])
    [_, _, with_hazard] = sweep.goals([fake[0], hazard_only])
    assert not with_legality[1] and "1 of 2" in with_legality[0]
    assert with_hazard[1] and "0 of 2" in with_hazard[0] and "reject 1 more, by design" in with_hazard[0]


# The sweep's small fixed-seed form (`make bench` runs the large one): fresh linears of both modes, with and without
# bias and fused activation, their legal candidates (the search's choice and runners-up among them) judged by ttnn.
SMALL_SEED = "tttgen-ttnn-sweep-test-v1"
SMALL_PER_DEVICE = 40


@pytest.mark.parametrize("device_name", ["n150", "p150"])
def test_small_seeded_sweep_has_no_false_legal_config_nor_l1_below_ttnn(real_ttnn, sweep, device_name):
    device, _ = load_device(device_name)
    samples = [s for s in sweep.sample_device(device, SMALL_PER_DEVICE, SMALL_SEED) if s.legal]
    assert {s.role for s in samples} == {"chosen", "runner-up", "candidate"}
    assert any(s.problem.bias and s.problem.activation for s in samples)
    assert any(not s.problem.bias and not s.problem.activation for s in samples)
    judged = sweep.judge(device, samples)
    assert not [sweep.describe(j.sample) + f": {j.message}" for j in judged if not j.accepted]
    under = [j for j in judged if j.accepted and j.sample.l1_claim < j.l1_total]
    assert not [f"{sweep.describe(j.sample)}: tttgen {j.sample.l1_claim} B, ttnn {j.l1_total} B" for j in under]
