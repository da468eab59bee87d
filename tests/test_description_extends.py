"""Descriptions that extend and patch (issue 21): `extends:` with a merge patch whose op lists are patched by op
name, features as patches on ops, callee params taken from the caller's same-named params, and named expressions
(`derived:`). The misuses are in tests/data/broken/ (extends_*, feature_patch_missing, derived_unknown,
bind_inherited_type) and refused by tests/test_broken_descriptions.py with their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontend_cli import run_cli
from tttgen.builder.expand import expand
from tttgen.errors import InputError
from tttgen.inputs.extends import Patcher
from tttgen.inputs.hints import Hints
from tttgen.inputs.load import load_device
from tttgen.inputs.module import MODULE_DIR, base_files, load_module, read_module_lines, with_features


def resolved(name: str, features: tuple[str, ...] = ()) -> dict:
    data, _ = read_module_lines(MODULE_DIR / f"{name}.yaml")
    return with_features(data, features)


def ops_of(data: dict, mode: str) -> dict[str, dict]:
    return {op["name"]: op for op in data["modes"][mode]["ops"]}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------- the patch grammar


def test_a_merge_patch_replaces_adds_and_removes_keys_in_place_and_never_touches_the_base():
    shared = {"shape": [1, 2]}
    base = {"a": shared, "b": shared, "c": 1, "d": {"x": 1, "y": 2}}
    patch = {"a": {"shape": [3]}, "c": None, "d": {"y": None, "z": 3}, "e": 5, "f": {"doc": "new", "before": "b"}}
    patcher = Patcher()
    out = patcher.merge(base, patch)
    assert patcher.problems == []
    assert out == {"a": {"shape": [3]}, "f": {"doc": "new"}, "b": {"shape": [1, 2]}, "d": {"x": 1, "z": 3}, "e": 5}
    assert list(out) == ["a", "f", "b", "d", "e"]  # patched keys keep their place; `before:` places a new one
    assert shared == {"shape": [1, 2]} and base["c"] == 1  # aliases in the base are not written through


def test_an_op_list_is_patched_by_op_name_and_new_ops_go_where_they_say_in_patch_order():
    ops = [{"op": "a", "name": "one"}, {"op": "b", "name": "two"}, {"op": "c", "name": "three"}]
    patch = {
        "two": {"attrs": {"fn": "relu"}},
        "three": None,
        "x": {"op": "u", "after": "one"},
        "y": {"op": "v", "after": "one"},
        "z": {"op": "w", "before": "one"},
    }
    patcher = Patcher()
    out = patcher.merge({"ops": ops}, {"ops": patch})["ops"]
    assert patcher.problems == []
    assert [o["name"] for o in out] == ["z", "one", "x", "y", "two"]
    assert out[-1] == {"op": "b", "name": "two", "attrs": {"fn": "relu"}}
    assert ops[1] == {"op": "b", "name": "two"}


def test_every_patch_misuse_is_reported_at_once():
    patcher = Patcher(patch_loc=("features", "f", "patch"))
    patcher.merge(
        {"ops": [{"op": "a", "name": "one"}], "p": {}},
        {
            "p": {"gone": None},
            "ops": {
                "nine": None,
                "new": {"op": "u"},
                "both": {"op": "u", "after": "one", "before": "one"},
                "one": {"after": "one"},
            },
        },
    )
    messages = [p.message for p in patcher.problems]
    assert len(messages) == 5, messages
    assert all(p.loc[:3] == ("features", "f", "patch") for p in patcher.problems)


# ---------------------------------------------------------------- the rewritten families


def test_mistral_is_llama_with_its_own_defaults_window_and_head():
    llama, mistral = resolved("llama"), resolved("mistral")
    assert list(mistral["params"]) == [*list(llama["params"])[:15], "sliding_window", *list(llama["params"])[15:]]
    assert mistral["params"]["hidden_size"] == {"type": "int", "default": 4096, "doc": "model width"}
    assert mistral["modes"] == llama["modes"] and mistral["weights"] == llama["weights"]
    assert "rope_scaling.factor" not in mistral["checkpoint"]["config_map"]
    assert mistral["checkpoint"]["config_map"]["sliding_window"] == "sliding_window"
    assert mistral["reference"] == {"torch": "transformers.MistralForCausalLM"}
    assert [p.stem for p in base_files(MODULE_DIR / "phi3.yaml")] == ["mistral", "llama"]


@pytest.mark.parametrize("features", [(), ("paged",)])
@pytest.mark.parametrize(
    "name, layer, attention",
    [
        ("llama", "llama_decoder_layer", "llama_attention"),
        ("llama_bias", "llama_bias_decoder_layer", "llama_bias_attention"),
        ("qwen2", "qwen2_decoder_layer", "qwen2_attention"),
        ("qwen3", "qwen3_decoder_layer", "qwen3_attention"),
        ("phi3", "phi3_decoder_layer", "phi3_attention"),
    ],
)
def test_each_family_calls_its_own_layer_in_every_mode_and_with_paging(name, layer, attention, features):
    model = resolved(name, features)
    for mode in ("prefill", "decode"):
        assert ops_of(model, mode)["layers"]["module"] == layer
        assert ops_of(resolved(layer, features), mode)["attention"]["module"] == attention
    desc = load_module(name, features)  # valid as a whole, with the feature on
    assert desc.name == name


def test_the_family_specific_patches_land_in_every_mode_and_in_the_paged_variant():
    for features in [(), ("paged",)]:
        qwen3 = resolved("qwen3_attention", features)
        for mode in ("prefill", "decode"):
            names = list(ops_of(qwen3, mode))
            assert names[names.index("create_heads") + 1 :][:4] == ["q_norm", "k_norm", "rotary_q", "rotary_k"]
            assert ops_of(qwen3, mode)["rotary_q"]["in"]["input"] == "q_normed"
            assert ops_of(resolved("qwen2_attention", features), mode)["wqkv"]["in"]["bias"] == "bqkv"
        phi3 = resolved("phi3", features)
        assert phi3["state"]["k_cache"]["shape"][-1] == "head_width"
        assert ops_of(phi3, "decode")["rope_cos"]["attrs"]["shape"] == [1, "rows", 1, "head_width"]
        assert ops_of(phi3, "prefill")["layers"]["bind"] == {
            "head_dim": "head_width",
            "checkpoint_head_dim": "head_dim",
        }
    assert list(resolved("qwen3_attention")["weights"]) == ["wqkv", "q_norm", "k_norm", "wo"]


def test_the_paged_feature_patches_ops_instead_of_restating_modes():
    for name in ("llama", "llama_decoder_layer", "llama_attention"):
        data, _ = read_module_lines(MODULE_DIR / f"{name}.yaml")
        assert "modes" not in data["features"]["paged"] and "patch" in data["features"]["paged"]
    attention = resolved("llama_attention", ("paged",))
    prefill, decode = ops_of(attention, "prefill"), ops_of(attention, "decode")
    assert prefill["sdpa"]["op"] == "sdpa_chunked" and "attrs" not in prefill["sdpa"]
    assert list(prefill["sdpa"]["in"]) == ["q", "k_cache", "v_cache", "page_table", "chunk_start"]
    assert prefill["cache_fill_k"]["in"] == {"cache": "k_cache", "input": "k_rot", "page_table": "chunk_pages"}
    assert decode["sdpa"]["in"]["page_table"] == "page_table"
    assert list(attention["modes"]["prefill"]["inputs"])[-3:] == ["page_table", "chunk_pages", "chunk_start"]
    llama = resolved("llama", ("paged",))
    assert list(llama["modes"]["prefill"]["inputs"]) == [
        "tokens",
        "rope_rows",
        "page_table",
        "chunk_pages",
        "chunk_start",
        "last_tile",
    ]  # what prefill_forward passes
    plain = resolved("llama_attention")
    assert ops_of(plain, "prefill")["sdpa"] == {
        "op": "sdpa",
        "name": "sdpa",
        "in": {"q": "q_rot", "k": "k_rot", "v": "v"},
        "out": "attn",
        "attrs": {"causal": True},
    }


# ---------------------------------------------------------------- extends from a user's folder


BLOCK = """name: {name}
extends: {base}
description: "mlp with relu, a bias-free fc2 and a residual"
params:
  activation: {{default: relu}}
