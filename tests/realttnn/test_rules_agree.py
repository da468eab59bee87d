"""tttgen's rules give the real ttnn's verdict on the boundaries they encode, asked of ttnn itself."""

import itertools

from tttgen.ir.configs import DRAM_INTERLEAVED, MATMUL_2D, ComputeKernelConfig, MatmulConfig, MatmulShape
from tttgen.checking.realttnn.oracle import MatmulCase, judge_matmuls
from tttgen.rules import matmul as rules
from tttgen.inputs.load import load_device

BF16 = ("bfloat16", "bfloat16", "bfloat16")


def test_dst_limit_ignores_full_sync_as_ttnn_does(real_ttnn):
    """ttnn 0.81.1 allows 8 subblock tiles (4 with fp32 accumulation) whether or not dst_full_sync_en is set."""
    device, _ = load_device("n150")
    combos = list(itertools.product((False, True), (False, True), ((1, 4), (1, 8), (2, 8))))
    cases = []
    for fp32, full_sync, (h, w) in combos:
        program = MatmulConfig(MATMUL_2D, in0_block_w=2, per_core_M=2, per_core_N=8, out_subblock_h=h, out_subblock_w=w,
                               grid=(8, 8), transpose_mcast=False, fuse_batch=True)
        kernel = ComputeKernelConfig("HiFi2", False, fp32, True, full_sync)
        cases.append(MatmulCase(MatmulShape(512, 1024, 2048), program, kernel, BF16, DRAM_INTERLEAVED, DRAM_INTERLEAVED, DRAM_INTERLEAVED))
    for combo, case, verdict in zip(combos, cases, judge_matmuls(device, cases)):
        ours = rules.MatmulCase(device, case.shape, case.program, case.kernel, case.in0, case.in1, case.out, *case.dtypes)
        assert (rules.r03_dst_limit(ours) is None) == verdict.accepted, (combo, verdict.message)


def test_per_core_m_within_mt_as_ttnn_judges(real_ttnn):
    """r31: a linear over a batched [1, B, M, K] input runs B matmuls of M rows, and ttnn 0.81.1 refuses a 1D or 2D
    multicast config whose per_core_M exceeds one batch's Mt without fuse_batch, all batches' with it (the Boltz-2
    trunk's z_recycle on n150: per_core_M 242 > Mt 22). The rule refuses exactly what ttnn refuses."""
    from tttgen.ir.configs import MATMUL_1D

    device, _ = load_device("n150")
    kernel = ComputeKernelConfig("HiFi4", False, True, True, False)

    def one_d(batch, m, per_core_m, fuse, grid, out_h=None, sub_h=1):
        return MatmulConfig(MATMUL_1D, in0_block_w=2, per_core_M=per_core_m, per_core_N=4, out_subblock_h=sub_h,
                            out_subblock_w=2, out_block_h=out_h, out_block_w=4, grid=grid, fuse_batch=fuse, mcast_in0=False)

    def two_d(per_core_m, fuse, grid):
        return MatmulConfig(MATMUL_2D, in0_block_w=2, per_core_M=per_core_m, per_core_N=4, out_subblock_h=1,
                            out_subblock_w=2, grid=grid, transpose_mcast=False, fuse_batch=fuse)

    combos = [  # (batch, m, config)
        (704, 704, one_d(704, 704, 242, False, (8, 8), out_h=22, sub_h=2)),  # the trunk's refused z_recycle
        (704, 704, one_d(704, 704, 242, True, (8, 8), out_h=22, sub_h=2)),  # the same, batches fused: accepted
        (704, 704, one_d(704, 704, 22, False, (8, 8), sub_h=2)),
        (704, 704, one_d(704, 704, 23, False, (8, 8))),
        (1, 704 * 704, one_d(1, 704 * 704, 242, False, (8, 8), out_h=22, sub_h=2)),  # the rows as one matrix
        (2, 64, one_d(2, 64, 2, False, (2, 1), sub_h=2)),
        (2, 64, one_d(2, 64, 3, False, (2, 1))),
        (2, 64, two_d(4, False, (1, 1))),
        (2, 64, two_d(2, False, (1, 1))),
        (2, 64, two_d(4, True, (1, 1))),
    ]
    cases = [
        MatmulCase(MatmulShape(m, 128, 128, batch), program, kernel, BF16, DRAM_INTERLEAVED, DRAM_INTERLEAVED, DRAM_INTERLEAVED)
        for batch, m, program in combos
    ]
    verdicts = judge_matmuls(device, cases)
    ours = [
        rules.r31_per_core_m_within_mt(
            rules.MatmulCase(device, c.shape, c.program, c.kernel, c.in0, c.in1, c.out, *c.dtypes)
        )
        for c in cases
    ]
    for combo, mine, verdict in zip(combos, ours, verdicts):
        refused_for_mt = not verdict.accepted and "exceeds Mt" in (verdict.message or "")
        assert (mine is not None) == refused_for_mt, (combo, mine, verdict.message)
    assert sum(m is not None for m in ours) == 4  # both sides of the boundary are asked
    assert sum(v.accepted for v in verdicts) >= 5
