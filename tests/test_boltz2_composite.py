"""Boltz-2 as one package (boltz2, issue 25): the trunk's recycling, the diffusion conditioning and the score
model's denoising step as three methods of one Model over one device and one state dict, run on the emulator the way
its usage runs them (one trunk call running recycling_steps + 1 iterations on device, s and z from zeros and
carried; the conditioning once; two denoising steps that replace only r_noisy and times while the conditioning's
outputs stay on device), next to boltz 2.2.1's own modules chained the same way (modules/boltz_references.py's
Boltz2: Boltz2TrunkStep, Boltz2DiffusionConditioning and Boltz2DiffusionStep under one root), small sizes with padded
tokens and atoms; and planted bugs that must fail: the recycled s not carried into the next trunk step (inside the
trunk: its s_recycle term dropped; at the repeated call: s or z not carried), the conditioning's z not reaching the
step's token biases, the step's token bias layers reversed."""

import sys
import tempfile
from pathlib import Path

import pytest
from boltz_cases import COMPOSITE_SMALL as SMALL, atom_pair_columns, uneven_atoms
from planted import planted

from tttgen.checking.verification import (
    RESIDUAL_INPUT_SCALE,
    emulated,
    imported_package,
    pcc,
    rendered_files,
    spread_weights,
)
from tttgen.generate import Request, plan
from tttgen.inputs.module import MODULE_DIR

torch = pytest.importorskip("torch")
pytest.importorskip("boltz.model.modules.diffusionv2", reason="boltz 2.2.1 and einx are installed by `make install`")

N, ATOMS, TOKEN_S, TOKEN_Z, MSA_ROWS, DEPTH, HEADS = 64, 512, 192, 32, 96, 4, 8
RECYCLING_STEPS = 2  # three trunk calls, s and z carried (the package's recycling_steps, SMALL)
TIMES = (0.37, 0.81)  # two denoising steps on the same conditioning


def reference():
    """boltz's modules under Boltz-2's paths, seeded weights spread as verify spreads them."""
    sys.path.insert(0, str(MODULE_DIR))
    try:
        from boltz_references import Boltz2
    finally:
        sys.path.remove(str(MODULE_DIR))
    torch.manual_seed(0)
    ref = spread_weights(
        Boltz2(
            token_s=TOKEN_S, token_z=TOKEN_Z, msa_s=32, num_blocks=2, msa_blocks=1, num_heads=8,
            pairwise_head_width=32, pairwise_num_heads=4, atom_s=128, atom_feature_dim=388, dim_fourier=256,
            atom_heads=4, encoder_depth=1, decoder_depth=1, token_heads=HEADS, token_depth=DEPTH, queries=32,
            keys=128,
        ).eval()
    )
    # the token layers' attention made loud enough to see in the coordinate update: their pair biases (from the
    # conditioned z) 4x and their output projection 8x; at the init scale the token transformer's attention moves the
    # update by about 0.05 % (PCC 0.9995 with every bias wrong), below bf16's rounding of the chain
    with torch.no_grad():
        for name, param in ref.named_parameters():
            if name.startswith("diffusion_conditioning.token_trans_proj_z.") and name.endswith(".1.weight"):
                param.mul_(4.0)
            if name.startswith("structure_module.score_model.token_transformer.") and ".pair_bias_attn.proj_o." in name:
                param.mul_(8.0)
    return ref


