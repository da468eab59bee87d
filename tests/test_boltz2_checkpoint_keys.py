"""One Boltz-2 checkpoint loads every Boltz-2 package (issue 25): the keys of boltz2_trunk,
boltz2_diffusion_conditioning and boltz2_diffusion_step against boltz2_conf.ckpt's state dict, as boltz 2.2.1's own
Boltz2 builds it with the released hyperparameters (tests/boltz2_checkpoint.py: meta tensors, no download).

- every key each package reads, per-layer keys for every loop index at the built depth, is in the checkpoint with a
  shape its transforms turn into the declared one (the package's own load-time statements, run on meta tensors);
- the three packages together read every key of the checkpoint except the families listed in UNREAD, each with why
  it is not run (an alias of a read tensor counts as read), and each listed family is indeed unread;
- each package's load_weights takes the checkpoint (every key offered, a random tensor of the checkpoint's shape
  made when read: 520M parameters are never materialised) and reads exactly its checkpoint_keys();
- planted: a renamed key prefix and a dropped transpose fail the checks, load_weights names the missing keys, and a
  shallower Pairformer stack leaves the checkpoint's last layers unread.
"""

from __future__ import annotations

import shutil
import zlib

import pytest

from tttgen.generate import Request, plan

pytest.importorskip("boltz.model.modules.trunkv2", reason="boltz 2.2.1 is installed by `make install`")
torch = pytest.importorskip("torch")

from boltz2_checkpoint import HYPERPARAMETERS, aliases, checkpoint_state  # noqa: E402

PACKAGES = ("boltz2_trunk", "boltz2_diffusion_conditioning", "boltz2_diffusion_step")

# The checkpoint's key families no package reads (key prefixes), and why each is not run on device.
UNREAD = {
    "input_embedder.": "the input embedder runs on the host with boltz's module: s_inputs is a package input",
    "rel_pos.": "pair feature made on the host (the trunk's z_feats input, the conditioning's rel_pos input)",
    "token_bonds.": "pair feature made on the host (the trunk's z_feats input)",
    "token_bonds_type.": "pair feature made on the host (the trunk's z_feats input)",
    "contact_conditioning.": "pair feature made on the host (the trunk's z_feats input)",
    "template_module.": "templates are not run: boltz2_trunk is a recycling step without the template module",
    "distogram_module.": "output head, not run",
    "bfactor_module.": "output head, not run",
    "confidence_module.": "the confidence model is not run",
}
# Heads another checkpoint holds: boltz2_conf.ckpt has no affinity module (boltz predict loads boltz2_aff.ckpt for it).
NOT_IN_CHECKPOINT = ("affinity_module", "affinity_module1", "affinity_module2")

# load_weights runs at the released widths with few layers: the per-layer keys of the first loop indices
SMALL_DEPTH = {
    "boltz2_trunk": (("num_blocks", "2"), ("msa_blocks", "1")),
    "boltz2_diffusion_conditioning": (("token_depth", "2"),),
    "boltz2_diffusion_step": (("token_depth", "2"), ("encoder_depth", "1"), ("decoder_depth", "1")),
}


def built(name: str, params=()):
    return plan(Request(name, "p150", params=(("n", "64"), *params)))


def key_problems(p, state) -> tuple[list[str], set[str]]:
    from tttgen.checking.verification import state_problems

    problems, read = state_problems(p, state)
    return [problem.message for problem in problems], read


def unread_keys(read: set[str], state) -> set[str]:
    """The checkpoint's keys no package reads, an alias of a read key counting as read."""
    same = aliases()
    return {k for k in state if k not in read and same.get(k) not in read}


def family(key: str) -> str | None:
    return next((f for f in UNREAD if key.startswith(f)), None)


