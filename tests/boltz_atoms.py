"""AtomEncoder's per-atom pair inputs as the Boltz-2 conditioning packages take them, for the tests that run them."""

import torch


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
