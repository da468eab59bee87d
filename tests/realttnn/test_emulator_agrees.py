"""Legality the emulator no longer checks, proven by the real ttnn 0.81.1 on a mock n150.

The emulator keeps only what it needs to compute and place results (tests/emulator/test_rejections.py); ttnn's rules
are written once in tttgen/rules/ and judged by ttnn. Each REJECTED case is one the emulator used to reject on its own
(its former rule in the comment): ttnn must reject it, in its own words. Each ACCEPTED case is legal ttnn, some of them
cases the emulator used to reject wrongly: ttnn accepts it and the emulator must run it as well.

Cases are probe cases (`tttgen.checking.realttnn.probe`): operands and keyword arguments written as ttnn source, so the same
text is evaluated by ttnn and by the emulator.
"""

import pytest
import torch

import tttgen.checking.emulator as emu
from tttgen.checking.realttnn.oracle import judge_sources
from tttgen.inputs.load import load_device

DRAM = "ttnn.DRAM_MEMORY_CONFIG"
L1 = "ttnn.L1_MEMORY_CONFIG"
L1_WIDTH = "ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG"
L1_HEIGHT = "ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG"
L1_BLOCK = "ttnn.L1_BLOCK_SHARDED_MEMORY_CONFIG"


def operand(shape, dtype="ttnn.bfloat16", memory=DRAM):
    return {"shape": list(shape), "dtype": dtype, "memory": memory}


def call(op, operands, **kwargs):
    return {"op": op, "operands": operands, "kwargs": {k: str(v) for k, v in kwargs.items()}}


def source(cls, base, changes):
    fields = {**base, **changes}
    return f"ttnn.{cls}(" + ", ".join(f"{k}={v}" for k, v in fields.items()) + ")"


def mm2d(**changes):
    base = dict(
        compute_with_storage_grid_size="ttnn.CoreCoord(8, 8)",
        in0_block_w=2,
        out_subblock_h=1,
        out_subblock_w=1,
        per_core_M=1,
        per_core_N=1,
        transpose_mcast=False,
        fused_activation=None,
        fuse_batch=True,
    )
    return source("MatmulMultiCoreReuseMultiCastProgramConfig", base, changes)


def mm1d(**changes):
    base = dict(
        compute_with_storage_grid_size="ttnn.CoreCoord(8, 8)",
        in0_block_w=2,
        out_subblock_h=1,
        out_subblock_w=1,
        per_core_M=4,
        per_core_N=1,
        fuse_batch=True,
        fused_activation=None,
        mcast_in0=True,
    )
    return source("MatmulMultiCoreReuseMultiCast1DProgramConfig", base, changes)


def reuse(**changes):
    base = dict(
        compute_with_storage_grid_size="ttnn.CoreCoord(8, 8)",
        in0_block_w=2,
        out_subblock_h=1,
        out_subblock_w=4,
        per_core_M=2,
        per_core_N=4,
    )
    return source("MatmulMultiCoreReuseProgramConfig", base, changes)


def dram_sharded(**changes):
    base = dict(in0_block_w=2, per_core_M=1, per_core_N=3, fused_activation=None)
    return source("MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig", base, changes)


def kernel(fp32_acc, full_sync=False):
    return (
        "ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=False, "
        f"fp32_dest_acc_en={fp32_acc}, packer_l1_acc=True, dst_full_sync_en={full_sync})"
    )


def width_sharded(rows, shard_width, x, y):
    return (
        f"ttnn.create_sharded_memory_config(({rows}, {shard_width}), ttnn.CoreGrid(x={x}, y={y}), "
        "ttnn.ShardStrategy.WIDTH, ttnn.ShardOrientation.ROW_MAJOR, use_height_and_width_as_shard_shape=True)"
    )


def norm_program(**changes):
    base = dict(
        compute_with_storage_grid_size="ttnn.CoreCoord(4, 1)", subblock_w=2, block_h=1, block_w=2, inplace=False
    )
    return source("LayerNormShardedMultiCoreProgramConfig", base, changes)


