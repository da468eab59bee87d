"""A package whose hints pin whole configs passes the real ttnn 0.81.1 on a mock device (`tttgen check --ttnn`)."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests/data/tiny-llama/config.json")
TTTGEN = [sys.executable, "-m", "tttgen"]

HINTS = {
    "prefill_lens": [128],
    "max_seq_len": 256,
    "overrides": {
        "prefill_128.wo": {
            "program_config": {
                "type": "MatmulMultiCoreReuseMultiCastProgramConfig",
                "compute_with_storage_grid_size": [4, 2],
                "in0_block_w": 4,
                "out_subblock_h": 1,
                "out_subblock_w": 2,
                "out_block_h": 2,
                "out_block_w": 2,
                "per_core_M": 2,
                "per_core_N": 2,
                "transpose_mcast": False,
                "fuse_batch": True,
            }
        },
        "decode.wo": {"program_config": {"type": "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig", "in0_block_w": 4, "per_core_M": 1, "per_core_N": 8}},
        "wqkv": {"dtype": "bfloat16", "memory_config": {"in1": {"buffer": "DRAM", "layout": "INTERLEAVED"}}},
        "decode.w1": {"compute_kernel_config": {"math_fidelity": "HiFi4", "math_approx_mode": False, "fp32_dest_acc_en": True, "packer_l1_acc": True}},
        "decode.w2": {
            "program_config": {"type": "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig", "in0_block_w": 4, "per_core_M": 1, "per_core_N": 4},
            "memory_config": {"in0": {"buffer": "L1", "layout": "WIDTH_SHARDED", "shard_shape": [32, 256], "grid": [[[0, 0], [1, 0]]], "orientation": "ROW_MAJOR"}},
        },
    },
}


def test_pinned_package_passes_check_ttnn(tmp_path, real_ttnn):
    hints = tmp_path / "hints.yaml"
    hints.write_text(yaml.safe_dump(HINTS))
    out = tmp_path / "out"
    built = subprocess.run(TTTGEN + ["build", "--config", TINY, "--device", "n150", "--hints", str(hints), "--out", str(out), "--ttnn-check", "on"], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    package = next(out.rglob("MANIFEST.json")).parent
    pinned = {op["key"] for op in json.loads((package / "MANIFEST.json").read_text())["ops"] if "pinned" in op}
    assert pinned == {"prefill_128.wo", "prefill_128.wqkv", "decode.wqkv", "decode.wo", "decode.w1", "decode.w2"}
    done = subprocess.run(TTTGEN + ["check", str(package), "--ttnn", "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    [verdict] = report["real_ttnn"]
    assert verdict["ok"] and not report["packages"][0]["drift"]
    linears = [op for op in verdict["ops"] if op["fn"] == "linear"]
    assert linears and all(op["accepted"] == op["calls"] for op in linears)
