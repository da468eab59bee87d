"""What the Boltz-2 package tests share: the small sizes they build the diffusion step and the boltz2 composite at,
an uneven atom_to_token, and AtomEncoder's per-atom pair inputs as the conditioning packages take them."""

import torch

# the diffusion step: 64 tokens, 8 atoms each (512), the token transformer 192 wide with 4 heads of 48 (padded to 64
# on device, as Boltz-2's 16 heads of 48), 2 token layers and 1 atom layer each side
STEP_SMALL = (
    ("n", "64"),
    ("encoder_depth", "1"),
    ("decoder_depth", "1"),
    ("token_depth", "2"),
    ("token_s", "96"),
    ("token_heads", "4"),
    ("max_atoms", "512"),
)

# the boltz2 composite: 64 tokens (8 atoms each: 512), 2 Pairformer and 1 MSA layers, a 192-wide single track (8 trunk
# heads of 24, as Boltz-2's 16 of 24; the token transformer 384 wide with 8 heads of 48, as Boltz-2's 16 of 48),
# 32-wide pair, 4 token layers (their 32 bias planes one tile wide), 1 atom layer each side; 96 MSA rows (never
# mistaken for 64 tokens)
COMPOSITE_SMALL = (
    ("n", "64"),
    ("num_blocks", "2"),
    ("msa_blocks", "1"),
    ("token_s", "192"),
    ("token_z", "32"),
    ("heads", "8"),
    ("msa_s", "32"),
    ("msa_rows", "96"),
    ("token_depth", "4"),
    ("token_heads", "8"),
    ("encoder_depth", "1"),
    ("decoder_depth", "1"),
    ("max_atoms", "512"),
    ("recycling_steps", "2"),  # three trunk calls on device, s and z carried
)


def uneven_atoms(real_tokens: int, rows: int, tokens: int, gen: torch.Generator):
    """(owner, atom_to_token): `real_tokens` tokens of 3 to 9 atoms each, in order (`owner`: each real atom's
    token), as a one-hot [1, rows, tokens] matrix whose padded atoms' rows are zero."""
    per_token = torch.randint(3, 10, (real_tokens,), generator=gen)
    owner = torch.repeat_interleave(torch.arange(real_tokens), per_token)
    atom_to_token = torch.zeros(1, rows, tokens)
    atom_to_token[0, torch.arange(len(owner)), owner] = 1.0
    return owner, atom_to_token


def atom_pair_columns(owner: torch.Tensor, rows: int, gen: torch.Generator, first_uid: int):
    """(ref_pos, atom_uid, atom_mask), each the first columns of [1, 1, rows, 32]: the len(owner) real atoms first
    (`owner`: each one's token, in atom order), zero after. Reference positions a few angstroms apart; ref_space_uid
    one per three tokens in atom order from `first_uid` (past 256 when it starts near it: the packages get them
    modulo 256, boltz's modules as they are); the atom mask."""
    real = len(owner)
    ref_pos = torch.zeros(1, 1, rows, 32)
    ref_pos[0, 0, :real, :3] = torch.randn(real, 3, generator=gen) * 1.5
    uid = torch.zeros(1, 1, rows, 32)
    uid[0, 0, :real, 0] = (first_uid + owner // 3).float()
    mask = torch.zeros(1, 1, rows, 32)
    mask[0, 0, :real, 0] = 1.0
    return ref_pos, uid, mask