weights:
  fc2_bias: null
ops:
  fc2: {{in: {{bias: null}}, out: y2}}
  residual: {{op: binary, in: {{a: x, b: y2}}, out: y, attrs: {{fn: add}}, after: fc2}}
outputs:
  y: {{shape: [1, 1, rows, in_features]}}
"""


@pytest.mark.parametrize("base", ["mlp", "../lib/my_mlp.yaml"])
def test_a_user_description_extends_a_built_in_or_a_path(tmp_path, base):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "my_mlp.yaml").write_text(
        (MODULE_DIR / "mlp.yaml").read_text().replace("name: mlp", "name: my_mlp")
    )
    (tmp_path / "mine").mkdir()
    path = write(tmp_path / "mine", "block", BLOCK.format(name="block", base=base))
    desc = load_module(path)
    assert [op.name for op in desc.ops] == ["fc1", "fc2", "residual"]
    assert "fc2_bias" not in desc.weights and desc.params["activation"].default == "relu"
    device, _ = load_device("n150")
    graph = expand(
        desc,
        {"in_features": 64, "hidden_features": 128, "out_features": 64},
        device,
        Hints(prefill_lens=[128], max_seq_len=128),
        near=path.parent,
    )
    assert [op.kind for op in graph.ops if op.mode == "prefill"] == ["linear", "linear", "binary"]
    assert base_files(path)[0].stem in ("mlp", "my_mlp")


def test_a_problem_a_patch_makes_is_on_the_patch_line_and_an_inherited_one_on_extends(tmp_path):
    text = BLOCK.format(name="block", base="mlp").replace("attrs: {fn: add}", "attrs: {fn: nope}")
    text += "  # removes a param the base's ops still use\n"
    text = text.replace("  activation: {default: relu}", "  activation: {default: relu}\n  hidden_features: null")
    path = write(tmp_path, "block", text)
    code, out = run_cli("validate", str(path))
    assert code == 2, out
    lines = text.splitlines()
    residual = next(i for i, l in enumerate(lines, 1) if l.strip().startswith("residual:"))
    extends = next(i for i, l in enumerate(lines, 1) if l.startswith("extends:"))
    assert f"block.yaml:{residual}: field 'ops.2.attrs.fn'" in out, out
    assert f"block.yaml:{extends}: field 'weights.fc1.shape.1': unknown param 'hidden_features'" in out, out


def test_a_description_extending_a_broken_one_says_so_once(tmp_path):
    write(
        tmp_path,
        "base",
        (MODULE_DIR / "mlp.yaml")
        .read_text()
        .replace("name: mlp", "name: base")
        .replace("in: {input: h, weight: fc2", "in: {input: hh, weight: fc2"),
    )
    path = write(tmp_path, "child", 'name: child\nextends: base\ndescription: "a child"\n')
    with pytest.raises(InputError) as err:
        load_module(path)
    assert "child.yaml:2: field 'extends': base 'base' has 1 problem" in str(err.value)


# ---------------------------------------------------------------- params from the caller, named expressions


CALLER = """name: caller
description: "calls mlp passing nothing through by hand"
params:
  in_features: {type: int, default: 64, doc: "width"}
  hidden_features: {type: int, default: 128, doc: "mlp width"}
  rows: {type: int, doc: "rows per call"}
