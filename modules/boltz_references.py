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


class Boltz2TokenTransformer(nn.Module):
    """Boltz2.structure_module.score_model.token_transformer: DiffusionTransformer(dim, dim, depth, heads). Its
    forward takes the per-layer biases heads first, [depth, 1, heads, n, n], and hands boltz its own layout: every
    layer's heads along the last dim, layers outer ([1, n, n, depth * heads], DiffusionConditioning's
    token_trans_bias)."""

    def __init__(self, dim, heads, depth):
        super().__init__()
        from boltz.model.modules.transformersv2 import DiffusionTransformer

        self.structure_module = nn.Module()
        self.structure_module.score_model = nn.Module()
        self.structure_module.score_model.token_transformer = DiffusionTransformer(
            depth=depth, heads=heads, dim=dim, dim_single_cond=dim
        )

    def forward(self, a, s, bias, mask):
        depth, _, heads, n, _ = bias.shape
        bias = bias[:, 0].permute(2, 3, 0, 1).reshape(1, n, n, depth * heads)
        return self.structure_module.score_model.token_transformer(a, s, bias=bias, mask=mask)


class Boltz2MsaLayers(nn.Module):
    """Boltz2.msa_module's layers: MSAModule.forward's loop over its MSALayers (z and m carried) after its input
    projections, which are not part of this reference."""

    def __init__(self, msa_s, token_z, msa_blocks, pairwise_head_width, pairwise_num_heads):
        super().__init__()
        from boltz.model.modules.trunkv2 import MSALayer

        self.msa_module = nn.Module()
        self.msa_module.layers = nn.ModuleList(
            MSALayer(msa_s, token_z, 0.0, 0.0, pairwise_head_width, pairwise_num_heads) for _ in range(msa_blocks)
        )

    def forward(self, z, m, token_mask, msa_mask):
        for layer in self.msa_module.layers:
            z, m = layer(z, m, token_mask, msa_mask)
        return z, m


class Boltz2AtomTransformer(nn.Module):
    """One of Boltz2.structure_module.score_model's two atom transformers: AtomTransformer(attn_window_queries,
    attn_window_keys, dim=atom_s, dim_single_cond=atom_s, depth, heads) at `path` (`atom_attention_encoder.atom_encoder`
    or `atom_attention_decoder.atom_decoder`). Its forward takes the per-layer biases heads first, [depth, K, heads,
    queries, keys], hands boltz its own layout ([1, K, queries, keys, depth * heads], layers outer: DiffusionConditioning's
    atom_enc_bias) and makes the key gather as AtomEncoder does (get_indexing_matrix, single_to_keys)."""

    def __init__(self, dim, heads, depth, queries, keys, path):
        super().__init__()
        from boltz.model.modules.transformersv2 import AtomTransformer

        self.queries, self.keys = queries, keys
        self.structure_module = nn.Module()
        self.structure_module.score_model = nn.Module()
        holder = self.structure_module.score_model
        *outer, last = path.split(".")
        for name in outer:
            holder.add_module(name, nn.Module())
            holder = getattr(holder, name)
        self.transformer = AtomTransformer(
            attn_window_queries=queries, attn_window_keys=keys, dim=dim, dim_single_cond=dim, depth=depth, heads=heads
        )
        holder.add_module(last, self.transformer)

    def forward(self, q, c, bias, mask):
        from functools import partial

        from boltz.model.modules.encodersv2 import get_indexing_matrix, single_to_keys

        depth, windows, heads, queries, keys = bias.shape
        bias = bias.permute(1, 3, 4, 0, 2).reshape(1, windows, queries, keys, depth * heads)
        index = get_indexing_matrix(windows, self.queries, self.keys, q.device)
        to_keys = partial(single_to_keys, indexing_matrix=index, W=self.queries, H=self.keys)
        return self.transformer(q, c, bias, to_keys, mask)


