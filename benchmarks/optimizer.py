"""tttgen's choices against the policies users have today, on the same calibrated cost model.

For each model/device and mode: per matmul, the modeled time of tttgen's config, tt_transformers'
hand-written config (its memory plan: DRAM-sharded decode weights), ttnn's auto-config for
program_config=None (everything DRAM interleaved, ttnn's default compute-kernel config) and the
roofline (compute peak at tttgen's fidelity on the whole grid; nominal DRAM bandwidth for the bytes
read). Every config of the comparison, tttgen's included, is also run by the real ttnn 0.81.1 on a
mock device (`tttgen.checking.realttnn.oracle`, one batch per device, verdicts cached on disk): a config ttnn
rejects is left out of the ratios and listed with ttnn's message; one tttgen's rules call illegal but
ttnn accepts stays in (ttnn is the judge) and is counted. tttgen's L1 claim for its chosen config is
compared with ttnn's `l1_total`. The whole decode step against the published tokens/s/user is
benchmarks/decode.py.
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tttgen.baselines.tt_transformers import baseline_config  # noqa: E402
from tttgen.cost.ttnn_auto import ttnn_auto_config  # noqa: E402
from tttgen.generate import Request, plan  # noqa: E402
from tttgen.passes.matmul_program import input_heads  # noqa: E402
from tttgen.ir.configs import DRAM_INTERLEAVED, MATMUL_DRAM_SHARDED, ComputeKernelConfig, MatmulShape  # noqa: E402
from tttgen.checking.realttnn.oracle import MatmulCase as OracleCase  # noqa: E402
from tttgen.checking.realttnn.oracle import Verdict, judge_matmuls  # noqa: E402
from tttgen.rules.matmul import MatmulCase, matmul_violations  # noqa: E402
from tttgen.rules.placement import dram_sharded_weight, width_sharded_out  # noqa: E402
from tttgen.scoring import matmul_time_ns  # noqa: E402

DATA = ROOT.parent / "shared" / "reference" / "data"
PREFILLS = [128, 1024, 4096]
FLAGS = (("prefill_lens", PREFILLS), ("max_seq_len", 4096), ("fit_check", False))
TTNN_DEFAULT_KERNEL = ComputeKernelConfig("HiFi2", False, False, True)  # reference 1.9, no program config
POLICIES = ("tttgen", "tt_transformers", "ttnn_auto")
BASELINES = POLICIES[1:]


# --------------------------------------------------------------------------- each policy's config


def tp8_chip_spec(tmp: Path) -> str:
    """Llama-3.1-70B as one of 8 tensor-parallel chips sees it: heads, MLP and vocab split 8 ways."""
    spec = yaml.safe_load((ROOT / "model_specs/llama-3.1-70b.yaml").read_text())
    spec.update(
        name="llama-3.1-70b-tp8-chip",
        num_attention_heads=spec["num_attention_heads"] // 8,
        num_key_value_heads=spec["num_key_value_heads"] // 8,
        intermediate_size=spec["intermediate_size"] // 8,
        vocab_size=spec["vocab_size"] // 8,
    )
    path = tmp / "llama-3.1-70b-tp8-chip.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def tttgen_case(graph, op) -> MatmulCase:
    """The config the generated package runs (decisions after every pass)."""
    d = op.decisions
    return MatmulCase(
        graph.device,
        d["shape"],
        d["program"],
        d["kernel"],
        d["in0"],
        d["in1"],
        d["out"],
        *d["dtypes"].values(),
        bias_dtype=graph.bias_dtype(op),
    )


def baseline_shape(op) -> MatmulShape:
    """The matmul a baseline runs: the whole op, also where tttgen runs it as column chunks."""
    shape = op.decisions["shape"]
    return replace(shape, n=op.dataflow["shapes"]["out"][0][-1]) if op.decisions.get("column_chunks", 1) > 1 else shape


def tt_transformers_case(graph, op) -> MatmulCase:
    d = op.decisions
    shape = baseline_shape(op)
    role = graph.weight(op.weight).role
    cfg, in0 = baseline_config(role, op.mode, shape, input_heads(graph, op), graph.device, d["kernel"].fp32_dest_acc_en)
    decode = op.mode == "decode"
    in1 = dram_sharded_weight(shape.k, shape.n, graph.device) if role != "LM_HEAD" else DRAM_INTERLEAVED
    if decode and role == "LM_HEAD":
        in0 = d["in0"]
    out = (
        width_sharded_out(shape.nt, cfg.per_core_N, graph.device.grid.x)
        if cfg.type == MATMUL_DRAM_SHARDED
        else d["out"] if decode and d.get("column_chunks", 1) == 1 else DRAM_INTERLEAVED
    )
    return MatmulCase(
        graph.device, shape, cfg, d["kernel"], in0 if decode else DRAM_INTERLEAVED, in1, out, *d["dtypes"].values()
    )


def ttnn_auto_case(graph, op) -> MatmulCase | None:
    """None when the auto-config is the no-reuse fallback (the cost model has no figure for it)."""
    d = op.decisions
    shape: MatmulShape = baseline_shape(op)
    dt = d["dtypes"]
    cfg = ttnn_auto_config(graph.device, shape, in0_dtype=dt["in0"], in1_dtype=dt["in1"], out_dtype=dt["out"])
    if not cfg.type.startswith("MatmulMultiCoreReuse"):
        return None
    return MatmulCase(
        graph.device,
        shape,
        cfg,
        TTNN_DEFAULT_KERNEL,
        DRAM_INTERLEAVED,
        DRAM_INTERLEAVED,
        DRAM_INTERLEAVED,
        dt["in0"],
        dt["in1"],
        dt["out"],
    )


def policy_cases(graph, op) -> dict[str, MatmulCase | None]:
    return {
        "tttgen": tttgen_case(graph, op),
        "tt_transformers": tt_transformers_case(graph, op),
        "ttnn_auto": ttnn_auto_case(graph, op),
    }


# --------------------------------------------------------------------------- the real ttnn's verdicts


def oracle_case(case: MatmulCase) -> OracleCase:
    return OracleCase(
        case.shape,
        case.config,
        case.kernel,
        (case.in0_dtype, case.in1_dtype, case.out_dtype),
        case.in0,
        case.in1,
        case.out,
    )


def judge_all(cases: list[MatmulCase], judge=judge_matmuls) -> dict[tuple[str, OracleCase], Verdict]:
    """ttnn's verdict per (device, case): all distinct cases of one device in one oracle call."""
    by_device: dict[str, dict[OracleCase, MatmulCase]] = defaultdict(dict)
    for case in cases:
        by_device[case.device.name].setdefault(oracle_case(case), case)
    verdicts = {}
    for name in sorted(by_device):
        group = list(by_device[name])
        device = next(iter(by_device[name].values())).device
        for key, verdict in zip(group, judge(device, group, device.l1_small_size)):
            verdicts[(name, key)] = verdict
    return verdicts


