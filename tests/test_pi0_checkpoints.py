"""PI0 checkpoints in public layouts (modules/pi0.yaml `key_maps`): a lerobot-, openpi- or first-lerobot-keyed state
dict loads into the generated package (`load_weights(..., key_map=...)`) exactly as the same tensors under the
package's own keys do, and a checkpoint missing keys is refused with every missing key named at once.

The layouts are written here a second time, module by module, from their sources (the same ones modules/pi0.yaml
cites): huggingface/lerobot src/lerobot/policies/pi0/modeling_pi0.py (PI0Policy.model = PI0Pytorch, its
paligemma_with_expert.{paligemma, gemma_expert} and the suffix linears), Physical-Intelligence/openpi
src/openpi/models_pytorch/pi0_pytorch.py (the same tree without lerobot's `model.`), and the first lerobot port on
transformers 4.48 (PaliGemma's parts directly under `paligemma`). transformers 5's own PI0 loader
(PI0ForConditionalGeneration.from_pretrained, which reads lerobot's hub files) checks that table. Small dims, random
weights, no download.
"""

import tempfile
from pathlib import Path

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.verification import emulated, imported_package

torch = pytest.importorskip("torch")

SMALL = {
    "vision_width": 128,
    "vision_mlp": 256,
    "vision_heads": 2,
    "vision_head_dim": 64,
    "vision_layers": 1,
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
}
PREFIX = 2 * (112 // 14) ** 2 + 32

PALIGEMMA = "model.paligemma_with_expert.paligemma"
# the reference's (tttgen/checking/references/pi0.py) modules -> where each layout holds them
LAYOUTS = {
    "lerobot": {
        "vision": f"{PALIGEMMA}.model.vision_tower.vision_model",
        "projector": f"{PALIGEMMA}.model.multi_modal_projector.linear",
        "language": f"{PALIGEMMA}.model.language_model",
        "expert": "model.paligemma_with_expert.gemma_expert.model",
        "state_proj": "model.state_proj",
        "action_in_proj": "model.action_in_proj",
        "action_time_mlp_in": "model.action_time_mlp_in",
        "action_time_mlp_out": "model.action_time_mlp_out",
        "action_out_proj": "model.action_out_proj",
    },
    "lerobot_legacy": {
        "vision": f"{PALIGEMMA}.vision_tower.vision_model",
        "projector": f"{PALIGEMMA}.multi_modal_projector.linear",
        "language": f"{PALIGEMMA}.language_model.model",
        "expert": "model.paligemma_with_expert.gemma_expert.model",
        "state_proj": "model.state_proj",
        "action_in_proj": "model.action_in_proj",
        "action_time_mlp_in": "model.action_time_mlp_in",
        "action_time_mlp_out": "model.action_time_mlp_out",
        "action_out_proj": "model.action_out_proj",
    },
}
# where the hub files keep the tied token table: only as the language model's lm_head
LM_HEAD = {"lerobot": f"{PALIGEMMA}.lm_head.weight", "lerobot_legacy": f"{PALIGEMMA}.language_model.lm_head.weight"}


def reference_policy():
    from tttgen.checking.references.pi0 import PI0Policy
    from tttgen.checking.verification import informative_weights

    keys = (
        "vision_width",
        "vision_mlp",
        "vision_heads",
        "vision_layers",
        "image",
        "width",
        "mlp",
        "layers",
        "head_dim",
        "vocab",
        "expert_width",
        "expert_mlp",
    )
    torch.manual_seed(0)
    return informative_weights(PI0Policy(**{k: SMALL[k] for k in keys}).eval())


def own_state(reference):
    return {k: v.detach().clone() for k, v in reference.state_dict().items()}


def layout_state(reference, layout):
    """The reference's tensors as a checkpoint of `layout` writes them: each submodule's state dict under that
    layout's module path, the token table as lm_head only, plus the expert's lm_head no one reads."""
    if layout == "openpi":
        return {k.removeprefix("model."): v for k, v in layout_state(reference, "lerobot").items()}
    state = {}
    for module, path in LAYOUTS[layout].items():
        for key, tensor in getattr(reference, module).state_dict().items():
            state[f"{path}.{key}"] = tensor.detach().clone()
    state[LM_HEAD[layout]] = reference.embed_tokens.weight.detach().clone()
    state["model.paligemma_with_expert.gemma_expert.lm_head.weight"] = torch.zeros(SMALL["vocab"], 128)
    return state


@pytest.fixture(scope="module")
def package_files():
    p = plan(Request("pi0", "n150", params=tuple((k, str(v)) for k, v in SMALL.items())))
    return p, render_plan(p)


def with_package(package_files, run):
    p, files = package_files
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(Path(tmp), "pi0_checkpoints") as package:
            return run(ttnn, package, ttnn.open_device(device_id=0))


def host_tensors(ttnn, weights):
    """Every placed weight back on the host, by name (per-layer lists flattened)."""
    out = {}
    for name, value in weights.items():
        if isinstance(value, list):
            for i, layer in enumerate(value):
                out.update({f"{name}.{i}.{k}": ttnn.to_torch(t).float() for k, t in layer.items()})
        else:
            out[name] = ttnn.to_torch(value).float()
    return out


def test_the_test_layout_is_the_one_transformers_reads_from_lerobot_hub_files(tmp_path):
    """transformers 5's PI0ForConditionalGeneration.from_pretrained (its conversion rules read lerobot's hub PI0
    files) takes this test's lerobot-keyed file with no unexpected key, every tensor in the place its name says; only
    the action expert's unused token table is left missing (PI0 never embeds tokens in the expert)."""
    transformers = pytest.importorskip("transformers")
    if not hasattr(transformers, "PI0ForConditionalGeneration"):
        pytest.skip("this transformers has no PI0")
    from safetensors.torch import save_file

    reference = reference_policy()
    state = layout_state(reference, "lerobot")
    del state["model.paligemma_with_expert.gemma_expert.lm_head.weight"]
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "model.safetensors"))
    config = transformers.PI0Config(
        vlm_config={
            "model_type": "paligemma",
            "text_config": {
                "model_type": "gemma",
                "hidden_size": 256,
                "num_hidden_layers": 2,
                "intermediate_size": 512,
                "num_attention_heads": 8,
                "num_key_value_heads": 1,
                "head_dim": 64,
                "vocab_size": 64,
            },
            "vision_config": {
                "model_type": "siglip_vision_model",
                "hidden_size": 128,
                "intermediate_size": 256,
                "patch_size": 14,
                "image_size": 112,
                "num_hidden_layers": 1,
                "num_attention_heads": 2,
                "vision_use_head": False,
            },
            "projection_dim": 256,
            "image_token_id": 63,
        },
        dit_config={
            "model_type": "gemma",
            "hidden_size": 128,
            "num_hidden_layers": 2,
            "intermediate_size": 256,
            "num_attention_heads": 8,
            "num_key_value_heads": 1,
            "head_dim": 64,
        },
    )
    config.save_pretrained(tmp_path)
    model, info = transformers.PI0ForConditionalGeneration.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["unexpected_keys"], info["unexpected_keys"]
    assert set(info["missing_keys"]) <= {"model.dit.embed_tokens.weight"}, info["missing_keys"]
    assert not info.get("mismatched_keys"), info["mismatched_keys"]  # same shapes: the layout is renames only
    loaded = model.state_dict()
    pairs = {
        "model.vlm.vision_tower.encoder.layers.0.self_attn.q_proj.weight": reference.vision.encoder.layers[
            0
        ].self_attn.q_proj.weight,
        "model.vlm.vision_tower.embeddings.patch_embedding.weight": reference.vision.embeddings.patch_embedding.weight,
        "model.vlm.multi_modal_projector.linear.weight": reference.projector.weight,
        "model.vlm.language_model.embed_tokens.weight": reference.embed_tokens.weight,
        "model.vlm.language_model.layers.1.mlp.down_proj.weight": reference.language.layers[1].mlp.down_proj.weight,
        "model.vlm.language_model.norm.weight": reference.language.norm.weight,
        "model.dit.layers.1.self_attn.k_proj.weight": reference.expert.layers[1].self_attn.k_proj.weight,
        "model.dit.norm.weight": reference.expert.norm.weight,
        "embed_action_time.action_time_mlp_in.weight": reference.action_time_mlp_in.weight,
        "action_out_proj.bias": reference.action_out_proj.bias,
    }
    for key, want in pairs.items():
        assert torch.equal(loaded[key].float(), want.detach().float()), key


