"""tttgen/render/weight_code.py: the emitted load-time transforms compute what each transform means.

Every test execs the generated statements on a small random checkpoint dict and compares with a result computed
here independently (slicing, index lists, the committed Llama package's own functions, rotation invariants).
"""

import ast
import math
from pathlib import Path

import black
import pytest

torch = pytest.importorskip("torch")

from tttgen.render.weight_code import host_weight_source, key_expression  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BLACK_MODE = black.Mode(line_length=120)


def run(lines, name, state, **variables):
    """Exec the generated statements as a weights.py would and return the tensor `name`."""
    for line in lines:
        assert line == line.strip() and len(ast.parse(line).body) == 1, line
    namespace = {"torch": torch, "state": state, **variables}
    exec("\n".join(lines), namespace)
    result = namespace[name]
    assert result.is_contiguous()
    return result


def generate_and_run(sources, transforms, state, name="w", **variables):
    return run(host_weight_source(name, sources, transforms), name, state, **variables)


def to_pair_order(weight, num_heads):
    """The Q/K row permutation of tttgen's hand-written Llama loader (before weights.py was generated from the
    description): per head, rotate-half order -> adjacent pairs. Frozen here as the reference."""
    out_features, in_features = weight.shape
    head_dim = out_features // num_heads
    return weight.reshape(num_heads, 2, head_dim // 2, in_features).transpose(1, 2).reshape(out_features, in_features)


def linear_weight(weight):
    """[out, in] -> ttnn's [1, 1, in, out], as the hand-written loader did."""
    return weight.transpose(0, 1).contiguous().reshape(1, 1, weight.shape[1], weight.shape[0])


def committed_llama_functions():
    return to_pair_order, linear_weight


def pair_order_rows(heads, head_dim):
    """Old row of each new row: per head, new rows 2j and 2j + 1 are rotate-half partners j and j + head_dim / 2."""
    half = head_dim // 2
    return [h * head_dim + s * half + j for h in range(heads) for j in range(half) for s in range(2)]


def rotate_half(y, cos, sin):
    """Hugging Face's rotary embedding of [tokens, heads, head_dim] (cos, sin: [heads, head_dim / 2])."""
    half = y.shape[-1] // 2
    first, second = y[..., :half], y[..., half:]
    return torch.cat([first * cos - second * sin, second * cos + first * sin], dim=-1)


def rotate_pairs(z, cos, sin):
    """rotary_embedding_llama's convention: element pairs (2j, 2j + 1) rotated by angle j."""
    even, odd = z[..., 0::2], z[..., 1::2]
    return torch.stack([even * cos - odd * sin, odd * cos + even * sin], dim=-1).flatten(-2)


# ---------------------------------------------------------------- each transform


def test_transpose_swaps_the_last_two_dims():
    matrix, stack = torch.randn(5, 7), torch.randn(2, 5, 7)
    state = {"m": matrix, "s": stack}
    assert torch.equal(generate_and_run([("m", [])], [{"kind": "transpose"}], state), matrix.T)
    assert torch.equal(generate_and_run([("s", [])], [{"kind": "transpose"}], state), stack.permute(0, 2, 1))


def test_rotary_permute_matches_the_committed_llama_package():
    to_pair_order, _ = committed_llama_functions()
    for heads, head_dim, in_features in ((4, 8, 16), (2, 64, 32), (1, 2, 3)):
        weight = torch.randn(heads * head_dim, in_features)
        got = generate_and_run([("q", [])], [{"kind": "rotary_permute", "heads": heads}], {"q": weight})
        assert torch.equal(got, to_pair_order(weight, heads))
        assert torch.equal(got, weight[pair_order_rows(heads, head_dim)])


def test_rotary_permute_of_a_bias_permutes_its_only_dim():
    bias = torch.randn(3 * 8)
    got = generate_and_run([("b", [])], [{"kind": "rotary_permute", "heads": 3}], {"b": bias})
    assert torch.equal(got, bias[pair_order_rows(3, 8)])


def test_pair_rotation_of_permuted_weights_is_rotate_half_of_the_original():
    """The real invariant: per head, rotating adjacent pairs of the permuted projection's output equals Hugging
    Face's rotate-half rotation of the original output (rows reordered), so attention scores are unchanged."""
    torch.manual_seed(0)
    heads, kv_heads, head_dim, hidden, tokens = 4, 2, 16, 32, 5
    wq = torch.randn(heads * head_dim, hidden, dtype=torch.float64)
    wk = torch.randn(kv_heads * head_dim, hidden, dtype=torch.float64)
    x = torch.randn(tokens, hidden, dtype=torch.float64)
    state = {"q": wq, "k": wk}
    wq_pair = generate_and_run([("q", [])], [{"kind": "rotary_permute", "heads": heads}], state)
    wk_pair = generate_and_run([("k", [])], [{"kind": "rotary_permute", "heads": kv_heads}], state)
    angle = torch.rand(tokens, 1, head_dim // 2, dtype=torch.float64) * 2 * math.pi  # per token and pair
    cos, sin = angle.cos(), angle.sin()

    def heads_of(y, n):
        return y.reshape(tokens, n, head_dim)

    q_hf = rotate_half(heads_of(x @ wq.T, heads), cos, sin)
    k_hf = rotate_half(heads_of(x @ wk.T, kv_heads), cos, sin)
    q_pair = rotate_pairs(heads_of(x @ wq_pair.T, heads), cos, sin)
    k_pair = rotate_pairs(heads_of(x @ wk_pair.T, kv_heads), cos, sin)
    in_head = pair_order_rows(1, head_dim)
    torch.testing.assert_close(q_pair, q_hf[..., in_head])
    torch.testing.assert_close(k_pair, k_hf[..., in_head])
    group = heads // kv_heads  # grouped-query attention: each kv head serves `group` q heads
    scores_hf = torch.einsum("thd,shd->hts", q_hf, k_hf.repeat_interleave(group, dim=1))
    scores_pair = torch.einsum("thd,shd->hts", q_pair, k_pair.repeat_interleave(group, dim=1))
    torch.testing.assert_close(scores_pair, scores_hf)


def test_reshape():
    bias = torch.randn(96)
    got = generate_and_run([("b", [])], [{"kind": "reshape", "shape": [1, 1, -1, 32]}], {"b": bias})
    assert got.shape == (1, 1, 3, 32) and torch.equal(got.flatten(), bias)


@pytest.mark.parametrize(
    "shape, padded",
    [((50, 70), (64, 96)), ((70,), (96,)), ((2, 33, 31), (2, 64, 32)), ((64, 32), (64, 32)), ((1,), (32,))],
)
def test_pad_to_tile_zero_pads_the_last_two_dims(shape, padded):
    tensor = torch.randn(shape)
    got = generate_and_run([("t", [])], [{"kind": "pad_to_tile"}], {"t": tensor})
    expected = torch.zeros(padded)
    expected[tuple(slice(0, n) for n in shape)] = tensor
    assert torch.equal(got, expected)


def test_pad_to_tile_when_a_reshape_fixed_the_rank():
    tensor = torch.randn(3, 20)
    for shape, padded in (([60], (64,)), ([3, 20], (32, 32))):
        transforms = [{"kind": "reshape", "shape": shape}, {"kind": "pad_to_tile"}]
        got = generate_and_run([("t", [])], transforms, {"t": tensor})
        expected = torch.zeros(padded)
        expected[tuple(slice(0, n) for n in shape)] = tensor.reshape(shape)
        assert torch.equal(got, expected)


def test_scale_multiplies_by_the_constant_written_with_repr():
    tensor = torch.randn(4, 4, dtype=torch.float64)
    lines = host_weight_source("w", [("t", [])], [{"kind": "scale", "value": 0.1}])
    assert "w = w * 0.1" in lines
    torch.testing.assert_close(run(lines, "w", {"t": tensor}), tensor * 0.1, rtol=0, atol=0)
    lines = host_weight_source("w", [("t", [])], [{"kind": "scale", "value": 3}])
    assert "w = w * 3.0" in lines
    assert torch.equal(run(lines, "w", {"t": tensor}), tensor * 3)


@pytest.mark.parametrize("axis, parts, index", [(0, 3, 0), (0, 3, 2), (1, 2, 1), (-1, 4, 3)])
def test_split_takes_one_of_equal_chunks(axis, parts, index):
    tensor = torch.randn(6, 8)
    size = tensor.shape[axis] // parts
    transforms = [{"kind": "split", "axis": axis, "parts": parts, "index": index}]
    got = generate_and_run([("t", [])], transforms, {"t": tensor})
    assert torch.equal(got, tensor.narrow(axis, index * size, size))


# ---------------------------------------------------------------- sources, keys, the whole chain


def test_fused_qkv_from_three_keys_matches_the_llama_package():
    """llama_attention.yaml's wqkv (per-key rotary_permute, concat, transpose) reproduces the committed package."""
    to_pair_order, linear_weight = committed_llama_functions()
    heads, kv_heads, head_dim, hidden = 4, 2, 8, 32
    state = {
        f"model.layers.{layer}.self_attn.{p}_proj.weight": torch.randn(n * head_dim, hidden)
        for layer in range(2)
        for p, n in (("q", heads), ("k", kv_heads), ("v", kv_heads))
    }
    sources = [
        ("model.layers.{i}.self_attn.q_proj.weight", [{"kind": "rotary_permute", "heads": heads}]),
        ("model.layers.{i}.self_attn.k_proj.weight", [{"kind": "rotary_permute", "heads": kv_heads}]),
        ("model.layers.{i}.self_attn.v_proj.weight", []),
    ]
    lines = host_weight_source("wqkv", sources, [{"kind": "concat", "axis": 0}, {"kind": "transpose"}], layer="layer")
    assert lines[0] == 'wqkv_part0 = state[f"model.layers.{layer}.self_attn.q_proj.weight"]'
    for layer in range(2):
        prefix = f"model.layers.{layer}.self_attn."
        wq = to_pair_order(state[prefix + "q_proj.weight"], heads)
        wk = to_pair_order(state[prefix + "k_proj.weight"], kv_heads)
        expected = linear_weight(torch.cat([wq, wk, state[prefix + "v_proj.weight"]], dim=0))[0, 0]
        assert torch.equal(run(lines, "wqkv", state, layer=layer), expected)


def test_several_sources_with_their_own_transforms_then_concat_and_more():
    a, b = torch.randn(3, 10), torch.randn(40)
    sources = [
        ("a", [{"kind": "transpose"}]),
        ("b", [{"kind": "reshape", "shape": [10, 4]}, {"kind": "scale", "value": 2.0}]),
    ]
    transforms = [{"kind": "concat", "axis": -1}, {"kind": "pad_to_tile"}]
    got = generate_and_run(sources, transforms, {"a": a, "b": b})
    expected = torch.zeros(32, 32)
    expected[:10, :3] = a.T
    expected[:10, 3:7] = b.reshape(10, 4) * 2
    assert torch.equal(got, expected)


def test_keys_with_and_without_the_layer_placeholder():
    assert key_expression("model.norm.weight") == '"model.norm.weight"'
    assert key_expression("model.layers.{i}.mlp.up_proj.weight") == 'f"model.layers.{i}.mlp.up_proj.weight"'
    assert key_expression("layers.{i}.w", layer="n") == 'f"layers.{n}.w"'
    state = {"layers.7.w": torch.randn(2, 2), "odd\"key'{x}\\": torch.randn(2, 2)}
    assert torch.equal(generate_and_run([("layers.{i}.w", [])], [], state, i=7), state["layers.7.w"])
    for template in ("odd\"key'{{x}}\\", "odd\"key'{{x}}\\{i}"):  # quotes, backslashes and escaped braces survive
        got = generate_and_run([(template, [])], [], {**state, "odd\"key'{x}\\7": state["odd\"key'{x}\\"]}, i=7)
        assert torch.equal(got, state["odd\"key'{x}\\"])


def test_output_is_deterministic_black_clean_and_ends_contiguous():
    sources = [("model.layers.{i}.a", [{"kind": "rotary_permute", "heads": 2}]), ("model.layers.{i}.b", [])]
    transforms = [
        {"kind": "concat", "axis": 0},
        {"kind": "pad_to_tile"},
        {"kind": "transpose"},
        {"kind": "scale", "value": 0.125},
        {"kind": "split", "axis": 0, "parts": 2, "index": 1},
        {"kind": "reshape", "shape": [1, 1, 32, -1]},
    ]
    lines = host_weight_source("weight", sources, transforms)
    assert lines == host_weight_source("weight", sources, transforms)
    assert lines[-1] == "weight = weight.contiguous()"
    source = "\n".join(lines) + "\n"
    assert black.format_str(source, mode=BLACK_MODE) == source


# ---------------------------------------------------------------- generation-time errors


def test_transpose_of_a_1d_tensor_is_refused():
    with pytest.raises(ValueError, match="transpose .*1-D"):
        host_weight_source("w", [("b", [])], [{"kind": "reshape", "shape": [64]}, {"kind": "transpose"}])
    with pytest.raises(ValueError, match="transpose .*1-D"):
        host_weight_source("w", [("b", [{"kind": "reshape", "shape": [-1]}, {"kind": "transpose"}])], [])


@pytest.mark.parametrize(
    "sources, transforms",
    [
        ([("a", [])], [{"kind": "concat", "axis": 0}]),  # one source: nothing to concatenate
        ([("a", []), ("b", [])], [{"kind": "transpose"}, {"kind": "concat", "axis": 0}]),  # not first
        ([("a", []), ("b", [])], []),  # several sources, no concat
        ([("a", [{"kind": "concat", "axis": 0}]), ("b", [])], [{"kind": "concat", "axis": 0}]),  # per source
        ([("a", []), ("b", [])], [{"kind": "concat", "axis": 0}, {"kind": "concat", "axis": 0}]),  # twice
    ],
)
def test_misplaced_concat_is_refused(sources, transforms):
    with pytest.raises(ValueError, match="concat"):
        host_weight_source("w", sources, transforms)


@pytest.mark.parametrize(
    "sources, transforms, message",
    [
        ([("q", [])], [{"kind": "transpose"}, {"kind": "rotary_permute", "heads": 2}], "before any transpose"),
        (
            [("q", [{"kind": "transpose"}]), ("k", [])],
            [{"kind": "concat", "axis": 0}, {"kind": "rotary_permute", "heads": 2}],
            "before any transpose",
        ),
        ([("q", [])], [{"kind": "rotary_permute", "heads": 0}], "positive"),
        ([("t", [])], [{"kind": "split", "axis": 0, "parts": 2, "index": 2}], "not one of 2 parts"),
        (
            [("t", [])],
            [{"kind": "reshape", "shape": [4]}, {"kind": "split", "axis": 1, "parts": 2, "index": 0}],
            "out of range",
        ),
        ([("t", [])], [{"kind": "reshape", "shape": [-1, -1]}], "more than one -1"),
        ([("t", [])], [{"kind": "scale", "value": float("inf")}], "finite"),
        ([("t", [])], [{"kind": "flip"}], "unknown transform"),
        ([("t", [])], [{"kind": "concat"}], "takes fields"),
        ([("layers.{n}.t", [])], [], "only the layer placeholder"),
        ([("layers.{i", [])], [], "checkpoint key"),
        ([], [], "no checkpoint key"),
    ],
)
def test_malformed_transforms_are_refused(sources, transforms, message):
    with pytest.raises(ValueError, match=message):
        host_weight_source("w", sources, transforms)


def test_variable_names_are_checked():
    for kwargs in ({"name": "class"}, {"name": "w-1"}, {"name": "state"}, {"name": "i"}, {"state": "a b"}):
        with pytest.raises(ValueError):
            host_weight_source(**{"name": "w", **kwargs}, sources=[("t", [])], transforms=[])


@pytest.mark.parametrize("axis", [0, 1])
def test_pad_heads_zero_pads_each_head_to_a_tile_multiple(axis):
    """16 heads of 24 -> 16 heads of 32 (Boltz-2's Pairformer attention), along the rows or the columns."""
    weight = torch.randn(384, 40) if axis == 0 else torch.randn(40, 384)
    got = generate_and_run([("w", [])], [{"kind": "pad_heads", "heads": 16, "axis": axis, "multiple": 32}], {"w": weight})
    heads = got.reshape(16, 32, 40) if axis == 0 else got.reshape(40, 16, 32).transpose(0, 1).transpose(1, 2)
    want = weight.reshape(16, 24, 40) if axis == 0 else weight.reshape(40, 16, 24).transpose(0, 1).transpose(1, 2)
    assert got.shape == ((512, 40) if axis == 0 else (40, 512))
    assert torch.equal(heads[:, :24], want) and not heads[:, 24:].any()


def test_pad_heads_of_a_bias():
    bias = torch.randn(768)
    got = generate_and_run([("b", [])], [{"kind": "pad_heads", "heads": 16, "axis": 0, "multiple": 32}], {"b": bias})
    assert got.shape == (1024,) and torch.equal(got.reshape(16, 64)[:, :48], bias.reshape(16, 48))


def test_scale_by_an_inverse_square_root():
    """An attention scale folded into the q weight: value / sqrt(rsqrt_of)."""
    weight = torch.randn(8, 8)
    got = generate_and_run([("w", [])], [{"kind": "scale", "value": 1.0, "rsqrt_of": 24}], {"w": weight})
    assert torch.allclose(got, weight / math.sqrt(24))
