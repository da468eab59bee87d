"""`tttgen cost ...`: ask the cost model directly. A command beside tttgen/cli.py (it runs the passes' search, which
tttgen/cost/ must not import).

    tttgen cost matmul --device n150 --m 2048 --k 4096 --n 14336 --dtype bfloat8_b --fidelity HiFi2
    tttgen cost matmul --device p150 --m 32 --k 4096 --n 6144 --dtype bfloat8_b --storage sharded --json

`tttgen cost matmul` prints the config tttgen would choose: it runs the generator's own search
(`tttgen.passes.matmul_program.search`: its enumeration, every rule of `tttgen.rules.matmul`
including the L1 rule, its scoring and tie-break) on the matmul described by the flags, mapped the
way the generator's passes describe a matmul:

* `--dtype` is the weight (in1) dtype; the activation and output are bfloat16 unless
  `--in0-dtype` / `--out-dtype` say otherwise;
* `--storage dram`: the weight is DRAM-interleaved; `--storage sharded`: the weight is width-sharded
  over the DRAM banks (`tttgen.rules.placement.dram_sharded_weight`);
* decode (M <= 32 with `--storage sharded`): candidates with the activation width-sharded in L1
  (DRAM-sharded and 1D mcast_in0); otherwise prefill candidates with the activation and output
  DRAM-interleaved (2D and 1D mcast_in0);
* compute kernel: `--fidelity`, math_approx_mode off, fp32_dest_acc_en from `--fp32-acc`,
  packer_l1_acc on;
* when no candidate is legal, the rows per call are halved (batch doubled) while M > 128, as the
  generator's `matmul_program` pass does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from tttgen.cost.l1 import dtype_name
from tttgen.cost.model import OpCost, estimate_matmul
from tttgen.cost.ttnn_auto import ttnn_auto_config
from tttgen.errors import DoesNotFit, InputError
from tttgen.ir.configs import (
    DRAM_INTERLEAVED,
    TILE,
    Candidate,
    ComputeKernelConfig,
    MatmulConfig,
    MatmulShape,
    MemoryPlacement,
)
from tttgen.passes.matmul_program import search_halving_rows
from tttgen.rules.case import MatmulCase
from tttgen.rules.placement import dram_sharded_weight
from tttgen.scoring import matmul_time_ns
from tttgen.inputs.device import FIDELITIES, DeviceProfile
from tttgen.inputs.load import load_device

DTYPE_CHOICES = ["bf16", "bfloat16", "bfloat8_b", "bfp8_b", "bfloat4_b", "bfp4_b"]
DECODE_MAX_ROWS = 32


# --------------------------------------------------------------------------- the generator's search


def kernel_config(fidelity: str, fp32_dest_acc_en: bool = False) -> ComputeKernelConfig:
    """The compute-kernel config `tttgen cost matmul` searches with."""
    return ComputeKernelConfig(fidelity, math_approx_mode=False, fp32_dest_acc_en=fp32_dest_acc_en, packer_l1_acc=True)


def weight_placement(storage: str, k: int, n: int, device: DeviceProfile) -> MemoryPlacement:
    """in1 placement for `--storage`: DRAM-interleaved, or width-sharded over the DRAM banks."""
    if storage == "sharded":
        return dram_sharded_weight(k, n, device)
    if storage == "dram":
        return DRAM_INTERLEAVED
    raise InputError(f"unknown storage {storage!r}", where="--storage", hint="allowed: dram, sharded")


def is_decode(m: int, storage: str) -> bool:
    return m <= DECODE_MAX_ROWS and storage == "sharded"


@dataclass(frozen=True)
class GeneratorPick:
    """What the generator's matmul search returns for one matmul (best is None: nothing legal)."""

    shape: MatmulShape  # the shape searched last: rows per call halved if nothing was legal
    best: Candidate | None
    rejected: tuple[Candidate, ...]
    pruned: tuple[tuple[str, int], ...]
    halved: int  # how many times the rows per call were halved