@pytest.mark.parametrize("layout", ["lerobot", "openpi", "lerobot_legacy"])
def test_a_public_layout_loads_the_same_device_weights(package_files, layout):
    """load_weights(key_map=layout) of the layout's state dict places every weight exactly as load_weights of the
    same tensors under the package's own keys."""
    reference = reference_policy()

    def run(ttnn, package, device):
        own = host_tensors(ttnn, package.weights.load_weights(device, own_state(reference)))
        mapped = host_tensors(
            ttnn, package.weights.load_weights(device, layout_state(reference, layout), key_map=layout)
        )
        return own, mapped

    own, mapped = with_package(package_files, run)
    assert sorted(own) == sorted(mapped)
    assert len(own) > 40
    for name in own:
        assert torch.equal(own[name], mapped[name]), name


def test_a_lerobot_checkpoint_runs_the_policy_as_its_own_keys_do(package_files):
    """The prefix call (SigLIP, projector, token table, Gemma layers into the KV cache) and one Euler step give the
    same outputs from the lerobot checkpoint as from the package's own keys."""
    reference = reference_policy()
    gen = torch.Generator().manual_seed(3)
    pixels = torch.nn.functional.pad(torch.rand(2, 112, 112, 3, generator=gen) * 2 - 1, (0, 5))
    tokens = torch.randint(0, SMALL["vocab"], (1, 32), generator=gen)
    prefix = (
        pixels,
        tokens,
        torch.arange(PREFIX).reshape(1, PREFIX),
        torch.zeros(1, 1, PREFIX, PREFIX),
        torch.zeros(()),
    )
    x_t, robot_state = torch.randn(1, 1, 64, 32, generator=gen), torch.randn(1, 1, 64, 32, generator=gen)
    step = torch.zeros(1, 1, 64, 32)
    step[..., 0] = 1.0
    positions, mask = torch.arange(PREFIX, PREFIX + 64).reshape(1, 64), torch.zeros(1, 1, 64, PREFIX + 64)

    def outputs(ttnn, package, device, state, key_map):
        model = package.Model(device, package.weights.load_weights(device, state, key_map=key_map))
        prefix_out = ttnn.to_torch(model.forward(*model.to_device(*prefix))).float()
        suffix = model.to_device_denoise_step(x_t, robot_state, step, positions, mask)
        x_next, _ = model.denoise_step(*suffix)
        return prefix_out, ttnn.to_torch(x_next).float()

    def run(ttnn, package, device):
        return (
            outputs(ttnn, package, device, own_state(reference), None),
            outputs(ttnn, package, device, layout_state(reference, "lerobot"), "lerobot"),
        )

    (own_prefix, own_x), (lerobot_prefix, lerobot_x) = with_package(package_files, run)
    assert own_prefix.abs().sum() > 0 and own_x.abs().sum() > 0
    assert torch.equal(own_prefix, lerobot_prefix)
    assert torch.equal(own_x, lerobot_x)


