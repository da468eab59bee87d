"""One test per ttnn rule: the validator rejects a hand-made violation, and no emitted config breaks it."""

from dataclasses import replace

import pytest

from plan_cache import cached_plan
from tttgen.ir.configs import (
    DRAM_INTERLEAVED,
    MATMUL_1D,
    MATMUL_2D,
    MATMUL_DRAM_SHARDED,
    MATMUL_REUSE,
    ComputeKernelConfig,
    CoreRanges,
    MatmulConfig,
    MatmulShape,
    MemoryPlacement,
    NormConfig,
    SdpaConfig,
)
from tttgen.rules import matmul as R
from tttgen.rules import other as O
from tttgen.inputs.load import load_device
from tttgen.tiling import row_major_cores

N150, _ = load_device("n150")
P150, _ = load_device("p150")
HIFI2 = ComputeKernelConfig("HiFi2", False, False, True)
HIFI2_FP32 = ComputeKernelConfig("HiFi2", True, True, True)
WS = lambda h, w, cores: MemoryPlacement("L1", "WIDTH_SHARDED", (h, w), CoreRanges(row_major_cores(cores, 8)), "ROW_MAJOR")  # noqa: E731
DRAM_W = MemoryPlacement("DRAM", "WIDTH_SHARDED", (4096, 512), CoreRanges((((0, 0), (11, 0)),)), "ROW_MAJOR")


def case_2d(**cfg) -> R.MatmulCase:
    """A legal 2D prefill matmul (1024 x 4096 x 4096 on 8x8) to mutate."""
    base = MatmulConfig(
        MATMUL_2D, in0_block_w=4, per_core_M=4, per_core_N=16, out_subblock_h=1, out_subblock_w=4,
        out_block_h=4, out_block_w=16, grid=(8, 8), transpose_mcast=False, fuse_batch=True,
    )
    return R.MatmulCase(
        N150, MatmulShape(1024, 4096, 4096), replace(base, **cfg), HIFI2, DRAM_INTERLEAVED, DRAM_INTERLEAVED,
        DRAM_INTERLEAVED, "bfloat16", "bfloat8_b", "bfloat16",
    )


def case_dram_sharded(m=32, **cfg) -> R.MatmulCase:
    base = MatmulConfig(MATMUL_DRAM_SHARDED, in0_block_w=4, per_core_M=1, per_core_N=6)
    return R.MatmulCase(
        N150, MatmulShape(m, 4096, 6144), replace(base, **cfg), HIFI2_FP32, WS(32, 128, 32), DRAM_W,
        MemoryPlacement("L1", "WIDTH_SHARDED", (32, 192), CoreRanges(row_major_cores(32, 8)), "ROW_MAJOR", True),
        "bfloat16", "bfloat8_b", "bfloat16",
    )


def broken(case):
    return [v.split(":")[0] for v in R.matmul_violations(case)]


def test_base_cases_are_legal():
    assert broken(case_2d()) == []
    assert broken(case_dram_sharded()) == []


