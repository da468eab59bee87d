import functools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tttgen.generate import Request, plan, render_plan  # noqa: E402


@functools.lru_cache(maxsize=None)
def cached_plan(model: str, device: str, flags: tuple = ()):
    return plan(Request(model, device, None, flags))


@functools.lru_cache(maxsize=None)
def cached_files(model: str, device: str, flags: tuple = ()):
    return render_plan(cached_plan(model, device, flags))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