def sdpa_program(q_chunk, k_chunk):
    return (
        "ttnn.SDPAProgramConfig(compute_with_storage_grid_size=ttnn.CoreCoord(8, 8), "
        f"q_chunk_size={q_chunk}, k_chunk_size={k_chunk}, exp_approx_mode=False)"
    )


# A [128, 256] bf16 x B [256, 512] bfp8: Mt 4, Kt 8, Nt 16.
A, B = operand([1, 1, 128, 256]), operand([1, 1, 256, 512], "ttnn.bfloat8_b")
# tt_transformers' DRAM-sharded weight (N padded to 32 * 12 banks, one shard per bank) and a width-sharded activation.
W_DRAM = (
    "ttnn.MemoryConfig(ttnn.TensorMemoryLayout.WIDTH_SHARDED, ttnn.BufferType.DRAM, ttnn.ShardSpec(ttnn.CoreRangeSet("
    "{ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(11, 0))}), [512, 64], ttnn.ShardOrientation.ROW_MAJOR))"
)
DS_A, DS_W = operand([1, 1, 32, 512], memory=width_sharded(32, 64, 8, 1)), operand(
    [1, 1, 512, 768], "ttnn.bfloat8_b", W_DRAM
)
# tt_transformers' Llama-3.1-8B prefill W1 (reference §2.7): fits L1 only because interm0 shares the output CB.
W1_OPERANDS = [operand([1, 1, 512, 4096]), operand([1, 1, 4096, 14336], "ttnn.bfloat8_b")]
W1_PROGRAM = mm2d(in0_block_w=8, per_core_M=2, per_core_N=56, out_subblock_w=4, fuse_batch=False)
NORM_MEM = width_sharded(32, 64, 4, 1)
NORM_X = operand([1, 1, 32, 256], memory=NORM_MEM)
HEIGHT_4 = "ttnn.create_sharded_memory_config((1, 1, 128, 256), ttnn.CoreGrid(x=4, y=1), ttnn.ShardStrategy.HEIGHT)"
BLOCK_8x8 = (
    "ttnn.MemoryConfig(ttnn.TensorMemoryLayout.BLOCK_SHARDED, ttnn.BufferType.L1, ttnn.ShardSpec(ttnn.CoreRangeSet("
    "{ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(7, 7))}), [32, 32], ttnn.ShardOrientation.ROW_MAJOR))"
)
QKV = [operand([1, 4, 128, 64]), operand([1, 2, 128, 64]), operand([1, 2, 128, 64])]
DECODE_QKV = [
    operand([1, 32, 8, 64]),
    operand([32, 2, 128, 64], "ttnn.bfloat8_b"),
    operand([32, 2, 128, 64], "ttnn.bfloat8_b"),
]
HEADS_DECODE = "ttnn.experimental.nlp_create_qkv_heads_decode"
ROPE = "ttnn.experimental.rotary_embedding_llama"
SDPA = "ttnn.transformer.scaled_dot_product_attention"

