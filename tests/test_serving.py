"""Issue 24: serving semantics of the generated LM packages, on the emulator with the tiny Llama.

- Idle slots: a decode position of -1 marks an idle user slot (paged or not). ttnn's cache update
  (paged_update_cache's writer skips an update index of -1) and SDPA decode (a user at -1 is skipped) leave it out,
  so an idle slot whose page-table row names a live request's blocks does not touch that request's cache, and the
  live users' outputs do not depend on the idle ones. Its rotary row is clamped so the gather stays in the table.
- Per-user seeds: every user slot draws from its own stream (ttnn.manual_seed with a seeds tensor and a user_ids
  tensor), seeded at open, re-seedable per slot; users with equal logits draw independently; the trace capture does
  not change what a seeded run draws.
"""

import pytest
import torch

PAGED = (("paged", {}), ("prefill_lens", [128]))


def caches(model):
    """Every layer's K and V cache values (a copy)."""
    return [t.values.clone() for t in model.k_cache + model.v_cache]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("transformers")
    from tiny_lm import tiny_llama_on_emulator

    with tiny_llama_on_emulator(tmp_path_factory.mktemp("serving"), "tttgen_serving_tiny") as (model, package):
        yield model, package


@pytest.fixture(scope="module")
def tiny_paged(tmp_path_factory):
    pytest.importorskip("transformers")
    from tiny_lm import tiny_llama_on_emulator

    work = tmp_path_factory.mktemp("serving_paged")
    with tiny_llama_on_emulator(work, "tttgen_serving_paged", flags=PAGED) as (model, package):
        yield model, package


def test_idle_positions_are_validated(tiny):
    model, package = tiny
    users = package.configs.DECODE_USERS
    tokens = torch.zeros(users, dtype=torch.int64)
    positions = torch.full((users,), -2)
    with pytest.raises(ValueError, match=r"or be -1 for an idle user slot; got min -2"):
        model.decode_forward(tokens, positions, traced=False)
    assert package.model.IDLE_POSITION == -1


@pytest.mark.parametrize("traced", [False, True])
def test_an_idle_slot_leaves_its_cache_and_the_live_users_alone(tiny, traced):
    """User 1 holds a prompt; while it is idle (-1) a step for user 0 writes nothing of user 1's cache (nor of any
    other idle slot), and user 0's logits equal those of the same step with user 1 live."""
    model, package = tiny
    users = package.configs.DECODE_USERS
    model.prefill_forward(torch.arange(20) % package.configs.VOCAB_SIZE, user_id=0)
    model.prefill_forward(torch.arange(7, 22) % package.configs.VOCAB_SIZE, user_id=1)
    tokens = (torch.arange(users, dtype=torch.int64) + 5) % package.configs.VOCAB_SIZE  # not prefill's padding id
    idle = torch.full((users,), -1)
    idle[0] = 20
    before = caches(model)
    idle_logits = model.decode_forward(tokens, idle, traced=traced)
    after = caches(model)
    for old, new in zip(before, after):
        assert torch.equal(old[1:], new[1:])  # every idle slot's cache, user 1's prompt included
        assert not torch.equal(old[0, :, 20], new[0, :, 20])  # the live user wrote its position
    live = idle.clone()
    live[1] = 15
    live_logits = model.decode_forward(tokens, live, traced=traced)
    assert torch.equal(idle_logits[0], live_logits[0])
    assert any(not torch.equal(old[1, :, 15], new[1, :, 15]) for old, new in zip(after, caches(model)))


