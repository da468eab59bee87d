"""Issue 24: the decode step's state lives on the device.

Positions and rotary rows advance inside the step (ttnn.plus_one, idle slots kept at -1), a greedy or sampled step
writes its ids into the next step's tokens (ttnn.copy), the page table and sampling parameters are copied only when
they change, and decode_forward(read_from_device=False) reads nothing back until asked. Counted on the emulator:
host-to-device copies and device-to-host reads per step. The cost model and explain count the same.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch

from tttgen.generate import Request, plan
from tttgen.passes.step_state import per_token, plan_inputs

PAGED = (("paged", {}), ("prefill_lens", [128]))


@contextmanager
def transfers(ttnn):
    """Count host<->device transfers through the emulated ttnn the package calls: from_torch onto a device and
    copy_host_to_device_tensor (host to device); to_torch of a device tensor and Tensor.cpu of one (device to host)."""
    from tttgen.checking.emulator.tensor import Tensor

    counts = {"h2d": 0, "d2h": 0}
    saved = {n: getattr(ttnn, n) for n in ("from_torch", "copy_host_to_device_tensor", "to_torch")}
    cpu = Tensor.cpu

    def from_torch(*args, **kwargs):
        counts["h2d"] += kwargs.get("device") is not None
        return saved["from_torch"](*args, **kwargs)

    def copy_host_to_device_tensor(*args, **kwargs):
        counts["h2d"] += 1
        return saved["copy_host_to_device_tensor"](*args, **kwargs)

    def to_torch(tensor, *args, **kwargs):
        counts["d2h"] += tensor.device() is not None
        return saved["to_torch"](tensor, *args, **kwargs)

    def tensor_cpu(self, *args, **kwargs):
        counts["d2h"] += self.device() is not None
        return cpu(self, *args, **kwargs)

    ttnn.from_torch, ttnn.copy_host_to_device_tensor, ttnn.to_torch = from_torch, copy_host_to_device_tensor, to_torch
    Tensor.cpu = tensor_cpu
    try:
        yield counts
    finally:
        for n, fn in saved.items():
            setattr(ttnn, n, fn)
        Tensor.cpu = cpu


def emulated_ttnn():
    import sys

    return sys.modules["ttnn"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("transformers")
    from tiny_lm import tiny_llama_on_emulator

    with tiny_llama_on_emulator(tmp_path_factory.mktemp("step_state"), "tttgen_step_state_tiny") as (model, package):
        yield model, package


@pytest.fixture(scope="module")
def tiny_paged(tmp_path_factory):
    pytest.importorskip("transformers")
    from tiny_lm import tiny_llama_on_emulator

    work = tmp_path_factory.mktemp("step_state_paged")
    with tiny_llama_on_emulator(work, "tttgen_step_state_paged", flags=PAGED) as (model, package):
        yield model, package


def start(model, package, prompt_len=20, users_live=1):
    """Prefill user 0 (and users up to users_live) and return the first step's tokens and positions (others idle)."""
    C = package.configs
    positions = torch.full((C.DECODE_USERS,), -1)
    tokens = torch.zeros(C.DECODE_USERS, dtype=torch.int64)
    for u in range(users_live):
        n = prompt_len + 3 * u
        logits = model.prefill_forward((torch.arange(n) + u) % C.VOCAB_SIZE, user_id=u)
        tokens[u], positions[u] = int(logits.argmax()), n
    return tokens, positions


@pytest.mark.parametrize("traced", [True, False])
def test_a_continued_greedy_step_copies_nothing_and_reads_only_when_asked(tiny, traced):
    """After the first step, greedy steps that continue from the device's state copy nothing to the device and read
    nothing back; asking a step for its tokens is one read."""
    model, package = tiny
    ttnn = emulated_ttnn()
    tokens, positions = start(model, package)
    model.decode_forward(tokens, positions, traced=traced, greedy=True)  # the first step: its inputs are copied
    with transfers(ttnn) as counts:
        outs = [model.decode_forward(traced=traced, greedy=True, read_from_device=False) for _ in range(4)]
    assert counts == {"h2d": 0, "d2h": 0}
    with transfers(ttnn) as counts:
        ids = outs[-1].tokens()
    assert counts == {"h2d": 0, "d2h": 1} and ids.shape == (package.configs.DECODE_USERS,)
    with pytest.raises(RuntimeError, match="rewritten by step"):
        outs[0].tokens()  # a traced output is rewritten by the next step: it had to be read before