# name -> (case, a substring of ttnn's message). Comments: the emulator's former rule.
REJECTED = {
    "subblock over the fp32 DST": (  # matmul.dst_limit
        call(
            "ttnn.linear",
            [A, B],
            program_config=mm2d(per_core_N=8, out_subblock_w=8),
            compute_kernel_config=kernel(True),
        ),
        "out_subblock_h * program_config.out_subblock_w <= available_reg_count",
    ),
    "subblock over the fp32 DST with full sync": (  # the emulator accepted it (16 / 2 tiles); ttnn keeps 4
        call(
            "ttnn.linear",
            [A, B],
            program_config=mm2d(per_core_N=8, out_subblock_w=8),
            compute_kernel_config=kernel(True, full_sync=True),
        ),
        "out_subblock_h * program_config.out_subblock_w <= available_reg_count",
    ),
    "in0_block_w not dividing K": (  # matmul.kt_in0_block_w
        call("ttnn.linear", [A, B], program_config=mm2d(in0_block_w=3, per_core_N=2)),
        "Kt (8) must be divisible by in0_block_w (3)",
    ),
    "grid larger than the device": (  # matmul.grid
        call(
            "ttnn.linear",
            [A, B],
            program_config=mm2d(compute_with_storage_grid_size="ttnn.CoreCoord(9, 8)", per_core_N=2),
        ),
        "must fit within device grid",
    ),
    "2D blocks along x": (
        call("ttnn.linear", [A, B], program_config=mm2d()),
        "num_blocks_x <= grid.x",
    ),  # matmul2d.num_blocks_x
    "2D blocks along y": (  # matmul2d.num_blocks_y
        call(
            "ttnn.linear",
            [A, B],
            program_config=mm2d(compute_with_storage_grid_size="ttnn.CoreCoord(8, 2)", per_core_N=2),
        ),
        "num_blocks_y <= grid.y",
    ),
    "1D mcast_in0 with M over one block": (  # matmul1d.mcast_in0_m
        call("ttnn.linear", [A, B], program_config=mm1d(per_core_M=2)),
        "mcast_in0 requires M (4) to fit within a single per_core_M block",
    ),
    "1D blocks over the cores": (  # matmul1d.num_blocks
        call("ttnn.linear", [A, B], program_config=mm1d(compute_with_storage_grid_size="ttnn.CoreCoord(4, 2)")),
        "Number of blocks exceeds number of cores",
    ),
    "1D mcast_in1 with N over one block": (  # matmul1d.mcast_in1_n
        call("ttnn.linear", [A, B], program_config=mm1d(mcast_in0=False, per_core_M=1, per_core_N=4)),
        "mcast_in1 requires N (16) to fit within a single per_core_N block",
    ),
    "out_block_w not dividing per_core_N": (  # matmul.per_core_N_block
        call("ttnn.linear", [A, B], program_config=mm1d(per_core_N=2, out_block_w=3)),
        "per_core_N (2) must be divisible by out_block_w (3)",
    ),
    "fuse_batch with a batched B": (  # matmul.fuse_batch
        call("ttnn.matmul", [operand([1, 2, 32, 64]), operand([1, 2, 64, 64])], program_config=mm2d()),
        "Matmul with fused batch requires",
    ),
    "reuse per_core_N below N": (  # reuse.n
        call(
            "ttnn.matmul",
            [operand([1, 4, 64, 64]), operand([1, 4, 64, 128])],
            program_config=reuse(per_core_N=2, out_subblock_w=2),
        ),
        "N (4) must equal per_core_N (2)",
    ),
    "reuse per_core_M not a multiple of M": (  # reuse.m
        call(
            "ttnn.matmul",
            [operand([1, 4, 64, 64]), operand([1, 4, 64, 128])],
            program_config=reuse(per_core_M=3, out_subblock_h=1),
        ),
        "per_core_M, 3, must be a multiple of M, 2",
    ),
    "sharded output with a partial-width subblock": (  # matmul.sharded_out_subblock
        call(
            "ttnn.linear",
            [A, B],
            program_config=mm2d(
                compute_with_storage_grid_size="ttnn.CoreCoord(8, 2)", per_core_M=2, per_core_N=2, out_subblock_h=2
            ),
            memory_config=L1_BLOCK,
        ),
        "out_subblock_w == per_core_N || out_subblock_h == 1",
    ),
    "2D output height-sharded over several columns": (  # still refused by the emulator: the shards cannot hold it
        call(
            "ttnn.linear",
            [A, B],
            program_config=mm2d(compute_with_storage_grid_size="ttnn.CoreCoord(8, 4)", per_core_N=2),
            memory_config=L1_HEIGHT,
        ),
        "Shard width 64 must match physical width 512 for height sharded",
    ),
    "block-sharded A with other rows per core": (  # still refused by the emulator: matmul.in0_shard_rows
        call(
            "ttnn.linear",
            [operand([1, 1, 256, 256], memory=BLOCK_8x8), operand([1, 1, 256, 512])],
            program_config=mm2d(
                compute_with_storage_grid_size="ttnn.CoreCoord(8, 4)", out_subblock_w=2, per_core_M=2, per_core_N=2
            ),
            memory_config=DRAM,
        ),
        "per_core_M == (shard_shape[0] / in0_tile.get_height())",
    ),
    "DRAM-sharded with 64 rows": (  # dram_sharded.m
        call(
            "ttnn.linear",
            [operand([1, 1, 64, 512], memory=width_sharded(64, 64, 8, 1)), DS_W],
            program_config=dram_sharded(per_core_M=2),
            memory_config=L1_WIDTH,
        ),
        "currently only support in0 tensor height of tile height",
    ),
    "DRAM-sharded with an interleaved A": (  # dram_sharded.a_sharded
        call("ttnn.linear", [operand([1, 1, 32, 512]), DS_W], program_config=dram_sharded(), memory_config=L1_WIDTH),
        "bad optional access",
    ),
    "DRAM-sharded with an interleaved B": (  # dram_sharded.b_dram
        call(
            "ttnn.linear",
            [DS_A, operand([1, 1, 512, 768], "ttnn.bfloat8_b")],
            program_config=dram_sharded(),
            memory_config=L1_WIDTH,
        ),
        "input_tensor_b.memory_config().memory_layout() == TensorMemoryLayout::WIDTH_SHARDED",
    ),
    "DRAM-sharded with an interleaved output": (  # dram_sharded.out_sharded
        call("ttnn.linear", [DS_A, DS_W], program_config=dram_sharded()),
        "Output memory config must be sharded for DRAM sharded",
    ),
    "prefill W1 with fp32 accumulation over L1": (  # l1.circular_buffers
        call("ttnn.linear", W1_OPERANDS, program_config=W1_PROGRAM, compute_kernel_config=kernel(True)),
        "Statically allocated dataflow buffers on core range [0-0 - 7-7] grow to",
    ),
    "L1 tensor larger than L1": (  # l1.out_of_memory
        call("ttnn.silu", [operand([1, 1, 4096, 16384], memory=L1)]),
        "Out of Memory: Not enough space to allocate",
    ),
    "norm block_w not K / cores": (  # norm.block_w
        call(
            "ttnn.rms_norm",
            [NORM_X],
            epsilon=1e-5,
            program_config=norm_program(block_w=4, subblock_w=4),
            memory_config=NORM_MEM,
        ),
        "block_w (4) must equal to K (in tiles) / num_cores (2)",
    ),
    "norm subblock_w not dividing block_w": (  # norm.subblock_w
        call(
            "ttnn.rms_norm", [NORM_X], epsilon=1e-5, program_config=norm_program(subblock_w=3), memory_config=NORM_MEM
        ),
        "block_w must be divisible by subblock_w",
    ),
    "norm shard grid outside the program grid": (  # norm.shard_grid_in_config
        call(
            "ttnn.rms_norm",
            [NORM_X],
            epsilon=1e-5,
            program_config=norm_program(compute_with_storage_grid_size="ttnn.CoreCoord(2, 1)"),
            memory_config=NORM_MEM,
        ),
        "does not fit within program_config grid 2x1",
    ),
    "norm on a height-sharded input": (  # norm.height_sharded
        call(
            "ttnn.rms_norm",
            [operand([1, 1, 128, 256], memory=HEIGHT_4)],
            epsilon=1e-5,
            program_config=norm_program(),
            memory_config=HEIGHT_4,
        ),
        "Height sharded inputs are not supported",
    ),
    "SDPA q_chunk_size 48": (  # sdpa.q_chunk
        call(SDPA, QKV, is_causal=True, program_config=sdpa_program(48, 64)),
        "q_chunk_size must be a positive multiple of TILE_SIZE. Got q_chunk_size: 48",
    ),
    "SDPA k_chunk_size 100": (  # sdpa.k_chunk
        call(SDPA, QKV, is_causal=True, program_config=sdpa_program(64, 100)),
        "k_chunk_size must be a positive multiple of TILE_SIZE. Got k_chunk_size: 100",
    ),
    "SDPA decode GQA into a sharded output": (  # sdpa_decode.gqa_out
        call(
            "ttnn.transformer.scaled_dot_product_attention_decode",
            DECODE_QKV,
            cur_pos="[0] * 32",
            memory_config=L1_HEIGHT,
        ),
        "bad optional access",
    ),
    "decode heads from bfloat8_b": (  # qkv_decode.dtype
        call(
            HEADS_DECODE,
            [operand([1, 1, 32, 768], "ttnn.bfloat8_b", L1)],
            num_heads=8,
            num_kv_heads=2,
            memory_config=L1_HEIGHT,
        ),
        "input_tensor.dtype() == tt::tt_metal::DataType::FLOAT32",
    ),
    "decode heads of 64 users": (  # qkv_decode.batch
        call(HEADS_DECODE, [operand([1, 1, 64, 768], memory=L1)], num_heads=8, num_kv_heads=2, memory_config=L1_HEIGHT),
        "num_users <= num_users_supported",
    ),
    "decode heads with fewer Q than KV heads": (  # qkv_decode.gqa
        call(HEADS_DECODE, [operand([1, 1, 32, 768], memory=L1)], num_heads=2, num_kv_heads=5, memory_config=L1_HEIGHT),
        "num_q_heads >= operation_attributes.num_kv_heads",
    ),
    "decode rotary on an interleaved input": (  # rope.decode_input_sharded
        call(
            ROPE,
            [operand([1, 32, 8, 64]), operand([1, 32, 1, 64]), operand([1, 32, 1, 64]), operand([1, 1, 32, 32])],
            is_decode_mode=True,
        ),
        "memory_layout() == TensorMemoryLayout::HEIGHT_SHARDED",
    ),
    "prefill rotary with bfloat8_b cos/sin": (  # rope.dtype
        call(
            ROPE,
            [
                operand([1, 8, 64, 64]),
                operand([1, 1, 64, 64], "ttnn.bfloat8_b"),
                operand([1, 1, 64, 64], "ttnn.bfloat8_b"),
                operand([1, 1, 32, 32]),
            ],
            is_decode_mode=False,
        ),
        "input_tensor.dtype() == cos.dtype() && cos.dtype() == sin.dtype()",
    ),
    "cache update from an interleaved input": (  # update_cache.input_sharded
        call(
            "ttnn.experimental.paged_update_cache",
            [operand([32, 2, 64, 64], "ttnn.bfloat8_b"), operand([1, 32, 2, 64])],
            update_idxs="[0] * 32",
        ),
        "Expect input_tensor to be sharded",
    ),
    "cache fill of another dtype": (  # fill_cache.dtype_match
        call("ttnn.fill_cache", [operand([32, 2, 64, 64], "ttnn.bfloat8_b"), operand([1, 2, 32, 64])], batch_idx=0),
        "Input and cache tensors must have same dtype!",
    ),
}

