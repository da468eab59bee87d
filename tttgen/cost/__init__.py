"""Analytic cost model of ttnn ops, the matmul config chooser and ttnn's auto-config baseline.

    from tttgen.cost import estimate_matmul, estimate_op, choose_matmul_config, ttnn_auto_config

Equations and calibration: docs/cost-model.md. Coefficients: tttgen/cost/calibration.yaml,
written by benchmarks/calibrate.py.
"""

from tttgen.cost.calibration import Coeffs, coeffs_for_arch, load_calibration
from tttgen.cost.choose import Choice, MatmulProblem, choose_matmul_config, enumerate_matmul_configs, legality_problems
from tttgen.cost.l1 import matmul_config_l1_bytes, ttnn_cb_estimate
from tttgen.cost.model import OP_KINDS, OpCost, device_time_ns, estimate_matmul, estimate_op
from tttgen.cost.ttnn_auto import ttnn_auto_config

__all__ = [
    "OP_KINDS",
    "Choice",
    "Coeffs",
    "MatmulProblem",
    "OpCost",
    "choose_matmul_config",
    "coeffs_for_arch",
    "device_time_ns",
    "enumerate_matmul_configs",
    "estimate_matmul",
    "estimate_op",
    "legality_problems",
    "load_calibration",
    "matmul_config_l1_bytes",
    "ttnn_auto_config",
    "ttnn_cb_estimate",
]