def test_the_key_set_is_the_released_boltz2():
    """The meta-built model has the released architecture (the shapes say it, not only the arguments)."""
    state = checkpoint_state()
    shape = lambda key: list(state[key].shape)  # noqa: E731
    assert HYPERPARAMETERS["pairformer_args"]["num_blocks"] == 64
    assert "pairformer_module.layers.63.tri_mul_out.p_in.weight" in state
    assert not any(k.startswith("pairformer_module.layers.64.") for k in state)
    assert "msa_module.layers.3.pair_weighted_averaging.proj_m.weight" in state
    assert not any(k.startswith("msa_module.layers.4.") for k in state)
    root = "structure_module.score_model."
    assert f"{root}token_transformer.layers.23.adaln.s_scale.weight" in state
    assert not any(k.startswith(f"{root}token_transformer.layers.24.") for k in state)
    for coder in ("atom_attention_encoder.atom_encoder", "atom_attention_decoder.atom_decoder"):
        assert f"{root}{coder}.diffusion_transformer.layers.2.adaln.s_scale.weight" in state
        assert not any(k.startswith(f"{root}{coder}.diffusion_transformer.layers.3.") for k in state)
    assert shape("s_init.weight") == [384, 384]  # token_s
    assert shape("z_init_1.weight") == [128, 384]  # token_z
    assert shape("msa_module.msa_proj.weight") == [64, 36]  # msa_s, 33 residue types + deletion + value + paired
    assert shape("pairformer_module.layers.0.attention.proj_z.1.weight") == [16, 128]  # single attention heads
    assert shape("pairformer_module.layers.0.tri_att_start.linear.weight") == [4, 128]  # triangle attention heads
    assert shape("pairformer_module.layers.0.transition_z.fc1.weight") == [512, 128]
    assert shape("diffusion_conditioning.token_trans_proj_z.23.1.weight") == [16, 128]  # token transformer heads
    assert shape("diffusion_conditioning.atom_enc_proj_z.2.1.weight") == [4, 16]  # atom heads, atom_z
    assert shape("diffusion_conditioning.atom_encoder.embed_atom_features.weight") == [128, 388]  # atom_s, features
    assert shape(f"{root}single_conditioner.fourier_to_single.weight") == [768, 256]  # 2 * token_s, dim_fourier
    assert shape(f"{root}token_transformer.layers.0.pair_bias_attn.proj_q.weight") == [768, 768]
    assert not any(k.startswith(NOT_IN_CHECKPOINT) for k in state)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_key_a_package_reads_is_in_the_checkpoint(name):
    """At the built (released) depth: every loop index's keys, each through the package's own transforms."""
    problems, read = key_problems(built(name), checkpoint_state())
    assert problems == []
    assert read


def test_the_packages_read_every_key_they_run():
    state = checkpoint_state()
    read: set[str] = set()
    for name in PACKAGES:
        read |= key_problems(built(name), state)[1]
    unread = unread_keys(read, state)
    assert sorted(k for k in unread if family(k) is None) == []  # a key no package reads, not listed in UNREAD
    assert sorted(k for k in read if family(k)) == []  # a listed family is read now: drop it from UNREAD
    assert sorted(f for f in UNREAD if not any(k.startswith(f) for k in state)) == []  # stale entries


class LazyCheckpoint(dict):
    """The checkpoint as load_weights sees it (a dict): every key of `shapes`, each a random tensor of its shape made
    when it is read, the keys read recorded in order."""

    def __init__(self, shapes):
        super().__init__()
        self.shapes, self.read = shapes, []

    def __contains__(self, key):
        return key in self.shapes

    def __getitem__(self, key):
        shape = self.shapes[key]  # KeyError: a key the checkpoint lacks
        self.read.append(key)
        return torch.randn(shape, generator=torch.Generator().manual_seed(zlib.crc32(key.encode())))

    def __iter__(self):
        return iter(self.shapes)

    def __len__(self):
        return len(self.shapes)

    def keys(self):
        return self.shapes.keys()


def load_package_weights(p, state):
    """Render the package, import it with the emulator as ttnn, run weights.load_weights(device, state): (weights,
    the package's checkpoint_keys())."""
    import tempfile
    from pathlib import Path

    from tttgen.checking.verification import emulated, imported_package, rendered_files
    from tttgen.render.emit import package_name

    with tempfile.TemporaryDirectory(prefix="tttgen-ckpt-") as tmp:
        pkg = Path(tmp) / "pkg"
        pkg.mkdir()
        for file, text in rendered_files(p, None).items():
            (pkg / file).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(pkg, f"tttgen_ckpt_{package_name(p.graph.name)}") as m:
            device = ttnn.open_device(device_id=0)
            return m.weights.load_weights(device, state), m.weights.checkpoint_keys()


