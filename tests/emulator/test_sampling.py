"""On-device sampling on the emulator: ``ttnn.topk``, ``ttnn.sampling``, ``ttnn.manual_seed`` and their glue.

Semantics follow ttnn 0.81.1: topk's golden (torch.topk) and docstring (index dtype rule, measured on the mock
device), the sampling kernels shipped in the wheel (top-32 candidates, top-k mask, temperature, softmax, top-p prefix,
the first renormalized cumulative probability above a lattice threshold) and the device op's validation. Facts from
ttnn's own tests/ttnn/unit_tests/operations/test_sampling.py: p=0 gives the top-1 index for any k; outputs are
deterministic for a seed and differ between unseeded calls.
"""

from __future__ import annotations

import math

import pytest
import torch

import tttgen.checking.emulator as emu
from emu_helpers import N150, rejects as _rejects

USERS = 32


def _dev(ttnn, device, x, dtype, layout):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device, memory_config=ttnn.DRAM_MEMORY_CONFIG)


def _inputs(ttnn, device, logits, *, k=32, p=1.0, temp=1.0, ids=None, index_dtype=None):
    """values [1, 1, users, W] bf16 TILE, indices (default: the positions) row-major, per-user k / p / temp."""
    users, width = logits.shape
    ids = torch.arange(width).expand(users, width) if ids is None else ids
    index_dtype = index_dtype or ttnn.uint32
    per_user = lambda v: torch.as_tensor(v).expand(users).clone()  # noqa: E731
    return dict(
        input_values_tensor=_dev(ttnn, device, logits.reshape(1, 1, users, width), ttnn.bfloat16, ttnn.TILE_LAYOUT),
        input_indices_tensor=_dev(
            ttnn,
            device,
            ids.reshape(1, 1, users, width).to(torch.int32 if index_dtype == ttnn.int32 else torch.uint32),
            index_dtype,
            ttnn.ROW_MAJOR_LAYOUT,
        ),
        k=_dev(ttnn, device, per_user(k).to(torch.uint32), ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT),
        p=_dev(ttnn, device, per_user(p).float(), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT),
        temp=_dev(ttnn, device, per_user(temp).float(), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT),
    )


def _sample(ttnn, args, **kw):
    return ttnn.to_torch(ttnn.sampling(**args, **kw)).reshape(-1).long()


def _spread_logits(gen, users=USERS, width=128):
    """Logits whose 32 largest are close: a softmax over them is far from one-hot."""
    return torch.randn(users, width, generator=gen) * 0.3


# ------------------------------------------------------------------------------------------------ topk


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_topk_matches_torch_topk(ttnn, device, gen, dtype):
    x = torch.randn(1, 1, 32, 1024, generator=gen)
    t = _dev(ttnn, device, x, getattr(ttnn, dtype), ttnn.TILE_LAYOUT)
    ref = x.bfloat16().float() if dtype == "bfloat16" else x
    for largest in (True, False):
        values, indices = ttnn.topk(t, k=32, dim=-1, largest=largest)
        ref_v, ref_i = torch.topk(ref, 32, dim=-1, largest=largest)
        assert values.dtype == getattr(ttnn, dtype) and values.layout == ttnn.TILE_LAYOUT
        assert list(values.shape) == [1, 1, 32, 32] and list(indices.shape) == [1, 1, 32, 32]
        assert torch.equal(ttnn.to_torch(values).float(), ref_v)
        assert torch.equal(ttnn.to_torch(indices).long(), ref_i)


def test_topk_index_dtype_rule(dry_ttnn):
    """Docstring rule, measured on the 0.81.1 mock device: UINT16 indices unless the tile-padded reduced dim is above
    65536 or the input is float32 (W 512, 32768, 65536 -> UINT16; 65568, 128256 -> UINT32)."""
    ttnn = dry_ttnn
    device = ttnn.open_device(device_id=0)
    for width, dtype, expected in (
        (512, ttnn.bfloat16, ttnn.uint16),
        (32768, ttnn.bfloat16, ttnn.uint16),
        (65536, ttnn.bfloat16, ttnn.uint16),
        (65568, ttnn.bfloat16, ttnn.uint32),
        (128256, ttnn.bfloat16, ttnn.uint32),
        (512, ttnn.float32, ttnn.uint32),
        (512, ttnn.bfloat8_b, ttnn.uint16),
    ):
        t = _dev(ttnn, device, torch.zeros(1, 1, 32, width), dtype, ttnn.TILE_LAYOUT)
        values, indices = ttnn.topk(t, k=32)
        assert (values.dtype, indices.dtype, indices.layout) == (dtype, expected, ttnn.TILE_LAYOUT), width


