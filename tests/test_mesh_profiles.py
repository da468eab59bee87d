"""Mesh device profiles: the mesh: section is data with a source, and contradictions are refused at load time."""

import pytest
import yaml

from tttgen.errors import InputError
from tttgen.checking.realttnn import environment
from tttgen.inputs.load import load_device

MESH_PROFILES = ("n300", "n300-eth", "t3k", "galaxy", "p150x4", "p300")


def write(tmp_path, base, mutate):
    data = yaml.safe_load(open(f"device_profiles/{base}.yaml"))
    mutate(data)
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize("name", MESH_PROFILES)
def test_mesh_profiles_load_with_sources_and_a_descriptor(name):
    device, _ = load_device(name)
    assert device.chips > 1 and device.mesh is not None
    assert device.mesh_shape[0] * device.mesh_shape[1] == device.chips
    assert "mesh" in device.sources and "mesh_shape" in device.sources
    assert (environment.DESCRIPTORS / f"{name}.yaml").exists()


def test_the_grids_the_reference_measured():
    grids = {n: (load_device(n)[0].grid.x, load_device(n)[0].grid.y) for n in MESH_PROFILES}
    assert grids == {
        "n300": (8, 7),
        "n300-eth": (8, 8),
        "t3k": (8, 8),
        "galaxy": (8, 9),
        "p150x4": (11, 10),
        "p300": (11, 10),
    }
    t3k = load_device("t3k")[0]
    assert t3k.mesh.dispatch_core_type == "ETH" and t3k.mesh.axes[1].topology == "ring"
    assert t3k.mesh.fabric == "FABRIC_1D_RING"
    assert [a.links for a in load_device("galaxy")[0].mesh.axes] == [4, 3]


def test_single_chip_profiles_have_no_mesh():
    assert load_device("n150")[0].mesh is None


def test_multi_chip_profile_without_mesh_is_refused(tmp_path):
    with pytest.raises(InputError, match="8-chip profile needs a mesh: section"):
        load_device(write(tmp_path, "t3k", lambda d: d.pop("mesh")))


def test_ring_on_two_chips_is_refused(tmp_path):
    def ring(d):
        d["mesh"]["axes"][1]["topology"] = "ring"
        d["mesh"]["fabric"] = "FABRIC_1D_RING"

    with pytest.raises(InputError, match=r"axes\[1\]: a ring needs at least 3 chips on the axis, it has 2"):
        load_device(write(tmp_path, "n300", ring))


def test_ring_without_a_ring_fabric_is_refused(tmp_path):
    with pytest.raises(InputError, match="ring topology needs fabric FABRIC_1D_RING or FABRIC_2D"):
        load_device(write(tmp_path, "t3k", lambda d: d["mesh"].update(fabric="FABRIC_1D")))


def test_dispatch_must_agree_with_the_mesh_dispatch_core(tmp_path):
    with pytest.raises(InputError, match="dispatch_core_type WORKER disagrees with dispatch 'ethernet'"):
        load_device(write(tmp_path, "t3k", lambda d: d["mesh"].update(dispatch_core_type="WORKER")))


def test_bad_fabric_names_allowed_values(tmp_path):
    with pytest.raises(InputError, match="FABRIC_1D_RING"):
        load_device(write(tmp_path, "t3k", lambda d: d["mesh"].update(fabric="RING")))
