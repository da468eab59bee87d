"""Matmul L1 per core as the real ttnn 0.81.1 reports it on a mock device: one row per probed config.

Per family (2D, 1D, DRAM-sharded) and board, configs from the generator's own candidates with and without a bias
(bfloat16 / bfloat8_b), fused activations (GELU, SILU, RELU), fp32 accumulation, one or many K blocks, an out block
narrower than per_core_N, sharded and interleaved inputs and outputs. Each row records ttnn's peak circular-buffer
figure (`peak_dataflow_buffer`) and its `l1_total` (circular buffers plus the L1 buffers the op allocates).
tests/test_l1_probes.py holds tttgen's L1 rule to them; tests/realttnn/test_l1_probes_ttnn.py asks ttnn again.

Row: board, family, (batch, m, k, n), dtypes (in0, in1, out), fp32 accumulation, weight ("dram": DRAM-interleaved,
"sharded": width-sharded over the DRAM banks), program config fields, cores of the L1 width-sharded in0 (0: DRAM
interleaved), output width-sharded in L1 (else DRAM-interleaved), bias dtype, ttnn's peak CB bytes, ttnn's l1_total.
"""

from __future__ import annotations

from dataclasses import dataclass

from tttgen.ir.configs import (
    DRAM_INTERLEAVED,
    MATMUL_1D,
    MATMUL_2D,
    MATMUL_DRAM_SHARDED,
    ComputeKernelConfig,
    MatmulConfig,
    MatmulShape,
)
from tttgen.checking.realttnn.oracle import MatmulCase as OracleCase
from tttgen.rules.matmul import MatmulCase
from tttgen.rules.placement import dram_sharded_weight, width_sharded, width_sharded_out
from tttgen.inputs.load import load_device

FAMILIES = {"2D": MATMUL_2D, "1D": MATMUL_1D, "DRAM": MATMUL_DRAM_SHARDED}