@pytest.mark.parametrize(
    "rule, case",
    [
        ("r01_tile_aligned", lambda: replace(case_2d(), shape=MatmulShape(1024, 4100, 4096))),
        ("r02_k_divisible", lambda: case_2d(in0_block_w=3)),
        ("r03_dst_limit", lambda: replace(case_2d(out_subblock_h=1, out_subblock_w=8), kernel=HIFI2_FP32)),
        ("r04_block_divisibility", lambda: case_2d(out_subblock_w=3)),
        ("r05_grid_in_device", lambda: case_2d(grid=(9, 8))),
        ("r06_2d_blocks_fit", lambda: case_2d(per_core_N=4, out_block_w=4, out_subblock_w=4)),
        ("r07_1d_blocks_fit", lambda: case_2d(type=MATMUL_1D, mcast_in0=True, per_core_N=2, out_block_w=None, out_block_h=None, out_subblock_w=2, transpose_mcast=None)),
        ("r08_fuse_batch", lambda: replace(case_2d(), in1_batched=True)),
        ("r09_2d_sharded_output", lambda: replace(case_2d(), out=WS(128, 512, 64))),
        ("r10_2d_sharded_input", lambda: replace(case_2d(), in0=WS(1024, 64, 64))),
        ("r11_1d_mcast_in0_sharded", lambda: replace(case_2d(type=MATMUL_1D, mcast_in0=True, per_core_M=32, per_core_N=2, out_block_h=None, out_block_w=None, out_subblock_h=1, out_subblock_w=2, transpose_mcast=None), in0=MemoryPlacement("L1", "HEIGHT_SHARDED", (16, 4096), CoreRanges(row_major_cores(64, 8)), "ROW_MAJOR"))),
        ("r12_1d_mcast_in1_sharded", lambda: replace(case_2d(type=MATMUL_1D, mcast_in0=False, per_core_M=1, per_core_N=128, out_block_h=None, out_block_w=None, out_subblock_h=1, out_subblock_w=8, transpose_mcast=None), in0=WS(1024, 64, 64))),
        ("r13_reuse", lambda: case_2d(type=MATMUL_REUSE, per_core_N=16, out_block_h=None, out_block_w=None, transpose_mcast=None, fuse_batch=None)),
        ("r14_dram_sharded", lambda: case_dram_sharded(m=64)),
        ("r18_kernel_config_given", lambda: replace(case_2d(), kernel=ComputeKernelConfig("Invalid", False, False, False))),
        ("r19_activation_fused", lambda: case_2d(fused_activation="TANH")),
        ("r20_l1_fits", lambda: case_2d(per_core_M=32, per_core_N=128, out_block_h=32, out_block_w=128, grid=(1, 1), in0_block_w=16)),
        ("r25_prefill_reads_dram_shards", lambda: replace(case_2d(per_core_N=32, out_block_w=32), device=P150, in1=DRAM_W)),
    ],
)
def test_validator_rejects(rule, case):
    assert rule in broken(case())


def test_rules_without_a_violating_32x32_case_are_listed():
    # r15 (out tile width ratio) and r17 (bfp4 tile height >= 4) can only fail with tiny tiles,
    # which tttgen never emits; they stay in the rule list so the set matches the checklist.
    names = [r.__name__ for r in R.RULES]
    assert "r15_sharded_out_tile_w" in names and "r17_bfp4_tiles" in names


def test_shard_spec_rule():
    good = WS(32, 128, 32)
    assert O.r21_shard_spec(good, 32, 4096, N150) is None
    assert "cover" in O.r21_shard_spec(WS(32, 128, 16), 32, 4096, N150)
    assert "whole tiles" in O.r21_shard_spec(WS(32, 100, 32), 32, 3200, N150)


def test_norm_rule():
    p = WS(32, 128, 32)
    assert O.r22_sharded_norm(NormConfig((8, 4), 4, 1, 4), p, 32, 4096) is None
    assert "block_w" in O.r22_sharded_norm(NormConfig((8, 4), 4, 1, 8), p, 32, 4096)
    assert "single tile" in O.r22_sharded_norm(NormConfig((8, 4), 4, 2, 4), p, 64, 4096)
    assert "WIDTH or BLOCK" in O.r22_sharded_norm(NormConfig((8, 4), 4, 1, 4), replace(p, layout="HEIGHT_SHARDED"), 32, 4096)


def test_sdpa_rule():
    assert O.r23_sdpa(SdpaConfig((8, 8), 64, 64), 1024, N150, 32, 8) is None
    assert "multiples of 32" in O.r23_sdpa(SdpaConfig((8, 8), 48, 64), 1024, N150, 32, 8)
    assert "multiple of KV heads" in O.r23_sdpa(SdpaConfig((8, 8), 64, 64), 1024, N150, 12, 8)