# Legal ttnn: ttnn accepts each, so must the emulator. Comments: the emulator's former rule that refused it wrongly.
ACCEPTED = {
    "8-tile subblock with bf16 accumulation": call(
        "ttnn.linear", [A, B], program_config=mm2d(per_core_N=8, out_subblock_w=8), compute_kernel_config=kernel(False)
    ),
    "2D blocks on an 8x4 grid": call(
        "ttnn.linear", [A, B], program_config=mm2d(compute_with_storage_grid_size="ttnn.CoreCoord(8, 4)", per_core_N=2)
    ),
    "2D block-sharded output": call(
        "ttnn.linear",
        [A, B],
        program_config=mm2d(compute_with_storage_grid_size="ttnn.CoreCoord(8, 4)", per_core_N=2),
        memory_config=L1_BLOCK,
    ),
    "1D mcast_in0": call("ttnn.linear", [A, B], program_config=mm1d()),
    "reuse": call("ttnn.matmul", [operand([1, 4, 64, 64]), operand([1, 4, 64, 128])], program_config=reuse()),
    "DRAM-sharded": call("ttnn.linear", [DS_A, DS_W], program_config=dram_sharded(), memory_config=L1_WIDTH),
    # dram_sharded.shard_w_block: in0_block_w 4 is wider than the 2-tile A shard
    "DRAM-sharded with in0_block_w over the A shard": call(
        "ttnn.linear", [DS_A, DS_W], program_config=dram_sharded(in0_block_w=4), memory_config=L1_WIDTH
    ),
    "prefill W1 with bf16 accumulation": call(
        "ttnn.linear", W1_OPERANDS, program_config=W1_PROGRAM, compute_kernel_config=kernel(False)
    ),
    "block-sharded A with its rows per core": call(
        "ttnn.linear",
        [operand([1, 1, 256, 256], memory=BLOCK_8x8), operand([1, 1, 256, 512])],
        program_config=mm2d(in0_block_w=1, per_core_N=2),
        memory_config=DRAM,
    ),
    "sharded norm": call(
        "ttnn.rms_norm", [NORM_X], epsilon=1e-5, program_config=norm_program(), memory_config=NORM_MEM
    ),
    # norm.sharded_needs_config
    "sharded norm without a program config": call("ttnn.rms_norm", [NORM_X], epsilon=1e-5),
    "SDPA prefill GQA": call(SDPA, QKV, is_causal=True),
    "SDPA decode GQA": call("ttnn.transformer.scaled_dot_product_attention_decode", DECODE_QKV, cur_pos="[0] * 32"),
    "decode heads": call(
        HEADS_DECODE, [operand([1, 1, 32, 768], memory=L1)], num_heads=8, num_kv_heads=2, memory_config=L1_HEIGHT
    ),
    # qkv_decode.output_height_sharded
    "decode heads into L1 interleaved": call(
        HEADS_DECODE, [operand([1, 1, 32, 768], memory=L1)], num_heads=8, num_kv_heads=2, memory_config=L1
    ),
    # qkv_decode.num_heads
    "decode heads with 40 query heads": call(
        HEADS_DECODE, [operand([1, 1, 32, 44 * 32], memory=L1)], num_heads=40, num_kv_heads=2, memory_config=L1_HEIGHT
    ),
    "prefill rotary": call(
        ROPE,
        [operand([1, 8, 64, 64]), operand([1, 1, 64, 64]), operand([1, 1, 64, 64]), operand([1, 1, 32, 32])],
        is_decode_mode=False,
    ),
    "cache fill": call(
        "ttnn.fill_cache",
        [operand([32, 2, 64, 64], "ttnn.bfloat8_b"), operand([1, 2, 32, 64], "ttnn.bfloat8_b")],
        batch_idx=0,
    ),
}


