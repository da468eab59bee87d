"""`tttgen check --ttnn` keeps the real ttnn's report of a package it judged and reuses it only for an identical
package, job, runner and board (no ttnn needed: the runner is stood in for)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tttgen.checking.realttnn import check, environment, report_cache

PACKAGE = Path("generated/mlp/n150")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TTTGEN_TTNN_CACHE", str(tmp_path / "cache"))
    return tmp_path


def job_for(directory: Path, workdir: Path) -> dict:
    shapes = workdir / "shapes.json"
    shapes.write_text("{}")
    return {"dir": str(directory), "label": str(directory), "calls": [{"phase": "prefill_128"}], "grid": [8, 8],
            "shapes_file": str(shapes), "checkpoint_dir": str(workdir / "ckpt")}


def test_key_follows_the_package_and_job_not_their_paths(cache):
    copy = cache / "elsewhere"
    shutil.copytree(PACKAGE, copy)
    a, b = job_for(PACKAGE, cache), job_for(copy, cache)
    assert report_cache.key(a, "n150") == report_cache.key(b, "n150")
    assert report_cache.key(a, "n150") != report_cache.key(a, "p150")  # another board
    assert report_cache.key(a, "n150") != report_cache.key({**a, "calls": []}, "n150")  # another job
    (copy / "model.py").write_text((copy / "model.py").read_text() + "\n# edited\n")
    assert report_cache.key(a, "n150") != report_cache.key(b, "n150")  # any file of the package


def test_second_check_reuses_the_report_and_says_so(cache, monkeypatch):
    runs = []

    def fake_runner(script, job_file, out_file, device):
        jobs = json.loads(Path(job_file).read_text())["packages"]
        runs.append([j["label"] for j in jobs])
        report = {"package": "x", "phases": [], "api": [], "errors": [], "seconds": 1.5,
                  "ops": [{"phase": "prefill_128", "key": "prefill_128.fc1", "file": "model.py", "line": 1, "fn": "linear",
                           "calls": 1, "accepted": 1, "message": None, "after_rejection": False,
                           "l1_dataflow": 0, "l1_total": 0, "l1_buffers": 0}]}
        Path(out_file).write_text(json.dumps({"packages": [report] * len(jobs)}))
        return None

    monkeypatch.setattr(environment, "require", lambda *a, **k: None)
    monkeypatch.setattr(environment, "run_script", fake_runner)
    monkeypatch.setattr(check, "_claims", lambda directory: {})
    work = cache / "jobs"
    work.mkdir()

    def prepared():
        job = job_for(PACKAGE, work)
        job["checkpoint_shapes"] = {}
        return {PACKAGE: (job, "n150")}

    [first] = check.run_real_ttnn([PACKAGE], jobs=prepared())
    [second] = check.run_real_ttnn([PACKAGE], jobs=prepared())
    assert len(runs) == 1  # the second check ran nothing
    assert not first.cached and second.cached
    assert second.ops == first.ops and second.findings == first.findings == []
    assert "cached (1.5 s when run)" in check.summarize([second])[0]


def test_a_runner_crash_is_not_kept(cache, monkeypatch):
    runs = []

    def crashing(script, job_file, out_file, device):
        runs.append(1)
        report = {"package": "x", "phases": [], "ops": [], "api": [], "errors": ["runner: MemoryError: ..."]}
        Path(out_file).write_text(json.dumps({"packages": [report]}))

    monkeypatch.setattr(environment, "require", lambda *a, **k: None)
    monkeypatch.setattr(environment, "run_script", crashing)
    monkeypatch.setattr(check, "_claims", lambda directory: {})
    work = cache / "jobs"
    work.mkdir()
    for _ in range(2):
        job = job_for(PACKAGE, work)
        job["checkpoint_shapes"] = {}
        [verdict] = check.run_real_ttnn([PACKAGE], jobs={PACKAGE: (job, "n150")})
        assert not verdict.cached
    assert len(runs) == 2