def test_qkv_heads_decode_rule():
    hs = MemoryPlacement("L1", "HEIGHT_SHARDED", (32, 128), CoreRanges(row_major_cores(32, 8)), "ROW_MAJOR")
    assert O.r24_qkv_heads_decode(32, 1, 32, 8, hs, 64) is None
    assert "at most 32" in O.r24_qkv_heads_decode(32, 1, 64, 8, hs, 64)
    assert "HEIGHT_SHARDED" in O.r24_qkv_heads_decode(32, 1, 32, 8, WS(32, 128, 32), 64)


def test_dram_weight_and_prefill_rules():
    assert O.r25_dram_sharded_weight(DRAM_W, 4096, 6144, N150) is None
    assert "all 12" in O.r25_dram_sharded_weight(replace(DRAM_W, grid=CoreRanges((((0, 0), (7, 0)),))), 4096, 6144, N150)
    assert O.r26_prefill_len(4096, 2048) is None
    assert "multiple of 32" in O.r26_prefill_len(100, 2048)
    assert O.r26_prefill_len(64, 2048) is None  # the real ttnn takes 64-row heads (Boltz triangle attention)
    assert "multiple of 2048" in O.r26_prefill_len(3072, 2048)
    assert O.r27_decode_batch(33)


@pytest.mark.parametrize("model", ["llama-3.2-1b", "llama-3.1-8b"])
@pytest.mark.parametrize("device", ["n150", "p150", "p100", "p150-legacy-fw"])
def test_no_emitted_matmul_breaks_a_rule(model, device):
    graph = cached_plan(model, device).graph
    for op in graph.ops_of("linear"):
        d = op.decisions
        case = R.MatmulCase(graph.device, d["shape"], d["program"], d["kernel"], d["in0"], d["in1"], d["out"], *d["dtypes"].values())
        assert R.matmul_violations(case) == [], op.key
        assert d["l1_bytes"] <= graph.device.l1_budget


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_no_emitted_weight_or_norm_breaks_a_rule(device):
    graph = cached_plan("llama-3.2-1b", device).graph
    for w in graph.weights:
        chunks = w.decisions.get("column_chunks")  # a column-chunked weight: each chunk is one DRAM-sharded tensor
        n = w.n if chunks is None else chunks.width
        assert O.r25_dram_sharded_weight(w.decisions["placement"], w.k, n, graph.device) is None
    assert graph.facts["problems"] == ()


# --- agreement with the real ttnn 0.81.1 (mock-device findings, reference real-ttnn-on-a-mock-device.md 5) ---


def case_1d_prefill(in1=DRAM_INTERLEAVED) -> R.MatmulCase:
    """128 x 2048 x 3072 prefill, 1D mcast_in0 over 8x4 cores (each core 12 of the 96 N tiles)."""
    cfg = MatmulConfig(
        MATMUL_1D, in0_block_w=8, per_core_M=4, per_core_N=3, out_subblock_h=1, out_subblock_w=3,
        grid=(8, 4), fuse_batch=True, mcast_in0=True,
    )
    return R.MatmulCase(
        N150, MatmulShape(128, 2048, 3072), cfg, HIFI2, DRAM_INTERLEAVED, in1, DRAM_INTERLEAVED,
        "bfloat16", "bfloat8_b", "bfloat16",
    )


def test_1d_cannot_read_a_weight_sharded_in_dram():
    # ttnn: "DFB 'in1' borrows memory from TensorParameter 'in1', but its TensorSpec is not L1-resident"
    dram_w = MemoryPlacement("DRAM", "WIDTH_SHARDED", (2048, 256), CoreRanges((((0, 0), (11, 0)),)), "ROW_MAJOR")
    assert broken(case_1d_prefill()) == []
    assert broken(case_1d_prefill(dram_w)) == ["r28_dram_sharded_weight_family"]
    # 2D and the DRAM-sharded family read such weights
    assert "r28_dram_sharded_weight_family" not in broken(replace(case_2d(), in1=DRAM_W))
    assert broken(case_dram_sharded()) == []