derived:
  out_features: in_features
  doubled: hidden_features * 2
inputs:
  x: {shape: [1, 1, rows, in_features]}
outputs:
  y: {shape: [1, 1, rows, in_features]}
ops:
  - {op: call, name: block, module: mlp, BIND in: {x: x}, out: y}
"""


def _graph(tmp_path, text):
    path = write(tmp_path, "caller", text)
    device, _ = load_device("n150")
    return expand(load_module(path), {}, device, Hints(prefill_lens=[128], max_seq_len=128), near=tmp_path)


def test_callee_params_take_the_callers_same_named_params_and_named_expressions(tmp_path):
    implicit = _graph(tmp_path, CALLER.replace("BIND ", ""))
    explicit = _graph(
        tmp_path,
        CALLER.replace(
            "BIND ",
            "bind: {in_features: in_features, hidden_features: hidden_features, out_features: in_features, "
            "rows: rows}, ",
        ),
    )
    shapes = [(op.name, op.shape) for op in implicit.ops]
    assert shapes == [(op.name, op.shape) for op in explicit.ops]
    assert implicit.ops[0].shape.n == 128 and implicit.ops[1].shape.n == 64
    # an explicit bind still wins over the caller's param of the same name
    bound = _graph(tmp_path, CALLER.replace("BIND ", "bind: {hidden_features: doubled}, "))
    assert bound.ops[0].shape.n == 256


def test_a_named_expression_stands_for_its_value_wherever_a_param_may(tmp_path):
    text = CALLER.replace("BIND ", "").replace(
        "x: {shape: [1, 1, rows, in_features]}\noutputs", "x: {shape: [1, 1, rows, out_features]}\noutputs"
    )
    graph = _graph(tmp_path, text)
    assert graph.ops[0].shape.k == 64
    llama = resolved("llama")
    assert llama["derived"] == {"vocab_padded": "(vocab_size + 31) // 32 * 32"}
    assert "(vocab_size + 31)" not in (MODULE_DIR / "llama.yaml").read_text().split("derived:", 1)[1].split("\n", 3)[3]


def test_a_required_callee_param_is_satisfied_by_the_callers_param_of_that_name(tmp_path):
    code, out = run_cli("validate", str(write(tmp_path, "caller", CALLER.replace("BIND ", ""))))
    assert code == 0, out
    no_rows = CALLER.replace("BIND ", "").replace('  rows: {type: int, doc: "rows per call"}\n', "")
    no_rows = no_rows.replace("rows, in_features", "32, in_features")
    code, out = run_cli("validate", str(write(tmp_path, "caller", no_rows)))
    assert code == 2 and "param 'rows' has no default and must be bound" in out, out


def test_no_built_in_call_passes_a_param_through_under_its_own_name():
    passed = []
    for path in sorted(MODULE_DIR.glob("*.yaml")):
        data, _ = read_module_lines(path)
        for features in [()] + [(f,) for f in data.get("features", {})]:
            merged = with_features(data, features)
            lists = [merged.get("ops", [])] + [v.get("ops", []) for v in merged.get("modes", {}).values()]
            for step in (s for ops in lists for s in ops if s.get("op") == "call"):
                passed += [f"{path.name}: {step['name']}.{k}" for k, v in step.get("bind", {}).items() if k == v]
    assert passed == [], "callee params default to the caller's same-named ones: drop these binds"
