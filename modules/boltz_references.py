"""Torch references for the Boltz-2 stack descriptions: boltz 2.2.1's own modules held under the attribute names
boltz.model.models.boltz2.Boltz2 gives them, so a reference's state_dict keys are the Boltz-2 checkpoint's
(`pairformer_module.layers.0.tri_mul_out.p_in.weight`, ...)."""

from torch import nn


class Boltz2Trunk(nn.Module):
    """Boltz2.pairformer_module: PairformerModule(token_s, token_z, num_blocks, ..., v2=True) at inference."""

    def __init__(self, token_s, token_z, num_blocks, num_heads, pairwise_head_width, pairwise_num_heads):
        super().__init__()
        from boltz.model.layers.pairformer import PairformerModule

        self.pairformer_module = PairformerModule(
            token_s,
            token_z,
            num_blocks,
            num_heads=num_heads,
            dropout=0.0,
            pairwise_head_width=pairwise_head_width,
            pairwise_num_heads=pairwise_num_heads,
            v2=True,
        )

    def forward(self, s, z, mask, pair_mask):
        return self.pairformer_module(s, z, mask, pair_mask)
