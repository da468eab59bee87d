import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# `tttgen build` asks the real ttnn when its venv exists; tests that build only to look at the output opt out,
# and the real-ttnn tests (tests/realttnn) ask it explicitly.
os.environ.setdefault("TTTGEN_TTNN_CHECK", "off")
