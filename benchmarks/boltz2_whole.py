"""Boltz-2 whole: one input of a 686-residue protein (704 tokens, 5632 atoms, 1024 MSA rows) as the `boltz2` package
runs it (modules/boltz2.yaml: `trunk` repeats one recycling step 4 times on device, priced here as that step's 4
calls; `condition` once; `denoise_step` once per sampling step, 200 calls), next to the same calls with TT-Boltz's configuration priced by the same cost model, and
next to TT-Boltz's published whole-inference runtime.

- **tttgen**: the package's modeled time per call, traced (`mode_time_ns`: traced op-to-op gaps) and untraced
  (`emitted_time_ns`: op by op, each op the longer of its device time and the host's dispatch), as its README prints.
- **TT-Boltz's configuration**: the same calls with every linear as TT-Boltz runs it and the triangle products with its
  explicit 2D config, everything else priced alike (benchmarks/boltz_trunk.py's price_mode, shared with the trunk and
  step benchmarks), traced and untraced the same way.
- **Published**: TT-Boltz's README (Jan 2026): ~1 min on one Blackhole p150, ~3 min on a Wormhole n300 for the whole
  inference of one 686-residue protein; the workload difference is listed in the report.

Sources: ../shared/reference/module-library-facts.md §2.1-§2.4; tt-boltz at 01bf765^ (src/boltz/main.py,
models/boltz2.py, modules/diffusionv2.py, modules/tenstorrent.py, modules/confidencev2.py). Modeled, no hardware.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from boltz_trunk import (
    DEVICES,
    PADDED,
    RECYCLES,
    RESIDUES,
    SAMPLING_STEPS,
    module_rows,
    price_mode,
    triangle_rows,
)  # noqa: E402
from tttgen.checking.realttnn.oracle import judge_matmuls  # noqa: E402
from tttgen.cost.host import transfer_ns  # noqa: E402
from tttgen.generate import Request, plan  # noqa: E402
from tttgen.passes.op_costs import untraced_time_ns  # noqa: E402

ATOMS_PER_TOKEN = 8  # boltz2.yaml's default: 5632 atoms for 704 tokens (a 686-residue protein, about 8 per residue)
MSA_ROWS = 1024  # facts §2.2: default subsample of 1024 MSA rows (boltz2.yaml's msa_rows default)
GOAL = 1.3  # issue 25: tttgen's trunk modeled >= 1.3x faster than TT-Boltz's configuration
# facts §2.4 (tt-boltz README "Current Runtime", 01bf765^): whole inference of one 686-residue protein
PUBLISHED = {
    "p150": ("Blackhole p150", 60.0),
    "n150": ("Wormhole n300 (two n150-class chips; no single-n150 figure is published)", 180.0),
}


@dataclass(frozen=True)
class Part:
    mode: str
    calls: int  # calls per input
    what: str
    tt_boltz_runs: str  # where TT-Boltz runs it


def parts(recycles: int = RECYCLES, steps: int = SAMPLING_STEPS) -> tuple[Part, ...]:
    """The package's three modes and how often one input calls each (facts §2.2: 3 recycling steps, 200 sampling
    steps, 1 diffusion sample)."""
    return (
        Part(
            "trunk",
            recycles + 1,
            "one recycling step: input embedding, s/z recycling, MSA module (4 layers), 64 " "Pairformer blocks",
            "device: MSA module and Pairformer; host (torch): input embedding, s/z recycling",
        ),
        Part(
            "condition",
            1,
            "diffusion conditioning once per trunk output: pairwise conditioner, q, c, atom-pair p, "
            "the 3 + 3 atom and 24 token bias stacks",
            "host (torch DiffusionConditioning); the step copies its "
            "outputs to device once and permutes, scales and masks the biases there",
        ),
        Part(
            "denoise_step",
            steps,
            "one score-model call: single conditioning, atom encoder, 24 token layers, atom " "decoder",
            "device (its atom attention by hand in L1, bf4 key gather, not modeled)",
        ),
    )


def untraced_with(graph, key: str, swapped: dict[str, tuple[float, int]]) -> float:
    """One call of a mode run op by op (op_costs.untraced_time_ns) with TT-Boltz's linears in place of tttgen's:
    each swapped op takes its TT-Boltz time per run, at least one host dispatch per ttnn call it makes (its row
    chunks)."""
    per_call = graph.device.host_link.host_call_ns

    def swap(op):
        if op.mode_key != key or op.name not in swapped:
            return op
        ns, calls = swapped[op.name]
        return op.decide(time_ns=max(ns, calls * per_call))

    return untraced_time_ns(graph.with_ops(swap(op) for op in graph.ops), key)


def price_whole(device: str, judge=judge_matmuls, n: int = PADDED, params: tuple = (), part_list=None) -> dict:
    """Every mode of the boltz2 package at n tokens on one device, both configurations, traced and untraced, per call
    and per input."""
    part_list = part_list or parts()
    # the trunk priced as one recycling step (recycling_steps 0), called recycles + 1 times: the package's default
    # runs those steps in one trunk call (a repeated call), the same ops plus the zero s and z made once
    request = Request(
        "boltz2", device, params=(("n", str(n)), ("max_atoms", str(ATOMS_PER_TOKEN * n)), ("recycling_steps", "0")) + params
    )
    graph = plan(request).graph
    rows = module_rows(graph, judge) + triangle_rows(graph)  # every mode's linears, judged once
    out = {"device": device, "graph": graph, "parts": []}
    for part in part_list:
        r = price_mode(graph, part.mode, judge, n, rows)
        r.update(
            part=part,
            untraced=graph.facts["emitted_time_ns"][part.mode],
            untraced_tt_boltz=untraced_with(graph, part.mode, r["swapped"]) + graph.facts["host_io_ns"][part.mode],
        )
        out["parts"].append(r)
    out["blocks"] = blocks_priced(out["parts"][0])
    for basis, ours, theirs in (("traced", "total", "tt_boltz"), ("untraced", "untraced", "untraced_tt_boltz")):
        out[basis] = (
            sum(p[ours] * p["part"].calls for p in out["parts"]),
            sum(p[theirs] * p["part"].calls for p in out["parts"]),
        )
    return out


def pairformer_block_ns(graph, key: str = "trunk") -> tuple[float, int]:
    """(modeled ns of the trunk's Pairformer blocks in one call, block count): the ops looped most often."""
    ops = [op for op in graph.ops if op.mode_key == key]
    blocks = max(op.runs for op in ops)
    return sum((op.decisions.get("time_ns") or 0.0) * op.runs for op in ops if op.runs == blocks), blocks


def blocks_priced(priced: dict) -> dict:
    """The trunk step's Pairformer blocks alone (the ops looped most often), both sides: tttgen's modeled time of
    those ops and the same with TT-Boltz's linears swapped in (every other op alike)."""
    ops = priced["ops"]
    blocks = max(op.runs for op in ops.values())
    ours = sum((op.decisions.get("time_ns") or 0.0) * op.runs for op in ops.values() if op.runs == blocks)
    delta = sum(
        (ns - ops[name].decisions["time_ns"]) * ops[name].runs
        for name, (ns, _) in priced["swapped"].items()
        if ops[name].runs == blocks
    )
    return {"blocks": blocks, "total": ours, "tt_boltz": ours + delta}


def tt_boltz_host_round_trips_ns(
    graph, n: int, msa_rows: int = MSA_ROWS, token_s: int = 384, token_z: int = 128, msa_cols: int = 36
) -> float:
    """What TT-Boltz copies over PCIe per recycling step, priced by the same host-link model (tttgen.cost.host):
    its MSAModule wrapper copies z, the MSA features and s_inputs in and z out, its PairformerModule wrapper s and z
    in and out (01bf765^ modules/tenstorrent.py TorchWrapper: from_torch / to_torch around every call), bf16."""
    link = graph.device.host_link
    z, s, m = n * n * token_z * 2, n * token_s * 2, msa_rows * n * msa_cols * 2
    copies_in, copies_out = (z, m, s, s, z), (z, s, z)
    return sum(transfer_ns(link, b, True) + link.host_call_ns for b in copies_in) + sum(
        transfer_ns(link, b, False) + link.host_call_ns for b in copies_out
    )


def tt_boltz_faster(priced: dict, top: int = 3) -> list[tuple[str, float, float]]:
    """The linears of one priced mode that TT-Boltz's configuration runs faster than tttgen's (op, tttgen ns per call
    of the mode, TT-Boltz ns), the largest gaps first."""
    ops = priced["ops"]
    gaps = [
        (name, ops[name].decisions["time_ns"] * ops[name].runs, ns * ops[name].runs)
        for name, (ns, _) in priced["swapped"].items()
        if ns < ops[name].decisions["time_ns"]
    ]
    return sorted(gaps, key=lambda g: g[2] - g[1])[:top]


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.2f}"


