"""Multi-chip decode: modeled tokens/s/user at batch 32 of tttgen's mesh packages next to the published figures, and
tt_transformers' layout priced by the same model.

Per row the package is planned twice by the whole pipeline (every per-op pass on per-chip shapes, then op_costs):
- **tttgen**: the layout the parallelism pass chose;
- **tt_transformers' layout**: the same build with every weight pinned as tt_transformers places it
  (tttgen/baselines/tt_transformers.py mesh_layout, through hints `overrides: split=`).
t/s/u is 1 / (one traced decode step with its on-device argmax and host I/O): each of the 32 users gets one token
per step. TTFT is the modeled prefill of 128 tokens. Published figures: tt-metal README LLM table (batch 32, ISL
128), copied with their source into the shared reference (multi-device.md section 3); the Galaxy figure comes from the
separately tuned llama3_70b_galaxy demo, not tt_transformers. Modeled numbers are deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tttgen.baselines.tt_transformers import mesh_layout  # noqa: E402
from tttgen.explain import mesh_summary  # noqa: E402
from tttgen.generate import Request, plan  # noqa: E402

# (model, device, published t/s/u, published TTFT ms, source note)
ROWS = (
    ("llama-3.1-70b", "t3k", 15.9, 159, "tt_transformers TP=8, v0.59.0-rc53"),
    ("llama-3.1-70b", "p150x4", 14.9, 188, "TP=4 QuietBox BH, v0.62.0-dev20251015 (tt_transformers runs it as 1x4)"),
    ("llama-3.1-70b", "galaxy", 72.5, 53, "separately tuned llama3_70b_galaxy demo, not tt_transformers"),
    ("llama-3.1-8b", "n300", None, None, "no N300 figure in the tt-metal table read"),
)


def step_ns(graph) -> float:
    return graph.facts.get("greedy_decode_ns") or graph.facts["mode_time_ns"]["decode"]


def row(model: str, device: str, published, ttft_pub, note: str) -> str:
    chosen = plan(Request(model, device)).graph
    pins = mesh_layout(chosen)
    overrides = {name: {"split": "/".join(split)} for name, split in sorted(pins.items())}
    baseline = plan(Request(model, device, None, (("overrides", overrides),))).graph
    s = mesh_summary(chosen)
    b = mesh_summary(baseline)
    tps, tps_tt = 1e9 / step_ns(chosen), 1e9 / step_ns(baseline)
    ttft = chosen.facts["mode_time_ns"].get("prefill_128", 0) / 1e6
    gain = tps / tps_tt - 1
    vs_pub = f"{published}" if published else "-"
    tt_err = f"{(tps_tt / published - 1) * 100:+.0f} %" if published else "-"
    ccl = ", ".join(f"{k} {v}" for k, v in s["collectives_per_layer"].items())
    ccl_tt = ", ".join(f"{k} {v}" for k, v in b["collectives_per_layer"].items())
    return (
        f"| {model} | {device} {chosen.device.mesh_shape[0]}x{chosen.device.mesh_shape[1]} | {tps:.1f} | {tps_tt:.1f} "
        f"| {gain * 100:+.1f} % | {vs_pub} | {tt_err} | {ttft:.0f} ({ttft_pub or '-'}) | {ccl}; {s['decode_ccl_share'] * 100:.0f} % "
        f"| {ccl_tt}; {b['decode_ccl_share'] * 100:.0f} % | {s['chosen_from']} | "
        f"{s['dram_per_chip']['total'] / 2**30:.1f} / {s['dram_per_chip']['capacity'] / 2**30:.0f} | {note} |"
    )


def main() -> None:
    print(
        "| model | device | tttgen t/s/u | tt_transformers' layout t/s/u | tttgen vs that | published t/s/u "
        "| that layout vs published | TTFT 128 ms (published) | tttgen CCLs per layer; share of step "
        "| tt_transformers' CCLs; share | layout from | DRAM per chip GiB | published source |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in ROWS:
        print(row(*r), flush=True)


if __name__ == "__main__":
    main()
