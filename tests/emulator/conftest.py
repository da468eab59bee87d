"""Fixtures for the emulator tests: an installed emulator (n150-like device) and tensor helpers."""

from __future__ import annotations

import pytest
import torch

import tttgen.emulator as emu

from emu_helpers import N150


@pytest.fixture
def ttnn():
    mod = emu.install(**N150)
    try:
        yield mod
    finally:
        emu.uninstall()


@pytest.fixture
def fast_ttnn():
    mod = emu.install(**N150, numerics="fast")
    try:
        yield mod
    finally:
        emu.uninstall()


@pytest.fixture
def dry_ttnn():
    mod = emu.install(**N150, numerics="none")
    try:
        yield mod
    finally:
        emu.uninstall()


@pytest.fixture
def device(ttnn):
    dev = ttnn.open_device(device_id=0)
    yield dev
    ttnn.close_device(dev)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)
