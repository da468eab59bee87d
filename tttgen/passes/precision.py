"""Pass `precision`: dtypes of weights, activations and KV cache, and every op's compute-kernel config.

Inputs: hints.precision, per-op overrides (dtype, fidelity). Produces: `precision`
(weight decision `dtype`; op decisions `dtypes` {in0, in1, out} and `kernel`).
Starting point: tt_transformers' precision presets (reference 2.1) and compute-kernel table (2.2).
"""

from __future__ import annotations

from dataclasses import replace

from tttgen.errors import InputError
from tttgen.ir.configs import ComputeKernelConfig
from tttgen.ir.graph import Graph, Op
from tttgen.passes.base import make_pass

# Named compute-kernel settings of tt_transformers (ModelArgs.__init__, reference 2.2).
KERNELS = {
    "LOFI": ComputeKernelConfig("LoFi", False, False, True),
    "HIFI2": ComputeKernelConfig("HiFi2", True, True, True),
    "HIFI2_FP16": ComputeKernelConfig("HiFi2", False, False, True),
    "HIFI4": ComputeKernelConfig("HiFi4", False, True, True),
    "NORM": ComputeKernelConfig("HiFi2", False, True, True),  # models/common/rmsnorm.py
    "ROTARY": ComputeKernelConfig("HiFi4", True, False, False),  # ttnn default for rotary ops
}

# preset -> tensor group -> dtype (reference 2.1; Llama-3 rows).
WEIGHT_DTYPES = {
    "accuracy": {"FF1_FF3": "bfloat8_b", "FF2": "bfloat8_b", "WQKV": "bfloat8_b", "WO": "bfloat8_b", "KV_CACHE": "bfloat8_b"},
    "performance": {"FF1_FF3": "bfloat4_b", "FF2": "bfloat8_b", "WQKV": "bfloat8_b", "WO": "bfloat8_b", "KV_CACHE": "bfloat8_b"},
}
FIXED_DTYPES = {"LM_HEAD": "bfloat8_b", "EMBEDDING": "bfloat16", "NORM": "bfloat16"}

# preset -> op group -> kernel name (reference 2.1).
OP_KERNELS = {
    "accuracy": {"FF1_FF3": "HIFI2_FP16", "FF2": "HIFI2_FP16", "QKV": "HIFI2", "O": "HIFI2", "SDPA_DECODE": "HIFI2", "SDPA_PREFILL": "HIFI4", "LM_HEAD": "HIFI2"},
    "performance": {"FF1_FF3": "LOFI", "FF2": "HIFI2_FP16", "QKV": "HIFI2", "O": "HIFI2", "SDPA_DECODE": "HIFI2", "SDPA_PREFILL": "HIFI4", "LM_HEAD": "HIFI2"},
}
MATMUL_GROUP = {"wqkv": "QKV", "wo": "O", "w1": "FF1_FF3", "w3": "FF1_FF3", "w2": "FF2", "lm_head": "LM_HEAD"}
ACTIVATION = "bfloat16"


def override_for(graph: Graph, op: Op):
    """Overrides by `mode_key.name` win over overrides by bare op name."""
    overrides = graph.hints.overrides
    return overrides.get(op.key) or overrides.get(f"{op.mode}.{op.name}") or overrides.get(op.name)


def check_override_names(graph: Graph) -> None:
    known = {op.name for op in graph.ops} | {op.key for op in graph.ops} | {f"{op.mode}.{op.name}" for op in graph.ops}
    for name in sorted(graph.hints.overrides):
        if name not in known:
            raise InputError(
                f"override names unknown op '{name}'",
                where="hints.overrides",
                hint=f"allowed: {', '.join(sorted({op.name for op in graph.ops}))} (optionally prefixed by decode. or prefill.)",
            )


def _kernel(graph: Graph, op: Op, name: str) -> ComputeKernelConfig:
    kernel = KERNELS[name]
    ov = override_for(graph, op)
    if ov and ov.fidelity:
        kernel = replace(kernel, math_fidelity=ov.fidelity)
    return kernel


@make_pass("precision", requires=("target",), produces=("precision",))
def precision(graph: Graph) -> Graph:
    """Pick dtypes and compute-kernel configs from the precision preset, then apply overrides."""
    check_override_names(graph)
    preset = graph.hints.precision
    dtypes = {**WEIGHT_DTYPES[preset], **FIXED_DTYPES}
    weights = []
    for w in graph.weights:
        dtype = dtypes[w.role]
        for op in graph.ops:
            ov = override_for(graph, op)
            if op.weight == w.name and ov and ov.dtype and op.kind == "matmul":
                dtype = ov.dtype
        weights.append(w.decide(dtype=dtype))
    graph = graph.with_weights(weights)
    kernels = OP_KERNELS[preset]

    def decide(op: Op) -> Op:
        if op.kind == "matmul":
            w = graph.weight(op.weight)
            return op.decide(
                kernel=_kernel(graph, op, kernels[MATMUL_GROUP[op.name]]),
                dtypes={"in0": ACTIVATION, "in1": w.decisions["dtype"], "out": ACTIVATION},
            )
        if op.kind == "rms_norm":
            return op.decide(kernel=_kernel(graph, op, "NORM"), dtypes={"in0": ACTIVATION, "in1": "bfloat16", "out": ACTIVATION})
        if op.kind == "sdpa_prefill":
            return op.decide(kernel=_kernel(graph, op, kernels["SDPA_PREFILL"]), dtypes={"in0": ACTIVATION, "in1": ACTIVATION, "out": ACTIVATION})
        if op.kind == "sdpa_decode":
            kv = dtypes["KV_CACHE"]
            return op.decide(kernel=_kernel(graph, op, kernels["SDPA_DECODE"]), dtypes={"in0": ACTIVATION, "in1": kv, "out": ACTIVATION})
        if op.kind == "rotary":
            return op.decide(kernel=KERNELS["ROTARY"], dtypes={"in0": ACTIVATION, "in1": ACTIVATION, "out": ACTIVATION})
        return op.decide(kernel=None, dtypes={"in0": ACTIVATION, "in1": None, "out": ACTIVATION})

    return graph.with_ops(decide(op) for op in graph.ops).with_facts(kv_dtype=dtypes["KV_CACHE"], activation_dtype=ACTIVATION)