@pytest.mark.parametrize("traced", [True, False])
def test_a_server_loop_feeding_back_what_it_read_copies_nothing(tiny, traced):
    """A loop in the shape of tt_transformers' (tokens and positions passed every step, the tokens those it just
    read): the host's record of the device state makes every copy after the first step unnecessary."""
    model, package = tiny
    ttnn = emulated_ttnn()
    tokens, positions = start(model, package)
    counts_per_step = []
    for step in range(4):
        with transfers(ttnn) as counts:
            tokens = model.decode_forward(tokens, positions, traced=traced, greedy=True)
        positions = torch.where(positions >= 0, positions + 1, positions)
        counts_per_step.append(dict(counts))
    assert counts_per_step[1:] == [{"h2d": 0, "d2h": 1}] * 3, counts_per_step
    assert counts_per_step[0]["h2d"] >= 1  # the first step copies what changed since the last one


def test_a_loop_padding_idle_and_finished_slots_copies_no_tokens(tiny):
    """The generate loop's shape: tokens and positions passed every step, the idle slots' tokens left at 0 and a
    finished slot's at its last token (what the device's argmax wrote there differs). Only live slots' tokens are
    compared, so after the first step nothing is copied until a slot ends (then its position, -1, once). Planted:
    comparing every slot's token copies the tokens every step."""
    model, package = tiny
    ttnn = emulated_ttnn()
    tokens, positions = start(model, package, users_live=2)
    per_step = []
    for step in range(5):
        with transfers(ttnn) as counts:
            ids = model.decode_forward(tokens, positions, greedy=True)
        per_step.append(counts["h2d"])
        live = positions >= 0
        tokens[live] = ids[live]  # live slots take their new token; idle slots keep 0
        positions = torch.where(live, positions + 1, positions)
        if step == 2:
            positions[1] = -1  # user 1 ends; its token stays the last one it took
    assert per_step[0] >= 1 and per_step[1:3] == [0, 0], per_step
    assert per_step[3] == 1 and per_step[4] == 0, per_step  # the ended slot's position, once


def test_continued_traced_steps_give_the_tokens_of_host_fed_untraced_steps(tiny):
    """The same greedy tokens, whether the device advances its own inputs inside a trace or the host feeds every
    step's tokens and positions op by op; two live users at different positions, the rest idle."""
    model, package = tiny
    tokens, positions = start(model, package, users_live=2)

    def host_fed(steps):
        t, p, out = tokens.clone(), positions.clone(), []
        for _ in range(steps):
            t = model.decode_forward(t, p, traced=False, greedy=True)
            p = torch.where(p >= 0, p + 1, p)
            out.append(t[:2].tolist())
        return out

    def on_device(steps, traced):
        first = model.decode_forward(tokens, positions, traced=traced, greedy=True)
        out = [first[:2].tolist()]
        for _ in range(steps - 1):
            out.append(model.decode_forward(traced=traced, greedy=True)[:2].tolist())
        return out

    want = host_fed(5)
    assert on_device(5, traced=True) == want
    assert on_device(5, traced=False) == want


