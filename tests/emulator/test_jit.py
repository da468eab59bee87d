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


def test_jit_output_defaults_to_maximal_l1_block_sharding(ttnn, device, gen):
    """No memory_config: ttnn-jit writes the output L1 block-sharded over the largest grid dividing its tiles."""
    import ttnn_jit

    @ttnn_jit.jit(enable_cache=True)
    def swiglu(a, b):
        return ttnn.multiply(ttnn.silu(a), b, memory_config=ttnn.DRAM_MEMORY_CONFIG)  # ignored by ttnn-jit

    a = to_dev(ttnn, device, torch.randn(1, 1, 96, 256, generator=gen))
    out = swiglu(a, a)
    mem = out.memory_config()
    assert mem.memory_layout == ttnn.TensorMemoryLayout.BLOCK_SHARDED and mem.buffer_type == ttnn.BufferType.L1
    # 3 x 8 tiles on the 8x8 grid: 3 rows (largest divisor of 3 within 8) by 8 columns, one tile per core
    assert mem.shard_spec.shape == [32, 32]
    assert mem.shard_spec.grid.bounding_box().grid_size() == ttnn.CoreCoord(8, 3)


def _linear_for_interleaved_in0(ttnn, device, gen, x):
    """w2-like linear whose 2D program config was chosen for a DRAM interleaved activation."""
    w = to_dev(ttnn, device, torch.randn(256, 512, generator=gen))
    pc = ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(
        compute_with_storage_grid_size=(8, 4),
        in0_block_w=2,
        out_subblock_h=1,
        out_subblock_w=2,
        per_core_M=2,
        per_core_N=2,
        transpose_mcast=False,
        fused_activation=None,
        fuse_batch=True,
    )
    return ttnn.linear(x, w, program_config=pc, memory_config=ttnn.DRAM_MEMORY_CONFIG)


def test_consumer_rejects_the_default_jit_layout(ttnn, device, gen):
    """The JIT block's default output (L1 block-sharded) reaches a matmul configured for interleaved input: rejected.
    The same block with memory_config = the consumer's placement passes."""
    import ttnn_jit

    def body(a, b):
        return ttnn.multiply(ttnn.silu(a), b)

    a = to_dev(ttnn, device, torch.randn(1, 1, 256, 256, generator=gen))
    b = to_dev(ttnn, device, torch.randn(1, 1, 256, 256, generator=gen))
    x = _linear_for_interleaved_in0(ttnn, device, gen, a)  # the config itself is legal on interleaved input
    assert x.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    act = ttnn_jit.jit(enable_cache=True)(body)(a, b)
    with pytest.raises(ttnn.EmulatorValidationError) as err:
        _linear_for_interleaved_in0(ttnn, device, gen, act)
    assert err.value.op == "ttnn.linear"
    act = ttnn_jit.jit(enable_cache=True, memory_config=ttnn.DRAM_MEMORY_CONFIG, fallback=True)(body)(a, b)
    assert act.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    _linear_for_interleaved_in0(ttnn, device, gen, act)


def test_jit_fallback_keeps_the_declared_layout(ttnn, device, gen):
    """fallback=True: an input ttnn-jit rejects (L1 interleaved) runs the body as plain ttnn; the body's own
    memory_config then gives the consumer the layout the decorator declares."""
    import ttnn_jit

    dram = ttnn.DRAM_MEMORY_CONFIG

    def body(a, b):
        return ttnn.multiply(ttnn.silu(a), b, memory_config=dram)

    jitted = ttnn_jit.jit(enable_cache=True, memory_config=dram, fallback=True)(body)
    x = torch.randn(1, 1, 64, 128, generator=gen)
    l1 = to_dev(ttnn, device, x, mem=ttnn.L1_MEMORY_CONFIG)
    out = jitted(l1, l1)
    assert jitted.fallback_used and out.memory_config() == dram
    ref = torch.nn.functional.silu(ttnn.to_torch(l1).float()) * ttnn.to_torch(l1).float()
    assert rel_err(ttnn.to_torch(out), ref) < 1e-2
    out = jitted(to_dev(ttnn, device, x), to_dev(ttnn, device, x))
    assert not jitted.fallback_used and out.memory_config() == dram
    with pytest.raises(ttnn.EmulatorValidationError, match="L1 interleaved"):
        ttnn_jit.jit(memory_config=dram)(body)(l1, l1)  # without fallback the restriction stands


def test_jit_refuses_output_layouts_it_cannot_write(ttnn, device, gen):
    import ttnn_jit

    a = to_dev(ttnn, device, torch.randn(1, 1, 32, 64, generator=gen))
    for mem, rule in (
        (ttnn.L1_MEMORY_CONFIG, "jit.out_l1_interleaved"),
        (ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG, "jit.out_shard_spec"),
    ):
        with pytest.raises(ttnn.EmulatorValidationError) as err:
            ttnn_jit.jit(memory_config=mem)(lambda x: ttnn.silu(x))(a)
        assert err.value.rule == rule


def test_jit_runs_a_multi_input_chain(ttnn, device, gen):
    """A block over several inputs (Boltz AdaLN's sigmoid(scale) * a + shift) runs eagerly in ttnn-jit's names."""
    import ttnn_jit

    @ttnn_jit.jit(enable_cache=True, memory_config=ttnn.DRAM_MEMORY_CONFIG, fallback=True)
    def modulate_shift(scale, a, shift):
        return ttnn.add(ttnn.multiply(ttnn.sigmoid(scale), a), shift, memory_config=ttnn.DRAM_MEMORY_CONFIG)

    x = [torch.randn(1, 1, 64, 96, generator=gen) for _ in range(3)]
    out = modulate_shift(*(to_dev(ttnn, device, t) for t in x))
    assert not modulate_shift.fallback_used and out.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    ref = torch.sigmoid(x[0].bfloat16().float()) * x[1].bfloat16().float() + x[2].bfloat16().float()
    assert rel_err(ttnn.to_torch(out), ref) < 1e-2


def test_jit_tensor_limit(ttnn, device, gen):
    """32 input/output tensors per fused kernel; 7 inputs once one is float32 (wider than 16 bits)."""
    import ttnn_jit

    def total(*xs):
        out = xs[0]
        for x in xs[1:]:
            out = ttnn.add(out, x)
        return out

    bf16 = to_dev(ttnn, device, torch.randn(1, 1, 32, 32, generator=gen))
    f32 = to_dev(ttnn, device, torch.randn(1, 1, 32, 32, generator=gen), dtype=ttnn.float32)
    ttnn_jit.jit()(total)(*[bf16] * 31)  # 31 inputs and the output: at the limit
    with pytest.raises(ttnn.EmulatorValidationError, match="exceed 32 tensors"):
        ttnn_jit.jit()(total)(*[bf16] * 32)
    ttnn_jit.jit()(total)(*[f32] * 7)
    with pytest.raises(ttnn.EmulatorValidationError, match="FLOAT32"):
        ttnn_jit.jit()(total)(*[f32] + [bf16] * 7)
    jitted = ttnn_jit.jit(fallback=True)(total)
    jitted(*[f32] * 8)
    assert jitted.fallback_used  # fallback=True: the body ran as plain ttnn