def decode_1d(grid, in0, device=N150) -> R.MatmulCase:
    """Decode 32 x 4096 x 1024, 1D mcast_in0, 8 output blocks of 4 tiles, activation width-sharded."""
    cfg = MatmulConfig(
        MATMUL_1D, in0_block_w=4, per_core_M=1, per_core_N=4, out_subblock_h=1, out_subblock_w=4,
        grid=grid, fuse_batch=True, mcast_in0=True,
    )
    return R.MatmulCase(
        device, MatmulShape(32, 4096, 1024), cfg, HIFI2, in0, DRAM_INTERLEAVED, DRAM_INTERLEAVED,
        "bfloat16", "bfloat8_b", "bfloat16",
    )


def test_1d_grid_holds_the_in0_shard_cores():
    # ttnn: "Target number of cores 32 is greater than total available cores 8" (8 blocks on an 8x1 grid,
    # activation on 32 cores)
    assert "r29_1d_grid_holds_in0_shards" in broken(decode_1d((8, 1), WS(32, 128, 32)))
    assert broken(decode_1d((8, 4), WS(32, 128, 32))) == []
    # the in0 senders are the grid's first cores row-major: an 8x4 rectangle needs an 8-wide grid
    rect = MemoryPlacement("L1", "WIDTH_SHARDED", (32, 128), CoreRanges((((0, 0), (7, 3)),)), "ROW_MAJOR")
    assert "r29_1d_grid_holds_in0_shards" in broken(decode_1d((11, 3), rect, P150))
    assert broken(decode_1d((8, 4), rect, P150)) == []


def test_subblocks_capped_for_didt_below_the_dst_limit():
    # DST holds 8 tiles without fp32 accumulation; tt_transformers keeps subblocks at 4 (Galaxy: 1)
    wide = case_2d(out_subblock_h=1, out_subblock_w=8)
    assert R.r03_dst_limit(wide) is None
    assert broken(wide) == ["r30_subblock_didt"]
    galaxy, _ = load_device("galaxy")
    assert galaxy.subblock_limit(False, False) == 1 and N150.subblock_limit(False, False) == 4
    assert N150.subblock_limit(True, False) == 4 and N150.subblock_limit(False, True) == 4


def test_l1_budget_is_the_room_ttnn_measured():
    # circular buffers start at ~105,824 B (n150) and ~111,744 B (p150) and may grow to the end of L1
    assert N150.l1_budget == 1_499_136 - 105_824 == 1_393_312
    assert P150.l1_budget == 1_572_864 - 111_744 == 1_461_120
    assert N150.l1_small_size == 0  # no emitted op uses L1_SMALL, so none is reserved


def prefill_2d_bfp8(kernel) -> R.MatmulCase:
    """2048 x 4096 x 14336 prefill with a bfloat8_b activation and a bf16 output, 2D on 8x8."""
    cfg = MatmulConfig(
        MATMUL_2D, in0_block_w=4, per_core_M=8, per_core_N=56, out_subblock_h=1, out_subblock_w=4,
        out_block_h=8, out_block_w=56, grid=(8, 8), transpose_mcast=False, fuse_batch=True,
    )
    return R.MatmulCase(
        N150, MatmulShape(2048, 4096, 14336), cfg, kernel, DRAM_INTERLEAVED, DRAM_INTERLEAVED, DRAM_INTERLEAVED,
        "bfloat8_b", "bfloat4_b", "bfloat16",
    )


