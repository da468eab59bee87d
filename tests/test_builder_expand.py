"""The generic graph builder (issue 8, step 2a): expanding the Llama description gives build.py's graph op for
op in everything the passes read; non-Llama built-ins expand into a valid IR with the right matmul shapes."""

import pytest

from tttgen.builder.bind import description_for, spec_params
from tttgen.builder.expand import expand
from tttgen.errors import InputError
from tttgen.ir.configs import MatmulShape
from tttgen.ir.verify import verify
from tttgen.inputs.hints import Hints
from tttgen.inputs.load import load_device, load_model
from tttgen.inputs.module import load_module

# tt_transformers' op sequence (models/tt_transformers/tt/decoder.py, attention.py, mlp.py), per mode. Decode
# moves between placements are derived from the dataflow (builder/moves.py).
PREFILL = [
    "embedding",
    "rope_cos",
    "rope_sin",
    "attention_norm",
    "wqkv",
    "create_heads",
    "rotary_q",
    "rotary_k",
    "cache_fill_k",
    "cache_fill_v",
    "sdpa",
    "concat_heads",
    "wo",
    "attn_add",
    "ffn_norm",
    "w1",
    "w3",
    "swiglu",
    "w2",
    "ffn_add",
    "last_tile",
    "final_norm",
    "lm_head",
]
DECODE = [
    "embedding",
    "embedding_out",
    "rope_cos_rows",
    "rope_cos",
    "rope_cos_out",
    "rope_sin_rows",
    "rope_sin",
    "rope_sin_out",
    "attention_norm",
    "wqkv_in",
    "wqkv",
    "wqkv_out",
    "create_heads",
    "rotary_q",
    "rotary_k",
    "cache_update_k",
    "cache_update_v",
    "sdpa",
    "sdpa_out",
    "concat_heads",
    "wo_in",
    "wo",
    "wo_out",
    "attn_add",
    "ffn_norm",
    "w1_in",
    "w1",
    "w3",
    "swiglu",
    "w2_in",
    "w2",
    "w2_out",
    "ffn_add",
    "final_norm",
    "lm_head_in",
    "lm_head",
]
EMBED = {"embedding", "embedding_out", "rope_cos", "rope_sin", "rope_cos_rows", "rope_sin_rows", "rope_cos_out", "rope_sin_out"}
HEAD = {"last_tile", "final_norm", "lm_head_in", "lm_head"}


def _graphs(model: str):
    spec, _ = load_model(model)
    device, _ = load_device("n150")
    desc = description_for(spec)
    return spec, expand(desc, spec_params(desc, spec), device, Hints(), reference=spec)


@pytest.mark.parametrize(
    "model",
    ["llama-3.2-1b", "llama-3.1-8b", "tests/data/tiny-llama/config.json", "tests/data/tiny-mistral/config.json"],
)
def test_llama_description_expands_to_the_tt_transformers_sequence(model):
    spec, graph = _graphs(model)
    for key, names in [("prefill_128", PREFILL), ("prefill_1024", PREFILL), ("decode", DECODE)]:
        ops = [op for op in graph.ops if op.mode_key == key]
        assert [op.name for op in ops] == names
        assert all(op.scope == ("embed" if op.name in EMBED else "head" if op.name in HEAD else "layer") for op in ops)
    d, m = spec.hidden_size, 32
    shapes = {op.name: op.shape for op in graph.ops if op.mode == "decode" and op.kind == "linear"}
    assert shapes["wqkv"] == MatmulShape(m, d, spec.qkv_size) and shapes["w2"] == MatmulShape(
        m, spec.intermediate_size, d
    )
    moves = {op.name: (op.facts["src"], op.facts["dst"], op.facts["dim"]) for op in graph.ops_of("reshard")}
    assert moves["wqkv_out"] == ("wqkv", "create_heads", spec.qkv_size)
    assert moves["sdpa_out"] == ("sdpa", "concat_heads", spec.attn_size)
    assert "w3_in" not in moves  # w3 reads the input w1's move made
    prefill_w3 = graph.op("prefill_128.w3")
    assert prefill_w3.facts["shares_input_with"] == "w1" and graph.op("decode.w3").facts["sibling_output_live"]
    weights = [(w.name, w.role, w.per_layer) for w in graph.weights]
    assert weights == [
        ("embedding", "EMBEDDING", False),
        ("rope_cos", "EMBEDDING", False),
        ("rope_sin", "EMBEDDING", False),
        ("attention_norm", "NORM", True),
        ("wqkv", "WQKV", True),
        ("wo", "WO", True),
        ("ffn_norm", "NORM", True),
        ("w1", "FF1_FF3", True),
        ("w3", "FF1_FF3", True),
        ("w2", "FF2", True),
        ("final_norm", "NORM", False),
        ("lm_head", "LM_HEAD", False),
    ]


def test_layer_loop_is_not_unrolled():
    spec, expanded = _graphs("llama-3.1-8b")
    decode = [op for op in expanded.ops if op.mode == "decode"]
    assert [op.name for op in decode].count("wqkv") == 1
    assert spec.num_hidden_layers == 32
    assert all(w.per_layer == ("{i}" in w.hf_names[0]) for w in expanded.weights if w.generator is None)
    assert not any(w.per_layer for w in expanded.weights if w.generator is not None)  # rotary tables: one each


