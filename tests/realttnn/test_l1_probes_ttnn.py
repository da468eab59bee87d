"""The L1 table of tests/l1_probes.py is what the real ttnn 0.81.1 reports: every row is judged again on the
board's mock device (verdicts cached by case text), accepted, with the recorded figures."""

from l1_probes import probes
from tttgen.checking.realttnn.oracle import judge_matmuls
from tttgen.inputs.load import load_device


def test_every_probe_row_is_ttnns_own_figure(real_ttnn):
    rows = probes()
    mismatches = []
    for board in sorted({p.board for p in rows}):
        device, _ = load_device(board)
        mine = [p for p in rows if p.board == board]
        for p, v in zip(mine, judge_matmuls(device, [p.oracle_case() for p in mine])):
            if not v.accepted or (v.l1_dataflow, v.l1_total) != (p.ttnn_cb, p.ttnn_total):
                mismatches.append(f"{p}: ttnn {v.accepted} {v.message} cb={v.l1_dataflow} total={v.l1_total}")
    assert not mismatches, "\n".join(mismatches)
