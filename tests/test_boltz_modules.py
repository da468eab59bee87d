"""Boltz-2 modules built from their descriptions (modules/boltz_*.yaml), run on the emulator next to the boltz
2.2.1 torch modules the descriptions name (random weights through the descriptions' checkpoint keys)."""

import pytest

from tttgen.generate import Request, plan
from tttgen.checking.verification import verify_module

pytest.importorskip("boltz.model.modules.transformersv2", reason="boltz 2.2.1 is installed by `make install`")

MODULES = ["boltz_transition", "boltz_adaln", "boltz_conditioned_transition"]


@pytest.mark.parametrize("device", ["n150", "p150"])
@pytest.mark.parametrize("module", MODULES)
def test_boltz_module_matches_the_boltz_torch_module(module, device):
    report = verify_module(plan(Request(module, device)))
    assert report.api_findings == []
    assert report.passed, report.as_dict()


def test_pair_transition_at_n_64_and_256():
    """The pair-track Transition (token_z 128, hidden 512) on [1, N, N, 128] as N * N rows: the chunking pass
    splits the rows into calls; both sizes match boltz."""
    flags = (("max_seq_len", 65536), ("prefill_lens", [4096, 65536]))
    p = plan(Request("boltz_transition", "p150", None, flags, (("dim", "128"), ("hidden", "512"))))
    calls = {op.key: op.decisions["shape"].batch for op in p.graph.ops_of("linear")}
    assert calls["prefill_65536.fc1"] > 1  # a chunk size chosen by the optimizer, not a constant
    report = verify_module(p)
    assert report.passed and set(report.pcc) == {"prefill_4096", "prefill_65536"}, report.as_dict()


def test_zero_initialised_layers_are_made_visible():
    """boltz initialises fc3 (final_init_) and the output projection to zeros: the reference's weights are redrawn
    so a wrong fc3 or gate cannot hide behind a constant output."""
    from tttgen.checking.verification import reference_module

    ref = reference_module(plan(Request("boltz_transition", "n150")), seed=0)
    assert ref.fc3.weight.abs().sum() > 0


def test_bad_params_are_one_error():
    from tttgen.errors import InputError

    with pytest.raises(InputError) as info:
        plan(Request("boltz_transition", "n150", params=(("dimm", "1"), ("hidden", "x"))))
    text = info.value.render()
    assert "'dimm' is not a param of boltz_transition" in text and "'hidden' takes a int, got 'x'" in text


def test_bench_compares_with_tt_boltz_configuration(load_benchmark):
    """benchmarks/boltz.py prices every linear as generated and as TT-Boltz calls it (ttnn's auto-config for its
    core_grid, bf16, HiFi4); with every config accepted, tttgen is never modeled slower on these modules."""
    from tttgen.checking.realttnn.oracle import Verdict

    loader = load_benchmark("boltz")
    bench = next(loader)

    def accept_all(device, cases, l1_small_size=0):
        return [Verdict(True, None, 0, 0, 0) for _ in cases]

    lines, ratios = bench.report(judge=accept_all, modules=("boltz_transition",), devices=("n150",))
    assert ratios and max(ratios) <= 1.0
    assert any(line.startswith("| prefill_128 | fc1 | 128 x 384 x 1536 |") for line in lines)
    assert bench.core_grid_main(plan(Request("boltz_transition", "p150")).graph.device) == (11, 10)
    next(loader, None)  # unload
