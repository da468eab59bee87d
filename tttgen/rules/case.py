"""What a matmul legality rule or L1 estimate looks at: one candidate config with its operands (tttgen.rules.matmul
checks it, tttgen.rules.l1 sizes its L1)."""

from __future__ import annotations

from dataclasses import dataclass

from tttgen.ir.configs import ComputeKernelConfig, MatmulConfig, MatmulShape, MemoryPlacement
from tttgen.inputs.device import DeviceProfile


@dataclass(frozen=True)
class MatmulCase:
    """Everything a rule may look at."""

    device: DeviceProfile
    shape: MatmulShape
    config: MatmulConfig
    kernel: ComputeKernelConfig
    in0: MemoryPlacement
    in1: MemoryPlacement
    out: MemoryPlacement
    in0_dtype: str
    in1_dtype: str
    out_dtype: str
    in1_batched: bool = False
    reserved_l1: int = 0  # bytes per core held by other live L1 tensors (residual, rotary tables, ...)
    sibling_output_live: bool = False  # a twin op's output of the same placement is live (w1 during w3)
    bias_dtype: str | None = None  # a linear with a bias: the factory adds a bias CB in this dtype
