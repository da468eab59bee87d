"""Pass `precision`: dtypes of weights, activations and KV cache, and every op's compute-kernel config.

Inputs: hints.precision, a module description's own policy for that preset (graph fact `precision_policy`), per-op
overrides (dtype, fidelity). Produces: `precision`
(weight decision `dtype`; op decisions `dtypes` {in0, in1, out} and `kernel`).
Starting point: tt_transformers' precision presets (reference 2.1) and compute-kernel table (2.2).
"""

from __future__ import annotations

from dataclasses import replace

from tttgen.errors import InputError
from tttgen.ir.configs import ComputeKernelConfig
from tttgen.ir.graph import Graph, Op
from tttgen.ops.kinds import kinds_with, kind_of
from tttgen.ops.kinds.base import ACTIVATION, PrecisionTools
from tttgen.passes.base import make_pass
from tttgen.inputs.hints import OpOverride

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
    "accuracy": {"FF1_FF3": "HIFI2_FP16", "FF2": "HIFI2_FP16", "QKV": "HIFI2", "O": "HIFI2", "SDPA_DECODE": "HIFI2", "SDPA_PREFILL": "HIFI4", "LM_HEAD": "HIFI2", "ACT_MATMUL": "HIFI4"},
    "performance": {"FF1_FF3": "LOFI", "FF2": "HIFI2_FP16", "QKV": "HIFI2", "O": "HIFI2", "SDPA_DECODE": "HIFI2", "SDPA_PREFILL": "HIFI4", "LM_HEAD": "HIFI2", "ACT_MATMUL": "HIFI2"},
}
# ACT_MATMUL (a matmul of two activations, e.g. Boltz's triangle product summing n terms per channel): HiFi4
# with fp32 accumulation at the accuracy preset, as TT-Boltz runs every op (module-library facts §2.1).
# weight role of a matmul -> its op group in OP_KERNELS (reference 2.1 names the groups after the ops).
MATMUL_GROUP = {"WQKV": "QKV", "WO": "O", "FF1_FF3": "FF1_FF3", "FF2": "FF2", "LM_HEAD": "LM_HEAD"}
POLICY_WEIGHT_ROLES = ("FF1_FF3", "FF2", "WQKV", "WO", "LM_HEAD")  # the matmul weights a module policy sets


def override_entry(graph: Graph, op: Op) -> tuple[str, OpOverride] | None:
    """(key, override) for an op: `mode_key.name` wins over `mode.name`, which wins over the bare op name."""
    overrides = graph.hints.overrides
    for key in (op.key, f"{op.mode}.{op.name}", op.name):
        if key in overrides:
            return key, overrides[key]
    return None


def override_for(graph: Graph, op: Op) -> OpOverride | None:
    entry = override_entry(graph, op)
    return entry[1] if entry else None


def pin_where(graph: Graph, key: str, field: str) -> str:
    """Where a pin is written, for errors: the hints file and the override's field path."""
    return f"{graph.hints.source}: overrides.{key}.{field}"


def mark_pinned(graph: Graph, op: Op, key: str, field: str) -> Op:
    """Record that `field` of this op was pinned by an override (not searched); render and explain print it."""
    before = op.decisions.get("pinned")
    fields = tuple(sorted(set(before["fields"] if before else ()) | {field}))
    return op.decide(pinned={"by": f"{graph.hints.source} overrides.{key}", "fields": fields})


# override field -> the kinds whose calls take that config (each kind's `pins`)
PIN_KINDS = {
    field: kinds_with(lambda kind, field=field: field in kind.pins)
    for field in ("program_config", "compute_kernel_config", "memory_config")
}