def test_topk_large_vocab_indices_are_exact(ttnn, device, gen):
    """Positions above 65535 survive in the UINT32 indices of a 128256-wide row."""
    x = torch.randn(1, 1, 32, 128256, generator=gen)
    x[0, 0, torch.arange(32), 100000 + torch.arange(32)] = 50.0 + torch.arange(32).float()
    values, indices = ttnn.topk(_dev(ttnn, device, x, ttnn.bfloat16, ttnn.TILE_LAYOUT), k=32)
    assert indices.dtype == ttnn.uint32
    ids = ttnn.to_torch(indices).long()
    assert torch.equal(ids[0, 0, :, 0], 100000 + torch.arange(32))
    assert torch.equal(ids, torch.topk(x.bfloat16().float(), 32).indices)


def test_topk_indices_tensor_returns_labels_and_widens(ttnn, device, gen):
    x = torch.randn(1, 1, 32, 256, generator=gen)
    labels = torch.randint(0, 2**20, (1, 1, 32, 256), generator=gen).int()
    t = _dev(ttnn, device, x, ttnn.bfloat16, ttnn.TILE_LAYOUT)
    lt = _dev(ttnn, device, labels, ttnn.int32, ttnn.TILE_LAYOUT)
    _, indices = ttnn.topk(t, k=32, indices_tensor=lt)
    assert indices.dtype == ttnn.int32
    ref = torch.gather(labels.long(), -1, torch.topk(x.bfloat16().float(), 32).indices)
    assert torch.equal(ttnn.to_torch(indices).long(), ref)


def test_topk_stable_breaks_ties_by_lowest_index(ttnn, device):
    x = torch.zeros(1, 1, 32, 64)
    x[..., 10] = x[..., 40] = x[..., 3] = 1.0
    _, indices = ttnn.topk(_dev(ttnn, device, x, ttnn.bfloat16, ttnn.TILE_LAYOUT), k=32, stable=True)
    ids = ttnn.to_torch(indices).long()
    assert torch.equal(ids[0, 0, 0, :5], torch.tensor([3, 10, 40, 0, 1]))