def padded_inputs(real_tokens: int, seed: int = 7):
    """One padded input: `real_tokens` of 64 real, each with 3 to 9 atoms, padded to 512 atoms; padded tokens'
    features zero, padded atoms' rows of atom_to_token zero, masks zero on the padding. As boltz takes them."""
    gen = torch.Generator().manual_seed(seed)
    owner, atom_to_token = uneven_atoms(real_tokens, ATOMS, N, gen)
    real_atoms = len(owner)
    tokens = (torch.arange(N) < real_tokens).float()
    pair = tokens[:, None] * tokens[None, :]
    atom_feats = torch.zeros(1, ATOMS, 416)
    # drawn small (as verify draws residual inputs): q, their projection, is the atoms' residual stream and the
    # update comes out of a LayerNorm of it; at unit scale it would show q passed through, not the tokens' share
    atom_feats[0, :real_atoms, :388] = torch.randn(real_atoms, 388, generator=gen) * RESIDUAL_INPUT_SCALE
    named = {
        "s_inputs": torch.randn(1, N, TOKEN_S, generator=gen) * tokens[:, None],
        "z_feats": torch.randn(1, N, N, TOKEN_Z, generator=gen) * pair[..., None],
        "msa": torch.randn(1, MSA_ROWS, N, 36, generator=gen) * tokens[:, None],
        "rel_pos": torch.randn(1, N, N, TOKEN_Z, generator=gen) * pair[..., None],
        "atom_feats": atom_feats,
        "atom_to_token": atom_to_token,
        "token_mask": tokens.reshape(1, N),
        "pair_mask": pair.reshape(1, N, N),
        "msa_mask": tokens.reshape(1, 1, N).expand(1, MSA_ROWS, N).clone(),
        "atom_mask": (torch.arange(ATOMS) < real_atoms).float().reshape(1, 1, ATOMS),
        **dict(zip(("ref_pos", "atom_uid", "atom_mask_column"), atom_pair_columns(owner, ATOMS, gen, first_uid=245))),
        "r_noisy": [torch.randn(1, ATOMS, 3, generator=gen) for _ in TIMES],
    }
    return named, real_atoms


def layers_first(stack: torch.Tensor) -> torch.Tensor:
    """The conditioning's atom stack [K, depth * 4, 32, 128] as the step's reference takes it: [depth, K, 4, 32, 128]."""
    return stack.reshape(stack.shape[0], -1, 4, 32, 128).transpose(0, 1)


def run_reference(ref, x):
    """boltz's chain: recycling, the conditioning on its s and z, one score-model call per time."""
    with torch.no_grad():
        s, z = ref.recycle(x["s_inputs"], x["z_feats"], x["msa"], x["token_mask"], x["pair_mask"], x["msa_mask"],
                           RECYCLING_STEPS)
        z_cond, q, c, stack, enc, dec = ref.condition(
            s, z, x["rel_pos"], x["atom_feats"], x["atom_to_token"], x["ref_pos"], x["atom_uid"], x["atom_mask_column"]
        )
        per_layer = stack.reshape(1, DEPTH, HEADS, N, N).permute(1, 0, 2, 3, 4)  # [depth, 1, heads, n, n]
        updates = [
            ref.denoise_step(x["s_inputs"], s, r, torch.tensor([t]), x["atom_mask"], x["atom_to_token"], q, c,
                             layers_first(enc), layers_first(dec), per_layer, x["token_mask"])
            for r, t in zip(x["r_noisy"], TIMES)
        ]
    return {"s": s, "z": z, "z_cond": z_cond, "q": q, "c": c, "token_trans_bias": stack, "r_update": updates}


