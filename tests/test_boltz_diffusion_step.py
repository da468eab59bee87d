"""One denoising step of Boltz-2's diffusion module as one package (boltz2_diffusion_step, issue 25), and the atom
attention encoder and decoder around the atom transformer: run on the emulator next to boltz 2.2.1's own
AtomAttentionEncoder, AtomAttentionDecoder and DiffusionModule (the score model) with random weights loaded by the
Boltz-2 checkpoint's keys, small atom and token counts and depth 1-2, padded atoms and tokens; and planted bugs that
must fail: the token mean dropped (atoms summed), the noisy coordinates not added to q, the tokens not broadcast back
to their atoms, s_to_a's conditioning term dropped, the time embedding dropped. Padded atoms read as keys is the
atom transformer's planted bug (tests/test_boltz_atom_transformer.py, the same key-mask ops): here the noisy
coordinates' share of q and the decoder's final LayerNorm leave it at PCC 0.994-0.999, too little to judge."""

import tempfile
from pathlib import Path

import pytest
from boltz_cases import STEP_SMALL as STEP
from planted import planted

from tttgen.generate import Request, plan
from tttgen.checking.verification import (
    RESIDUAL_INPUT_SCALE,
    emulated,
    imported_package,
    pcc,
    reference_module,
    rendered_files,
    verify_module,
)

torch = pytest.importorskip("torch")
pytest.importorskip("boltz.model.modules.diffusionv2", reason="boltz 2.2.1 and einx are installed by `make install`")

# 512 atoms (16 windows), 2 layers, the gather matrix made at that size; tokens = 512 // 8 = 64
ATOMS = (("n", "512"), ("depth", "2"), ("max_atoms", "512"))


# ---------------------------------------------------------------- the encoder and decoder


@pytest.mark.parametrize(
    "module,device", [("boltz_atom_attention_encoder", "n150"), ("boltz_atom_attention_decoder", "p150")]
)
def test_atom_attention_matches_boltz_with_padded_atoms(module, device):
    """100 of 512 atoms padded (masked as keys, left out of the comparison): the encoder's tokens and q, the
    decoder's coordinate update match boltz's modules given the same mask."""
    report = verify_module(plan(Request(module, device, params=ATOMS)), padded_tokens=100)
    assert report.api_findings == []
    assert report.passed and all(v >= 0.99 for v in report.pcc["prefill_512"]), report.as_dict()


def test_encoder_and_decoder_keys_are_the_boltz2_checkpoint_keys():
    keys = {}
    for module in ("boltz_atom_attention_encoder", "boltz_atom_attention_decoder"):
        graph = plan(Request(module, "p150", params=(("n", "512"),))).graph
        keys[module] = {k for w in graph.weights for k in w.hf_names}
        assert {w.loop_count for w in graph.weights if w.per_layer} == {3}
    root = "structure_module.score_model."
    assert keys["boltz_atom_attention_encoder"] >= {
        root + "atom_attention_encoder.r_to_q_trans.weight",
        root + "atom_attention_encoder.atom_to_token_trans.0.weight",
        root + "atom_attention_encoder.atom_encoder.diffusion_transformer.layers.{i}.pair_bias_attn.proj_q.weight",
    }
    assert keys["boltz_atom_attention_decoder"] >= {
        root + "atom_attention_decoder.a_to_q_trans.weight",
        root + "atom_attention_decoder.atom_feat_to_atom_pos_update.0.weight",
        root + "atom_attention_decoder.atom_feat_to_atom_pos_update.1.weight",
        root + "atom_attention_decoder.atom_decoder.diffusion_transformer.layers.{i}.adaln.s_scale.weight",
    }


