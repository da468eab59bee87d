"""CPU emulator of the ttnn 0.81.1 surface that tttgen-generated packages use (see docs/emulator.md).

    import tttgen.checking.emulator as emu
    with emu.installed(arch="wormhole_b0", grid=(8, 8), dram_banks=12):
        import ttnn            # the emulator, ttnn.__tttgen_emulator__ is True
        dev = ttnn.open_device(device_id=0)

``install`` puts the emulator modules into ``sys.modules["ttnn"]``, ``["ttnn.experimental"]``,
``["ttnn.transformer"]`` and ``["ttnn_jit"]`` (saving whatever was there) and fixes what the next ``open_device``
returns; ``uninstall`` restores the saved entries. Inputs the emulator cannot interpret raise
``EmulatorValidationError`` (a ``RuntimeError``); legal ttnn it does not model raises ``EmulatorUnsupported``. Legality
(program configs, L1 budgets) is not checked here: ``tttgen/rules`` and the real ttnn (``tttgen check --ttnn``) judge it.
"""

from __future__ import annotations

import contextlib
import sys
import types
from typing import Iterator

from .device import Arch, Device, DeviceSpec, parse_arch
from .errors import EmulatorError, EmulatorUnsupported, EmulatorValidationError
from .numerics import NUMERICS_MODES

__all__ = [
    "install",
    "uninstall",
    "installed",
    "is_installed",
    "EmulatorError",
    "EmulatorValidationError",
    "EmulatorUnsupported",
    "DeviceSpec",
]

MODULE_NAMES = ("ttnn", "ttnn.experimental", "ttnn.transformer", "ttnn_jit")
_MISSING = object()
_saved: list[dict[str, object]] = []


def install(
    *,
    arch: str,
    grid: tuple[int, int],
    dram_banks: int,
    numerics: str = "device",
) -> types.ModuleType:
    """Install the emulator as ``ttnn`` / ``ttnn_jit`` and return the ``ttnn`` module object.

    ``numerics``: ``"device"`` (default: bf16 DST accumulation per 16-element K slice when fp32_dest_acc_en is off)
    ``"fast"`` (fp32 accumulation; fidelity and output rounding still modelled) or ``"none"`` (shape and placement
    checks only; float values are not stored and op outputs are zeros - for running full-size configs quickly).
    """
    gx, gy = (int(grid[0]), int(grid[1]))
    if gx <= 0 or gy <= 0:
        raise ValueError(f"grid must be positive, got {grid!r}")
    if dram_banks <= 0:
        raise ValueError("dram_banks must be positive")
    if numerics not in NUMERICS_MODES:
        raise ValueError(f"numerics must be one of {NUMERICS_MODES}, got {numerics!r}")
    spec = DeviceSpec(parse_arch(arch), (gx, gy), int(dram_banks), numerics)
    from .ttnn_module import build_modules

    modules = build_modules(spec)
    _saved.append({name: sys.modules.get(name, _MISSING) for name in MODULE_NAMES})
    for name, mod in modules.items():
        sys.modules[name] = mod
    return modules["ttnn"]


def uninstall() -> None:
    """Restore the ``sys.modules`` entries saved by the matching ``install`` (no-op when nothing is installed)."""
    if not _saved:
        return
    saved = _saved.pop()
    for name, old in saved.items():
        if old is _MISSING:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = old  # type: ignore[assignment]


def is_installed() -> bool:
    mod = sys.modules.get("ttnn")
    return bool(mod is not None and getattr(mod, "__tttgen_emulator__", False))


@contextlib.contextmanager
def installed(
    *,
    arch: str,
    grid: tuple[int, int],
    dram_banks: int,
    numerics: str = "device",
) -> Iterator[types.ModuleType]:
    mod = install(arch=arch, grid=grid, dram_banks=dram_banks, numerics=numerics)
    try:
        yield mod
    finally:
        uninstall()
