"""The matmul search's memos and fast paths give the answers of the plain search: every candidate judged by every
rule in order, in a fresh process, for every call."""

import sys
from collections import Counter
from dataclasses import replace

import pytest

from tttgen.ir.configs import DRAM_INTERLEAVED, Candidate, ComputeKernelConfig, MatmulShape
from tttgen.passes.matmul_program import (
    K_BLOCK_WIDTHS_SCORED,
    KEEP_REJECTED,
    Home,
    L1Reserve,
    _rank,
    enumerate_candidates,
    search,
)
from tttgen.rules import matmul as R
from tttgen.rules.l1 import matmul_l1_bytes
from tttgen.rules.placement import dram_sharded_weight, width_sharded
from tttgen.scoring import matmul_time_ns
from tttgen.inputs.load import load_device

MP = sys.modules["tttgen.passes.matmul_program"]  # `tttgen.passes.matmul_program` as an attribute is the pass
BF = ("bfloat16", "bfloat8_b", "bfloat16")
HIFI2 = ComputeKernelConfig("HiFi2", False, False, True)
FP32 = ComputeKernelConfig("HiFi4", False, True, True)

# (board, m, k, n, batch, weight sharded in DRAM, decode, kernel, reserve)
PROBLEMS = [
    ("n150", 32, 2048, 3072, 1, True, True, HIFI2, L1Reserve(40960)),
    ("n150", 32, 2048, 3072, 1, False, True, FP32, L1Reserve(40960, True)),
    ("p150", 32, 8192, 4096, 1, True, True, HIFI2, L1Reserve(bias_dtype="bfloat16")),
    ("p150", 32, 4096, 128256 // 8, 1, False, True, HIFI2, L1Reserve()),
    ("n150", 1024, 2048, 8192, 1, True, False, HIFI2, L1Reserve(bias_dtype="bfloat8_b")),
    ("p150", 1024, 4096, 14336, 1, True, False, FP32, L1Reserve()),
    ("p150", 512, 1152, 4304, 2, False, False, HIFI2, L1Reserve(bias_dtype="bfloat16")),
    ("n150", 32, 2048, 16384, 1, False, False, HIFI2, L1Reserve()),
]


def problem(board, m, k, n, batch, sharded, decode, kernel, reserve):
    device, _ = load_device(board)
    in1 = dram_sharded_weight(k, n, device) if sharded else DRAM_INTERLEAVED
    return device, MatmulShape(m, k, n, batch), kernel, BF, in1, decode, reserve


def matmul_case(device, shape, kernel, dtypes, in1, reserve, triple) -> R.MatmulCase:
    cfg, in0, out = triple
    return R.MatmulCase(
        device, shape, cfg, kernel, in0, in1, out, *dtypes, False, reserve.bytes, reserve.sibling_output,
        reserve.bias_dtype,
    )


def reference_search(device, shape, kernel, dtypes, in1, decode, seeds=(), reserve=L1Reserve(), home=None):
    """The search without memos or fast paths: every candidate, every rule in order."""
    legal, pruned, widths = [], Counter(), Counter()
    for cfg, in0, out in dict.fromkeys(enumerate_candidates(device, shape, kernel, in1, decode) + list(seeds)):
        group = (replace(cfg, in0_block_w=0), in0, out)
        if widths[group] >= K_BLOCK_WIDTHS_SCORED:
            pruned["narrower_k_block_than_two_legal_ones"] += 1
            continue
        case = matmul_case(device, shape, kernel, dtypes, in1, reserve, (cfg, in0, out))
        broken = R.first_violation(case)
        if broken:
            pruned[broken] += 1
            continue
        widths[group] += 1
        t = matmul_time_ns(case)
        move = home.move_ns(in0, out) if home else 0.0
        extra = {"in0": in0, "out": out, "l1": matmul_l1_bytes(case), "move_ns": move}
        legal.append(Candidate(cfg, t.total_ns, t.binding, extra=extra))
    legal.sort(key=_rank)
    return (legal[0] if legal else None), tuple(legal[1 : 1 + KEEP_REJECTED]), tuple(sorted(pruned.items()))


def same(a: Candidate | None, b: Candidate | None) -> bool:
    if a is None or b is None:
        return a is b
    def key(c: Candidate) -> tuple:
        return (c.config, c.time_ns, c.note, *(c.extra[f] for f in ("in0", "out", "l1", "move_ns")))

    return key(a) == key(b)


def seeds_for(device, shape, in1, decode):
    """A few triples the enumeration also holds and one it does not (a narrower in0 shard grid)."""
    triples = enumerate_candidates(device, shape, HIFI2, in1, decode)[:2]
    if decode:
        cfg, _, out = triples[0]
        triples.append((cfg, width_sharded(32, shape.k, 2, device), out))
    return tuple(triples)


def problem_id(p) -> str:
    return f"{p[0]}-{p[1]}x{p[2]}x{p[3]}-{'decode' if p[6] else 'prefill'}"


@pytest.mark.parametrize("p", PROBLEMS, ids=problem_id)
def test_memoised_and_uncounted_searches_answer_as_the_plain_search(p):
    device, shape, kernel, dtypes, in1, decode, reserve = problem(*p)
    args = (device, shape, kernel, dtypes, in1, decode)
    seeds = seeds_for(device, shape, in1, decode)
    home = Home(width_sharded(32, shape.k, 8, device).grid, 1000.0, 500.0) if decode else None
    # uncounted first, so the counted calls after it reuse its verdicts; every call twice (memo hits)
    for s, h in (((), None), (seeds, None), (seeds, home), ((), home)):
        want_best, want_rejected, want_pruned = reference_search(*args, s, reserve, h)
        for counted in (False, True, False, True):
            best, rejected, pruned = search(*args, s, reserve, home=h, counted=counted)
            assert same(best, want_best)
            assert len(rejected) == len(want_rejected) and all(map(same, rejected, want_rejected))
            assert pruned == (want_pruned if counted else ())


@pytest.mark.parametrize("p", PROBLEMS[:4] + PROBLEMS[5:6], ids=problem_id)
def test_is_legal_agrees_with_the_rules_in_order(p):
    device, shape, kernel, dtypes, in1, decode, reserve = problem(*p)
    assert sorted(r.__name__ for r in R.LEGALITY_ORDER) == sorted(r.__name__ for r in R.RULES)
    assert R.LEGALITY_ORDER[-1] is R.r20_l1_fits
    full = enumerate_candidates(device, shape, kernel, in1, decode)
    kept = enumerate_candidates(device, shape, kernel, in1, decode, legal_only=True)
    assert kept == [t for t in full if t in set(kept)], "legal_only keeps the enumeration's order"
    dropped = set(full) - set(kept)
    for t in full:
        case = matmul_case(device, shape, kernel, dtypes, in1, reserve, t)
        assert R.is_legal(case) == (R.first_violation(case) is None)
        if t in dropped:  # only what the weight's placement alone rules out
            assert R.r28_dram_sharded_weight_family(case) or R.r25_prefill_reads_dram_shards(case)
    if in1.sharded:
        assert dropped  # the filter does something where it can


def test_memo_keys_hold_every_input(monkeypatch):
    """Another device profile, reserve or seed list is another answer; calls that differ only in seeds or home
    enumerate the candidates once."""
    device, shape, kernel, dtypes, in1, decode, reserve = problem(*PROBLEMS[2])
    calls = Counter()
    real = MP.enumerate_candidates

    def counting(*args, **kwargs):
        calls[args[1]] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(MP, "enumerate_candidates", counting)
    shape = replace(shape, n=shape.n + 32 * device.dram.banks)  # a problem no other test has searched
    in1 = dram_sharded_weight(shape.k, shape.n, device)
    best = search(device, shape, kernel, dtypes, in1, decode, (), reserve, counted=False)[0]
    search(device, shape, kernel, dtypes, in1, decode, seeds_for(device, shape, in1, decode), reserve, counted=False)
    search(device, shape, kernel, dtypes, in1, decode, (), reserve, home=Home(None, 1.0, 1.0), counted=False)
    assert calls[shape] == 1
    tight = device.model_copy(update={"usable_l1_bytes": best.extra["l1"] + reserve.bytes + device.l1_small_size - 1})
    other = search(tight, shape, kernel, dtypes, in1, decode, (), reserve, counted=False)[0]
    assert other is None or other.extra["l1"] < best.extra["l1"]  # the chosen config no longer fits that profile
    assert calls[shape] == 2
    more_reserved = replace(reserve, bytes=reserve.bytes + 4096)
    more = search(device, shape, kernel, dtypes, in1, decode, (), more_reserved, counted=False)
    assert calls[shape] == 3 and more[0] is not None


def family_mark_breaches() -> set[tuple[str, str]]:
    """(rule, family) where a rule marked `only_for` other families rejects a config of that family: the enumerated
    candidates of every problem, each also with broken fields, each retyped to every family."""
    marked = [r for r in R.RULES if hasattr(r, "families")]
    breaches = set()
    for p in PROBLEMS:
        device, shape, kernel, dtypes, in1, decode, reserve = problem(*p)
        for cfg, in0, out in enumerate_candidates(device, shape, kernel, in1, decode)[::7]:
            broken = replace(cfg, per_core_M=cfg.per_core_M + 1, in0_block_w=cfg.in0_block_w + 1)
            for variant in (cfg, broken, replace(cfg, grid=(1, 1)), replace(broken, grid=(99, 99))):
                for family in R.MATMUL_FAMILIES:
                    case = matmul_case(device, shape, kernel, dtypes, in1, reserve, (replace(variant, type=family), in0, out))
                    breaches |= {(r.__name__, family) for r in marked if family not in r.families and r(case)}
    return breaches


def test_rules_marked_for_some_families_pass_every_other_family():
    """is_legal and first_violation skip a rule marked `only_for` some families on the others' configs: it must
    return None for every one of them."""
    assert len([r for r in R.RULES if hasattr(r, "families")]) >= 10
    assert family_mark_breaches() == set()


def test_a_family_mark_that_lies_is_caught(monkeypatch):
    """Planted: r06 (a 2D rule) marked for 1D only would be skipped on 2D configs; the check must name it."""
    monkeypatch.setattr(R.r06_2d_blocks_fit, "families", frozenset({R.MATMUL_1D}))
    assert ("r06_2d_blocks_fit", R.MATMUL_2D) in family_mark_breaches()
