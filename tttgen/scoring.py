"""The one place passes ask "how long does this take?": maps IR placements onto the calibrated cost model."""

from __future__ import annotations

from tttgen.cost.model import OpCost, estimate_matmul, estimate_op
from tttgen.ir.configs import MemoryPlacement
from tttgen.rules.matmul import MatmulCase


def in0_storage(p: MemoryPlacement) -> str:
    if p.buffer == "DRAM":
        return "DRAM"
    return "sharded" if p.sharded else "L1"


def in1_storage(p: MemoryPlacement) -> str:
    if p.buffer == "DRAM":
        return "dram_sharded" if p.layout == "WIDTH_SHARDED" else "dram"
    return "l1"


def matmul_time_ns(case: MatmulCase, traced: bool = True) -> OpCost:
    return estimate_matmul(
        case.device,
        case.shape,
        case.config,
        in0_dtype=case.in0_dtype,
        in1_dtype=case.in1_dtype,
        out_dtype=case.out_dtype,
        fidelity=case.kernel.math_fidelity,
        in0_storage=in0_storage(case.in0),
        in1_storage=in1_storage(case.in1),
        out_storage=in0_storage(case.out),
        traced=traced,
        fp32_dest_acc_en=case.kernel.fp32_dest_acc_en,
    )


def op_time_ns(device, kind: str, traced: bool = True, **facts) -> OpCost:
    return estimate_op(device, kind, traced=traced, **facts)
