"""Issue 11, first part: the decode step is device-resident and traced.

- The rotary tables are generated weights (float64 on the host at load time, Llama-3 scaling, the adjacent-pair
  order rotary_embedding_llama reads) gathered per step with ttnn.embedding: the decode method holds no torch.
- decode_forward captures the step once as a trace over persistent inputs and then only copies inputs and replays
  it; the emulator records and replays traces with ttnn's contract (no host I/O while capturing, a trace region
  at open_device, outputs rewritten in place).
"""

import ast

import pytest

from tttgen.generate import Request, plan, render_plan

torch = pytest.importorskip("torch")
TINY = "tests/data/tiny-llama/config.json"


def emulated_ttnn():
    from tttgen.generate import plan as make_plan
    from tttgen.checking.verification import emulated

    return emulated(make_plan(Request("mlp", "n150")).graph.device)


def test_trace_capture_refuses_host_io_and_needs_a_region():
    from tttgen.checking.emulator.errors import EmulatorValidationError

    with emulated_ttnn() as ttnn:
        plain = ttnn.open_device(device_id=0)
        with pytest.raises(EmulatorValidationError, match="trace.region"):
            ttnn.begin_trace_capture(plain, cq_id=0)
        device = ttnn.open_device(device_id=0, trace_region_size=2**20)
        x = ttnn.from_torch(torch.ones(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
        trace = ttnn.begin_trace_capture(device, cq_id=0)
        with pytest.raises(EmulatorValidationError, match="trace.host_io"):
            ttnn.from_torch(torch.ones(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
        ttnn.end_trace_capture(device, trace, cq_id=0)


def test_a_replayed_trace_reads_its_persistent_input_and_rewrites_its_output():
    with emulated_ttnn() as ttnn:
        device = ttnn.open_device(device_id=0, trace_region_size=2**20)

        def host(value):
            return ttnn.from_torch(torch.full((1, 1, 32, 32), value), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)

        x = ttnn.to_device(host(1.0), device)
        trace = ttnn.begin_trace_capture(device, cq_id=0)
        y = ttnn.multiply(ttnn.add(x, x), 3.0)
        ttnn.end_trace_capture(device, trace, cq_id=0)
        ttnn.copy_host_to_device_tensor(host(2.0), x)
        ttnn.execute_trace(device, trace, cq_id=0, blocking=False)
        assert float(ttnn.to_torch(y).float().mean()) == 12.0  # (2 + 2) * 3, in the tensor the capture returned


@pytest.fixture(scope="module")
def tiny_package(tmp_path_factory):
    """The tiny Llama package on the emulator with a seeded random checkpoint: (Model, configs)."""
    pytest.importorskip("transformers")
    from tiny_lm import tiny_llama_on_emulator

    with tiny_llama_on_emulator(tmp_path_factory.mktemp("traced"), "tttgen_traced_tiny") as (model, package):
        yield model, package


def test_traced_decode_equals_the_untraced_step(tiny_package):
    """Three steps replayed from one captured trace give the logits the op-by-op step gives."""
    model, package = tiny_package
    prompt = torch.arange(20) % package.configs.VOCAB_SIZE
    model.prefill_forward(prompt, user_id=0)
    users = package.configs.DECODE_USERS
    for step in range(3):
        tokens = torch.zeros(users, dtype=torch.int64)
        tokens[0] = 5 + step
        positions = torch.zeros(users, dtype=torch.int64)
        positions[0] = 20 + step
        untraced = model.decode_forward(tokens, positions, traced=False)
        traced = model.decode_forward(tokens, positions)
        assert torch.allclose(traced, untraced), step
    assert "decode" in model.decode_traces


def test_the_decode_step_holds_no_host_work():
    """The decode method of the generated Llama packages reads device tensors only (no torch): the rotary tables
    are gathered on device; configs size the trace region."""
    for device in ("n150", "p150"):
        files = render_plan(plan(Request("llama-3.2-1b", device)))
        tree = ast.parse(files["model.py"])
        decode = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "decode"]
        assert decode
        for fn in decode:
            assert not [n for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == "torch"], device
        assert "def rope_tables" not in files["model.py"]
        assert "trace_region_size=C.TRACE_REGION_SIZE" in files["model.py"]
        assert "TRACE_REGION_SIZE = " in files["configs.py"]


def test_generated_rope_tables_equal_the_llama3_tables_transformers_builds():
    """The pair-order tables with Llama-3 scaling (weights.py at load time) against transformers' own Llama rotary
    embedding (cos/sin in rotate-half order, de-interleaved here)."""
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    from tttgen.render.weight_code import generated_lines

    scaling = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192}
    config = LlamaConfig(hidden_size=2048, num_attention_heads=32, head_dim=64, max_position_embeddings=8192,
                         rope_parameters={"rope_theta": 500000.0, **scaling})
    rope = LlamaRotaryEmbedding(config)
    x = torch.zeros(1, 4096, 64)
    want_cos, want_sin = rope(x, torch.arange(4096)[None])
    for kind, want in (("rope_cos", want_cos[0]), ("rope_sin", want_sin[0])):
        recipe = {"kind": kind, "theta": 500000.0, "head_dim": 64, "positions": 4096, "convention": "pair", **scaling}
        scope = {"torch": torch}
        exec("\n".join(generated_lines("w", recipe, "test")), scope)
        # HF repeats the 32 frequencies over the two halves; the pair order repeats each one twice in a row
        # transformers computes the angles in float32 (position x frequency up to 4095 rad), ours in float64
        assert torch.allclose(scope["w"][:, 0::2], want[:, :32], atol=2e-3)
        assert torch.equal(scope["w"][:, 1::2], scope["w"][:, 0::2])


def test_greedy_tokens_come_from_the_device(tiny_package):
    """greedy=True takes the argmax on device (traced and not): the ids equal the host argmax of the logits."""
    model, package = tiny_package
    users = package.configs.DECODE_USERS
    tokens = torch.arange(users, dtype=torch.int64) % package.configs.VOCAB_SIZE
    positions = torch.full((users,), 30, dtype=torch.int64)
    logits = model.decode_forward(tokens, positions, traced=False)
    for traced in (False, True, True):
        ids = model.decode_forward(tokens, positions, traced=traced, greedy=True)
        assert ids.dtype == torch.int64 and torch.equal(ids, logits.argmax(dim=-1)), traced
    assert "greedy_step" in model.decode_traces
