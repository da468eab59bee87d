"""Boltz-2's diffusion step whole: one denoising step of the score model (boltz2_diffusion_step: single conditioning,
atom encoder, 24-layer token transformer, atom decoder) for a 686-residue protein (704 tokens, 5632 atoms), as
tttgen generates it, next to the same package with every linear run as TT-Boltz runs it and priced by the same cost
model (benchmarks/boltz_trunk.py's stack(): ttnn's auto-config on CORE_GRID_MAIN judged by the real ttnn 0.81.1;
every other op priced alike), and times the 200 sampling steps of one sample.

Sources: ../shared/reference/module-library-facts.md §2.1-§2.4. Modeled numbers are deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from boltz_trunk import DEVICES, PADDED, RESIDUES, SAMPLING_STEPS, stack  # noqa: E402
from tttgen.checking.realttnn.oracle import judge_matmuls  # noqa: E402

ATOMS = 8 * PADDED  # 5632: the atoms of a 686-residue protein padded to whole 512-atom blocks (about 8 per residue)


def sections(graph, key: str) -> dict[str, float]:
    """Modeled ns per part of the step: the ops each looped call runs (times its layers) and the rest."""
    from tttgen.passes.op_costs import runs_per_call

    parts: dict[str, float] = {}
    for op in graph.ops:
        if op.mode_key != key:
            continue
        part = op.name.split(".")[0] if op.name.split(".")[0] in ("encoder_layers", "token_layers", "decoder_layers") else "other"
        parts[part] = parts.get(part, 0.0) + (op.decisions.get("time_ns") or 0.0) * runs_per_call(graph, op)
    return parts


def report(judge=judge_matmuls, devices=DEVICES) -> list[str]:
    from tttgen.generate import Request, plan

    lines = [
        f"# Boltz-2 diffusion step, {RESIDUES} residues ({PADDED} tokens, {ATOMS} atoms padded): tttgen against "
        "TT-Boltz's configuration (modeled)\n",
        "| device | one step: tttgen ms | TT-Boltz's configuration ms | speedup | atom encoder layers ms | token "
        f"transformer ms | atom decoder layers ms | the rest ms | {SAMPLING_STEPS} steps tttgen s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    params = (("max_atoms", str(ATOMS)),)
    for device in devices:
        r = stack("boltz2_diffusion_step", device, params, judge)
        graph = plan(Request("boltz2_diffusion_step", device, params=(("n", str(PADDED)),) + params)).graph
        parts = sections(graph, f"prefill_{PADDED}")
        ms = lambda ns: f"{ns / 1e6:.2f}"  # noqa: E731
        lines.append(
            f"| {device} | {ms(r['total'])} | {ms(r['tt_boltz'])} | {r['tt_boltz'] / r['total']:.2f}x | "
            f"{ms(parts.get('encoder_layers', 0))} | {ms(parts.get('token_layers', 0))} | "
            f"{ms(parts.get('decoder_layers', 0))} | {ms(parts.get('other', 0))} | {SAMPLING_STEPS * r['total'] / 1e9:.2f} |"
        )
        if r["chunked"]:
            notes.append(f"- {device}: TT-Boltz's side priced as its 16-row chunks: {', '.join(r['chunked'])}")
        if r["missing"]:
            notes.append(f"- {device}: not compared (priced alike), a config ttnn rejects on one side: {', '.join(r['missing'])}")
    lines += [""] + notes + [
        "\n- The step's inputs (the diffusion conditioning: q, c and the three per-layer biases) are computed once per "
        "trunk output, not per step, and are not in these times; nor is AtomDiffusion.sample's host-side update "
        "(noise, c_skip / c_out, the random augmentation).",
        "- TT-Boltz's configuration: the same op sequence with its linears priced at ttnn's auto-config on "
        "CORE_GRID_MAIN (facts §2.1); its atom-level attention (a hand-written matmul/softmax in L1 over bfp4 "
        "keys_indexing) and its cached atom-level output gates are not modeled (priced as tttgen emits them).",
    ]
    return lines


def main() -> int:
    print("\n".join(report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
