"""Elementwise chains: ttnn call or ttnn-jit block (fusion pass), its cost, and how the package renders each."""

import ast
import importlib
from dataclasses import replace

import pytest

from plan_cache import cached_files, cached_plan
from tttgen.cost.model import estimate_eltwise_chain
from tttgen.emulator.jit import BINARY_OPS, UNARY_OPS
from tttgen.generate import Request, plan, render_plan
from tttgen.ir.configs import DRAM_INTERLEAVED, L1_INTERLEAVED, MemoryPlacement
from tttgen.render.context import block_body
from tttgen.spec.load import load_device
from tttgen.verification import run_verify

fusion = importlib.import_module("tttgen.passes.fusion")  # tttgen.passes.fusion is also the Pass object's name

# ttnn_jit.jit's flags at tt-mlir tools/ttnn-jit/api.py@19c86fc (reference module-library-facts §1.1)
JIT_FLAGS = {"compile_only", "debug", "enable_cache", "math_fidelity", "memory_config", "fallback", "extra_pipeline_options"}
TINY = (("max_seq_len", 256), ("prefill_lens", [128]))


@pytest.fixture
def jit_cheaper(monkeypatch):
    """Model the ttnn-jit block 1 ns faster than the ttnn call, so the pass picks it wherever it is legal."""
    real = fusion.form_costs

    def costs(op, graph, chain):
        c = real(op, graph, chain)
        return dict(c, jit=replace(c["jit"], total_ns=c["jit"].total_ns - 1.0))

    monkeypatch.setattr(fusion, "form_costs", costs)


def test_chains_use_ttnn_jit_op_names():
    for chain in fusion.CHAINS.values():
        for name, step in zip(chain.jit_ops, chain.steps, strict=True):
            assert name in (UNARY_OPS if step == "unary" else BINARY_OPS), name


def test_one_kernel_saves_the_intermediate_round_trip():
    device, _ = load_device("n150")
    facts = dict(elements=128 * 8192, storage="dram")
    fused = estimate_eltwise_chain(device, ("unary", "mul"), one_kernel=True, **facts)
    unfused = estimate_eltwise_chain(device, ("unary", "mul"), one_kernel=False, **facts)
    intermediate = 128 * 8192 * 2  # bf16, written by silu and read back by multiply
    assert unfused.dram_bytes - fused.dram_bytes == 2 * intermediate
    assert fused.total_ns < unfused.total_ns
    sharded = estimate_eltwise_chain(device, ("unary", "mul"), one_kernel=True, elements=32 * 8192, storage="sharded")
    assert sharded.dram_bytes == 0
    with pytest.raises(ValueError, match="chain step"):
        estimate_eltwise_chain(device, ("exp",), one_kernel=True, elements=1024)


def test_equal_cost_keeps_the_ttnn_call_and_says_why():
    graph = cached_plan("llama-3.2-1b", "n150").graph
    for op in graph.ops_of("eltwise"):
        d = op.decisions
        if op.facts["fn"] != "silu_mul":
            assert d["jit"] is None and "single op" in d["jit_reason"]
            continue
        assert d["jit"] is None and d["one_kernel"] and d["form_ns"]["ttnn"] < d["form_ns"]["unfused"]
        assert d["time_ns"] == pytest.approx(d["form_ns"]["ttnn"])  # op_costs prices the chosen form
        if op.mode == "prefill":
            assert d["form_ns"]["jit"] == d["form_ns"]["ttnn"]
            assert "not slower" in d["jit_reason"] and "no optional package" in d["jit_reason"]
        else:  # decode: w2_in reads w1's output placement, L1 width-sharded without an explicit shard spec
            assert "w2_in" in d["jit_reason"] and "without a shard spec" in d["jit_reason"]
    model = cached_files("llama-3.2-1b", "n150")["model.py"]
    assert "ttnn_jit" not in model and model.count("input_tensor_a_activations=[ttnn.UnaryOpType.SILU]") == 3  # 2 prefill lengths, decode


def test_placements_ttnn_jit_cannot_write():
    sharded = MemoryPlacement("L1", "WIDTH_SHARDED", (32, 1024), None, "ROW_MAJOR")
    assert fusion.jit_output_refusal(DRAM_INTERLEAVED) is None
    assert fusion.jit_output_refusal(sharded) is None
    assert "L1 interleaved" in fusion.jit_output_refusal(L1_INTERLEAVED)
    assert "sharded DRAM" in fusion.jit_output_refusal(MemoryPlacement("DRAM", "WIDTH_SHARDED", (8192, 256)))
    assert "COL_MAJOR" in fusion.jit_output_refusal(replace(sharded, orientation="COL_MAJOR"))
    assert "shard spec" in fusion.jit_output_refusal(MemoryPlacement("L1", "WIDTH_SHARDED", infer_shard=True))