@pytest.mark.parametrize("name", PACKAGES)
def test_load_weights_takes_the_checkpoint(name):
    shapes = {k: tuple(v.shape) for k, v in checkpoint_state().items()}
    state = LazyCheckpoint(shapes)
    weights, keys = load_package_weights(built(name, SMALL_DEPTH[name]), state)
    assert weights and keys
    assert sorted(set(state.read)) == sorted(set(keys))  # reads exactly what it says it reads


def planted_description(tmp_path, name: str, old: str, new: str) -> str:
    from tttgen.inputs.module import MODULE_DIR

    text = (MODULE_DIR / f"{name}.yaml").read_text()
    assert old in text, f"the planted edit {old!r} matches nothing"
    (tmp_path / f"{name}.yaml").write_text(text.replace(old, new))
    shutil.copy(MODULE_DIR / "boltz_references.py", tmp_path / "boltz_references.py")
    return str(tmp_path / f"{name}.yaml")


def test_a_renamed_prefix_fails(tmp_path):
    """The Pairformer stack under `pairformer.` instead of the checkpoint's `pairformer_module.`: its keys are
    missing from the checkpoint, the real ones go unread, and load_weights refuses the checkpoint naming them."""
    path = planted_description(
        tmp_path, "boltz2_trunk", '"pairformer_module.layers.{layer}."', '"pairformer.layers.{layer}."'
    )
    state = checkpoint_state()
    problems, read = key_problems(plan(Request(path, "p150", params=(("n", "64"),))), state)
    assert "'pairformer.layers.63.tri_mul_out.norm_in.weight', which the reference lacks" in "\n".join(problems)
    missing = {m.split("' reads '")[1].split("'")[0] for m in problems}
    stack = {k for k in state if k.startswith("pairformer_module.layers.")}
    assert missing == {k.replace("pairformer_module.", "pairformer.", 1) for k in stack}  # every key of every layer
    unread = unread_keys(read, state)
    assert "pairformer_module.layers.0.attention.proj_q.weight" in {k for k in unread if family(k) is None}
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    p = plan(Request(path, "p150", params=(("n", "64"), *SMALL_DEPTH["boltz2_trunk"])))
    with pytest.raises(KeyError, match=r"lacks \d+ key\(s\) this package reads: .*pairformer\.layers\.0\."):
        load_package_weights(p, LazyCheckpoint(shapes))


def test_a_dropped_transpose_fails(tmp_path):
    """z_init_1 read as the checkpoint stores it ([token_z, token_s]) instead of transposed to [token_s, token_z]."""
    old = 'key: "z_init_1.weight", transforms: [{kind: transpose}]'
    path = planted_description(tmp_path, "boltz2_trunk", old, 'key: "z_init_1.weight"')
    problems, _ = key_problems(plan(Request(path, "p150", params=(("n", "64"),))), checkpoint_state())
    assert problems == [
        "weight 'z_init_1' is [128, 384] from the reference's 'z_init_1.weight' [128, 384], not [384, 128] as declared"
    ]


def test_a_shallower_stack_leaves_layers_unread():
    """Built with 48 Pairformer blocks (the training config's count before predict's 64): layers 48 to 63 of the
    checkpoint are read by no package, and they are in no UNREAD family."""
    state = checkpoint_state()
    read: set[str] = set()
    for name in PACKAGES:
        params = (("num_blocks", "48"),) if name == "boltz2_trunk" else ()
        read |= key_problems(built(name, params), state)[1]
    unlisted = {k for k in unread_keys(read, state) if family(k) is None}
    assert {k.split(".")[2] for k in unlisted} == {str(i) for i in range(48, 64)}
    assert all(k.startswith("pairformer_module.layers.") for k in unlisted)
