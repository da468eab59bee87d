"""Tuning that survives regeneration: a hints file's `overrides:` pins whole configs of one op instance.

Pins are validated strictly (every mistake at once, exit 2), judged by every rule, printed verbatim and marked
as pinned in configs.py, MANIFEST.json and explain, and `tttgen check` re-plans with the recorded hints file."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tttgen.generate import Request, plan, render_plan
from tttgen.ir.configs import MATMUL_2D, MatmulConfig
from tttgen.inputs.hints import Hints

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "tests/data/tiny-llama/config.json")
TTTGEN = [sys.executable, "-m", "tttgen"]
FLAGS = ("--prefill-lens", "128", "--max-seq-len", "256")

# Legal on the tiny model (prefill_128.wo: M=128, K=N=256), and not what the search picks (4x4 grid, kbw=8).
WO_2D = {
    "type": MATMUL_2D,
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
HIFI4 = {"math_fidelity": "HiFi4", "math_approx_mode": False, "fp32_dest_acc_en": True, "packer_l1_acc": True}
PINS = {
    "prefill_lens": [128],
    "max_seq_len": 256,
    "overrides": {
        "prefill_128.wo": {"program_config": WO_2D},
        "decode.wo": {
            "program_config": {
                "type": "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig",
                "in0_block_w": 4,
                "per_core_M": 1,
                "per_core_N": 8,
            }
        },
        "decode.w1": {"compute_kernel_config": HIFI4},
        "wqkv": {"dtype": "bfloat16", "memory_config": {"in1": {"buffer": "DRAM", "layout": "INTERLEAVED"}}},
        "decode.w2": {
            "program_config": {
                "type": "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig",
                "in0_block_w": 4,
                "per_core_M": 1,
                "per_core_N": 4,
            },
            "memory_config": {
                "in0": {
                    "buffer": "L1",
                    "layout": "WIDTH_SHARDED",
                    "shard_shape": [32, 256],
                    "grid": [[[0, 0], [1, 0]]],
                    "orientation": "ROW_MAJOR",
                }
            },
        },
        "prefill_128.w2": {"memory_config": {"out": {"buffer": "DRAM", "layout": "INTERLEAVED"}}},
    },
}


def write_hints(directory: Path, data: dict) -> Path:
    path = directory / "hints.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(TTTGEN + list(args), capture_output=True, text=True)


@pytest.fixture(scope="module")
def pinned(tmp_path_factory):
    """A tiny package built with the pins: (hints path, package dir, {file: text})."""
    base = tmp_path_factory.mktemp("pinned")
    hints = write_hints(base, PINS)
    files = render_plan(plan(Request(TINY, "n150", str(hints))))
    package = base / "out" / "tiny_llama" / "n150"
    package.mkdir(parents=True)
    for name, text in files.items():
        (package / name).write_text(text)
    return hints, package, files


def _attribute_block(configs: str, mode_class: str, attribute: str) -> list[str]:
    """The lines of one configs.py class attribute, with the comment lines just above it."""
    lines = configs.splitlines()
    start = lines.index(f"class {mode_class}:")
    at = next(i for i in range(start, len(lines)) if lines[i].startswith(f"    {attribute} = "))
    top = at
    while lines[top - 1].lstrip().startswith("#"):
        top -= 1
    end = at
    while not lines[end].rstrip().endswith((")", "G")) and not lines[end].startswith("    )"):
        end += 1
    return lines[top : end + 1]


def test_schema_mistakes_are_reported_together_with_exit_2(tmp_path):
    bad = {
        "overrides": {
            "decode.wo": {"program_config": {**WO_2D, "mcast_in0": True}},  # a 1D-only field on a 2D config
            "decode.w1": {"program_config": {**WO_2D, "in0_block_w": "wide"}},  # bad type
            "decode.w3": {"program_config": {**WO_2D, "type": "MatmulFancyProgramConfig"}},  # no such family
            "decode.w2": {"memory_config": {"out": {"buffer": "L1", "layout": "WIDTH_SHARDED"}}},  # no shard spec
        }
    }
    done = run(
        "build",
        "--config",
        TINY,
        "--device",
        "n150",
        *FLAGS,
        "--hints",
        str(write_hints(tmp_path, bad)),
        "--out",
        str(tmp_path / "out"),
    )
    assert done.returncode == 2, done.stderr
    err = done.stderr
    assert "Traceback" not in err and str(tmp_path / "hints.yaml") in err
    assert (
        "overrides.decode.wo.program_config" in err
        and "'mcast_in0' is not a field of MatmulMultiCoreReuseMultiCastProgramConfig" in err
    )
    assert "allowed: compute_with_storage_grid_size, in0_block_w" in err
    assert "overrides.decode.w1.program_config.in0_block_w" in err
    assert "overrides.decode.w3.program_config.type" in err and "MatmulMultiCoreReuseMultiCast1DProgramConfig" in err
    assert "overrides.decode.w2.memory_config.out" in err and "needs shard_shape, grid, orientation" in err
    assert not (tmp_path / "out").exists()


def test_unknown_op_keys_and_pins_on_ops_without_that_config_are_reported_together(tmp_path):
    bad = {
        "overrides": {
            "decode.wqkvv": {"dtype": "bfloat16"},
            "nope": {"fidelity": "HiFi4"},
            "attention_norm": {
                "program_config": {
                    "type": "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig",
                    "in0_block_w": 4,
                    "per_core_M": 1,
                    "per_core_N": 8,
                }
            },
            "decode.w3": {"memory_config": {"in0": {"buffer": "L1", "layout": "INTERLEAVED"}}},  # shares w1's input
        }
    }
    done = run(
        "build",
        "--config",
        TINY,
        "--device",
        "n150",
        *FLAGS,
        "--hints",
        str(write_hints(tmp_path, bad)),
        "--out",
        str(tmp_path / "out"),
    )
    assert done.returncode == 2, done.stderr
    assert (
        "override names unknown op 'decode.wqkvv'" in done.stderr and "override names unknown op 'nope'" in done.stderr
    )
    assert "'attention_norm.program_config': a rms_norm op has none (allowed on: linear)" in done.stderr
    assert "'decode.w3.memory_config.in0': decode.w3 reads its producer's tensor as it is" in done.stderr
    assert "wqkv" in done.stderr.split("ops:")[1]  # the allowed names


def test_pin_becomes_the_config_tttgen_emits():
    pin = Hints.model_validate({"overrides": {"wo": {"program_config": WO_2D}}}).overrides["wo"].program_config
    assert pin.config() == MatmulConfig(
        MATMUL_2D,
        in0_block_w=4,
        per_core_M=2,
        per_core_N=2,
        out_subblock_h=1,
        out_subblock_w=2,
        out_block_h=2,
        out_block_w=2,
        grid=(4, 2),
        transpose_mcast=False,
        fuse_batch=True,
    )


def test_pinned_program_config_is_emitted_verbatim_and_marked(pinned):
    hints, _, files = pinned
    block = _attribute_block(files["configs.py"], "Prefill128", "wo_program")
    assert f"    # pinned by {hints} overrides.prefill_128.wo" in block
    text = " ".join(line.strip() for line in block)
    assert "wo_program = ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(" in text
    for field, value in WO_2D.items():
        if field == "compute_with_storage_grid_size":
            assert "compute_with_storage_grid_size=ttnn.CoreCoord(4, 2)," in text
        elif field != "type":
            assert f"{field}={value!r}," in text
    # The searched attributes around it carry no mark; the kernel and memory pins mark their own attributes.
    assert not any("pinned" in line for line in _attribute_block(files["configs.py"], "Prefill128", "wo_compute"))
    assert f"    # pinned by {hints} overrides.decode.w1" in _attribute_block(
        files["configs.py"], "Decode", "w1_compute"
    )
    # The kernel is a shared configs constant: the pinned attribute names it, the constant holds HiFi4.
    block = _attribute_block(files["configs.py"], "Decode", "w1_compute")
    kernel = next(line for line in block if line.startswith("    w1_compute = ")).split(" = ")[1]
    assert (
        f"{kernel} = ttnn.WormholeComputeKernelConfig(\n    math_fidelity=ttnn.MathFidelity.HiFi4,"
        in files["configs.py"]
    )
    assert f"    # pinned by {hints} overrides.prefill_128.w2" in _attribute_block(
        files["configs.py"], "Prefill128", "w2_memory"
    )
    weights = files["configs.py"].split("WEIGHTS = {")[1]
    assert (
        f'; pinned by {hints} overrides.wqkv (dtype, memory_config.in1)\n    "wqkv": (ttnn.bfloat16, ttnn.TILE_LAYOUT, ttnn.DRAM_MEMORY_CONFIG)'
        in weights
    )
    # A decode matmul's input is placed by the reshard that feeds it: that attribute carries the in0 pin.
    w2_in = _attribute_block(files["configs.py"], "Decode", "w2_in_memory")
    assert (
        w2_in[0] == f"    # pinned by {hints} overrides.decode.w2"
        and w2_in[1] == "    w2_in_memory = L1_WIDTH_SHARDED_32X256_2_CORES"
    )


def test_manifest_records_the_pins_and_the_hints_file(pinned):
    hints, _, files = pinned
    manifest = json.loads(files["MANIFEST.json"])
    assert manifest["request"]["hints_file"] == str(hints)
    ops = {op["key"]: op for op in manifest["ops"]}
    wo = ops["prefill_128.wo"]
    assert wo["pinned"] == {"by": f"{hints} overrides.prefill_128.wo", "fields": ["program_config"]}
    assert wo["program_config"] == {**WO_2D, "fused_activation": None}
    assert (
        ops["decode.wo"]["pinned"]["fields"] == ["program_config"]
        and ops["decode.wo"]["program_config"]["in0_block_w"] == 4
    )
    assert ops["decode.w1"]["pinned"]["fields"] == ["compute_kernel_config"]
    assert ops["decode.w1"]["compute_kernel_config"] == {**HIFI4, "dst_full_sync_en": False}
    assert ops["prefill_128.w2"]["pinned"]["fields"] == ["memory_config.out"]
    assert ops["decode.w2"]["pinned"]["fields"] == ["memory_config.in0", "program_config"]
    assert (
        ops["decode.w2"]["memory"]["in0"]["grid"] == [[[0, 0], [1, 0]]]
        and ops["decode.w2"]["program_config"]["per_core_N"] == 4
    )
    assert (
        ops["decode.wqkv"]["pinned"]["fields"] == ["dtype", "memory_config.in1"]
        and ops["decode.wqkv"]["dtypes"]["in1"] == "bfloat16"
    )
    assert ops["decode.wqkv"]["memory"]["in1"]["layout"] == "INTERLEAVED"
    assert "pinned" not in ops["decode.w3"] and "pinned" not in ops["prefill_128.w1"]
    assert wo["l1_bytes_per_core"] > 0 and wo["cores"] == 8  # priced and L1-checked like a searched config


def test_explain_marks_the_pin_and_shows_what_the_search_would_pick(pinned):
    hints, _, _ = pinned
    table = run("explain", "--config", TINY, "--device", "n150", "--hints", str(hints), "--op", "prefill_128.wo")
    assert table.returncode == 0, table.stderr
    assert "[pinned]" in table.stdout and f"pinned by {hints} overrides.prefill_128.wo: program_config" in table.stdout
    assert "searched alternative" in table.stdout
    detail = json.loads(
        run("explain", "--config", TINY, "--device", "n150", "--hints", str(hints), "--format", "json").stdout
    )
    marked = {row["op"] for row in detail["ops"] if row["pinned"]}
    assert marked == {
        "prefill_128.wo",
        "decode.wo",
        "decode.w1",
        "prefill_128.w2",
        "decode.w2",
        "prefill_128.wqkv",
        "decode.wqkv",
    }


def test_pinned_config_that_breaks_a_rule_stops_the_build(tmp_path):
    bad = {
        "overrides": {
            "decode.wo": {
                "program_config": {
                    "type": "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig",
                    "in0_block_w": 3,
                    "per_core_M": 1,
                    "per_core_N": 8,
                }
            }
        }
    }
    done = run(
        "build",
        "--config",
        TINY,
        "--device",
        "n150",
        *FLAGS,
        "--hints",
        str(write_hints(tmp_path, bad)),
        "--out",
        str(tmp_path / "out"),
    )
    assert done.returncode == 2, done.stderr
    assert f"{tmp_path / 'hints.yaml'}: overrides.decode.wo.program_config" in done.stderr
    assert "r02_k_divisible: Kt=8 is not divisible by in0_block_w=3" in done.stderr
    assert not (tmp_path / "out").exists()


def test_check_replans_with_the_recorded_hints_file(pinned):
    hints, package, _ = pinned
    clean = run("check", str(package), "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # Editing the pin in the hints file is drift of the committed package, not a silent change.
    edited = json.loads(json.dumps(PINS))
    edited["overrides"]["prefill_128.wo"]["program_config"]["in0_block_w"] = 8
    original = hints.read_text()
    try:
        write_hints(hints.parent, edited)
        drift = run("check", str(package), "--json")
    finally:
        hints.write_text(original)
    assert drift.returncode == 1
    [report] = json.loads(drift.stdout)["packages"]
    assert any("configs.py" in d and "in0_block_w=8" in d for d in report["drift"])
