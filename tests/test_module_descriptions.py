"""Module descriptions (issue 8, step 1): built-ins validate; every kind of mistake is reported with its line,
all at once, exit 2 and no traceback; the shape-expression evaluator accepts only its small grammar."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tttgen.cli import cli
from tttgen.errors import InputError
from tttgen.ops.registry import REGISTRY
from tttgen.inputs.load import load_model
from tttgen.inputs.module import ExprError, eval_expr, load_module, module_names

BUILTINS = [
    "boltz2",
    "boltz2_diffusion_conditioning",
    "boltz2_diffusion_step",
    "boltz2_trunk",
    "boltz_adaln",
    "boltz_atom_attention_decoder",
    "boltz_atom_attention_encoder",
    "boltz_atom_bias_projection",
    "boltz_atom_key_mask",
    "boltz_atom_transformer",
    "boltz_atom_transformer_layer",
    "boltz_attention_pair_bias",
    "boltz_attention_with_bias",
    "boltz_conditioned_transition",
    "boltz_diffusion_transformer",
    "boltz_diffusion_transformer_layer",
    "boltz_msa_layer",
    "boltz_msa_module",
    "boltz_outer_product_mean",
    "boltz_pair_weighted_averaging",
    "boltz_pairformer_layer",
    "boltz_pairformer_module",
    "boltz_pairformer_no_seq_layer",
    "boltz_single_conditioning",
    "boltz_token_bias_projection",
    "boltz_transition",
    "boltz_triangle_attention_end",
    "boltz_triangle_attention_start",
    "boltz_triangle_mult_incoming",
    "boltz_triangle_mult_outgoing",
    "boltz_window_attention",
    "gemma2",
    "gemma2_attention",
    "gemma2_capped",
    "gemma2_capped_attention",
    "gemma2_capped_decoder_layer",
    "gemma2_decoder_layer",
    "gemma2_mlp",
    "gemma3",
    "gemma3_attention",
    "gemma3_decoder_layer",
    "gemma_decoder",
    "gemma_decoder_layer",
    "gemma_mlp",
    "llama",
    "llama_attention",
    "llama_bias",
    "llama_bias_attention",
    "llama_bias_decoder_layer",
    "llama_decoder_layer",
    "llama_mlp",
    "mistral",
    "mlp",
    "phi3",
    "phi3_attention",
    "phi3_decoder_layer",
    "phi3_mlp",
    "pi0",
    "pi0_expert_layer",
    "prenorm_encoder_layer",
    "qwen2",
    "qwen2_attention",
    "qwen2_decoder_layer",
    "qwen3",
    "qwen3_attention",
    "qwen3_decoder_layer",
    "rotary_half",
    "siglip_encoder_layer",
    "siglip_vision_tower",
]

# The built-in models (a checkpoint config_map): the Hugging Face families.
MODELS = ("gemma2", "gemma2_capped", "gemma3", "llama", "llama_bias", "mistral", "phi3", "qwen2", "qwen3")

TINY = """\
name: tiny
description: "a test module"
params:
  d: {type: int, default: 32, doc: "width"}
  rows: {type: int, default: 32, doc: "rows"}
inputs:
  x: {shape: [1, 1, rows, d]}
outputs:
  y: {shape: [1, 1, rows, d]}
weights:
  w: {shape: [d, d], key: "w.weight", transforms: [{kind: transpose}]}
ops:
  - {op: rms_norm, name: norm, in: {input: x}, out: h, attrs: {eps: 1.0e-5}}
  - {op: linear, name: proj, in: {input: h, weight: w}, out: y}
