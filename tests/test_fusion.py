"""Elementwise chains: ttnn call or ttnn-jit block (fusion pass), its cost, and how the package renders each."""

import ast
import importlib
from dataclasses import replace

import pytest

from plan_cache import cached_files, cached_plan
from tttgen.cost.model import estimate_eltwise_chain
from tttgen.checking.emulator.jit import BINARY_OPS, UNARY_OPS
from tttgen.generate import Request, plan, render_plan
from tttgen.ir.configs import DRAM_INTERLEAVED, L1_INTERLEAVED, MemoryPlacement
from tttgen.render.context import block_body, block_params
from tttgen.inputs.load import load_device
from tttgen.checking.verification import run_verify

fusion = importlib.import_module("tttgen.passes.fusion")  # tttgen.passes.fusion is also the Pass object's name

# ttnn_jit.jit's flags at tt-mlir tools/ttnn-jit/api.py@19c86fc (reference module-library-facts §1.1)
JIT_FLAGS = {
    "compile_only",
    "debug",
    "enable_cache",
    "math_fidelity",
    "memory_config",
    "fallback",
    "extra_pipeline_options",
}
TINY = (("max_seq_len", 256), ("prefill_lens", [128]))


@pytest.fixture
def jit_cheaper(monkeypatch):
    """Model the ttnn-jit block 1 ns faster than ttnn, so the pass picks it wherever it is legal."""
    real = fusion.form_costs

    def costs(chain, graph, block):
        c = real(chain, graph, block)
        return dict(c, jit=c["ttnn"] - 1.0)

    monkeypatch.setattr(fusion, "form_costs", costs)


def test_jit_op_lists_are_ttnn_jits():
    """IR ops are spelled by ttnn's full names (`multiply`, not `mul`) and every unary fn a description may use that
    ttnn-jit lists is one the pass can fuse (the lists themselves live once, in tttgen/ops/ttnn_jit_facts.py)."""
    from tttgen.ops.kinds.binary import TTNN_FNS
    from tttgen.ops.registry import UNARY_FNS

    assert set(TTNN_FNS.values()) <= set(BINARY_OPS)
    assert {"silu", "sigmoid", "cos", "gelu"} <= set(UNARY_FNS) & set(UNARY_OPS)
    assert "mul" not in BINARY_OPS and "square" not in UNARY_OPS  # ttnn-jit's names and gaps, not ours


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
    for op in graph.ops_of("binary"):
        d = op.decisions
        if op.facts["fn"] != "silu_mul":  # the residual adds: x1 feeds ffn_norm and ffn_add
            assert d["jit"] is None and "multiple users: x1 (attn_add's output) has 2 users" in d["jit_reason"]
            continue
        assert d["jit"] is None and d["one_kernel"] and d["form_ns"]["ttnn"] < d["form_ns"]["unfused"]
        assert d["time_ns"] == pytest.approx(d["form_ns"]["ttnn"])  # op_costs prices the chosen form
        # decode too: w2 reads the SwiGLU output where w1 wrote it (w2_in elided), an explicit shard spec
        assert d["form_ns"]["jit"] == d["form_ns"]["ttnn"]
        assert "not slower" in d["jit_reason"] and "no optional package" in d["jit_reason"]
    model = cached_files("llama-3.2-1b", "n150")["model.py"]
    assert (
        "ttnn_jit" not in model and model.count("input_tensor_a_activations=[ttnn.UnaryOpType.SILU]") == 3
    )  # 2 prefill lengths, decode


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
    for op in graph.ops_of("binary"):
        d = op.decisions
        if op.name != "swiglu":
            continue
        assert d["jit"] == f"swiglu_{op.mode}_jit" and d["jit_ops"] == ("silu", "multiply")
        w2_in0 = graph.op(f"{op.mode_key}.w2").decisions["in0"]
        assert d["jit_memory"] == w2_in0
        # prefill reads DRAM; decode writes w2's L1 width-sharded input with its explicit shard spec (w2_in elided)
        assert w2_in0 == DRAM_INTERLEAVED if op.mode == "prefill" else w2_in0.sharded and not w2_in0.infer_shard
        assert d["one_kernel"] and d["time_ns"] == pytest.approx(d["form_ns"]["jit"], abs=1.0)  # less the 1 ns above