def check_override_names(graph: Graph) -> None:
    """Every override names a known op, and every pin an op kind that has that config: all problems at once."""
    known = {op.name for op in graph.ops} | {op.key for op in graph.ops} | {f"{op.mode}.{op.name}" for op in graph.ops}
    problems = []
    for name in sorted(graph.hints.overrides):
        if name not in known:
            problems.append(f"override names unknown op '{name}'")
            continue
        ov = graph.hints.overrides[name]
        ops = [op for op in graph.ops if name in (op.name, op.key, f"{op.mode}.{op.name}")]
        for field, kinds in PIN_KINDS.items():
            wrong = sorted({op.kind for op in ops if getattr(ov, field) is not None and op.kind not in kinds})
            if wrong:
                problems.append(f"'{name}.{field}': a {', '.join(wrong)} op has none (allowed on: {', '.join(kinds)})")
        if ov.memory_config and "in0" in ov.memory_config:
            # Only a reshard tttgen emits for this matmul alone can place its input; elsewhere in0 is the
            # producer's output (prefill) or shared with a twin (w1/w3), so a pin there would not hold.
            fed = {(o.mode_key, o.facts.get("dst")) for o in graph.ops if o.kind == "reshard"}
            for op in ops:
                if "memory_config" in kind_of(op).pins and ((op.mode_key, op.name) not in fed or op.facts.get("sibling_output_live")):
                    problems.append(
                        f"'{name}.memory_config.in0': {op.key} reads its producer's tensor as it is "
                        "(allowed on decode matmuls a reshard feeds alone: " + ", ".join(sorted(
                            o.key for o in graph.ops if "memory_config" in kind_of(o).pins and (o.mode_key, o.name) in fed and not o.facts.get("sibling_output_live")
                        )) + ")"
                    )
                    break
        if ov.memory_config and "in1" in ov.memory_config and ov.memory_config["in1"].buffer != "DRAM":
            problems.append(f"'{name}.memory_config.in1': weights stay in DRAM (allowed buffer: DRAM)")
    if problems:
        raise InputError(
            "; ".join(problems),
            where=f"{graph.hints.source}: overrides",
            hint=f"ops: {', '.join(sorted({op.name for op in graph.ops}))} (optionally prefixed by a mode key: decode., prefill., prefill_<len>. or a chosen mode name)",
        )


def _kernel(graph: Graph, op: Op, name: str) -> ComputeKernelConfig:
    kernel = KERNELS[name]
    ov = override_for(graph, op)
    if ov and ov.compute_kernel_config:
        return ComputeKernelConfig(**ov.compute_kernel_config.model_dump())
    if ov and ov.fidelity:
        kernel = replace(kernel, math_fidelity=ov.fidelity)
    return kernel


def _mark_pins(graph: Graph, op: Op) -> Op:
    """Mark the kernel and dtype pins this pass applied (memory and program pins are marked by their passes)."""
    entry = override_entry(graph, op)
    if entry is None:
        return op
    key, ov = entry
    pins = kind_of(op).pins
    if ov.compute_kernel_config and "compute_kernel_config" in pins:
        op = mark_pinned(graph, op, key, "compute_kernel_config")
    if ov.dtype and "dtype" in pins:
        op = mark_pinned(graph, op, key, "dtype")
    return op


@make_pass("precision", requires=("target",), produces=("precision",))
def precision(graph: Graph) -> Graph:
    """Pick dtypes and compute-kernel configs from the precision preset, then apply overrides."""
    check_override_names(graph)
    preset = graph.hints.precision
    dtypes = {**WEIGHT_DTYPES[preset], **FIXED_DTYPES}
    # a module description's own policy for this preset (Boltz-2: bf16 and HiFi4 everywhere, as TT-Boltz runs)
    policy = (graph.facts.get("precision_policy") or {}).get(preset)
    if policy:
        # the KV cache keeps the policy's weight dtype too (PI0's prefix K/V feed every denoising step)
        dtypes.update({role: policy["weights"] for role in (*POLICY_WEIGHT_ROLES, "KV_CACHE")})
    weights = []
    for w in graph.weights:
        dtype = dtypes[w.role]
        for op in graph.ops:
            ov = override_for(graph, op)
            if op.weight == w.name and ov and ov.dtype and "dtype" in kind_of(op).pins:
                dtype = ov.dtype
        weights.append(w.decide(dtype=dtype))
    graph = graph.with_weights(weights)
    kernels = {group: policy["kernel"] for group in OP_KERNELS[preset]} if policy else OP_KERNELS[preset]
    norm_kernel = policy["kernel"] if policy else "NORM"

    tools = PrecisionTools(
        kernel=lambda op, group: _kernel(graph, op, kernels[group]),
        norm_kernel=lambda op: _kernel(graph, op, norm_kernel),
        fixed_kernel=KERNELS.__getitem__,
        weight_group=lambda op: MATMUL_GROUP[graph.weight(op.weight).role],
        weight_dtype=lambda op: graph.weight(op.weight).decisions["dtype"],
        kv_dtype=dtypes["KV_CACHE"],
    )

    def decide(op: Op) -> Op:
        kernel, in1 = kind_of(op).precision(op, tools)
        return op.decide(kernel=kernel, dtypes={"in0": ACTIVATION, "in1": in1, "out": ACTIVATION})

    return graph.with_ops(_mark_pins(graph, decide(op)) for op in graph.ops).with_facts(kv_dtype=dtypes["KV_CACHE"], activation_dtype=ACTIVATION)