"""


def write(tmp_path, text, name="tiny"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def problems(tmp_path, text, name="tiny") -> str:
    with pytest.raises(InputError) as info:
        load_module(write(tmp_path, text, name))
    return info.value.render()


def edited(old: str, new: str) -> str:
    assert old in TINY
    return TINY.replace(old, new)


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_validates(name):
    module = load_module(name)
    assert module.name == name
    assert module.is_model == (name in MODELS)


def test_builtin_library_is_the_modules_folder():
    assert module_names() == BUILTINS


def _leaf_op_names(module_name: str, mode: str) -> list[str]:
    """Op names of a mode with calls expanded (one loop body, as the graph holds one layer's ops)."""
    module = load_module(module_name)
    steps = module.modes[mode].ops if mode in module.modes else module.ops
    names = []
    for step in steps:
        names += _leaf_op_names(step.module, mode) if step.op == "call" else [step.name]
    return names


@pytest.mark.parametrize("mode", ["prefill", "decode"])
def test_llama_description_lists_the_graph_ops(mode):
    """The description's leaf ops are the graph's device ops, in order; decode moves are derived by the builder
    and the rope tables are computed on the host, so neither is listed in the description."""
    from tttgen.build import build_graph
    from tttgen.inputs.hints import Hints
    from tttgen.inputs.load import load_device

    spec, _ = load_model("llama-3.2-1b")
    graph = build_graph(spec, load_device("n150")[0], Hints())
    key = "prefill_128" if mode == "prefill" else "decode"
    graph_ops = [op.name for op in graph.ops if op.mode_key == key and op.kind != "reshard"]
    described = [n for n in _leaf_op_names("llama", mode) if n != "rope"]
    assert described == graph_ops


def test_minimal_module_validates(tmp_path):
    module = load_module(write(tmp_path, TINY))
    assert [s.name for s in module.ops] == ["norm", "proj"] and module.ops[1].in_ == {"input": "h", "weight": "w"}


def test_unknown_field(tmp_path):
    text = problems(tmp_path, edited("  - {op: linear, name: proj,", "  - {op: linear, colour: red, name: proj,"))
    assert "tiny.yaml:14: field 'ops.1.colour': unknown field" in text


def test_wrong_type(tmp_path):
    text = problems(tmp_path, edited('default: 32, doc: "width"', 'default: "wide", doc: "width"'))
    assert "tiny.yaml:4: field 'params.d': default 'wide' is not a int" in text


def test_missing_field_named_under_its_parent(tmp_path):
    text = problems(tmp_path, edited('description: "a test module"\n', ""))
    assert "field 'description': required field is missing" in text


def test_unknown_op_kind_lists_allowed(tmp_path):
    text = problems(tmp_path, edited("{op: rms_norm,", "{op: rms_normal,"))
    assert "tiny.yaml:13: field 'ops.0.op': unknown op kind 'rms_normal' (allowed: binary, " in text
    assert "rms_norm" in text and "call)" in text


def test_unknown_attr_lists_the_kinds_attrs(tmp_path):
    text = problems(tmp_path, edited("attrs: {eps: 1.0e-5}", "attrs: {eps: 1.0e-5, epsilon: 2}"))
    assert "tiny.yaml:13: field 'ops.0.attrs.epsilon': unknown attr 'epsilon' of rms_norm (allowed: eps)" in text


def test_attr_value_outside_allowed(tmp_path):
    text = problems(tmp_path, edited("out: y}", "out: y, attrs: {activation: swish}}"))
    assert (
        "field 'ops.1.attrs.activation': 'swish' is not an allowed value nor a str param (allowed: none, relu" in text
    )


def test_missing_required_input_and_attr(tmp_path):
    text = problems(
        tmp_path, edited("in: {input: h, weight: w}", "in: {input: h}").replace("attrs: {eps: 1.0e-5}", "attrs: {}")
    )
    assert "field 'ops.1.in': linear needs input 'weight'" in text
    assert "field 'ops.0.attrs': rms_norm needs attr 'eps'" in text


def test_undefined_value(tmp_path):
    text = problems(tmp_path, edited("in: {input: h, weight: w}", "in: {input: hh, weight: w}"))
    assert "tiny.yaml:14: field 'ops.1.in.input': undefined value 'hh'" in text and "(allowed: h, w, x)" in text


def test_use_before_definition_and_duplicates(tmp_path):
    swapped = edited(
        "{op: rms_norm, name: norm, in: {input: x}, out: h", "{op: rms_norm, name: proj, in: {input: y}, out: x"
    )
    text = problems(tmp_path, swapped)
    assert "field 'ops.0.in.input': undefined value 'y'" in text
    assert "field 'ops.0.out': 'x' is already defined (by inputs)" in text
    assert "field 'ops.1.name': duplicate op name 'proj'" in text


def test_output_never_defined(tmp_path):
    text = problems(tmp_path, edited("out: y}", "out: z}"))
    assert "tiny.yaml:9: field 'outputs.y': output 'y' is not defined by any op" in text


def test_bad_shape_expression(tmp_path):
    text = problems(tmp_path, edited("x: {shape: [1, 1, rows, d]}", "x: {shape: [1, 1, rows, d ** 2]}"))
    assert (
        "tiny.yaml:7: field 'inputs.x.shape.3': 'd ** 2' uses Pow; only ints, param names, + - * // and parentheses"
        in text
    )


def test_unknown_param_in_shape(tmp_path):
    text = problems(tmp_path, edited("w: {shape: [d, d]", "w: {shape: [d, 2 * width]"))
    assert "tiny.yaml:11: field 'weights.w.shape.1': unknown param 'width' in '2 * width' (allowed: d, rows)" in text


def test_bad_transform_lists_the_vocabulary(tmp_path):
    text = problems(tmp_path, edited("[{kind: transpose}]", "[{kind: transpose}, {kind: rotate}]"))
    assert "tiny.yaml:11: field 'weights.w.transforms.1': unknown kind 'rotate' (allowed: 'transpose', 'concat'" in text


def test_transform_missing_argument_and_concat_rules(tmp_path):
    text = problems(
        tmp_path,
        edited(
            'key: "w.weight", transforms: [{kind: transpose}]',
            "keys: [a.weight, b.weight], transforms: [{kind: transpose}, {kind: split, axis: 0}]",
        ),
    )
    assert "field 'weights.w.transforms.1.parts': required field is missing" in text
    assert "field 'weights.w.transforms': 2 `keys` need a concat as the first transform" in text


def test_key_and_keys_are_exclusive(tmp_path):
    text = problems(tmp_path, edited('key: "w.weight",', 'key: "w.weight", keys: [a.weight],'))
    assert "field 'weights.w': give exactly one of `key`" in text


CALLER = """\
name: caller
description: "calls mlp"
params:
  d: {type: int, default: 64, doc: "width"}
inputs:
  x: {shape: [1, 1, 32, d]}
outputs:
  y: {shape: [1, 1, 32, d]}
ops:
  - op: call
    name: block
    module: MODULE
    bind: {in_features: d, hidden_features: 4 * d, out_features: d, rows: 32}
    in: {x: x}
    out: y
"""


def test_call_of_builtin_validates(tmp_path):
    module = load_module(write(tmp_path, CALLER.replace("MODULE", "mlp"), "caller"))
    assert module.ops[0].module == "mlp"


def test_unknown_called_module(tmp_path):
    text = problems(tmp_path, CALLER.replace("MODULE", "mpl"), "caller")
    assert "caller.yaml:12: field 'ops.0.module': unknown module 'mpl' (allowed: boltz2, boltz2_diffusion_conditioning, boltz2_diffusion_step, boltz2_trunk, boltz_adaln, " in text
    assert ", caller, gemma2, gemma2_attention, gemma2_capped, gemma2_capped_attention, gemma2_capped_decoder_layer, " in text
    assert ", gemma2_decoder_layer, gemma2_mlp, gemma3, gemma3_attention, " in text
    assert ", gemma3_decoder_layer, gemma_decoder, gemma_decoder_layer, gemma_mlp, llama, " in text


def test_call_resolves_the_files_own_directory_first(tmp_path):
    write(tmp_path, TINY)
    text = problems(tmp_path, CALLER.replace("MODULE", "tiny"), "caller")
    # tiny has params d and rows: the mlp binds are unknown to it.
    assert "field 'ops.0.bind.in_features': module 'tiny' has no param 'in_features' (allowed: d, rows)" in text


def test_bind_of_unknown_param_and_unbound_required_param(tmp_path):
    text = problems(tmp_path, CALLER.replace("MODULE", "mlp").replace(", rows: 32}", ", rowz: 32}"), "caller")
    assert "caller.yaml:13: field 'ops.0.bind.rowz': module 'mlp' has no param 'rowz'" in text
    assert "field 'ops.0.bind': module 'mlp' param 'rows' has no default and must be bound" in text


def test_bind_expression_uses_caller_params(tmp_path):
    text = problems(tmp_path, CALLER.replace("MODULE", "mlp").replace("4 * d", "4 * dim"), "caller")
    assert "field 'ops.0.bind.hidden_features': unknown param 'dim' in '4 * dim' (allowed: d)" in text


def test_call_inputs_and_outputs_match_the_callee(tmp_path):
    text = problems(tmp_path, CALLER.replace("MODULE", "mlp").replace("in: {x: x}", "in: {input: x}"), "caller")
    assert "field 'ops.0.in.input': module 'mlp' has no input 'input' (allowed: x)" in text
    assert "field 'ops.0.in': module 'mlp' needs input 'x'" in text


def test_cyclic_call(tmp_path):
    a = (
        CALLER.replace("name: caller", "name: ring_a")
        .replace("MODULE", "ring_b")
        .replace("bind: {in_features: d, hidden_features: 4 * d, out_features: d, rows: 32}", "bind: {d: d}")
    )
    write(tmp_path, a.replace("ring_a", "ring_b").replace("module: ring_b", "module: ring_a"), "ring_b")
    text = problems(tmp_path, a, "ring_a")
    assert "ring_a.yaml:12: field 'ops.0.module': cyclic call: ring_a -> ring_b -> ring_a" in text


def test_loop_indexes_state_by_its_var_only(tmp_path):
    text = CALLER.replace("MODULE", "mlp").replace(
        "in: {x: x}", "in: {x: x}\n    loop: {var: layer, count: d // 32, carry: {y: x}}"
    )
    load_module(write(tmp_path, text, "caller"))
    bad = text.replace("in: {x: x}", 'in: {x: "x[i]"}').replace("count: d // 32", "count: n_layers")
    out = problems(tmp_path, bad, "caller")
    assert "field 'ops.0.in.x': 'x[i]': only state and module inputs may be indexed, and only by the call's loop var" in out
    assert "field 'ops.0.loop.count': unknown param 'n_layers'" in out


def test_model_checkpoint_map_names_params(tmp_path):
    text = problems(tmp_path, TINY + "checkpoint:\n  format: huggingface\n  config_map: {hidden_size: width}\n")
    assert "tiny.yaml:17: field 'checkpoint.config_map.hidden_size': unknown param 'width' (allowed: d, rows)" in text


def test_several_mistakes_all_reported_in_file_order_with_lines(tmp_path):
    text = TINY.replace("  rows: {type: int", "  rows: {typo: 1, type: int")
    text = text.replace("[1, 1, rows, d]}\noutputs", "[1, 1, rows, d + q]}\noutputs")
    text = text.replace("{op: rms_norm,", "{op: rmsnorm,").replace(
        "in: {input: h, weight: w}", "in: {input: h, weight: ww}"
    )
    text = text.replace("[{kind: transpose}]", "[{kind: flip}]")
    out = problems(tmp_path, text)
    lines = out.splitlines()
    assert lines[0].endswith("tiny.yaml: 6 problems")
    found = [(line.split(":")[1], line.split("field ")[1].split(":")[0]) for line in lines[1:]]
    assert found == [
        ("5", "'params.rows.typo'"),
        ("7", "'inputs.x.shape.3'"),
        ("11", "'weights.w'"),  # no op reads it once ops.1 reads the misspelt ww
        ("11", "'weights.w.transforms.0'"),
        ("13", "'ops.0.op'"),
        ("14", "'ops.1.in.weight'"),
    ]


def test_cli_validate_module_and_exit_2_without_traceback(tmp_path):
    good = subprocess.run(
        [sys.executable, "-m", "tttgen", "validate", "modules/llama.yaml"], capture_output=True, text=True
    )
    assert good.returncode == 0 and "valid model description (llama)" in good.stdout
    path = write(
        tmp_path,
        TINY.replace("{op: rms_norm,", "{op: rmsnorm,").replace("attrs: {eps: 1.0e-5}", "attrs: {eps: 1.0e-5, e: 1}"),
    )
    bad = subprocess.run([sys.executable, "-m", "tttgen", "validate", str(path)], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stdout == ""
    assert bad.stderr.startswith(f"error: {path}: 1 problem\n") and "unknown op kind 'rmsnorm'" in bad.stderr


def test_cli_list_modules_json():
    result = CliRunner().invoke(cli, ["list", "modules", "--json"], catch_exceptions=False)
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert sorted(rows) == BUILTINS and rows["llama"]["kind"] == "model" and rows["mlp"]["kind"] == "module"
    assert rows["llama"]["params"]["num_hidden_layers"] == {"type": "int", "default": 16, "doc": "decoder layers"}
    assert rows["mlp"]["params"]["rows"]["default"] is None
    text = CliRunner().invoke(cli, ["list", "modules"], catch_exceptions=False).output
    assert "prenorm_encoder_layer (module):" in text and "    rows: int, required" in text


def test_expression_evaluator_grammar():
    env = {"a": 7, "b": 3}
    assert eval_expr("(a + 3) // 2 * b - 1", env) == 14
    assert eval_expr(12, env) == 12
    with pytest.raises(ExprError, match="unknown param 'c'"):
        eval_expr("a + c", env)
    with pytest.raises(ExprError, match="division by zero"):
        eval_expr("a // (b - 3)", env)


@pytest.mark.parametrize(
    "text",
    [
        "a ** 2",
        "a / 2",
        "-a",
        "a % 2",
        "f(a)",
        "a.real",
        "a[0]",
        "a if b else 1",
        "1.5",
        "'a'",
        "a < b",
        "[a]",
        "__import__('os')",
        "lambda: 1",
        "a; b",
        "True",
    ],
)
def test_expression_evaluator_refuses_everything_else(text):
    with pytest.raises(ExprError):
        eval_expr(text, {"a": 1, "b": 2})


def test_registry_kinds_declare_consistent_schemas():
    """Every variadic-output kind names an int attr; exactly-one groups name the kind's own inputs/attrs."""
    for kind in REGISTRY.values():
        if kind.variadic_outputs:
            assert kind.attr(kind.variadic_outputs).type == "int" and not kind.outputs
        for group in kind.exactly_one:
            assert all(kind.input(g) or kind.attr(g) for g in group), kind.name
        names = [p.name for p in kind.inputs] + [a.name for a in kind.attrs]
        assert len(names) == len(set(names)), kind.name


def test_a_caller_is_invalid_when_its_callee_is(tmp_path):
    write(tmp_path, TINY.replace("{op: rms_norm,", "{op: rmsnorm,"))
    caller = CALLER.replace("MODULE", "tiny").replace(
        "in_features: d, hidden_features: 4 * d, out_features: d, rows: 32", "d: d"
    )
    text = problems(tmp_path, caller, "caller")
    assert (
        f"caller.yaml:12: field 'ops.0.module': module 'tiny' has 1 problem(s): tttgen validate {tmp_path / 'tiny.yaml'}"
        in text
    )
