"""`tttgen run`: a generated LM package's own generate loop and demo (its `__main__`) on tttgen's ttnn CPU emulator.

The package is the one `build` would write for the request (rendered into a temporary directory), or one already
built (`--package DIR`). It is imported with `ttnn` bound to the emulator, shaped like the package's target device,
and its `__main__.main` runs with the demo's own arguments: the same tokenizer, chat template, batching over the user
slots and stop rules as `python -m <package>` on a board, op by op on the CPU (slow: minutes for a 135M model).
"""

from __future__ import annotations

import importlib
import json
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tttgen.errors import InputError
from tttgen.generate import Plan, is_module_plan, render_plan
from tttgen.render.emit import MANIFEST, package_name
from tttgen.inputs.device import DeviceProfile
from tttgen.inputs.load import load_device

DEMO_MODULE = "__main__"  # the generated demo: python -m <package>
LOOP_MODULE = "generate.py"  # the generated generate loop


def written_plan(p: Plan, directory: Path) -> Path:
    """Render an LM plan into `directory` (a package folder); refuse a module package, which has no generate loop."""
    if is_module_plan(p):
        raise InputError(
            f"'{p.graph.name}' builds a module package (Model.forward): only causal-LM packages have a "
            "generate loop",
            where="MODEL",
            hint="name a model (`tttgen list models`) or pass --config with a causal-LM config.json",
        )
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in render_plan(p).items():
        (directory / name).write_text(text)
    return directory


def package_device(directory: Path) -> DeviceProfile:
    """A built package's target device, read from its MANIFEST.json."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        raise InputError(f"{directory} has no {MANIFEST}: not a package tttgen built", where="--package")
    if not (directory / LOOP_MODULE).is_file():
        raise InputError(
            f"{directory} has no {LOOP_MODULE}: not a causal-LM package, or built before packages had a generate loop",
            where="--package",
            hint="rebuild it with `tttgen build`",
        )
    data = json.loads(manifest.read_text())
    device, _ = load_device(data["target"]["device"])
    return device


@contextmanager
def emulated_package(directory: Path, name: str, device: DeviceProfile):
    """The package at `directory` imported as `name` with `ttnn` bound to the emulator shaped like `device`."""
    from tttgen.checking.verification import emulated, imported_package

    with emulated(device), imported_package(directory, name) as package:
        yield package


def run_demo(directory: Path, name: str, device: DeviceProfile, argv: list[str]) -> int:
    """The package's demo (`python -m <package> ARGV`) on the emulator; returns its exit code."""
    with emulated_package(directory, name, device):
        demo = importlib.import_module(f"{name}.{DEMO_MODULE}")
        try:
            return int(demo.main(argv) or 0)
        except SystemExit as stop:  # argparse's usage errors: its message is on stderr already
            return stop.code if isinstance(stop.code, int) else 2


def run_plan(p: Plan, argv: list[str]) -> int:
    """Render the plan's package into a temporary directory and run its demo there."""
    with tempfile.TemporaryDirectory(prefix="tttgen-run-") as tmp:
        directory = written_plan(p, Path(tmp) / package_name(p.graph.name))
        return run_demo(directory, f"tttgen_run_{package_name(p.graph.name)}", p.graph.device, argv)


def run_package(directory: Path, argv: list[str]) -> int:
    """Run an already built package's demo (`--package DIR`)."""
    return run_demo(directory, "tttgen_run_package", package_device(directory), argv)