def test_untied_head_and_plain_rope_bind_from_the_spec():
    spec, _ = load_model("tests/data/tiny-mistral/config.json")
    params = spec_params(description_for(spec), spec)
    assert params["lm_head_key"] == "lm_head.weight" and params["rope_type"] == "default"
    assert "sliding_window" not in params  # null in the config: the description's default stays


def _expand_builtin(name: str, params: dict):
    device, _ = load_device("n150")
    return expand(load_module(name), params, device, Hints())


def test_mlp_expands_to_a_valid_graph():
    graph = _expand_builtin("mlp", {"in_features": 256, "hidden_features": 1024, "out_features": 512})
    verify(graph, "expand")
    # No state and no decode variant: the module runs once per prefill length, and has no decode step.
    assert graph.mode_keys() == ["prefill_128", "prefill_1024"]
    for op in graph.ops:
        assert op.kind == "linear" and op.scope == "layer"
        want = {"fc1": (256, 1024), "fc2": (1024, 512)}[op.name]
        assert op.shape == MatmulShape(m=op.seq, k=want[0], n=want[1])
    assert [(w.name, w.role, w.k, w.n) for w in graph.weights] == [
        ("fc1", "FF1_FF3", 256, 1024),
        ("fc1_bias", "NORM", 1, 1024),
        ("fc2", "FF2", 1024, 512),
        ("fc2_bias", "NORM", 1, 512),
    ]


def test_prenorm_encoder_layer_expands_to_a_valid_graph():
    graph = _expand_builtin("prenorm_encoder_layer", {})
    verify(graph, "expand")
    decode = [op for op in graph.ops if op.mode_key == "prefill_128"]
    assert [op.kind for op in decode] == [
        "layer_norm",
        "linear",
        "create_heads",
        "sdpa",
        "concat_heads",
        "linear",
        "binary",
        "layer_norm",
        "linear",
        "linear",
        "binary",
    ]
    shapes = {op.name: op.shape for op in decode if op.kind == "linear"}
    assert shapes == {
        "wqkv": MatmulShape(128, 768, 2304),
        "wo": MatmulShape(128, 768, 768),
        "fc1": MatmulShape(128, 768, 3072),
        "fc2": MatmulShape(128, 3072, 768),
    }
    sdpa = next(op for op in decode if op.name == "sdpa")
    assert dict(sdpa.facts) == {"num_heads": 12, "num_kv_heads": 12, "head_dim": 64}
    assert graph.weight("wqkv").hf_names == ("self_attn.in_proj_weight",) and not graph.weight("wqkv").per_layer


def test_shape_mismatch_names_the_op(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("""\
name: bad
description: "a linear whose weight does not fit its input"
params:
  d: {type: int, default: 64, doc: "width"}
  rows: {type: int, doc: "rows"}
inputs:
  x: {shape: [1, 1, rows, d]}
outputs:
  y: {shape: [1, 1, rows, d]}
weights:
  w: {shape: [d + 32, d], key: "w.weight", role: FF2}
ops:
  - {op: linear, name: proj, in: {input: x, weight: w}, out: y}
""")
    device, _ = load_device("n150")
    with pytest.raises(InputError) as info:
        expand(load_module(path), {}, device, Hints(), near=tmp_path)
    text = info.value.render()
    assert "bad.yaml:" in text and "op 'proj' (linear): input width 64 does not match the weight's 96 rows" in text


def test_linear_weight_without_role_is_refused(tmp_path):
    path = tmp_path / "norole.yaml"
    path.write_text("""\
name: norole
description: "a linear weight without its precision group"
params:
  rows: {type: int, doc: "rows"}
inputs:
  x: {shape: [1, 1, rows, 64]}
outputs:
  y: {shape: [1, 1, rows, 64]}
weights:
  w: {shape: [64, 64], key: "w.weight"}
ops:
  - {op: linear, name: proj, in: {input: x, weight: w}, out: y}
""")
    device, _ = load_device("n150")
    with pytest.raises(InputError) as info:
        expand(load_module(path), {}, device, Hints(), near=tmp_path)
    assert "norole.yaml:" in info.value.render()
    assert "op 'proj' (linear): weight 'w' needs a `role` (its precision group) (allowed: EMBEDDING, NORM" in (
        info.value.render()
    )


def test_a_call_passing_the_wrong_width_names_both_shapes(tmp_path):
    """The callee's declared inputs are checked against what the caller passes (a compiler front end's job)."""
    (tmp_path / "wrong.yaml").write_text("""\
name: wrong
description: "calls the built-in mlp with a 256-wide value where it declares 512"
params:
  rows: {type: int, doc: "rows"}
inputs:
  x: {shape: [1, 1, rows, 256]}
outputs:
  y: {shape: [1, 1, rows, 512]}
ops:
  - op: call
    name: ffn
    module: mlp
    in: {x: x}
    out: y
    bind: {in_features: 512, hidden_features: 1024, out_features: 512, activation: gelu, rows: rows}
""")
    device, _ = load_device("n150")
    with pytest.raises(InputError) as info:
        expand(load_module(tmp_path / "wrong.yaml"), {}, device, Hints(), near=tmp_path)
    text = info.value.render()
    assert "wrong.yaml:" in text and "call 'ffn' (mlp)" in text and "[1, 1, 128, 256]" in text and "[1, 1, 128, 512]" in text