def test_a_checkpoint_missing_keys_is_refused_naming_every_one(package_files):
    """Planted: a lerobot file without one vision bias, with one expert layer's q_proj misnamed, and without the
    token table (neither embed_tokens nor lm_head): one KeyError names the three keys as lerobot spells them."""
    reference = reference_policy()
    state = layout_state(reference, "lerobot")
    gone = f"{PALIGEMMA}.model.vision_tower.vision_model.encoder.layers.0.mlp.fc1.bias"
    misnamed = "model.paligemma_with_expert.gemma_expert.model.layers.1.self_attn.q_proj.weight"
    del state[gone]
    state[misnamed.replace("q_proj", "query")] = state.pop(misnamed)
    del state[LM_HEAD["lerobot"]]

    def run(ttnn, package, device):
        with pytest.raises(KeyError) as err:
            package.weights.load_weights(device, state, key_map="lerobot")
        with pytest.raises(ValueError, match="allowed: lerobot, lerobot_legacy, openpi"):
            package.weights.load_weights(device, state, key_map="lerobot2")
        own = own_state(reference)
        del own["projector.bias"], own["language.layers.1.mlp.up_proj.weight"]
        with pytest.raises(KeyError) as own_err:
            package.weights.load_weights(device, own)
        return str(err.value), str(own_err.value)

    message, own_message = with_package(package_files, run)
    assert "lacks 3 key(s)" in message, message
    for key in (gone, misnamed, f"{PALIGEMMA}.model.language_model.embed_tokens.weight"):
        assert key in message, (key, message)
    assert "lacks 2 key(s)" in own_message and "projector.bias" in own_message, own_message
    assert "language.layers.1.mlp.up_proj.weight" in own_message
