"""The one place passes ask "how long does this take?": a thin adapter over the cost model."""

from __future__ import annotations

from dataclasses import dataclass

from tttgen.ir.configs import MATMUL_DRAM_SHARDED
from tttgen.rules.matmul import MatmulCase
from tttgen.tiling import ceil_div


@dataclass(frozen=True)
class Timing:
    total_ns: float
    compute_ns: float
    dram_ns: float
    binding: str
    active_cores: int


def active_cores(case: MatmulCase) -> int:
    cfg, shape = case.config, case.shape
    if cfg.type == MATMUL_DRAM_SHARDED:
        return min(case.device.dram.banks, shape.nt)
    m_total = shape.mt * (shape.batch if cfg.fuse_batch else 1)
    return ceil_div(m_total, cfg.per_core_M) * ceil_div(shape.nt, cfg.per_core_N)


def matmul_time_ns(case: MatmulCase) -> Timing:
    """Roofline: compute of the busiest core vs DRAM bytes over achievable bandwidth, plus a gap."""
    device, cfg, shape = case.device, case.config, case.shape
    cores = active_cores(case)
    cycles_per_tile = device.cycles_per_tile[case.kernel.math_fidelity]
    if cfg.type == MATMUL_DRAM_SHARDED:
        tiles_per_core = ceil_div(shape.nt, device.dram.banks) * shape.kt
    else:
        batches = 1 if cfg.fuse_batch else shape.batch
        tiles_per_core = cfg.per_core_M * cfg.per_core_N * shape.kt * batches
    compute_ns = tiles_per_core * cycles_per_tile / device.clock_ghz
    tb = device.tile_bytes
    weight_bytes = shape.kt * shape.nt * tb[case.in1_dtype]
    act_bytes = shape.batch * shape.mt * shape.kt * tb[case.in0_dtype] if case.in0.buffer == "DRAM" else 0
    out_bytes = shape.batch * shape.mt * shape.nt * tb[case.out_dtype] if case.out.buffer == "DRAM" else 0
    sharded = case.in1.layout == "WIDTH_SHARDED" and cfg.type == MATMUL_DRAM_SHARDED
    bw = device.dram.sharded_gbps if sharded else device.dram.interleaved_gbps
    dram_ns = (weight_bytes + act_bytes + out_bytes) / bw
    total = max(compute_ns, dram_ns) + device.op_gap.traced_ns
    return Timing(total, compute_ns, dram_ns, "compute" if compute_ns >= dram_ns else "dram", cores)
