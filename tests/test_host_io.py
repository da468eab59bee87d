"""Host traffic in the cost model (what one call of the emitted code moves over PCIe), and the decode placements
chosen with their neighbours' moves (norm outputs written where the next matmul reads)."""

from __future__ import annotations

import pytest

from tttgen.cost.host import HostIO, host_io_ns, tensor_bytes, transfer_ns
from tttgen.explain import explain_table, layer_moves
from tttgen.generate import Request, plan
from tttgen.ir.configs import CoreRanges, MemoryPlacement
from tttgen.passes.matmul_program import Home, decode_home
from tttgen.passes.op_costs import entry_host_io, greedy_tail_ns
from tttgen.passes.reshard import same_placement
from tttgen.inputs.load import load_device

N150, _ = load_device("n150")
LINK = N150.host_link
FLAGS = (("prefill_lens", [128]), ("max_seq_len", 1024), ("fit_check", False), ("precision", "performance"))


@pytest.fixture(scope="module")
def llama8b():
    return plan(Request("llama-3.1-8b", "n150", None, FLAGS)).graph


def test_transfer_is_latency_then_bandwidth_per_direction():
    assert transfer_ns(LINK, 0, True) == LINK.h2d_latency_ns
    mib = 2**20
    assert transfer_ns(LINK, mib, True) == pytest.approx(LINK.h2d_latency_ns + mib / LINK.h2d_gbps)
    assert transfer_ns(LINK, mib, False) == pytest.approx(LINK.d2h_latency_ns + mib / LINK.d2h_gbps)
    assert transfer_ns(LINK, mib, False) > transfer_ns(LINK, mib, True)  # reads are the slower direction (tt-umd)


def test_every_tensor_and_replay_is_one_host_call():
    io = HostIO(inputs=(128, 128), outputs=(128,), other_calls=1)
    moved = 2 * transfer_ns(LINK, 128, True) + transfer_ns(LINK, 128, False)
    assert host_io_ns(LINK, io) == pytest.approx(4 * LINK.host_call_ns + moved)
    assert host_io_ns(LINK, HostIO()) == 0.0


def test_scalars_are_not_tensors():
    assert tensor_bytes([((), 4), ((1, 32), 4), ((2, 3), 2)]) == (128, 12)


def test_lm_decode_reads_the_logits_back_unless_greedy(llama8b):
    plain = entry_host_io(llama8b, "decode")
    greedy = entry_host_io(llama8b, "decode", tail="greedy")
    # the step's inputs stay on device (step_state): positions and rotary rows advance there, a greedy step writes
    # its ids into the next tokens; a step whose logits the host reads copies the tokens the host picked
    assert plain.inputs == (128,) and greedy.inputs == ()
    assert plain.other_calls == greedy.other_calls == 1  # the trace replay
    assert plain.outputs == (32 * 128256 * 2,)  # bf16 logits, padded vocab
    assert greedy.outputs == (32 * 4,)  # one uint32 id per user
    facts = llama8b.facts
    assert facts["host_io_ns"]["decode"] == pytest.approx(host_io_ns(LINK, plain))
    assert facts["greedy_decode_ns"] == pytest.approx(
        facts["mode_time_ns"]["decode"] + greedy_tail_ns(llama8b) + host_io_ns(LINK, greedy)
    )
    assert facts["greedy_decode_ns"] < facts["emitted_time_ns"]["decode"]  # 8 MiB over PCIe costs more than argmax


def test_prefill_is_untraced_and_pays_its_transfers(llama8b):
    io = entry_host_io(llama8b, "prefill_128")
    assert io.other_calls == 0 and io.inputs == (512, 512)  # slot and last_tile go as Python ints
    from tttgen.passes.op_costs import untraced_time_ns

    untraced = untraced_time_ns(llama8b, "prefill_128")
    assert llama8b.facts["emitted_time_ns"]["prefill_128"] == pytest.approx(
        untraced + llama8b.facts["host_io_ns"]["prefill_128"]
    )
    # op by op, each call costs at least the host's dispatch: never less than the traced device time
    assert untraced > llama8b.facts["mode_time_ns"]["prefill_128"]


