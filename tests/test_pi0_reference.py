"""The PI0 torch references (tttgen/checking/references/pi0.py) at tiny sizes: their state_dict keys, GemmaStack and
PI0ExpertLayer against transformers' own GemmaModel / GemmaDecoderLayer, PI0's masks and time embedding, and the
policy's denoise / sample_actions behaviour."""

import math

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from transformers.cache_utils import DynamicCache  # noqa: E402
from transformers.models.gemma.modeling_gemma import GemmaDecoderLayer  # noqa: E402

from tttgen.checking.references import pi0  # noqa: E402

STACK = dict(hidden=64, intermediate=128, heads=4, kv_heads=1, head_dim=16, layers=2, eps=1e-6, theta=1e4)
LAYER = dict(hidden=32, intermediate=64, heads=4, kv_heads=1, head_dim=16, eps=1e-6)
POLICY = dict(
    vision_width=32,
    vision_mlp=64,
    vision_heads=4,
    vision_layers=1,
    patch=14,
    image=28,
    width=64,
    mlp=128,
    layers=2,
    heads=4,
    kv_heads=1,
    head_dim=16,
    vocab=64,
    expert_width=32,
    expert_mlp=64,
    state_dim=32,
    action_dim=32,
    horizon=5,
    steps=4,
)
PROJECTIONS = ("state_proj", "action_in_proj", "action_time_mlp_in", "action_time_mlp_out", "action_out_proj")
LAYER_KEYS = [
    "input_layernorm.weight",
    "self_attn.q_proj.weight",
    "self_attn.k_proj.weight",
    "self_attn.v_proj.weight",
    "self_attn.o_proj.weight",
    "post_attention_layernorm.weight",
    "mlp.gate_proj.weight",
    "mlp.up_proj.weight",
    "mlp.down_proj.weight",
]


def informative(module, seed=0):
    """Norm weights (zero-initialised, i.e. scale 1) and biases perturbed, so a wrong norm or bias shows."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
    return module.eval()


def causal(rows):
    return torch.full((rows, rows), -1e9).triu(1)


def close(a, b, tol=1e-5):
    return torch.allclose(a, b, atol=tol, rtol=tol)


@pytest.fixture(scope="module")
def policy():
    torch.manual_seed(0)
    return informative(pi0.PI0Policy(**POLICY))


@pytest.fixture(scope="module")
def observation():
    gen = torch.Generator().manual_seed(1)
    pixels = torch.rand(2, 3, 28, 28, generator=gen) * 2 - 1
    tokens = torch.randint(0, 64, (6,), generator=gen)
    token_mask = torch.tensor([True, True, True, True, False, False])  # right-padded, as PaliGemma's tokenizer does
    state = torch.randn(32, generator=gen)
    noise = torch.randn(5, 32, generator=gen)
    return pixels, tokens, token_mask, state, noise


def test_gemma_stack_keys_are_flat_layers_and_norm():
    keys = set(pi0.GemmaStack(**STACK).state_dict())
    assert keys == {f"layers.{i}.{k}" for i in range(2) for k in LAYER_KEYS} | {"norm.weight"}


def test_gemma_model_takes_inputs_embeds_unscaled():
    """transformers 5.23 scales in embed_tokens (GemmaTextScaledWordEmbedding), not in GemmaModel.forward: so
    GemmaStack hands PI0's already scaled embeddings to GemmaModel as they are."""
    stack = informative(pi0.GemmaStack(**STACK))
    ids = torch.tensor([[3, 1, 4, 1, 5]])
    with torch.no_grad():
        by_ids = stack.model(input_ids=ids).last_hidden_state
        by_embeds = stack.model(inputs_embeds=stack.model.embed_tokens.weight[ids] * math.sqrt(64)).last_hidden_state
    assert close(by_ids, by_embeds)


def test_gemma_stack_with_causal_mask_equals_gemma_model():
    stack = informative(pi0.GemmaStack(**STACK))
    x = torch.randn(1, 7, 64)
    with torch.no_grad():
        want = stack.model(inputs_embeds=x).last_hidden_state  # transformers' default causal mask
        got = stack(x, torch.arange(7), causal(7)[None])
        got_flat = stack(x[0], torch.arange(7.0)[None, None], causal(7)[None, None])  # 2-D rows, float positions
    assert got.shape == (1, 7, 64) and close(got, want) and close(got_flat, want)


