"""Stand-in for the ``ttnn_jit`` package (tt-mlir ``tools/ttnn-jit``).

Real decorator (reference codegen-anchors-and-ttnn-jit.md §3.1, tt-mlir ``tools/ttnn-jit/api.py``)::

    ttnn_jit.jit(compile_only=False, debug=False, enable_cache=False, math_fidelity=ttnn.MathFidelity.HiFi4,
                 memory_config=None, fallback=False, extra_pipeline_options="")

The stand-in validates those flags (removed flags such as ``max_grid`` / ``graph_capture`` are rejected, as the real
``jit`` would raise ``TypeError``), checks the restrictions of §3.4 on every tensor argument (TILE layout, tile-aligned
height; no L1 interleaved, no sharded DRAM, no COL_MAJOR shard orientation) and the fused kernel's tensor count (32
inputs and outputs, 7 inputs when one is wider than 16 bits), and runs the body eagerly with the
emulated ttnn ops. Calling with ``compile_only=True`` is refused: the emulator produces no IR. The op allow-list of
§3.3 is enforced by tracing which ``ttnn`` functions the body calls while it runs.

Output layout as the real decorator sets it: the decorator's ``memory_config`` when given (per-op ``memory_config=``
inside the body is ignored), otherwise "maximally L1 block sharded" (``default_output_memory``), so a consumer that
cannot read that layout fails here as it would on the device. ``fallback=True``: when one of the ttnn-jit
restrictions above rejects a call, the body runs eagerly as plain ttnn instead and its result is returned as is
(``fallback_used`` tells which path the last call took).
"""

from __future__ import annotations

import functools
import math
import sys
from typing import Callable, Optional

from tttgen.tiling import jit_block_grid

from .configs import (
    BufferType,
    CoreCoord,
    CoreRange,
    CoreRangeSet,
    MathFidelity,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
)
from .dtypes import TILE_SIZE, Layout
from .errors import EmulatorValidationError
from .tensor import Tensor

__tttgen_emulator__ = True

# tt-mlir tools/ttnn-jit/_src/supported_ops.py, shared with the fusion pass; matmul has its own handler.
from tttgen.ops.ttnn_jit_facts import (  # noqa: E402
    BINARY_OPS,
    DATA_MOVEMENT_OPS,
    MAX_TENSORS,
    MAX_WIDE_INPUTS,
    REDUCTION_OPS,
    SUPPORTED_OPS,
    TM_OPS,
    UNARY_OPS,
    WIDE_DTYPES,
)

_OP = "ttnn_jit.jit"


def _check_tensor_arg(name: str, t: Tensor) -> None:
    if t.layout != Layout.TILE:
        raise EmulatorValidationError(_OP, "jit.layout", f"{name}: Only Layout.Tile tensors are supported")
    if t.device() is None:
        raise EmulatorValidationError(_OP, "jit.device", f"{name}: Device is required")
    if t.shape[-2] % TILE_SIZE:
        raise EmulatorValidationError(
            _OP, "jit.padding", f"{name}: tile-aligned dims only (height {t.shape[-2]} is padded to a tile)"
        )
    mem = t.memory_config()
    if mem.buffer_type == BufferType.L1 and mem.memory_layout == TensorMemoryLayout.INTERLEAVED:
        raise EmulatorValidationError(
            _OP, "jit.l1_interleaved", f"{name}: L1 interleaved tensors are not supported by ttnn-jit"
        )
    if mem.buffer_type == BufferType.DRAM and mem.is_sharded():
        raise EmulatorValidationError(
            _OP, "jit.dram_sharded", f"{name}: sharded DRAM tensors are not supported by ttnn-jit"
        )
    if mem.is_sharded() and mem.shard_spec is not None and mem.shard_spec.orientation == ShardOrientation.COL_MAJOR:
        raise EmulatorValidationError(
            _OP, "jit.col_major", f"{name}: COL_MAJOR shard orientation is not supported by ttnn-jit"
        )