def run_package(package, ttnn, state, x):
    """The package's chain as its usage runs it: one load, one trunk call (its recycling_steps + 1 iterations on
    device, s and z starting from zeros and fed back), the conditioning once, denoising steps replacing only
    r_noisy and times."""
    rows = lambda t: t.reshape(1, 1, *t.shape[-2:])  # noqa: E731
    device = ttnn.open_device(device_id=0)
    model = package.Model(device, package.weights.load_weights(device, state))
    msa = torch.nn.functional.pad(x["msa"], (0, 64 - 36))  # 36 features zero-padded to whole tiles
    token_mask = x["token_mask"].reshape(1, 1, 1, N)
    s_inputs, z_feats, msa_d, mask = model.to_device(rows(x["s_inputs"]), x["z_feats"], msa, token_mask)
    s, z = model.trunk(s_inputs, z_feats, msa_d, mask)  # the whole recycling
    condition_inputs = model.to_device_condition(
        torch.zeros(1, 1, N, TOKEN_S), torch.zeros(1, N, N, TOKEN_Z), x["rel_pos"], rows(x["atom_feats"]),
        rows(x["atom_to_token"]), x["ref_pos"], x["atom_uid"] % 256, x["atom_mask_column"],
    )[2:]
    # the bias stacks come back one tensor per layer
    z_cond, q, c, biases, enc, dec = model.condition(s, z, *condition_inputs)
    inputs = list(
        model.to_device_denoise_step(
            rows(x["s_inputs"]), torch.zeros(1, 1, N, TOKEN_S), torch.zeros(1, 1, ATOMS, 32), torch.zeros(1, 1, 32, 32),
            token_mask, x["atom_mask"].reshape(1, 1, 1, ATOMS), rows(x["atom_to_token"]), torch.zeros(1, 1, ATOMS, 128),
            torch.zeros(1, 1, ATOMS, 128), torch.zeros(1, ATOMS // 32, 4, 32, 128), torch.zeros(1, ATOMS // 32, 4, 32, 128),
            torch.zeros(DEPTH, 1, HEADS, N, N),
        )
    )
    # the trunk's and the conditioning's, on device
    inputs[1], inputs[7], inputs[8], inputs[9], inputs[10], inputs[11] = s, q, c, enc, dec, biases
    updates = []
    for r, t in zip(x["r_noisy"], TIMES):
        times = torch.zeros(1, 1, 32, 32)
        times[0, 0, 0, 0] = t
        inputs[2] = ttnn.from_torch(rows(torch.nn.functional.pad(r, (0, 29))), dtype=ttnn.bfloat16,
                                    layout=ttnn.TILE_LAYOUT, device=device)
        inputs[3] = ttnn.from_torch(times, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
        updates.append(ttnn.to_torch(model.denoise_step(*inputs)).float())
    host = lambda t: ttnn.to_torch(t).float()  # noqa: E731
    return {"s": host(s), "z": host(z), "z_cond": host(z_cond), "q": host(q), "c": host(c),
            "token_trans_bias": torch.cat([host(b) for b in biases], dim=1), "r_update": updates}


_RUNS: dict = {}


def composite_pccs(real_tokens: int = 50, edit_files=None, device: str = "n150") -> dict:
    """PCC of every intermediate the host sees and of each step's coordinate update against boltz's chain, real
    tokens (pairs) and real atoms only."""
    key = (real_tokens, device)
    if key not in _RUNS:
        p = plan(Request("boltz2", device, params=SMALL))
        ref = reference()
        x, real_atoms = padded_inputs(real_tokens)
        want = run_reference(ref, x)
        _RUNS[key] = (p, {k: v.detach().clone() for k, v in ref.state_dict().items()}, x, real_atoms, want)
    p, state, x, real_atoms, want = _RUNS[key]
    files = rendered_files(p, edit_files)
    with tempfile.TemporaryDirectory(prefix="tttgen-test-") as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(Path(tmp), "tttgen_test_boltz2") as package:
            got = run_package(package, ttnn, state, x)
    t, a = real_tokens, real_atoms
    out = {
        "s": pcc(got["s"][0, 0, :t], want["s"][0, :t]),
        "z": pcc(got["z"][0, :t, :t], want["z"][0, :t, :t]),
        "z_cond": pcc(got["z_cond"][0, :t, :t], want["z_cond"][0, :t, :t]),
        "q": pcc(got["q"][0, 0, :a], want["q"][0, :a]),
        "c": pcc(got["c"][0, 0, :a], want["c"][0, :a]),
        "token_trans_bias": pcc(got["token_trans_bias"][0, :, :t, :t], want["token_trans_bias"][0, :, :t, :t]),
    }
    for i, (g, w) in enumerate(zip(got["r_update"], want["r_update"])):
        assert list(g.shape) == [1, 1, ATOMS, 32]
        out[f"r_update_{i}"] = pcc(g[0, 0, :a, :3], w[0, :a, :3])
    return out


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_composite_matches_boltz_chain_with_padded_tokens(device):
    """50 real tokens of 64, about 300 real atoms of 512: recycling, conditioning and two denoising steps match
    boltz's modules chained the same way."""
    pccs = composite_pccs(50, device=device)
    assert min(pccs.values()) >= 0.99, pccs


@pytest.mark.parametrize(
    "bug,seen_in",
    [
        # the trunk's s_recycle(s_norm(s)) term dropped: each trunk call starts from s_init alone
        (planted((r"s1 = ttnn\.add\(s0, sr,", "s1 = ttnn.add(s0, ttnn.multiply(sr, 0.0),")), "r_update_0"),
        # the repeated call's s carry dropped: every recycling iteration gets the zeros s started from
        (
            planted((
                r"self\.trunk_step\.trunk\(s_inputs, z_feats, s_out, z_out, msa, mask\)",
                "self.trunk_step.trunk(s_inputs, z_feats, s0, z_out, msa, mask)",
            )),
            "r_update_0",
        ),
        # the repeated call's z carry dropped: every recycling iteration gets the zeros z started from
        (
            planted((
                r"self\.trunk_step\.trunk\(s_inputs, z_feats, s_out, z_out, msa, mask\)",
                "self.trunk_step.trunk(s_inputs, z_feats, s_out, z0, msa, mask)",
            )),
            "z",
        ),
        # the token biases projected from a zero pair instead of the conditioned z
        (
            planted((
                r"self\.token_bias\[layer\]\.condition\(z2, token_trans_bias\)",
                "self.token_bias[layer].condition(ttnn.multiply(z2, 0.0), token_trans_bias)",
            )),
            "r_update_0",
        ),
        # the stack cut into the step's per-layer list in reverse order
        (
            planted((
                r"\[token_trans_bias_0, token_trans_bias_1, token_trans_bias_2, token_trans_bias_3\]",
                "[token_trans_bias_3, token_trans_bias_2, token_trans_bias_1, token_trans_bias_0]",
            )),
            "r_update_0",
        ),
    ],
    ids=["recycled-s-not-carried", "repeat-s-carry-dropped", "repeat-z-carry-dropped",
         "conditioning-z-not-in-token-biases", "token-bias-layers-reversed"],
)
def test_a_broken_composite_fails(bug, seen_in):
    """Each bug must show in the first denoising step's coordinate update, the end of the chain (the recycled s also
    in s itself: PCC 0.58; the token biases' bugs move the update by PCC 0.987 and 0.972 with the token attention made
    loud, see reference())."""
    pccs = composite_pccs(50, edit_files=bug)
    assert pccs[seen_in] < 0.99, pccs


def test_one_state_dict_loads_every_part_at_boltz2_checkpoint_keys():
    """The package reads exactly the reference's parameters, at Boltz-2's paths: the trunk's, the conditioning's
    and the score model's, each layer's key once per layer."""
    graph = plan(Request("boltz2", "p150", params=SMALL)).graph
    keys = {
        k.replace("{i}", str(i)) for w in graph.weights for k in w.hf_names for i in range(w.loop_count if w.per_layer else 1)
    }
    state = reference().state_dict(keep_vars=True)
    assert keys <= set(state)
    # every parameter read once: boltz registers some twice (a layer's output_projection_linear is also its
    # output_projection.0), and either name of one tensor loads it
    names_of: dict = {}
    for name, tensor in state.items():
        names_of.setdefault(id(tensor), set()).add(name)
    assert all(names & keys for names in names_of.values()), [n for n in names_of.values() if not n & keys]
    for key in ("s_init.weight", "pairformer_module.layers.1.tri_mul_out.p_in.weight",
                "diffusion_conditioning.token_trans_proj_z.1.1.weight",
                "structure_module.score_model.token_transformer.layers.1.pair_bias_attn.proj_o.weight"):
        assert key in keys, key


def test_methods_share_the_trunk_rows_and_input_shapes_key_them_by_name():
    """condition and denoise_step run at the trunk's n: forward (the trunk) keeps its rows key, the other two are
    keyed by their mode names, and the README shows the sampler loop calling denoise_step."""
    files = rendered_files(plan(Request("boltz2", "p150", params=SMALL)), None)
    configs = files["configs.py"]
    assert "    64: {" in configs and '    "condition": {' in configs and '    "denoise_step": {' in configs
    model = files["model.py"]
    assert "built = sorted(r for r in C.INPUT_SHAPES if isinstance(r, int))" in model
    for method in ("def trunk(", "def condition(", "def denoise_step(", "def to_device_condition(",
                   "def to_device_denoise_step("):
        assert method in model, method
    readme = files["README.md"]
    assert "s, z = model.trunk(s_inputs_d, z_feats_d, msa_d, mask)" in readme
    assert "for _ in range(4)" not in readme  # the recycling runs on device
    assert "for _ in range(C.TRUNK_STEP_REPEATS):" in model
    assert "TRUNK_STEP_REPEATS = 3" in configs  # recycling_steps + 1
    assert "r_update = ttnn.to_torch(model.denoise_step(*step))[0, 0, :, :3]" in readme


COND_OUT = "token_trans_bias: {shape: [token_depth, 1, token_heads, n, n], doc: \"every token layer's pair bias"
STEP_IN = "token_trans_bias: {shape: [token_depth, 1, token_heads, n, n], doc: \"condition's token biases"


def edited_composite(tmp_path, old: str, shape: str) -> Path:
    text = (MODULE_DIR / "boltz2.yaml").read_text()
    assert text.count(old) == 1, old
    path = tmp_path / "boltz2.yaml"
    path.write_text(text.replace(old, old.replace("[token_depth, 1, token_heads, n, n]", shape)))
    return path


def test_a_stack_passed_where_the_step_takes_a_list_is_cut_at_the_call(tmp_path):
    """denoise_step given the conditioning's stack itself: the builder cuts it into the step's per-layer list at the
    call (a slice per layer, each freed after the step), and condition returns the stack whole."""
    path = edited_composite(tmp_path, STEP_IN, "[1, token_depth * token_heads, n, n]")
    path.write_text(path.read_text().replace(COND_OUT, COND_OUT.replace("[token_depth, 1, token_heads, n, n]",
                                                                       "[1, token_depth * token_heads, n, n]")))
    model = rendered_files(plan(Request(str(path), "n150", params=SMALL)), None)["model.py"]
    assert "step_token_trans_bias_3 = ttnn.slice(token_trans_bias, [0, 24, 0, 0], [1, 32, 64, 64])" in model
    assert "[step_token_trans_bias_0, step_token_trans_bias_1, step_token_trans_bias_2, step_token_trans_bias_3]," in model
    assert "ttnn.deallocate(step_token_trans_bias_3)" in model
    assert "return z_cond, q, c, token_trans_bias, [atom_enc_bias_0], [atom_dec_bias_0]\n" in model


def test_the_stack_returned_by_condition_is_freed_after_its_cut():
    """condition returns the slices; the stack they were cut from is deallocated once cut."""
    model = rendered_files(plan(Request("boltz2", "n150", params=SMALL)), None)["model.py"]
    assert "token_trans_bias_3 = ttnn.slice(token_trans_bias, [0, 24, 0, 0], [1, 32, 64, 64])" in model
    assert "ttnn.deallocate(token_trans_bias)\n" in model
    body = " ".join(model.split())  # the return statement as black wraps it, on one line
    assert ("return ( z_cond, q, c, [token_trans_bias_0, token_trans_bias_1, token_trans_bias_2, token_trans_bias_3], "
            "[atom_enc_bias_0], [atom_dec_bias_0], )") in body


@pytest.mark.parametrize(
    "old,shape,words",
    [
        (COND_OUT, "[token_depth, token_heads, 1, n, n]",
         "output 'token_trans_bias' computes [1, 32, 64, 64] and is declared as one tensor per layer [4, 8, 1, 64, 64]"),
        (STEP_IN, "[token_depth * token_heads, 1, n, n]",
         "passes a value of shape [32, 1, 64, 64] where module 'boltz2_diffusion_step' takes input 'token_trans_bias' "
         "as one tensor per layer [4, 1, 8, 64, 64]"),
    ],
    ids=["condition-output", "step-input"],
)
def test_a_stack_that_is_no_layers_side_by_side_is_refused(tmp_path, old, shape, words):
    """A value cut into layers must hold them side by side along one dim: otherwise refused at its line, naming
    both shapes, before anything is rendered."""
    from tttgen.errors import InputError

    path = edited_composite(tmp_path, old, shape)
    with pytest.raises(InputError) as info:
        plan(Request(str(path), "n150", params=SMALL))
    text = info.value.render()
    assert "boltz2.yaml:" in text and words in text, text
