"""tttgen's rules give the real ttnn's verdict on the boundaries they encode, asked of ttnn itself."""

import itertools

from tttgen.ir.configs import DRAM_INTERLEAVED, MATMUL_2D, ComputeKernelConfig, MatmulConfig, MatmulShape
from tttgen.realttnn.oracle import MatmulCase, judge_matmuls
from tttgen.rules import matmul as rules
from tttgen.spec.load import load_device

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
