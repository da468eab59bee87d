"""CLI plumbing: list, validate, explain and --json, via click's runner (in-process, fast)."""

import json

from click.testing import CliRunner

from tttgen.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_list_models_and_devices_json():
    models = json.loads(invoke("list", "models", "--json").output)
    assert {m["name"] for m in models} >= {"llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "llama-3.1-70b"}
    devices = json.loads(invoke("list", "devices", "--json").output)
    by_name = {d["name"]: d for d in devices}
    assert by_name["n150"]["aliases"] == ["wormhole_b0"] and by_name["p150"]["grid"] == [11, 10]
    assert by_name["p150-legacy-fw"]["grid"] == [13, 10] and by_name["galaxy"]["chips"] == 32


def test_validate_each_kind(tmp_path):
    assert "valid device profile" in invoke("validate", "device_profiles/p150.yaml").output
    assert "valid model description" in invoke("validate", "model_specs/llama-3.1-8b.yaml").output
    hints = tmp_path / "hints.yaml"
    hints.write_text("batch: 8\nprecision: performance\noverrides:\n  wqkv:\n    memory: DDR\n")
    assert "valid hints file" in invoke("validate", str(hints)).output


def test_explain_table_and_op_detail():
    table = invoke("explain", "llama-3.2-1b", "--device", "n150").output
    assert "decode.wqkv" in table and "prefill_1024.w1" in table and "DRAMSharded" in table
    detail = json.loads(invoke("explain", "llama-3.2-1b", "--device", "n150", "--op", "prefill_1024.w2", "--format", "json").output)
    assert len(detail["ops"]) == 1 and detail["inputs"][0] == {"path": "model_specs/llama-3.2-1b.yaml", "ignored_fields": []}
    row = detail["ops"][0]
    assert row["rejected"] and all(r["time_ns"] >= row["time_ns"] for r in row["rejected"])
    assert row["l1_bytes_per_core"] > 0 and row["binding"] in ("compute", "dram", "noc", "overhead")


def test_build_json_output(tmp_path):
    result = invoke("build", "llama-3.2-1b", "--device", "blackhole", "--out", str(tmp_path), "--json")
    data = json.loads(result.output)
    assert data["written"][0]["path"].endswith("llama_3_2_1b/p150") and data["written"][0]["files"] == 10  # an LM package: 8 + generate.py, __main__.py


def test_explain_says_why_a_weight_is_placed_where_it_is():
    """`explain --op` lists every placement the memory pass weighed for the op's weight, its modeled time per token
    and each reading matmul's best config with what bounds it; the chosen one is the cheapest, and it is the weight's
    placement in the plan. On p150 the DRAM-sharded decode matmul computes on one core per DRAM bank (8)."""
    detail = json.loads(invoke("explain", "llama-3.2-1b", "--device", "p150", "--op", "decode.wqkv", "--format", "json").output)
    placement = detail["ops"][0]["weight_placement"]
    assert placement["weight"] == "wqkv"
    options = {o["placement"]: o for o in placement["options"]}
    assert set(options) >= {"DRAM width-sharded", "DRAM interleaved"}
    (chosen,) = [o for o in options.values() if o["chosen"]]
    assert chosen["objective_ns"] == min(o["objective_ns"] for o in options.values() if o["objective_ns"] is not None)
    readers = {r["op"]: r for r in options["DRAM width-sharded"]["readers"]}
    assert "decode.wqkv" in readers and "DRAMSharded" in readers["decode.wqkv"]["config"]
    assert readers["decode.wqkv"]["cores"] == 8
    text = invoke("explain", "llama-3.2-1b", "--device", "p150", "--op", "decode.wqkv").output
    assert "weight wqkv: placements weighed" in text and "DRAM width-sharded (" in text and "(chosen)" in text