class Boltz2TrunkStep(nn.Module):
    """One recycling step of Boltz2.forward's trunk (no templates) under Boltz2's attribute names: s_init, z_init_1,
    z_init_2, s_norm, z_norm, s_recycle, z_recycle, msa_module (boltz's MSAModule, use_paired_feature as Boltz-2)
    and pairformer_module (PairformerModule, v2). MSAModule.forward takes the raw feature dict and one-hot encodes
    and subsamples the MSA itself; here it gets the features already encoded (msa [1, rows, n, 36]) and runs what its
    forward runs after that, with its own submodules: msa_proj, s_proj on every row, its layers."""

    def __init__(
        self, token_s, token_z, msa_s, num_blocks, msa_blocks, num_heads, pairwise_head_width, pairwise_num_heads
    ):
        super().__init__()
        from boltz.model.layers.pairformer import PairformerModule
        from boltz.model.modules.trunkv2 import MSAModule

        self.s_init = nn.Linear(token_s, token_s, bias=False)
        self.z_init_1 = nn.Linear(token_s, token_z, bias=False)
        self.z_init_2 = nn.Linear(token_s, token_z, bias=False)
        self.s_norm = nn.LayerNorm(token_s)
        self.z_norm = nn.LayerNorm(token_z)
        self.s_recycle = nn.Linear(token_s, token_s, bias=False)
        self.z_recycle = nn.Linear(token_z, token_z, bias=False)
        self.msa_module = MSAModule(
            msa_s,
            token_z,
            token_s,
            msa_blocks,
            msa_dropout=0.0,
            z_dropout=0.0,
            pairwise_head_width=pairwise_head_width,
            pairwise_num_heads=pairwise_num_heads,
            use_paired_feature=True,
            subsample_msa=False,
        )
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

    def forward(self, s_inputs, z_feats, s, z, msa, mask, pair_mask, msa_mask):
        s_init = self.s_init(s_inputs)
        z_init = self.z_init_1(s_inputs)[:, :, None] + self.z_init_2(s_inputs)[:, None, :] + z_feats
        s = s_init + self.s_recycle(self.s_norm(s))
        z = z_init + self.z_recycle(self.z_norm(z))
        m = self.msa_module.msa_proj(msa) + self.msa_module.s_proj(s_inputs).unsqueeze(1)
        zm = z
        for layer in self.msa_module.layers:
            zm, m = layer(zm, m, pair_mask, msa_mask)
        z = z + zm
        return self.pairformer_module(s, z, mask, pair_mask)


def _nested(root, path, module):
    """`module` held at the dotted attribute `path` under `root` (empty holders made on the way)."""
    *outer, last = path.split(".")
    holder = root
    for name in outer:
        if not hasattr(holder, name):
            holder.add_module(name, nn.Module())
        holder = getattr(holder, name)
    holder.add_module(last, module)
    return module


def _to_keys(windows, queries, keys):
    """AtomEncoder's key gather for `windows` windows (get_indexing_matrix, single_to_keys)."""
    from functools import partial

    from boltz.model.modules.encodersv2 import get_indexing_matrix, single_to_keys

    index = get_indexing_matrix(windows, queries, keys, "cpu")
    return partial(single_to_keys, indexing_matrix=index, W=queries, H=keys)


def _atom_bias(bias):
    """Per-layer window biases heads first [depth, K, heads, queries, keys] in boltz's layout, every layer's heads
    along the last dim, layers outer ([1, K, queries, keys, depth * heads]: DiffusionConditioning's atom_enc_bias)."""
    depth, windows, heads, queries, keys = bias.shape
    return bias.permute(1, 3, 4, 0, 2).reshape(1, windows, queries, keys, depth * heads)


def _token_bias(bias):
    """Per-layer token biases heads first [depth, 1, heads, n, n] in boltz's layout [1, n, n, depth * heads]
    (DiffusionConditioning's token_trans_bias)."""
    depth, _, heads, n, _ = bias.shape
    return bias[:, 0].permute(2, 3, 0, 1).reshape(1, n, n, depth * heads)


def _tile_columns(r):
    """Coordinates [..., 3] zero-padded to one tile's 32 columns, as the packages return them."""
    return nn.functional.pad(r, (0, 32 - r.shape[-1]))


