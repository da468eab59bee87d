"""The tiny Llama (tests/data/tiny-llama) as a generated package on the emulator, for tests of the LM entry points."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from tttgen.generate import Request, plan, render_plan

TINY = "tests/data/tiny-llama/config.json"


@contextmanager
def tiny_llama_on_emulator(work: Path, module_name: str, flags=(("prefill_lens", [128]),)):
    """Render the tiny Llama into `work`, save a seeded random checkpoint and open the package's Model on an emulated
    device opened as Model.open opens it: yields (model, package)."""
    from tttgen.checking.verification import emulated, imported_package, reference_model

    p = plan(Request(TINY, "n150", flags=flags))
    (work / "pkg").mkdir()
    for name, text in render_plan(p).items():
        (work / "pkg" / name).write_text(text)
    _, checkpoint = reference_model(p.graph.entry.reference, None, work, seed=0)
    with emulated(p.graph.device) as ttnn, imported_package(work / "pkg", module_name) as package:
        device = ttnn.open_device(device_id=0, trace_region_size=package.configs.TRACE_REGION_SIZE)
        yield package.Model(device, str(checkpoint)), package
