"""tttgen's choices against the policies users have today, on the same calibrated cost model.

For each model/device and mode: per matmul, the modeled time of tttgen's config, tt_transformers'
hand-written config (its memory plan: DRAM-sharded decode weights), ttnn's auto-config for
program_config=None (everything DRAM interleaved, ttnn's default compute-kernel config) and the
roofline (compute peak at tttgen's fidelity on the whole grid; nominal DRAM bandwidth for the bytes
read). Then the system-level check: the tt_transformers policy end to end for one decode step
(every op, op-to-op gaps included) against the published tokens/s/user.
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tttgen.baselines.tt_transformers import baseline_config  # noqa: E402
from tttgen.cost.ttnn_auto import ttnn_auto_config  # noqa: E402
from tttgen.generate import Request, plan  # noqa: E402
from tttgen.ir.configs import DRAM_INTERLEAVED, MATMUL_DRAM_SHARDED, ComputeKernelConfig, MatmulShape  # noqa: E402
from tttgen.passes.matmul_program import _width_sharded_out  # noqa: E402
from tttgen.passes.memory import dram_sharded_weight  # noqa: E402
from tttgen.passes.op_costs import op_cost  # noqa: E402
from tttgen.rules.matmul import MatmulCase, matmul_violations  # noqa: E402
from tttgen.scoring import matmul_time_ns  # noqa: E402

DATA = ROOT.parent / "shared" / "reference" / "data"
PREFILLS = [128, 1024, 4096]
FLAGS = (("prefill_lens", PREFILLS), ("max_seq_len", 4096), ("fit_check", False))
TTNN_DEFAULT_KERNEL = ComputeKernelConfig("HiFi2", False, False, True)  # reference 1.9, no program config


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


def evaluate(case: MatmulCase) -> tuple[float | None, str]:
    broken = matmul_violations(case)
    if broken:
        return None, "illegal: " + broken[0].split(":")[0]
    cost = matmul_time_ns(case)
    return cost.total_ns, cost.binding


def tt_transformers_time(graph, op) -> tuple[float | None, str]:
    d = op.decisions
    shape = d["shape"]
    cfg, in0 = baseline_config(op.name, op.mode, shape, graph.model, graph.device, d["kernel"].fp32_dest_acc_en)
    decode = op.mode == "decode"
    in1 = dram_sharded_weight(shape.k, shape.n, graph.device) if op.name != "lm_head" else DRAM_INTERLEAVED
    if decode and op.name == "lm_head":
        in0 = d["in0"]
    out = _width_sharded_out(shape.nt, cfg.per_core_N, graph.device) if cfg.type == MATMUL_DRAM_SHARDED else d["out"] if decode else DRAM_INTERLEAVED
    case = MatmulCase(graph.device, shape, cfg, d["kernel"], in0 if decode else DRAM_INTERLEAVED, in1, out, *d["dtypes"].values())
    return evaluate(case)


def ttnn_auto_time(graph, op) -> tuple[float | None, str]:
    d = op.decisions
    shape: MatmulShape = d["shape"]
    dt = d["dtypes"]
    cfg = ttnn_auto_config(graph.device, shape, in0_dtype=dt["in0"], in1_dtype=dt["in1"], out_dtype=dt["out"])
    if not cfg.type.startswith("MatmulMultiCoreReuse"):
        return None, f"no-reuse {cfg.type}"
    case = MatmulCase(graph.device, shape, cfg, TTNN_DEFAULT_KERNEL, DRAM_INTERLEAVED, DRAM_INTERLEAVED, DRAM_INTERLEAVED, dt["in0"], dt["in1"], dt["out"])
    return evaluate(case)


def roofline_ns(graph, op) -> float:
    d = op.decisions
    shape: MatmulShape = d["shape"]
    device = graph.device
    compute = shape.flops / device.peak_flops(d["kernel"].math_fidelity) * 1e9
    tb = device.tile_bytes
    read = shape.kt * shape.nt * tb[d["dtypes"]["in1"]]
    if d["in0"].buffer == "DRAM":
        read += shape.batch * shape.mt * shape.kt * tb[d["dtypes"]["in0"]]
    return max(compute, read / device.dram.nominal_gbps)


def fmt(t: float | None) -> str:
    return "-" if t is None else f"{t / 1000:.1f}"


def matmul_table(graph, lines: list[str], summary: dict) -> None:
    lines.append("| mode | op | M x K x N | tttgen us | binding | tt_transformers us | ttnn auto us | roofline us | tttgen / ttT | tttgen / auto | roofline / tttgen |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for op in graph.ops_of("matmul"):
        d = op.decisions
        shape = d["shape"]
        ours = d["time_ns"]
        ttt, ttt_note = tt_transformers_time(graph, op)
        auto, auto_note = ttnn_auto_time(graph, op)
        roof = roofline_ns(graph, op)
        r_ttt = f"{ours / ttt:.2f}" if ttt else ttt_note
        r_auto = f"{ours / auto:.2f}" if auto else auto_note
        for name, base in (("tt_transformers", ttt), ("ttnn_auto", auto)):
            if base is not None:
                summary.setdefault(f"ratio_vs_{name}", []).append(ours / base)
                if ours > base * 1.0001:
                    summary.setdefault("slower", []).append(f"{graph.model.name}/{graph.device.name} {op.key} vs {name}: {ours / base:.3f}")
        summary.setdefault("roofline_fraction_" + ("decode" if op.mode == "decode" else "prefill"), []).append(roof / ours)
        rows = f"{shape.batch}x{shape.m}" if shape.batch > 1 else f"{shape.m}"
        lines.append(
            f"| {op.mode_key} | {op.name} | {rows} x {shape.k} x {shape.n} | {fmt(ours)} | {d['binding']} | {fmt(ttt)} | {fmt(auto)} | {fmt(roof)} | {r_ttt} | {r_auto} | {roof / ours:.2f} |"
        )


def per_token(graph, lines: list[str]) -> None:
    layers = graph.model.num_hidden_layers
    lines.append("")
    lines.append("| mode | matmul time per forward ms (tttgen) | tt_transformers ms | per token us (tttgen) |")
    lines.append("|---|---|---|---|")
    for key in graph.mode_keys():
        ours = ttt = 0.0
        complete = True
        for op in graph.ops_of("matmul"):
            if op.mode_key != key:
                continue
            mult = layers if op.scope == "layer" else 1
            ours += op.decisions["time_ns"] * mult
            t, _ = tt_transformers_time(graph, op)
            if t is None:
                complete = False
            else:
                ttt += t * mult
        if key == "decode":
            for batch in (1, 32):
                lines.append(f"| decode batch {batch} | {ours / 1e6:.2f} | {ttt / 1e6:.2f}{'' if complete else ' (some configs illegal)'} | {ours / batch / 1e3:.1f} |")
        else:
            seq = int(key.split("_")[1])
            lines.append(f"| {key} | {ours / 1e6:.2f} | {ttt / 1e6:.2f}{'' if complete else ' (some configs illegal)'} | {ours / seq / 1e3:.2f} |")


def decode_step_ns(graph, matmul_time) -> float:
    """One decode step at 128 filled KV rows: every op, gaps included, layers x layer ops + head."""
    layers = graph.model.num_hidden_layers
    total = 0.0
    for op in graph.ops:
        if op.mode != "decode":
            continue
        if op.kind == "matmul":
            t = matmul_time(op)
        else:
            cost = op_cost(op, graph, kv_len=128)
            t = 0.0 if cost is None else cost.total_ns
        total += t * (layers if op.scope == "layer" else 1)
    return total


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


def system_level(lines: list[str]) -> list[float]:
    lines.append("\n## System level: tt_transformers policy, decode batch 32, 128 KV rows\n")
    lines.append("| model | device | modeled t/s/u | published t/s/u (newest) | error |")
    lines.append("|---|---|---|---|---|")
    errors = []
    for model, device in (("llama-3.1-8b", "n150"), ("llama-3.1-8b", "p150"), ("llama-3.2-1b", "n150"), ("llama-3.2-3b", "n150")):
        graph = plan(Request(model, device, None, (("prefill_lens", [128]), ("max_seq_len", 1024), ("fit_check", False)))).graph

        def matmul_time(op):
            t, _ = tt_transformers_time(graph, op)
            return t if t is not None else op.decisions["time_ns"]

        step = decode_step_ns(graph, matmul_time)
        modeled = 1e9 / step
        refs = published(model, device)
        if not refs:
            lines.append(f"| {model} | {device} | {modeled:.1f} | n/a | |")
            continue
        value, source = refs[0]
        err = modeled / value - 1
        errors.append(abs(err))
        lines.append(f"| {model} | {device} | {modeled:.1f} | {value} ({source}) | {100 * err:+.0f}% |")
    return errors


def main() -> None:
    lines = ["# Optimizer benchmark (modeled times, calibrated cost model)\n"]
    summary: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("llama-3.2-1b", "n150"),
            ("llama-3.2-1b", "p150"),
            ("llama-3.1-8b", "n150"),
            ("llama-3.1-8b", "p150"),
            (tp8_chip_spec(Path(tmp)), "n150"),
            (tp8_chip_spec(Path(tmp)), "p150"),
        ]
        for model, device in cases:
            graph = plan(Request(model, device, None, FLAGS)).graph
            lines.append(f"\n## {graph.model.name} on {device}\n")
            matmul_table(graph, lines, summary)
            per_token(graph, lines)
    errors = system_level(lines)
    lines.append("\n## Summary\n")
    for key in ("ratio_vs_tt_transformers", "ratio_vs_ttnn_auto"):
        values = summary.get(key, [])
        if values:
            lines.append(f"- tttgen / {key[9:]} per matmul: median {statistics.median(values):.2f}, max {max(values):.3f} over {len(values)} ops")
    for key in ("roofline_fraction_decode", "roofline_fraction_prefill"):
        values = summary.get(key, [])
        if values:
            lines.append(f"- {key.replace('_', ' ')}: median {statistics.median(values):.2f}, min {min(values):.2f}")
    slower = summary.get("slower", [])
    lines.append(f"- ops where tttgen is modeled slower than a baseline: {len(slower)}")
    lines.extend(f"  - {s}" for s in slower)
    if errors:
        lines.append(f"- system-level |error| vs published t/s/u: median {100 * statistics.median(errors):.0f}%, max {100 * max(errors):.0f}% (goal 25%)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