# fmt: off
PROBES = (
    # The two under-claims the sampled sweep found (DRAM-sharded decode linears with a bias and a fused GELU)
    ("n150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 3, "per_core_M": 1, "per_core_N": 17, "fused_activation": "GELU"}, 48, True, "bfloat16", 973056, 1007872),
    ("p150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 8, "fused_activation": "GELU"}, 48, True, "bfloat16", 290816, 307200),
    ("n150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12}, 2, True, None, 20480, 45056),
    ("n150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12}, 2, True, "bfloat16", 24576, 49152),
    ("n150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12, "fused_activation": "GELU"}, 2, True, "bfloat16", 24576, 49152),
    ("n150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12, "fused_activation": "SILU"}, 2, True, "bfloat8_b", 30848, 55424),
    ("n150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12, "fused_activation": "RELU"}, 2, True, "bfloat16", 32768, 57344),
    ("n150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45}, 3, True, None, 173568, 265728),
    ("n150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45}, 3, True, "bfloat16", 198144, 290304),
    ("n150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45, "fused_activation": "GELU"}, 3, True, "bfloat16", 198144, 290304),
    ("n150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), True, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45, "fused_activation": "SILU"}, 3, True, "bfloat8_b", 235776, 327936),
    ("n150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), True, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45, "fused_activation": "RELU"}, 3, True, "bfloat16", 247296, 339456),
    ("n150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64}, 4, True, None, 125056, 256128),
    ("n150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64}, 4, True, "bfloat16", 174208, 305280),
    ("n150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64, "fused_activation": "GELU"}, 4, True, "bfloat16", 174208, 305280),
    ("n150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64, "fused_activation": "SILU"}, 4, True, "bfloat8_b", 249472, 380544),
    ("n150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64, "fused_activation": "RELU"}, 4, True, "bfloat16", 272512, 403584),
    ("n150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 3, "per_core_M": 1, "per_core_N": 32}, 4, True, None, 144576, 210112),
    ("n150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 3, "per_core_M": 1, "per_core_N": 32}, 4, True, "bfloat16", 169152, 234688),
    ("n150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 3, "per_core_M": 1, "per_core_N": 32, "fused_activation": "GELU"}, 4, True, "bfloat16", 169152, 234688),
    ("n150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 3, "per_core_M": 1, "per_core_N": 32, "fused_activation": "SILU"}, 4, True, "bfloat8_b", 206784, 272320),
    ("n150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 32, "fused_activation": "RELU"}, 4, True, "bfloat16", 178304, 243840),
    ("n150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 3, "per_core_M": 1, "per_core_N": 68}, 12, True, None, 825600, 964864),
    ("n150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 68}, 12, True, "bfloat16", 747008, 886272),
    ("n150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 68, "fused_activation": "GELU"}, 12, True, "bfloat16", 747008, 886272),
    ("n150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 3, "per_core_M": 1, "per_core_N": 51, "fused_activation": "SILU"}, 16, True, "bfloat8_b", 1169920, 1274368),
    ("n150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 51, "fused_activation": "RELU"}, 16, True, "bfloat16", 1009152, 1113600),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True}, 4, False, None, 123904, 123904),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 12, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (8, 1), "fuse_batch": True, "mcast_in0": True}, 4, True, None, 60416, 84992),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True}, 4, False, "bfloat16", 144384, 144384),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 12, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (8, 1), "fuse_batch": True, "mcast_in0": True}, 4, True, "bfloat16", 84992, 109568),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "out_block_h": 1, "out_block_w": 2, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True}, 4, False, "bfloat16", 41984, 41984),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 16, "per_core_M": 1, "per_core_N": 24, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 12, "grid": (4, 1), "fuse_batch": True, "mcast_in0": True}, 4, True, "bfloat16", 532480, 581632),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "GELU"}, 4, False, "bfloat16", 144384, 144384),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 12, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (8, 1), "fuse_batch": True, "mcast_in0": True, "fused_activation": "GELU"}, 4, True, "bfloat16", 84992, 109568),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 4, False, "bfloat8_b", 175744, 175744),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 12, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (8, 1), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 4, True, "bfloat8_b", 122624, 147200),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "out_block_h": 1, "out_block_w": 2, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 4, False, "bfloat8_b", 48256, 48256),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 8, "per_core_M": 1, "per_core_N": 24, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 12, "grid": (4, 1), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 4, True, "bfloat8_b", 303872, 353024),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "RELU"}, 4, False, "bfloat16", 185344, 185344),
    ("n150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 12, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (8, 1), "fuse_batch": True, "mcast_in0": True, "fused_activation": "RELU"}, 4, True, "bfloat16", 134144, 158720),
    ("n150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 16, "per_core_M": 4, "per_core_N": 16, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True}, 0, False, None, 950272, 950272),
    ("n150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 1, "per_core_M": 4, "per_core_N": 15, "out_subblock_h": 4, "out_subblock_w": 1, "grid": (8, 3), "fuse_batch": True, "mcast_in0": True}, 0, False, "bfloat16", 202624, 202624),
    ("n150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 4, "per_core_N": 18, "out_subblock_h": 2, "out_subblock_w": 2, "out_block_h": 4, "out_block_w": 6, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True}, 0, False, "bfloat16", 120320, 120320),
    ("n150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 1, "per_core_M": 4, "per_core_N": 15, "out_subblock_h": 4, "out_subblock_w": 1, "grid": (8, 3), "fuse_batch": True, "mcast_in0": True, "fused_activation": "GELU"}, 0, False, "bfloat16", 202624, 202624),
    ("n150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 8, "per_core_M": 4, "per_core_N": 14, "out_subblock_h": 2, "out_subblock_w": 2, "grid": (8, 3), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 734080, 734080),
    ("n150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 8, "per_core_M": 4, "per_core_N": 18, "out_subblock_h": 2, "out_subblock_w": 2, "out_block_h": 4, "out_block_w": 6, "grid": (8, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 389504, 389504),
    ("n150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 16, "per_core_M": 4, "per_core_N": 14, "out_subblock_h": 2, "out_subblock_w": 2, "grid": (8, 3), "fuse_batch": True, "mcast_in0": True, "fused_activation": "RELU"}, 0, False, "bfloat16", 1122304, 1122304),
    ("n150", "2D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 20, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 20, "grid": (5, 1), "transpose_mcast": False, "fuse_batch": True}, 0, False, None, 136192, 136192),
    ("n150", "2D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 20, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 20, "grid": (5, 1), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 177152, 177152),
    ("n150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 43, "out_subblock_h": 1, "out_subblock_w": 1, "out_block_h": 1, "out_block_w": 43, "grid": (6, 4), "transpose_mcast": False, "fuse_batch": True}, 0, False, None, 185728, 185728),
    ("n150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 43, "out_subblock_h": 1, "out_subblock_w": 1, "out_block_h": 1, "out_block_w": 43, "grid": (6, 4), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 566784, 566784),
    ("n150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 16, "per_core_M": 2, "per_core_N": 52, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 2, "out_block_w": 4, "grid": (5, 2), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 294912, 294912),
    ("n150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 43, "out_subblock_h": 1, "out_subblock_w": 1, "out_block_h": 1, "out_block_w": 43, "grid": (6, 4), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "GELU"}, 0, False, "bfloat16", 566784, 566784),
    ("n150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 8, "per_core_M": 2, "per_core_N": 43, "out_subblock_h": 2, "out_subblock_w": 1, "out_block_h": 2, "out_block_w": 43, "grid": (6, 2), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 1389248, 1389248),
    ("n150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 8, "per_core_M": 4, "per_core_N": 52, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 4, "out_block_w": 4, "grid": (5, 1), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 303360, 303360),
    ("n150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 1, "per_core_M": 4, "per_core_N": 43, "out_subblock_h": 4, "out_subblock_w": 1, "out_block_h": 4, "out_block_w": 43, "grid": (6, 1), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "RELU"}, 0, False, "bfloat16", 1254784, 1254784),
    ("n150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 2, "per_core_M": 5, "per_core_N": 64, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 5, "out_block_w": 64, "grid": (7, 7), "transpose_mcast": False, "fuse_batch": True}, 0, False, None, 843776, 843776),
    ("n150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 6, "per_core_N": 64, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 6, "out_block_w": 64, "grid": (7, 6), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 1015808, 1015808),
    ("n150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 7, "per_core_N": 75, "out_subblock_h": 1, "out_subblock_w": 3, "out_block_h": 7, "out_block_w": 15, "grid": (6, 5), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 291712, 291712),
    ("n150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 6, "per_core_N": 64, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 6, "out_block_w": 64, "grid": (7, 6), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "GELU"}, 0, False, "bfloat16", 1015808, 1015808),
    ("n150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), True, "sharded", {"in0_block_w": 8, "per_core_M": 7, "per_core_N": 75, "out_subblock_h": 1, "out_subblock_w": 3, "out_block_h": 7, "out_block_w": 15, "grid": (6, 5), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 1029056, 1029056),
    ("p150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12}, 2, True, None, 28672, 53248),
    ("p150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12}, 2, True, "bfloat16", 34816, 59392),
    ("p150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12, "fused_activation": "GELU"}, 2, True, "bfloat16", 34816, 59392),
    ("p150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12, "fused_activation": "SILU"}, 2, True, "bfloat8_b", 44224, 68800),
    ("p150", "DRAM", (1, 32, 384, 768), ("bfloat16", "bfloat16", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 12, "fused_activation": "RELU"}, 2, True, "bfloat16", 47104, 71680),
    ("p150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45}, 3, True, None, 237696, 329856),
    ("p150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45}, 3, True, "bfloat16", 274560, 366720),
    ("p150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45, "fused_activation": "GELU"}, 3, True, "bfloat16", 274560, 366720),
    ("p150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), True, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45, "fused_activation": "SILU"}, 3, True, "bfloat8_b", 345472, 437632),
    ("p150", "DRAM", (1, 32, 1152, 4304), ("bfloat16", "bfloat4_b", "bfloat16"), True, "sharded", {"in0_block_w": 6, "per_core_M": 1, "per_core_N": 45, "fused_activation": "RELU"}, 3, True, "bfloat16", 364672, 456832),
    ("p150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64}, 4, True, None, 174080, 305152),
    ("p150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64}, 4, True, "bfloat16", 239616, 370688),
    ("p150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64, "fused_activation": "GELU"}, 4, True, "bfloat16", 239616, 370688),
    ("p150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64, "fused_activation": "SILU"}, 4, True, "bfloat8_b", 339968, 471040),
    ("p150", "DRAM", (1, 32, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 64, "fused_activation": "RELU"}, 4, True, "bfloat16", 370688, 501760),
    ("p150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 32}, 4, True, None, 89088, 154624),
    ("p150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 32}, 4, True, "bfloat16", 121856, 187392),
    ("p150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 32, "fused_activation": "GELU"}, 4, True, "bfloat16", 121856, 187392),
    ("p150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 32, "fused_activation": "SILU"}, 4, True, "bfloat8_b", 172032, 237568),
    ("p150", "DRAM", (1, 32, 6144, 4096), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 32, "fused_activation": "RELU"}, 4, True, "bfloat16", 187392, 252928),
    ("p150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 3, "per_core_M": 1, "per_core_N": 51}, 16, True, None, 1224064, 1328512),
    ("p150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 51}, 16, True, "bfloat16", 763008, 867456),
    ("p150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 51, "fused_activation": "GELU"}, 16, True, "bfloat16", 763008, 867456),
    ("p150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 34, "fused_activation": "SILU"}, 24, True, "bfloat8_b", 1089152, 1158784),
    ("p150", "DRAM", (1, 32, 9216, 26112), ("bfloat16", "bfloat8_b", "bfloat16"), True, "sharded", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 34, "fused_activation": "RELU"}, 24, True, "bfloat16", 1188992, 1258624),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (10, 1), "fuse_batch": True, "mcast_in0": True}, 4, False, None, 123904, 123904),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 8, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True}, 4, True, None, 43008, 59392),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (10, 1), "fuse_batch": True, "mcast_in0": True}, 4, False, "bfloat16", 144384, 144384),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 8, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True}, 4, True, "bfloat16", 59392, 75776),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "out_block_h": 1, "out_block_w": 2, "grid": (10, 1), "fuse_batch": True, "mcast_in0": True}, 4, False, "bfloat16", 41984, 41984),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 16, "per_core_M": 1, "per_core_N": 24, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 12, "grid": (4, 1), "fuse_batch": True, "mcast_in0": True}, 4, True, "bfloat16", 532480, 581632),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (10, 1), "fuse_batch": True, "mcast_in0": True, "fused_activation": "GELU"}, 4, False, "bfloat16", 144384, 144384),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 8, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "GELU"}, 4, True, "bfloat16", 59392, 75776),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (10, 1), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 4, False, "bfloat8_b", 175744, 175744),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 8, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 4, True, "bfloat8_b", 84480, 100864),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "out_block_h": 1, "out_block_w": 2, "grid": (10, 1), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 4, False, "bfloat8_b", 48256, 48256),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 16, "per_core_M": 1, "per_core_N": 24, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 12, "grid": (4, 1), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 4, True, "bfloat8_b", 545536, 594688),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 4, "per_core_M": 1, "per_core_N": 10, "out_subblock_h": 1, "out_subblock_w": 2, "grid": (10, 1), "fuse_batch": True, "mcast_in0": True, "fused_activation": "RELU"}, 4, False, "bfloat16", 185344, 185344),
    ("p150", "1D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 2, "per_core_M": 1, "per_core_N": 8, "out_subblock_h": 1, "out_subblock_w": 4, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "RELU"}, 4, True, "bfloat16", 92160, 108544),
    ("p150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 4, "per_core_N": 15, "out_subblock_h": 4, "out_subblock_w": 1, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True}, 0, False, None, 318976, 318976),
    ("p150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 4, "per_core_N": 15, "out_subblock_h": 4, "out_subblock_w": 1, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True}, 0, False, "bfloat16", 349696, 349696),
    ("p150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 8, "per_core_M": 4, "per_core_N": 18, "out_subblock_h": 2, "out_subblock_w": 2, "out_block_h": 4, "out_block_w": 6, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True}, 0, False, "bfloat16", 296960, 296960),
    ("p150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 4, "per_core_M": 4, "per_core_N": 15, "out_subblock_h": 4, "out_subblock_w": 1, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "GELU"}, 0, False, "bfloat16", 349696, 349696),
    ("p150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 1, "per_core_M": 4, "per_core_N": 13, "out_subblock_h": 4, "out_subblock_w": 1, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 378304, 378304),
    ("p150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 1, "per_core_M": 4, "per_core_N": 16, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 4, "out_block_w": 8, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 239104, 239104),
    ("p150", "1D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 1, "per_core_M": 4, "per_core_N": 13, "out_subblock_h": 4, "out_subblock_w": 1, "grid": (11, 2), "fuse_batch": True, "mcast_in0": True, "fused_activation": "RELU"}, 0, False, "bfloat16", 390784, 390784),
    ("p150", "2D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 8, "per_core_M": 1, "per_core_N": 16, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 16, "grid": (6, 1), "transpose_mcast": False, "fuse_batch": True}, 0, False, None, 344064, 344064),
    ("p150", "2D", (1, 32, 2048, 3072), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 8, "per_core_M": 1, "per_core_N": 16, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 16, "grid": (6, 1), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 376832, 376832),
    ("p150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 2, "per_core_M": 4, "per_core_N": 37, "out_subblock_h": 4, "out_subblock_w": 1, "out_block_h": 4, "out_block_w": 37, "grid": (7, 1), "transpose_mcast": False, "fuse_batch": True}, 0, False, None, 496896, 496896),
    ("p150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 32, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 32, "grid": (8, 4), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 204800, 204800),
    ("p150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 37, "out_subblock_h": 1, "out_subblock_w": 1, "out_block_h": 1, "out_block_w": 1, "grid": (7, 4), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 10368, 10368),
    ("p150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), False, "dram", {"in0_block_w": 1, "per_core_M": 1, "per_core_N": 32, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 1, "out_block_w": 32, "grid": (8, 4), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "GELU"}, 0, False, "bfloat16", 204800, 204800),
    ("p150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 2, "per_core_M": 2, "per_core_N": 32, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 2, "out_block_w": 32, "grid": (8, 2), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 583680, 583680),
    ("p150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 1, "per_core_M": 2, "per_core_N": 37, "out_subblock_h": 2, "out_subblock_w": 1, "out_block_h": 2, "out_block_w": 1, "grid": (7, 2), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 23744, 23744),
    ("p150", "2D", (1, 128, 2048, 8192), ("bfloat16", "bfloat8_b", "bfloat16"), True, "dram", {"in0_block_w": 4, "per_core_M": 2, "per_core_N": 32, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 2, "out_block_w": 32, "grid": (8, 2), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "RELU"}, 0, False, "bfloat16", 770048, 770048),
    ("p150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 2, "per_core_M": 6, "per_core_N": 56, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 6, "out_block_w": 56, "grid": (8, 6), "transpose_mcast": False, "fuse_batch": True}, 0, False, None, 866304, 866304),
    ("p150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 6, "per_core_N": 56, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 6, "out_block_w": 56, "grid": (8, 6), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 891904, 891904),
    ("p150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 7, "per_core_N": 56, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 7, "out_block_w": 28, "grid": (8, 5), "transpose_mcast": False, "fuse_batch": True}, 0, False, "bfloat16", 519680, 519680),
    ("p150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), False, "sharded", {"in0_block_w": 1, "per_core_M": 6, "per_core_N": 56, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 6, "out_block_w": 56, "grid": (8, 6), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "GELU"}, 0, False, "bfloat16", 891904, 891904),
    ("p150", "2D", (1, 1024, 4096, 14336), ("bfloat16", "bfloat4_b", "bfloat16"), True, "sharded", {"in0_block_w": 4, "per_core_M": 5, "per_core_N": 56, "out_subblock_h": 1, "out_subblock_w": 4, "out_block_h": 5, "out_block_w": 28, "grid": (8, 7), "transpose_mcast": False, "fuse_batch": True, "fused_activation": "SILU"}, 0, False, "bfloat8_b", 1101568, 1101568),
)
# fmt: on


@dataclass(frozen=True)
class Probe:
    board: str
    family: str
    shape: MatmulShape
    dtypes: tuple[str, str, str]
    fp32_acc: bool
    weight: str
    config: MatmulConfig
    in0_cores: int
    out_sharded: bool
    bias_dtype: str | None
    ttnn_cb: int
    ttnn_total: int

    def __str__(self) -> str:
        s = self.shape
        return (
            f"{self.board} {self.family} [{s.batch}x]{s.m}x{s.k}x{s.n} {'/'.join(self.dtypes)} fp32={self.fp32_acc} "
            f"weight={self.weight} in0_cores={self.in0_cores} bias={self.bias_dtype} {self.config}"
        )

    def rules_case(self) -> MatmulCase:
        """The case as tttgen's rules and L1 estimate see it (operands placed as the generator places them)."""
        device, _ = load_device(self.board)
        in0 = width_sharded(32, self.shape.k, self.in0_cores, device) if self.in0_cores else DRAM_INTERLEAVED
        in1 = dram_sharded_weight(self.shape.k, self.shape.n, device) if self.weight == "sharded" else DRAM_INTERLEAVED
        out = DRAM_INTERLEAVED
        if self.out_sharded:
            grid_x = self.config.grid[0] if self.config.type == MATMUL_1D else device.grid.x
            out = width_sharded_out(self.shape.nt, self.config.per_core_N, grid_x)
        kernel = ComputeKernelConfig("HiFi2", False, self.fp32_acc, True)
        return MatmulCase(device, self.shape, self.config, kernel, in0, in1, out, *self.dtypes, bias_dtype=self.bias_dtype)

    def oracle_case(self) -> OracleCase:
        c = self.rules_case()
        return OracleCase(c.shape, c.config, c.kernel, self.dtypes, c.in0, c.in1, c.out, self.bias_dtype)


def probes() -> list[Probe]:
    out = []
    for board, family, (batch, m, k, n), dtypes, fp32, weight, fields, cores, out_sharded, bias, cb, total in PROBES:
        config = MatmulConfig(FAMILIES[family], **fields)
        out.append(Probe(board, family, MatmulShape(m, k, n, batch), dtypes, fp32, weight, config, cores, out_sharded, bias, cb, total))
    return out
