"""Torch references for PI0 (the pi0 robot policy: PaliGemma prefix, Gemma action expert, flow matching), float32.

Built from transformers' own pieces (GemmaModel, GemmaDecoderLayer's RMSNorm / attention / MLP,
modeling_gemma.apply_rotary_pos_emb and eager_attention_forward, SiglipVisionModel) and plain torch; verification
passes the generated module's inputs positionally. No lerobot or openpi dependency.

Sources (public code, read through the code index; repository, path, commit):
- L1: huggingface/lerobot `lerobot/common/policies/pi0/modeling_pi0.py` @8a666badeab8 — PI0FlowMatching.embed_prefix,
  embed_suffix, sample_actions, denoise_step; create_sinusoidal_pos_embedding; make_att_2d_masks.
- L2: huggingface/lerobot `lerobot/common/policies/pi0/paligemma_with_expert.py` @04fb2a7241d3 — the per-layer joint
  attention of PaliGemma and the expert (shared K/V, fp32 softmax, big_neg -2.3819763e38, Gemma residuals),
  apply_rope (split-half, max_wavelength 1e4: the same tables as transformers' rotate_half convention).
- L3: huggingface/lerobot `src/lerobot/policies/pi0/modeling_pi0.py` @00f92df5d041 — the current port, on
  transformers 5 (get_image_features(...).pooler_output, i.e. the projector output, used unscaled).
- O1: Physical-Intelligence/openpi `src/openpi/models_pytorch/pi0_pytorch.py` @27b8a01b5a00 — the same flow;
  `_prepare_attention_masks_4d` = where(mask, 0, -2.3819763e38); Euler loop `while time >= -dt / 2`.
- O2: Physical-Intelligence/openpi `src/openpi/models_pytorch/gemma_pytorch.py` @4453eeed8c42 — the expert and VLM
  layers through modeling_gemma.apply_rotary_pos_emb and modeling_gemma.eager_attention_forward.
- O3: Physical-Intelligence/openpi `src/openpi/models/pi0.py` @6d5d11935e04 — the JAX original (make_attn_mask,
  posemb_sincos, embed_prefix / embed_suffix / sample_actions).
- transformers 5.23 (installed): models/gemma/modeling_gemma.py, models/siglip/modeling_siglip.py,
  models/paligemma/modeling_paligemma.py, masking_utils.py.

What the sources say (the choices below follow them):
- Image tokens are projector(SigLIP(pixels).last_hidden_state), NOT scaled. L1 multiplies get_image_features' output
  by sqrt(2048), but the transformers 4.x it ran on (its config says 4.48.1) divided the projector output by
  sqrt(text hidden) inside PaliGemma's get_image_features (`image_features / (config.text_config.hidden_size**0.5)`,
  as public copies of 4.5x's modeling_paligemma.py show), so the two cancel. O3 (JAX) uses the SigLIP tokens (its
  2048-wide head is the projector) as they are; L3, on transformers 5 whose get_image_features returns the projector
  output undivided (5.23: pooler_output), applies no scale either. O1 applies none on its patched transformers
  (transformers_replace, not read). Language tokens are embed_tokens(tokens) * sqrt(width) (L1, O1, O3 encode).
- transformers 5.23's GemmaModel does NOT multiply inputs_embeds by sqrt(hidden): the scale moved into
  GemmaTextScaledWordEmbedding (embed_tokens). So GemmaStack passes its (already scaled) input to GemmaModel as is.
- masking_utils._preprocess_mask_arguments returns a 4-D attention_mask unchanged ("already prepared 4D mask") and
  eager attention adds it to the scores, so an additive 4-D mask is the mask actually used.
- Prefix attention (L1/O3 make_attn_mask with ar_mask all 0): every token attends every real prefix token. The
  sources also block padded *query* rows (their rows become all big_neg, i.e. uniform); here padded rows attend the
  real tokens like the others. Padded keys are masked for every query, so real tokens' outputs and K/V (and
  everything the expert sees) are identical either way; padded rows just stay finite and meaningful.
- Suffix attention (ar_mask [1, 1, 0 x (horizon-1)]): the state token attends the real prefix and itself; action
  tokens attend the real prefix, the state and all actions. Suffix positions = (real prefix tokens) + arange(1 + H).
- Masked scores use the sources' big_neg, -2.3819763e38, added (a finite value: a fully masked row gives no NaN).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from transformers import GemmaConfig, GemmaModel, SiglipVisionConfig, SiglipVisionModel
from transformers.cache_utils import DynamicCache
from transformers.models.gemma.modeling_gemma import (
    GemmaDecoderLayer,
    GemmaRMSNorm,
    apply_rotary_pos_emb,
    eager_attention_forward,
)

MASKED = -2.3819763e38  # big_neg of L2 / O1 (gemma/modules.py in JAX)
MIN_PERIOD, MAX_PERIOD = 4e-3, 4.0  # the time embedding's periods (L1 embed_suffix, O3 embed_suffix)


def gemma_config(hidden, intermediate, heads, kv_heads, head_dim, layers, eps, theta, vocab=32) -> GemmaConfig:
    """A Gemma config with eager attention and PI0's activation; vocab tiny by default (PI0 keeps embed_tokens
    outside the stacks)."""
    return GemmaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        rms_norm_eps=eps,
        rope_parameters={"rope_type": "default", "rope_theta": float(theta)},
        hidden_act="gelu_pytorch_tanh",
        attn_implementation="eager",
    )


def additive_mask(allowed: torch.Tensor) -> torch.Tensor:
    """A boolean attention mask (True = attend) as the additive float32 mask the attention adds to its scores."""
    return torch.where(allowed, torch.tensor(0.0), torch.tensor(MASKED)).float()


def as_4d_mask(mask: torch.Tensor, rows: int) -> torch.Tensor:
    """An additive mask with any leading 1-dims as [1, 1, rows, keys] float32."""
    return mask.reshape(1, 1, rows, -1).float()


def blockwise_attention(ar_mask: torch.Tensor) -> torch.Tensor:
    """make_att_2d_masks without its padding term (L1; O3 make_attn_mask): i attends j iff cs[j] <= cs[i], cs =
    cumsum(ar_mask)."""
    cumsum = torch.cumsum(ar_mask.long(), dim=0)
    return cumsum[None, :] <= cumsum[:, None]


def prefix_positions(pad_mask: torch.Tensor) -> torch.Tensor:
    """Rotary positions of the prefix: cumsum(pad_mask) - 1 (L1 sample_actions, O3 sample_actions)."""
    return torch.cumsum(pad_mask.reshape(-1).long(), dim=0) - 1


def prefix_mask(pad_mask: torch.Tensor) -> torch.Tensor:
    """The prefix's additive mask [P, P]: every token attends every real prefix token (ar_mask all 0)."""
    pad = pad_mask.reshape(-1).bool()
    return additive_mask(pad[None, :].expand(pad.numel(), pad.numel()))


