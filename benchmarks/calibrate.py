"""Fit and check the cost model's coefficients against measured matmuls.

Data: `gemm_measured_calibration.csv` (tt-metal tech_reports/GEMM_FLOPS, n150 8x8 and p150 13x10),
read from `<project>/../shared/reference/data/` unless `--data` says otherwise. Rows without a
`device_time_ns_derived` (the old WH-only revision) are skipped. Each row is mapped to the config
ttnn actually ran:

* `out_of_box` rows: `ttnn.matmul(a, b)` with program_config=None -> `ttnn_auto_config`.
* `manually_tuned` rows: the benchmark's own 2D config (tests/ttnn/unit_tests/benchmarks/
  test_benchmark.py::test_matmul_2d_host_perf, the revision whose shape table matches the CSV:
  per-core base shapes scaled by the grid, per_core_M = Mt/grid.y, per_core_N = Nt/grid.x,
  in0_block_w = Kt/grid.x/in0_block_w_div, out blocks = per_core/num_out_blocks, subblocks from
  the benchmark's get_subblock_sizes). `--tuned chooser` uses the generator's matmul search
  instead (`tttgen.passes.matmul_program.search`, mapped as `tttgen cost matmul` maps a prefill
  matmul with a DRAM-interleaved weight) and only scores: rows whose activation and output are
  L1-sharded are skipped, since the generator's prefill search keeps them DRAM-interleaved.

Fitting: per architecture, minimise the mean |log(pred/measured)| over the training rows with a
deterministic Nelder-Mead on log-coefficients. Scoring: K-fold cross-validation with folds that keep
both trace variants of one measurement together (round-robin over sorted keys), then a final fit on
all rows. Writes tttgen/cost/calibration.yaml and prints a markdown report; `--check` refits and
fails if the committed yaml differs.

Usage: python benchmarks/calibrate.py [--data DIR] [--folds 5] [--check] [--tuned benchmark|chooser]
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tttgen.cost.calibration import CALIBRATION_PATH, COEFF_NAMES, Coeffs  # noqa: E402
from tttgen.cost.l1 import dtype_name  # noqa: E402
from tttgen.cost.model import estimate_matmul  # noqa: E402
from tttgen.cost.ttnn_auto import ttnn_auto_config  # noqa: E402
from tttgen.ir.configs import MATMUL_2D, MatmulConfig, MatmulShape  # noqa: E402
from tttgen.inputs.device import DeviceProfile  # noqa: E402
from tttgen.inputs.load import load_device  # noqa: E402

CSV_NAME = "gemm_measured_calibration.csv"
DEFAULT_DATA = ROOT.parent / "shared" / "reference" / "data"
DEVICE_FOR_CSV = {"n150": "n150", "p150": "p150-legacy-fw"}
GOAL_MEDIAN = 0.15
GOAL_P90 = 0.35
FIT_DATE = "2026-11-22"

# test_benchmark.py::test_matmul_2d_host_perf shape table (per-core base m, k, n before scaling by
# grid y, x, x), keyed by dtype: (in0_sharded, out_sharded, in0_block_w_div, num_out_blocks_h,
# num_out_blocks_w). Read from a stored tt-metal test_benchmark.py revision that shares one base table
# between n150 and p150 (a later fork adds FP8 entries; the bf16/bfp8/bfp4 tables are the ones
# whose in0/out storage matches every manually_tuned row of the CSV, including which shapes each
# dtype has). The 2048-base bfloat8_b entry is commented out there; its values come from the
# older n150-only table (tenstorrent tt-metal fork myply/tt-metal @b20ac21), equal to bfloat16's.
TUNED_TABLE: dict[str, dict[tuple[int, int, int], tuple[bool, bool, int, int, int]]] = {
    "bfloat16": {
        (64, 64, 64): (True, True, 1, 1, 1),
        (64, 128, 128): (True, True, 1, 1, 1),
        (64, 128, 256): (True, True, 1, 1, 1),
        (128, 128, 128): (True, True, 1, 1, 1),
        (128, 128, 256): (True, True, 1, 1, 1),
        (128, 256, 256): (True, True, 1, 1, 1),
        (256, 256, 256): (True, True, 1, 1, 1),
        (256, 256, 384): (True, True, 1, 1, 1),
        (256, 384, 384): (True, True, 2, 1, 1),
        (384, 384, 384): (True, True, 4, 1, 1),
        (384, 384, 512): (False, False, 2, 1, 1),
        (384, 512, 512): (False, False, 2, 1, 1),
        (416, 320, 320): (False, False, 1, 1, 1),
        (512, 512, 512): (False, False, 1, 2, 2),
        (1024, 1024, 1024): (False, False, 2, 4, 4),
        (2048, 2048, 2048): (False, False, 4, 8, 8),
    },
    "bfloat8_b": {
        (64, 64, 64): (True, True, 1, 1, 1),
        (64, 128, 128): (True, True, 1, 1, 1),
        (64, 128, 256): (True, True, 1, 1, 1),
        (128, 128, 128): (True, True, 1, 1, 1),
        (128, 128, 256): (True, True, 1, 1, 1),
        (128, 256, 256): (True, True, 1, 1, 1),
        (256, 256, 256): (True, True, 1, 1, 1),
        (256, 256, 384): (True, True, 1, 1, 1),
        (256, 384, 384): (True, True, 1, 1, 1),
        (384, 384, 384): (True, True, 2, 1, 1),
        (384, 384, 512): (True, True, 2, 1, 1),
        (416, 320, 320): (False, False, 1, 1, 1),
        (512, 512, 512): (False, False, 1, 2, 2),
        (1024, 1024, 1024): (False, False, 2, 4, 4),
        (2048, 2048, 2048): (False, False, 4, 8, 8),
    },
    "bfloat4_b": {
        (64, 64, 64): (True, True, 1, 1, 1),
        (64, 128, 128): (True, True, 1, 1, 1),
        (64, 128, 256): (True, True, 1, 1, 1),
        (128, 128, 128): (True, True, 1, 1, 1),
        (128, 128, 256): (True, True, 1, 1, 1),
        (128, 256, 256): (True, True, 1, 1, 1),
        (256, 256, 256): (True, True, 1, 1, 1),
        (256, 256, 384): (True, True, 1, 1, 1),
        (256, 384, 384): (True, True, 1, 1, 1),
        (384, 384, 384): (True, True, 1, 1, 1),
        (384, 384, 512): (True, True, 1, 1, 1),
        (384, 512, 512): (True, True, 2, 1, 1),
        (416, 320, 320): (False, False, 1, 1, 1),
        (512, 512, 512): (True, True, 2, 1, 1),
        (1024, 1024, 1024): (False, False, 2, 2, 2),
        (2048, 2048, 2048): (False, False, 4, 4, 4),
    },
}


@dataclass(frozen=True)
class Case:
    """One CSV row mapped to what the model needs."""

    row: int
    device_name: str
    device: DeviceProfile
    shape: MatmulShape
    config: MatmulConfig
    dtype: str
    fidelity: str
    family: str  # out_of_box | manually_tuned
    in0_storage: str
    out_storage: str
    traced: bool
    measured_ns: float

    @property
    def key(self) -> tuple[Any, ...]:
        """Both trace variants of one measurement share a key (they share a fold)."""
        return (self.device_name, self.family, self.dtype, self.fidelity, self.shape.m, self.shape.k, self.shape.n)

    def predict(self, coeffs: Coeffs) -> float:
        return estimate_matmul(
            self.device,
            self.shape,
            self.config,
            in0_dtype=self.dtype,
            fidelity=self.fidelity,
            in0_storage=self.in0_storage,
            in1_storage="dram",
            out_storage=self.out_storage,
            traced=self.traced,
            coeffs=coeffs,
        ).device_ns


def tuned_config(device: DeviceProfile, shape: MatmulShape, dtype: str, in0_l1: bool) -> MatmulConfig:
    """The 2D config test_matmul_2d_host_perf builds for this shape (see TUNED_TABLE)."""
    gx, gy = device.grid.x, device.grid.y
    base = (shape.m // gy, shape.k // gx, shape.n // gx)
    in0_sharded, out_sharded, div, nob_h, nob_w = TUNED_TABLE[dtype][base]
    if in0_sharded != in0_l1:
        raise ValueError(f"benchmark table disagrees with CSV storage for {shape} {dtype}")
    in0_block_w = shape.k // gx // 32 // div
    per_core_M = shape.m // gy // 32
    per_core_N = shape.n // gx // 32
    out_block_h = per_core_M // nob_h
    out_block_w = per_core_N // nob_w
    sbh, sbw = benchmark_subblock(out_block_h, out_block_w, out_sharded)
    return MatmulConfig(
        type=MATMUL_2D,
        in0_block_w=in0_block_w,
        per_core_M=per_core_M,
        per_core_N=per_core_N,
        out_subblock_h=sbh,
        out_subblock_w=sbw,
        out_block_h=out_block_h,
        out_block_w=out_block_w,
        grid=(gx, gy),
        transpose_mcast=False,
        fuse_batch=True,
    )


def benchmark_subblock(m_tiles: int, n_tiles: int, out_sharded: bool) -> tuple[int, int]:
    """test_benchmark.py get_subblock_sizes: the choice table read as (h, w)."""
    from tttgen.cost.ttnn_auto import SUBBLOCK_HW_CHOICES

    for h, w in SUBBLOCK_HW_CHOICES:
        if out_sharded and (n_tiles % w != 0 or h != 1):
            continue
        if m_tiles % h == 0 and n_tiles % w == 0:
            return h, w
    return 1, 1


def generator_config(
    device: DeviceProfile, shape: MatmulShape, dtype: str, fidelity: str
) -> tuple[MatmulShape, MatmulConfig]:
    """The generator's choice for a prefill matmul with every tensor DRAM-interleaved and in `dtype`
    (the shape per call: rows are halved, batch doubled, if nothing is legal, as the generator does)."""
    from tttgen.cli_cost import generator_pick, kernel_config
    from tttgen.ir.configs import DRAM_INTERLEAVED

    pick = generator_pick(device, shape, kernel_config(fidelity), (dtype, dtype, dtype), DRAM_INTERLEAVED, decode=False)
    if pick.best is None:
        raise ValueError(
            f"the generator's search finds no legal config for {shape} on {device.name}: {dict(pick.pruned)}"
        )
    return pick.shape, pick.best.config


def load_cases(data_dir: Path, tuned: str = "benchmark") -> list[Case]:
    path = data_dir / CSV_NAME
    devices: dict[str, DeviceProfile] = {}
    cases: list[Case] = []
    with path.open(newline="") as fh:
        for index, row in enumerate(csv.DictReader(fh)):
            if not row["device_time_ns_derived"]:
                continue
            name = DEVICE_FOR_CSV[row["device"]]
            if name not in devices:
                devices[name] = load_device(name)[0]
            device = devices[name]
            shape = MatmulShape(int(row["m"]), int(row["k"]), int(row["n"]))
            dtype = dtype_name(row["in0_dtype"])
            in0_l1 = row["in0_storage"].upper() == "L1"
            out_l1 = row["out_storage"].upper() == "L1"
            family = row["config_family"]
            if family == "out_of_box":
                config = ttnn_auto_config(device, shape, in0_dtype=dtype)
            elif tuned == "chooser":
                if in0_l1 or out_l1:
                    continue  # not a matmul the generator plans: its prefill activations stay in DRAM
                shape, config = generator_config(device, shape, dtype, row["fidelity"])
            else:
                config = tuned_config(device, shape, dtype, in0_l1)
            cases.append(
                Case(
                    row=index,
                    device_name=name,
                    device=device,
                    shape=shape,
                    config=config,
                    dtype=dtype,
                    fidelity=row["fidelity"],
                    family=family,
                    in0_storage="sharded" if in0_l1 else "DRAM",
                    out_storage="sharded" if out_l1 else "DRAM",
                    traced=row["use_trace"] == "True",
                    measured_ns=float(row["device_time_ns_derived"]),
                )
            )
    return cases


# --------------------------------------------------------------------------- fitting


def fit_bounds(device: DeviceProfile) -> dict[str, tuple[float, float]]:
    """Fitted coefficients and their physical bounds for one device's architecture. NoC rates stay
    within what two NoCs (intake) or one NoC (one reader) carry; the interleaved DRAM bandwidth
    stays between the published achieved figure (profile `interleaved_gbps`) and the nominal one.
    (Letting it drop below the achieved figure fits n150 slightly better - CV P90 8.8% instead of
    10.8% - but at 129 GB/s, which contradicts the ~190 GB/s tech_reports/LLMs/llms.md reports
    for interleaved matmul reads, so the lower bound stays.)"""
    word = float(device.noc.word_bytes)
    return {
        "tile_kblock_cyc": (0.5, 200.0),
        "unpack_Bpc": (8.0, 1024.0),
        "noc_Bpc": (2.0, 2.0 * word),
        "reader_Bpc": (1.0, word),
        "dram_eff": (1.0, device.dram.nominal_gbps / device.dram.interleaved_gbps),
        "overlap": (0.01, 1.0),
        "fixed_ns": (100.0, 20000.0),
        "kblock_ns": (1.0, 5000.0),
        "mcast_dest_ns": (0.1, 500.0),
    }


FIT_NAMES = (
    "tile_kblock_cyc",
    "unpack_Bpc",
    "noc_Bpc",
    "reader_Bpc",
    "dram_eff",
    "overlap",
    "fixed_ns",
    "kblock_ns",
    "mcast_dest_ns",
)


def _coeffs_from_vector(x: np.ndarray, bounds: dict[str, tuple[float, float]]) -> Coeffs:
    values = {}
    for name, v in zip(bounds, x):
        lo, hi = bounds[name]
        values[name] = float(min(max(math.exp(v), lo), hi))
    return Coeffs.from_dict(values)


def _loss(cases: list[Case], coeffs: Coeffs) -> float:
    total = 0.0
    for case in cases:
        total += abs(math.log(case.predict(coeffs) / case.measured_ns))
    return total / len(cases)


def nelder_mead(fun, x0: np.ndarray, step: float = 0.5, iters: int = 1500, tol: float = 1e-7) -> np.ndarray:
    """Plain deterministic Nelder-Mead (numpy only)."""
    n = len(x0)
    simplex = [x0.copy()]
    for i in range(n):
        x = x0.copy()
        x[i] += step
        simplex.append(x)
    values = [fun(x) for x in simplex]
    for _ in range(iters):
        order = np.argsort(values, kind="stable")
        simplex = [simplex[i] for i in order]
        values = [values[i] for i in order]
        if abs(values[-1] - values[0]) < tol:
            break
        centroid = np.mean(simplex[:-1], axis=0)
        worst = simplex[-1]
        xr = centroid + (centroid - worst)
        fr = fun(xr)
        if fr < values[0]:
            xe = centroid + 2.0 * (centroid - worst)
            fe = fun(xe)
            if fe < fr:
                simplex[-1], values[-1] = xe, fe
            else:
                simplex[-1], values[-1] = xr, fr
        elif fr < values[-2]:
            simplex[-1], values[-1] = xr, fr
        else:
            xc = centroid + 0.5 * (worst - centroid)
            fc = fun(xc)
            if fc < values[-1]:
                simplex[-1], values[-1] = xc, fc
            else:
                best = simplex[0]
                simplex = [best] + [best + 0.5 * (x - best) for x in simplex[1:]]
                values = [values[0]] + [fun(x) for x in simplex[1:]]
    return simplex[int(np.argmin(values))]


def fit(cases: list[Case], restarts: int = 3) -> tuple[Coeffs, float]:
    """Best of a few deterministic starts (defaults, bounds' geometric centre, and the two
    quartiles), each polished by repeated Nelder-Mead. Returns (coeffs, training loss)."""
    bounds = fit_bounds(cases[0].device)
    names = list(bounds)
    lo = np.array([math.log(bounds[n][0]) for n in names])
    hi = np.array([math.log(bounds[n][1]) for n in names])
    default = Coeffs()
    starts = [
        np.clip(np.array([math.log(getattr(default, n)) for n in names]), lo, hi),
        lo + 0.5 * (hi - lo),
        lo + 0.25 * (hi - lo),
        lo + 0.75 * (hi - lo),
    ]

    def fun(v: np.ndarray) -> float:
        return _loss(cases, _coeffs_from_vector(np.clip(v, lo, hi), bounds))

    best_x, best_f = starts[0], float("inf")
    for x in starts:
        for _ in range(restarts):
            x = np.clip(nelder_mead(fun, x), lo, hi)
        f = fun(x)
        if f < best_f:
            best_x, best_f = x, f
    return _coeffs_from_vector(best_x, bounds), best_f


def rel_errors(cases: list[Case], coeffs: Coeffs) -> list[float]:
    return [abs(case.predict(coeffs) - case.measured_ns) / case.measured_ns for case in cases]


def summary(errors: list[float]) -> dict[str, float]:
    arr = np.array(errors)
    return {
        "median": round(float(np.median(arr)), 4),
        "p90": round(float(np.percentile(arr, 90)), 4),
        "max": round(float(arr.max()), 4),
        "rows": len(errors),
    }


def folds_of(cases: list[Case], k: int) -> list[int]:
    """Deterministic folds: round-robin over the sorted measurement keys."""
    keys = sorted({case.key for case in cases})
    fold_of_key = {key: i % k for i, key in enumerate(keys)}
    return [fold_of_key[case.key] for case in cases]


def cross_validate(cases: list[Case], k: int) -> list[float]:
    """Held-out relative error of every case (serial version of what `calibrate` runs in parallel)."""
    fold = folds_of(cases, k)
    errors = [0.0] * len(cases)
    for f in range(k):
        train = [c for c, g in zip(cases, fold) if g != f]
        coeffs, _ = fit(train)
        for i, (case, g) in enumerate(zip(cases, fold)):
            if g == f:
                errors[i] = abs(case.predict(coeffs) - case.measured_ns) / case.measured_ns
    return errors


# --------------------------------------------------------------------------- report and yaml


def _fmt(v: float) -> float:
    """Coefficients are stored with 6 significant digits (stable across platforms)."""
    return float(f"{v:.6g}")


def _fit_job(job: tuple[list[Case], int, int | None]) -> tuple[Coeffs, float, list[int]]:
    """One fit: all rows (fold None) or all but one fold. Returns the coefficients, the training
    loss and the indices (into the group) of the held-out rows."""
    group, k, fold = job
    if fold is None:
        coeffs, loss = fit(group)
        return coeffs, loss, []
    folds = folds_of(group, k)
    coeffs, loss = fit([c for c, g in zip(group, folds) if g != fold])
    return coeffs, loss, [i for i, g in enumerate(folds) if g == fold]


def calibrate(cases: list[Case], k: int, workers: int = 2) -> dict[str, Any]:
    """Fit every architecture present in `cases`; return the yaml document. The fits are
    independent and deterministic, so they run in `workers` processes."""
    from concurrent.futures import ProcessPoolExecutor

    by_device: dict[str, list[Case]] = {}
    for case in cases:
        by_device.setdefault(case.device_name, []).append(case)
    names = sorted(by_device)
    jobs = [(by_device[name], k, fold) for name in names for fold in [None, *range(k)]]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_fit_job, jobs))
    else:
        results = [_fit_job(job) for job in jobs]
    coefficients: dict[str, dict[str, float]] = {}
    scores: dict[str, Any] = {}
    fitted_names = list(FIT_NAMES)
    for d, name in enumerate(names):
        group = by_device[name]
        arch = group[0].device.arch
        block = results[d * (k + 1) : (d + 1) * (k + 1)]
        coeffs, loss, _ = block[0]
        coeffs = Coeffs.from_dict({n: _fmt(v) for n, v in coeffs.as_dict().items()})
        coefficients[arch] = coeffs.as_dict()
        cv = [0.0] * len(group)
        for fold_coeffs, _, held in block[1:]:
            for i in held:
                cv[i] = abs(group[i].predict(fold_coeffs) - group[i].measured_ns) / group[i].measured_ns
        scores[name] = {
            "arch": arch,
            "rows": len(group),
            "measurements": len({c.key for c in group}),
            "train_loss_mean_abs_log": round(loss, 4),
            "in_sample": summary(rel_errors(group, coeffs)),
            "cross_validated": summary(cv),
            "cv_by_family": {
                fam: summary([e for e, c in zip(cv, group) if c.family == fam])
                for fam in sorted({c.family for c in group})
            },
        }
    return {
        "fallback_arch": "wormhole_b0",
        "fitted_on": {
            "file": f"shared/reference/data/{CSV_NAME}",
            "rows": "rows with device_time_ns_derived (report_version 'current'); target device_time_ns_derived",
            "devices": {name: DEVICE_FOR_CSV_REV[name] for name in sorted(by_device)},
            "configs": "out_of_box -> tttgen.cost.ttnn_auto.ttnn_auto_config; manually_tuned -> the benchmark's 2D config",
            "method": "per arch: minimise mean |log(pred/measured)|, deterministic multi-start Nelder-Mead within physical bounds",
            "cross_validation": f"{k}-fold, folds keep both trace variants of a measurement together",
            "fitted_coefficients": fitted_names,
            "unfitted_coefficients": {name: UNFITTED_SOURCES[name] for name in COEFF_NAMES if name not in fitted_names},
            "date": FIT_DATE,
        },
        "scores": scores,
        "coefficients": coefficients,
    }


DEVICE_FOR_CSV_REV = {v: k for k, v in DEVICE_FOR_CSV.items()}

UNFITTED_SOURCES = {
    "dram_sharded_overlap": "no DRAM-sharded rows in the CSV; small (compute nearly hidden) because decode "
    "DRAM-sharded matmuls reach 239-260 GB/s on WH (tech_reports/LLMs/llms.md 4.6.1)",
    "op_fixed_ns": "smallest non-matmul kernel times in op_perf.csv (Llama-3.1-70B Galaxy: typecast 1.9-2.1 us, "
    "paged_update_cache 2.3 us, rotary 2.2 us)",
    "sfpu_tile_cyc": "estimate (no per-op SFPU measurement in the reference data); only non-matmul ops use it",
}


def render_report(doc: dict[str, Any]) -> str:
    lines = ["# Cost-model calibration", ""]
    lines.append(
        f"Fitted {doc['fitted_on']['date']} on `{doc['fitted_on']['file']}`; {doc['fitted_on']['cross_validation']}."
    )
    lines.append("")
    lines.append(
        "| device | rows | measurements | in-sample median | in-sample P90 | CV median | CV P90 | CV max | goal met |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for name, sc in doc["scores"].items():
        cv = sc["cross_validated"]
        ok = cv["median"] <= GOAL_MEDIAN and cv["p90"] <= GOAL_P90
        lines.append(
            f"| {name} | {sc['rows']} | {sc['measurements']} | {sc['in_sample']['median']:.1%} | {sc['in_sample']['p90']:.1%} "
            f"| {cv['median']:.1%} | {cv['p90']:.1%} | {cv['max']:.1%} | {'yes' if ok else 'NO'} |"
        )
    lines.append("")
    lines.append("| device | family | CV median | CV P90 | rows |")
    lines.append("|---|---|---|---|---|")
    for name, sc in doc["scores"].items():
        for fam, s in sc["cv_by_family"].items():
            lines.append(f"| {name} | {fam} | {s['median']:.1%} | {s['p90']:.1%} | {s['rows']} |")
    lines.append("")
    lines.append("| arch | " + " | ".join(COEFF_NAMES) + " |")
    lines.append("|---|" + "---|" * len(COEFF_NAMES))
    for arch, block in doc["coefficients"].items():
        lines.append(f"| {arch} | " + " | ".join(f"{block[n]:.4g}" for n in COEFF_NAMES) + " |")
    return "\n".join(lines) + "\n"


def dump_yaml(doc: dict[str, Any]) -> str:
    header = (
        "# Cost-model coefficients. Written by benchmarks/calibrate.py -- do not edit by hand.\n"
        "# `python benchmarks/calibrate.py --check` refits and compares with this file.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120)


def score_committed(cases: list[Case], path: Path = CALIBRATION_PATH) -> dict[str, dict[str, float]]:
    """Relative error of the committed coefficients on every row, per device (no refit)."""
    from tttgen.cost.calibration import load_calibration

    calib = load_calibration(str(path))
    out: dict[str, list[float]] = {}
    for case in cases:
        coeffs = calib.coeffs(case.device.arch)
        out.setdefault(case.device_name, []).append(abs(case.predict(coeffs) - case.measured_ns) / case.measured_ns)
    return {name: summary(errs) for name, errs in sorted(out.items())}


def render_generator_report(data_dir: Path, path: Path = CALIBRATION_PATH) -> str:
    """Committed coefficients with the generator's configs for the manually_tuned rows it can plan,
    and how its picks compare with the benchmark's hand-tuned configs under the model."""
    from tttgen.cost.calibration import load_calibration

    calib = load_calibration(str(path))
    bench = {c.row: c for c in load_cases(data_dir) if c.family == "manually_tuned"}
    cases = load_cases(data_dir, tuned="chooser")
    mapped = [c for c in cases if c.family == "manually_tuned"]
    lines = ["# Committed coefficients, manually_tuned rows mapped to the generator's matmul search", ""]
    lines.append(
        f"{len(mapped)} of {len(bench)} manually_tuned rows mapped (DRAM-interleaved activation and output); "
        f"{len(bench) - len(mapped)} rows with L1-sharded activations skipped (the generator's prefill search "
        "keeps activations DRAM-interleaved)."
    )
    lines += [
        "",
        "| device | rows | median | P90 | max | tuned rows: median | P90 | max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    tuned_scores = score_committed(mapped, path)
    for name, s in score_committed(cases, path).items():
        t = tuned_scores[name]
        lines.append(
            f"| {name} | {s['rows']} | {s['median']:.1%} | {s['p90']:.1%} | {s['max']:.1%} "
            f"| {t['median']:.1%} | {t['p90']:.1%} | {t['max']:.1%} |"
        )
    lines += [
        "",
        "Generator's pick vs the benchmark's config, both predicted with the committed coefficients:",
        "",
        "| device | rows | pick / benchmark: min | median | max | pick predicted slower |",
        "|---|---|---|---|---|---|",
    ]
    ratios: dict[str, list[float]] = {}
    for case in mapped:
        coeffs = calib.coeffs(case.device.arch)
        ratios.setdefault(case.device_name, []).append(case.predict(coeffs) / bench[case.row].predict(coeffs))
    for name, rs in sorted(ratios.items()):
        rs.sort()
        slower = sum(r > 1.0 + 1e-9 for r in rs)
        lines.append(f"| {name} | {len(rs)} | {rs[0]:.3f} | {float(np.median(rs)):.3f} | {rs[-1]:.3f} | {slower} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="directory holding " + CSV_NAME)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="refit and verify the committed yaml matches")
    parser.add_argument(
        "--tuned",
        choices=("benchmark", "chooser"),
        default="benchmark",
        help="config for manually_tuned rows: the benchmark's own, or the generator's matmul search (scores only)",
    )
    parser.add_argument("--out", type=Path, default=CALIBRATION_PATH)
    parser.add_argument("--workers", type=int, default=2, help="processes for the independent fits")
    args = parser.parse_args(argv)

    if args.tuned == "chooser":
        print(render_generator_report(args.data, args.out))
        return 0

    cases = load_cases(args.data)
    doc = calibrate(cases, args.folds, args.workers)
    text = dump_yaml(doc)
    print(render_report(doc))
    if args.check:
        committed = args.out.read_text() if args.out.exists() else ""
        if committed != text:
            print(f"MISMATCH: {args.out} differs from a fresh calibration", file=sys.stderr)
            return 1
        print(f"OK: {args.out} matches a fresh calibration")
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