class Boltz2AtomAttentionEncoder(nn.Module):
    """Boltz2.structure_module.score_model.atom_attention_encoder: AtomAttentionEncoder(atom_s, token_s, queries,
    keys, depth, heads, structure_prediction=True). Its forward takes the description's inputs (biases heads first,
    atom_to_token [1, atoms, tokens]) and calls boltz's forward with the feats it reads and its own key gather."""

    def __init__(self, atom_s, token_s, heads, depth, queries, keys):
        super().__init__()
        from boltz.model.modules.encodersv2 import AtomAttentionEncoder

        self.queries, self.keys = queries, keys
        # held once, at its Boltz-2 path (an attribute would list its parameters twice in state_dict)
        object.__setattr__(self, "encoder", _nested(
            self,
            "structure_module.score_model.atom_attention_encoder",
            AtomAttentionEncoder(atom_s, token_s, queries, keys, depth, heads, structure_prediction=True),
        ))

    def forward(self, q, c, r, bias, atom_to_token, mask):
        feats = {"ref_pos": r, "atom_pad_mask": mask, "atom_to_token": atom_to_token}
        to_keys = _to_keys(bias.shape[1], self.queries, self.keys)
        a, q_out, _, _ = self.encoder(feats, q, c, _atom_bias(bias), to_keys, r=r)
        return a, q_out


class Boltz2AtomAttentionDecoder(nn.Module):
    """Boltz2.structure_module.score_model.atom_attention_decoder: AtomAttentionDecoder(atom_s, token_s, queries,
    keys, depth, heads). Its forward takes the description's inputs and returns the coordinate update [1, atoms, 3]
    zero-padded to the package's 32 columns."""

    def __init__(self, atom_s, token_s, heads, depth, queries, keys):
        super().__init__()
        from boltz.model.modules.encodersv2 import AtomAttentionDecoder

        self.queries, self.keys = queries, keys
        # held once, at its Boltz-2 path (an attribute would list its parameters twice in state_dict)
        object.__setattr__(self, "decoder", _nested(
            self,
            "structure_module.score_model.atom_attention_decoder",
            AtomAttentionDecoder(atom_s, token_s, queries, keys, depth, heads),
        ))

    def forward(self, a, q, c, bias, atom_to_token, mask):
        feats = {"atom_pad_mask": mask, "atom_to_token": atom_to_token}
        to_keys = _to_keys(bias.shape[1], self.queries, self.keys)
        return _tile_columns(self.decoder(a, q, c, _atom_bias(bias), feats, to_keys))


class Boltz2DiffusionStep(nn.Module):
    """Boltz2.structure_module.score_model: boltz's DiffusionModule (the score model), one forward = one denoising
    step's network call. Its forward takes the description's inputs: the featurised tensors it reads (token and atom
    masks, atom_to_token), the noisy coordinates already scaled by c_in, the time c_noise(sigma) and the diffusion
    conditioning (q, c and the three biases, heads first), and returns r_update [1, atoms, 3] zero-padded to the
    package's 32 columns."""

    def __init__(
        self, token_s, atom_s, dim_fourier, atom_heads, encoder_depth, decoder_depth, token_heads, token_depth,
        queries, keys,
    ):
        super().__init__()
        from boltz.model.modules.diffusionv2 import DiffusionModule

        self.queries, self.keys = queries, keys
        # held once, at its Boltz-2 path (an attribute would list its parameters twice in state_dict)
        object.__setattr__(self, "score_model", _nested(
            self,
            "structure_module.score_model",
            DiffusionModule(
                token_s,
                atom_s,
                atoms_per_window_queries=queries,
                atoms_per_window_keys=keys,
                sigma_data=16,
                dim_fourier=dim_fourier,
                atom_encoder_depth=encoder_depth,
                atom_encoder_heads=atom_heads,
                token_transformer_depth=token_depth,
                token_transformer_heads=token_heads,
                atom_decoder_depth=decoder_depth,
                atom_decoder_heads=atom_heads,
                conditioning_transition_layers=2,
            ),
        ))

    def forward(
        self, s_inputs, s_trunk, r_noisy, times, atom_mask, atom_to_token, q, c, atom_enc_bias, atom_dec_bias,
        token_trans_bias, token_mask,
    ):
        feats = {
            "ref_pos": r_noisy,
            "atom_pad_mask": atom_mask.reshape(1, -1),
            "token_pad_mask": token_mask,
            "atom_to_token": atom_to_token,
        }
        conditioning = {
            "q": q,
            "c": c,
            "atom_enc_bias": _atom_bias(atom_enc_bias),
            "atom_dec_bias": _atom_bias(atom_dec_bias),
            "token_trans_bias": _token_bias(token_trans_bias),
            "to_keys": _to_keys(atom_enc_bias.shape[1], self.queries, self.keys),
        }
        return _tile_columns(self.score_model(s_inputs, s_trunk, r_noisy, times, feats, conditioning))


