"""The ttnn_jit stand-in: flag validation, tensor restrictions, op allow-list, eager execution."""

from __future__ import annotations

import pytest
import torch

from emu_helpers import rel_err, to_dev


def test_jit_runs_body_eagerly(ttnn, device, gen):
    import ttnn_jit

    @ttnn_jit.jit(enable_cache=True, math_fidelity=ttnn.MathFidelity.HiFi4, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    def swiglu(a, b):
        return ttnn.multiply(ttnn.silu(a), b)

    a = to_dev(ttnn, device, torch.randn(1, 1, 32, 64, generator=gen))
    b = to_dev(ttnn, device, torch.randn(1, 1, 32, 64, generator=gen))
    out = swiglu(a, b)
    ref = torch.nn.functional.silu(ttnn.to_torch(a).float()) * ttnn.to_torch(b).float()
    assert rel_err(ttnn.to_torch(out), ref) < 1e-2
    assert swiglu.calls == 1 and swiglu.__name__ == "swiglu"


def test_jit_flags(ttnn):
    import ttnn_jit

    ttnn_jit.jit(
        compile_only=False,
        debug=False,
        enable_cache=False,
        math_fidelity=ttnn.MathFidelity.LoFi,
        memory_config=None,
        fallback=True,
        extra_pipeline_options="",
    )
    with pytest.raises(TypeError):
        ttnn_jit.jit(max_grid=(7, 7))  # removed in tt-mlir PR #6109
    with pytest.raises(TypeError):
        ttnn_jit.jit(graph_capture=True)  # removed in tt-mlir PR #6624
    with pytest.raises(TypeError):
        ttnn_jit.jit(math_fidelity="HiFi4")
    with pytest.raises(ValueError):
        ttnn_jit.jit(compile_only=True, fallback=True)
    with pytest.raises(ttnn.EmulatorValidationError):
        ttnn_jit.jit(compile_only=True)


def test_jit_rejections(ttnn, device, gen):
    import ttnn_jit

    @ttnn_jit.jit(enable_cache=True)
    def uses_mul(a, b):
        return ttnn.mul(a, b)  # ttnn-jit knows ttnn.multiply, not ttnn.mul

    a = to_dev(ttnn, device, torch.randn(1, 1, 32, 64, generator=gen))
    with pytest.raises(ttnn.EmulatorValidationError, match="Function mul not supported"):
        uses_mul(a, a)

    @ttnn_jit.jit()
    def ident(a):
        return ttnn.silu(a)

    l1 = to_dev(ttnn, device, torch.randn(1, 1, 32, 64, generator=gen), mem=ttnn.L1_MEMORY_CONFIG)
    with pytest.raises(ttnn.EmulatorValidationError, match="L1 interleaved"):
        ident(l1)
    rm = to_dev(ttnn, device, torch.randn(1, 1, 32, 64, generator=gen), layout=ttnn.ROW_MAJOR_LAYOUT)
    with pytest.raises(ttnn.EmulatorValidationError, match="Only Layout.Tile tensors are supported"):
        ident(rm)