def test_l1_output_cb_uses_the_output_tile_and_fp32_partials_are_separate():
    from tttgen.cost.l1 import interm_tile_bytes, ttnn_cb_estimate
    from tttgen.rules.l1 import matmul_l1_bytes

    case = prefill_2d_bfp8(HIFI2_FP32)
    ttnn_estimate = ttnn_cb_estimate(
        N150, 8, 56, 4, in0_dtype="bfloat8_b", in1_dtype="bfloat4_b", interm_tile=interm_tile_bytes(N150, "bfloat16", True)
    )
    # ttnn sizes its estimate's output CB with the activation tile (1,088 B); the factory uses the bf16
    # output tile (2,048 B): per_core_M x per_core_N x 960 B more, next to the fp32 partials CB
    assert matmul_l1_bytes(case) == ttnn_estimate + 8 * 56 * 960
    assert matmul_l1_bytes(case) == 8 * 4 * 2 * 1088 + 56 * 4 * 2 * 576 + 8 * 56 * (2048 + 4096)
    assert R.r20_l1_fits(case) is not None  # 2,996,992 B: ttnn refuses it too
    # without fp32 accumulation the bf16 partials share the output CB
    assert matmul_l1_bytes(prefill_2d_bfp8(HIFI2)) == 8 * 4 * 2 * 1088 + 56 * 4 * 2 * 576 + 8 * 56 * 2048