def suffix_positions_and_mask(pad_mask: torch.Tensor, horizon: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The suffix's rotary positions [1 + H] and additive mask [1 + H, P + 1 + H] (L1 denoise_step: prefix columns
    = the prefix pad mask, suffix columns = make_att_2d_masks with ar_mask [1, 1, 0 x (H - 1)])."""
    pad = pad_mask.reshape(-1).bool()
    rows = 1 + horizon
    ar = torch.tensor([1, 1] + [0] * (horizon - 1))
    allowed = torch.cat([pad[None, :].expand(rows, pad.numel()), blockwise_attention(ar)], dim=1)
    positions = pad.long().sum() + torch.arange(rows)
    return positions, additive_mask(allowed)


def sinusoidal_time_embedding(t, dim: int, min_period: float = MIN_PERIOD, max_period: float = MAX_PERIOD):
    """create_sinusoidal_pos_embedding (L1, O1; posemb_sincos in O3): [sin(2*pi*t/period), cos(...)] with periods
    geometric from min_period to max_period over dim/2 entries. The source computes the periods in float64 (its
    get_safe_dtype keeps float64 on CPU) and casts to t's float32; so does this. Scalar t -> [dim]; [n] -> [n, dim]."""
    if dim % 2 != 0:
        raise ValueError(f"dimension ({dim}) must be divisible by 2")
    time = torch.as_tensor(t, dtype=torch.float32)
    fraction = torch.linspace(0.0, 1.0, dim // 2, dtype=torch.float64)
    period = min_period * (max_period / min_period) ** fraction
    scaling_factor = 1.0 / period * 2 * math.pi
    sin_input = scaling_factor[None, :] * time.reshape(-1)[:, None]
    embedding = torch.cat([torch.sin(sin_input), torch.cos(sin_input)], dim=1).float()
    return embedding[0] if time.dim() == 0 else embedding


class GemmaStack(nn.Module):
    """transformers' GemmaModel (eager) over given embeddings, positions and additive mask.

    state_dict keys: layers.{i}.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm,
    mlp.{gate,up,down}_proj}.weight, norm.weight. The GemmaModel itself is held outside the module tree (its
    embed_tokens and rotary buffers are not keys); its layers and norm are this module's children.
    """

    def __init__(
        self, hidden=2048, intermediate=16384, heads=8, kv_heads=1, head_dim=256, layers=18, eps=1e-6, theta=1e4
    ):
        super().__init__()
        model = GemmaModel(gemma_config(hidden, intermediate, heads, kv_heads, head_dim, layers, eps, theta)).float()
        object.__setattr__(self, "model", model)  # not a child: its keys would nest under `model.`
        self.layers = model.layers
        self.norm = model.norm

    def rotary(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The model's own rotary tables (split-half, [c, c]) at `positions`: cos, sin [1, rows, head_dim]."""
        return self.model.rotary_emb(self.norm.weight, positions.reshape(1, -1).to(torch.long))

    def forward(self, x, positions, mask, slot=None):
        """x [1, rows, hidden] or [rows, hidden] (already scaled embeddings), positions [rows] (any leading 1-dims,
        int or float), mask additive [rows, rows] (any leading 1-dims) -> last_hidden_state [1, rows, hidden]
        (after the final norm). `slot` is the generated module's cache slot; unused here."""
        rows = positions.numel()
        out = self.model(
            inputs_embeds=x.reshape(1, rows, -1).float(),
            position_ids=positions.reshape(1, rows).to(torch.long),
            attention_mask=as_4d_mask(mask, rows),
            use_cache=False,
        )
        return out.last_hidden_state

    def key_values(self, x, positions, mask) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer the post-rotary keys and values [kv_heads, rows, head_dim] the same pass writes to a cache."""
        rows = positions.numel()
        cache = DynamicCache(config=self.model.config)
        self.model(
            inputs_embeds=x.reshape(1, rows, -1).float(),
            position_ids=positions.reshape(1, rows).to(torch.long),
            attention_mask=as_4d_mask(mask, rows),
            past_key_values=cache,
            use_cache=True,
        )
        return [(layer.keys[0], layer.values[0]) for layer in cache.layers]


def as_heads(t: torch.Tensor, kv_heads: int, head_dim: int) -> torch.Tensor:
    """Cached keys or values of kv_heads * P * head_dim elements (any layout with that order) as [1, kv_heads, P, d]."""
    return t.reshape(1, kv_heads, -1, head_dim).float()


class PI0ExpertLayer(nn.Module):
    """One action-expert Gemma layer attending the prefix's cached K/V plus its own suffix (L2's layer loop, O2's
    compute_layer_complete restricted to the expert, as in denoise_step with a KV cache).

    state_dict keys: input_layernorm.weight, self_attn.{q,k,v,o}_proj.weight, post_attention_layernorm.weight,
    mlp.{gate,up,down}_proj.weight (transformers' GemmaDecoderLayer's own modules: no biases, RMSNorm (1 + w),
    GemmaMLP with gelu_pytorch_tanh).
    """

    def __init__(self, hidden=1024, intermediate=4096, heads=8, kv_heads=1, head_dim=256, eps=1e-6):
        super().__init__()
        layer = GemmaDecoderLayer(gemma_config(hidden, intermediate, heads, kv_heads, head_dim, 1, eps, 1e4), 0)
        self.input_layernorm = layer.input_layernorm
        self.self_attn = layer.self_attn
        self.post_attention_layernorm = layer.post_attention_layernorm
        self.mlp = layer.mlp
        self.kv_heads, self.head_dim = kv_heads, head_dim

    def forward(self, x, cos, sin, mask, k_prefix, v_prefix):
        """x [1, S, hidden]; cos, sin [1, S, head_dim] (split-half tables at the suffix positions); mask additive
        [1, S, P + S]; k_prefix, v_prefix the prefix's post-rotary keys / values (kv_heads * P * head_dim elements,
        e.g. [P, d], [1, P, d], [kv_heads, P, d]) -> [1, S, hidden]."""
        hidden = self.input_layernorm.weight.numel()
        x = x.reshape(1, -1, hidden).float()
        rows = x.shape[1]
        cos, sin = cos.reshape(1, rows, self.head_dim).float(), sin.reshape(1, rows, self.head_dim).float()
        attn = self.self_attn
        h = self.input_layernorm(x)
        q = attn.q_proj(h).view(1, rows, -1, self.head_dim).transpose(1, 2)
        k = attn.k_proj(h).view(1, rows, -1, self.head_dim).transpose(1, 2)
        v = attn.v_proj(h).view(1, rows, -1, self.head_dim).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        # the cache holds the prefix first: keys = cat(prefix, suffix) along the sequence (L2 / O1 KV cache order)
        keys = torch.cat([as_heads(k_prefix, self.kv_heads, self.head_dim), k], dim=2)
        values = torch.cat([as_heads(v_prefix, self.kv_heads, self.head_dim), v], dim=2)
        out, _ = eager_attention_forward(attn, q, keys, values, as_4d_mask(mask, rows), scaling=attn.scaling)
        x = x + attn.o_proj(out.reshape(1, rows, -1))
        return x + self.mlp(self.post_attention_layernorm(x))


class PI0Expert(nn.Module):
    """The action expert's layers and final norm (keys layers.{i}.*, norm.weight); embed_tokens is unused in PI0."""

    def __init__(self, hidden, intermediate, heads, kv_heads, head_dim, layers, eps):
        super().__init__()
        self.layers = nn.ModuleList(
            PI0ExpertLayer(hidden, intermediate, heads, kv_heads, head_dim, eps) for _ in range(layers)
        )
        self.norm = GemmaRMSNorm(hidden, eps=eps)


