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


JSON_CASES = [
    {"b": [1, 2.5, -0.0, 1e300, 10**30, True, False, None], "a": {"z": {}, "y": [], "x": ()}, "é\u2028\"\\\n": "ü\x00"},
    [[{"k": [{"deep": ["x", {"e": 1}]}]}], (), {}],
    {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")},
    "text",
    7,
    0.1,
    [1 / 3, 2.675, 1e-7, 123456789.125],
    None,
]
JSON_ODD = [{1: "int key"}, {"a": {2: 3}}, {"set": {1}}, {"obj": object()}, {"b": 1, 3: 2}]


@pytest.mark.parametrize("data", JSON_CASES + JSON_ODD)
def test_package_json_writer_is_json_dumps_byte_for_byte(data):
    """emit.dumps writes graph.json, plan.json and MANIFEST.json itself (faster than json.dumps with an indent):
    the same text as json.dumps(indent=2, sort_keys=True) plus a newline, or the same error, for every value."""
    import json
    from collections import OrderedDict

    from tttgen.render.emit import dumps

    def outcome(fn, value):
        try:
            return fn(value)
        except (TypeError, ValueError) as err:
            return f"{type(err).__name__}: {err}"

    reference = lambda value: json.dumps(value, indent=2, sort_keys=True) + "\n"  # noqa: E731
    for value in (data, [data], {"wrapped": data}, OrderedDict(one=data)):
        assert outcome(dumps, value) == outcome(reference, value)


def test_package_json_writer_reproduces_a_golden():
    """Every JSON file of a committed golden, read and written again, is the file (the writer's real inputs)."""
    import json
    from pathlib import Path

    from tttgen.render.emit import dumps

    golden = Path(__file__).resolve().parents[1] / "generated" / "llama_3_1_70b" / "p150x4"
    paths = sorted(golden.glob("*.json"))
    assert [p.name for p in paths] == ["MANIFEST.json", "graph.json", "plan.json"]
    for path in paths:
        text = path.read_text()
        assert dumps(json.loads(text)) == text, path.name