def first_line(message: str | None) -> str:
    return (message or "(no message)").strip().splitlines()[0]


@dataclass(frozen=True)
class Outcome:
    """One policy's config for one matmul, as the comparison sees it."""

    time_ns: float | None  # modeled; None: not in the comparison (see `excluded`)
    binding: str
    excluded: str | None  # "rejected by ttnn: ..." or why there is no config
    rules_illegal: str | None  # first rule tttgen's rules say it breaks (ttnn has the last word)
    l1_claim: int | None  # tttgen's figure (chosen configs only)
    l1_ttnn: int | None  # ttnn's l1_total when it accepts

    @property
    def rejected(self) -> bool:
        return bool(self.excluded) and self.excluded.startswith("rejected by ttnn")


def outcome(
    case: MatmulCase | None, verdict: Verdict | None, modeled_ns: float | None = None, l1_claim: int | None = None
) -> Outcome:
    """`modeled_ns`: the time the generator recorded (tttgen's config); baselines are costed here."""
    if case is None:
        return Outcome(None, "", "no-reuse fallback config (not modeled)", None, None, None)
    broken = matmul_violations(case)
    rule = broken[0].split(":")[0] if broken else None
    if not verdict.accepted:
        return Outcome(None, "", "rejected by ttnn: " + first_line(verdict.message), rule, l1_claim, None)
    if modeled_ns is None:
        cost = matmul_time_ns(case)
        return Outcome(cost.total_ns, cost.binding, None, rule, l1_claim, verdict.l1_total)
    return Outcome(modeled_ns, "", None, rule, l1_claim, verdict.l1_total)


