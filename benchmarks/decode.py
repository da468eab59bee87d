"""Decode tokens/s/user at batch 32: tttgen's emitted decode step, tttgen's model of the tt_transformers policy,
and the published tt_transformers figures (tt-metal models README, `model_perf.csv`).

Both are modeled with the same calibrated cost model, at the `performance` precision preset (bfloat4 FF1/FF3,
bfloat8 elsewhere: tt_transformers' PERF.md "performance" configuration, the one its demo reports) and a KV cache
filled to 128 rows (the published runs' input length). One step is:

* device: every decode op at the traced op-to-op gap (both run decode as a captured trace);
  - tttgen: the configs the generator chose, plus the on-device argmax tail of `decode_forward(greedy=True)`;
  - tt_transformers: its hand-written matmul configs (tttgen.baselines.tt_transformers) on tttgen's op graph; a
    config the real ttnn 0.81.1 rejects is counted at tttgen's time and named;
* host: what each step moves over PCIe and the host calls it makes (tttgen.cost.host, device profile `host_link`):
  - tttgen: in steady state no input copy (positions and rotary rows advance on device, the argmax ids become the
    next step's tokens there; the step_state pass), the trace replay, 32 token ids read back;
  - tt_transformers: its demo at batch 32 samples on the host (simple_text_demo: `argmax_on_device` is False when
    more than one user decodes), so each step copies four inputs (tokens, positions, rotary indices, page table),
    replays the trace and reads the whole [32, vocab] bfloat16 logits back.
  The host's torch work on those logits (to float, argmax) is measured on this machine and shown apart: it is this
  CPU's figure, not the demo host's.
* a second table: tttgen's `decode_forward(sampling=...)` step (top-k / top-p drawn on device: ttnn.topk over the
  vocab's power-of-two chunks and ttnn.sampling, at their published measured times, tttgen.cost.measured) next to
  the same tt_transformers step (its demo samples on the host whatever the sampling parameters).

The DRAM roofline is the decode step's compulsory DRAM reads (every weight once, the K/V cache up to 128 rows) at
the profile's nominal DRAM bandwidth.
Usage: python benchmarks/decode.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from optimizer import judge_all, op_outcomes, policy_cases, published  # noqa: E402

from tttgen.checking.realttnn.oracle import judge_matmuls  # noqa: E402

from tttgen.cost.host import HostIO, host_io_ns  # noqa: E402
from tttgen.explain import layer_moves  # noqa: E402
from tttgen.generate import Request, plan  # noqa: E402
from tttgen.passes.op_costs import (  # noqa: E402
    entry_host_io,
    greedy_tail_ns,
    mode_totals,
    op_cost,
    runs_per_call,
    tail_ns,
)

ROWS = (("llama-3.2-1b", "n150"), ("llama-3.2-3b", "n150"), ("llama-3.1-8b", "n150"), ("llama-3.1-8b", "p150"))
KV_LEN = 128
FLAGS = (("prefill_lens", [128]), ("max_seq_len", 1024), ("fit_check", False), ("precision", "performance"))
GOAL_MODEL_ERROR = 0.25
GOAL_SPEEDUP = 1.10
GOAL_ROOFLINE = 0.85
ID_BYTES = 4
TT_INPUTS = 4  # tokens, current_pos, rotary indices, page table (tt_transformers prepare_decode_inputs_host)
PAGE_BLOCK = 32  # tt_transformers' demo page size (block_size)


def step_device_ns(graph, matmul_time) -> float:
    """One decode step at KV_LEN cached rows: every op times its runs per call, traced gaps (op_costs.mode_totals)."""

    def time_of(op) -> float:
        if op.mode != "decode":
            return 0.0
        if op.kind == "linear":
            return matmul_time(op)
        cost = op_cost(op, graph, kv_len=KV_LEN)
        return 0.0 if cost is None else cost.total_ns

    return mode_totals(graph, time_of)["decode"]


def roofline_bytes(graph) -> int:
    """Every decode weight read once, and K and V of every layer up to KV_LEN rows."""
    m, dev = graph.entry.reference, graph.device  # the causal LM's bound config: its layers and KV heads
    layers = m.num_hidden_layers
    total = 0
    for op in graph.ops_of("linear"):
        if op.mode != "decode":
            continue
        w = graph.weight(op.weight)  # the whole weight (a column-chunked one's padding is not compulsory)
        tiles = (w.k // 32) * -(-w.n // 32)
        total += tiles * dev.tile_bytes[op.decisions["dtypes"]["in1"]] * runs_per_call(graph, op)
    kv_tile = dev.tile_bytes[graph.facts["kv_dtype"]]
    users = graph.facts["decode_users"]
    kv_tiles = users * m.num_key_value_heads * (KV_LEN // 32) * (m.head_dim // 32)
    return total + 2 * layers * kv_tiles * kv_tile


def tt_transformers_host_ns(graph) -> float:
    """The demo's step: its four inputs copied in, the trace replayed, the logits read back (the same read as the
    emitted decode_forward without greedy)."""
    users = graph.facts["decode_users"]
    pages = users * (graph.hints.max_seq_len // PAGE_BLOCK) * ID_BYTES
    inputs = (users * ID_BYTES,) * (TT_INPUTS - 1) + (pages,)
    logits = entry_host_io(graph, "decode").outputs
    return host_io_ns(graph.device.host_link, HostIO(inputs=inputs, outputs=logits, other_calls=1))


def host_sampling_ms(vocab: int, users: int = 32, repeats: int = 15) -> float:
    """Median wall time of the demo's host-side work on the logits (bf16 -> float, argmax), on this machine."""
    import torch

    logits = torch.randn(1, 1, users, vocab).to(torch.bfloat16)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.argmax(logits.float()[0, 0, :users, :vocab], dim=-1)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def report(rows=ROWS, judge=judge_matmuls, sampling_ms=host_sampling_ms) -> list[str]:
    """The report's lines; `judge` gives ttnn's verdicts on the matmul configs, `sampling_ms(vocab)` the host's
    sampling time."""
    graphs = [plan(Request(model, device, None, FLAGS)).graph for model, device in rows]
    cases = {id(g): {op.key: policy_cases(g, op) for op in g.ops_of("linear") if op.mode == "decode"} for g in graphs}
    verdicts = judge_all([c for per_op in cases.values() for pol in per_op.values() for c in pol.values() if c], judge)
    lines = [
        "# Decode at batch 32: tttgen's emitted step, its model of tt_transformers, and the published figures\n",
        f"Modeled (calibrated cost model, traced op gaps, host I/O over PCIe), `performance` preset, {KV_LEN} cached "
        "rows. t/s/u = 1 / step time.\n",
        "| model | device | published t/s/u | ttT policy: device + host I/O = step ms | ttT t/s/u (error) "
        "| ttT + host sampling measured here: t/s/u (error) | tttgen emitted: device + host I/O = step ms "
        "| tttgen t/s/u | tttgen / ttT speed: step (device only; with host sampling) | DRAM roofline ms "
        "| roofline fraction: device step; as emitted | reshards per layer | ttT configs ttnn rejects |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    failures = []
    sampled_rows = []
    sampling: dict[int, float] = {}
    for graph in graphs:
        model, device = graph.name, graph.device.name
        outs = {op.key: op_outcomes(graph, op, cases[id(graph)][op.key], verdicts) for op in graph.ops_of("linear")
                if op.mode == "decode"}
        fallback = sorted(op.name for op in graph.ops_of("linear") if op.key in outs
                          and outs[op.key]["tt_transformers"].time_ns is None)

        def tt_time(op):
            t = outs[op.key]["tt_transformers"].time_ns
            return t if t is not None else op.decisions["time_ns"]

        vocab = graph.entry.reference.vocab_size
        if vocab not in sampling:
            sampling[vocab] = sampling_ms(vocab) * 1e6
        tt_dev = step_device_ns(graph, tt_time)
        tt_host = tt_transformers_host_ns(graph)
        ours_dev = step_device_ns(graph, lambda op: op.decisions["time_ns"]) + greedy_tail_ns(graph)
        ours_host = host_io_ns(graph.device.host_link, entry_host_io(graph, "decode", tail="greedy"))
        tt_step, ours_step = tt_dev + tt_host, ours_dev + ours_host
        drawn_dev = ours_dev - greedy_tail_ns(graph) + tail_ns(graph, "sampled")
        drawn_step = drawn_dev + host_io_ns(graph.device.host_link, entry_host_io(graph, "decode", tail="sampled"))
        sampled_rows.append(
            f"| {model} | {device} | {drawn_dev / 1e6:.2f} + {(drawn_step - drawn_dev) / 1e6:.2f} = "
            f"{drawn_step / 1e6:.2f} | {1e9 / drawn_step:.1f} | {(drawn_dev - ours_dev) / 1e3:+.0f} "
            f"| {tt_step / drawn_step:.2f} |"
        )
        tt_sampled = tt_step + sampling[vocab]
        roof = roofline_bytes(graph) / graph.device.dram.nominal_gbps
        refs = published(model, device)
        if refs:
            value, source = refs[0]
            pub = f"{value} ({source})"
            err, err_sampled = (1e9 / tt_step) / value - 1, (1e9 / tt_sampled) / value - 1
            err_cell = f"{1e9 / tt_step:.1f} ({100 * err:+.0f}%)"
            sampled_cell = f"{1e9 / tt_sampled:.1f} ({100 * err_sampled:+.0f}%)"
            if abs(err) > GOAL_MODEL_ERROR:
                failures.append(f"{model} {device}: ttT policy modeled {100 * err:+.0f}% from published (goal 25%); "
                                f"with the host sampling measured here {100 * err_sampled:+.0f}%")
        else:
            pub, err_cell, sampled_cell = "n/a (../shared absent)", f"{1e9 / tt_step:.1f}", f"{1e9 / tt_sampled:.1f}"
        speed = tt_step / ours_step
        if speed < GOAL_SPEEDUP:
            failures.append(f"{model} {device}: tttgen / ttT speed {speed:.3f} (goal >= {GOAL_SPEEDUP}); with the "
                            f"host sampling measured here {tt_sampled / ours_step:.2f}")
        lines.append(
            f"| {model} | {device} | {pub} | {tt_dev / 1e6:.2f} + {tt_host / 1e6:.2f} = {tt_step / 1e6:.2f} | {err_cell} "
            f"| {sampled_cell} | {ours_dev / 1e6:.2f} + {ours_host / 1e6:.2f} = {ours_step / 1e6:.2f} "
            f"| {1e9 / ours_step:.1f} | {speed:.2f} ({tt_dev / ours_dev:.2f}; {tt_sampled / ours_step:.2f}) "
            f"| {roof / 1e6:.2f} | {roof / ours_dev:.2f}; {roof / ours_step:.2f} "
            f"| {layer_moves(graph)['decode']['run']} | {', '.join(fallback) or 'none'} |"
        )
        if (model, device) == ("llama-3.1-8b", "n150") and roof / ours_step < GOAL_ROOFLINE:
            dram = graph.device.dram
            achievable = roof * dram.nominal_gbps / dram.sharded_gbps / ours_step
            failures.append(
                f"{model} {device}: {roof / ours_step:.2f} of the DRAM roofline (goal {GOAL_ROOFLINE}); "
                f"{achievable:.2f} of the DRAM-sharded bandwidth the profile takes as achievable "
                f"({dram.sharded_gbps:.0f} of {dram.nominal_gbps:.0f} GB/s), the ceiling of every matmul modeled"
            )
    lines += [
        "",
        "On-device top-k / top-p sampling (`decode_forward(sampling=...)`): the step, ttnn.topk over the vocab in "
        "power-of-two chunks (its multi-core factory) at the published measured topk times, ttnn.sampling's draw; "
        "next to the tt_transformers policy's step (its demo samples on the host at batch 32 whatever the sampling "
        "parameters):",
        "",
        "| model | device | tttgen sampled: device + host I/O = step ms | t/s/u | device us vs greedy "
        "| tttgen sampled / ttT speed |",
        "|---|---|---|---|---|---|",
        *sampled_rows,
        "",
        *(f"- host sampling (bf16 logits [32, {v}] to float, argmax), median of 15 on this machine's CPU: "
          f"{ns / 1e6:.2f} ms; the demo host's CPU will differ" for v, ns in sorted(sampling.items())),
        "",
        "Goals (issue 11), judged on the modeled figures (not the measured sampling): the tt_transformers policy "
        "within 25% of published on every row; tttgen's emitted decode at least 1.10x the policy's speed; 8B on "
        "n150 at >= 0.85 of the DRAM roofline (as emitted).",
    ]
    lines += [f"- NOT MET: {f}" for f in failures] or ["- all met"]
    lines += ["", *host_transfer_lines(graphs)]
    return lines


def host_transfer_lines(graphs) -> list[str]:
    """Host transfers per greedy decode token before the step state moved on device (tokens, positions and rotary
    rows copied in every step, the ids read back) and as emitted now (op_costs' decode_host_transfers), without the
    trace replay's host call, which both make."""
    lines = [
        "Host transfers per greedy decode token (modeled, PCIe figures of the device profile; the trace replay's host "
        "call is not a transfer and is left out): before, every step copied its tokens, positions and rotary rows; "
        "now the step advances them on device. Goal: <= 10 us plus the ids read.",
        "",
        "| model | device | before: copies + read = us | now: copies + read = us | goal met |",
        "|---|---|---|---|---|",
    ]
    for graph in graphs:
        link, users = graph.device.host_link, graph.facts["decode_users"]
        before_in = host_io_ns(link, HostIO(inputs=(users * ID_BYTES,) * 3))
        now = graph.facts["decode_host_transfers"]["greedy"]
        lines.append(
            f"| {graph.name} | {graph.device.name} | 3 + 1 = {(before_in + now['read_ns']) / 1e3:.1f} "
            f"| {now['in']} + {now['out']} = {now['transfer_ns'] / 1e3:.1f} "
            f"| {'yes' if now['in_ns'] <= 10_000 else 'no'} |"
        )
    return lines


def main() -> int:
    print("\n".join(report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