class PI0Policy(nn.Module):
    """PI0 inference (L1 PI0FlowMatching / O1 PI0Pytorch / O3 Pi0) for one observation, float32, random weights.

    state_dict keys: vision.* (transformers' SiglipVisionModel: embeddings.patch_embedding.{weight,bias},
    embeddings.position_embedding.weight, encoder.layers.{i}.*, post_layernorm.*; no head), projector.{weight,bias}
    (PaliGemma's multi_modal_projector linear), embed_tokens.weight, language.layers.{i}.*, language.norm.weight
    (GemmaStack), expert.layers.{i}.* (PI0ExpertLayer), expert.norm.weight, state_proj, action_in_proj,
    action_time_mlp_in (its input is cat([action_emb, time_emb])), action_time_mlp_out, action_out_proj (each
    .weight and .bias). `layers` is both depths: expert layer i reads language layer i's K/V.
    """

    def __init__(
        self,
        *,
        vision_width=1152,
        vision_mlp=4304,
        vision_heads=16,
        vision_layers=27,
        patch=14,
        image=224,
        vision_eps=1e-6,
        width=2048,
        mlp=16384,
        layers=18,
        heads=8,
        kv_heads=1,
        head_dim=256,
        eps=1e-6,
        theta=1e4,
        vocab=257152,
        expert_width=1024,
        expert_mlp=4096,
        state_dim=32,
        action_dim=32,
        horizon=50,
        steps=10,
        min_period=MIN_PERIOD,
        max_period=MAX_PERIOD,
    ):
        super().__init__()
        self.width, self.expert_width = width, expert_width
        self.action_dim, self.horizon, self.steps = action_dim, horizon, steps
        self.min_period, self.max_period = min_period, max_period
        vision = SiglipVisionConfig(
            hidden_size=vision_width,
            intermediate_size=vision_mlp,
            num_hidden_layers=vision_layers,
            num_attention_heads=vision_heads,
            patch_size=patch,
            image_size=image,
            num_channels=3,
            layer_norm_eps=vision_eps,
            hidden_act="gelu_pytorch_tanh",
            vision_use_head=False,
            attn_implementation="eager",
        )
        self.vision = SiglipVisionModel(vision).float()
        self.projector = nn.Linear(vision_width, width)
        self.embed_tokens = nn.Embedding(vocab, width)
        self.language = GemmaStack(width, mlp, heads, kv_heads, head_dim, layers, eps, theta)
        self.expert = PI0Expert(expert_width, expert_mlp, heads, kv_heads, head_dim, layers, eps)
        self.state_proj = nn.Linear(state_dim, expert_width)
        self.action_in_proj = nn.Linear(action_dim, expert_width)
        self.action_time_mlp_in = nn.Linear(2 * expert_width, expert_width)
        self.action_time_mlp_out = nn.Linear(expert_width, expert_width)
        self.action_out_proj = nn.Linear(expert_width, action_dim)

    def embed_prefix(self, pixels, tokens, token_mask, image_mask=None):
        """pixels [images, 3, H, W] (in [-1, 1]), tokens [L] ints, token_mask [L] bools (True = real), image_mask
        [images] bools (default all real; PI0's empty cameras are False) -> prefix [P, width], pad mask [P].
        Images first, then language (L1/O1/O3 embed_prefix); image tokens unscaled, language * sqrt(width)."""
        features = self.vision(pixel_values=pixels.float()).last_hidden_state  # [images, N, vision_width]
        images, per_image = features.shape[:2]
        image_tokens = self.projector(features).reshape(images * per_image, self.width)
        if image_mask is None:
            image_mask = torch.ones(images, dtype=torch.bool)
        image_pad = image_mask.reshape(-1).bool().repeat_interleave(per_image)
        language = self.embed_tokens(tokens.reshape(-1).long()) * math.sqrt(self.width)
        return torch.cat([image_tokens, language]), torch.cat([image_pad, token_mask.reshape(-1).bool()])

    def prefix_kv(self, prefix, pad_mask) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The language layers over the prefix (prefix attention, positions cumsum(pad) - 1; L1 sample_actions'
        fill_kv_cache pass): per layer (k, v) post-rotary [kv_heads, P, head_dim]."""
        return self.language.key_values(prefix, prefix_positions(pad_mask), prefix_mask(pad_mask))

    def embed_suffix(self, state, x_t, t):
        """state [state_dim], x_t [horizon, action_dim], scalar t -> suffix [1 + horizon, expert_width]: the state
        token, then action_time_mlp_out(silu(action_time_mlp_in(cat([action_in_proj(x_t), time_emb])))) (L1/O1
        embed_suffix)."""
        state_token = self.state_proj(state.reshape(1, -1).float())
        actions = self.action_in_proj(x_t.reshape(-1, self.action_dim).float())
        time = sinusoidal_time_embedding(t, self.expert_width, self.min_period, self.max_period).expand_as(actions)
        fused = self.action_time_mlp_out(F.silu(self.action_time_mlp_in(torch.cat([actions, time], dim=-1))))
        return torch.cat([state_token, fused])

    def suffix_hidden(self, state, x_t, t, kv, pad_mask, depth=None):
        """The expert's hidden states [1 + horizon, expert_width] after `depth` layers (default all; before the
        final norm), the suffix attending the cached prefix (L1 denoise_step)."""
        positions, mask = suffix_positions_and_mask(pad_mask, self.horizon)
        cos, sin = self.language.rotary(positions)  # one rotary for both stacks (L2 apply_rope, O2 rotary_emb)
        h = self.embed_suffix(state, x_t, t)[None]
        for layer, (k, v) in list(zip(self.expert.layers, kv, strict=True))[:depth]:
            h = layer(h, cos, sin, mask, k, v)
        return h[0]

    def denoise(self, state, x_t, t, kv, pad_mask):
        """One velocity v_t [horizon, action_dim]: final expert norm, action_out_proj of the last horizon tokens."""
        h = self.expert.norm(self.suffix_hidden(state, x_t, t, kv, pad_mask))
        return self.action_out_proj(h[-self.horizon :])

    def sample_actions(self, pixels, tokens, token_mask, state, noise, steps=None, image_mask=None):
        """PI0's Euler loop (L1/O1 sample_actions): t from 1.0, dt = -1/steps (float32 tensors as the source),
        while t >= -dt/2: x += dt * v_t; t += dt. Returns the actions [horizon, action_dim]."""
        prefix, pad_mask = self.embed_prefix(pixels, tokens, token_mask, image_mask)
        kv = self.prefix_kv(prefix, pad_mask)
        dt = torch.tensor(-1.0 / (steps or self.steps), dtype=torch.float32)
        x_t = noise.reshape(self.horizon, self.action_dim).float()
        time = torch.tensor(1.0, dtype=torch.float32)
        while time >= -dt / 2:
            x_t = x_t + dt * self.denoise(state, x_t, time, kv, pad_mask)
            time = time + dt
        return x_t
