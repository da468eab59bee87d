"""Boltz-2's diffusion conditioning, the part that runs once per trunk output and is not per atom pair
(boltz2_diffusion_conditioning, issue 25): the pairwise conditioner's z, the atoms' q and c, and every token layer's
pair bias stacked heads first; run on the emulator next to boltz 2.2.1's own PairwiseConditioning, AtomEncoder
projections and token_trans_proj_z with random weights loaded by the Boltz-2 checkpoint's keys, small sizes
(64 tokens, 512 atoms, 2 token layers), padded tokens and atoms with an uneven atom_to_token; and planted bugs that
must fail: the relative positions dropped, a transition's residual dropped, s_to_c not broadcast to the atoms, the
layers' biases pushed in the wrong order, a token bias read from the transposed token pair."""

import re
import tempfile
from pathlib import Path

import pytest

from tttgen.generate import Request, plan
from tttgen.verification import emulated, imported_package, pcc, reference_module, rendered_files, verify_module

torch = pytest.importorskip("torch")
pytest.importorskip("boltz.model.modules.encodersv2", reason="boltz 2.2.1 is installed by `make install`")

# 64 tokens (512 atoms), a 96-wide trunk single and 64-wide pair, Boltz-2's 16 token heads over 2 token layers
SMALL = (("n", "64"), ("token_s", "96"), ("token_z", "64"), ("token_depth", "2"))
N, ATOMS, TOKEN_S, TOKEN_Z, HEADS, DEPTH, FEATURES, COLS = 64, 512, 96, 64, 16, 2, 388, 416


def planted(*edits):
    def edit(files):
        model = files["model.py"]
        for pattern, replacement in edits:
            changed = re.sub(pattern, replacement, model)
            assert changed != model, f"the planted bug {pattern!r} matched nothing"
            model = changed
        return {**files, "model.py": model}

    return edit


def padded_inputs(real_tokens: int, seed: int = 5):
    """`real_tokens` of 64 real, each with 3 to 9 atoms (an uneven atom_to_token), padded to 512 atoms; padded
    tokens' and atoms' features zero, padded atoms' rows of atom_to_token zero; atom features zero after the 388
    AtomEncoder reads. Returned as boltz takes them (the reference's forward), with the real atom count."""
    gen = torch.Generator().manual_seed(seed)
    per_token = torch.randint(3, 10, (real_tokens,), generator=gen)
    owner = torch.repeat_interleave(torch.arange(real_tokens), per_token)
    real_atoms = len(owner)
    atom_to_token = torch.zeros(1, ATOMS, N)
    atom_to_token[0, torch.arange(real_atoms), owner] = 1.0
    tokens = (torch.arange(N) < real_tokens).float()
    feats = torch.zeros(1, ATOMS, COLS)
    feats[0, :real_atoms, :FEATURES] = torch.randn(real_atoms, FEATURES, generator=gen)
    pair = tokens[:, None] * tokens[None, :]
    return (
        {
            "s_trunk": torch.randn(1, N, TOKEN_S, generator=gen) * tokens[:, None],
            "z_trunk": torch.randn(1, N, N, TOKEN_Z, generator=gen) * pair[..., None],
            "rel_pos": torch.randn(1, N, N, TOKEN_Z, generator=gen) * pair[..., None],
            "atom_feats": feats,
            "atom_to_token": atom_to_token,
        },
        real_atoms,
    )


_RUNS: dict = {}


def conditioning_pccs(real_tokens: int, edit_files=None, device: str = "n150", edit_state=None) -> dict:
    """PCC of each package output against boltz's modules on the same padded input: z and the token biases over
    real token pairs, q and c over real atoms."""
    key = (real_tokens, device)
    if key not in _RUNS:
        p = plan(Request("boltz2_diffusion_conditioning", device, params=SMALL))
        ref = reference_module(p, seed=0)
        named, real_atoms = padded_inputs(real_tokens)
        with torch.no_grad():
            want = ref(*named.values())
        _RUNS[key] = (p, {k: v.detach().clone() for k, v in ref.state_dict().items()}, named, real_atoms, want)
    p, state, named, real_atoms, want = _RUNS[key]
    files = rendered_files(p, edit_files)
    rows = lambda t: t.reshape(1, 1, *t.shape[-2:])  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="tttgen-test-") as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(Path(tmp), "tttgen_test_conditioning") as package:
            device_ = ttnn.open_device(device_id=0)
            weights = package.weights.load_weights(device_, state)
            if edit_state:
                edit_state(weights, ttnn, device_)
            model = package.Model(device_, weights)
            inputs = model.to_device(
                rows(named["s_trunk"]), named["z_trunk"], named["rel_pos"], rows(named["atom_feats"]),
                rows(named["atom_to_token"]),
            )
            z, q, c, bias = (ttnn.to_torch(t).float() for t in model.forward(*inputs))
    t, a = real_tokens, real_atoms
    z_want, q_want, c_want, bias_want = want
    assert list(bias.shape) == [1, DEPTH * HEADS, N, N]
    return {
        "z": pcc(z[0, :t, :t], z_want[0, :t, :t]),
        "q": pcc(q[0, 0, :a], q_want[0, :a]),
        "c": pcc(c[0, 0, :a], c_want[0, :a]),
        # each layer's planes on their own: a stack in the wrong order compares layer 0 with layer 1
        **{f"bias_{i}": pcc(bias[0, i * HEADS:(i + 1) * HEADS, :t, :t], bias_want[0, i * HEADS:(i + 1) * HEADS, :t, :t])
           for i in range(DEPTH)},
    }


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_conditioning_matches_boltz(device):
    """verify's plain comparison (every token and atom real, an even atom_to_token) with its checkpoint check: every
    reference parameter is read by some weight of the package, and the package reads no other key."""
    report = verify_module(plan(Request("boltz2_diffusion_conditioning", device, params=SMALL)))
    assert report.api_findings == []
    assert report.passed and min(report.pcc["prefill_64"]) >= 0.99, report.as_dict()


