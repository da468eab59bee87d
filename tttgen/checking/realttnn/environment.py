"""Where the real-ttnn venv, the mock cluster descriptors and tt-metal's caches live.

The venv is `<project>/.venv-ttnn` (made by `python -m tttgen.checking.realttnn.setup`, which `make test` runs), or the one
`TTTGEN_TTNN_VENV` names. Cluster descriptors are data files, one per device profile (single chip or mesh):
`tttgen/data/cluster_descriptors/<profile>.yaml`, each with its source (README.md there).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tttgen.errors import UnsupportedTarget

PACKAGE_DIR = Path(__file__).resolve().parents[2]
PROJECT_ROOT = PACKAGE_DIR.parent
DESCRIPTORS = PACKAGE_DIR / "data" / "cluster_descriptors"
TTNN_VERSION = "0.81.1"
SETUP_HINT = "run `make ttnn-venv` (or `python -m tttgen.checking.realttnn.setup`) to create it"


@dataclass(frozen=True)
class TtnnEnv:
    venv: Path
    python: Path


def venv_dir() -> Path:
    return Path(os.environ.get("TTTGEN_TTNN_VENV") or PROJECT_ROOT / ".venv-ttnn")


def cache_dir() -> Path:
    """tt-metal's JIT cache and logs: outside generated/ (tt-metal writes folders into its working directory)."""
    path = Path(os.environ.get("TTTGEN_TTNN_CACHE") or PROJECT_ROOT / ".tttgen-cache" / "tt-metal")
    path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=1)
def available() -> TtnnEnv | None:
    """The real-ttnn venv if it exists and imports ttnn of the target version."""
    python = venv_dir() / "bin" / "python"
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('ttnn'))"],
        capture_output=True,
        text=True,
        env={**os.environ, "LOGURU_LEVEL": "WARNING"},
    )
    if probe.returncode != 0 or probe.stdout.strip() != TTNN_VERSION:
        return None
    return TtnnEnv(venv_dir(), python)


def require(where: str = "tttgen check --ttnn") -> TtnnEnv:
    env = available()
    if env is None:
        raise UnsupportedTarget(f"no Python venv with ttnn=={TTNN_VERSION} at {venv_dir()}", where=where, hint=SETUP_HINT)
    return env


def descriptor(device: str) -> Path:
    path = DESCRIPTORS / f"{device}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in DESCRIPTORS.glob("*.yaml"))
        raise UnsupportedTarget(
            f"no mock cluster descriptor for device profile '{device}'", where="tttgen check --ttnn", hint=f"available: {', '.join(known)}"
        )
    return path


def runner_env(device: str) -> dict[str, str]:
    cache = cache_dir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(
        TT_METAL_MOCK_CLUSTER_DESC_PATH=str(descriptor(device)),
        TT_METAL_CACHE=str(cache / "jit"),
        TT_METAL_LOGS_PATH=str(cache / "logs"),
        LOGURU_LEVEL="WARNING",
        TT_LOGGER_LEVEL="FATAL",
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",  # the runner imports packages from generated/: leave no __pycache__ there
    )
    return env


def run_script(script: Path, job_file: Path, out_file: Path, device: str) -> str | None:
    """Run `script JOB OUT` in the ttnn venv on the device's mock board; None when it wrote OUT, else why not
    (exit code and the tail of its stderr)."""
    done = subprocess.run(
        [str(require().python), str(script), str(job_file), str(out_file)],
        env=runner_env(device),
        capture_output=True,
        text=True,
        cwd=str(cache_dir()),  # tt-metal writes generated/ folders into its working directory
    )
    if done.returncode == 0 and out_file.exists():
        return None
    return f"exit {done.returncode}: " + "\n".join((done.stderr or "").splitlines()[-15:])