def test_prefill_lengths_share_one_block(monkeypatch):
    real = fusion.form_costs

    def jit_cheaper_at_128(chain, graph, block):
        c = real(chain, graph, block)
        return dict(c, jit=c["ttnn"] - 1.0) if chain.key == "prefill_128" else c

    monkeypatch.setattr(fusion, "form_costs", jit_cheaper_at_128)
    graph = plan(Request("llama-3.2-1b", "n150")).graph
    for key in ("prefill_128.swiglu", "prefill_1024.swiglu"):
        d = graph.op(key).decisions
        assert d["jit"] is None and fusion.PREFILL_DISAGREE in d["jit_reason"]


def test_block_body():
    Step = fusion.Step
    swiglu = (Step("silu", (("input", 0),)), Step("multiply", (("step", 0), ("input", 1))))
    assert block_body(swiglu, ["a", "b"], "M") == "ttnn.multiply(ttnn.silu(a), b, memory_config=M)"
    tree = (  # (x + y) * exp(0.5 * z): an in-tree, each step's result read once
        Step("add", (("input", 0), ("input", 1))),
        Step("multiply", (("input", 2), ("scalar", 0.5))),
        Step("exp", (("step", 1),)),
        Step("multiply", (("step", 0), ("step", 2))),
    )
    assert block_body(tree, ["x", "y", "z"], "M") == (
        "ttnn.multiply(ttnn.add(x, y), ttnn.exp(ttnn.multiply(z, 0.5)), memory_config=M)"
    )
    assert block_params(("scale", "an", "shift")) == ["scale", "an", "shift"]
    assert block_params(("x", {"weight": "bias"})) == ["a", "b"]  # a weight has no value name


def test_rendered_blocks_declare_their_layout_and_fall_back(jit_cheaper):
    files = render_plan(plan(Request("llama-3.2-1b", "n150")))
    tree = ast.parse(files["model.py"])
    decorators = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "ttnn_jit.jit"]
    assert len(decorators) == 2  # prefill (both lengths share it) and decode
    memories = set()
    for call in decorators:
        kw = {k.arg: ast.unparse(k.value) for k in call.keywords}
        assert set(kw) <= JIT_FLAGS and kw["fallback"] == "True"
        memories.add(kw["memory_config"])
    assert memories == {"C.SWIGLU_PREFILL_JIT_MEMORY", "C.SWIGLU_DECODE_JIT_MEMORY"}
    # decode's block writes w2's L1 width-sharded input, with the shard spec spelled out
    assert "SWIGLU_DECODE_JIT_MEMORY = L1_WIDTH_SHARDED_" in files["configs.py"]
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
    assert "one ttnn call" in out and "fusion: ttnn.multiply(gate, up, input_tensor_a_activations=[SILU])" in out


# ---------------------------------------------------------------- multi-op chains (issue 9)

CUT_CHAIN = """
name: cut_chain
description: "sigmoid(x) * y + square(z) feeds two readers: (.) * x and exp(0.5 * .)."
params:
  dim: {type: int, default: 256, doc: "width"}
  rows: {type: int, doc: "rows per call"}
inputs:
  x: {shape: [1, 1, rows, dim]}
  y: {shape: [1, 1, rows, dim]}
  z: {shape: [1, 1, rows, dim]}
outputs:
  out: {shape: [1, 1, rows, dim]}
  side: {shape: [1, 1, rows, dim]}
weights: {}
ops:
  - {op: unary, name: sq, in: {input: z}, out: zz, attrs: {fn: square}}
  - {op: binary, name: gate, in: {a: x, b: y}, out: t, attrs: {fn: mul, a_activation: sigmoid}}
  - {op: binary, name: shift, in: {a: t, b: zz}, out: u, attrs: {fn: add}}
  - {op: binary, name: scale, in: {a: u, b: x}, out: out, attrs: {fn: mul}}
  - {op: unary, name: grow, in: {input: u}, out: side, attrs: {fn: exp, scale: 0.5}}
"""


def adaln(flags=()):
    return plan(Request("boltz_adaln", "n150", None, flags, (("rows", "128"),)))


def chains_of(graph, key):
    return {c["id"]: c for c in graph.facts["fusion_chains"] if c["mode"] == key}