def test_block_writes_its_consumers_placement(jit_cheaper):
    graph = plan(Request("llama-3.2-1b", "n150")).graph
    for op in graph.ops_of("eltwise"):
        d = op.decisions
        if op.name != "swiglu":
            continue
        if op.mode == "decode":  # its consumer's placement has no shard spec: refused however cheap
            assert d["jit"] is None and "shard spec" in d["jit_reason"]
            continue
        assert d["jit"] == "swiglu_prefill_jit" and d["jit_ops"] == ("silu", "multiply")
        assert d["jit_memory"] == graph.op(f"{op.mode_key}.w2").decisions["in0"] == DRAM_INTERLEAVED
        assert d["one_kernel"] and d["time_ns"] == pytest.approx(d["form_ns"]["jit"], abs=1.0)  # less the 1 ns above


def test_prefill_lengths_share_one_block(monkeypatch):
    real = fusion.form_costs

    def jit_cheaper_at_128(op, graph, chain):
        c = real(op, graph, chain)
        if op.mode_key != "prefill_128":
            return c
        return dict(c, jit=replace(c["jit"], total_ns=c["jit"].total_ns - 1.0))

    monkeypatch.setattr(fusion, "form_costs", jit_cheaper_at_128)
    graph = plan(Request("llama-3.2-1b", "n150")).graph
    for key in ("prefill_128.swiglu", "prefill_1024.swiglu"):
        d = graph.op(key).decisions
        assert d["jit"] is None and fusion.PREFILL_DISAGREE in d["jit_reason"]


def test_block_body():
    assert block_body(("silu", "multiply"), ("unary", "mul"), "M") == ("a, b", "ttnn.multiply(ttnn.silu(a), b, memory_config=M)")
    assert block_body(("add", "exp", "multiply"), ("add", "unary", "mul"), "M") == (
        "a, b, c",
        "ttnn.multiply(ttnn.exp(ttnn.add(a, b)), c, memory_config=M)",
    )


def test_rendered_blocks_declare_their_layout_and_fall_back(jit_cheaper):
    files = render_plan(plan(Request("llama-3.2-1b", "n150")))
    tree = ast.parse(files["model.py"])
    decorators = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "ttnn_jit.jit"
    ]
    assert len(decorators) == 1
    for call in decorators:
        kw = {k.arg: ast.unparse(k.value) for k in call.keywords}
        assert set(kw) <= JIT_FLAGS and kw["fallback"] == "True"
        assert kw["memory_config"] == "C.SWIGLU_PREFILL_JIT_MEMORY"
    guarded = [n for n in tree.body if isinstance(n, ast.Try)]  # the import is guarded, forward stays straight-line
    assert len(guarded) == 1 and ast.unparse(guarded[0].handlers[0].type) == "(ImportError, RuntimeError)"
    assert "SWIGLU_PREFILL_JIT_MEMORY = ttnn.DRAM_MEMORY_CONFIG" in files["configs.py"]
    assert "act = swiglu_prefill_jit(gate, up)" in files["model.py"]


def test_jit_package_runs_with_and_without_ttnn_jit(jit_cheaper):
    """On the emulator: the block as ttnn-jit, and as plain ttnn when ttnn_jit is not installed. (The block without
    its memory_config is judged by the real ttnn: tests/realttnn/test_regressions.py.)"""
    p = plan(Request("tests/data/tiny-llama/config.json", "n150", None, TINY))
    assert p.graph.op("prefill_128.swiglu").decisions["jit"] == "swiglu_prefill_jit"
    report = run_verify(p, steps=2, prompt_len=128)
    assert report.passed, report.as_dict()

    def not_installed(files):
        files["model.py"] = files["model.py"].replace("    import ttnn_jit\n", "    import ttnn_jit_not_installed\n")
        assert "ttnn_jit_not_installed" in files["model.py"]
        return files

    report = run_verify(p, steps=2, prompt_len=128, edit_files=not_installed)
    assert report.passed, report.as_dict()


def test_explain_shows_the_fusion_reason():
    from click.testing import CliRunner

    from tttgen.cli import cli

    out = CliRunner().invoke(cli, ["explain", "llama-3.2-1b", "--device", "n150", "--op", "prefill_128.swiglu"]).output
    assert "one ttnn call" in out and "fusion: ttnn.mul(gate, up, input_tensor_a_activations=[SILU])" in out
