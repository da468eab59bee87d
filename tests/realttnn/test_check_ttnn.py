"""`tttgen check --ttnn` and `tttgen build --ttnn-check`: the real ttnn's verdict reaches the user, and a planted
illegal config or an understated L1 claim makes them fail."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.realttnn.check import RejectedByTtnn, judge_rendered

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests/data/tiny-llama/config.json")
TTTGEN = [sys.executable, "-m", "tttgen"]
FLAGS = ("--prefill-lens", "128", "--max-seq-len", "256")


@pytest.fixture(scope="module")
def tiny_package(tmp_path_factory, real_ttnn):
    out = tmp_path_factory.mktemp("tiny")
    done = subprocess.run(TTTGEN + ["build", "--config", TINY, "--device", "n150", "--out", str(out), "--ttnn-check", "on", *FLAGS], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return next(out.rglob("MANIFEST.json")).parent


def check_json(directory: Path) -> tuple[int, dict]:
    done = subprocess.run(TTTGEN + ["check", str(directory), "--ttnn", "--json"], capture_output=True, text=True)
    return done.returncode, json.loads(done.stdout)


def copy(package: Path, tmp_path: Path) -> Path:
    target = tmp_path / package.parent.name / package.name
    shutil.copytree(package, target)
    return target


def test_clean_package_passes_with_every_mode_run(tiny_package):
    code, report = check_json(tiny_package)
    assert code == 0, report
    [verdict] = report["real_ttnn"]
    assert verdict["ok"]
    assert {p["phase"] for p in verdict["phases"]} == {"prefill_128", "decode", "seed_sampling", "decode_sampled"}
    assert all(p["status"] == "ran" for p in verdict["phases"])
    linears = [op for op in verdict["ops"] if op["fn"] == "linear"]
    assert linears and all(op["accepted"] == op["calls"] for op in linears)
    assert any(op["calls"] == 2 for op in linears)  # every layer ran
    assert not list(tiny_package.rglob("__pycache__"))  # importing the package under ttnn leaves nothing behind


def test_the_step_state_ops_are_accepted_in_both_decode_phases(tiny_package):
    """The untraced decode steps run the ops that advance the step state on device: ttnn accepts the ids written
    into the next step's tokens (ttnn.copy) and both ttnn.plus_one calls (positions with skip_negative_entries)."""
    code, report = check_json(tiny_package)
    [verdict] = report["real_ttnn"]
    for phase in ("decode", "decode_sampled"):
        ops = {op["fn"]: op for op in verdict["ops"] if op["phase"] == phase and op["fn"] in ("plus_one", "copy")}
        assert set(ops) == {"plus_one", "copy"}, phase
        assert all(op["accepted"] == op["calls"] for op in ops.values()), ops


def test_planted_illegal_program_config_is_reported_with_ttnn_message_and_line(tiny_package, tmp_path):
    package = copy(tiny_package, tmp_path)
    configs = package / "configs.py"
    text = configs.read_text()
    # Decode wo: an in0_block_w that does not divide K in tiles.
    start = text.index("wo_program", text.index("class Decode"))
    planted = text[:start] + re.sub(r"in0_block_w=\d+", "in0_block_w=7", text[start:], count=1)
    configs.write_text(planted)
    code, report = check_json(package)
    assert code == 1
    [verdict] = report["real_ttnn"]
    rejected = [f for f in verdict["findings"] if f.startswith("rejected") and "decode.wo" in f]
    assert rejected, verdict["findings"]
    assert "model.py:" in rejected[0] and "in0_block_w" in rejected[0]


def test_understated_l1_claim_is_reported(tiny_package, tmp_path):
    package = copy(tiny_package, tmp_path)
    manifest = json.loads((package / "MANIFEST.json").read_text())
    op = next(o for o in manifest["ops"] if o["key"] == "decode.wqkv")
    op["l1_bytes_per_core"] = 1024
    (package / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    code, report = check_json(package)
    assert code == 1
    [verdict] = report["real_ttnn"]
    assert any("L1 claim below" in f and "decode.wqkv" in f for f in verdict["findings"]), verdict["findings"]


def test_build_stops_with_ttnn_message_and_writes_nothing(real_ttnn, tmp_path):
    p = plan(Request(TINY, "n150", None, (("max_seq_len", 256), ("prefill_lens", [128]))))
    files = render_plan(p)
    files["configs.py"] = re.sub(r"per_core_N=(\d+)", lambda m: f"per_core_N={int(m.group(1)) + 5}", files["configs.py"], count=1)
    with pytest.raises(RejectedByTtnn) as err:
        judge_rendered(files, p.out_subdir, p.graph)
    assert "the real ttnn 0.81.1 does not accept" in str(err.value)
    assert err.value.exit_code == 3


def test_explain_op_shows_ttnn_verdict_and_l1(real_ttnn):
    done = subprocess.run(
        TTTGEN + ["explain", "--config", TINY, "--device", "n150", "--op", "decode.wqkv", "--ttnn-check", "on", *FLAGS],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    [line] = [ln for ln in done.stdout.splitlines() if "real ttnn 0.81.1" in ln]
    assert "accepted" in line and "B/core" in line and "tttgen claims" in line


def test_unknown_keyword_is_caught_by_the_real_signature(tiny_package, tmp_path):
    package = copy(tiny_package, tmp_path)
    model = package / "model.py"
    text = model.read_text()
    assert "epsilon=1e-05" in text
    model.write_text(text.replace("epsilon=1e-05", "not_a_ttnn_keyword=1, epsilon=1e-05", 1))
    code, report = check_json(package)
    assert code == 1
    [verdict] = report["real_ttnn"]
    assert any("not_a_ttnn_keyword" in f for f in verdict["findings"]), verdict["findings"]
