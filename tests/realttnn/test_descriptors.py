"""Every cluster descriptor opens a mock device whose compute grid is the device profile's grid."""

import pytest

from tttgen.checking.realttnn import environment
from tttgen.checking.realttnn.oracle import mock_grid
from tttgen.inputs.load import load_device

PROFILES = sorted(p.stem for p in environment.DESCRIPTORS.glob("*.yaml"))
# Multi-chip descriptors open as a mesh: their grids are asked in tests/realttnn/test_mock_mesh.py.
SINGLE_CHIP = [name for name in PROFILES if load_device(name)[0].chips == 1]


def test_every_single_chip_profile_has_a_descriptor():
    assert {"n150", "p150", "p150-legacy-fw", "p100"} <= set(PROFILES)


@pytest.mark.parametrize("name", SINGLE_CHIP)
def test_descriptor_grid_matches_profile(real_ttnn, name):
    device, _ = load_device(name)
    assert mock_grid(device) == (device.grid.x, device.grid.y)


def test_descriptor_states_its_source():
    for name in PROFILES:
        text = (environment.DESCRIPTORS / f"{name}.yaml").read_text()
        assert "tt-umd" in text and "reports" in text, name