@pytest.fixture(scope="module")
def n150():
    return load_device("n150")[0]


@pytest.fixture(scope="module")
def verdicts(real_ttnn, n150):
    """ttnn's verdict on every case, from one probe run (cached on disk afterwards)."""
    cases = {**{name: case for name, (case, _) in REJECTED.items()}, **ACCEPTED}
    return dict(zip(cases, judge_sources(n150, list(cases.values()))))


def run_on_emulator(device, case):
    """Evaluate the probe case's source against the emulator's ttnn and run the op (values are not modelled)."""
    grid = (device.grid.x, device.grid.y)
    with emu.installed(arch=device.arch, grid=grid, dram_banks=device.dram.banks, numerics="none") as ttnn:
        namespace = {"ttnn": ttnn}
        dev = ttnn.open_device(device_id=0)
        tensors = [
            ttnn.from_torch(
                torch.zeros(()).expand(o["shape"]),
                dtype=eval(o["dtype"], namespace),
                layout=ttnn.TILE_LAYOUT,
                device=dev,
                memory_config=eval(o["memory"], namespace),
            )
            for o in case["operands"]
        ]
        kwargs = {k: eval(v, namespace) for k, v in case["kwargs"].items()}
        return eval(case["op"], namespace)(*tensors, **kwargs)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_ttnn_rejects_what_the_emulator_no_longer_checks(verdicts, name):
    verdict, expected = verdicts[name], REJECTED[name][1]
    assert not verdict.accepted, f"{name}: ttnn accepted it ({verdict.l1_total} B/core)"
    assert expected in verdict.message, f"{name}: {verdict.message}"


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_emulator_runs_what_ttnn_accepts(verdicts, n150, name):
    verdict = verdicts[name]
    assert verdict.accepted, f"{name}: {verdict.message}"
    assert verdict.l1_total <= n150.usable_l1_bytes
    run_on_emulator(n150, ACCEPTED[name])
