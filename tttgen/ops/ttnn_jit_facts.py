"""What ttnn-jit accepts, in one place: the fusion pass partitions by it and the emulator's stand-in enforces it.

Source: tt-mlir tools/ttnn-jit/_src/supported_ops.py and docs/src/ttnn-jit.md @19c86fc (reference
module-library-facts §1.2-1.3). Names are its handlers' (`multiply`; `mul` is "not supported").
"""

from __future__ import annotations

UNARY_OPS = (
    "abs", "exp", "neg", "sqrt", "rsqrt", "log", "cos", "erf", "erfc", "sign", "sin", "ceil", "floor", "tanh", "tan",
    "sigmoid", "hardsigmoid", "relu", "reciprocal", "gelu", "silu", "logical_not", "bitwise_not", "clamp",
)  # fmt: skip
BINARY_OPS = (
    "add", "multiply", "subtract", "divide", "pow_tensor", "eq", "ne", "gt", "ge", "lt", "le", "bitwise_and",
    "bitwise_or", "bitwise_xor", "maximum", "minimum",
)  # fmt: skip
REDUCTION_OPS = ("sum", "mean", "max", "min")
TM_OPS = ("permute", "transpose", "reshape", "rearrange")
DATA_MOVEMENT_OPS = ("concat", "repeat", "embedding")
SUPPORTED_OPS = frozenset(UNARY_OPS + BINARY_OPS + REDUCTION_OPS + TM_OPS + DATA_MOVEMENT_OPS + ("matmul",))

DTYPES = ("float32", "bfloat16", "bfloat8_b")  # element-wise, matmul, TM, data movement
WIDE_DTYPES = ("float32", "int32", "uint32")  # wider than 16 bits: the 7-input limit applies
MAX_TENSORS = 32  # input + output tensors of one fused generic (its circular buffers)
MAX_WIDE_INPUTS = 7