@pytest.mark.parametrize(
    "k, n, in0_cores, real_kib",
    [(4096, 6144, 8, 1024), (2048, 3072, 4, 568)],  # 8B and 1B n150 decode wqkv, measured by ttnn 0.81.1
)
def test_dram_sharded_l1_is_never_below_ttnn(k, n, in0_cores, real_kib):
    from tttgen.passes.memory import dram_sharded_weight, width_sharded
    from tttgen.rules.l1 import matmul_cb_bytes, matmul_l1_bytes

    cfg = MatmulConfig(MATMUL_DRAM_SHARDED, in0_block_w=16, per_core_M=1, per_core_N=24)
    out = MemoryPlacement("L1", "WIDTH_SHARDED", (32, 24 * 32), CoreRanges(row_major_cores(n // 32 // 24, 8)), "ROW_MAJOR", True)
    case = R.MatmulCase(
        N150, MatmulShape(32, k, n), cfg, HIFI2_FP32, width_sharded(32, k, in0_cores, N150),
        dram_sharded_weight(k, n, N150), out, "bfloat16", "bfloat8_b", "bfloat16",
    )
    # circular buffers plus the output shard (the factory's resharded-output buffer) are ttnn's figure
    assert matmul_cb_bytes(case) + 24 * 2048 == real_kib * 1024
    assert matmul_l1_bytes(case) >= real_kib * 1024


def test_dram_sharded_compute_width_follows_the_factory():
    from tttgen.rules.l1 import dram_sharded_compute_n

    assert dram_sharded_compute_n(192, 12, 4) == 16  # 16 tiles per bank, 4 subblocks of 4
    assert dram_sharded_compute_n(4008, 12, 8) == 336  # 334 tiles: 42 subblocks of 8 beat 167 of 2
    assert dram_sharded_compute_n(14, 2, 8) == 7


def test_heads_decode_ops_need_one_rectangle():
    two_ranges = MemoryPlacement("L1", "HEIGHT_SHARDED", (32, 64), CoreRanges(row_major_cores(32, 11)), "ROW_MAJOR")
    rect = replace(two_ranges, grid=CoreRanges((((0, 0), (7, 3)),)))
    assert "rectangular" in O.r31_heads_decode_rectangle(two_ranges)
    assert O.r31_heads_decode_rectangle(rect) is None
    graph = cached_plan("llama-3.2-1b", "p150").graph
    assert graph.op("decode.create_heads").decisions["out"].grid.ranges == (((0, 0), (7, 3)),)
    assert len(graph.op("decode.concat_heads").decisions["in0"].grid.ranges) == 1


@pytest.mark.parametrize("block_w, ttnn_cbs", [(2, 90112), (3, 100352), (4, 110592)])  # 1B, 3B, 8B decode norms
def test_sharded_norm_l1_matches_ttnn(block_w, ttnn_cbs):
    from tttgen.rules.l1 import norm_l1_bytes

    # RMSNorm on a 32-core 8x4 width-sharded residual, fp32 accumulation, bf16 in/out/gamma:
    # ttnn 0.81.1 reports these circular buffers (the input and output CBs are the tensors' shards)
    rect = CoreRanges((((0, 0), (7, 3)),))
    shards = 2 * block_w * 2048
    assert norm_l1_bytes(1, block_w, rect, True, 2048, 2048, 2048) == ttnn_cbs + shards
    # a grid of two ranges loses the two-stage reduce: one partials tile per core instead of 8 + 4 - 1
    two = CoreRanges(row_major_cores(32, 11))
    assert norm_l1_bytes(1, block_w, two, True, 2048, 2048, 2048) == ttnn_cbs + shards + (32 - 11) * 4096


# (q/k chunk, head_dim, q and kv tile bytes) -> ttnn 0.81.1's figure for causal prefill SDPA, mock n150 / p150
SDPA_PREFILL_MEASURED = [
    (64, 64, 2048, 2048, 127072),  # p150; n150 126976
    (256, 64, 2048, 2048, 679936),
    (32, 128, 2048, 2048, 100448),  # p150; n150 100352
    (128, 128, 2048, 2048, 491648),  # p150; n150 425984
    (128, 64, 2048, 1088, 247808),
    (64, 64, 1088, 1088, 100096),
    (512, 128, 2048, 2048, 2465792),
]


@pytest.mark.parametrize("chunk, head_dim, tq, tkv, ttnn_bytes", SDPA_PREFILL_MEASURED)
def test_sdpa_prefill_l1_never_below_ttnn(chunk, head_dim, tq, tkv, ttnn_bytes):
    from tttgen.rules.l1 import sdpa_l1_bytes

    claim = sdpa_l1_bytes(chunk, chunk, head_dim, tq, tkv, tq)
    assert ttnn_bytes <= claim <= 1.25 * ttnn_bytes


@pytest.mark.parametrize(
    "k_chunk, head_dim, tkv, ttnn_bytes",
    [(512, 64, 1088, 262400), (512, 128, 1088, 430336), (256, 64, 1088, 160000), (512, 64, 2048, 385280)],
)
def test_sdpa_decode_l1_matches_ttnn(k_chunk, head_dim, tkv, ttnn_bytes):
    from tttgen.rules.l1 import sdpa_decode_l1_bytes

    # 32 query heads, bf16 Q; ttnn 0.81.1 (mock n150) measured with cur_pos as a tensor for the first two,
    # as a list for the others (+ the tensor's 256 B page, the difference between the two forms)
    assert sdpa_decode_l1_bytes(k_chunk, head_dim, 2048, tkv) == ttnn_bytes


@pytest.mark.parametrize("chunk, ttnn_bytes", [(64, 102400), (128, 266240), (256, 790528)])
def test_masked_sdpa_l1_equals_ttnns_figure(chunk, ttnn_bytes):
    """A provided attn_mask (Boltz's pair bias) adds its double-buffered chunk block: ttnn 0.81.1 reported these
    per-core figures on mock n150 and p150 for head_dim 32, bf16 (Boltz triangle attention at n = 64, 128, 256)."""
    from tttgen.rules.l1 import sdpa_l1_bytes

    assert sdpa_l1_bytes(chunk, chunk, 32, 2048, 2048, 2048, masked=True) == ttnn_bytes


def test_per_core_m_is_within_one_batchs_rows_without_fuse_batch():
    """r31: 4 batches of 128 rows (4 row tiles each); per_core_M 8 covers two batches' tiles, which ttnn accepts only
    when the batches are fused (its Mt is then 16)."""
    batched = lambda fuse, pcm: replace(  # noqa: E731
        case_2d(per_core_M=pcm, out_block_h=pcm, grid=(8, 2), fuse_batch=fuse), shape=MatmulShape(128, 4096, 4096, 4)
    )
    assert R.r31_per_core_m_within_mt(batched(True, 8)) is None
    assert "exceeds Mt=4" in R.r31_per_core_m_within_mt(batched(False, 8))
    assert R.r31_per_core_m_within_mt(batched(False, 4)) is None