def generator_pick(
    device: DeviceProfile,
    shape: MatmulShape,
    kernel: ComputeKernelConfig,
    dtypes: tuple[str, str, str],
    in1: MemoryPlacement,
    decode: bool,
) -> GeneratorPick:
    """The generator's own search (`search_halving_rows`, as the matmul_program pass runs it)."""
    searched, best, rejected, pruned = search_halving_rows(device, shape, kernel, dtypes, in1, decode)
    halved = (searched.batch // shape.batch).bit_length() - 1
    return GeneratorPick(searched, best, rejected, pruned, halved)


# --------------------------------------------------------------------------- rendering


def _program_config(config: MatmulConfig) -> dict[str, Any]:
    return {"type": config.type, **config.fields()}


def _terms(cost: OpCost) -> dict[str, Any]:
    return {
        "compute_ns": round(cost.compute_ns, 1),
        "dram_ns": round(cost.dram_ns, 1),
        "noc_ns": round(cost.noc_ns, 1),
        "overhead_ns": round(cost.overhead_ns, 1),
    }


def _config_text(config: MatmulConfig) -> str:
    args = ", ".join(f"{k}={v}" for k, v in config.fields().items())
    return f"ttnn.{config.type}({args})"


def _placement(p: MemoryPlacement) -> dict[str, Any]:
    return {**p.manifest(), "infer_shard": p.infer_shard}


def _placement_text(p: MemoryPlacement) -> str:
    if not p.sharded:
        return f"{p.buffer} interleaved"
    where = ""
    if p.grid is not None:
        count = p.grid.cores
        where = f" over {count} DRAM banks" if p.buffer == "DRAM" else f" on {count} core{'s' if count != 1 else ''}"
    shard = f" shard {p.shard_shape[0]}x{p.shard_shape[1]}" if p.shard_shape else ""
    return f"{p.buffer} {p.layout}{shard}{where}"


def _pruned_text(pruned: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{rule} {count}" for rule, count in pruned) or "none"


# --------------------------------------------------------------------------- command


@click.group(name="cost")
def cost() -> None:
    """Query the analytic cost model."""


@cost.command("matmul")
@click.option("--device", "device_name", required=True, help="device profile name, alias or YAML path")
@click.option("--m", "m", type=click.IntRange(min=1), required=True, help="rows of the activation (multiple of 32)")
@click.option("--k", "k", type=click.IntRange(min=1), required=True, help="inner dimension")
@click.option("--n", "n", type=click.IntRange(min=1), required=True, help="columns of the weight")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="activation batch")
@click.option("--dtype", type=click.Choice(DTYPE_CHOICES), default="bf16", show_default=True, help="weight (in1) dtype")
@click.option("--in0-dtype", type=click.Choice(DTYPE_CHOICES), default=None, help="activation dtype (default bfloat16)")
@click.option("--out-dtype", type=click.Choice(DTYPE_CHOICES), default=None, help="output dtype (default bfloat16)")
@click.option("--fidelity", type=click.Choice(list(FIDELITIES)), default="HiFi2", show_default=True)
@click.option("--fp32-acc", is_flag=True, help="fp32_dest_acc_en (halves the DST subblock limit)")
@click.option(
    "--storage",
    type=click.Choice(["dram", "sharded"]),
    default="dram",
    show_default=True,
    help="weight DRAM-interleaved, or width-sharded over the DRAM banks (decode when M <= 32)",
)
@click.option("--untraced", is_flag=True, help="report the untraced op-to-op gap instead of the traced one")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def matmul_cmd(
    device_name: str,
    m: int,
    k: int,
    n: int,
    batch: int,
    dtype: str,
    in0_dtype: str | None,
    out_dtype: str | None,
    fidelity: str,
    fp32_acc: bool,
    storage: str,
    untraced: bool,
    as_json: bool,
) -> None:
    """Print the program config tttgen would choose for one matmul and its predicted device time."""
    if m % TILE:
        raise InputError(
            f"M={m} is not a multiple of {TILE}: the generator's matmuls have whole tile rows",
            where="--m",
            hint=f"pad M to {-(-m // TILE) * TILE}",
        )
    device, _ = load_device(device_name)
    shape = MatmulShape(m=m, k=k, n=n, batch=batch)
    a_dtype = dtype_name(in0_dtype or "bfloat16")
    w_dtype = dtype_name(dtype)
    o_dtype = dtype_name(out_dtype or "bfloat16")
    dtypes = (a_dtype, w_dtype, o_dtype)
    kernel = kernel_config(fidelity, fp32_acc)
    in1 = weight_placement(storage, k, n, device)
    decode = is_decode(m, storage)
    mode = "decode" if decode else "prefill"

    pick = generator_pick(device, shape, kernel, dtypes, in1, decode)
    if pick.best is None:
        halving = f" (rows per call halved down to M={pick.shape.m})" if pick.halved else ""
        raise DoesNotFit(
            f"no legal {mode} matmul program config for M={m}, K={k}, N={n} (batch {batch}) with the weight "
            f"{_placement_text(in1)} on {device.name}{halving}; rules that pruned candidates: {_pruned_text(pick.pruned)}",
            where="tttgen cost matmul",
        )
    best = pick.best
    in0, out = best.extra["in0"], best.extra["out"]
    chosen: OpCost = best.extra["cost"]
    if untraced:
        case = MatmulCase(device, pick.shape, best.config, kernel, in0, in1, out, *dtypes)
        chosen = matmul_time_ns(case, traced=False)

    notes = []
    if pick.halved:
        notes.append(
            f"nothing was legal at M={m}: rows per call halved {pick.halved}x to M={pick.shape.m}, "
            f"batch {pick.shape.batch} (as the generator does)"
        )

    auto = ttnn_auto_config(
        device, shape, in0_dtype=a_dtype, in1_dtype=w_dtype, out_dtype=o_dtype, fp32_dest_acc_en=fp32_acc
    )
    auto_cost = estimate_matmul(
        device,
        shape,
        auto,
        in0_dtype=a_dtype,
        in1_dtype=w_dtype,
        out_dtype=o_dtype,
        fidelity=fidelity,
        traced=not untraced,
        fp32_dest_acc_en=fp32_acc,
    )
    doc = {
        "device": device.name,
        "grid": [device.grid.x, device.grid.y],
        "shape": {"m": m, "k": k, "n": n, "batch": batch},
        "shape_per_call": {"m": pick.shape.m, "k": k, "n": n, "batch": pick.shape.batch},
        "mode": mode,
        "dtypes": {"in0": a_dtype, "in1": w_dtype, "out": o_dtype},
        "fidelity": fidelity,
        "kernel": kernel.fields(),
        "placements": {"in0": _placement(in0), "in1": _placement(in1), "out": _placement(out)},
        "program_config": _program_config(best.config),
        "device_time_ns": round(chosen.device_ns, 1),
        "total_ns": round(chosen.total_ns, 1),
        "binding": chosen.binding,
        "terms": _terms(chosen),
        "active_cores": chosen.active_cores,
        "utilization": round(chosen.utilization, 4),
        "dram_bytes": chosen.dram_bytes,
        "l1_bytes": best.extra["l1"],
        "runners_up": [
            {
                "program_config": _program_config(c.config),
                "device_time_ns": round(c.extra["cost"].device_ns, 1) if "cost" in c.extra else None,
                "binding": c.note,
            }
            for c in pick.rejected
        ],
        "pruned": dict(pick.pruned),
        "notes": notes,
        "ttnn_default": {
            "program_config": _program_config(auto),
            "device_time_ns": round(auto_cost.device_ns, 1),
            "note": "ttnn's auto-config for program_config=None, all DRAM-interleaved",
        },
    }
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    per_call = f" (per call: [{pick.shape.batch}x]{pick.shape.m} rows)" if pick.halved else ""
    click.echo(
        f"{device.name} ({device.grid.x}x{device.grid.y}): {mode} matmul [{batch}x]{m}x{k} @ {k}x{n}{per_call}, "
        f"{a_dtype} x {w_dtype} -> {o_dtype}, {fidelity}{', fp32 acc' if fp32_acc else ''}"
    )
    click.echo(f"config: {_config_text(best.config)}")
    click.echo(f"in0: {_placement_text(in0)}; in1: {_placement_text(in1)}; out: {_placement_text(out)}")
    click.echo(
        f"predicted device time: {chosen.device_ns / 1e3:.2f} us  (binding: {chosen.binding}, "
        f"{chosen.active_cores} cores, {chosen.utilization:.0%} of peak, L1 {best.extra['l1'] / 1024:.0f} KiB)"
    )
    t = _terms(chosen)
    click.echo(
        f"terms: compute {t['compute_ns'] / 1e3:.2f} us, dram {t['dram_ns'] / 1e3:.2f} us, "
        f"noc {t['noc_ns'] / 1e3:.2f} us, overhead {t['overhead_ns'] / 1e3:.2f} us"
    )
    click.echo(f"ttnn default: {_config_text(auto)} -> {auto_cost.device_ns / 1e3:.2f} us")
    click.echo(f"pruned: {_pruned_text(pick.pruned)}")
    for note in notes:
        click.echo(f"note: {note}")
