"""Boltz-2 modules: tttgen's generated configs against the same modules configured as TT-Boltz configures them.

Per module, device and mode, every linear is priced twice by the calibrated cost model and judged by the real ttnn
0.81.1 on a mock device (a config ttnn rejects is reported, never priced):
- **tttgen**: the package's own config, dtypes and compute kernel (as generated at the accuracy preset);
- **TT-Boltz**: what `ttnn.linear(..., core_grid=G, compute_kernel_config=CKC)` runs — ttnn's auto-config for that
  grid (tttgen/cost/ttnn_auto.py), bf16 weights and activations, HiFi4 with fp32 accumulation and packer L1 acc,
  the output where TT-Boltz puts it (L1 or DRAM interleaved). Source: ../shared/reference/module-library-facts.md
  §2.1 (settings, CORE_GRID_MAIN: 11x10 on Blackhole below x 13, the device grid on Wormhole) and §2.3 (per
  module: which linears pass core_grid and memory_config=L1; AdaLN passes no core_grid).
- **same dtypes**: TT-Boltz's config choice with tttgen's dtypes and kernel, which isolates the config from the
  precision preset.
Non-matmul ops are the same calls in both and are left out of the ratios. Modeled times are deterministic.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from optimizer import oracle_case, tttgen_case  # noqa: E402  (the same cases the optimizer benchmark judges)
from tttgen.cost.model import estimate_matmul  # noqa: E402
from tttgen.cost.ttnn_auto import ttnn_auto_config  # noqa: E402
from tttgen.generate import Request, plan  # noqa: E402
from tttgen.ir.configs import MATMUL_2D, DRAM_INTERLEAVED, L1_INTERLEAVED, ComputeKernelConfig, MatmulConfig  # noqa: E402
from tttgen.checking.realttnn.oracle import judge_matmuls  # noqa: E402
from tttgen.rules.matmul import MatmulCase, matmul_violations  # noqa: E402
from tttgen.scoring import matmul_time_ns  # noqa: E402

TT_BOLTZ_KERNEL = ComputeKernelConfig("HiFi4", False, True, True)  # §2.1: the same CKC for every op
TT_BOLTZ_DTYPES = ("bfloat16", "bfloat16", "bfloat16")  # §2.1 B: _dtype() is bf16 unless --fast
# linear (its name in the module that defines it) -> (core_grid: "main" or None, output buffer), from §2.3; every
# other linear is TT-Boltz B's `lin`: core_grid=CORE_GRID_MAIN, output in DRAM. TriangleMultiplication's input
# projections and TriangleAttention's q/k/v/g run as ttnn.experimental.minimal_matmul in TT-Boltz (no auto-config
# model here): they are priced as that `lin`, a deviation the report states.
TT_BOLTZ_LINEARS = {
    "fc1": ("main", "L1"),  # Transition
    "fc2": ("main", "L1"),
    "s_scale": (None, "DRAM"),  # AdaLN: "NO core_grid (CAUSES ACCURACY ISSUE)"
    "s_bias": (None, "DRAM"),
}
TT_BOLTZ_DEFAULT = ("main", "DRAM")
MODULES = (
    "boltz_transition",
    "boltz_adaln",
    "boltz_conditioned_transition",
    "boltz_pairformer_layer",
    "boltz_diffusion_transformer_layer",
    "boltz_outer_product_mean",
    "boltz_pair_weighted_averaging",
    "boltz_single_conditioning",
)
DEVICES = ("n150", "p150")
FLAGS = (("max_seq_len", 4096), ("prefill_lens", [128, 1024, 4096]))


def core_grid_main(device) -> tuple[int, int]:
    """TT-Boltz B's CORE_GRID_MAIN (x, y): 13x10 when the device offers x >= 13, 11x10 on other Blackholes, the
    device grid otherwise (Wormhole 8x8)."""
    if device.arch == "blackhole":
        return (13, 10) if device.grid.x >= 13 else (11, 10)
    return (device.grid.x, device.grid.y)


def tt_boltz_case(graph, op, dtypes=TT_BOLTZ_DTYPES, kernel=TT_BOLTZ_KERNEL) -> MatmulCase:
    """The linear as TT-Boltz calls it: ttnn's auto-config for its core_grid, its dtypes and kernel."""
    grid, out_buffer = TT_BOLTZ_LINEARS.get(op.name.rsplit(".", 1)[-1], TT_BOLTZ_DEFAULT)
    shape = op.decisions["shape"]
    core_grid = core_grid_main(graph.device) if grid == "main" else None
    cfg = ttnn_auto_config(
        graph.device,
        shape,
        in0_dtype=dtypes[0],
        in1_dtype=dtypes[1],
        out_dtype=dtypes[2],
        fp32_dest_acc_en=kernel.fp32_dest_acc_en,
        out_buffer=out_buffer,
        core_grid=core_grid,
    )
    out = L1_INTERLEAVED if out_buffer == "L1" else DRAM_INTERLEAVED
    return MatmulCase(graph.device, shape, cfg, kernel, DRAM_INTERLEAVED, DRAM_INTERLEAVED, out, *dtypes)