@pytest.mark.parametrize(
    "module,bug",
    [
        # the noisy coordinates never reach q
        (
            "boltz_atom_attention_encoder",
            planted((r"q1 = ttnn\.add\(q, rq,", "q1 = ttnn.add(q, ttnn.multiply(rq, 0.0),")),
        ),
        # the tokens are not broadcast back to their atoms
        (
            "boltz_atom_attention_decoder",
            planted((r"q1 = ttnn\.add\(q, aq_atoms,", "q1 = ttnn.add(q, ttnn.multiply(aq_atoms, 0.0),")),
        ),
    ],
    ids=["coordinates-dropped", "tokens-not-broadcast"],
)
def test_a_broken_encoder_or_decoder_fails(module, bug):
    report = verify_module(plan(Request(module, "n150", params=ATOMS)), edit_files=bug)
    assert not report.passed, report.as_dict()


# ---------------------------------------------------------------- the whole step


def step_inputs(real_tokens: int, seed: int = 3):
    """One padded input of the small step: 64 tokens of which `real_tokens` are real, each with 3 to 9 atoms (an
    uneven atom_to_token), padded to 512 atoms, padded atoms' rows of atom_to_token zero and both masks zero on the
    padding; q, the atoms' residual stream, drawn small as verify draws residual inputs. Returned as boltz takes them (the reference's forward) and the real atom count."""
    gen = torch.Generator().manual_seed(seed)
    n, atoms, width = 64, 512, 96
    per_token = torch.randint(3, 10, (real_tokens,), generator=gen)
    owner = torch.repeat_interleave(torch.arange(real_tokens), per_token)
    real_atoms = len(owner)
    atom_to_token = torch.zeros(1, atoms, n)
    atom_to_token[0, torch.arange(real_atoms), owner] = 1.0
    token_mask = (torch.arange(n) < real_tokens).float().reshape(1, n)
    atom_mask = (torch.arange(atoms) < real_atoms).float().reshape(1, 1, atoms)
    return (
        {
            "s_inputs": torch.randn(1, n, width, generator=gen),
            "s_trunk": torch.randn(1, n, width, generator=gen),
            "r_noisy": torch.randn(1, atoms, 3, generator=gen),
            "times": torch.tensor([0.37]),
            "atom_mask": atom_mask,
            "atom_to_token": atom_to_token,
            "q": torch.randn(1, atoms, 128, generator=gen) * RESIDUAL_INPUT_SCALE,
            "c": torch.randn(1, atoms, 128, generator=gen),
            "atom_enc_bias": torch.randn(1, atoms // 32, 4, 32, 128, generator=gen),
            "atom_dec_bias": torch.randn(1, atoms // 32, 4, 32, 128, generator=gen),
            "token_trans_bias": torch.randn(2, 1, 4, n, n, generator=gen),
            "token_mask": token_mask,
        },
        real_atoms,
    )


def device_inputs(named):
    """The package's inputs in its order: rows as [1, 1, rows, w], r zero-padded to 32 columns, the time in one
    tile's element [0, 0], masks [1, 1, 1, rows]."""
    times = torch.zeros(1, 1, 32, 32)
    times[0, 0, 0, 0] = named["times"][0]
    rows = lambda t: t.reshape(1, 1, *t.shape[-2:])  # noqa: E731
    return [
        rows(named["s_inputs"]),
        rows(named["s_trunk"]),
        rows(torch.nn.functional.pad(named["r_noisy"], (0, 29))),
        times,
        named["token_mask"].reshape(1, 1, 1, -1),
        named["atom_mask"].reshape(1, 1, 1, -1),
        rows(named["atom_to_token"]),
        rows(named["q"]),
        rows(named["c"]),
        named["atom_enc_bias"],
        named["atom_dec_bias"],
        named["token_trans_bias"],
    ]


_STEP_RUNS: dict = {}


def step_pcc(real_tokens: int, edit_files=None, device: str = "n150") -> float:
    """PCC of the package's coordinate update against boltz's DiffusionModule.forward on the same padded input, real
    atoms' 3 coordinates only."""
    key = (real_tokens, device)
    if key not in _STEP_RUNS:
        p = plan(Request("boltz2_diffusion_step", device, params=STEP))
        ref = reference_module(p, seed=0)
        named, real_atoms = step_inputs(real_tokens)
        with torch.no_grad():
            want = ref(*named.values())
        _STEP_RUNS[key] = (p, {k: v.detach().clone() for k, v in ref.state_dict().items()}, named, real_atoms, want)
    p, state, named, real_atoms, want = _STEP_RUNS[key]
    files = rendered_files(p, edit_files)
    with tempfile.TemporaryDirectory(prefix="tttgen-test-") as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(Path(tmp), "tttgen_test_diffusion_step") as package:
            device_ = ttnn.open_device(device_id=0)
            model = package.Model(device_, package.weights.load_weights(device_, state))
            got = ttnn.to_torch(model.forward(*model.to_device(*device_inputs(named)))).float()
    assert list(got.shape) == [1, 1, 512, 32]
    assert torch.count_nonzero(got[..., 3:]) == 0  # the padded coordinate columns stay zero
    return pcc(got[0, 0, :real_atoms, :3], want[0, :real_atoms, :3])


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_step_matches_boltz_score_model(device):
    """The plain comparison verify runs (every token and atom real, even atom_to_token), with its checkpoint check:
    every reference parameter is read by some weight of the package."""
    report = verify_module(plan(Request("boltz2_diffusion_step", device, params=STEP)))
    assert report.api_findings == []
    assert report.passed and report.pcc["prefill_64"][0] >= 0.99, report.as_dict()


@pytest.mark.parametrize("real_tokens", [50, 16])
def test_step_matches_boltz_with_padded_tokens_and_atoms(real_tokens):
    """50 (16) real tokens of 64 with 3 to 9 atoms each (about 300 (100) real atoms of 512): the real atoms' updates
    match boltz's DiffusionModule.forward on the same padded input."""
    assert step_pcc(real_tokens) >= 0.99


def test_step_on_a_mesh_matches_boltz_for_each_design():
    """n300, one design per chip: verify draws a different design for each chip, its per-layer bias lists included
    (each layer's tensor holding the designs on dim 0), and compares each chip's update with boltz on its own."""
    report = verify_module(plan(Request("boltz2_diffusion_step", "n300", params=STEP)))
    assert report.designs == 2 and len(report.design_pcc["prefill_64"]) == 2
    assert report.passed and not report.api_findings, report.as_dict()


def test_step_forward_batch_runs_any_number_of_designs_with_their_bias_lists():
    """Three padded designs on n300's two chips: two rounds, the second filled with a copy of design 2 (its output
    dropped); the per-layer lists' designs sit on host dim 1 ([layers, designs * windows, ...]); each design's real
    atoms match boltz on it alone. to_device refuses a list holding another number of designs than chips."""
    p = plan(Request("boltz2_diffusion_step", "n300", params=STEP))
    ref = reference_module(p, seed=0)
    state = {k: v.detach().clone() for k, v in ref.state_dict().items()}
    cases = [step_inputs(real, seed) for real, seed in ((50, 3), (16, 4), (40, 5))]
    lists = {9, 10, 11}  # atom_enc_bias, atom_dec_bias, token_trans_bias in the package's order
    per_design = [device_inputs(named) for named, _ in cases]
    host = [torch.cat([d[i] for d in per_design], dim=1 if i in lists else 0) for i in range(len(per_design[0]))]
    with tempfile.TemporaryDirectory(prefix="tttgen-test-") as tmp:
        for name, text in rendered_files(p, None).items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device), imported_package(Path(tmp), "tttgen_test_step_batch") as package:
            device = package.model.open_mesh(package.configs.TRACE_REGION_SIZE)
            model = package.Model(device, package.weights.load_weights(device, state))
            got = model.forward_batch(*host)
            # a traced call replays on the mesh, its lists copied layer by layer: forward_batch's first round
            first_two = [x.narrow(1 if i in lists else 0, 0, 2 * x.shape[1 if i in lists else 0] // 3) for i, x in enumerate(host)]
            traced = model.to_host(model.forward(*model.to_device(*first_two), traced=True))[0]
            with pytest.raises(ValueError, match="to_device takes 2 designs \\(one per chip\\), got 3"):
                model.to_device(*host)
            with pytest.raises(ValueError, match="token_trans_bias must be designs of shape .* concatenated on dim 1"):
                model.forward_batch(*host[:11], host[11][:, :, :, :32])
            model.close()
    assert list(got.shape) == [3, 1, 512, 32]
    assert torch.equal(traced, got[:2])
    for i, (named, real_atoms) in enumerate(cases):
        with torch.no_grad():
            want = ref(*named.values())
        assert pcc(got[i, 0, :real_atoms, :3].float(), want[0, :real_atoms, :3]) >= 0.99, i


def traced_and_plain(edit_files=None):
    """One chip, two designs (their own bias lists): each one's untraced output and its traced one, the traced calls
    made in turn after warmup (captured from zero lists), so the second replays the first's capture."""
    p = plan(Request("boltz2_diffusion_step", "n150", params=STEP))
    ref = reference_module(p, seed=0)
    state = {k: v.detach().clone() for k, v in ref.state_dict().items()}
    designs = [device_inputs(step_inputs(real, seed)[0]) for real, seed in ((50, 3), (16, 4))]
    with tempfile.TemporaryDirectory(prefix="tttgen-test-") as tmp:
        for name, text in rendered_files(p, edit_files).items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(Path(tmp), "tttgen_test_step_traced") as package:
            device = ttnn.open_device(device_id=0, trace_region_size=package.configs.TRACE_REGION_SIZE)
            model = package.Model(device, package.weights.load_weights(device, state))
            model.warmup()
            plain = [ttnn.to_torch(model.forward(*model.to_device(*d))) for d in designs]
            traced = [ttnn.to_torch(model.forward(*model.to_device(*d), traced=True)) for d in designs]
            model.close()
    assert not torch.equal(plain[0], plain[1])
    return traced, plain


def test_a_traced_step_replays_with_each_call_s_bias_lists():
    """Traced calls key and copy the per-layer bias lists layer by layer: each traced call gives its design's
    untraced output."""
    traced, plain = traced_and_plain()
    assert all(torch.equal(t, u) for t, u in zip(traced, plain))


def test_a_traced_step_that_keeps_the_first_call_s_bias_lists_fails():
    """Planted: the lists not copied into the trace's persistent ones, so traced calls run on warmup's zero biases."""
    bug = planted((r"for x, t in zip\(value, target\):\n\s*ttnn\.copy\(x, t\)", "pass"))
    traced, plain = traced_and_plain(bug)
    assert not torch.equal(traced[1], plain[1])


@pytest.mark.parametrize(
    "bug",
    [
        # each token the sum of its atoms, not their mean (seen only where tokens have different atom counts: the
        # encoder's verify input gives every token 8)
        planted((r"mean = ttnn\.multiply\(atom_to_token, inv_counts,", "mean = ttnn.multiply(atom_to_token, 1.0,")),
        planted((r"a1 = ttnn\.add\(a0, sa,", "a1 = ttnn.add(a0, ttnn.multiply(sa, 0.0),")),
        planted((r"s1 = ttnn\.add\(s0, ft,", "s1 = ttnn.add(s0, ttnn.multiply(ft, 0.0),")),
    ],
    ids=["token-sum-not-mean", "s-to-a-dropped", "time-dropped"],
)
def test_a_broken_step_fails(bug):
    assert step_pcc(50, edit_files=bug) < 0.99


def test_step_keys_are_the_boltz2_checkpoint_keys():
    graph = plan(Request("boltz2_diffusion_step", "p150", params=(("n", "64"),))).graph
    keys = {k for w in graph.weights for k in w.hf_names}
    assert keys and all(k.startswith("structure_module.score_model.") for k in keys)
    root = "structure_module.score_model."
    for key in (
        "single_conditioner.fourier_embed.proj.weight",
        "single_conditioner.transitions.1.fc3.weight",
        "atom_attention_encoder.r_to_q_trans.weight",
        "atom_attention_encoder.atom_encoder.diffusion_transformer.layers.{i}.pair_bias_attn.proj_k.weight",
        "s_to_a_linear.1.weight",
        "token_transformer.layers.{i}.pair_bias_attn.proj_o.weight",
        "a_norm.weight",
        "atom_attention_decoder.a_to_q_trans.weight",
        "atom_attention_decoder.atom_decoder.diffusion_transformer.layers.{i}.transition.b_to_a.weight",
        "atom_attention_decoder.atom_feat_to_atom_pos_update.1.weight",
    ):
        assert root + key in keys, key
    assert {w.loop_count for w in graph.weights if w.per_layer} == {3, 24}


def test_more_atoms_than_built_is_a_user_error_naming_the_slices():
    """704 tokens are 5632 atoms, past the default max_atoms (2048) the window matrix and the ones are made at: the
    slices that would read past them are reported at their description lines before anything is rendered (the real
    ttnn refuses them: 'Ends 1408 must be less than or equal to the shape of the tensor 512')."""
    from tttgen.errors import InputError

    with pytest.raises(InputError) as info:
        plan(Request("boltz2_diffusion_step", "p150", params=(("n", "704"),)))
    text = info.value.render()
    assert "boltz_atom_key_mask.yaml" in text and "op 'window_index' (slice)" in text
    assert "ends [1, 1, 1408, 352] reach past the input [1, 1, 512, 128] in dim 2" in text
    plan(Request("boltz2_diffusion_step", "p150", params=(("n", "704"), ("max_atoms", "5632"), ("token_depth", "1"))))


def test_readme_runs_one_step_from_boltz_inputs():
    from tttgen.checking.verification import rendered_files as files_of

    readme = files_of(plan(Request("boltz2_diffusion_step", "p150", params=STEP)), None)["README.md"]
    # the description's usage: the conditioning once per trunk output with boltz's module, the biases heads first,
    # sigma's c_in and c_noise into the inputs, the update combined as AtomDiffusion does
    assert "## Use it" in readme and "boltz.diffusion_conditioning(s, z, relative_position_encoding, feats)" in readme
    assert "times[0, 0, 0, 0] = diffusion.c_noise(sigma)" in readme
    assert "denoised = diffusion.c_skip(sigma) * r_noisy + diffusion.c_out(sigma) * r_update" in readme


def test_usage_turns_boltz_biases_heads_first_as_the_reference_hands_them_back():
    """The README's heads_first (atom biases) and permute (token biases) invert what the reference gives boltz."""
    import sys

    from tttgen.inputs.module import MODULE_DIR

    sys.path.insert(0, str(MODULE_DIR))
    try:
        from boltz_references import _atom_bias, _token_bias
    finally:
        sys.path.remove(str(MODULE_DIR))
    usage = (MODULE_DIR / "boltz2_diffusion_step.yaml").read_text()
    assert "heads_first = lambda b, depth: b.reshape(*b.shape[:-1], depth, -1).movedim(-2, 0).movedim(-1, -3)[:, 0]" in usage
    heads_first = lambda b, depth: b.reshape(*b.shape[:-1], depth, -1).movedim(-2, 0).movedim(-1, -3)[:, 0]  # noqa: E731
    atom = torch.randn(3, 16, 4, 32, 128)
    assert torch.equal(heads_first(_atom_bias(atom), 3), atom)
    assert "tok = tok.reshape(1, n, n, 24, 16).permute(3, 0, 4, 1, 2)" in usage
    token = torch.randn(24, 1, 16, 64, 64)
    assert torch.equal(_token_bias(token).reshape(1, 64, 64, 24, 16).permute(3, 0, 4, 1, 2), token)