class Boltz2DiffusionConditioning(nn.Module):
    """Boltz2.diffusion_conditioning (boltz's DiffusionConditioning) at inference, under its Boltz-2 paths: the
    pairwise_conditioner (boltz's PairwiseConditioning), the atom_encoder (boltz's AtomEncoder, structure_prediction),
    atom_enc_proj_z, atom_dec_proj_z and token_trans_proj_z as DiffusionConditioning.__init__ builds them. forward takes
    the description's inputs (atom features concatenated and zero-padded to whole tiles; ref_pos, the ref_space_uid
    and the atom mask each in the first columns of a 32-wide row) and returns z, q, c, the token layers' biases and the
    atom encoder's and decoder's per-window biases as DiffusionConditioning.forward and AtomEncoder.forward compute
    them (AtomEncoder.forward's lines, run on its own submodules, with the atom features it would concatenate given
    already concatenated), each stack heads first with its layers outer."""

    def __init__(
        self, token_s, token_z, atom_s, atom_feature_dim, token_heads, token_depth, atom_z=16, atom_heads=4,
        encoder_depth=3, decoder_depth=3, queries=32, keys=128,
    ):
        super().__init__()
        from boltz.model.modules.encodersv2 import AtomEncoder, PairwiseConditioning

        self.atom_feature_dim = atom_feature_dim
        self.queries, self.keys = queries, keys
        root = "diffusion_conditioning."
        # each held once, at its Boltz-2 path (an attribute would list its parameters twice in state_dict)
        object.__setattr__(self, "pairwise", _nested(
            self, root + "pairwise_conditioner",
            PairwiseConditioning(token_z=token_z, dim_token_rel_pos_feats=token_z, num_transitions=2),
        ))
        object.__setattr__(self, "encoder", _nested(self, root + "atom_encoder", AtomEncoder(
            atom_s=atom_s, atom_z=atom_z, token_s=token_s, token_z=token_z, atoms_per_window_queries=queries,
            atoms_per_window_keys=keys, atom_feature_dim=atom_feature_dim, structure_prediction=True,
        )))

        # as DiffusionConditioning.__init__ builds atom_enc_proj_z, atom_dec_proj_z and token_trans_proj_z
        def projections(width, heads, depth):
            return nn.ModuleList(
                nn.Sequential(nn.LayerNorm(width), nn.Linear(width, heads, bias=False)) for _ in range(depth)
            )

        object.__setattr__(self, "enc_proj", _nested(
            self, root + "atom_enc_proj_z", projections(atom_z, atom_heads, encoder_depth)
        ))
        object.__setattr__(self, "dec_proj", _nested(
            self, root + "atom_dec_proj_z", projections(atom_z, atom_heads, decoder_depth)
        ))
        object.__setattr__(self, "token_proj", _nested(
            self, root + "token_trans_proj_z", projections(token_z, token_heads, token_depth)
        ))

    def forward(self, s_trunk, z_trunk, rel_pos, atom_feats, atom_to_token, ref_pos, atom_uid, atom_mask):
        import torch

        enc = self.encoder
        z = self.pairwise(z_trunk, rel_pos)
        # AtomEncoder.forward, its lines on its submodules
        atom_ref_pos = ref_pos.reshape(1, -1, ref_pos.shape[-1])[..., :3].float()
        atom_uid = atom_uid.reshape(1, -1, atom_uid.shape[-1])[..., 0].long()
        atom_mask = atom_mask.reshape(1, -1, atom_mask.shape[-1])[..., 0].bool()
        c = enc.embed_atom_features(atom_feats[..., : self.atom_feature_dim])
        W, H = self.queries, self.keys
        B, N = c.shape[:2]
        K = N // W
        to_keys = _to_keys(K, W, H)
        atom_ref_pos_queries = atom_ref_pos.view(B, K, W, 1, 3)
        atom_ref_pos_keys = to_keys(atom_ref_pos).view(B, K, 1, H, 3)
        d = atom_ref_pos_keys - atom_ref_pos_queries
        d_norm = 1 / (1 + torch.sum(d * d, dim=-1, keepdim=True))
        atom_mask_queries = atom_mask.view(B, K, W, 1)
        atom_mask_keys = to_keys(atom_mask.unsqueeze(-1).float()).view(B, K, 1, H).bool()
        atom_uid_queries = atom_uid.view(B, K, W, 1)
        atom_uid_keys = to_keys(atom_uid.unsqueeze(-1).float()).view(B, K, 1, H).long()
        v = (atom_mask_queries & atom_mask_keys & (atom_uid_queries == atom_uid_keys)).float().unsqueeze(-1)
        p = enc.embed_atompair_ref_pos(d) * v
        p = p + enc.embed_atompair_ref_dist(d_norm) * v
        p = p + enc.embed_atompair_mask(v) * v
        q = c
        atom_to_token = atom_to_token.float()
        c = c + torch.bmm(atom_to_token, enc.s_to_c_trans(s_trunk.float()))
        atom_to_token_queries = atom_to_token.view(B, K, W, atom_to_token.shape[-1])
        atom_to_token_keys = to_keys(atom_to_token)
        z_to_p = enc.z_to_p_trans(z.float())
        p = p + torch.einsum("bijd,bwki,bwlj->bwkld", z_to_p, atom_to_token_queries, atom_to_token_keys)
        p = p + enc.c_to_p_trans_q(c.view(B, K, W, 1, c.shape[-1]))
        p = p + enc.c_to_p_trans_k(to_keys(c).view(B, K, 1, H, c.shape[-1]))
        p = p + enc.p_mlp(p)
        # DiffusionConditioning.forward: each stack torch.cat([layer(x) ...], dim=-1), returned heads first with the
        # layers outer ([1, n, n, depth * heads] -> [1, depth * heads, n, n]; [1, K, W, H, depth * heads] ->
        # [K, depth * heads, W, H]) as the package's stacks hold them
        token_trans_bias = torch.cat([layer(z) for layer in self.token_proj], dim=-1).permute(0, 3, 1, 2)
        atom_enc_bias = torch.cat([layer(p) for layer in self.enc_proj], dim=-1)[0].permute(0, 3, 1, 2)
        atom_dec_bias = torch.cat([layer(p) for layer in self.dec_proj], dim=-1)[0].permute(0, 3, 1, 2)
        return z, q, c, token_trans_bias, atom_enc_bias, atom_dec_bias