def op_outcomes(graph, op, cases: dict[str, MatmulCase | None], verdicts) -> dict[str, Outcome]:
    """A column-chunked matmul (tttgen's weight in DRAM-sharded chunks, its time all chunks and their joins) is
    compared whole: the baselines run their own config on the whole weight (baseline_shape)."""
    d = op.decisions
    out = {}
    for policy, case in cases.items():
        verdict = None if case is None else verdicts[(case.device.name, oracle_case(case))]
        if policy == "tttgen":
            out[policy] = outcome(case, verdict, d["time_ns"], d["l1_bytes"])
        else:
            out[policy] = outcome(case, verdict)
    return out


# --------------------------------------------------------------------------- tables


def roofline_ns(graph, op) -> float:
    d = op.decisions
    shape: MatmulShape = baseline_shape(op)  # the whole op (a column-chunked one's time covers every chunk)
    device = graph.device
    compute = shape.flops / device.peak_flops(d["kernel"].math_fidelity) * 1e9
    tb = device.tile_bytes
    read = shape.kt * shape.nt * tb[d["dtypes"]["in1"]]
    if d["in0"].buffer == "DRAM":
        read += shape.batch * shape.mt * shape.kt * tb[d["dtypes"]["in0"]]
    return max(compute, read / device.dram.nominal_gbps)


def fmt(o: Outcome) -> str:
    if o.time_ns is None:
        return "rejected" if o.rejected else "-"
    return f"{o.time_ns / 1000:.1f}" + ("*" if o.rules_illegal else "")


def ratio_cell(ours: Outcome, base: Outcome) -> str:
    if ours.time_ns is None or base.time_ns is None:
        return "-"
    return f"{ours.time_ns / base.time_ns:.2f}"


def l1_cell(o: Outcome) -> str:
    if o.l1_ttnn is None:
        return f"{o.l1_claim // 1024} / -"
    mark = " **under**" if o.l1_claim < o.l1_ttnn else ""
    return f"{o.l1_claim // 1024} / {o.l1_ttnn // 1024}{mark}"


def tally(where: str, op, outs: dict[str, Outcome], roof: float, summary: dict) -> None:
    """Summary counters for one matmul: rejections per policy, ratios over pairs ttnn accepts, L1."""
    ours = outs["tttgen"]
    for policy, o in outs.items():
        summary.setdefault(f"configs_{policy}", 0)
        summary[f"configs_{policy}"] += o.excluded is None or o.rejected
        if o.rejected:
            summary.setdefault(f"rejected_{policy}", []).append(
                f"{where} {op.key}: {o.excluded[len('rejected by ttnn: '):]}"
            )
        elif o.rules_illegal and o.time_ns is not None:
            summary.setdefault(f"rules_illegal_accepted_{policy}", []).append(f"{where} {op.key}: {o.rules_illegal}")
    if ours.time_ns is None:
        return
    if ours.l1_ttnn is not None:
        summary.setdefault("l1_compared", 0)
        summary["l1_compared"] += 1
        if ours.l1_claim < ours.l1_ttnn:
            summary.setdefault("l1_under", []).append(
                f"{where} {op.key}: claim {ours.l1_claim} B < ttnn {ours.l1_ttnn} B"
            )
    for name in BASELINES:
        base = outs[name].time_ns
        if base is not None:
            summary.setdefault(f"ratio_vs_{name}", []).append(ours.time_ns / base)
            if ours.time_ns > base * 1.0001:
                summary.setdefault("slower", []).append(f"{where} {op.key} vs {name}: {ours.time_ns / base:.3f}")
    summary.setdefault("roofline_fraction_" + ("decode" if op.mode == "decode" else "prefill"), []).append(
        roof / ours.time_ns
    )


