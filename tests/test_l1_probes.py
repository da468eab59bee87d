"""tttgen's L1 figure for a matmul is never below what the real ttnn 0.81.1 reported for the same config (the table
in tests/l1_probes.py, measured on a mock device; tests/realttnn/test_l1_probes_ttnn.py re-measures it)."""

from collections import Counter

import pytest

from l1_probes import probes
from tttgen.rules.l1 import matmul_cb_bytes, matmul_l1_bytes
from tttgen.rules.matmul import matmul_violations

PROBES = probes()


def test_the_table_covers_every_family_with_and_without_bias_and_activation():
    kinds = Counter(
        (p.board, p.family, p.bias_dtype is not None, p.config.fused_activation is not None) for p in PROBES
    )
    for board in ("n150", "p150"):
        for family in ("2D", "1D", "DRAM"):
            for bias in (False, True):
                assert kinds[(board, family, bias, False)], (board, family, bias)
            assert kinds[(board, family, True, True)], (board, family)
    assert {p.config.fused_activation for p in PROBES} >= {None, "GELU", "SILU", "RELU"}


@pytest.mark.parametrize("probe", PROBES, ids=[f"{p.board}-{p.family}-{i}" for i, p in enumerate(PROBES)])
def test_l1_claim_never_below_ttnn(probe):
    case = probe.rules_case()
    assert matmul_violations(case) == [], f"{probe}: every probed config is one tttgen calls legal"
    claim = matmul_l1_bytes(case)
    assert claim >= probe.ttnn_total, f"{probe}: tttgen claims {claim} B/core, ttnn reported {probe.ttnn_total}"
    # Term by term: the circular buffers equal ttnn's peak (a missing term shows here even when the operand shards
    # tttgen also counts would cover it in the total).
    assert matmul_cb_bytes(case) == probe.ttnn_cb, str(probe)


def test_a_bias_adds_its_cb_on_every_family():
    """Rows that differ only in the bias: ttnn's figure grows by the bias CB, and tttgen's claim with it."""
    plain = {(p.board, p.shape, p.dtypes, p.fp32_acc, p.config): p for p in PROBES if p.bias_dtype is None}
    pairs = [
        (plain[key], p)
        for p in PROBES
        if p.bias_dtype and (key := (p.board, p.shape, p.dtypes, p.fp32_acc, p.config)) in plain
    ]
    assert {p.family for _, p in pairs} == {"2D", "1D", "DRAM"}
    for without, with_bias in pairs:
        grew = with_bias.ttnn_cb - without.ttnn_cb
        assert grew > 0
        assert matmul_cb_bytes(with_bias.rules_case()) - matmul_cb_bytes(without.rules_case()) == grew