def test_topk_rejections(ttnn, device):
    x = torch.zeros(1, 1, 32, 512)
    t = _dev(ttnn, device, x, ttnn.bfloat16, ttnn.TILE_LAYOUT)
    rm = _dev(ttnn, device, x, ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
    i32 = _dev(ttnn, device, x.int(), ttnn.int32, ttnn.TILE_LAYOUT)
    u32 = _dev(ttnn, device, x.to(torch.uint32), ttnn.uint32, ttnn.TILE_LAYOUT)
    _rejects(ttnn, "topk.layout", lambda: ttnn.topk(rm, k=32), match="The input must be in tiled format")
    _rejects(ttnn, "topk.dtype", lambda: ttnn.topk(i32, k=32), match="Input tensor must be BFLOAT16, BFLOAT8_B")
    _rejects(ttnn, "topk.k", lambda: ttnn.topk(t, k=600), match="K cannot be larger than the dimension size! K=600")
    _rejects(ttnn, "topk.sharded_output", lambda: ttnn.topk(t, k=32, memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG))
    _rejects(ttnn, "topk.stable_indices", lambda: ttnn.topk(t, k=32, stable=True, indices_tensor=u32))
    fp32 = _dev(ttnn, device, x, ttnn.float32, ttnn.TILE_LAYOUT)
    u16 = _dev(ttnn, device, x.to(torch.uint16), ttnn.uint16, ttnn.TILE_LAYOUT)
    _rejects(ttnn, "topk.indices_tensor_width", lambda: ttnn.topk(fp32, k=32, indices_tensor=u16))
    with pytest.raises(ttnn.EmulatorUnsupported):
        ttnn.topk(t, k=5)  # a TILE output 5 wide: outside the emulator's tile-aligned widths


# ------------------------------------------------------------------------------------------------ glue


def test_glue_ops_around_sampling(ttnn, device, gen):
    """The calls a generated LM package makes between the logits and ttnn.sampling."""
    logits = _dev(ttnn, device, torch.randn(1, 1, 32, 1024, generator=gen), ttnn.bfloat16, ttnn.TILE_LAYOUT)
    vocab = ttnn.slice(logits, [0, 0, 0, 0], [1, 1, 32, 992])
    assert list(vocab.shape) == [1, 1, 32, 992] and vocab.layout == ttnn.TILE_LAYOUT
    values, indices = ttnn.topk(logits, k=32)
    assert indices.dtype == ttnn.uint16
    as_u32 = ttnn.typecast(indices, ttnn.uint32)
    assert (as_u32.dtype, as_u32.layout) == (ttnn.uint32, ttnn.TILE_LAYOUT)
    for tiled in (indices, as_u32):
        rm = ttnn.to_layout(tiled, ttnn.ROW_MAJOR_LAYOUT)
        assert rm.layout == ttnn.ROW_MAJOR_LAYOUT and rm.dtype == tiled.dtype
        assert torch.equal(ttnn.to_torch(rm).long(), ttnn.to_torch(indices).long())
    k = _dev(ttnn, device, torch.full((32,), 32, dtype=torch.uint32), ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT)
    p = _dev(ttnn, device, torch.full((32,), 0.5, dtype=torch.bfloat16), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
    assert (k.dtype, k.layout, list(k.shape)) == (ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT, [32])
    assert (p.dtype, list(p.shape)) == (ttnn.bfloat16, [32])
    assert torch.equal(ttnn.to_torch(k).long(), torch.full((32,), 32))
    # the whole chain: top-32 of the logits, their vocabulary ids as row-major uint32, then the draw (greedy: p=0)
    ids = ttnn.to_layout(as_u32, ttnn.ROW_MAJOR_LAYOUT)
    zero_p = _dev(ttnn, device, torch.zeros(32, dtype=torch.bfloat16), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
    temp = _dev(ttnn, device, torch.ones(32, dtype=torch.bfloat16), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
    out = ttnn.sampling(values, ids, k=k, p=zero_p, temp=temp, seed=3)
    assert torch.equal(ttnn.to_torch(out).reshape(-1).long(), ttnn.to_torch(logits).float()[0, 0].argmax(-1))


def test_the_chunked_topk_chain_picks_every_users_global_top_candidates(ttnn, device, gen):
    """What sampled_step does for a vocab too wide for one multi-core topk: tile-aligned chunks padded with -inf to a
    power-of-two width (ttnn.pad), each chunk's top 32 labelled with their vocab ids (indices_tensor), the chunks'
    candidates concatenated; p = 0 then draws each user's global argmax."""
    vocab, width = 3 * 1024 - 64, 1024
    logits = torch.randn(1, 1, 32, vocab, generator=gen)
    device_logits = _dev(ttnn, device, logits, ttnn.bfloat16, ttnn.TILE_LAYOUT)
    chunks = [(0, 992), (992, 2016), (2016, vocab)]
    values, ids = [], []
    for start, end in chunks:
        part = ttnn.slice(device_logits, [0, 0, 0, start], [1, 1, 32, end])
        padded = ttnn.pad(part, [(0, 0), (0, 0), (0, 0), (0, width - (end - start))], value=float("-inf"))
        assert list(padded.shape) == [1, 1, 32, width]
        tail = ttnn.to_torch(padded).float()[0, 0, :, end - start :]
        assert bool(torch.isinf(tail).all()) and bool((tail < 0).all())
        labels = torch.arange(start, start + width, dtype=torch.int32).repeat(1, 1, 32, 1)
        top_values, top_ids = ttnn.topk(
            padded, k=32, dim=-1, indices_tensor=_dev(ttnn, device, labels, ttnn.uint32, ttnn.TILE_LAYOUT)
        )
        values.append(top_values)
        ids.append(top_ids)
    candidates = ttnn.concat(values, dim=-1)
    rows = ttnn.to_layout(ttnn.concat(ids, dim=-1), ttnn.ROW_MAJOR_LAYOUT)
    assert list(candidates.shape) == [1, 1, 32, 96] and rows.dtype == ttnn.uint32
    want = torch.topk(ttnn.to_torch(device_logits).float()[0, 0], 32).indices
    got = ttnn.to_torch(rows).long()[0, 0]
    for user in range(32):
        assert set(want[user].tolist()) <= set(got[user].tolist())
    k = _dev(ttnn, device, torch.full((32,), 32, dtype=torch.uint32), ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT)
    zero = _dev(ttnn, device, torch.zeros(32), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
    one = _dev(ttnn, device, torch.ones(32), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
    padded_w = ttnn.pad(candidates, [(0, 0), (0, 0), (0, 0), (0, 32)], value=float("-inf"))  # W 128: a power of two
    rows_w = ttnn.to_layout(
        ttnn.pad(ttnn.concat(ids, dim=-1), [(0, 0), (0, 0), (0, 0), (0, 32)], value=0), ttnn.ROW_MAJOR_LAYOUT
    )
    drawn = ttnn.to_torch(ttnn.sampling(padded_w, rows_w, k=k, p=zero, temp=one)).reshape(-1).long()
    assert torch.equal(drawn, ttnn.to_torch(device_logits).float()[0, 0].argmax(-1))


def test_pad_rejects_front_padding_of_a_tile_tensor(ttnn, device):
    x = _dev(ttnn, device, torch.zeros(1, 1, 32, 64), ttnn.bfloat16, ttnn.TILE_LAYOUT)
    _rejects(ttnn, "pad.tile_front", lambda: ttnn.pad(x, [(0, 0), (0, 0), (0, 0), (32, 0)], value=0.0))
    _rejects(ttnn, "pad.negative", lambda: ttnn.pad(x, [(0, 0), (0, 0), (0, 0), (0, -32)], value=0.0))


# ------------------------------------------------------------------------------------------------ sampling


def test_sampling_output_spec(ttnn, device, gen):
    for users, index_dtype in ((32, "uint32"), (8, "int32"), (1, "uint32")):
        args = _inputs(ttnn, device, _spread_logits(gen, users, 64), index_dtype=getattr(ttnn, index_dtype))
        out = ttnn.sampling(**args, seed=1)
        assert (list(out.shape), out.dtype, out.layout) == ([1, 1, 1, users], ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT)


def test_p_zero_returns_the_argmax_for_every_user(ttnn, device, gen):
    logits = torch.randn(USERS, 256, generator=gen)
    k = torch.randint(1, 33, (USERS,), generator=gen)
    temp = torch.rand(USERS, generator=gen) * 2 + 0.1
    args = _inputs(ttnn, device, logits, k=k, p=0.0, temp=temp)
    argmax = logits.bfloat16().float().argmax(-1)
    for seed in range(1, 21):
        assert torch.equal(_sample(ttnn, args, seed=seed), argmax)


def test_k_one_returns_the_argmax(ttnn, device, gen):
    logits = _spread_logits(gen, width=512)
    args = _inputs(ttnn, device, logits, k=1, p=1.0, temp=1.0)
    for seed in range(1, 21):
        assert torch.equal(_sample(ttnn, args, seed=seed), logits.bfloat16().float().argmax(-1))


def test_returns_the_label_of_the_drawn_position(ttnn, device, gen):
    """The op returns input_indices_tensor[final_index], not the position (docstring)."""
    logits = torch.randn(USERS, 64, generator=gen)
    labels = torch.randint(0, 128256, (USERS, 64), generator=gen)
    args = _inputs(ttnn, device, logits, k=1, p=1.0, ids=labels, index_dtype=ttnn.int32)
    expected = labels.gather(1, logits.bfloat16().float().argmax(-1, keepdim=True)).reshape(-1)
    assert torch.equal(_sample(ttnn, args, seed=5), expected)


def _nucleus(row: torch.Tensor, k: int, p: float, temp: float) -> tuple[set[int], float]:
    """The docstring's rule in float64: softmax(values * temp) of the k largest, then the smallest prefix whose
    cumulative probability exceeds p. Also returns the distance of p from the nearest cumulative sum."""
    top = torch.topk(row.double(), k)
    probs = torch.softmax(top.values * temp, dim=0)
    cum = torch.cumsum(probs, dim=0)
    kept = int((cum <= p).sum()) + 1
    return set(top.indices[: min(kept, k)].tolist()), float((cum - p).abs().min())


def test_samples_stay_inside_top_k_and_the_top_p_nucleus(ttnn, device, gen):
    logits = (torch.randn(USERS, 256, generator=gen) * 0.5).bfloat16().float()
    ks = torch.randint(1, 33, (USERS,), generator=gen)
    ps = torch.rand(USERS, generator=gen).bfloat16().float()
    temps = (torch.rand(USERS, generator=gen) + 0.5).bfloat16().float()
    nuclei = []
    for u in range(USERS):
        kept, margin = _nucleus(logits[u], int(ks[u]), float(ps[u]), float(temps[u]))
        while margin < 0.02:  # keep p away from a cumulative sum, where bf16 rounding may move the cut by one
            ps[u] = float(torch.rand(1, generator=gen).bfloat16())
            kept, margin = _nucleus(logits[u], int(ks[u]), float(ps[u]), float(temps[u]))
        nuclei.append(kept)
    args = _inputs(ttnn, device, logits, k=ks, p=ps, temp=temps)
    seen = [set() for _ in range(USERS)]
    for seed in range(1, 301):
        for u, token in enumerate(_sample(ttnn, args, seed=seed).tolist()):
            assert token in nuclei[u], (u, token, nuclei[u])
            seen[u].add(token)
    # the draw covers the nucleus, not just its head (300 draws; every nucleus token has probability >= ~1/50)
    assert sum(len(s) for s in seen) >= 0.9 * sum(len(n) for n in nuclei)


def test_draw_frequencies_follow_the_renormalized_probabilities(ttnn, device):
    """k=4 of [0.4, 0.3, 0.2, 0.1, ...]: each user draws token j with probability ~ probs[j]."""
    width = 64
    logits = torch.full((USERS, width), -30.0)
    logits[:, :4] = torch.log(torch.tensor([0.4, 0.3, 0.2, 0.1]))
    args = _inputs(ttnn, device, logits, k=4, p=1.0, temp=1.0)
    # a seed per user: an int seed would give every core (user) the same stream (tt-metal #44661)
    ttnn.manual_seed(_row(ttnn, device, [11 + u for u in range(USERS)]), user_ids=_row(ttnn, device, range(USERS)))
    counts = torch.zeros(width)
    for _ in range(60):
        counts += torch.bincount(_sample(ttnn, args), minlength=width).float()
    freq = counts / counts.sum()
    assert torch.allclose(freq[:4], torch.tensor([0.4, 0.3, 0.2, 0.1]), atol=0.03), freq[:4]
    assert freq[4:].sum() == 0


def test_temperature_sharpens_and_spreads(ttnn, device, gen):
    # logits 0.25 apart: temp (1/T) = 64 makes every other token e^-16 as likely -> always the argmax
    logits = torch.stack([torch.randperm(128, generator=gen).float() * 0.25 for _ in range(USERS)])
    argmax = logits.argmax(-1)
    cold = _inputs(ttnn, device, logits, k=32, p=1.0, temp=64.0)
    for seed in range(1, 21):
        assert torch.equal(_sample(ttnn, cold, seed=seed), argmax)
    # temp = 1/64: the 32 candidates are nearly uniform -> many distinct tokens per user
    hot = _inputs(ttnn, device, logits, k=32, p=1.0, temp=1.0 / 64)
    draws = torch.stack([_sample(ttnn, hot, seed=seed) for seed in range(1, 101)])
    distinct = [len(set(draws[:, u].tolist())) for u in range(USERS)]
    assert min(distinct) >= 20, distinct
    assert float((draws == argmax).float().mean()) < 0.1


def test_same_seed_same_ids_and_seed_zero_does_not_reseed(ttnn, device, gen):
    args = _inputs(ttnn, device, _spread_logits(gen), k=32, p=1.0, temp=1.0)
    a = _sample(ttnn, args, seed=1234)
    _sample(ttnn, args)  # moves the stream on
    assert torch.equal(_sample(ttnn, args, seed=1234), a)
    assert not torch.equal(_sample(ttnn, args, seed=4321), a)
    # the kernel calls rand_tile_init only `if (seed != 0)`: seed=0 continues the stream like seed=None
    ttnn.manual_seed(9, device=device)
    b = _sample(ttnn, args, seed=0)
    ttnn.manual_seed(9, device=device)
    assert torch.equal(_sample(ttnn, args), b)


def test_without_a_seed_the_stream_continues(ttnn, device, gen):
    args = _inputs(ttnn, device, _spread_logits(gen), k=32, p=1.0, temp=1.0)
    first = _sample(ttnn, args, seed=77)
    second = _sample(ttnn, args)
    third = _sample(ttnn, args)
    assert not torch.equal(first, second) and not torch.equal(second, third)
    # deterministic: the same seed followed by unseeded calls replays the same sequence
    assert torch.equal(_sample(ttnn, args, seed=77), first)
    assert torch.equal(_sample(ttnn, args), second)
    assert torch.equal(_sample(ttnn, args), third)


def test_manual_seed_sets_the_stream(ttnn, device, gen):
    args = _inputs(ttnn, device, _spread_logits(gen), k=32, p=1.0, temp=1.0)
    out = ttnn.manual_seed(5, device=device)
    assert (list(out.shape), out.dtype, out.layout) == ([1], ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT)
    a = _sample(ttnn, args)
    ttnn.manual_seed(5, device=device)
    assert torch.equal(_sample(ttnn, args), a)
    ttnn.manual_seed(2**32 - 1, device=device)  # UINT32_MAX skips rand_tile_init: the stream goes on
    ttnn.manual_seed(5, device=device)
    _sample(ttnn, args)
    ttnn.manual_seed(2**32 - 1, device=device)
    assert not torch.equal(_sample(ttnn, args), a)
    _rejects(ttnn, "manual_seed.device", lambda: ttnn.manual_seed(5), match="Device must be provided")
    seeds = _dev(ttnn, device, torch.arange(32, dtype=torch.int32), ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT)
    with pytest.raises(ttnn.EmulatorUnsupported):  # tt-metal selects no program factory for it
        ttnn.manual_seed(seeds)


def _row(ttnn, device, values, dtype=None):
    return _dev(ttnn, device, torch.tensor(values, dtype=torch.int32), dtype or ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT)


def test_one_seed_for_every_core_gives_every_user_the_same_stream(ttnn, device):
    """tt-metal #44661: an int seed seeds every core alike, so users with equal logits draw equal tokens; a seed per
    user id (a seeds tensor and a user_ids tensor) gives each its own stream."""
    args = _inputs(ttnn, device, torch.zeros(USERS, 64), k=32, p=1.0, temp=1.0)  # 32 equally likely candidates
    ttnn.manual_seed(5, device=device)
    assert len(set(_sample(ttnn, args).tolist())) == 1
    assert len(set(_sample(ttnn, args, seed=8).tolist())) == 1
    ttnn.manual_seed(_row(ttnn, device, [1000 + u for u in range(USERS)]), user_ids=_row(ttnn, device, range(USERS)))
    assert len(set(_sample(ttnn, args).tolist())) >= USERS // 2


def test_a_seed_per_user_id_reseeds_only_those_cores(ttnn, device, gen):
    args = _inputs(ttnn, device, _spread_logits(gen), k=32, p=1.0, temp=1.0)
    ids = _row(ttnn, device, [7, 2])
    ttnn.manual_seed(_row(ttnn, device, [70, 20]), user_ids=ids)
    first = [_sample(ttnn, args) for _ in range(3)]
    ttnn.manual_seed(_row(ttnn, device, [70, 20]), user_ids=ids)
    again = [_sample(ttnn, args) for _ in range(3)]
    assert all(torch.equal(a[[2, 7]], b[[2, 7]]) for a, b in zip(first, again))  # cores 2 and 7 restarted
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(first, again))  # core 0 went on
    # one seed for the cores a user_ids tensor names, or for one core id; UINT32_MAX leaves a core unchanged
    ttnn.manual_seed(70, device=device, user_ids=_row(ttnn, device, [7]))
    ttnn.manual_seed(70, device=device, user_ids=2)
    ttnn.manual_seed(_row(ttnn, device, [70, 20]), user_ids=_row(ttnn, device, [7, 7]))  # the first id naming 7
    ttnn.manual_seed(2**32 - 1, device=device, user_ids=2)
    a = _sample(ttnn, args)
    ttnn.manual_seed(_row(ttnn, device, [70, 70]), user_ids=_row(ttnn, device, [7, 2]))
    assert torch.equal(_sample(ttnn, args)[[2, 7]], a[[2, 7]])
    _rejects(
        ttnn,
        "manual_seed.user_id_range",
        lambda: ttnn.manual_seed(5, device=device, user_ids=32),
        match="User IDs scalar must be in the range [0, 31]",
    )
    _rejects(
        ttnn,
        "manual_seed.volume",
        lambda: ttnn.manual_seed(_row(ttnn, device, [1, 2]), user_ids=_row(ttnn, device, [1])),
        match="same number of elements. Got seeds volume: 2 and user_ids volume: 1",
    )
    _rejects(
        ttnn,
        "manual_seed.seeds_dtype",
        lambda: ttnn.manual_seed(_row(ttnn, device, [1], ttnn.int32), user_ids=_row(ttnn, device, [1])),
        match="Seeds tensor must be of type UINT32",
    )
    _rejects(
        ttnn,
        "manual_seed.user_ids_scalar",
        lambda: ttnn.manual_seed(_row(ttnn, device, [1]), user_ids=1),
        match="user_ids must not be provided as a scalar",
    )


def _replay(ttnn, device, tid, out, times=4):
    draws = []
    for _ in range(times):
        ttnn.execute_trace(device, tid, cq_id=0, blocking=True)
        draws.append(ttnn.to_torch(out).reshape(-1).long())
    return draws


def test_trace_replays_draw_new_numbers_without_a_seed(gen):
    """execute_trace re-runs the recorded sampling, which draws from the device's stream: new ids every replay.
    A seed is part of the traced program (a compile-time argument of the kernel): every replay reseeds, draws the same
    ids, and leaves the stream in the same state - so unseeded draws recorded after a seeded one repeat too."""
    with emu.installed(**N150) as ttnn:
        device = ttnn.open_device(device_id=0, trace_region_size=1 << 20)
        args = _inputs(ttnn, device, _spread_logits(gen), k=32, p=1.0, temp=1.0)
        ttnn.manual_seed(3, device=device)
        tid = ttnn.begin_trace_capture(device, cq_id=0)
        out = ttnn.sampling(**args)
        ttnn.end_trace_capture(device, tid, cq_id=0)
        replays = _replay(ttnn, device, tid, out)
        assert all(not torch.equal(a, b) for a, b in zip(replays, replays[1:]))

        tid = ttnn.begin_trace_capture(device, cq_id=0)
        seeded = ttnn.sampling(**args, seed=99)
        after = ttnn.sampling(**args)
        ttnn.end_trace_capture(device, tid, cq_id=0)
        fixed = _replay(ttnn, device, tid, seeded)
        assert all(torch.equal(f, fixed[0]) for f in fixed)
        assert torch.equal(fixed[0], _sample(ttnn, args, seed=99))
        following = _replay(ttnn, device, tid, after)
        assert all(torch.equal(f, following[0]) for f in following)


# ------------------------------------------------------------------------------------------------ rejections


def _bad_inputs(ttnn, device, **override):
    """Valid inputs (8 users, W 64) with one argument replaced; values given as (shape, dtype, layout)."""
    spec = dict(
        input_values_tensor=([1, 1, 8, 64], "bfloat16", "TILE_LAYOUT"),
        input_indices_tensor=([1, 1, 8, 64], "uint32", "ROW_MAJOR_LAYOUT"),
        k=([8], "uint32", "ROW_MAJOR_LAYOUT"),
        p=([8], "bfloat16", "ROW_MAJOR_LAYOUT"),
        temp=([8], "bfloat16", "ROW_MAJOR_LAYOUT"),
    )
    spec.update(override)
    fill = {"k": 32, "p": 0.5, "temp": 1.0}
    args = {}
    for name, (shape, dtype, layout) in spec.items():
        x = torch.full(shape, float(fill.get(name, 1.0)))
        if dtype in ("uint32", "int32", "uint16"):
            x = x.to({"uint32": torch.uint32, "int32": torch.int32, "uint16": torch.uint16}[dtype])
        args[name] = _dev(ttnn, device, x, getattr(ttnn, dtype), getattr(ttnn, layout))
    return args


SAMPLING_REJECTIONS = [
    ("sampling.values_dtype", dict(input_values_tensor=([1, 1, 8, 64], "float32", "TILE_LAYOUT")), "Only BFLOAT16"),
    ("sampling.values_dtype", dict(input_values_tensor=([1, 1, 8, 64], "bfloat8_b", "TILE_LAYOUT")), None),
    ("sampling.values_layout", dict(input_values_tensor=([1, 1, 8, 64], "bfloat16", "ROW_MAJOR_LAYOUT")), None),
    ("sampling.indices_dtype", dict(input_indices_tensor=([1, 1, 8, 64], "uint16", "ROW_MAJOR_LAYOUT")), "UINT32 &"),
    ("sampling.indices_layout", dict(input_indices_tensor=([1, 1, 8, 64], "uint32", "TILE_LAYOUT")), None),
    ("sampling.indices_shape", dict(input_indices_tensor=([1, 1, 8, 128], "uint32", "ROW_MAJOR_LAYOUT")), None),
    (
        "sampling.rank",
        dict(
            input_values_tensor=([1, 8, 64], "bfloat16", "TILE_LAYOUT"),
            input_indices_tensor=([1, 8, 64], "uint32", "ROW_MAJOR_LAYOUT"),
        ),
        "rank-4; got rank 3",
    ),
    (
        "sampling.nc",
        dict(
            input_values_tensor=([2, 1, 8, 64], "bfloat16", "TILE_LAYOUT"),
            input_indices_tensor=([2, 1, 8, 64], "uint32", "ROW_MAJOR_LAYOUT"),
        ),
        "(N, C) to be 1",
    ),
    (
        "sampling.users",
        dict(
            input_values_tensor=([1, 1, 64, 64], "bfloat16", "TILE_LAYOUT"),
            input_indices_tensor=([1, 1, 64, 64], "uint32", "ROW_MAJOR_LAYOUT"),
        ),
        "between 1 and 32 users",
    ),
    # sampling.width (W % 32) cannot be reached: the emulator holds TILE tensors of tile-aligned widths only
    (
        "sampling.width_pow2",
        dict(
            input_values_tensor=([1, 1, 8, 96], "bfloat16", "TILE_LAYOUT"),
            input_indices_tensor=([1, 1, 8, 96], "uint32", "ROW_MAJOR_LAYOUT"),
        ),
        "power-of-2 number of tiles (Wt = W/32 = 3)",
    ),
    ("sampling.k_dtype", dict(k=([8], "bfloat16", "ROW_MAJOR_LAYOUT")), "for k!"),
    ("sampling.p_dtype", dict(p=([8], "float32", "ROW_MAJOR_LAYOUT")), "for p!"),
    ("sampling.temp_dtype", dict(temp=([8], "uint32", "ROW_MAJOR_LAYOUT")), "for temp!"),
    ("sampling.k_layout", dict(k=([1, 32], "uint32", "TILE_LAYOUT")), None),
    ("sampling.p_layout", dict(p=([1, 32], "bfloat16", "TILE_LAYOUT")), None),
    ("sampling.temp_layout", dict(temp=([1, 32], "bfloat16", "TILE_LAYOUT")), None),
    ("sampling.k_shape", dict(k=([16], "uint32", "ROW_MAJOR_LAYOUT")), "k must have shape [8] (one per user)!"),
    ("sampling.p_shape", dict(p=([1, 8], "bfloat16", "ROW_MAJOR_LAYOUT")), "p must have shape [8]"),
    ("sampling.temp_shape", dict(temp=([4], "bfloat16", "ROW_MAJOR_LAYOUT")), "temp must have shape [8]"),
]


@pytest.mark.parametrize(
    "rule,override,match", SAMPLING_REJECTIONS, ids=[r[0] + str(i) for i, r in enumerate(SAMPLING_REJECTIONS)]
)
def test_sampling_rejections(ttnn, device, rule, override, match):
    args = _bad_inputs(ttnn, device, **override)
    _rejects(ttnn, rule, lambda: ttnn.sampling(**args, seed=1), match=match)


def test_sampling_value_and_placement_rejections(ttnn, device):
    args = _bad_inputs(ttnn, device)
    for bad_k in (0, 33):
        k = _dev(ttnn, device, torch.full((8,), bad_k, dtype=torch.uint32), ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT)
        _rejects(ttnn, "sampling.k_range", lambda: ttnn.sampling(**{**args, "k": k}), match="(0,32]")
    for bad_p in (-0.5, 1.5):
        p = _dev(ttnn, device, torch.full((8,), bad_p), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
        _rejects(ttnn, "sampling.p_range", lambda: ttnn.sampling(**{**args, "p": p}), match="[0.0, 1.0]")
    sharded = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(
            ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(0, 0))}),
            (32, 64),
            ttnn.ShardOrientation.ROW_MAJOR,
        ),
    )
    values = ttnn.from_torch(
        torch.zeros(1, 1, 8, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, memory_config=sharded
    )
    _rejects(ttnn, "sampling.interleaved", lambda: ttnn.sampling(**{**args, "input_values_tensor": values}))
    grid = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(3, 0))})
    _rejects(
        ttnn,
        "sampling.sub_core_grids",
        lambda: ttnn.sampling(**args, sub_core_grids=grid),
        match="Subcore grid must supply at least num_users (8) cores, but found 4!",
    )
    bf16_out = _dev(ttnn, device, torch.zeros(1, 1, 1, 8), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
    _rejects(ttnn, "sampling.output_dtype", lambda: ttnn.sampling(**args, output_tensor=bf16_out))
    short_out = _dev(ttnn, device, torch.zeros(1, 1, 1, 4, dtype=torch.int32), ttnn.int32, ttnn.ROW_MAJOR_LAYOUT)
    _rejects(ttnn, "sampling.output_shape", lambda: ttnn.sampling(**args, output_tensor=short_out), match="[1,1,1,8]")
    # a valid preallocated output is filled in place and returned
    out = _dev(ttnn, device, torch.zeros(1, 1, 1, 8, dtype=torch.int32), ttnn.int32, ttnn.ROW_MAJOR_LAYOUT)
    assert ttnn.sampling(**args, output_tensor=out, seed=2) is out
    assert out.dtype == ttnn.int32
    assert math.prod(out.shape) == 8


def test_top_p_cut_is_strictly_greater_than_p(ttnn, device):
    """writer_interleaved.cpp keeps tokens until the cumulative probability is > p: two equal candidates (0.5 each,
    exact in bf16) with p = 0.5 keep both, so both are drawn."""
    logits = torch.full((USERS, 64), -30.0)
    logits[:, :2] = 1.0
    args = _inputs(ttnn, device, logits, k=2, p=0.5, temp=1.0)
    ttnn.manual_seed(_row(ttnn, device, [21 + u for u in range(USERS)]), user_ids=_row(ttnn, device, range(USERS)))
    draws = torch.cat([_sample(ttnn, args) for _ in range(4)])
    assert set(draws.tolist()) == {0, 1}
