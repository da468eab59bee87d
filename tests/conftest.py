import os
from pathlib import Path

import pytest

from tttgen.realttnn import environment

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# `tttgen build` asks the real ttnn when its venv exists; tests that build only to look at the output opt out,
# and the real-ttnn tests (tests/realttnn) ask it explicitly.
os.environ.setdefault("TTTGEN_TTNN_CHECK", "off")


@pytest.fixture(scope="session")
def real_ttnn():
    """The real ttnn 0.81.1 (a Python 3.12 venv, `make ttnn-venv`), for tests that ask it (tests/realttnn and the
    sweep's small form). `make test` creates that venv first, so in CI these tests always run: there a missing venv
    is a failure, not a skip."""
    env = environment.available()
    if env is None:
        message = f"no ttnn=={environment.TTNN_VERSION} venv at {environment.venv_dir()}: {environment.SETUP_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return env


@pytest.fixture(scope="session")
def load_benchmark():
    """A loader of benchmarks/<name>.py as a module (benchmarks are scripts, not a package)."""
    return _load_benchmark


def _load_benchmark(name: str):
    """Import benchmarks/<name>.py; yields the module, then unloads it."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]
