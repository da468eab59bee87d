"""`tttgen cost ...`: ask the cost model directly.

    tttgen cost matmul --device n150 --m 2048 --k 4096 --n 14336 --dtype bfloat8_b --fidelity HiFi2
    tttgen cost matmul --device p150 --m 32 --k 4096 --n 6144 --dtype bfloat8_b --storage sharded --json

`--dtype` is the dtype of both operands and the output (as in the GEMM_FLOPS benchmark);
`--in0-dtype` / `--out-dtype` override the activation / output dtype. `--storage dram` means every
tensor DRAM-interleaved; `--storage sharded` means an L1-sharded activation and output, with the
weight DRAM-sharded when M <= 32 (decode) and DRAM-interleaved otherwise.
"""

from __future__ import annotations

import json
from typing import Any

import click

from tttgen.cost.choose import choose_matmul_config
from tttgen.cost.l1 import dtype_name
from tttgen.cost.model import OpCost, estimate_matmul
from tttgen.cost.ttnn_auto import ttnn_auto_config
from tttgen.errors import TttgenError
from tttgen.ir.configs import MatmulConfig, MatmulShape
from tttgen.spec.device import FIDELITIES

DTYPE_CHOICES = ["bf16", "bfloat16", "bfloat8_b", "bfp8_b", "bfloat4_b", "bfp4_b", "float32"]


class CostCliError(click.ClickException):
    exit_code = 2


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


@click.group(name="cost")
def cost() -> None:
    """Query the analytic cost model."""


@cost.command("matmul")
@click.option("--device", "device_name", required=True, help="device profile name, alias or YAML path")
@click.option("--m", "m", type=click.IntRange(min=1), required=True, help="rows of the activation")
@click.option("--k", "k", type=click.IntRange(min=1), required=True, help="inner dimension")
@click.option("--n", "n", type=click.IntRange(min=1), required=True, help="columns of the weight")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="activation batch")
@click.option("--dtype", type=click.Choice(DTYPE_CHOICES), default="bf16", show_default=True)
@click.option("--in0-dtype", type=click.Choice(DTYPE_CHOICES), default=None, help="activation dtype (default --dtype)")
@click.option("--out-dtype", type=click.Choice(DTYPE_CHOICES), default=None, help="output dtype (default --dtype)")
@click.option("--fidelity", type=click.Choice(list(FIDELITIES)), default="HiFi2", show_default=True)
@click.option("--fp32-acc", is_flag=True, help="fp32_dest_acc_en (halves the DST subblock limit)")
@click.option("--storage", type=click.Choice(["dram", "sharded"]), default="dram", show_default=True)
@click.option("--untraced", is_flag=True, help="add the untraced op-to-op gap instead of the traced one")
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
    """Choose a program config for one matmul and print its predicted device time."""
    from tttgen.spec.load import load_device

    try:
        device, _ = load_device(device_name)
    except TttgenError as err:
        raise CostCliError(err.render()) from None
    shape = MatmulShape(m=m, k=k, n=n, batch=batch)
    w_dtype = dtype_name(dtype)
    a_dtype = dtype_name(in0_dtype or dtype)
    o_dtype = dtype_name(out_dtype or dtype)
    if storage == "sharded":
        in0_s, out_s = "sharded", "sharded"
        in1_s = "dram_sharded" if shape.batch * shape.mt == 1 else "dram"
    else:
        in0_s, in1_s, out_s = "DRAM", "dram", "DRAM"
    common = dict(
        in0_dtype=a_dtype,
        in1_dtype=w_dtype,
        out_dtype=o_dtype,
        fidelity=fidelity,
        in0_storage=in0_s,
        in1_storage=in1_s,
        out_storage=out_s,
        traced=not untraced,
        fp32_dest_acc_en=fp32_acc,
    )
    try:
        choice = choose_matmul_config(device, shape, **common)  # type: ignore[arg-type]
    except ValueError as err:
        raise CostCliError(str(err)) from None
    auto = ttnn_auto_config(
        device,
        shape,
        in0_dtype=a_dtype,
        in1_dtype=w_dtype,
        out_dtype=o_dtype,
        fp32_dest_acc_en=fp32_acc,
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
    best = choice.cost
    doc = {
        "device": device.name,
        "grid": [device.grid.x, device.grid.y],
        "shape": {"m": m, "k": k, "n": n, "batch": batch},
        "dtypes": {"in0": a_dtype, "in1": w_dtype, "out": o_dtype},
        "fidelity": fidelity,
        "storage": {"in0": in0_s, "in1": in1_s, "out": out_s},
        "program_config": _program_config(choice.config),
        "device_time_ns": round(best.device_ns, 1),
        "total_ns": round(best.total_ns, 1),
        "binding": best.binding,
        "terms": _terms(best),
        "active_cores": best.active_cores,
        "utilization": round(best.utilization, 4),
        "dram_bytes": best.dram_bytes,
        "l1_bytes": choice.l1_bytes,
        "layout": choice.layout,
        "candidates_evaluated": choice.evaluated,
        "ttnn_default": {
            "program_config": _program_config(auto),
            "device_time_ns": round(auto_cost.device_ns, 1),
            "note": "ttnn's auto-config for program_config=None, all DRAM-interleaved",
        },
    }
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(
        f"{device.name} ({device.grid.x}x{device.grid.y}): matmul [{batch}x]{m}x{k} @ {k}x{n}, "
        f"{a_dtype} x {w_dtype} -> {o_dtype}, {fidelity}, storage {in0_s}/{in1_s}/{out_s}"
    )
    click.echo(f"config: {_config_text(choice.config)}")
    click.echo(
        f"predicted device time: {best.device_ns / 1e3:.2f} us  (binding: {best.binding}, "
        f"{best.active_cores} cores, {best.utilization:.0%} of peak, L1 {choice.l1_bytes / 1024:.0f} KiB)"
    )
    t = _terms(best)
    click.echo(
        f"terms: compute {t['compute_ns'] / 1e3:.2f} us, dram {t['dram_ns'] / 1e3:.2f} us, "
        f"noc {t['noc_ns'] / 1e3:.2f} us, overhead {t['overhead_ns'] / 1e3:.2f} us"
    )
    click.echo(f"ttnn default: {_config_text(auto)} -> {auto_cost.device_ns / 1e3:.2f} us")
    click.echo(f"candidates evaluated: {choice.evaluated}")


if __name__ == "__main__":
    cost()
