"""Module-description features of issue 10, each pinned down with its positive and negative cases:

1. generated weights (`Weight.generate`): the printed torch code against independent torch (transformers' Gemma
   rotary embedding, PI0's sinusoidal time embedding, shift / one-hot / row-mask algebra), and their errors;
2. `Scale.sqrt_of` next to `rsqrt_of`;
3. `prefill_<param>` mode variants (one more prefill mode at rows = that param, with its own ops);
4. `sampler:` (a generated method running one mode `count` times on device) and its errors;
5. the cache_fill shape rule (more rows than the cache holds is a plan-time error naming both sizes);
6. input `example` kinds zeros / arange / causal (verification and the printed README agree);
7. per-loop weights: two looped calls in different modes each get their own per-layer list and count.

Descriptions are written to tmp_path and checked as tests/test_module_descriptions.py does: every error names its
file, line and field.
"""

import math
import re
import tempfile
from pathlib import Path

import pytest

from tttgen.errors import InputError
from tttgen.generate import Request, plan, render_plan
from tttgen.ops.registry import GRAPH, ShapeError
from tttgen.render.module import example_expression, host_weight_shapes
from tttgen.render.weight_code import generated_lines, host_weight_source
from tttgen.inputs.module import MODE_KEY, load_module, mode_variant, sized_variants, variant_key
from tttgen.checking.verification import emulated, example_input, imported_package

torch = pytest.importorskip("torch")


