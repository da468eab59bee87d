"""The parallelism pass: placements on a mesh chosen from the kinds' splits, collectives inserted, per-chip shapes,
tt_transformers' layout priced beside, refusals naming the dimension, split= overrides, data parallel modules."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plan_cache import cached_request_plan
from tttgen.errors import InputError, UnsupportedTarget
from tttgen.generate import Request, plan
from tttgen.passes.parallelism import conversion, split_problem

TINY = "tests/data/tiny-llama/config.json"  # hidden 256, 4 heads, 2 KV heads, intermediate 512, vocab 512
COLLECTIVES = ("all_gather", "reduce_scatter", "all_reduce")


def tiny(device: str, flags=()):
    return cached_request_plan(Request(TINY, device, None, tuple(flags)))


def test_one_chip_is_left_alone():
    g = tiny("n150").graph
    assert "mesh" not in g.facts
    assert not g.ops_of(COLLECTIVES)
    assert all("mesh" not in op.decisions for op in g.ops)


def test_n300_is_megatron_tensor_parallel_with_per_chip_shapes():
    g = tiny("n300").graph
    mesh = g.facts["mesh"]
    assert mesh["strategy"] == "tensor_parallel"
    weights = mesh["chosen"]["weights"]
    # axis 0 has one chip; on axis 1 QKV and w1/w3 are split by columns, each chip running its own heads (the tiny
    # model's wo and w2 are so small that gathering their input beats an all_reduce of their output)
    assert weights["wqkv"] == ["R", "S-1"] and weights["w1"] == ["R", "S-1"] and weights["w3"] == ["R", "S-1"]
    assert weights["lm_head"] == ["R", "S-1"]
    # per-chip shapes: the per-op passes see half the columns and half the heads
    wqkv = g.op("decode.wqkv")
    assert (wqkv.shape.k, wqkv.shape.n) == (256, 256)
    heads = g.op("decode.create_heads")
    assert (heads.facts["num_heads"], heads.facts["num_kv_heads"]) == (2, 1)
    assert g.weight("wqkv").n == 256 and g.weight("w1").n == 256
    assert g.facts["state_shapes"]["k_cache"][2] == 1  # [layers, users, KV heads, positions, head_dim] per chip
    # every decode layer makes collectives, each along mesh axis 1 with the profile's topology and links
    layer_ccls = [op for op in g.ops_of(COLLECTIVES) if op.mode == "decode" and op.scope == "layer"]
    assert sum(mesh["chosen"]["collectives_per_layer"].values()) == len(layer_ccls) >= 2
    assert all(op.facts["axis"] == 1 and op.facts["topology"] == "linear" and op.facts["links"] == 1 for op in layer_ccls)
    assert mesh["chosen_from"] in ("search", "tt_transformers")
    # priced by the collective model: every collective costs time, and the step says how much of it is CCL
    assert all(op.decisions["time_ns"] > 1000 for op in layer_ccls)
    assert 0 < mesh["chosen"]["decode_ccl_ns"] < mesh["chosen"]["decode_step_ns"]


def test_a_partial_sum_never_reaches_an_op_that_reads_whole_values():
    """The states the pass records are consistent: an op reading a producer's output either reads it in the state
    the producer left it or through an inserted collective."""
    g = tiny("n300").graph
    for mode in g.mode_keys():
        ops = [op for op in g.ops if op.mode_key == mode]
        by_name = {op.name: op for op in ops if "mesh" in op.decisions}
        fed = {(op.facts["dst"], op.facts["port"]) for op in ops if op.kind in COLLECTIVES}
        for op in ops:
            if "mesh" not in op.decisions:
                continue
            for port, producer in op.dataflow.get("producers", {}).items():
                src = by_name.get(producer)
                if src is not None and "P" in src.decisions["mesh"]["out"]:
                    assert (op.name, port) in fed, f"{op.key} reads partial sums of {producer} without a collective"


def test_tt_transformers_layout_is_priced_beside_the_choice():
    mesh = tiny("n300").graph.facts["mesh"]
    tt = mesh["tt_transformers"]
    # tt_transformers fractures the residual (embedding split by width), splits wqkv, w1, w3 by columns and wo, w2
    # by rows: a reduce_scatter after wo and w2, an all_gather before each layer's two matmul groups (the norms on
    # the fractured residual are distributed: one more all_gather of statistics each)
    assert tt["weights"]["embedding"] == ["R", "S-1"]
    assert tt["weights"]["wo"] == ["R", "S-2"] and tt["weights"]["w2"] == ["R", "S-2"]
    assert tt["collectives_per_layer"]["reduce_scatter"] == 2
    assert tt["collectives_per_layer"]["all_gather"] in (2, 4)
    assert mesh["chosen"]["decode_step_ns"] <= tt["decode_step_ns"]


@pytest.mark.parametrize("device", ["galaxy", "p150x4"])
def test_2d_meshes_split_weights_over_both_axes(device):
    """70B on a 2D mesh: the matmul weights split on both axes (columns over one, rows over the other, as
    tt_transformers does on Galaxy), the heads over the rows."""
    g = cached_request_plan(Request("llama-3.1-70b", device)).graph
    weights = g.facts["mesh"]["chosen"]["weights"]
    for name in ("wqkv", "wo", "w1", "w2", "w3"):
        assert all(s.startswith("S") for s in weights[name]), (name, weights[name])
    heads = g.op("decode.create_heads")
    assert heads.facts["num_kv_heads"] == 8 // g.device.mesh_shape[0]
    assert g.facts["dram"]["total"] <= g.facts["dram"]["capacity"]


def test_heads_that_do_not_divide_are_refused_naming_the_dimension():
    with pytest.raises(UnsupportedTarget, match=r"attention heads \(num_heads = 4\) do not divide over the 8 chips of mesh axis 1"):
        plan(Request(TINY, "t3k"))


def test_refusal_is_exit_2_without_traceback():
    root = Path(__file__).resolve().parents[1]
    found = subprocess.run(
        [sys.executable, "-m", "tttgen", "explain", str(root / TINY), "--device", "t3k"],
        capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert found.returncode == 2, found.stderr
    assert "num_heads = 4" in found.stderr and "Traceback" not in found.stderr


def test_override_pins_a_split():
    g = tiny("n300", [("overrides", {"wqkv": {"split": "replicate"}})]).graph
    assert g.facts["mesh"]["chosen"]["weights"]["wqkv"] == ["R", "R"]
    assert g.op("decode.wqkv").shape.n == 512 and g.op("decode.wqkv").decisions["mesh"]["split"][1] == "replicate"


def test_override_split_takes_only_known_values():
    with pytest.raises(InputError, match="'diagonal' is not one of replicate, column, row"):
        plan(Request(TINY, "n300", None, (("overrides", {"wqkv": {"split": "diagonal"}}),)))


def test_a_pinned_split_the_dims_refuse_names_the_dimension():
    # 512 vocab columns over 2 chips are 256 per chip: fine; tiny-llama's 4 heads cannot be split 8 ways on t3k
    with pytest.raises(UnsupportedTarget, match="do not divide over the 8 chips"):
        plan(Request(TINY, "t3k", None, (("overrides", {"wqkv": {"split": "column"}}),)))


def test_split_rules():
    assert split_problem("w", (256, 512), "S-1", 2, 1) is None
    assert "not whole 32-wide tiles" in split_problem("w", (256, 288), "S-1", 8, 1)
    assert "does not divide" in split_problem("w", (256, 100), "S-1", 8, 1)
    assert conversion("P", "R") == ("all_reduce", None)
    assert conversion("P", "S-1") == ("reduce_scatter", -1)
    assert conversion("S-1", "R") == ("all_gather", -1)
    assert conversion("R", "S-1") is None  # no local slice on device: a replicated value is not split later


def test_boltz_module_on_a_multi_card_profile_is_data_parallel():
    g = cached_request_plan(Request("boltz_transition", "p150x4")).graph
    mesh = g.facts["mesh"]
    assert mesh["strategy"] == "data_parallel"
    assert mesh["dp_step_ns"] / 4 <= mesh["tp_step_ns"]  # one input per chip beats splitting one input four ways
    assert not g.ops_of(COLLECTIVES)
    assert all(w.decisions["mesh"]["states"] == ("R", "R") for w in g.weights)


@pytest.mark.parametrize("model,device", [("llama-3.1-8b", "n300"), ("llama-3.1-70b", "t3k")])
def test_real_sizes_fit_per_chip_and_match_or_beat_tt_transformers(model, device):
    g = cached_request_plan(Request(model, device)).graph
    dram = g.facts["dram"]
    assert dram["capacity"] == g.device.dram.bytes_total // g.device.chips
    assert dram["total"] <= dram["capacity"]
    mesh = g.facts["mesh"]
    assert 2 <= sum(mesh["chosen"]["collectives_per_layer"].values()) <= 6
    assert mesh["chosen"]["decode_step_ns"] <= mesh["tt_transformers"]["decode_step_ns"]