def matmul_table(graph, outcomes: dict, lines: list[str], summary: dict) -> None:
    where = f"{graph.name}/{graph.device.name}"
    lines.append(
        "| mode | op | M x K x N | tttgen us | binding | tt_transformers us | ttnn auto us | roofline us | tttgen / ttT | tttgen / auto "
        "| roofline / tttgen | tttgen L1 claim / ttnn KiB |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    notes = []
    for op in graph.ops_of("linear"):
        d = op.decisions
        shape = baseline_shape(op)
        outs = outcomes[op.key]
        ours = outs["tttgen"]
        roof = roofline_ns(graph, op)
        tally(where, op, outs, roof, summary)
        for policy, o in outs.items():
            if o.rejected:
                notes.append(f"- {op.key} {policy}: {o.excluded}")
            elif o.rules_illegal and o.time_ns is not None:
                notes.append(
                    f"- {op.key} {policy}: tttgen's rules call it illegal ({o.rules_illegal}), ttnn accepts it"
                )
        rows = f"{shape.batch}x{shape.m}" if shape.batch > 1 else f"{shape.m}"
        roof_cell = f"{roof / ours.time_ns:.2f}" if ours.time_ns else "-"
        lines.append(
            f"| {op.mode_key} | {op.name} | {rows} x {shape.k} x {shape.n} | {fmt(ours)} | {d['binding']} | {fmt(outs['tt_transformers'])} "
            f"| {fmt(outs['ttnn_auto'])} | {roof / 1000:.1f} | {ratio_cell(ours, outs['tt_transformers'])} | {ratio_cell(ours, outs['ttnn_auto'])} "
            f"| {roof_cell} | {l1_cell(ours)} |"
        )
    if notes:
        lines.append("")
        lines.append(
            "Configs left out or flagged (`*`: tttgen's rules call it illegal, ttnn accepts it; its modeled time is used):"
        )
        lines.append("")
        lines.extend(notes)


def per_token(graph, outcomes: dict, lines: list[str]) -> None:
    layers = graph.entry.reference.num_hidden_layers
    lines.append("")
    lines.append("| mode | matmul time per forward ms (tttgen) | tt_transformers ms | per token us (tttgen) |")
    lines.append("|---|---|---|---|")
    for key in graph.mode_keys():
        ours = ttt = 0.0
        complete = True
        for op in graph.ops_of("linear"):
            if op.mode_key != key:
                continue
            mult = layers if op.scope == "layer" else 1
            ours += op.decisions["time_ns"] * mult
            t = outcomes[op.key]["tt_transformers"].time_ns
            if t is None:
                complete = False
            else:
                ttt += t * mult
        missing = "" if complete else " (some configs rejected by ttnn)"
        if key == "decode":
            for batch in (1, 32):
                lines.append(
                    f"| decode batch {batch} | {ours / 1e6:.2f} | {ttt / 1e6:.2f}{missing} | {ours / batch / 1e3:.1f} |"
                )
        else:
            seq = int(key.split("_")[1])
            lines.append(f"| {key} | {ours / 1e6:.2f} | {ttt / 1e6:.2f}{missing} | {ours / seq / 1e3:.2f} |")


def published(model: str, device: str) -> list[tuple[float, str]]:
    path = DATA / "model_perf.csv"
    if not path.exists():
        return []
    wanted = {"llama-3.1-8b": "Llama 3.1 8B", "llama-3.2-1b": "Llama 3.2 1B", "llama-3.2-3b": "Llama 3.2 3B"}[model]
    hw = {"n150": "n150 (Wormhole)", "p150": "p150 (Blackhole)"}[device]
    out = []
    for row in csv.DictReader(path.open()):
        if row["model"] == wanted and row["hardware"] == hw and row["batch"] == "32" and row["tok_s_u"]:
            out.append((float(row["tok_s_u"]), f"{row['source_doc']} {row['source_version']}"))
    return out


# --------------------------------------------------------------------------- summary


def summary_lines(summary: dict) -> tuple[list[str], bool]:
    """The summary, and whether tttgen's own configs pass (ttnn accepts every one; no L1 claim below ttnn's)."""
    lines = ["\n## Summary\n"]
    for key in ("ratio_vs_tt_transformers", "ratio_vs_ttnn_auto"):
        values = summary.get(key, [])
        if values:
            lines.append(
                f"- tttgen / {key[9:]} per matmul, pairs ttnn accepts both: median {statistics.median(values):.2f}, "
                f"max {max(values):.3f} over {len(values)} ops"
            )
    for key in ("roofline_fraction_decode", "roofline_fraction_prefill"):
        values = summary.get(key, [])
        if values:
            lines.append(f"- {key.replace('_', ' ')}: median {statistics.median(values):.2f}, min {min(values):.2f}")
    slower = summary.get("slower", [])
    lines.append(f"- ops where tttgen is modeled slower than a baseline: {len(slower)}")
    lines.extend(f"  - {s}" for s in slower)
    for policy in POLICIES:
        rejected = summary.get(f"rejected_{policy}", [])
        judged = summary.get(f"configs_{policy}", 0)
        must = " (must be 0)" if policy == "tttgen" else ""
        lines.append(f"- {policy} configs rejected by ttnn: {len(rejected)} of {judged}{must}")
        if policy != "tttgen":
            lines.extend(f"  - {s}" for s in rejected)
    for policy in BASELINES:
        accepted = summary.get(f"rules_illegal_accepted_{policy}", [])
        if accepted:
            by_rule = Counter(s.rsplit(": ", 1)[1] for s in accepted)
            rules = ", ".join(f"{rule} {count}" for rule, count in sorted(by_rule.items()))
            lines.append(
                f"- {policy} configs tttgen's rules call illegal but ttnn accepts (kept, at their modeled time): {len(accepted)} ({rules})"
            )
    under = summary.get("l1_under", [])
    lines.append(
        f"- tttgen configs whose L1 claim is below ttnn's l1_total: {len(under)} of {summary.get('l1_compared', 0)} (must be 0)"
    )
    failures = [f"FAILURE: tttgen's chosen config rejected by ttnn: {s}" for s in summary.get("rejected_tttgen", [])]
    failures += [f"FAILURE: tttgen's L1 claim below ttnn's l1_total: {s}" for s in under]
    if failures:
        lines.append("")
        lines.append(f"**FAILURE: {len(failures)} problem(s) with tttgen's own configs**")
        lines.append("")
        lines.extend(f"- {s}" for s in failures)
    return lines, not failures


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tp8 = tp8_chip_spec(Path(tmp))
        requests = [
            (model, device, FLAGS)
            for model, device in (
                ("llama-3.2-1b", "n150"),
                ("llama-3.2-1b", "p150"),
                ("llama-3.1-8b", "n150"),
                ("llama-3.1-8b", "p150"),
                (tp8, "n150"),
                (tp8, "p150"),
            )
        ]
        graphs = [plan(Request(model, device, None, flags)).graph for model, device, flags in requests]
    tagged = [(g, "bench") for g in graphs]
    cases = {
        (g.name, g.device.name, tag): {op.key: policy_cases(g, op) for op in g.ops_of("linear")}
        for g, tag in tagged
    }
    verdicts = judge_all(
        [c for per_op in cases.values() for per_policy in per_op.values() for c in per_policy.values() if c is not None]
    )
    outcomes = {
        (g.name, g.device.name, tag): {
            op.key: op_outcomes(g, op, cases[(g.name, g.device.name, tag)][op.key], verdicts)
            for op in g.ops_of("linear")
        }
        for g, tag in tagged
    }

    lines = [
        "# Optimizer benchmark (modeled times, calibrated cost model; every config judged by the real ttnn 0.81.1)\n"
    ]
    summary: dict = {}
    for graph in graphs:
        outs = outcomes[(graph.name, graph.device.name, "bench")]
        lines.append(f"\n## {graph.name} on {graph.device.name}\n")
        matmul_table(graph, outs, lines, summary)
        per_token(graph, outs, lines)
    more, ok = summary_lines(summary)
    lines.extend(more)
    print("\n".join(lines))
    if not ok:
        print("optimizer.py: tttgen's own configs fail the real-ttnn check (see the FAILURE lines)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