@pytest.fixture
def cut_chain(tmp_path):
    path = tmp_path / "cut_chain.yaml"
    path.write_text(CUT_CHAIN)
    return plan(Request(str(path), "n150", None, (("prefill_lens", [128]),), (("rows", "128"),)))


def test_adaln_chain_is_one_block_over_three_inputs():
    """sigmoid(scale) * an + shift: modulate's output has one user, so modulate and shift_add are one chain, run as
    one ttnn-jit kernel because that saves the intermediate's round trip and a kernel launch over ttnn's
    multiply-with-activation then add."""
    graph = adaln().graph
    for key in ("prefill_128", "prefill_1024"):
        member, root = graph.op(f"{key}.modulate").decisions, graph.op(f"{key}.shift_add").decisions
        assert root["jit"] == member["jit"] == "shift_add_prefill_jit" and member["jit_member_of"] == "shift_add"
        assert root["jit_ops"] == ("sigmoid", "multiply", "add") and root["jit_inputs"] == ("scale", "an", "shift")
        assert root["jit_memory"] == root["out"]  # the module's output placement (DRAM interleaved)
        assert member["time_ns"] == 0.0 and root["time_ns"] == pytest.approx(root["form_ns"]["jit"])
        assert root["form_ns"]["jit"] < root["form_ns"]["ttnn"] < root["form_ns"]["unfused"]
        (chain,) = chains_of(graph, key).values()
        assert chain["verdict"] == "fused" and chain["members"] == ["modulate", "shift_add"] and chain["inputs"] == 3


def test_conditioned_transition_chains_stay_in_their_function():
    """swiglu's output feeds only gate_b: silu -> multiply -> multiply over gate, value, ab. The AdaLN it calls is
    its own function (class): its chain is fused there, and y (returned to the caller) ends it."""
    graph = plan(Request("boltz_conditioned_transition", "n150", None, (), (("rows", "128"),))).graph
    root = graph.op("prefill_128.gate_b").decisions
    assert root["jit"] == "gate_b_prefill_jit" and root["jit_inputs"] == ("gate", "value", "ab")
    assert root["jit_ops"] == ("silu", "multiply", "multiply")
    assert graph.op("prefill_128.swiglu").decisions["jit_member_of"] == "gate_b"
    assert graph.op("prefill_128.shift_add").decisions["jit"] == "shift_add_prefill_jit"
    assert graph.op("prefill_128.output_gate").decisions["jit"] is None  # a single multiply, nothing to fuse


def test_chain_is_cut_at_a_value_with_two_users(cut_chain):
    graph = cut_chain.graph
    chains = chains_of(graph, "prefill_128")
    fused = chains["prefill_128.shift"]
    assert fused["verdict"] == "fused" and fused["members"] == ["gate", "shift"] and fused["inputs"] == 3
    assert graph.op("prefill_128.shift").decisions["jit_inputs"] == ("x", "y", "zz")
    users = "multiple users: u (shift's output) has 2 users (scale, grow)"
    assert users in fused["stops"]
    assert (
        chains["prefill_128.scale"]["verdict"] == "refused" and chains["prefill_128.scale"]["rule"] == "multiple users"
    )
    assert users in chains["prefill_128.scale"]["reason"]
    square = chains["prefill_128.sq"]
    assert square["rule"] == "op not supported" and "no `square` handler" in square["reason"]
    grow = chains["prefill_128.grow"]  # exp(0.5 * u): a multiply by a scalar then exp, one kernel as a block
    assert grow["verdict"] == "fused" and grow["ops"] == ["multiply", "exp"] and grow["inputs"] == 1


