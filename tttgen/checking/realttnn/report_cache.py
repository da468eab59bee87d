"""The real ttnn's reports on packages it has already judged, kept on disk (as oracle.py keeps its matmul verdicts).

ttnn 0.81.1 on a mock board is deterministic: the same package, job, runner and board give the same report. The key
hashes all of them — every file of the package, the job the runner gets (calls, checkpoint shapes, host weight
shapes; not its paths), the runner-side sources, the board's cluster descriptor and the ttnn version — so any change
to any of them runs the package again. A package whose report comes from here is marked `cached` in the summary.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from tttgen.checking.realttnn import environment

HERE = Path(__file__).resolve().parent
# what runs in the ttnn venv and shapes its report: the runner, its call memo, its shims and stand-ins, the API
# check it loads, and the environment it runs in (environment.runner_env)
RUNNER_SOURCES = (
    HERE / "runner.py", HERE / "memo.py", HERE / "mesh_rules.py", HERE / "probe.py", HERE / "shims.py", HERE / "sfpi_standin.py",
    HERE / "environment.py", HERE.parents[1] / "apicheck.py",
)
JOB_PATHS = ("dir", "label", "shapes_file", "checkpoint_dir")  # where things are, not what is judged


def key(job: dict[str, Any], device: str) -> str:
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)

    add("ttnn", environment.TTNN_VERSION.encode())
    add("device", device.encode())
    add("descriptor", environment.descriptor(device).read_bytes())
    for source in RUNNER_SOURCES:
        add(source.name, source.read_bytes())
    add("job", json.dumps({k: v for k, v in job.items() if k not in JOB_PATHS}, sort_keys=True).encode())
    add("shapes", Path(job["shapes_file"]).read_bytes())
    package = Path(job["dir"])
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        add(str(path.relative_to(package)), path.read_bytes())
    return h.hexdigest()


def _file(k: str) -> Path:
    return environment.cache_dir() / "package_reports" / f"{k}.json"


def load(k: str) -> dict[str, Any] | None:
    try:
        return json.loads(_file(k).read_text())
    except (OSError, ValueError):
        return None


def store(k: str, report: dict[str, Any]) -> None:
    path = _file(k)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # processes may write at once: never share a temp file
    tmp.write_text(json.dumps(report, sort_keys=True))
    tmp.replace(path)