def test_gemma_stack_uses_the_given_mask():
    """Full attention differs from causal, and a key masked for every row does not reach any output."""
    stack = informative(pi0.GemmaStack(**STACK))
    x = torch.randn(1, 6, 64)
    full = torch.zeros(6, 6)
    no_last_key = full.clone()
    no_last_key[:, 5] = pi0.MASKED
    changed = x.clone()
    changed[0, 5] += 1.0
    with torch.no_grad():
        assert not close(stack(x, torch.arange(6), full), stack(x, torch.arange(6), causal(6)), 1e-3)
        a = stack(x, torch.arange(6), no_last_key)
        b = stack(changed, torch.arange(6), no_last_key)
    assert close(a[:, :5], b[:, :5]) and not close(a[:, 5], b[:, 5], 1e-3)


def test_expert_layer_keys():
    assert list(pi0.PI0ExpertLayer(**LAYER).state_dict()) == LAYER_KEYS


def rotary_tables(positions, head_dim=16):
    stack = pi0.GemmaStack(hidden=32, intermediate=64, heads=4, kv_heads=1, head_dim=head_dim, layers=1)
    return stack.rotary(positions)


def decoder_layer_like(layer):
    """transformers' GemmaDecoderLayer holding the expert layer's weights."""
    config = pi0.gemma_config(32, 64, 4, 1, 16, 1, 1e-6, 1e4)
    reference = GemmaDecoderLayer(config, 0).eval()
    reference.load_state_dict(layer.state_dict())
    return reference


def test_expert_layer_without_prefix_equals_gemma_decoder_layer():
    layer = informative(pi0.PI0ExpertLayer(**LAYER))
    reference = decoder_layer_like(layer)
    x = torch.randn(1, 6, 32)
    cos, sin = rotary_tables(torch.arange(3, 9))
    empty = torch.zeros(0, 16)
    with torch.no_grad():
        got = layer(x, cos, sin, causal(6)[None], empty, empty)
        want = reference(x, attention_mask=causal(6)[None, None], position_embeddings=(cos, sin))
    assert got.shape == (1, 6, 32) and close(got, want)


def test_expert_layer_with_prefix_equals_gemma_decoder_layer_over_a_cache():
    """With P cached keys / values: the same as GemmaDecoderLayer appending its suffix K/V to a DynamicCache that
    holds the prefix (the cache order PI0's denoise_step relies on)."""
    layer = informative(pi0.PI0ExpertLayer(**LAYER))
    reference = decoder_layer_like(layer)
    x = torch.randn(1, 4, 32)
    k_prefix, v_prefix = torch.randn(1, 1, 3, 16), torch.randn(1, 1, 3, 16)
    mask = torch.zeros(4, 7)
    mask[:, 1] = pi0.MASKED  # a padded prefix token
    cos, sin = rotary_tables(torch.arange(2, 6))
    cache = DynamicCache(config=pi0.gemma_config(32, 64, 4, 1, 16, 1, 1e-6, 1e4))
    cache.update(k_prefix, v_prefix, 0)
    with torch.no_grad():
        got = layer(x, cos, sin, mask[None], k_prefix[0, 0], v_prefix[0])
        want = reference(x, attention_mask=mask[None, None], position_embeddings=(cos, sin), past_key_values=cache)
    assert close(got, want)


def test_policy_keys(policy):
    vision = {f"vision.{k}" for k in transformers.SiglipVisionModel(policy.vision.config).state_dict()}
    layers = range(2)
    want = (
        vision
        | {"projector.weight", "projector.bias", "embed_tokens.weight", "language.norm.weight", "expert.norm.weight"}
        | {f"{stack}.layers.{i}.{k}" for stack in ("language", "expert") for i in layers for k in LAYER_KEYS}
        | {f"{n}.{p}" for n in PROJECTIONS for p in ("weight", "bias")}
    )
    keys = set(policy.state_dict())
    assert keys == want
    assert "vision.embeddings.patch_embedding.weight" in keys and not any(".head." in k for k in keys)
    assert tuple(policy.state_dict()["action_time_mlp_in.weight"].shape) == (32, 64)


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_time_embedding_matches_the_formula(t):
    dim, half = 16, 8
    periods = [4e-3 * (4.0 / 4e-3) ** (i / (half - 1)) for i in range(half)]
    t32 = float(torch.tensor(t, dtype=torch.float32))  # PI0's time is a float32 tensor
    want = [math.sin(2 * math.pi * t32 / p) for p in periods] + [math.cos(2 * math.pi * t32 / p) for p in periods]
    got = pi0.sinusoidal_time_embedding(torch.tensor(t), dim, 4e-3, 4.0)
    assert got.dtype == torch.float32 and close(got, torch.tensor(want), 1e-6)
    assert pi0.sinusoidal_time_embedding(torch.tensor([t, t]), dim).shape == (2, dim)