def runnable(case: MatmulCase, verdict) -> bool:
    """The real ttnn accepts the config and its own L1 figure fits the core. A mock device creates programs without
    dispatching them, so it accepts circular buffers plus L1 buffers above the end of L1 (e.g. TT-Boltz's 1D config
    for a 65536-row pair-transition call with its output in L1: ttnn reports 1,654,784 B per core on p150, whose
    circular buffers may use 1,461,120); such a config could not run and is left out like a rejected one."""
    return verdict.accepted and verdict.l1_total <= case.device.usable_l1_bytes


def priced(case: MatmulCase, verdict) -> float | None:
    """Modeled ns, or None when the config cannot run (rejected by the real ttnn, or over L1 by ttnn's own figure):
    it is then not in the comparison."""
    return matmul_time_ns(case).total_ns if runnable(case, verdict) else None


def module_rows(graph, judge=judge_matmuls) -> list[dict]:
    """Per linear of one module package: the three prices and ttnn's verdicts."""
    ops = graph.ops_of("linear")
    cases = []
    for op in ops:
        d = op.decisions
        same = tuple(d["dtypes"].values())
        cases.append(
            (op, tttgen_case(graph, op), tt_boltz_case(graph, op), tt_boltz_case(graph, op, same, d["kernel"]))
        )
    distinct = list(dict.fromkeys(oracle_case(c) for _, *cs in cases for c in cs))
    verdicts = dict(zip(distinct, judge(graph.device, distinct, graph.device.l1_small_size)))
    rows = []
    for op, ours, theirs, same in cases:
        rows.append(
            {
                "mode": op.mode_key,
                "op": op.name,
                "mkn": f"{op.shape.m} x {op.shape.k} x {op.shape.n}",
                "tttgen": op.decisions["time_ns"] if runnable(ours, verdicts[oracle_case(ours)]) else None,
                "tt_boltz": priced(theirs, verdicts[oracle_case(theirs)]),
                "same_dtypes": priced(same, verdicts[oracle_case(same)]),
                "config": f"{ours.config.type.removeprefix('MatmulMultiCoreReuse')} grid={ours.config.grid}",
                "theirs": f"{theirs.config.type.removeprefix('MatmulMultiCoreReuse')} grid={theirs.config.grid}",
                # why tttgen's search did not take TT-Boltz's config at its own dtypes (its first rule broken)
                "same_rule": (matmul_violations(same) or [""])[0].split(":")[0],
            }
        )
    return rows