def write(folder: Path, text: str, name: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def problems(folder: Path, text: str, name: str) -> str:
    with pytest.raises(InputError) as info:
        load_module(write(folder, text, name))
    return info.value.render()


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the YAML text holding `needle` (the line an error about that field reports)."""
    (index,) = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return index


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


# ================================================================ 1. generated weights


def generated(**generator) -> "torch.Tensor":
    """Exec the statements weights.py runs for a generated weight (no checkpoint) and return the tensor."""
    lines = host_weight_source("w", [], [], generator=generator)
    namespace = {"torch": torch, "math": math}
    exec("\n".join(lines), namespace)
    result = namespace["w"]
    assert result.dtype == torch.float32 and result.is_contiguous()
    return result


def gemma_rotary(positions: int):
    """cos and sin of transformers' own GemmaRotaryEmbedding at positions 0 .. positions - 1 (head_dim 64, 1e4)."""
    from transformers import GemmaConfig
    from transformers.models.gemma.modeling_gemma import GemmaRotaryEmbedding

    config = GemmaConfig(
        head_dim=64,
        rope_theta=1e4,
        hidden_size=128,
        num_attention_heads=2,
        num_key_value_heads=1,
        intermediate_size=256,
        num_hidden_layers=1,
        vocab_size=32,
    )
    cos, sin = GemmaRotaryEmbedding(config)(torch.zeros(1, positions, 64), torch.arange(positions)[None])
    return cos[0], sin[0]


def test_rope_tables_match_transformers_gemma_rotary_embedding():
    """Row p of rope_cos / rope_sin is cos / sin of position p in Hugging Face's split-half layout (transformers
    computes in float32, the table in float64: they agree to float32 rounding of p * inv_freq)."""
    want_cos, want_sin = gemma_rotary(256)
    cos = generated(kind="rope_cos", theta=10000.0, head_dim=64, positions=256)
    sin = generated(kind="rope_sin", theta=10000.0, head_dim=64, positions=256)
    assert cos.shape == sin.shape == (256, 64)
    torch.testing.assert_close(cos, want_cos, atol=1e-4, rtol=0)
    torch.testing.assert_close(sin, want_sin, atol=1e-4, rtol=0)
    # a wrong base is visible at these positions
    assert (generated(kind="rope_cos", theta=500000.0, head_dim=64, positions=256) - want_cos).abs().max() > 0.1


def test_sinusoid_steps_row_i_is_the_time_embedding_at_t_1_plus_i_dt_and_rows_past_steps_are_zero():
    from tttgen.checking.references.pi0 import sinusoidal_time_embedding

    table = generated(kind="sinusoid_steps", steps=10, dt=-0.1, dim=128, min_period=0.004, max_period=4.0, rows=32)
    want = torch.stack([sinusoidal_time_embedding(1 + i * -0.1, 128) for i in range(10)])
    assert table.shape == (32, 128)
    torch.testing.assert_close(table[:10], want, atol=2e-4, rtol=0)
    assert torch.equal(table[10:], torch.zeros(22, 128))
    assert (table[1:10] - want[:9]).abs().max() > 0.5  # off by one step is far off


def test_shift_times_a_one_hot_is_the_one_hot_of_the_next_index():
    shift = generated(kind="shift", size=32)
    assert shift.shape == (32, 32)
    eye = torch.eye(32)
    for i in range(31):
        assert torch.equal(eye[i] @ shift, eye[i + 1]), i
    assert torch.equal(eye[31] @ shift, torch.zeros(32))  # the last index runs out
    # a whole selector (every row one-hot at 0) advanced three times selects index 3 in every row
    start = generated(kind="one_hot", rows=4, size=32, index=0)
    assert torch.equal(start @ shift @ shift @ shift, generated(kind="one_hot", rows=4, size=32, index=3))


def test_shift_by_moves_columns_right_and_rows_up_and_a_negative_by_the_other_way():
    """x @ shift(by) moves x's columns `by` to the right, shift(by) @ x its rows `by` up, dropping what passes an
    edge (Boltz's atom bias projections push each layer's heads along one weight with it); by 1 is the default."""
    x = torch.arange(32 * 32, dtype=torch.float32).reshape(32, 32)
    right4, left4 = generated(kind="shift", size=32, by=4), generated(kind="shift", size=32, by=-4)
    assert torch.equal(generated(kind="shift", size=32, by=1), generated(kind="shift", size=32))
    assert torch.equal((x @ right4)[:, 4:], x[:, :28]) and torch.equal((x @ right4)[:, :4], torch.zeros(32, 4))
    assert torch.equal((x @ left4)[:, :28], x[:, 4:]) and torch.equal((x @ left4)[:, 28:], torch.zeros(32, 4))
    assert torch.equal((right4 @ x)[:28], x[4:]) and torch.equal((left4 @ x)[4:], x[:28])
    with pytest.raises(ValueError, match="shift by 32"):
        generated(kind="shift", size=32, by=32)


def test_one_hot_is_one_at_index_in_every_row():
    table = generated(kind="one_hot", rows=5, size=32, index=7)
    want = torch.zeros(5, 32)
    want[:, 7] = 1.0
    assert torch.equal(table, want)
    assert torch.equal(generated(kind="one_hot", rows=1, size=32, index=0)[0], torch.eye(32)[0])


@pytest.mark.parametrize("begin, end", [(0, 50), (50, 51), (0, 64)])
def test_row_mask_is_one_in_rows_begin_to_end(begin, end):
    mask = generated(kind="row_mask", rows=64, width=96, begin=begin, end=end)
    assert mask.shape == (64, 96)
    rows = torch.arange(64)
    kept = (rows >= begin) & (rows < end)
    assert torch.equal(mask, kept[:, None].float().expand(64, 96))


def test_transforms_after_a_generator_apply_and_a_generator_reads_no_key():
    doubled = host_weight_source("w", [], [{"kind": "scale", "value": 2.0}], generator={"kind": "shift", "size": 4})
    namespace = {"torch": torch}
    exec("\n".join(doubled), namespace)
    assert torch.equal(namespace["w"], 2 * torch.diag(torch.ones(3), 1))
    with pytest.raises(ValueError, match="weight 'w': a generated weight reads no checkpoint key"):
        host_weight_source("w", [("w.weight", [])], [], generator={"kind": "shift", "size": 4})


@pytest.mark.parametrize(
    "generator, message",
    [
        (
            dict(kind="rope_cos", theta=1e4, head_dim=63, positions=8),
            "rotary head_dim 63 is not a positive even number",
        ),
        (dict(kind="rope_sin", theta=1e4, head_dim=0, positions=8), "rotary head_dim 0 is not a positive even number"),
        (dict(kind="row_mask", rows=64, width=32, begin=0, end=65), "row_mask rows [0, 65) are not inside [0, 64)"),
        (dict(kind="row_mask", rows=64, width=32, begin=-1, end=4), "row_mask rows [-1, 4) are not inside [0, 64)"),
        (dict(kind="row_mask", rows=64, width=32, begin=5, end=5), "row_mask rows [5, 5) are not inside [0, 64)"),
        (dict(kind="one_hot", rows=2, size=32, index=32), "one_hot index 32 is outside [0, 32)"),
        (
            dict(kind="sinusoid_steps", steps=40, dt=-0.1, dim=64, min_period=0.004, max_period=4.0, rows=32),
            "sinusoid_steps needs an even dim and steps <= rows",
        ),
        (
            dict(kind="sinusoid_steps", steps=10, dt=-0.1, dim=63, min_period=0.004, max_period=4.0, rows=32),
            "sinusoid_steps needs an even dim and steps <= rows",
        ),
    ],
)
def test_generators_that_cannot_be_right_are_refused_naming_the_weight(generator, message):
    with pytest.raises(ValueError) as info:
        generated_lines("w_table", generator, "weight 'table'")
    assert str(info.value) == f"weight 'table': {message}"


GEN = """\
name: gen
description: "a generated table"
params:
  width: {type: int, default: 64, doc: "width"}
  theta: {type: float, default: 10000.0, doc: "rotary base"}
  label: {type: str, default: "a", doc: "a name"}
  rows: {type: int, doc: "rows"}
inputs:
  x: {shape: [1, 1, 32, width]}
outputs:
  y: {shape: [1, 1, 32, width]}
weights:
  table: {shape: [32, width], generate: {kind: rope_cos, theta: theta, head_dim: width, positions: 32}, role: EMBEDDING}
ops:
  - {op: binary, name: keep, in: {a: x, b: table}, out: y, attrs: {fn: mul}}
"""
TABLE_LINE = line_of(GEN, "  table:")


def test_generated_weight_description_validates_and_plans_with_params_evaluated(tmp_path):
    module = load_module(write(tmp_path, GEN, "gen"))
    gen = module.weights["table"].generate
    assert (gen.kind, gen.theta, gen.head_dim, gen.positions) == ("rope_cos", "theta", "width", 32)
    graph = plan(Request(str(tmp_path / "gen.yaml"), "n150", params=(("theta", "500.0"),))).graph
    weight = graph.weight("table")
    assert dict(weight.generator).items() >= {"kind": "rope_cos", "theta": 500.0, "head_dim": 64, "positions": 32}.items()
    assert weight.hf_names == () and not weight.per_layer
    # an int param and a literal are numbers too
    load_module(write(tmp_path, edited(GEN, "theta: theta,", "theta: width,"), "gen"))
    load_module(write(tmp_path, edited(GEN, "theta: theta,", "theta: 100,"), "gen"))


def test_a_weight_with_both_key_and_generate_is_refused(tmp_path):
    text = problems(
        tmp_path, edited(GEN, "generate: {kind: rope_cos", 'key: "t.weight", generate: {kind: rope_cos'), "gen"
    )
    assert f"gen.yaml:{TABLE_LINE}: field 'weights.table': give exactly one of `key` (one checkpoint tensor), " in text
    assert "or `generate` (a constant computed at load time)" in text


def test_unknown_param_in_a_generator_field_lists_the_params(tmp_path):
    text = problems(tmp_path, edited(GEN, "positions: 32", "positions: max_positions"), "gen")
    assert (
        f"gen.yaml:{TABLE_LINE}: field 'weights.table.generate.positions': unknown param 'max_positions' in "
        "'max_positions' (allowed: label, rows, theta, width)" in text
    )
    text = problems(tmp_path, edited(GEN, "head_dim: width,", "head_dim: 2 * heads,"), "gen")
    assert "field 'weights.table.generate.head_dim': unknown param 'heads' in '2 * heads'" in text


@pytest.mark.parametrize("value", ["label", "base"])
def test_a_float_generator_field_naming_a_non_numeric_param_is_refused(tmp_path, value):
    """A str param and a name that is no param are both refused in a float field (theta, dt, periods)."""
    text = problems(tmp_path, edited(GEN, "theta: theta,", f"theta: {value},"), "gen")
    assert f"gen.yaml:{TABLE_LINE}: field 'weights.table.generate.theta': '{value}' is not a numeric param" in text


def test_unknown_generator_kind_and_missing_field(tmp_path):
    text = problems(
        tmp_path,
        edited(GEN, "{kind: rope_cos, theta: theta, head_dim: width, positions: 32}", "{kind: spiral, size: 3}"),
        "gen",
    )
    assert (
        f"gen.yaml:{TABLE_LINE}: field 'weights.table.generate': unknown kind 'spiral' (allowed: 'rope_cos', "
        "'rope_sin', 'sinusoid_steps', 'shift', 'one_hot', 'row_mask', 'window_keys')" in text
    )
    text = problems(
        tmp_path, edited(GEN, "{kind: rope_cos, theta: theta, head_dim: width, positions: 32}", "{kind: shift}"), "gen"
    )
    assert f"gen.yaml:{TABLE_LINE}: field 'weights.table.generate.size': required field is missing" in text


def _build_files(path: Path, **params) -> dict[str, str]:
    return render_plan(plan(Request(str(path), "n150", params=tuple((k, str(v)) for k, v in params.items()))))


@pytest.mark.parametrize(
    "generator, message",
    [
        (
            "{kind: rope_cos, theta: theta, head_dim: 63, positions: 32}",
            "generate.rope_cos: rotary head_dim 63 is not a positive even number",
        ),
        (
            "{kind: row_mask, rows: 32, width: width, begin: 0, end: 33}",
            "generate.row_mask: row_mask rows [0, 33) are not inside [0, 32)",
        ),
        (
            "{kind: one_hot, rows: 32, size: width, index: width}",
            "generate.one_hot: one_hot index 64 is outside [0, 64)",
        ),
    ],
)
def test_an_unprintable_generator_is_a_plan_time_input_error(tmp_path, generator, message):
    """Valid as written (the fields are params or numbers), wrong once evaluated: the plan refuses it (exit 2,
    no traceback) before render would."""
    path = write(
        tmp_path, edited(GEN, "{kind: rope_cos, theta: theta, head_dim: width, positions: 32}", generator), "gen"
    )
    load_module(path)
    with pytest.raises(InputError) as info:
        plan(Request(str(path), "n150"))
    text = info.value.render()
    assert "gen.yaml:" in text and message in text


def test_a_generated_weight_whose_declared_shape_differs_from_its_generator_is_refused(tmp_path):
    path = write(tmp_path, edited(GEN, "head_dim: width, positions: 32}", "head_dim: 32, positions: 64}"), "gen")
    with pytest.raises(InputError, match="table"):
        load_module(path)
        _build_files(path)


# ================================================================ 2. Scale.sqrt_of


def scaled(transform: dict) -> "torch.Tensor":
    lines = host_weight_source("w", [("w.weight", [])], [transform])
    namespace = {"torch": torch, "state": {"w.weight": torch.ones(2, 3)}}
    exec("\n".join(lines), namespace)
    return namespace["w"]


@pytest.mark.parametrize(
    "transform, factor",
    [
        ({"kind": "scale", "value": 1.0, "sqrt_of": 64}, 8.0),
        ({"kind": "scale", "value": 1.0, "rsqrt_of": 64}, 1 / 8.0),
        ({"kind": "scale", "value": 3.0, "rsqrt_of": 4, "sqrt_of": 16}, 6.0),
        ({"kind": "scale", "value": 2.0, "sqrt_of": None, "rsqrt_of": None}, 2.0),
    ],
)
def test_scale_multiplies_by_sqrt_of_and_divides_by_rsqrt_of(transform, factor):
    assert torch.equal(scaled(transform), torch.full((2, 3), factor))


def test_sqrt_of_in_a_description_is_evaluated_from_params(pi0_small):
    """PI0 folds Gemma's sqrt(width) embedding normalizer into its table: width 256 -> times 16."""
    graph, files = pi0_small
    (transform,) = graph.weight("embed_tokens").transforms
    assert dict(transform) == {"kind": "scale", "value": 1.0, "rsqrt_of": None, "sqrt_of": 256, "in_weight_dtype": False}
    assert "w_embed_tokens = w_embed_tokens * 16.0" in files["weights.py"]


SCALED = """\
name: scaled
description: "a linear whose weight is scaled by sqrt(width)"
params:
  width: {type: int, default: 64, doc: "width"}
  rows: {type: int, doc: "rows"}
inputs:
  x: {shape: [1, 1, rows, width]}
outputs:
  y: {shape: [1, 1, rows, width]}
weights:
  w: {shape: [width, width], key: "w.weight", transforms: [{kind: scale, sqrt_of: width}, {kind: transpose}], role: FF2}
ops:
  - {op: linear, name: proj, in: {input: x, weight: w}, out: y}
"""


def test_sqrt_of_takes_only_arithmetic_and_plan_refuses_an_unknown_param(tmp_path):
    assert load_module(write(tmp_path, SCALED, "scaled")).weights["w"].transforms[0].sqrt_of == "width"
    text = problems(tmp_path, edited(SCALED, "sqrt_of: width}", "sqrt_of: width ** 2}"), "scaled")
    assert "field 'weights.w.transforms.0.sqrt_of': 'width ** 2' uses Pow" in text
    path = write(tmp_path, edited(SCALED, "sqrt_of: width}", "sqrt_of: widht}"), "scaled")
    with pytest.raises(InputError, match=r"field 'weights\.w\.transforms\.0\.sqrt_of': unknown param 'widht'"):
        plan(Request(str(path), "n150"))


def test_validate_reports_an_unknown_param_in_sqrt_of_with_its_line(tmp_path):
    text = problems(tmp_path, edited(SCALED, "sqrt_of: width}", "sqrt_of: widht}"), "scaled")
    assert f"scaled.yaml:{line_of(SCALED, '  w: {')}: field 'weights.w.transforms.0.sqrt_of': unknown param" in text


# ================================================================ 3. prefill_<param> mode variants, 4. sampler

STEPPER = """\
name: stepper
description: "a prefill mode and a smaller step mode that a sampler repeats"
params:
  d: {type: int, default: 64, doc: "width"}
  small: {type: int, default: 32, doc: "rows of the step mode"}
  steps: {type: int, default: 3, doc: "sampler steps"}
  ratio: {type: float, default: 0.5, doc: "a float param"}
  rows: {type: int, doc: "rows"}
sizes: {param: rows, default: [128]}
inputs:
  x: {shape: [1, 1, rows, d]}
outputs:
  y: {shape: [1, 1, rows, d]}
weights:
  w: {shape: [d, d], key: "w.weight", transforms: [{kind: transpose}], role: FF1_FF3}
  shift: {shape: [d, d], generate: {kind: shift, size: d}, role: FF1_FF3}
  first: {shape: [small, d], generate: {kind: one_hot, rows: small, size: d, index: 0}, role: EMBEDDING}
modes:
  prefill:
    ops:
      - {op: linear, name: proj, in: {input: x, weight: w}, out: y}
  prefill_small:
    inputs:
      h: {shape: [1, 1, small, d]}
      s: {shape: [1, 1, small, d], example: zeros}
    outputs:
      h_next: {shape: [1, 1, small, d]}
      s_next: {shape: [1, 1, small, d]}
    ops:
      - {op: binary, name: accumulate, in: {a: h, b: s}, out: h_next, attrs: {fn: add}}
      - {op: linear, name: advance, in: {input: s, weight: shift}, out: s_next}
sampler:
  name: run_steps
  mode: prefill_small
  count: steps
  carry: {h_next: h, s_next: s}
  start: {s: first}
  returns: h_next
"""
# run_steps: h += s, s advances one-hot column by column: from h = 0, `steps` calls leave ones in columns 0..steps-1


@pytest.fixture(scope="module")
def stepper(tmp_path_factory):
    """The stepper description's path, plan and rendered files (default params)."""
    path = write(tmp_path_factory.mktemp("stepper"), STEPPER, "stepper")
    p = plan(Request(str(path), "n150"))
    return path, p, render_plan(p)


def test_mode_key_pattern():
    for key in ("prefill", "decode", "prefill_small", "prefill_suffix_2"):
        assert re.match(MODE_KEY, key), key
    for key in ("prefill_", "prefill_Small", "prefill_2x", "decode_small", "prefil"):
        assert not re.match(MODE_KEY, key), key


def test_sized_variants_pick_the_mode_key_by_rows(stepper):
    path, _, _ = stepper
    desc = load_module(path)
    env = {"d": 64, "small": 32, "steps": 3}
    assert sized_variants(desc) == {"prefill_small": "small"}
    assert variant_key(desc, "prefill", 32, env) == "prefill_small"
    assert variant_key(desc, "prefill", 128, env) == "prefill"
    assert variant_key(desc, "decode", 32, env) == "decode"  # sized variants are prefill modes only
    assert [s.name for s in mode_variant(desc, "prefill", 32, env).ops] == ["accumulate", "advance"]
    assert [s.name for s in mode_variant(desc, "prefill", 128, env).ops] == ["proj"]
    assert mode_variant(desc, "decode", 32, env) is None


def test_a_prefill_param_variant_builds_its_own_mode_with_its_own_ops_and_io(stepper):
    _, p, _ = stepper
    graph = p.graph
    io = graph.facts["io"]
    assert set(io) == {"prefill_32", "prefill_128"}
    assert graph.facts["mode_variants"] == {"prefill_32": "prefill_small", "prefill_128": "prefill"}
    assert io["prefill_32"]["inputs"] == {"h": [1, 1, 32, 64], "s": [1, 1, 32, 64]}
    assert io["prefill_32"]["outputs"] == {"h_next": [1, 1, 32, 64], "s_next": [1, 1, 32, 64]}
    assert io["prefill_128"]["inputs"] == {"x": [1, 1, 128, 64]} and io["prefill_128"]["outputs"] == {
        "y": [1, 1, 128, 64]
    }
    by_mode = {key: [op.name for op in graph.ops if op.mode_key == key] for key in io}
    assert by_mode == {"prefill_32": ["accumulate", "advance"], "prefill_128": ["proj"]}


def test_the_variant_follows_its_param(stepper):
    path, _, _ = stepper
    graph = plan(Request(str(path), "n150", params=(("small", "64"),))).graph
    assert graph.facts["mode_variants"] == {"prefill_64": "prefill_small", "prefill_128": "prefill"}
    assert graph.facts["io"]["prefill_64"]["inputs"]["h"] == [1, 1, 64, 64]


@pytest.mark.parametrize("param", ["tiny", "ratio"])
def test_prefill_of_a_name_that_is_not_an_int_param_is_refused_listing_the_int_params(tmp_path, param):
    text = problems(tmp_path, edited(STEPPER, "  prefill_small:", f"  prefill_{param}:"), "stepper")
    assert (
        f"stepper.yaml:{line_of(STEPPER, '  prefill_small:')}: field 'modes.prefill_{param}': '{param}' is not an int "
        "param: prefill_<param> runs at rows = it (allowed: d, rows, small, steps)" in text
    )


@pytest.mark.parametrize(
    "key, words",
    [
        ("decode_small", "mode name 'decode_small': names beginning `decode_` are refused"),
        ("prefill_Small", "mode name 'prefill_Small' is not a lowercase Python identifier"),
    ],
)
def test_other_mode_keys_are_refused_at_their_line(tmp_path, key, words):
    """A mode key is a conventional one or a chosen name (tests/test_mode_names.py): these are neither."""
    text = problems(tmp_path, edited(STEPPER, "  prefill_small:", f"  {key}:"), "stepper")
    assert f"stepper.yaml:{line_of(STEPPER, '  prefill_small:')}: field 'modes.{key}': {words}" in text


def sampler_problems(tmp_path, old: str, new: str) -> str:
    return problems(tmp_path, edited(STEPPER, old, new), "stepper")


def test_sampler_of_an_unknown_mode(tmp_path):
    text = sampler_problems(tmp_path, "mode: prefill_small", "mode: prefill_big")
    assert (
        f"stepper.yaml:{line_of(STEPPER, 'mode: prefill_small')}: field 'sampler.mode': unknown mode 'prefill_big' "
        "(allowed: prefill, prefill_small)" in text
    )


def test_sampler_carry_must_map_an_output_of_its_mode_to_an_input_of_its_mode(tmp_path):
    text = sampler_problems(tmp_path, "carry: {h_next: h, s_next: s}", "carry: {y: h, s_next: x}")
    line = line_of(STEPPER, "carry:")
    assert (
        f"stepper.yaml:{line}: field 'sampler.carry.y': 'y' is not an output of mode prefill_small "
        "(allowed: h_next, s_next)" in text
    )
    assert (
        f"stepper.yaml:{line}: field 'sampler.carry.s_next': 'x' is not an input of mode prefill_small (allowed: h, s)"
        in text
    )
    # the prefill mode's own input and output are not the step mode's
    assert "'h' is not an input" not in text


def test_sampler_start_names_an_input_and_a_known_weight(tmp_path):
    text = sampler_problems(tmp_path, "start: {s: first}", "start: {s: begin, x: first}")
    line = line_of(STEPPER, "start:")
    assert f"stepper.yaml:{line}: field 'sampler.start.s': unknown weight 'begin' (allowed: first, shift, w)" in text
    assert (
        f"stepper.yaml:{line}: field 'sampler.start.x': 'x' is not an input of mode prefill_small (allowed: h, s)"
        in text
    )


def test_sampler_returns_an_output_of_its_mode(tmp_path):
    text = sampler_problems(tmp_path, "returns: h_next", "returns: y")
    assert (
        f"stepper.yaml:{line_of(STEPPER, 'returns:')}: field 'sampler.returns': 'y' is not an output of mode "
        "prefill_small (allowed: h_next, s_next)" in text
    )


def test_sampler_count_names_params(tmp_path):
    text = sampler_problems(tmp_path, "count: steps", "count: stepz")
    assert f"stepper.yaml:{line_of(STEPPER, 'count: steps')}: field 'sampler.count': unknown param 'stepz'" in text


def test_a_sampler_repeats_a_mode_of_one_size(tmp_path):
    """`prefill` runs at every size of `sizes`: a sampler of it is refused at plan time."""
    text = STEPPER.replace("default: [128]}", "default: [128, 256]}").replace("mode: prefill_small", "mode: prefill")
    text = text.replace("carry: {h_next: h, s_next: s}", "carry: {y: x}").replace("  start: {s: first}\n", "")
    text = "\n".join(line for line in text.split("\n") if not line.startswith("  first: "))  # else never read
    path = write(tmp_path, text.replace("returns: h_next", "returns: y"), "stepper")
    load_module(path)
    with pytest.raises(InputError) as info:
        plan(Request(str(path), "n150"))
    assert "stepper.sampler.mode: mode 'prefill' runs at 2 sizes; a sampler repeats one" in info.value.render()


def test_sampler_renders_a_method_that_loops_count_times(stepper):
    _, p, files = stepper
    assert p.graph.facts["sampler"] == {
        "name": "run_steps",
        "mode_key": "prefill_32",
        "count": 3,
        "count_param": "steps",
        "carry": {"h_next": "h", "s_next": "s"},
        "start": {"s": "first"},
        "returns": "h_next",
        "doc": "",
    }
    model = files["model.py"]
    compile(model, "model.py", "exec")
    method = model[model.index("    def run_steps(") :]
    method = method[: method.index("return h\n") + len("return h\n")]
    assert "def run_steps(self, h, traced=False):" in method  # the started input is no argument; traced: one trace
    assert 's = self.w["first"]' in method
    assert "for _ in range(C.RUN_STEPS_COUNT):\n            h, s = self.prefill_32(h, s)" in method
    assert "RUN_STEPS_COUNT = 3" in files["configs.py"].splitlines()


def test_sampler_count_follows_its_param(stepper):
    path, _, _ = stepper
    files = _build_files(path, steps=5)
    assert "RUN_STEPS_COUNT = 5" in files["configs.py"].splitlines()


def test_sampler_runs_its_mode_count_times_on_the_emulator(stepper):
    """From h = 0: after 3 steps h holds ones in columns 0, 1, 2 of every row (the start one-hot, shifted each
    step): one step fewer or more, or a selector that never advances, gives other columns."""
    _, p, files = stepper
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(Path(tmp), "stepper_n150") as package:
            device = ttnn.open_device(device_id=0)
            model = package.Model(device, package.weights.load_weights(device, {"w.weight": torch.eye(64)}))
            h, _ = model.to_device_small(torch.zeros(1, 1, 32, 64), torch.zeros(1, 1, 32, 64))
            got = ttnn.to_torch(model.run_steps(h)).float().reshape(32, 64)
    want = torch.zeros(32, 64)
    want[:, :3] = 1.0
    assert torch.equal(got, want)


def test_a_sampler_named_like_a_model_method_is_refused(tmp_path):
    path = write(tmp_path, edited(STEPPER, "  name: run_steps", "  name: forward"), "stepper")
    with pytest.raises(InputError, match="forward"):
        load_module(path)
        _build_files(path)


# ================================================================ 5. the cache_fill shape rule

FILLER = """\
name: filler
description: "writes its keys into a KV cache"
params:
  cache_len: {type: int, default: 64, doc: "cache positions"}
  rows: {type: int, doc: "rows"}
sizes: {param: rows, default: [64]}
inputs:
  k: {shape: [1, 1, rows, 64]}
  slot: {shape: [], dtype: int32, example: zeros}
outputs:
  y: {shape: [1, 1, rows, 64]}
state:
  k_cache: {shape: [1, 1, cache_len, 64], kind: kv_cache}
modes:
  prefill:
    ops:
      - {op: cache_fill, name: fill, in: {cache: k_cache, input: k, slot: slot}}
      - {op: unary, name: copy, in: {input: k}, out: y, attrs: {fn: relu}}
"""


def test_cache_fill_of_as_many_rows_as_the_cache_holds_plans(tmp_path):
    graph = plan(Request(str(write(tmp_path, FILLER, "filler")), "n150")).graph
    (fill,) = [op for op in graph.ops if op.name == "fill"]
    assert fill.mode_key == "prefill_64" and dict(fill.facts) == {"num_kv_heads": 1, "head_dim": 64}


@pytest.mark.parametrize("params, rows, positions", [((("rows", "128"),), 128, 64), ((("cache_len", "32"),), 64, 32)])
def test_cache_fill_of_more_rows_than_the_cache_holds_is_a_plan_error_naming_both(tmp_path, params, rows, positions):
    """ttnn's fill_cache refuses it ("Fill update_idx (0) + input tensor height (1024) must be <= cache tensor
    height (544)"): the plan refuses it first, naming the op."""
    path = write(tmp_path, FILLER, "filler")
    with pytest.raises(InputError) as info:
        plan(Request(str(path), "n150", params=params))
    text = info.value.render()
    assert "filler.yaml:" in text and f"op 'fill' (cache_fill): writes {rows} rows into a cache of {positions} positions" in text


@pytest.mark.parametrize("kind", ["cache_fill", "cache_update"])
def test_cache_write_rule(kind):
    rule = GRAPH[kind]
    ports = {"cache": (1, 2, 544, 256), "slot": (), "positions": (32,)}
    assert rule.infer({**ports, "input": (1, 2, 544, 256)}, {}).facts == {"num_kv_heads": 2, "head_dim": 256}
    with pytest.raises(ShapeError, match=r"^writes 1024 rows into a cache of 544 positions$"):
        rule.infer({**ports, "input": (1, 2, 1024, 256)}, {})


# ================================================================ 6. input examples


@pytest.mark.parametrize("kind", ["zeros", "ones", "arange", "causal", "assign"])
@pytest.mark.parametrize("shape", [[1, 1, 6, 6], [1, 32], [1, 1, 64, 8]])
def test_example_input_and_the_printed_expression_agree(kind, shape):
    built = example_input(kind, shape, torch.Generator().manual_seed(0))
    printed = eval(example_expression(kind, shape), {"torch": torch})
    assert built.shape == printed.shape == tuple(shape) and built.dtype == printed.dtype
    assert torch.equal(built, printed)


def test_arange_counts_and_causal_masks_above_the_diagonal():
    assert torch.equal(example_input("arange", [1, 8], None), torch.arange(8).reshape(1, 8))
    mask = example_input("causal", [1, 1, 5, 5], None)[0, 0]
    rows, cols = torch.meshgrid(torch.arange(5), torch.arange(5), indexing="ij")
    assert torch.equal(mask[cols <= rows], torch.zeros(15))
    assert torch.equal(mask[cols > rows], torch.full((10,), -1e9))


def test_assign_gives_each_row_one_column_in_order():
    """Atoms to their tokens: 64 atoms over 8 tokens, 8 each, in order."""
    got = example_input("assign", [1, 1, 64, 8], None)[0, 0]
    assert torch.equal(got.sum(dim=1), torch.ones(64)) and torch.equal(got.sum(dim=0), torch.full((8,), 8.0))
    assert torch.equal(got.argmax(dim=1), torch.arange(64) // 8)


def test_randn_example_is_random_of_its_shape():
    assert example_expression("randn", [1, 1, 32, 64]) == "torch.randn([1, 1, 32, 64])"
    assert example_input("randn", [1, 1, 32, 64], torch.Generator().manual_seed(0)).shape == (1, 1, 32, 64)


def test_examples_reach_the_readme_and_unknown_kinds_are_refused(stepper, tmp_path):
    _, p, files = stepper
    assert p.graph.facts["io"]["prefill_32"]["examples"] == {"h": "randn", "s": "zeros"}
    assert "model.to_device_small(torch.randn([1, 1, 32, 64]), torch.zeros([1, 1, 32, 64]))" in files["README.md"]
    text = problems(tmp_path, edited(STEPPER, "example: zeros}", "example: eye}"), "stepper")
    assert (
        f"stepper.yaml:{line_of(STEPPER, 'example: zeros')}: field 'modes.prefill_small.inputs.s.example': "
        "Input should be 'randn', 'ones', 'zeros', 'arange', 'causal' or 'assign'" in text
    )


# ================================================================ 7. per-loop weights (PI0, small)

SMALL = {
    "vision_width": 128,
    "vision_mlp": 256,
    "vision_heads": 2,
    "vision_head_dim": 64,
    "vision_layers": 3,
    "image": 112,
    "width": 256,
    "mlp": 512,
    "layers": 2,
    "head_dim": 64,
    "vocab": 64,
    "expert_width": 128,
    "expert_mlp": 256,
    "rows": 160,
    "cache_len": 160,
}  # tests/test_pi0_policy.py's SMALL with 3 vision layers: each loop's count differs from the decoder's 2
LOOP_COUNTS = {"language": 2, "expert": 2, "layers": 3}  # pi0's two decoder loops, the vision tower's layer loop


@pytest.fixture(scope="module")
def pi0_small():
    p = plan(Request("pi0", "n150", params=tuple((k, str(v)) for k, v in SMALL.items())))
    return p.graph, render_plan(p)


def test_pi0_modes_variants_and_generated_weights(pi0_small):
    graph, _ = pi0_small
    assert graph.facts["mode_variants"] == {"denoise_step": "denoise_step", "prefix": "prefix"}
    assert {op.mode_key: (op.mode, op.seq) for op in graph.ops} == {
        "denoise_step": ("prefill", 64),
        "prefix": ("prefill", 160),
    }
    assert graph.facts["sampler"]["mode_key"] == "denoise_step" and graph.facts["sampler"]["count"] == 10
    assert dict(graph.weight("rope_cos").generator).items() >= {
        "kind": "rope_cos",
        "theta": 10000.0,
        "head_dim": 64,
        "positions": 1024,
        "convention": "half",
        "rope_type": "default",
    }.items()
    assert dict(graph.weight("state_row").generator) == {
        "kind": "row_mask",
        "rows": 64,
        "width": 128,
        "begin": 50,
        "end": 51,
    }


def test_pi0_package_methods_and_configs_carry_its_mode_names(pi0_small):
    """PI0 names its modes `prefix` and `denoise_step`: the classes' methods, configs classes, the entries and the
    sampler use them; no `prefill_<rows>` name is left."""
    _, files = pi0_small
    model, configs = files["model.py"], files["configs.py"]
    for method in ("def prefix(self, pixels, tokens, positions, mask, slot):",
                   "def denoise_step(self, x_t, robot_state, step, positions, mask):",
                   "def to_device_denoise_step(self, x_t, robot_state, step, positions, mask):",
                   "def prefix(self, x, cos, sin, mask, k_cache, v_cache, slot):",  # GemmaDecoderLayer
                   "def denoise_step(self, x, cos, sin, mask, k_prefix, v_prefix):"):  # Pi0ExpertLayer
        assert f"    {method}" in model, method
    assert "return self.prefix(pixels, tokens, positions, mask, slot)" in model
    assert "= self.denoise_step(x_t, robot_state, step, positions, mask)" in model
    assert "class Prefix:" in configs and "class DenoiseStep:" in configs
    assert "prefill_" not in model and "Prefill" not in configs


def test_host_weight_shapes_nest_each_loops_weights_under_its_call_with_its_own_count(pi0_small):
    graph, _ = pi0_small
    shapes = host_weight_shapes(graph)
    for attr, count in LOOP_COUNTS.items():
        layers = shapes[attr]
        assert isinstance(layers, list) and len(layers) == count, attr
        assert all(layer == layers[0] for layer in layers)
        assert sorted(layers[0]) == sorted(w.name for w in graph.weights if w.per_layer and w.loop == attr)
    assert all(name.startswith("language.") for name in shapes["language"][0])
    assert all(name.startswith("expert.") for name in shapes["expert"][0])
    assert shapes["language"][0]["language.wqkv"] == [1, 1, 256, 64 * (8 + 2 * 1)]
    assert shapes["expert"][0]["expert.wqkv"] == [1, 1, 128, 64 * (8 + 2 * 1)]
    per_layer = {w.name for w in graph.weights if w.per_layer}
    top = {k for k in shapes if k not in LOOP_COUNTS}
    assert top == {w.name for w in graph.weights if not w.per_layer} and not top & per_layer
    assert {(w.loop, w.loop_count) for w in graph.weights if w.per_layer} == set(LOOP_COUNTS.items())


def test_weights_py_loads_one_per_layer_list_per_loop(pi0_small):
    _, files = pi0_small
    weights, configs = files["weights.py"], files["configs.py"].splitlines()
    compile(weights, "weights.py", "exec")
    for attr, constant in (
        ("language", "LANGUAGE_LAYER_COUNT"),
        ("expert", "EXPERT_LAYER_COUNT"),
        ("layers", "LAYER_COUNT"),
    ):
        block = weights[weights.index(f'    weights["{attr}"] = [') :]
        block = block[: block.index("\n    ]\n")]
        assert f"for i in range(C.{constant})" in block, attr
        assert f"{constant} = {LOOP_COUNTS[attr]}" in configs
    assert 'state[f"language.layers.{i}.input_layernorm.weight"]' in weights
    assert 'state[f"expert.layers.{i}.input_layernorm.weight"]' in weights
    assert "def host_language_wqkv(state, i):" in weights and "def host_expert_wqkv(state, i):" in weights
    assert '    loops = (\n        "expert",\n        "language",\n        "layers",\n    )' in weights


def test_ops_in_loops_carry_their_loops_count(pi0_small):
    graph, _ = pi0_small
    weights = {w.name: w for w in graph.weights}
    for op in graph.ops:
        w = weights.get(op.weight)
        if w is not None and w.per_layer:
            assert op.facts["loop_count"] == LOOP_COUNTS[w.loop], op.name
        elif w is not None:
            assert "loop_count" not in op.facts, op.name
    counts = {op.name: op.facts.get("loop_count") for op in graph.ops}
    assert counts["language.attention"] == 2 and counts["language.mlp_add"] == 2 and counts["keys"] == 2
    assert counts["expert.attention"] == 2 and counts["expert.mlp.geglu"] == 2
    assert counts["fc1"] == 3 and counts["vision.layers.mlp_add"] == 3
    assert counts["euler_step"] is None and counts["language_norm"] is None and counts["prefix_tokens"] is None
    modes = {op.mode_key for op in graph.ops if op.name.startswith("expert.")}
    assert modes == {"denoise_step"} and {op.mode_key for op in graph.ops if op.name.startswith("language.")} == {
        "prefix"
    }


def test_a_step_mode_at_a_prefill_length_is_refused(tmp_path):
    """prefill_small at the rows of a `prefill` length would replace that mode: refused, naming both."""
    path = write(tmp_path, STEPPER, "stepper")
    with pytest.raises(InputError, match=r"prefill_small \(128\) runs at a prefill length of `prefill` too \(\[128\]\)"):
        plan(Request(str(path), "n150", params=(("small", "128"),)))


def test_a_carried_output_must_fit_the_input_it_feeds(tmp_path):
    """The sampler feeds h_next back as h: an h_next of another shape is refused at plan time."""
    text = edited(STEPPER, "      h: {shape: [1, 1, small, d]}", "      h: {shape: [1, 1, small, 2 * d]}")
    text = edited(text, "{op: binary, name: accumulate, in: {a: h, b: s}", "{op: slice, name: accumulate, in: {input: h}")
    text = edited(text, "out: h_next, attrs: {fn: add}}", "out: h_next, attrs: {begins: [0, 0, 0, 0], ends: [1, 1, small, d]}}")
    path = write(tmp_path, text, "stepper")
    with pytest.raises(InputError, match=r"output h_next \[1, 1, 32, 64\] cannot feed input h \[1, 1, 32, 128\]"):
        plan(Request(str(path), "n150"))
