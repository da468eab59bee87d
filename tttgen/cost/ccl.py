"""Modeled time of one collective (all_gather, reduce_scatter, all_reduce) on a line or ring of chips.

    t = fixed + hops * hop * k + k * (N - 1) / N * bytes / (directions * links * link_GBps * efficiency[topology])

- `bytes` is the tensor the collective is named after, per device, as nccl-tests and tt-metal's CCL reports count it:
  the gathered output of an all_gather, the full (pre-scatter) input of a reduce_scatter, the tensor of an all_reduce.
- N chips on the axis; a ring uses both directions and N // 2 hops, a line one direction (its end chips receive
  from one side only) and N - 1 hops. k = 2 for all_reduce (a reduce_scatter and an all_gather), else 1.
- `fixed` (per call), `hop` (per hop: the fabric's per-hop handshake, well above the wire's ~0.65 us) and
  `efficiency` (achieved over the line rate, per topology) are fitted per architecture and op to tt-metal's published
  CCL sweeps, copied with their source into `ccl.yaml` (`python -m tttgen.cost.ccl --write` refits and rewrites it;
  tests/test_ccl_cost.py checks that the stored constants are that fit and how close it comes to every point).

Link bandwidth and link count come from the device profile's `mesh:` section (`collective_on_mesh_ns`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tttgen.inputs.device import DeviceProfile

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same data as safe_load, faster

CCL_PATH = Path(__file__).with_name("ccl.yaml")
OPS = ("all_gather", "reduce_scatter", "all_reduce")
TOPOLOGIES = ("linear", "ring")


@dataclass(frozen=True)
class CclConstants:
    fixed_ns: float
    hop_ns: float
    efficiency: dict[str, float]  # topology -> achieved fraction of the line rate


@dataclass(frozen=True)
class Point:
    """One published measurement: `op` over `devices` chips in `topology`, `size_bytes` as nccl-tests counts it."""

    arch: str
    op: str
    devices: int
    topology: str
    size_bytes: int
    time_us: float


def hops(devices: int, topology: str) -> int:
    return devices // 2 if topology == "ring" and devices > 2 else devices - 1


def _terms(
    op: str, devices: int, topology: str, size_bytes: float, links: int, link_gbps: float
) -> tuple[float, float, float]:
    """(hop count, line-rate transfer time in ns) with the op's factor k applied, and which topology's efficiency."""
    ring = topology == "ring" and devices > 2
    k = 2 if op == "all_reduce" else 1
    directions = 2 if ring else 1
    wire_ns = k * (devices - 1) / devices * size_bytes / (directions * links * link_gbps)  # GB/s == bytes/ns
    return k * hops(devices, topology), wire_ns, ring


def collective_ns(
    op: str, *, arch: str, devices: int, size_bytes: float, topology: str, links: int, link_gbps: float
) -> float:
    """Modeled nanoseconds of one collective over `devices` chips (0 on one chip)."""
    if op not in OPS:
        raise ValueError(f"unknown collective '{op}': one of {', '.join(OPS)}")
    if devices <= 1:
        return 0.0
    c = constants()[arch][op]
    hop_count, wire_ns, ring = _terms(op, devices, topology, size_bytes, links, link_gbps)
    return c.fixed_ns + hop_count * c.hop_ns + wire_ns / c.efficiency["ring" if ring else "linear"]


def collective_on_mesh_ns(device: DeviceProfile, op: str, axis: int | None, size_bytes: float) -> float:
    """One collective along a mesh axis of a device profile (axis None: all chips, as one line of the mesh's larger
    axis), with that axis's topology and links and the profile's link bandwidth."""
    if device.mesh is None:
        return 0.0
    if axis is None:
        axis = 0 if device.mesh_shape[0] >= device.mesh_shape[1] else 1
        devices = device.chips
    else:
        devices = device.mesh_shape[axis]
    along = device.mesh.axes[axis]
    return collective_ns(
        op,
        arch=device.arch,
        devices=devices,
        size_bytes=size_bytes,
        topology=along.topology,
        links=along.links,
        link_gbps=device.mesh.eth_link_gbps,
    )


# ---- data and fit ----------------------------------------------------------------------------------------------


def _read() -> dict[str, Any]:
    return yaml.load(CCL_PATH.read_text(), Loader=_LOADER)


@lru_cache(maxsize=1)
def constants() -> dict[str, dict[str, CclConstants]]:
    data = _read()["constants"]
    return {
        arch: {op: CclConstants(c["fixed_ns"], c["hop_ns"], dict(c["efficiency"])) for op, c in ops.items()}
        for arch, ops in data.items()
    }


def points() -> list[Point]:
    return [Point(*row) for row in _read()["points"]]


def calibration_links() -> dict[str, dict[str, float]]:
    """The links and line rate each architecture's published sweep ran at."""
    return {
        arch: {"links": v["links"], "link_gbps": v["link_gbps"]} for arch, v in _read()["calibration_links"].items()
    }


def fit(pts: list[Point], links: dict[str, dict[str, float]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Least squares on relative error, per architecture and op: fixed_ns, hop_ns, 1/efficiency per topology
    (the model is linear in them)."""
    import numpy as np

    fitted: dict[str, dict[str, dict[str, Any]]] = {}
    for arch in sorted({p.arch for p in pts}):
        fitted[arch] = {}
        for op in OPS:
            rows, targets = [], []
            for p in (p for p in pts if p.arch == arch and p.op == op):
                hop_count, wire_ns, ring = _terms(
                    op, p.devices, p.topology, p.size_bytes, links[arch]["links"], links[arch]["link_gbps"]
                )
                t_ns = p.time_us * 1000.0
                rows.append(
                    [1.0 / t_ns, hop_count / t_ns, 0.0 if ring else wire_ns / t_ns, wire_ns / t_ns if ring else 0.0]
                )
                targets.append(1.0)
            if not rows:
                continue
            x, *_ = np.linalg.lstsq(np.array(rows), np.array(targets), rcond=None)
            fitted[arch][op] = {
                "fixed_ns": round(float(x[0]), 1),
                "hop_ns": round(float(x[1]), 1),
                "efficiency": {"linear": round(1.0 / float(x[2]), 4), "ring": round(1.0 / float(x[3]), 4)},
            }
    return fitted


def main(argv: list[str]) -> int:
    """`--write`: refit the constants from the points in ccl.yaml and rewrite its constants block."""
    if argv[1:] != ["--write"]:
        print("usage: python -m tttgen.cost.ccl --write", file=sys.stderr)
        return 2
    text = CCL_PATH.read_text()
    head, _, _ = text.partition("\nconstants:\n")
    new = yaml.safe_dump({"constants": fit(points(), calibration_links())}, sort_keys=True, width=120)
    points_block = "\npoints:\n" + text.partition("\npoints:\n")[2]
    CCL_PATH.write_text(head + "\n" + new + points_block.rstrip("\n") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
