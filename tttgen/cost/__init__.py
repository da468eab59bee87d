"""Analytic cost model of ttnn ops and ttnn's auto-config baseline.

    from tttgen.cost import estimate_matmul, estimate_op, ttnn_auto_config

Equations and calibration: docs/cost-model.md. Coefficients: tttgen/cost/calibration.yaml,
written by benchmarks/calibrate.py. Matmul program configs are chosen by the generator's search,
`tttgen.passes.matmul_program.search` (`tttgen cost matmul` prints its choice).
"""

from tttgen.cost.calibration import Coeffs, coeffs_for_arch, load_calibration
from tttgen.cost.l1 import ttnn_cb_estimate
from tttgen.cost.model import OP_KINDS, OpCost, device_time_ns, estimate_matmul, estimate_op
from tttgen.cost.ttnn_auto import ttnn_auto_config

__all__ = [
    "OP_KINDS",
    "Coeffs",
    "OpCost",
    "coeffs_for_arch",
    "device_time_ns",
    "estimate_matmul",
    "estimate_op",
    "load_calibration",
    "ttnn_auto_config",
    "ttnn_cb_estimate",
]
