"""Fixtures for the emulator tests: an installed emulator (n150-like device) and tensor helpers."""

from __future__ import annotations

import pytest
import torch

import tttgen.checking.emulator as emu

from emu_helpers import N150


@pytest.fixture
def ttnn():
    with emu.installed(**N150) as mod:
        yield mod


@pytest.fixture
def fast_ttnn():
    with emu.installed(**N150, numerics="fast") as mod:
        yield mod


@pytest.fixture
def dry_ttnn():
    with emu.installed(**N150, numerics="none") as mod:
        yield mod


@pytest.fixture
def device(ttnn):
    dev = ttnn.open_device(device_id=0)
    yield dev
    ttnn.close_device(dev)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)
