"""build writes atomically and never over hand edits; check names missing, changed and stale files."""

import os
import subprocess
import sys

import pytest

from plan_cache import cached_files
from tttgen.errors import OutputConflict
from tttgen.generate import Request, plan, render_plan
from tttgen.checking.drift import compare
from tttgen.output.write import write_package

TTTGEN = [sys.executable, "-m", "tttgen"]


@pytest.fixture()
def package(tmp_path):
    files = cached_files("llama-3.2-1b", "n150")
    target = tmp_path / "llama_3_2_1b" / "n150"
    write_package(files, target)
    return files, target


def test_fresh_package_has_no_drift(package):
    files, target = package
    assert compare(files, target) == []


def test_check_catches_one_byte_edit(package):
    files, target = package
    path = target / "configs.py"
    data = bytearray(path.read_bytes())
    data[-2] = ord("#") if data[-2] != ord("#") else ord("x")
    path.write_bytes(bytes(data))
    kinds = [(d.kind, os.path.basename(d.path.split(" ")[0])) for d in compare(files, target)]
    assert ("changed", "configs.py") in kinds and ("hash", "configs.py") in kinds


def test_check_catches_deleted_and_stale(package):
    files, target = package
    (target / "weights.py").unlink()
    (target / "notes.txt").write_text("mine")
    drifts = {(d.kind, os.path.basename(d.path)) for d in compare(files, target)}
    assert ("missing", "weights.py") in drifts and ("stale", "notes.txt") in drifts


def test_build_refuses_to_overwrite_hand_edits(package):
    files, target = package
    (target / "model.py").write_text("# my fix\n")
    with pytest.raises(OutputConflict, match="model.py"):
        write_package(files, target)
    assert (target / "model.py").read_text() == "# my fix\n"
    write_package(files, target, force=True)
    assert compare(files, target) == []


def test_failed_write_leaves_old_output(package, monkeypatch):
    files, target = package
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    broken = dict(files)
    broken["sub/\0bad"] = "x"  # NUL in a path: the write fails midway
    with pytest.raises(ValueError):
        write_package(broken, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_cli_check_exit_codes(tmp_path):
    out = tmp_path / "gen"
    build = subprocess.run(TTTGEN + ["build", "llama-3.2-1b", "--device", "n150", "--out", str(out)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    ok = subprocess.run(TTTGEN + ["check", str(out)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (out / "llama_3_2_1b" / "n150" / "plan.json").unlink()
    bad = subprocess.run(TTTGEN + ["check", str(out)], capture_output=True, text=True)
    assert bad.returncode == 1 and "missing:" in bad.stdout and "plan.json" in bad.stdout


def test_render_is_deterministic_in_process():
    a = render_plan(plan(Request("llama-3.2-1b", "p150")))
    b = render_plan(plan(Request("llama-3.2-1b", "p150")))
    assert a == b


@pytest.mark.parametrize("model", ["llama-3.2-1b", "prenorm_encoder_layer"])
def test_render_is_deterministic_across_hash_seeds(tmp_path, model):
    outputs = []
    for seed in ("0", "1"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "TTTGEN_TTNN_CHECK": "off"}
        subprocess.run(TTTGEN + ["build", model, "--device", "p150", "--out", str(out)], check=True, env=env, capture_output=True)
        outputs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert outputs[0] == outputs[1]
