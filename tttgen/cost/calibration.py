"""Fitted coefficients of the cost model, read from `calibration.yaml` next to this file.

The yaml is written by `benchmarks/calibrate.py` (never by hand): one block of coefficients per
architecture, plus the provenance (rows used, date, cross-validated scores). Devices whose
architecture has no fitted block use `fallback_arch`'s block.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same data as safe_load, faster

CALIBRATION_PATH = Path(__file__).with_name("calibration.yaml")


@dataclass(frozen=True)
class Coeffs:
    """Coefficients of one architecture. Units are in the names: cycles (`_cyc`), bytes per cycle
    (`_Bpc`), nanoseconds (`_ns`) or plain factors."""

    # compute: extra math-thread cycles per output tile per K block (partials packed/reloaded)
    tile_kblock_cyc: float = 8.0
    # compute: bytes per cycle the unpacker moves from L1 into the source registers; each inner-K
    # step of an h x w subblock unpacks h in0 tiles and w in1 tiles
    unpack_Bpc: float = 64.0
    # data movement: bytes per cycle one core takes in over the NoC (both operands together), and
    # the rate one sender multicasts at
    noc_Bpc: float = 16.0
    # data movement: bytes per cycle one reader core pulls from DRAM (tile reads + barriers)
    reader_Bpc: float = 8.0
    # data movement: factor on the profile's achieved DRAM bandwidth for interleaved traffic
    dram_eff: float = 1.0
    # pipelining: time = max(compute, data movement) + overlap * min(compute, data movement)
    overlap: float = 0.3
    # the same fraction for the DRAM-sharded family (in1 triple-buffered, one reader per bank); not
    # fitted: decode DRAM-sharded matmuls reach 239-260 GB/s on WH (llms.md 4.6.1), i.e. they run
    # at DRAM speed with compute nearly hidden
    dram_sharded_overlap: float = 0.1
    # fixed device-side time of one matmul program (kernel start/finish, first block latency)
    fixed_ns: float = 3000.0
    # handshake latency per K block per out block (semaphores between reader, mcast, compute)
    kblock_ns: float = 100.0
    # extra handshake latency per K block, times log2(1 + cores the multicast waits on)
    mcast_dest_ns: float = 100.0

    # --- non-matmul ops (not fitted; sources in docs/cost-model.md) ---
    # smallest kernel time of a non-matmul op: tiny ops in op_perf.csv (Llama-3.1-70B Galaxy decode
    # and prefill: typecast 1.9-2.1 us, paged_update_cache 2.3 us, rotary 2.2 us, mult+silu 2.4 us)
    op_fixed_ns: float = 2000.0
    # cycles per tile of one SFPU pass (exp, rsqrt, silu, typecast); an estimate, see docs
    sfpu_tile_cyc: float = 64.0

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Coeffs":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown cost coefficients {unknown}")
        return replace(cls(), **{k: float(v) for k, v in data.items()})


COEFF_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Coeffs))


@dataclass(frozen=True)
class Calibration:
    per_arch: dict[str, Coeffs]
    fallback_arch: str
    provenance: dict[str, Any]

    def coeffs(self, arch: str) -> Coeffs:
        found = self.per_arch.get(arch)
        if found is not None:
            return found
        if self.fallback_arch in self.per_arch:
            return self.per_arch[self.fallback_arch]
        return Coeffs()


def parse_calibration(data: dict[str, Any]) -> Calibration:
    per_arch = {arch: Coeffs.from_dict(block) for arch, block in (data.get("coefficients") or {}).items()}
    return Calibration(
        per_arch=per_arch,
        fallback_arch=str(data.get("fallback_arch", "wormhole_b0")),
        provenance={k: v for k, v in data.items() if k not in ("coefficients", "fallback_arch")},
    )


@lru_cache(maxsize=4)
def load_calibration(path: str | None = None) -> Calibration:
    """The committed calibration (cached). Missing file -> built-in defaults for every arch."""
    target = Path(path) if path else CALIBRATION_PATH
    if not target.exists():
        return Calibration(per_arch={}, fallback_arch="wormhole_b0", provenance={})
    with target.open() as fh:
        data = yaml.load(fh, Loader=_LOADER) or {}
    return parse_calibration(data)


def coeffs_for_arch(arch: str) -> Coeffs:
    return load_calibration().coeffs(arch)


__all__ = [
    "CALIBRATION_PATH",
    "COEFF_NAMES",
    "Calibration",
    "Coeffs",
    "coeffs_for_arch",
    "load_calibration",
    "parse_calibration",
]
