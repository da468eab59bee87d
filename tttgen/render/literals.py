"""Python source literals for ttnn config objects (the only place that spells ttnn constructors)."""

from __future__ import annotations

from tttgen.ir.configs import ComputeKernelConfig, CoreRanges, MatmulConfig, MemoryPlacement, NormConfig, SdpaConfig

DTYPES = {
    "bfloat16": "ttnn.bfloat16",
    "float32": "ttnn.float32",
    "bfloat8_b": "ttnn.bfloat8_b",
    "bfloat4_b": "ttnn.bfloat4_b",
    "uint32": "ttnn.uint32",
    "int32": "ttnn.int32",
}


def dtype(name: str) -> str:
    return DTYPES[name]


def core_range_set(grid: CoreRanges) -> str:
    ranges = ", ".join(
        f"ttnn.CoreRange(ttnn.CoreCoord({a[0]}, {a[1]}), ttnn.CoreCoord({b[0]}, {b[1]}))" for a, b in grid.ranges
    )
    return f"ttnn.CoreRangeSet({{{ranges}}})"


def memory(p: MemoryPlacement) -> str:
    if not p.sharded:
        return "ttnn.DRAM_MEMORY_CONFIG" if p.buffer == "DRAM" else "ttnn.L1_MEMORY_CONFIG"
    if p.infer_shard:
        return f"ttnn.L1_{p.layout}_MEMORY_CONFIG"
    shard = f"ttnn.ShardSpec({core_range_set(p.grid)}, [{p.shard_shape[0]}, {p.shard_shape[1]}], ttnn.ShardOrientation.{p.orientation})"
    return f"ttnn.MemoryConfig(ttnn.TensorMemoryLayout.{p.layout}, ttnn.BufferType.{p.buffer}, {shard})"


def _value(name: str, value) -> str:
    if name == "compute_with_storage_grid_size":
        return f"ttnn.CoreCoord({value[0]}, {value[1]})"
    if name == "fused_activation":
        return "None" if value is None else f"ttnn.UnaryWithParam(ttnn.UnaryOpType.{value})"
    return repr(value)


def matmul_program(cfg: MatmulConfig) -> str:
    args = ", ".join(f"{k}={_value(k, v)}" for k, v in cfg.fields().items())
    return f"ttnn.{cfg.type}({args})"


def kernel(cfg: ComputeKernelConfig | None, cls: str) -> str:
    if cfg is None:
        return "None"
    return (
        f"ttnn.{cls}(math_fidelity=ttnn.MathFidelity.{cfg.math_fidelity}, math_approx_mode={cfg.math_approx_mode}, "
        f"fp32_dest_acc_en={cfg.fp32_dest_acc_en}, packer_l1_acc={cfg.packer_l1_acc}, dst_full_sync_en={cfg.dst_full_sync_en})"
    )


def norm_program(cfg: NormConfig | None) -> str:
    if cfg is None:
        return "None"
    return (
        f"ttnn.LayerNormShardedMultiCoreProgramConfig(compute_with_storage_grid_size=ttnn.CoreCoord({cfg.grid[0]}, {cfg.grid[1]}), "
        f"subblock_w={cfg.subblock_w}, block_h={cfg.block_h}, block_w={cfg.block_w}, inplace={cfg.inplace})"
    )


def sdpa_program(cfg: SdpaConfig) -> str:
    return (
        f"ttnn.SDPAProgramConfig(compute_with_storage_grid_size=ttnn.CoreCoord({cfg.grid[0]}, {cfg.grid[1]}), "
        f"q_chunk_size={cfg.q_chunk_size}, k_chunk_size={cfg.k_chunk_size}, exp_approx_mode={cfg.exp_approx_mode})"
    )