def test_an_idle_slot_pointing_at_a_live_requests_blocks_leaves_them_alone(tiny_paged):
    """Paged: the idle slots' page-table rows are the live request's own row (a server padding its block table with
    a live request's blocks); a step writes only the live request's own position, and its greedy tokens over a few
    steps are those of the same steps with the idle rows pointing at unused blocks."""
    model, package = tiny_paged
    C = package.configs
    users, per_user = C.DECODE_USERS, C.PAGES_PER_USER
    own = torch.randperm(C.PAGE_BLOCKS, generator=torch.Generator().manual_seed(3))[: users * per_user]
    own = own.reshape(users, per_user).to(torch.int32)
    aliased = own.clone()
    aliased[1:] = own[0]
    prompt = torch.arange(40) % C.VOCAB_SIZE
    tokens = torch.zeros(users, dtype=torch.int64)
    positions = torch.full((users,), -1)

    def run(table, steps=3):
        model.prefill_forward(prompt, user_id=0, page_table=table)
        ids = []
        tokens[0] = 5
        for step in range(steps):
            positions[0] = 40 + step
            before = caches(model)
            tokens[0] = int(model.decode_forward(tokens, positions, greedy=True, page_table=table)[0])
            ids.append(int(tokens[0]))
            block, row = int(table[0, (40 + step) // C.PAGE_BLOCK_SIZE]), (40 + step) % C.PAGE_BLOCK_SIZE
            for old, new in zip(before, caches(model)):
                changed = (old != new).any(dim=(1, 3)).nonzero().tolist()
                assert changed in ([], [[block, row]]), (step, changed)
        return ids

    assert run(aliased) == run(own)


def test_users_with_equal_logits_draw_independently(tiny):
    """32 users with the same token at the same position (equal logits) and the same parameters draw (nearly) all
    different tokens at a high temperature: each slot has its own stream."""
    model, package = tiny
    users = package.configs.DECODE_USERS
    model.prefill_forward(torch.arange(30) % package.configs.VOCAB_SIZE, user_id=0)
    tokens = torch.full((users,), 3, dtype=torch.int64)
    positions = torch.full((users,), 30)
    params = {"top_k": 32, "top_p": 1.0, "temperature": 50.0}
    model.seed_sampling(11)
    drawn = model.decode_forward(tokens, positions, traced=False, sampling=params)
    assert len(set(drawn.tolist())) >= users // 2, drawn.tolist()


def test_a_reseeded_slot_repeats_its_draws_and_the_others_continue(tiny):
    model, package = tiny
    users = package.configs.DECODE_USERS
    tokens = torch.arange(users, dtype=torch.int64) % package.configs.VOCAB_SIZE
    positions = torch.full((users,), 30)
    params = {"top_k": 32, "top_p": 1.0, "temperature": 50.0}
    model.seed_sampling(5)
    first = torch.stack([model.decode_forward(tokens, positions, traced=False, sampling=params) for _ in range(4)])
    model.seed_sampling([77, 5], user_ids=[3, 9])
    slot3 = torch.stack([model.decode_forward(tokens, positions, traced=False, sampling=params) for _ in range(4)])
    model.seed_sampling([77], user_ids=[3])
    again = torch.stack([model.decode_forward(tokens, positions, traced=False, sampling=params) for _ in range(4)])
    assert torch.equal(slot3[:, 3], again[:, 3])  # re-seeded with its request's seed: the same draws
    assert not torch.equal(first[:, 3], slot3[:, 3])  # another seed, another stream
    assert not torch.equal(slot3[:, 0], again[:, 0])  # the other slots' streams went on
    with pytest.raises(ValueError, match=r"user_ids must be distinct user slots in \[0, 32\)"):
        model.seed_sampling([1], user_ids=[32])
    with pytest.raises(ValueError, match="one per user slot in user_ids"):
        model.seed_sampling([1, 2], user_ids=[0])
    with pytest.raises(ValueError, match="non-negative ints"):
        model.seed_sampling(-1)


def test_a_traced_and_an_untraced_run_with_one_seed_draw_the_same_tokens(tmp_path):
    """A fresh package (no sampled trace yet): the first traced call compiles and captures the step, which draws; the
    capture re-seeds, so the traced draws equal the untraced ones under the same seed."""
    pytest.importorskip("transformers")
    from tiny_lm import tiny_llama_on_emulator

    with tiny_llama_on_emulator(tmp_path, "tttgen_serving_trace_seed") as (model, package):
        users = package.configs.DECODE_USERS
        tokens = torch.arange(users, dtype=torch.int64) % package.configs.VOCAB_SIZE
        positions = torch.full((users,), 12)
        params = {"top_k": 32, "top_p": 1.0, "temperature": 50.0}
        model.seed_sampling(21)
        untraced = [model.decode_forward(tokens, positions, traced=False, sampling=params) for _ in range(3)]
        model.seed_sampling(21)
        traced = [model.decode_forward(tokens, positions, sampling=params) for _ in range(3)]
        assert "sampled_step" in model.decode_traces
        assert all(torch.equal(a, b) for a, b in zip(untraced, traced))