def test_cut_chain_package_runs_on_the_emulator(cut_chain):
    """The blocks and the ops left to ttnn compute what torch does, with ttnn_jit (the emulator's stand-in) and
    without it (the eager functions)."""
    import torch

    from tttgen.checking.verification import verify_module

    class Reference(torch.nn.Module):
        def forward(self, x, y, z):
            u = torch.sigmoid(x) * y + z * z
            return u * x, torch.exp(0.5 * u)

    files = render_plan(cut_chain)
    assert files["model.py"].count("ttnn_jit.jit(") == 2
    assert (
        "u = shift_prefill_jit(x, y, zz)" in files["model.py"]
        and "# gate: computed inside shift_prefill_jit" in files["model.py"]
    )
    assert "ttnn.deallocate(t)" not in files["model.py"]  # the intermediate is never bound on the host side
    report = verify_module(cut_chain, reference=Reference())
    assert report.passed, report.as_dict()

    def not_installed(files):
        files["model.py"] = files["model.py"].replace("    import ttnn_jit\n", "    import ttnn_jit_not_installed\n")
        return files

    report = verify_module(cut_chain, reference=Reference(), edit_files=not_installed)
    assert report.passed, report.as_dict()


def test_refusal_rules_name_the_first_that_stopped_the_chain():
    disabled = chains_of(adaln((("jit", False),)).graph, "prefill_128")["prefill_128.shift_add"]
    assert disabled["verdict"] == "refused" and disabled["rule"] == "disabled" and "jit=false" in disabled["reason"]
    graph = adaln().graph
    (chain,) = [c for c in fusion.mode_chains(graph, "prefill_128") if c.root.name == "shift_add"]
    dram_sharded = MemoryPlacement("DRAM", "WIDTH_SHARDED", (128, 64))
    for placement, why in (
        (L1_INTERLEAVED, "input shift: L1 interleaved"),
        (dram_sharded, "input shift: sharded DRAM"),
    ):
        moved = graph.with_ops(op.decide(out=placement) if op.key == "prefill_128.s_bias" else op for op in graph.ops)
        record = fusion.chain_verdict(moved, chain)
        assert record["verdict"] == "refused" and record["rule"] == "layout" and why in record["reason"]


def test_tensor_limit():
    assert fusion.tensor_limit_refusal(["bfloat16"] * 31, "bfloat16") is None
    assert "32 tensors" in fusion.tensor_limit_refusal(["bfloat16"] * 32, "bfloat16")
    assert fusion.tensor_limit_refusal(["float32"] * 7, "float32") is None
    assert "7 at most" in fusion.tensor_limit_refusal(["float32"] + ["bfloat16"] * 7, "bfloat16")
    assert "7 at most" in fusion.tensor_limit_refusal(["bfloat16"] * 8, "float32")  # the output counts as a dtype


def test_adaln_block_is_rendered_once_with_fallback_and_its_layout():
    files = render_plan(adaln())
    model = files["model.py"]
    tree = ast.parse(model)
    decorators = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "ttnn_jit.jit"]
    assert len(decorators) == 1  # both prefill lengths call the same block
    kw = {k.arg: ast.unparse(k.value) for k in decorators[0].keywords}
    assert set(kw) <= JIT_FLAGS and kw["fallback"] == "True" and kw["memory_config"] == "C.SHIFT_ADD_PREFILL_JIT_MEMORY"
    assert "def shift_add_prefill_eager(scale, an, shift):" in model
    assert (
        "ttnn.add(ttnn.multiply(ttnn.sigmoid(scale), an), shift, memory_config=C.SHIFT_ADD_PREFILL_JIT_MEMORY)" in model
    )
    assert model.count("y = shift_add_prefill_jit(scale, an, shift)") == 2 and "scaled =" not in model
    assert "SHIFT_ADD_PREFILL_JIT_MEMORY = ttnn.DRAM_MEMORY_CONFIG" in files["configs.py"]


def test_explain_lists_every_candidate_chain():
    from click.testing import CliRunner

    from tttgen.cli import cli

    out = CliRunner().invoke(cli, ["explain", "boltz_adaln", "--device", "n150", "--param", "rows=128"]).output
    assert (
        "prefill_128: modulate + shift_add (sigmoid -> multiply -> add, 3 inputs): fused as shift_add_prefill_jit"
        in out
    )
    assert "inside ttnn-jit block shift_add_prefill_jit (called at shift_add)" in out
    out = CliRunner().invoke(cli, ["explain", "llama-3.2-1b", "--device", "n150"]).output
    # decode too: w2 reads w1's placement unmoved, so the block could write it (an explicit shard spec)
    assert "decode: swiglu (silu -> multiply, 2 inputs): kept as ttnn (not slower)" in out
    assert "prefill_128: attn_add (add): refused (multiple users)" in out