@pytest.mark.parametrize("traced", [True, False])
def test_idle_slots_stay_at_minus_one_on_device_and_their_cache_untouched(tiny_paged, traced):
    """Paged, idle rows of the page table naming user 0's blocks: the device's positions keep -1 for idle slots over
    continued steps (skip_negative_entries), live ones advance, and only user 0's own cache rows change."""
    model, package = tiny_paged
    C = package.configs
    ttnn = emulated_ttnn()
    table = package.model.default_page_table()
    table[1:] = table[0]
    tokens, positions = start(model, package)
    model.prefill_forward(torch.arange(20) % C.VOCAB_SIZE, user_id=0, page_table=table)
    model.decode_forward(tokens, positions, traced=traced, greedy=True, page_table=table)
    for step in range(3):
        before = [t.values.clone() for t in model.k_cache + model.v_cache]
        model.decode_forward(traced=traced, greedy=True)
        pos = 21 + step
        block, row = int(table[0, pos // C.PAGE_BLOCK_SIZE]), pos % C.PAGE_BLOCK_SIZE
        for old, cache in zip(before, model.k_cache + model.v_cache):
            changed = (old != cache.values).any(dim=(1, 3)).nonzero().tolist()
            assert changed in ([], [[block, row]]), (step, changed)
    device_positions = ttnn.to_torch(model.step_inputs["positions"]).reshape(-1)
    assert device_positions[0] == 24 and bool((device_positions[1:] == -1).all())
    assert torch.equal(model.held["positions"].reshape(-1).to(torch.int64), device_positions.to(torch.int64))


def test_the_page_table_and_sampling_parameters_are_copied_only_when_they_change(tiny_paged):
    model, package = tiny_paged
    ttnn = emulated_ttnn()
    table = package.model.default_page_table()
    params = {"top_k": 32, "top_p": 0.9, "temperature": 0.7}
    tokens, positions = start(model, package)
    model.decode_forward(tokens, positions, traced=False, page_table=table, sampling=params)
    with transfers(ttnn) as counts:
        model.decode_forward(traced=False, page_table=table, sampling=params, read_from_device=False)
    assert counts["h2d"] == 0
    other = dict(params, top_p=0.5)
    with transfers(ttnn) as counts:
        model.decode_forward(traced=False, page_table=table, sampling=other, read_from_device=False)
    assert counts["h2d"] == 1  # top_p alone
    moved = table.clone()
    moved[0, 0], moved[0, 1] = table[0, 1], table[0, 0]
    with transfers(ttnn) as counts:
        model.decode_forward(traced=False, page_table=moved, sampling=other, read_from_device=False)
    assert counts["h2d"] == 1  # the page table alone


def test_warmup_captures_every_trace_without_changing_the_state_and_close_releases_them(tmp_path):
    pytest.importorskip("transformers")
    from tiny_lm import tiny_llama_on_emulator

    with tiny_llama_on_emulator(tmp_path, "tttgen_step_state_warmup") as (model, package):
        tokens, positions = start(model, package)
        caches = [t.values.clone() for t in model.k_cache + model.v_cache]
        held = {k: None if v is None else v.clone() for k, v in model.held.items()}
        model.warmup()
        assert sorted(model.decode_traces) == ["decode", "greedy_step", "sampled_step"]
        assert all(torch.equal(a, t.values) for a, t in zip(caches, model.k_cache + model.v_cache))
        ttnn = emulated_ttnn()
        for name, value in held.items():
            on_device = ttnn.to_torch(model.step_inputs[name])
            assert torch.equal(on_device.reshape(-1).float(), value.reshape(-1).float()), name
        tracer_traces = len(model.decode_traces)
        model.close()
        assert tracer_traces == 3 and model.decode_traces == {}
        with pytest.raises(Exception, match="not captured|released"):
            ttnn.execute_trace(model.device, 0, cq_id=0)


# ---------------------------------------------------------------- the emulator's ops and trace capture


def test_plus_one_and_copy_follow_the_golden_and_docstring():
    from tttgen.inputs.load import load_device
    from tttgen.checking.verification import emulated

    with emulated(load_device("n150")[0]) as ttnn:
        device = ttnn.open_device(device_id=0)
        signed = torch.tensor([5, -1, 0, 2**31 - 1, -100], dtype=torch.int32)
        t = ttnn.from_torch(signed, dtype=ttnn.int32, layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
        assert ttnn.plus_one(t, skip_negative_entries=True) is t  # in place
        assert ttnn.to_torch(t).tolist() == [6, -1, 1, 2**31 - 1, -100]
        unsigned = ttnn.from_torch(torch.tensor([[0, 7]], dtype=torch.int32), dtype=ttnn.uint32,
                                   layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
        ttnn.plus_one(unsigned)
        assert ttnn.to_torch(unsigned).tolist() == [[1, 8]]
        tiled = ttnn.from_torch(torch.zeros(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
        with pytest.raises(Exception, match="INT32 or UINT32"):
            ttnn.plus_one(tiled)
        a = ttnn.from_torch(torch.tensor([[3, 4]], dtype=torch.int32), dtype=ttnn.uint32, layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
        b = ttnn.from_torch(torch.zeros(1, 2, dtype=torch.int32), dtype=ttnn.uint32, layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
        ttnn.copy(a, b)
        assert ttnn.to_torch(b).tolist() == [[3, 4]]
        c = ttnn.from_torch(torch.zeros(1, 3, dtype=torch.int32), dtype=ttnn.uint32, layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
        with pytest.raises(Exception, match="equal shape"):
            ttnn.copy(a, c)


def test_a_capture_runs_nothing_on_the_tensors_it_did_not_create():
    """As on hardware, capturing an in-place step leaves its persistent input as it was; each replay advances it."""
    from tttgen.inputs.load import load_device
    from tttgen.checking.verification import emulated

    with emulated(load_device("n150")[0]) as ttnn:
        device = ttnn.open_device(device_id=0, trace_region_size=1 << 20)
        pos = ttnn.from_torch(torch.tensor([3, -1], dtype=torch.int32), dtype=ttnn.int32,
                              layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
        trace = ttnn.begin_trace_capture(device, cq_id=0)
        ttnn.plus_one(pos, skip_negative_entries=True)
        ttnn.end_trace_capture(device, trace, cq_id=0)
        assert ttnn.to_torch(pos).tolist() == [3, -1]
        ttnn.execute_trace(device, trace, cq_id=0)
        ttnn.execute_trace(device, trace, cq_id=0)
        assert ttnn.to_torch(pos).tolist() == [5, -1]


# ---------------------------------------------------------------- the decision, the cost model and explain


def test_the_step_state_pass_keeps_the_lm_inputs_on_device():
    g = plan(Request("llama-3.2-1b", "n150")).graph
    state = g.facts["step_state"]
    assert [(i["name"], i["advance"]) for i in state["inputs"]] == [
        ("tokens", "next_token"), ("positions", "plus_one_skip_idle"), ("rope_rows", "plus_one")
    ]
    assert state["per_token"] == {"logits": ["tokens"], "greedy": [], "sampled": []}
    paged = plan(Request("llama-3.2-1b", "n150", None, (("paged", {}),))).graph.facts["step_state"]
    assert paged["inputs"][-1]["advance"] is None and "page_table" in paged["on_change"]
    assert paged["per_token"]["greedy"] == []
    assert plan(Request("mlp", "n150")).graph.facts["step_state"] is None  # a module package has no decode step


def test_an_input_plus_one_cannot_take_stays_a_host_copy():
    """Planted: a bfloat16 positions input cannot be advanced by ttnn.plus_one (int32 / uint32 only)."""
    io = {"inputs": {"tokens": [1, 32], "positions": [32], "rope_rows": [1, 32]},
          "dtypes": {"tokens": "uint32", "positions": "bfloat16", "rope_rows": "uint32"}}
    inputs = plan_inputs(io)
    assert inputs[1]["advance"] is None and "int32 / uint32" in inputs[1]["why"]
    assert per_token(inputs)["greedy"] == ["positions"]


def test_host_transfers_per_token_are_priced_and_explained():
    from tttgen.explain import step_state_lines
    from tttgen.passes.op_costs import entry_host_io

    g = plan(Request("llama-3.1-8b", "n150", None, (("prefill_lens", [128]), ("fit_check", False)))).graph
    greedy = g.facts["decode_host_transfers"]["greedy"]
    assert greedy["in"] == 0 and greedy["out"] == 1 and greedy["in_ns"] == 0.0
    # goal: host I/O per token within 10 us plus the ids read
    assert greedy["transfer_ns"] <= 10_000 + greedy["read_ns"]
    assert entry_host_io(g, "decode").inputs == (128,)  # the host-picked tokens only
    assert entry_host_io(g, "decode", tail="sampled").inputs == ()
    lines = "\n".join(step_state_lines(g))
    assert "host transfers per decode token" in lines and "greedy: 0 in (nothing), 1 read" in lines
