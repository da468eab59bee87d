"""Issue 24: the server-facing surface of the LM packages (Generator), in the shape of tt_transformers' Generator and
its vLLM plugin: the server allocates the KV cache and owns the page table, prefill takes each request's page-table
row and prompt length, decode takes one position per user slot with -1 for an idle slot. Driven as a server would
on the emulator with the tiny Llama."""

from __future__ import annotations

import pytest
import torch

PAGED = (("paged", {}), ("prefill_lens", [128]))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    pytest.importorskip("transformers")
    from tiny_lm import tiny_llama_on_emulator

    work = tmp_path_factory.mktemp("server_surface")
    with tiny_llama_on_emulator(work, "tttgen_server_surface", flags=PAGED) as (model, package):
        yield package.model.Generator(model), package


def requests_of(C):
    lens = [20, 45]
    tokens = torch.zeros(2, max(lens), dtype=torch.int64)
    for i, n in enumerate(lens):
        tokens[i, :n] = (torch.arange(n) * (i + 3) + 1) % C.VOCAB_SIZE
    return tokens, lens


def serve(generator, package, idle_rows, steps=3):
    """Two requests (20 and 45 tokens) in slots 0 and 2, every other slot idle; the server's page table gives each
    request its own blocks and each idle slot `idle_rows(request_rows)`. Returns the greedy tokens of both requests
    and, per step, the (block, row) pairs of the cache that changed."""
    C = package.configs
    kv_cache = generator.allocate_kv_cache((C.PAGE_BLOCKS, *package.model.KV_CACHE_SHAPE[1:]), None, C.LAYER_COUNT)
    assert generator.model.k_cache[0] is kv_cache[0][0]  # the model runs on the server's cache
    blocks = torch.randperm(C.PAGE_BLOCKS, generator=torch.Generator().manual_seed(7)).to(torch.int32)
    rows = blocks[: 2 * C.PAGES_PER_USER].reshape(2, C.PAGES_PER_USER)
    tokens, lens = requests_of(C)
    logits = generator.prefill_forward_text(tokens, page_table=rows, kv_cache=kv_cache, prompt_lens=lens, empty_slots=[0, 2])
    assert logits.shape == (2, 1, C.VOCAB_SIZE)
    table = idle_rows(rows, blocks).clone()
    table[0], table[2] = rows[0], rows[1]
    start_pos = torch.full((C.DECODE_USERS,), -1)
    start_pos[0], start_pos[2] = lens
    next_tokens = torch.zeros(C.DECODE_USERS, dtype=torch.int64)
    next_tokens[0], next_tokens[2] = logits[:, 0].argmax(dim=-1)
    out, changed = [], []
    for _ in range(steps):
        before = [t.values.clone() for layer in kv_cache for t in layer]
        next_tokens = generator.decode_forward_text(
            next_tokens, start_pos, page_table=table, kv_cache=kv_cache, sampling_params={"temperature": 0}
        )
        after = [t.values for layer in kv_cache for t in layer]
        changed.append(sorted({tuple(x) for old, new in zip(before, after) for x in (old != new).any(dim=(1, 3)).nonzero().tolist()}))
        out.append([int(next_tokens[0]), int(next_tokens[2])])
        start_pos = torch.where(start_pos >= 0, start_pos + 1, start_pos)
    expected = []
    for step in range(steps):
        pos = [lens[0] + step, lens[1] + step]
        expected.append(sorted((int(rows[i, p // C.PAGE_BLOCK_SIZE]), p % C.PAGE_BLOCK_SIZE) for i, p in enumerate(pos)))
    return out, changed, expected


def test_a_server_drives_two_requests_with_an_idle_slot_aliasing_a_live_requests_blocks(served):
    generator, package = served
    C = package.configs
    aliased, changed, expected = serve(generator, package, lambda rows, blocks: rows[0].repeat(C.DECODE_USERS, 1))
    assert changed == expected  # each step writes each live request's own position, nothing else
    unused = lambda rows, blocks: blocks[-C.PAGES_PER_USER:].repeat(C.DECODE_USERS, 1)  # noqa: E731
    clean, _, _ = serve(generator, package, unused)
    assert aliased == clean


def test_the_server_surface_refuses_what_the_package_cannot_serve(served):
    generator, package = served
    C = package.configs
    with pytest.raises(ValueError, match="KV cache is"):
        generator.allocate_kv_cache((1, 2, 3, 4), None, C.LAYER_COUNT)
    tokens, lens = requests_of(C)
    short = torch.zeros(2, 2, dtype=torch.int32)  # 2 blocks: a 45-token prompt fills 128 positions (4 blocks)
    with pytest.raises(ValueError, match="fills 128 cache positions"):
        generator.prefill_forward_text(tokens, page_table=short, prompt_lens=lens, empty_slots=[0, 2])


def test_a_generator_opened_for_a_server_holds_no_cache_of_its_own(tmp_path):
    """Generator.initialize leaves the KV cache to the server (one cache in DRAM, not two): until allocate_kv_cache,
    prefill and decode are refused."""
    pytest.importorskip("transformers")
    from tttgen.generate import Request, plan, render_plan
    from tttgen.checking.verification import emulated, imported_package, reference_model

    p = plan(Request("tests/data/tiny-llama/config.json", "n150", flags=PAGED))
    (tmp_path / "pkg").mkdir()
    for name, text in render_plan(p).items():
        (tmp_path / "pkg" / name).write_text(text)
    _, checkpoint = reference_model(p.graph.entry.reference, None, tmp_path, seed=0)
    with emulated(p.graph.device) as ttnn, imported_package(tmp_path / "pkg", "tttgen_server_initialize") as package:
        opened = []
        real_open = ttnn.open_device
        ttnn.open_device = lambda **kw: opened.append(real_open(**kw)) or opened[-1]
        generator = package.model.Generator.initialize(str(checkpoint))
        assert generator.model.k_cache is None and generator.model.v_cache is None
        C = package.configs
        with pytest.raises(RuntimeError, match="allocate_kv_cache"):
            generator.prefill_forward_text(torch.zeros(1, 8, dtype=torch.int64), page_table=torch.zeros(1, 4, dtype=torch.int32))
        kv_cache = generator.allocate_kv_cache()
        assert len(kv_cache) == C.LAYER_COUNT and generator.model.k_cache[0] is kv_cache[0][0]
        generator.close()
        assert not opened[0].is_open