class Boltz2(nn.Module):
    """Boltz-2's trunk, diffusion conditioning and score model under one root, every parameter at its Boltz-2
    checkpoint path (the boltz2 package's reference): Boltz2TrunkStep's, Boltz2DiffusionConditioning's and
    Boltz2DiffusionStep's modules held side by side (their paths do not overlap), so one state dict is all three's.
    recycle runs Boltz2.forward's recycling loop (recycling_steps + 1 trunk steps from zero s and z, each step's s
    and z the next one's); condition the conditioning on its s and z; denoise_step one score-model call."""

    def __init__(
        self, token_s, token_z, msa_s, num_blocks, msa_blocks, num_heads, pairwise_head_width, pairwise_num_heads,
        atom_s, atom_feature_dim, dim_fourier, atom_heads, encoder_depth, decoder_depth, token_heads, token_depth,
        queries, keys,
    ):
        super().__init__()
        parts = (
            Boltz2TrunkStep(
                token_s, token_z, msa_s, num_blocks, msa_blocks, num_heads, pairwise_head_width, pairwise_num_heads
            ),
            Boltz2DiffusionConditioning(
                token_s, token_z, atom_s, atom_feature_dim, token_heads, token_depth, atom_heads=atom_heads,
                encoder_depth=encoder_depth, decoder_depth=decoder_depth, queries=queries, keys=keys,
            ),
            Boltz2DiffusionStep(
                token_s, atom_s, dim_fourier, atom_heads, encoder_depth, decoder_depth, token_heads, token_depth,
                queries, keys,
            ),
        )
        for part in parts:
            for name, child in part.named_children():
                self.add_module(name, child)  # each parameter once, at its own path
        object.__setattr__(self, "parts", parts)

    def recycle(self, s_inputs, z_feats, msa, mask, pair_mask, msa_mask, recycling_steps):
        import torch

        s, z = torch.zeros_like(s_inputs), torch.zeros_like(z_feats)
        for _ in range(recycling_steps + 1):
            s, z = self.parts[0](s_inputs, z_feats, s, z, msa, mask, pair_mask, msa_mask)
        return s, z

    def condition(self, *inputs):
        """Boltz2DiffusionConditioning.forward's inputs and outputs."""
        return self.parts[1](*inputs)

    def denoise_step(self, *inputs):
        """Boltz2DiffusionStep.forward's inputs: the token biases heads first [depth, 1, heads, n, n]."""
        return self.parts[2](*inputs)