@pytest.mark.parametrize("real_tokens", [50, 17])
def test_conditioning_matches_boltz_with_padded_tokens_and_atoms(real_tokens):
    pccs = conditioning_pccs(real_tokens)
    assert min(pccs.values()) >= 0.99, pccs


def test_the_stack_start_values_are_never_read():
    """The token-bias stack starts as z times a constant matrix; its values are pushed out by the layers' loop:
    starting from other values gives the same biases."""
    def other_start(weights, ttnn, device):
        host = ttnn.to_torch(weights["stack_start"]).float()
        weights["stack_start"] = ttnn.from_torch(
            torch.randn_like(host), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device
        )

    assert conditioning_pccs(50, edit_state=other_start) == conditioning_pccs(50)


@pytest.mark.parametrize(
    "bug,output",
    [
        # the relative position encoding never reaches z
        (planted((r"ttnn\.concat\(\[z_trunk, rel_pos\]", "ttnn.concat([z_trunk, ttnn.multiply(rel_pos, 0.0)]")), "z"),
        # the second transition's residual dropped
        (planted((r"z2 = ttnn\.add\(z1, t1,", "z2 = ttnn.add(ttnn.multiply(z1, 0.0), t1,")), "z"),
        # the trunk's s not broadcast to the atoms (c = q)
        (planted((r"c = ttnn\.add\(q, sc_atoms,", "c = ttnn.add(q, ttnn.multiply(sc_atoms, 0.0),")), "c"),
        # each layer's bias pushed at the front: the layers come out reversed
        (planted((r"ttnn\.concat\(\[rest, bias\], dim=1", "ttnn.concat([bias, rest], dim=1")), "bias_0"),
        # a token bias read from the transposed token pair (j, i)
        (planted((r"bt = ttnn\.permute\(bsq, \[0, 3, 1, 2\]", "bt = ttnn.permute(bsq, [0, 3, 2, 1]")), "bias_1"),
    ],
    ids=["rel-pos-dropped", "transition-residual-dropped", "s-to-c-dropped", "layers-reversed", "pair-transposed"],
)
def test_a_broken_conditioning_fails(bug, output):
    assert conditioning_pccs(50, edit_files=bug)[output] < 0.99


def test_conditioning_keys_are_the_boltz2_checkpoint_keys():
    graph = plan(Request("boltz2_diffusion_conditioning", "p150", params=(("n", "64"),))).graph
    keys = {k for w in graph.weights for k in w.hf_names}
    root = "diffusion_conditioning."
    assert keys and all(k.startswith(root) for k in keys)
    for key in (
        "pairwise_conditioner.dim_pairwise_init_proj.0.weight",
        "pairwise_conditioner.dim_pairwise_init_proj.1.weight",
        "pairwise_conditioner.transitions.1.fc3.weight",
        "atom_encoder.embed_atom_features.weight",
        "atom_encoder.embed_atom_features.bias",
        "atom_encoder.s_to_c_trans.1.weight",
        "token_trans_proj_z.{i}.0.weight",
        "token_trans_proj_z.{i}.1.weight",
    ):
        assert root + key in keys, key
    assert {w.loop_count for w in graph.weights if w.per_layer} == {24}


def test_boltz2_builds_its_conditioning_under_diffusion_conditioning():
    """The prefix is Boltz2's attribute (boltz.model.models.boltz2: self.diffusion_conditioning =
    DiffusionConditioning(...))."""
    import importlib.util

    # read, not imported: boltz2.py imports pytorch_lightning, which the verify extras leave out
    source = Path(importlib.util.find_spec("boltz.model.models.boltz2").origin).read_text()
    assert "self.diffusion_conditioning = DiffusionConditioning(" in source
