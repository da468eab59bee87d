"""The generic graph builder (issue 8, step 2a): expanding the Llama description gives build.py's graph op for
op in everything the passes read; non-Llama built-ins expand into a valid IR with the right matmul shapes."""

import pytest

from tttgen.build import build_graph
from tttgen.builder.bind import description_for, spec_params
from tttgen.builder.expand import expand
from tttgen.errors import InputError
from tttgen.ir.configs import MatmulShape
from tttgen.ir.verify import verify
from tttgen.spec.hints import Hints
from tttgen.spec.load import load_device, load_model
from tttgen.spec.module import load_module

# build.py copies all three heads facts onto every heads op; the description derives them from the op's own
# inputs, which do not carry the query-head count (cache writes) or the KV-head count (concat_heads). No pass
# reads these (op_costs takes the model's dims for both kinds); every other fact must be equal.
NOT_DERIVED = {("cache_fill", "num_heads"), ("cache_update", "num_heads"), ("concat_heads", "num_kv_heads")}


def _graphs(model: str):
    spec, _ = load_model(model)
    device, _ = load_device("n150")
    desc = description_for(spec)
    return build_graph(spec, device, Hints()), expand(desc, spec_params(desc, spec), device, Hints(), model=spec)


@pytest.mark.parametrize(
    "model",
    ["llama-3.2-1b", "llama-3.1-8b", "tests/data/tiny-llama/config.json", "tests/data/tiny-mistral/config.json"],
)
def test_llama_description_expands_to_build_py_graph(model):
    built, expanded = _graphs(model)
    # Decode reshards are pass decisions in the description (where activations live), inserted by build.py only.
    want = [op for op in built.ops if op.kind != "reshard"]
    # Expanded ops are named by their call path (`layers.attention.wqkv`); build.py uses the bare step name.
    ident = lambda op: (op.name.rsplit(".", 1)[-1], op.kind, op.mode, op.seq, op.scope)  # noqa: E731
    assert [ident(op) for op in expanded.ops] == [ident(op) for op in want]
    assert expanded.mode_keys() == built.mode_keys()
    for got, op in zip(expanded.ops, want):
        assert (got.shape, got.weight) == (op.shape, op.weight), got.key
        for name, value in got.facts.items():
            want_value = f"{got.name.rsplit('.', 1)[0]}.{op.facts.get(name)}" if name == "shares_input_with" else op.facts.get(name)
            assert want_value == value, (got.key, name)
        missing = {(op.kind, name) for name in op.facts if name not in got.facts}
        assert missing <= NOT_DERIVED, (got.key, missing)
    weights = lambda g: [(w.name, w.role, w.k, w.n, w.hf_names, w.per_layer) for w in g.weights]  # noqa: E731
    assert weights(expanded) == weights(built)


def test_layer_loop_is_not_unrolled():
    built, expanded = _graphs("llama-3.1-8b")
    decode = [op for op in expanded.ops if op.mode == "decode"]
    assert [op.name.rsplit(".", 1)[-1] for op in decode].count("wqkv") == 1
    assert built.model.num_hidden_layers == 32 and all(
        w.per_layer == ("{i}" in w.hf_names[0]) for w in expanded.weights
    )


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
        assert op.kind == "matmul" and op.scope == "layer"
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
        "matmul",
        "create_heads",
        "sdpa_prefill",
        "concat_heads",
        "matmul",
        "eltwise",
        "layer_norm",
        "matmul",
        "matmul",
        "eltwise",
    ]
    shapes = {op.name: op.shape for op in decode if op.kind == "matmul"}
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
    assert "bad.proj: linear: input width 64 does not match the weight's 96 rows" in info.value.render()


def test_linear_weight_without_role_is_refused(tmp_path):
    path = tmp_path / "norole.yaml"
    path.write_text(
        """\
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
"""
    )
    device, _ = load_device("n150")
    with pytest.raises(InputError) as info:
        expand(load_module(path), {}, device, Hints(), near=tmp_path)
    assert "norole.proj.in.weight: weight 'w' needs a `role` (its precision group) (allowed: EMBEDDING, NORM" in (
        info.value.render()
    )