def default_output_memory(t: Tensor) -> MemoryConfig:
    """The layout ttnn-jit gives an output when the decorator has no ``memory_config``: "maximally L1 block sharded"
    (tt-mlir ``tools/ttnn-jit/api.py`` docstring). Leading dims fold into the height; per dimension the grid is the
    largest tile-count divisor that fits the device's compute grid (``_src/tensor_translator.py``
    ``_calculate_tile_shape`` / ``_infer_block_sharding_grid``); shards are ROW_MAJOR from core (0, 0)."""
    shape = list(t.padded_shape)
    mt = math.prod(shape[:-1]) // TILE_SIZE
    nt = shape[-1] // TILE_SIZE
    grid = t.device().compute_with_storage_grid_size()
    cols, rows = jit_block_grid(mt, nt, grid.x, grid.y)
    cores = CoreRangeSet({CoreRange(CoreCoord(0, 0), CoreCoord(cols - 1, rows - 1))})
    spec = ShardSpec(cores, [mt // rows * TILE_SIZE, nt // cols * TILE_SIZE], ShardOrientation.ROW_MAJOR)
    return MemoryConfig(TensorMemoryLayout.BLOCK_SHARDED, BufferType.L1, spec)


def _check_output_memory(mem: MemoryConfig) -> None:
    """A layout ttnn-jit cannot write: the same restrictions as its tensor arguments, and an exact shard spec."""
    if mem.buffer_type == BufferType.L1 and mem.memory_layout == TensorMemoryLayout.INTERLEAVED:
        raise EmulatorValidationError(_OP, "jit.out_l1_interleaved", "memory_config: L1 interleaved is not supported")
    if mem.buffer_type == BufferType.DRAM and mem.is_sharded():
        raise EmulatorValidationError(_OP, "jit.out_dram_sharded", "memory_config: sharded DRAM is not supported")
    if mem.is_sharded() and mem.shard_spec is None:
        raise EmulatorValidationError(
            _OP, "jit.out_shard_spec", "memory_config: a sharded output layout needs an explicit shard spec"
        )
    if mem.is_sharded() and mem.shard_spec.orientation == ShardOrientation.COL_MAJOR:
        raise EmulatorValidationError(_OP, "jit.out_col_major", "memory_config: COL_MAJOR shards are not supported")


# A fused generic's circular buffers: 32 input/output tensors, 7 inputs when a dtype is wider than 16 bits
# (tt-mlir docs/src/ttnn-jit.md@19c86fc, reference module-library-facts §1.3).
WIDE_DTYPE_NAMES = tuple(d.upper() for d in WIDE_DTYPES)  # the emulator's DataType names


def _check_tensor_count(tensors: list[Tensor]) -> None:
    """The block's tensor arguments and its one output within the fused kernel's limits."""
    if len(tensors) + 1 > MAX_TENSORS:
        raise EmulatorValidationError(
            _OP,
            "jit.tensor_limit",
            f"{len(tensors)} inputs and an output exceed {MAX_TENSORS} tensors per fused kernel",
        )
    wide = sorted({t.dtype.name for t in tensors if t.dtype.name in WIDE_DTYPE_NAMES})
    if wide and len(tensors) > MAX_WIDE_INPUTS:
        raise EmulatorValidationError(
            _OP,
            "jit.tensor_limit",
            f"{len(tensors)} inputs with {', '.join(wide)} (over 16 bits) exceed {MAX_WIDE_INPUTS} per fused kernel",
        )


class JitFunction:
    def __init__(self, func: Callable, flags: dict):
        self.func = func
        self.flags = flags
        self.fallback_used = False
        self.calls = 0
        functools.update_wrapper(self, func)

    def _check_call(self, args, kwargs) -> None:
        tensors = [a for a in args if isinstance(a, Tensor)] + [v for v in kwargs.values() if isinstance(v, Tensor)]
        if not args or not isinstance(args[0], Tensor):
            raise EmulatorValidationError(
                _OP, "jit.first_arg", "Device is required: the first argument of a jit function must be a device tensor"
            )
        sharded = [t for t in tensors if t.is_sharded()]
        for i, t in enumerate(tensors):
            _check_tensor_arg(f"argument {i}", t)
        _check_tensor_count(tensors)
        if len(sharded) > 1:
            spec0 = sharded[0].memory_config().shard_spec
            for t in sharded[1:]:
                if t.memory_config().shard_spec != spec0:
                    raise EmulatorValidationError(
                        _OP, "jit.shard_specs", "sharded binary operands need identical shard specs"
                    )
        if self.flags["memory_config"] is not None:
            _check_output_memory(self.flags["memory_config"])

    def _traced(self, args, kwargs):
        """Run the body on the emulated ops, recording which ttnn functions it calls."""
        ttnn_mod = sys.modules.get("ttnn")
        used: list[str] = []
        patched = {}
        if ttnn_mod is not None and getattr(ttnn_mod, "__tttgen_emulator__", False):
            for prefix, mod in (
                ("", ttnn_mod),
                ("experimental.", ttnn_mod.experimental),
                ("transformer.", ttnn_mod.transformer),
            ):
                for name in dir(mod):
                    obj = getattr(mod, name)
                    if callable(obj) and getattr(obj, "__tttgen_op__", False):

                        def wrap(fn, n=prefix + name):
                            @functools.wraps(fn)
                            def inner(*a, **k):
                                used.append(n)
                                return fn(*a, **k)

                            return inner

                        patched[(id(mod), name)] = (mod, name, obj)
                        setattr(mod, name, wrap(obj))
        try:
            result = self.func(*args, **kwargs)
        finally:
            for mod, name, obj in patched.values():
                setattr(mod, name, obj)
        return result, used

    def _place(self, result):
        """Give every output tensor the layout the compiled block writes."""
        from .ops.core import to_memory_config

        def place(t):
            if not isinstance(t, Tensor):
                return t
            mem = self.flags["memory_config"] if self.flags["memory_config"] is not None else default_output_memory(t)
            return t if t.memory_config() == mem else to_memory_config(t, mem)

        if isinstance(result, (tuple, list)):
            return type(result)(place(t) for t in result)
        return place(result)

    def __call__(self, *args, **kwargs):
        tracer = getattr(self, "tracer", None)  # set by the emulated ttnn_jit module: a block is one traced call
        if tracer is not None:
            return tracer.wrap("ttnn_jit", self._run)(*args, **kwargs)
        return self._run(*args, **kwargs)

    def _run(self, *args, **kwargs):
        self.calls += 1
        self.fallback_used = False
        try:
            self._check_call(args, kwargs)
        except EmulatorValidationError:
            if not self.flags["fallback"]:
                raise
            self.fallback_used = True
            return self.func(*args, **kwargs)
        result, used = self._traced(args, kwargs)
        unsupported = sorted({n for n in used if n not in SUPPORTED_OPS})
        if unsupported:
            if self.flags["fallback"]:
                self.fallback_used = True  # the body just ran as plain ttnn: that is the fallback's result
                return result
            raise EmulatorValidationError(
                _OP,
                "jit.unsupported_op",
                f"Function {unsupported[0]} not supported (ttnn-jit supports {sorted(SUPPORTED_OPS)})",
            )
        try:
            return self._place(result)
        except EmulatorValidationError:  # e.g. the block-sharded output does not fit L1: the compiled run fails
            if not self.flags["fallback"]:
                raise
            self.fallback_used = True
            return result


def jit(
    func: Optional[Callable] = None,
    *,
    compile_only: bool = False,
    debug: bool = False,
    enable_cache: bool = False,
    math_fidelity: MathFidelity = MathFidelity.HiFi4,
    memory_config: Optional[MemoryConfig] = None,
    fallback: bool = False,
    extra_pipeline_options: str = "",
):
    if (
        not isinstance(compile_only, bool)
        or not isinstance(debug, bool)
        or not isinstance(enable_cache, bool)
        or not isinstance(fallback, bool)
    ):
        raise TypeError("ttnn_jit.jit: compile_only, debug, enable_cache and fallback must be bools")
    if not isinstance(math_fidelity, MathFidelity) or math_fidelity == MathFidelity.Invalid:
        raise TypeError(f"ttnn_jit.jit: math_fidelity must be a ttnn.MathFidelity, got {math_fidelity!r}")
    if memory_config is not None and not isinstance(memory_config, MemoryConfig):
        raise TypeError(f"ttnn_jit.jit: memory_config must be a ttnn.MemoryConfig or None, got {memory_config!r}")
    if not isinstance(extra_pipeline_options, str):
        raise TypeError("ttnn_jit.jit: extra_pipeline_options must be a string")
    if compile_only and fallback:
        raise ValueError("ttnn_jit.jit: fallback cannot be combined with compile_only")
    if compile_only:
        raise EmulatorValidationError(
            _OP, "jit.compile_only", "compile_only=True produces IR and kernels, which the emulator cannot"
        )
    flags = dict(
        compile_only=compile_only,
        debug=debug,
        enable_cache=enable_cache,
        math_fidelity=math_fidelity,
        memory_config=memory_config,
        fallback=fallback,
        extra_pipeline_options=extra_pipeline_options,
    )

    def decorate(f: Callable) -> JitFunction:
        return JitFunction(f, flags)

    if func is not None:
        return decorate(func)
    return decorate


__all__ = ["jit"]