def test_untraced_ops_are_bound_by_device_or_host_dispatch(llama8b):
    from tttgen.passes.op_costs import calls_of, untraced_time_ns

    per_call = LINK.host_call_ns
    ops = [op for op in llama8b.ops if op.mode_key == "prefill_128" and not op.decisions.get("elide")
           and not op.decisions.get("jit_member_of")]
    big = max(ops, key=lambda op: op.decisions.get("time_ns", 0.0))
    small = min(ops, key=lambda op: op.decisions.get("time_ns", 0.0))
    assert big.decisions["time_ns"] > per_call > small.decisions.get("time_ns", 0.0)
    for op in (big, small):
        repeat = llama8b.entry.reference.num_hidden_layers if op.scope == "layer" else 1
        want = max(op.decisions.get("time_ns", 0.0), calls_of(op) * per_call) * repeat
        assert untraced_time_ns(llama8b, "prefill_128", {op.name}) == pytest.approx(want)


def test_module_forward_takes_device_tensors_so_no_host_traffic():
    graph = plan(Request("mlp", "n150", None, ())).graph
    assert set(graph.facts["host_io_ns"].values()) == {0.0}
    assert "greedy_decode_ns" not in graph.facts


def test_a_matmul_output_ttnn_infers_equals_the_same_explicit_spec():
    grid = CoreRanges((((0, 0), (7, 3)),))
    explicit = MemoryPlacement("L1", "WIDTH_SHARDED", (32, 128), grid, "ROW_MAJOR")
    inferred = MemoryPlacement("L1", "WIDTH_SHARDED", (32, 128), grid, "ROW_MAJOR", infer_shard=True)
    assert same_placement(explicit, inferred)
    other = MemoryPlacement("L1", "WIDTH_SHARDED", (32, 256), CoreRanges((((0, 0), (7, 1)),)), "ROW_MAJOR")
    assert not same_placement(explicit, other)
    assert same_placement(None, None) and not same_placement(explicit, None)


def test_home_charges_the_moves_a_candidate_causes():
    grid = CoreRanges((((0, 0), (7, 3)),))
    home = Home(grid, 3.0, 5.0)
    at_home = MemoryPlacement("L1", "WIDTH_SHARDED", (32, 128), grid, "ROW_MAJOR")
    away = MemoryPlacement("L1", "WIDTH_SHARDED", (32, 512), CoreRanges((((0, 0), (7, 0)),)), "ROW_MAJOR")
    assert home.move_ns(at_home, at_home) == 0.0
    assert home.move_ns(away, at_home) == 3.0
    assert home.move_ns(at_home, away) == 5.0


def test_only_outputs_added_back_to_the_residual_pay_the_way_home(llama8b):
    by_name = {op.name: op for op in llama8b.ops_of("linear") if op.mode == "decode"}
    wo = decode_home(llama8b, by_name["wo"], by_name["wo"].decisions["shape"])
    w1 = decode_home(llama8b, by_name["w1"], by_name["w1"].decisions["shape"])
    assert wo.in_move_ns > 0 and wo.out_move_ns > 0  # [32, 4096] goes back to the residual
    assert w1.in_move_ns > 0 and w1.out_move_ns == 0  # [32, 14336] feeds the SwiGLU, not the residual
    prefill = next(op for op in llama8b.ops_of("linear") if op.mode != "decode")
    assert decode_home(llama8b, prefill, prefill.decisions["shape"]) is None


def test_norms_write_what_the_decode_matmuls_read(llama8b):
    """Llama-3.1-8B on n150: the norms' outputs feed wqkv and w1/w3 unmoved, the MLP stays on the residual's grid;
    what is left is what no placement choice removes (create_heads reads interleaved L1, SDPA writes DRAM, the
    concatenated heads come out on ttnn's own grid)."""
    decode = {op.name: op.decisions["elide"] for op in llama8b.ops if op.kind == "reshard" and op.mode == "decode"
              and op.scope == "layer"}
    assert decode == {
        "wqkv_in": True, "wqkv_out": False, "sdpa_out": False, "wo_in": False, "wo_out": True,
        "w1_in": True, "w2_in": True, "w2_out": True,
    }
    assert layer_moves(llama8b)["decode"] == {"run": 3, "elided": 5}


def test_explain_counts_the_moves_per_layer(llama8b):
    text = explain_table([], moves=layer_moves(llama8b))
    assert "reshards per layer: " in text and "decode 3 run, 5 elided" in text
    assert "reshards per layer" not in explain_table([], moves={})