def tt_boltz_triangle_config(graph, op) -> MatmulConfig:
    """TT-Boltz's explicit program config for the batched triangle matmul (facts §2.3 TriangleMultiplication):
    2D multicast on CORE_GRID_MAIN, in0_block_w 1, 1x1 subblocks, per_core_M = ceil(Ht / gy), per_core_N =
    ceil(Ht / gx), one batch (channel) per pass (fuse_batch False)."""
    gx, gy = core_grid_main(graph.device)
    mt, nt = -(-op.facts["m"] // 32), -(-op.facts["n"] // 32)
    pm, pn = -(-mt // gy), -(-nt // gx)
    return MatmulConfig(MATMUL_2D, 1, pm, pn, 1, 1, pm, pn, (gx, gy), False, False, None, None)


def triangle_rows(graph) -> list[dict]:
    """The activation matmuls (the triangle product, batched over channels): ttnn's own config as tttgen emits it
    against TT-Boltz's explicit config, both bf16 and HiFi4 from DRAM. Not judged by the oracle here (it places a
    weight, not a batched second operand); the emitted config is judged by `tttgen check --ttnn`."""
    rows = []
    for op in graph.ops_of("matmul"):
        if op.name.rsplit(".", 1)[-1] != "triangle":
            continue  # TT-Boltz's explicit config is published for the triangle product only (facts §2.3)
        d = op.decisions
        price = lambda cfg: estimate_matmul(  # noqa: E731
            graph.device, d["shape"], cfg, in0_dtype=d["dtypes"]["in0"], in1_dtype=d["dtypes"]["in1"],
            out_dtype=d["dtypes"]["out"], fidelity=d["kernel"].math_fidelity, fp32_dest_acc_en=d["kernel"].fp32_dest_acc_en,
        ).total_ns
        theirs = tt_boltz_triangle_config(graph, op)
        rows.append({"mode": op.mode_key, "op": op.name, "batch": d["shape"].batch, "tttgen": d["time_ns"],
                     "tt_boltz": price(theirs), "config": f"{d['program'].type.removeprefix('MatmulMultiCoreReuse')} "
                     f"grid={d['program'].grid}", "theirs": f"MultiCastProgramConfig grid={theirs.grid} 1x1 subblocks"})
    return rows


def _us(ns: float | None) -> str:
    return "cannot run" if ns is None else f"{ns / 1000:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}"


def report(judge=judge_matmuls, modules=MODULES, devices=DEVICES) -> tuple[list[str], list[float]]:
    lines = ["# Boltz-2 modules: tttgen against TT-Boltz's configuration (modeled, judged by the real ttnn 0.81.1)\n"]
    ratios: list[float] = []
    totals: list[float] = []  # whole-forward ratios per module, device and mode
    beaten: list[str] = []  # linears where TT-Boltz's config at tttgen's dtypes is modeled faster, and why not taken
    for module in modules:
        for device in devices:
            graph = plan(Request(module, device, None, FLAGS)).graph
            rows = module_rows(graph, judge)
            lines += [
                f"\n## {module} on {device}\n",
                "| mode | linear | M x K x N | tttgen us | TT-Boltz us | same dtypes us | tttgen / TT-Boltz | tttgen / same dtypes | tttgen config | TT-Boltz config |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            for r in rows:
                lines.append(
                    f"| {r['mode']} | {r['op']} | {r['mkn']} | {_us(r['tttgen'])} | {_us(r['tt_boltz'])} | {_us(r['same_dtypes'])} "
                    f"| {_ratio(r['tttgen'], r['tt_boltz'])} | {_ratio(r['tttgen'], r['same_dtypes'])} | {r['config']} | {r['theirs']} |"
                )
                if r["tttgen"] is not None and r["tt_boltz"] is not None:
                    ratios.append(r["tttgen"] / r["tt_boltz"])
                if r["tttgen"] is not None and r["same_dtypes"] is not None and r["same_dtypes"] < r["tttgen"]:
                    beaten.append(
                        f"{module}/{device} {r['mode']}.{r['op']}: {r['tttgen'] / r['same_dtypes']:.2f}, excluded by {r['same_rule'] or 'no rule (search miss)'}"
                    )
            triangles = triangle_rows(graph)
            if triangles:
                lines += [
                    "\n| mode | triangle matmul | channels | tttgen us | TT-Boltz us | ratio | tttgen config | TT-Boltz config |",
                    "|---|---|---|---|---|---|---|---|",
                ]
            for r in triangles:
                lines.append(
                    f"| {r['mode']} | {r['op']} | {r['batch']} | {_us(r['tttgen'])} | {_us(r['tt_boltz'])} "
                    f"| {_ratio(r['tttgen'], r['tt_boltz'])} | {r['config']} | {r['theirs']} |"
                )
                ratios.append(r["tttgen"] / r["tt_boltz"])
            for mode in dict.fromkeys(r["mode"] for r in rows):
                mine = [r for r in rows if r["mode"] == mode]
                mine += [r for r in triangles if r["mode"] == mode]
                if all(r["tttgen"] is not None and r["tt_boltz"] is not None for r in mine):
                    ours, theirs = sum(r["tttgen"] for r in mine), sum(r["tt_boltz"] for r in mine)
                    # every other op is the same call on both sides: the module's modeled forward differs by this
                    total = graph.facts["mode_time_ns"][mode]
                    lines.append(
                        f"\n- {mode}: matmuls {ours / 1000:.1f} us vs {theirs / 1000:.1f} us as TT-Boltz runs them "
                        f"({ours / theirs:.2f}); whole forward {total / 1000:.1f} us vs {(total - ours + theirs) / 1000:.1f} us "
                        f"({total / (total - ours + theirs):.2f})"
                    )
                    totals.append(total / (total - ours + theirs))
    lines += [
        "\n## Summary\n",
        f"- tttgen / TT-Boltz per matmul: median {statistics.median(ratios):.2f}, max {max(ratios):.2f} over {len(ratios)} matmuls",
        f"- whole modeled forward, tttgen / TT-Boltz: median {statistics.median(totals):.2f}, max {max(totals):.2f} over "
        f"{len(totals)} module x device x size rows (ops other than matmuls priced alike on both sides)",
        "- both sides run bf16 with HiFi4 and fp32 accumulation (the descriptions' accuracy policy is TT-Boltz's), so the "
        "ratios compare program configs and grids: tttgen searches per shape and uses the whole grid where TT-Boltz "
        "leaves core_grid unset (AdaLN) or fixes CORE_GRID_MAIN",
        "- 'cannot run': rejected by the real ttnn, or ttnn's own L1 figure is above the core's L1 (see runnable())",
        "- TT-Boltz runs TriangleMultiplication's input projections and TriangleAttention's q/k/v/g as "
        "ttnn.experimental.minimal_matmul; they are priced here as its `lin` (core_grid=CORE_GRID_MAIN), which this "
        "cost model can configure",
        f"- linears where TT-Boltz's config at tttgen's own dtypes is modeled faster: {len(beaten)}"
        + (" (r30_subblock_didt is tttgen's di/dt hazard cap, which ttnn does not enforce)" if beaten else ""),
        *[f"  - {b}" for b in beaten],
    ]
    return lines, ratios


def main() -> int:
    lines, ratios = report()
    print("\n".join(lines))
    slower = [r for r in ratios if r > 1.0]
    if slower:
        print(f"boltz.py: {len(slower)} linears modeled slower than TT-Boltz's configuration", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
