"""Boltz-2's checkpoint state dict for tests, without the checkpoint: every key of boltz2_conf.ckpt's `state_dict`
and its shape, from boltz 2.2.1's own `boltz.model.models.boltz2.Boltz2` built on the meta device (no memory, no
values) with the released model's hyperparameters.

Why this is the checkpoint's key set: `boltz predict` loads boltz2_conf.ckpt with
`Boltz2.load_from_checkpoint(checkpoint, strict=True, ..., ema=False, pairformer_args=asdict(PairformerArgsV2()),
msa_args=asdict(MSAModuleArgs()), diffusion_process_args=..., steering_args=...)` (src/boltz/main.py, predict): the
checkpoint's `hyper_parameters` with those overrides build a Boltz2 whose state_dict has exactly the checkpoint's
keys and shapes, or the strict load fails. HYPERPARAMETERS below are those values, each with its source.

Test-only stand-ins: boltz 2.2.1 is installed without its dependencies, and boltz/model/models/boltz2.py imports
pytorch_lightning, torchmetrics and (through boltz.data.mol) rdkit at module level. While the model is imported and
built, each of those that is not importable is a minimal stand-in module in sys.modules: LightningModule is
torch.nn.Module (save_hyperparameters does nothing), MeanMetric an empty nn.Module (torchmetrics' metric states are
not persistent: no state_dict keys), Callback/Trainer/rdkit's Mol plain placeholders. The stand-ins and every boltz
module that bound a name from one are removed from sys.modules afterwards. boltz's truncated-normal initialiser
(boltz.model.layers.initialize.trunc_normal_init_, scipy sampling of every weight: 25 s) does nothing while the model
is built on the meta device: it sets values, and meta tensors have none.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import types

# The released Boltz-2 (boltz2_conf.ckpt) as boltz predict builds it. Sources:
# [main] jwohlwend/boltz src/boltz/main.py at 832486dafed7b80e1246a3fed895e9bb03976558 (the same file as boltz
#        2.2.1's installed boltz/main.py): PairformerArgsV2, MSAModuleArgs and Boltz2DiffusionParams are passed to
#        load_from_checkpoint and override the checkpoint's own values; ema=False.
# [train] jwohlwend/boltz scripts/train/configs/structurev2.yaml at 70eee51487889133bfbe42174949eb402876a3b7, its
#        `model:` section: the values predict does not override come from the checkpoint, which this config trains.
# [ckpt] the checkpoint's hyper_parameters carry use_templates_v2: True and 81 template_module tensors (a public
#        parity study of boltz2_conf.ckpt); predict reads templates, so use_templates is True.
HYPERPARAMETERS = dict(
    atom_s=128,  # [train]
    atom_z=16,  # [train]
    token_s=384,  # [train]
    token_z=128,  # [train]
    num_bins=64,  # [train]
    atom_feature_dim=388,  # [train] (ref_pos 3 + charge 1 + element 128 + atom name 4 x 64)
    atoms_per_window_queries=32,  # [train]
    atoms_per_window_keys=128,  # [train]
    fix_sym_check=True,  # [train]
    cyclic_pos_enc=True,  # [train]
    bond_type_feature=True,  # [train]: token_bonds_type
    predict_bfactor=True,  # [train]: bfactor_module
    conditioning_cutoff_min=4.0,  # [train] data.binder_pocket_cutoff_min
    conditioning_cutoff_max=20.0,  # [train] data.binder_pocket_cutoff_max
    embedder_args=dict(  # [train]
        atom_encoder_depth=3,
        atom_encoder_heads=4,
        add_mol_type_feat=True,
        add_method_conditioning=True,
        add_modified_flag=True,
        add_cyclic_flag=True,
    ),
    msa_args=dict(  # [main] MSAModuleArgs
        msa_s=64,
        msa_blocks=4,
        msa_dropout=0.0,
        z_dropout=0.0,
        use_paired_feature=True,
        pairwise_head_width=32,
        pairwise_num_heads=4,
        activation_checkpointing=False,
        offload_to_cpu=False,
        subsample_msa=False,
        num_subsampled_msa=1024,
    ),
    pairformer_args=dict(  # [main] PairformerArgsV2 (the training config's 48 blocks are overridden: 64)
        num_blocks=64,
        num_heads=16,
        dropout=0.0,
        activation_checkpointing=False,
        offload_to_cpu=False,
        v2=True,
    ),
    score_model_args=dict(  # [train]
        sigma_data=16,
        dim_fourier=256,
        atom_encoder_depth=3,
        atom_encoder_heads=4,
        token_transformer_depth=24,
        token_transformer_heads=16,
        atom_decoder_depth=3,
        atom_decoder_heads=4,
        conditioning_transition_layers=2,
        transformer_post_ln=False,
        activation_checkpointing=False,
    ),
    diffusion_process_args=dict(  # [main] Boltz2DiffusionParams (no weights)
        gamma_0=0.8,
        gamma_min=1.0,
        noise_scale=1.003,
        rho=7,
        step_scale=1.5,
        sigma_min=0.0001,
        sigma_max=160.0,
        sigma_data=16.0,
        P_mean=-1.2,
        P_std=1.5,
        coordinate_augmentation=True,
        alignment_reverse_diff=True,
        synchronize_sigmas=True,
    ),
    use_templates=True,  # [ckpt]
    use_templates_v2=True,  # [ckpt]
    template_args=dict(template_dim=64, template_blocks=2),  # [train]
    # The confidence head: built so that its keys are present, under the prefix confidence_module. No public config
    # gives its arguments (the training config sets confidence_prediction: false); 8 v2 Pairformer blocks as
    # boltz's confidence stack has them. Nothing here reads inside it: only its prefix matters to these tests.
    confidence_prediction=True,
    confidence_model_args=dict(pairformer_args=dict(num_blocks=8, num_heads=16, v2=True), confidence_args={}),
    affinity_prediction=False,  # boltz2_conf.ckpt has no affinity head (boltz2_aff.ckpt is another checkpoint)
    ema=False,  # [main]
    training_args={},
    validation_args={},
    diffusion_loss_args={},
)

_STAND_INS = ("pytorch_lightning", "torchmetrics", "rdkit")


class _LightningModule:  # mixed into torch.nn.Module below (torch is imported lazily)
    def save_hyperparameters(self, *args, **kwargs):
        pass


def _stand_in_modules() -> dict[str, types.ModuleType]:
    from torch import nn

    class LightningModule(_LightningModule, nn.Module):
        pass

    class MeanMetric(nn.Module):
        pass

    class Placeholder:
        pass

    def module(name: str, **attrs) -> types.ModuleType:
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        return m

    return {
        "pytorch_lightning": module(
            "pytorch_lightning", LightningModule=LightningModule, Callback=Placeholder, Trainer=Placeholder
        ),
        "pytorch_lightning.utilities": module("pytorch_lightning.utilities"),
        "pytorch_lightning.utilities.exceptions": module(
            "pytorch_lightning.utilities.exceptions", MisconfigurationException=Exception
        ),
        "pytorch_lightning.utilities.types": module("pytorch_lightning.utilities.types", STEP_OUTPUT=Placeholder),
        "torchmetrics": module("torchmetrics", MeanMetric=MeanMetric),
        "rdkit": module("rdkit"),
        "rdkit.Chem": module("rdkit.Chem", Mol=Placeholder),
    }


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _stand_ins():
    """The stand-ins for the missing third-party modules in sys.modules; afterwards, they and every module imported
    meanwhile that holds one of their objects are gone from sys.modules."""
    missing = {top for top in _STAND_INS if not _importable(top)}
    added = {n: m for n, m in _stand_in_modules().items() if n.split(".")[0] in missing}
    before = set(sys.modules)
    sys.modules.update(added)
    try:
        yield
    finally:
        stand_in_objects = {id(v) for m in added.values() for v in vars(m).values()}
        for name in set(sys.modules) - before:
            module = sys.modules[name]
            if name in added or any(id(v) in stand_in_objects for v in vars(module).values()):
                del sys.modules[name]


@functools.lru_cache(maxsize=1)
def boltz2_model():
    """boltz's Boltz2 with HYPERPARAMETERS, on the meta device (cached: built once per test session, about 1 s)."""
    import torch

    with _stand_ins():
        import boltz.model.layers.initialize as initialize
        from boltz.model.models.boltz2 import Boltz2

        sampler = initialize.trunc_normal_init_
        initialize.trunc_normal_init_ = lambda weights, scale=1.0, fan="fan_in": None
        try:
            with torch.device("meta"):
                return Boltz2(**HYPERPARAMETERS)
        finally:
            initialize.trunc_normal_init_ = sampler


def checkpoint_state() -> dict:
    """key -> meta tensor: boltz2_conf.ckpt's state_dict keys and shapes."""
    return boltz2_model().state_dict()


def aliases() -> dict[str, str]:
    """key -> the first key of the same tensor, for each state_dict key that names a tensor already named: boltz
    registers some modules twice (DiffusionTransformerLayer's output_projection_linear is also its
    output_projection.0), so the checkpoint holds the one tensor under two keys."""
    first: dict[int, str] = {}
    found = {}
    for key, tensor in boltz2_model().state_dict(keep_vars=True).items():
        if id(tensor) in first:
            found[key] = first[id(tensor)]
        else:
            first[id(tensor)] = key
    return found


if __name__ == "__main__":  # print the key set: key, shape
    for key, tensor in checkpoint_state().items():
        print(key, list(tensor.shape))
