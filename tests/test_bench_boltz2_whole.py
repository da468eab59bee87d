"""benchmarks/boltz2_whole.py (issue 25's Measure for Boltz-2 as a whole) at small sizes: the boltz2 package's three
modes priced as tttgen builds them and with TT-Boltz's configuration, per call and per input, traced and untraced;
the ratios come from the two priced sides (a planted change of either side moves them)."""

import re

import pytest
from boltz_cases import COMPOSITE_SMALL

# the composite at small widths, without n, max_atoms and recycling_steps, which the bench sets
SMALL = tuple(p for p in COMPOSITE_SMALL if p[0] not in ("n", "max_atoms", "recycling_steps"))
N = 64


_PLANS: dict = {}  # one plan per request for the whole file (plans are immutable; a few seconds each)


@pytest.fixture
def bench(load_benchmark, monkeypatch):
    for module in load_benchmark("boltz2_whole"):
        real = module.plan

        def cached(request, real=real):
            if request not in _PLANS:
                _PLANS[request] = real(request)
            return _PLANS[request]

        monkeypatch.setattr(module, "plan", cached)
        yield module


def accept_all(device, cases, l1_small_size=0):
    from tttgen.checking.realttnn.oracle import Verdict

    return [Verdict(True, None, 0, 0, 0) for _ in cases]


def table_rows(lines: list[str]) -> dict[str, list[str]]:
    return {
        cells[1].strip(): [c.strip() for c in cells[2:-1]]
        for line in lines
        if line.startswith("| ")
        for cells in [line.split("|")]
        if cells[1].strip() in ("trunk", "condition", "denoise_step", "**one input**")
        or "Pairformer blocks" in cells[1]
    }


def run(bench, **kw):
    return bench.report(judge=accept_all, devices=("p150",), n=N, params=SMALL, residues=50, **kw)


def test_report_structure_and_ratios_from_both_sides(bench):
    lines, ratios = run(bench)
    text = "\n".join(lines)
    for heading in (
        "## p150",
        "## Workload difference to the published runtime",
        "## How TT-Boltz's configuration is priced",
    ):
        assert heading in text
    assert (
        "Trunk goal (>= 1.3x on the 2 Pairformer blocks, one recycle)" in text
        and "~60 s on Blackhole p150" in text
        and "modeled" in text.lower()
    )
    rows = table_rows(lines)
    blocks = "of which the 2 Pairformer blocks (trunk)"
    assert set(rows) == {"trunk", "condition", "denoise_step", "**one input**", blocks}
    assert float(rows[blocks][3].rstrip("x")) == pytest.approx(ratios["p150"]["blocks"], abs=0.006)
    assert float(rows[blocks][1]) < float(rows["trunk"][1])  # a part of the step
    assert [rows[m][0] for m in ("trunk", "condition", "denoise_step")] == ["4", "1", "200"]  # calls per input
    r = ratios["p150"]
    for mode in ("trunk", "condition", "denoise_step"):
        ours, theirs, printed = (float(rows[mode][i].rstrip("x")) for i in (1, 2, 3))
        assert printed == pytest.approx(r[mode], abs=0.006)
        assert theirs / ours == pytest.approx(r[mode], rel=0.05)  # ms to 2 decimals
    assert float(rows["**one input**"][3].strip("*x")) == pytest.approx(r["total"], abs=0.006)
    # the two sides differ (the configurations are priced, not copied): at least one part is not 1.00x
    assert any(abs(r[m] - 1.0) > 0.01 for m in ("trunk", "condition", "denoise_step")), r


def test_total_is_the_calls_weighted_sum(bench):
    w = bench.price_whole("p150", accept_all, N, SMALL)
    ours = sum(p["total"] * p["part"].calls for p in w["parts"])
    theirs = sum(p["tt_boltz"] * p["part"].calls for p in w["parts"])
    assert w["traced"] == (pytest.approx(ours), pytest.approx(theirs))
    # tttgen's untraced figure is the package's own (graph fact emitted_time_ns); TT-Boltz's untraced with nothing
    # swapped is that same figure: the untraced pricing differs only in the swapped linears
    graph = w["graph"]
    for p in w["parts"]:
        mode = p["part"].mode
        assert p["untraced"] == graph.facts["emitted_time_ns"][mode]
        assert bench.untraced_with(graph, mode, {}) + graph.facts["host_io_ns"][mode] == pytest.approx(p["untraced"])


@pytest.mark.parametrize("side", ["tt_boltz", "total"])
def test_a_planted_change_of_one_side_moves_the_ratio(bench, monkeypatch, side):
    _, before = run(bench)
    real = bench.price_mode

    def planted(*args, **kwargs):
        r = real(*args, **kwargs)
        return dict(r, **{side: r[side] * 2})  # one side's price doubled

    monkeypatch.setattr(bench, "price_mode", planted)
    lines, after = run(bench)
    factor = 2 if side == "tt_boltz" else 0.5
    for key in ("trunk", "condition", "denoise_step", "total"):
        assert after["p150"][key] == pytest.approx(before["p150"][key] * factor, rel=1e-9)
    goal = next(line for line in lines if line.startswith("\nTrunk goal"))
    assert f"{after['p150']['trunk']:.2f}x" in goal


def test_host_round_trips_scale_with_the_pair_tensor(bench):
    graph = bench.price_whole("p150", accept_all, N, SMALL)["graph"]
    small = bench.tt_boltz_host_round_trips_ns(graph, 64)
    big = bench.tt_boltz_host_round_trips_ns(graph, 704)
    assert 0 < small < big
    link = graph.device.host_link
    z = 704 * 704 * 128 * 2
    assert big > 4 * z / max(link.h2d_gbps, link.d2h_gbps)  # z goes in twice and out twice
    assert re.search(r"host round trips per recycling step", "\n".join(run(bench)[0]))


def test_a_planted_change_of_tt_boltz_linears_moves_the_blocks_ratio(bench, monkeypatch):
    """The Pairformer blocks' ratio (the goal's) comes from the swapped linears: TT-Boltz's linears twice as slow
    raise it, and the goal line prints the new figure."""
    _, before = run(bench)
    real = bench.price_mode

    def planted(*args, **kwargs):
        r = real(*args, **kwargs)
        return dict(r, swapped={k: (ns * 2, calls) for k, (ns, calls) in r["swapped"].items()})

    monkeypatch.setattr(bench, "price_mode", planted)
    lines, after = run(bench)
    assert after["p150"]["blocks"] > before["p150"]["blocks"] + 0.01
    goal = next(line for line in lines if line.startswith("\nTrunk goal"))
    assert f"{after['p150']['blocks']:.2f}x" in goal
