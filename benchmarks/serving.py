"""Serving figures (issue 24), modeled with the calibrated cost model and the device profiles' PCIe figures:

1. host transfers and host calls per greedy decode token, before the step state moved on device (tokens, positions
   and rotary rows copied in every step, the trace replayed, the ids read back) and as emitted now (the step advances
   its inputs itself; only the replay and the ids read remain), and what the ids read is made of;
2. modeled decode tokens/s/user at batch 32 with BOTH precision presets per row, labelled, next to the published
   tt_transformers figure (which its `performance` configuration produced);
3. module packages traced as emitted (`traced=True`: the inputs copied into the persistent ones on device, one trace
   replay) against untraced (each op dispatched by the host): PI0's `sample_actions` and a Boltz Pairformer layer;
4. the 8B n150 decode step against the DRAM roofline at the achievable DRAM-sharded bandwidth the profile states:
   which terms keep it below 0.90 (issue 24's goal), and the bound with each term removed.

Usage: python benchmarks/serving.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from decode import FLAGS, ROWS, roofline_bytes, step_device_ns  # noqa: E402
import optimizer  # noqa: E402
from optimizer import published  # noqa: E402

from tttgen.cost.host import HostIO, host_io_ns, transfer_ns  # noqa: E402
from tttgen.scoring import op_time_ns  # noqa: E402
from tttgen.cost.calibration import coeffs_for_arch  # noqa: E402
from tttgen.generate import Request, plan  # noqa: E402
from tttgen.passes.op_costs import (  # noqa: E402
    ID_BYTES,
    dispatched_ops,
    entry_host_io,
    greedy_tail_ns,
    op_cost,
    runs_per_call,
    untraced_time_ns,
)

# the published table sits beside the repository's parent (optimizer.DATA) or, in a worktree, one level up
for _base in (ROOT.parent, ROOT.parent.parent):
    if (_base / "shared" / "reference" / "data" / "model_perf.csv").exists():
        optimizer.DATA = _base / "shared" / "reference" / "data"
        break

PRESETS = ("accuracy", "performance")
GOAL_HOST_US = 10.0
GOAL_ROOFLINE = 0.90


def flags(preset: str):
    return tuple((k, preset if k == "precision" else v) for k, v in FLAGS)


def lm_graph(model: str, device: str, preset: str):
    return plan(Request(model, device, None, flags(preset))).graph


# ---- 1. host transfers per token


def host_lines(graphs) -> list[str]:
    lines = [
        "## Host transfers and host calls per greedy decode token\n",
        "Modeled from the device profile's `host_link` (tt-umd PCIe DMA figures; one enqueued host call priced at the "
        "median measured host dispatch of a cached ttnn op). Before: the step copied tokens, positions and rotary rows "
        "every step. Now (as emitted): they advance on device and the greedy ids become the next step's tokens there; "
        "the page table and sampling parameters are copied only when they change. Both replay one trace and read the "
        "ids. Goal: copies <= 10 us per token besides the ids read.\n",
        "| model | device | before: calls; copies + read = us | now: calls; copies + read = us | the read: host call + "
        "PCIe latency + bytes | with the replay call: before / now us | goal met |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in graphs:
        link, users = g.device.host_link, g.facts["decode_users"]
        before_in = host_io_ns(link, HostIO(inputs=(users * ID_BYTES,) * 3))
        now = g.facts["decode_host_transfers"]["greedy"]
        read_bytes = users * ID_BYTES
        latency = link.d2h_latency_ns
        bytes_ns = transfer_ns(link, read_bytes, False) - latency
        replay = link.host_call_ns
        lines.append(
            f"| {g.name} | {g.device.name} | 3 copies + replay + read = 5; {before_in / 1e3:.1f} + "
            f"{now['read_ns'] / 1e3:.1f} = {(before_in + now['read_ns']) / 1e3:.1f} "
            f"| {now['in']} copies + replay + {now['out']} read = {now['in'] + 1 + now['out']}; "
            f"{now['in_ns'] / 1e3:.1f} + {now['read_ns'] / 1e3:.1f} = {now['transfer_ns'] / 1e3:.1f} "
            f"| {link.host_call_ns / 1e3:.2f} + {latency / 1e3:.2f} + {bytes_ns / 1e3:.3f} ({read_bytes} B) "
            f"| {(before_in + now['read_ns'] + replay) / 1e3:.1f} / {(now['transfer_ns'] + replay) / 1e3:.1f} "
            f"| {'yes' if now['in_ns'] / 1e3 <= GOAL_HOST_US else 'no'} |"
        )
    return lines


def generate_loop_lines(graphs) -> list[str]:
    """The generate loop's host time per token: before this report's changes it passed every slot's token each step
    (idle and finished slots never equal the device's argmax, so the tokens were copied every step) and read each
    step's ids before enqueuing the next; now only live slots' tokens are compared (copied on the first step only)
    and each step is enqueued before the previous one's ids are read, so the replay call and the read overlap the
    device's step."""
    lines = [
        "The generate loop (generate.py) per token. Before: it copied the tokens every step (the idle and finished "
        "slots' tokens it passes never equal the argmax the device wrote there; measured with the tiny Llama on the emulator: 7 "
        "copies in 7 steps) and read each step's ids before enqueuing the next, so replay + copy + read were serial with the "
        "device. Now: tokens copied on the first step only (1 in 7), each step enqueued before the previous step's "
        "ids are read: the host's 2 calls per token run while the device computes.\n",
        "| model | device | preset | device step ms (greedy) | before: + host serial us = t/s/u | now: host busy us per "
        "step (overlapped) = t/s/u |",
        "|---|---|---|---|---|---|",
    ]
    for g in graphs:
        link, users = g.device.host_link, g.facts["decode_users"]
        dev = step_device_ns(g, lambda op: op.decisions["time_ns"]) + greedy_tail_ns(g)
        now = g.facts["decode_host_transfers"]["greedy"]
        copy = host_io_ns(link, HostIO(inputs=(users * ID_BYTES,)))
        before = now["transfer_ns"] + link.host_call_ns + copy
        busy = now["transfer_ns"] + link.host_call_ns
        lines.append(
            f"| {g.name} | {g.device.name} | `performance` | {dev / 1e6:.2f} "
            f"| {before / 1e3:.1f} = {1e9 / (dev + before):.1f} | {busy / 1e3:.1f} < {dev / 1e3:.0f} = "
            f"{1e9 / max(dev, busy):.1f} |"
        )
    return lines


# ---- 2. t/s/u with both presets


def preset_lines(rows=ROWS) -> tuple[list[str], dict]:
    lines = [
        "## Modeled decode t/s/u at batch 32, both presets\n",
        "tttgen's emitted greedy step as decode_forward runs it when its ids are read at once (device at traced op "
        "gaps + the on-device argmax + the replay call and the ids read, serial), 128 cached rows; the generate "
        "loop overlaps the host part (table above). "
        "The published tt_transformers figures come from its `performance` configuration (PERF.md; bfloat4 FF1/FF3, "
        "bfloat8 elsewhere): compare the `performance` column with them; `accuracy` is what the committed "
        "accuracy goldens run.\n",
        "| model | device | tttgen `accuracy`: step ms, t/s/u | tttgen `performance`: step ms, t/s/u "
        "| published tt_transformers (`performance`) t/s/u | tttgen `performance` / published |",
        "|---|---|---|---|---|---|",
    ]
    graphs = {}
    for model, device in rows:
        cells = []
        for preset in PRESETS:
            g = lm_graph(model, device, preset)
            graphs[(model, device, preset)] = g
            dev = step_device_ns(g, lambda op: op.decisions["time_ns"]) + greedy_tail_ns(g)
            step = dev + host_io_ns(g.device.host_link, entry_host_io(g, "decode", tail="greedy"))
            cells.append((step, 1e9 / step))
        refs = published(model, device)
        pub = f"{refs[0][0]} ({refs[0][1]})" if refs else "n/a (the published table is absent)"
        ratio = f"{cells[1][1] / refs[0][0]:.2f}" if refs else "n/a"
        lines.append(
            f"| {model} | {device} | {cells[0][0] / 1e6:.2f}, {cells[0][1]:.1f} | {cells[1][0] / 1e6:.2f}, "
            f"{cells[1][1]:.1f} | {pub} | {ratio} |"
        )
    return lines, graphs


# ---- 3. traced module packages


def copy_ns(graph, nbytes: int) -> float:
    """One ttnn.copy of a persistent input on device (DRAM to DRAM, the traced op gap included)."""
    return op_time_ns(graph.device, "reshard", bytes_in=nbytes, bytes_out=nbytes, src="dram", dst="dram").total_ns


def input_bytes(io: dict, skip=()) -> list[int]:
    out = []
    for name, shape in io["inputs"].items():
        if not shape or name in skip:
            continue  # a host int (part of the trace's key) or an input a weight starts: not copied
        n = 4 if io.get("dtypes", {}).get(name) in ("uint32", "int32") else 2
        for d in shape:
            n *= d
        out.append(n)
    return out


def traced_call_ns(graph, key: str, repeats: int = 1, skip=()) -> tuple[float, float, int]:
    """(traced as emitted, untraced, ops dispatched) for one call of `key` run `repeats` times in a row (a sampler's
    loop): traced = the persistent inputs copied on device + the ops at traced gaps + one replay's host call;
    untraced = each op bound by its device time or the host's dispatch of it."""
    link = graph.device.host_link
    copies = sum(copy_ns(graph, b) for b in input_bytes(graph.facts["io"][key], skip))
    traced = copies + repeats * graph.facts["mode_time_ns"][key] + link.host_call_ns
    untraced = repeats * untraced_time_ns(graph, key)
    return traced, untraced, repeats * dispatched_ops(graph, key)


def module_lines() -> list[str]:
    lines = [
        "## Module packages traced as emitted against untraced\n",
        "`traced=True` (templates/model.py.j2 traced_call): each tensor input copied into its persistent device "
        "tensor (ttnn.copy), one execute_trace; the ops at the traced op gap. Untraced: the host dispatches each op "
        "(an op takes the longer of its device time and one host dispatch, the profile's host_call_ns). Modeled.\n",
        "| package | device | call | ops dispatched | untraced ms | traced as emitted ms | speedup |",
        "|---|---|---|---|---|---|---|",
    ]
    pi0 = plan(Request("pi0", "p150")).graph
    sampler = pi0.facts["sampler"]
    calls = [(pi0, "pi0", "forward (prefix)", max(k for k in pi0.mode_keys() if k != sampler["mode_key"]), 1, ()),
             (pi0, "pi0", f"sample_actions ({sampler['count']} steps)", sampler["mode_key"], sampler["count"],
              tuple(sampler["start"]))]  # the loop's started input (a weight) is not an argument
    for n in (64, 256):
        g = plan(Request("boltz_pairformer_layer", "p150", params=(("n", str(n)),))).graph
        calls.append((g, "boltz_pairformer_layer", f"forward, n={n}", f"prefill_{n}", 1, ()))
    for g, name, label, key, repeats, skip in calls:
        traced, untraced, ops = traced_call_ns(g, key, repeats, skip)
        lines.append(f"| {name} | {g.device.name} | {label} | {ops} | {untraced / 1e6:.2f} | {traced / 1e6:.2f} "
                     f"| {untraced / traced:.2f}x |")
    return lines


# ---- 4. the 8B n150 roofline


def op_times(graph) -> dict[str, tuple[float, int, float]]:
    """Per decode op name: (modeled time per step, runs, weight bytes read) at 128 cached rows."""
    out: dict[str, list] = {}
    for op in graph.ops:
        d = op.decisions
        if op.mode != "decode" or d.get("elide") or d.get("jit_member_of"):
            continue
        n = runs_per_call(graph, op)
        if op.kind == "linear":
            t = d["time_ns"]
            w = graph.weight(op.weight)
            b = (w.k // 32) * -(-w.n // 32) * graph.device.tile_bytes[d["dtypes"]["in1"]]
        else:
            c = op_cost(op, graph, kv_len=128)
            t, b = (0.0 if c is None else c.total_ns), 0
        row = out.setdefault(op.name, [0.0, 0, 0.0, op.kind, op])
        row[0] += t * n
        row[1] += n
        row[2] += b * n
    return out


PAD = "DRAM-sharded padding (N to a multiple of 12 banks x 32)"
COMPUTE = "compute not hidden by the reads (cost model: 0.1 x compute, unfitted)"
FIXED = "fixed + op gaps of the matmuls"
SMALL = "non-matmul ops (norms, adds, rotary, heads, reshards, cache updates)"
SDPA = "sdpa over the K/V floor"
HOST = "greedy tail and host I/O (replay + ids read)"


def roofline_terms(g) -> tuple[float, float, dict[str, float], list[tuple]]:
    """(roofline ns, emitted greedy step ns, the step's excess over the roofline by term, per-op rows). The terms
    and the roofline add up to the step: every matmul's time is its real weight bytes at the achievable bandwidth
    plus padding, unhidden compute and fixed + gap; sdpa is the K/V floor plus its excess."""
    dev = g.device
    roof = roofline_bytes(g) / dev.dram.sharded_gbps
    tail = greedy_tail_ns(g)
    host = host_io_ns(dev.host_link, entry_host_io(g, "decode", tail="greedy"))
    ops = op_times(g)
    device_ns = sum(r[0] for r in ops.values())
    step = device_ns + tail + host
    terms = {PAD: 0.0, COMPUTE: 0.0, FIXED: 0.0, SMALL: 0.0, SDPA: 0.0, HOST: tail + host}
    kv_floor = (roofline_bytes(g) - sum(r[2] for r in ops.values())) / dev.dram.sharded_gbps
    rows = []
    for name, (t, n, b, kind, op) in sorted(ops.items(), key=lambda kv: -kv[1][0]):
        floor, what = b / dev.dram.sharded_gbps, ""
        if kind == "linear":
            c = op.decisions["cost"]
            calls = t / c.total_ns  # the op's calls per step (layers, column chunks)
            pad = (c.dram_bytes * calls - b) / dev.dram.sharded_gbps
            hidden = coeffs_for_arch(dev.arch).dram_sharded_overlap * c.compute_ns * calls
            fixed = t - floor - pad - hidden
            terms[PAD] += pad
            terms[COMPUTE] += hidden
            terms[FIXED] += fixed
            what = f"padding {pad / 1e6:.2f}, compute {hidden / 1e6:.2f}, fixed+gap {fixed / 1e6:.2f}"
        elif kind == "sdpa_decode":
            terms[SDPA] += t - kv_floor
            floor, what = kv_floor, f"K/V floor {kv_floor / 1e6:.2f}"
        else:
            terms[SMALL] += t
        rows.append((name, n, t, t / device_ns, b, floor, what))
    return roof, step, terms, rows


def roofline_lines(graphs) -> list[str]:
    lines = [
        "## 8B n150 decode step against the DRAM roofline at the achievable bandwidth\n",
        "The roofline: every decode weight read once and K/V up to 128 rows, at the profile's achievable DRAM-sharded "
        "bandwidth (n150.yaml dram.sharded_gbps 240 GB/s; tech_reports/LLMs/llms.md 4.6.1: DRAM-sharded ~240 GB/s, "
        "Llama3-70B decode matmuls 239-260 GB/s, microbenchmark 267 GB/s). The step: the emitted greedy step.\n",
    ]
    for preset in PRESETS:
        g = graphs[("llama-3.1-8b", "n150", preset)]
        roof, step, terms, rows = roofline_terms(g)
        lines += [f"### `{preset}` preset: roofline {roof / 1e6:.2f} ms, step {step / 1e6:.2f} ms, fraction "
                  f"{roof / step:.3f} (goal {GOAL_ROOFLINE})\n",
                  "| op | runs | modeled ms | share | weight MB | floor ms (bytes / 240 GB/s) | excess ms | what the excess is |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, n, t, share, b, floor, what in rows:
            if share >= 0.003:
                lines.append(f"| {name} | {n} | {t / 1e6:.3f} | {100 * share:.1f}% | {b / 1e6:.0f} "
                             f"| {floor / 1e6:.3f} | {(t - floor) / 1e6:.3f} | {what} |")
        lines += ["", "| term keeping the step above the roofline | ms | fraction with it removed |", "|---|---|---|"]
        for term, ns in terms.items():
            lines.append(f"| {term} | {ns / 1e6:.3f} | {roof / (step - ns):.3f} |")
        matmul = terms[PAD] + terms[COMPUTE] + terms[FIXED]
        lines.append(f"| all matmul excess (every matmul at exactly 240 GB/s on its real bytes) | {matmul / 1e6:.3f} "
                     f"| {roof / (step - matmul):.3f} |")
        lines.append(f"| unhidden compute and the non-matmul ops | {(terms[COMPUTE] + terms[SMALL]) / 1e6:.3f} "
                     f"| {roof / (step - terms[COMPUTE] - terms[SMALL]):.3f} |")
        need = step - roof / GOAL_ROOFLINE
        lines.append(f"\nTo reach {GOAL_ROOFLINE} the step must lose {need / 1e6:.2f} ms ({step / 1e6:.2f} -> "
                     f"{roof / GOAL_ROOFLINE / 1e6:.2f} ms).\n")
    return lines


def report() -> list[str]:
    lines = ["# Serving: host I/O per token, both presets, traced module packages, the 8B roofline\n"]
    preset, graphs = preset_lines()
    lines += host_lines([graphs[(m, d, "performance")] for m, d in ROWS]) + [""]
    lines += generate_loop_lines([graphs[(m, d, "performance")] for m, d in ROWS]) + [""]
    lines += preset + [""]
    lines += module_lines() + [""]
    lines += roofline_lines(graphs)
    return lines


def main() -> int:
    print("\n".join(report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