def test_embed_prefix_scales_language_only(policy, observation):
    pixels, tokens, token_mask, _, _ = observation
    with torch.no_grad():
        prefix, pad = policy.embed_prefix(pixels, tokens, token_mask)
        images = policy.projector(policy.vision(pixel_values=pixels).last_hidden_state).reshape(8, 64)
        language = policy.embed_tokens.weight[tokens] * math.sqrt(64)
    assert prefix.shape == (14, 64) and pad.tolist() == [True] * 12 + [False] * 2
    assert close(prefix[:8], images) and close(prefix[8:], language)


def test_suffix_positions_and_mask():
    pad = torch.tensor([True, True, False])
    positions, mask = pi0.suffix_positions_and_mask(pad, horizon=3)
    allowed = mask == 0
    assert positions.tolist() == [2, 3, 4, 5]
    assert allowed[:, :3].tolist() == [[True, True, False]] * 4  # real prefix only
    assert allowed[0, 3:].tolist() == [True, False, False, False]  # state: itself
    assert allowed[1:, 3:].all()  # actions: state and every action


def test_state_token_does_not_attend_actions(policy, observation):
    """Changing one action changes the actions' hidden states (and v) but not the state token's after layer 1."""
    pixels, tokens, token_mask, state, noise = observation
    changed = noise.clone()
    changed[2] += 1.0
    with torch.no_grad():
        prefix, pad = policy.embed_prefix(pixels, tokens, token_mask)
        kv = policy.prefix_kv(prefix, pad)
        a = policy.suffix_hidden(state, noise, torch.tensor(0.7), kv, pad, depth=1)
        b = policy.suffix_hidden(state, changed, torch.tensor(0.7), kv, pad, depth=1)
        v_a = policy.denoise(state, noise, torch.tensor(0.7), kv, pad)
        v_b = policy.denoise(state, changed, torch.tensor(0.7), kv, pad)
    assert close(a[0], b[0]) and not close(a[1:], b[1:], 1e-3)
    assert not close(v_a[0], v_b[0], 1e-4)  # an action other than the changed one sees it


def test_prefix_kv_real_tokens_as_with_the_sources_mask(policy, observation):
    """Padded rows stay finite; on real tokens the K/V equal those under L1/O3's mask (padded query rows blocked
    too: make_att_2d_masks' pad_2d), which only padded rows' own outputs could tell apart."""
    pixels, tokens, token_mask, _, _ = observation
    with torch.no_grad():
        prefix, pad = policy.embed_prefix(pixels, tokens, token_mask)
        kv = policy.prefix_kv(prefix, pad)
        sources = pi0.additive_mask(pad[None, :] & pad[:, None])
        kv_sources = policy.language.key_values(prefix, pi0.prefix_positions(pad), sources)
    assert all(k.shape == (1, 14, 16) and torch.isfinite(k).all() and torch.isfinite(v).all() for k, v in kv)
    for (k, v), (k2, v2) in zip(kv, kv_sources):
        assert close(k[:, :12], k2[:, :12]) and close(v[:, :12], v2[:, :12])


def test_denoise_depends_on_real_prefix_tokens_only(policy, observation):
    pixels, tokens, token_mask, state, noise = observation
    t = torch.tensor(0.5)
    with torch.no_grad():
        base = policy.embed_prefix(pixels, tokens, token_mask)
        v = policy.denoise(state, noise, t, policy.prefix_kv(*base), base[1])
        results = {}
        for name, index in (("real", 9), ("padded", 13)):
            changed = tokens.clone()
            changed[index - 8] = (changed[index - 8] + 1) % 64
            prefix, pad = policy.embed_prefix(pixels, changed, token_mask)
            results[name] = policy.denoise(state, noise, t, policy.prefix_kv(prefix, pad), pad)
    assert not close(results["real"], v, 1e-4)
    assert close(results["padded"], v)


def test_sample_actions_shape_determinism_and_step_count(policy, observation, monkeypatch):
    pixels, tokens, token_mask, state, noise = observation
    with torch.no_grad():
        a = policy.sample_actions(pixels, tokens, token_mask, state, noise)
        b = policy.sample_actions(pixels, tokens, token_mask, state, noise)
    assert a.shape == (5, 32) and torch.equal(a, b) and torch.isfinite(a).all() and not close(a, noise, 1e-3)
    calls = []
    denoise = policy.denoise
    monkeypatch.setattr(policy, "denoise", lambda *args: calls.append(float(args[2])) or denoise(*args))
    with torch.no_grad():
        policy.sample_actions(pixels, tokens, token_mask, state, noise, steps=10)
    assert len(calls) == 10 and calls[0] == 1.0 and abs(calls[-1] - 0.1) < 1e-5