def _s(ns: float) -> str:
    return f"{ns / 1e9:.2f}"


def report(
    judge=judge_matmuls, devices=DEVICES, n: int = PADDED, params: tuple = (), part_list=None, residues: int = RESIDUES
) -> tuple[list[str], dict]:
    """Markdown lines and {device: {"trunk": ratio, "condition": ..., "denoise_step": ..., "total": ...}} (TT-Boltz's
    configuration / tttgen, traced), the trunk step's Pairformer blocks alone ("blocks") and the untraced total
    ("total_untraced")."""
    part_list = part_list or parts()
    atoms = ATOMS_PER_TOKEN * n
    msa_rows = int(dict(params).get("msa_rows", MSA_ROWS))
    widths = {k: int(v) for k, v in params if k in ("token_s", "token_z")}
    lines = [
        f"# Boltz-2 whole, {residues} residues ({n} tokens, {atoms} atoms, {msa_rows} MSA rows): the boltz2 package "
        "against TT-Boltz's configuration (modeled)\n",
        "All times are modeled by tttgen's cost model (no hardware). Ratio = TT-Boltz's configuration / tttgen "
        "(above 1: tttgen faster). Traced: ops at traced op-to-op gaps; untraced: op by op, each op the longer of its "
        "device time and one host dispatch (TT-Boltz does not trace; the boltz2 package runs untraced as emitted, and its "
        "README prints both).\n",
    ]
    ratios: dict[str, dict[str, float]] = {}
    results = {}
    for device in devices:
        w = price_whole(device, judge, n, params, part_list)
        results[device] = w
        ratios[device] = {p["part"].mode: p["tt_boltz"] / p["total"] for p in w["parts"]}
        ratios[device]["total"] = w["traced"][1] / w["traced"][0]
        ratios[device]["blocks"] = w["blocks"]["tt_boltz"] / w["blocks"]["total"]
        ratios[device]["total_untraced"] = w["untraced"][1] / w["untraced"][0]
        lines += [
            f"\n## {device}\n",
            "| part | calls per input | tttgen ms per call (traced) | TT-Boltz's configuration ms (traced) | ratio | "
            "tttgen ms (untraced) | TT-Boltz's configuration ms (untraced) | ratio untraced | tttgen s per input "
            "(traced) | TT-Boltz's configuration s per input (traced) |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for p in w["parts"]:
            c = p["part"].calls
            lines.append(
                f"| {p['part'].mode} | {c} | {_ms(p['total'])} | {_ms(p['tt_boltz'])} | {p['tt_boltz'] / p['total']:.2f}x | "
                f"{_ms(p['untraced'])} | {_ms(p['untraced_tt_boltz'])} | {p['untraced_tt_boltz'] / p['untraced']:.2f}x | "
                f"{_s(p['total'] * c)} | {_s(p['tt_boltz'] * c)} |"
            )
        b = w["blocks"]
        lines.append(
            f"| of which the {b['blocks']} Pairformer blocks (trunk) | {w['parts'][0]['part'].calls} | {_ms(b['total'])} | "
            f"{_ms(b['tt_boltz'])} | {b['tt_boltz'] / b['total']:.2f}x | | | | {_s(b['total'] * w['parts'][0]['part'].calls)} | "
            f"{_s(b['tt_boltz'] * w['parts'][0]['part'].calls)} |"
        )
        (ours, theirs), (ours_u, theirs_u) = w["traced"], w["untraced"]
        lines.append(
            f"| **one input** | | | | **{theirs / ours:.2f}x** | | | **{theirs_u / ours_u:.2f}x** | **{_s(ours)}** "
            f"(untraced {_s(ours_u)}) | **{_s(theirs)}** (untraced {_s(theirs_u)}) |"
        )
        for p in w["parts"]:
            if p["chunked"]:
                lines.append(
                    f"\n- {p['part'].mode}: TT-Boltz's side priced as its 16-row chunks (its whole-tensor "
                    f"call cannot run): {', '.join(p['chunked'])}"
                )
            faster = tt_boltz_faster(p)
            if faster:
                lines.append(
                    f"\n- {p['part'].mode}: linears TT-Boltz's configuration runs faster (tttgen / TT-Boltz ms "
                    "per call): " + ", ".join(f"{o} {_ms(a)} / {_ms(b)}" for o, a, b in faster)
                )
            if p["missing"]:
                lines.append(
                    f"\n- {p['part'].mode}: not compared (priced alike), a config ttnn rejects on one side: "
                    f"{', '.join(p['missing'])}"
                )
        trunk = w["parts"][0]
        blocks_ns, blocks = pairformer_block_ns(w["graph"], trunk["part"].mode)
        status = "reached" if ratios[device]["blocks"] >= GOAL else "not reached"
        lines += [
            f"\nTrunk goal (>= {GOAL}x on the {b['blocks']} Pairformer blocks, one recycle): **{status}**, "
            f"{ratios[device]['blocks']:.2f}x ({_s(b['total'])} s against {_s(b['tt_boltz'])} s; {GOAL}x needs tttgen at "
            f"{_s(b['tt_boltz'] / GOAL)} s); the whole recycling step {ratios[device]['trunk']:.2f}x "
            f"({_s(trunk['total'])} s against {_s(trunk['tt_boltz'])} s).",
            f"\nTT-Boltz's host round trips per recycling step (z, MSA features and s in, z and s out around its MSA "
            f"module and Pairformer calls), by the same host-link model: {_ms(tt_boltz_host_round_trips_ns(w['graph'], n, msa_rows, **widths))} "
            f"ms; {RECYCLES + 1} steps {_s((RECYCLES + 1) * tt_boltz_host_round_trips_ns(w['graph'], n, msa_rows, **widths))} s (not in either "
            "column: the boltz2 package keeps s and z on device).",
            f"\nNot built, priced from this trunk: the confidence module's 8 Pairformer blocks (TT-Boltz runs them on "
            f"device) at this trunk's per-block time: {_s(blocks_ns / blocks * 8)} s once per input.",
        ]
        label, pub = PUBLISHED.get(device, (None, None))
        if pub:
            lines.append(
                f"\nPublished (TT-Boltz README, whole inference of one 686-residue protein): ~{pub:.0f} s on {label}; "
                f"the modeled workload above is {_s(ours)} s traced, {_s(ours_u)} s untraced on {device} "
                f"({ours / 1e9 / pub:.0%} / {ours_u / 1e9 / pub:.0%} of it)."
            )
    lines += [
        "\n## Workload difference to the published runtime\n",
        '- Published: TT-Boltz README table "Current Runtime", total inference runtime for one 686-amino-acid protein '
        "(tt-boltz at 01bf765^, Jan 2026; removed 2026-06-06): AMD Ryzen 5 8600G ~45 min, NVIDIA T4 ~9 min, Wormhole "
        "n300 ~3 min, Blackhole p150 ~1 min, RTX 5090 ~1 min (module-library facts §2.4). It is wall time of the "
        "`boltz predict` run; the input file is examples/686.yaml (one protein chain, no MSA file: the MSA comes from "
        "the MSA server or is single-sequence, its depth is not stated).",
        f"- Samples: 1 diffusion sample (`--diffusion_samples` default 1, src/boltz/main.py); modeled: 1.",
        f"- Recycling steps: 3, so 4 trunk passes (`--recycling_steps` default 3); modeled: {RECYCLES + 1} trunk calls.",
        f"- Sampling steps: 200 (`--sampling_steps` default 200); modeled: {SAMPLING_STEPS} denoise_step calls.",
        "- On TT-Boltz's device (tt-boltz 01bf765^ models/boltz2.py, modules/diffusionv2.py, modules/confidencev2.py): "
        "the MSA module (its input projections included), the 64-block Pairformer, the score model per sampling step, "
        "the template stack's 2 Pairformer blocks (when templates are given) and the confidence module's 8 Pairformer "
        "blocks. On its host (torch on the CPU): featurising and the MSA search, the input embedder, s/z recycling "
        "(LayerNorm + linear over the [n, n, 128] pair tensor per step), the diffusion conditioning (pairwise "
        "conditioner, atom encoder, every bias projection), the sampler's noise, augmentation and update, the "
        "distogram and the rest of the confidence module, writing the structure; plus the per-call copies of s and z "
        "between host and device (priced above). Model loading and ttnn program compilation on first use are in the "
        "published wall time too.",
        "- Modeled here: the boltz2 package's three modes, all on one device: the trunk step includes the input "
        "embedding's on-device part and the recycling that TT-Boltz runs on its host, and the conditioning runs on "
        "device (TT-Boltz: host), priced on TT-Boltz's side with TT-Boltz's linear configuration as if it ran there. "
        "Not modeled: the host work, the confidence module, templates, compilation, the sampler's host update.",
        "\n## How TT-Boltz's configuration is priced\n",
        "- Shared with benchmarks/boltz_trunk.py and benchmarks/boltz_diffusion_step.py (price_mode): every linear "
        "with ttnn's auto-config on CORE_GRID_MAIN, bf16, HiFi4 with fp32 accumulation (facts §2.1; AdaLN's "
        "s_scale / s_bias without core_grid), judged by the real ttnn 0.81.1 on a mock device; the triangle products "
        "with TT-Boltz's explicit 2D config (§2.3); the pair and MSA transitions' fc1 / fc2 as its 16-row chunks where "
        "the whole-tensor call cannot run; every other op (norms, elementwise, permutes, SDPA) as tttgen emits it, on "
        "both sides. Not modeled: TT-Boltz's minimal_matmul input projections (priced as its `lin`), its triangle "
        "attention row chunks, bfp8 outputs under --fast, its atom-level attention by hand and its cached atom gates.",
        "- Untraced: the same ops, each the longer of its device time and one host dispatch per ttnn call "
        "(op_costs.untraced_time_ns; a chunked linear dispatches once per chunk).",
    ]
    return lines, ratios


def main() -> int:
    lines, _ = report()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
