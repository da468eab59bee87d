"""Fixtures for tests that ask the real ttnn 0.81.1 (a Python 3.12 venv, `make ttnn-venv`).

`make test` creates that venv first, so in CI these tests always run: there a missing venv is a failure, not a skip.
"""

import os

import pytest

from tttgen.realttnn import environment


@pytest.fixture(scope="session")
def real_ttnn():
    env = environment.available()
    if env is None:
        message = f"no ttnn=={environment.TTNN_VERSION} venv at {environment.venv_dir()}: {environment.SETUP_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return env
