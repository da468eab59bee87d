"""The real ttnn as an oracle for single matmuls: is this config legal, and how much L1 per core does it take?

    verdicts = judge_matmuls(device, [MatmulCase(...), ...])

Each case is turned into the Python source tttgen would emit (`tttgen.render.literals`), so the oracle judges exactly
what a package would contain. Cases for one device run in one `probe.py` process on that board's mock device.
Answers are cached on disk by the case's text (`.tttgen-cache/tt-metal/verdicts.json`): ttnn 0.81.1 is pinned, so a
verdict never changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tttgen.ir.configs import DRAM_INTERLEAVED, ComputeKernelConfig, MatmulConfig, MatmulShape, MemoryPlacement
from tttgen.checking.realttnn import environment
from tttgen.render import literals as L
from tttgen.inputs.device import DeviceProfile

PROBE = Path(__file__).resolve().parent / "probe.py"


@dataclass(frozen=True)
class MatmulCase:
    shape: MatmulShape
    program: MatmulConfig
    kernel: ComputeKernelConfig
    dtypes: tuple[str, str, str]  # in0, in1, out
    in0: MemoryPlacement
    in1: MemoryPlacement
    out: MemoryPlacement
    bias_dtype: str | None = None  # a linear with a bias: [1, 1, 1, N] in DRAM, as packages store it


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    message: str | None
    l1_dataflow: int  # circular buffers per core ("dataflow buffers" in 0.81.1)
    l1_buffers: int  # L1 tensors the op allocates per core (its output, when in L1)
    l1_total: int


def case_source(case: MatmulCase, device: DeviceProfile) -> dict[str, Any]:
    """The probe's case: operands and keyword arguments as emitted Python source."""
    s = case.shape
    operands = [
        {"shape": [1, s.batch, s.m, s.k], "dtype": L.dtype(case.dtypes[0]), "memory": L.memory(case.in0)},
        {"shape": [1, 1, s.k, s.n], "dtype": L.dtype(case.dtypes[1]), "memory": L.memory(case.in1)},
    ]
    if case.bias_dtype is not None:  # passed as `bias=`; cases without one keep their cached text
        bias = {"shape": [1, 1, 1, s.n], "dtype": L.dtype(case.bias_dtype), "memory": L.memory(DRAM_INTERLEAVED)}
        operands.append({**bias, "keyword": "bias"})
    return {
        "op": "ttnn.linear",
        "operands": operands,
        "kwargs": {
            "program_config": L.matmul_program(case.program),
            "compute_kernel_config": L.kernel(case.kernel, device.compute_kernel_config_class),
            "memory_config": L.memory(case.out),
            "dtype": L.dtype(case.dtypes[2]),
        },
    }


def _cache_file() -> Path:
    return environment.cache_dir() / "verdicts.json"


def _load_cache() -> dict[str, Any]:
    try:
        return json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return {}


def _run_probe(device: DeviceProfile, cases: list[dict[str, Any]], l1_small_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tttgen-probe-") as tmp:
        job, out = Path(tmp) / "cases.json", Path(tmp) / "out.json"
        job.write_text(json.dumps({"l1_small_size": l1_small_size, "cases": cases}))
        failure = environment.run_script(PROBE, job, out, device.name)
        if failure:
            raise RuntimeError(f"the real-ttnn probe failed: {failure}")
        return json.loads(out.read_text())


def mock_grid(device: DeviceProfile) -> tuple[int, int]:
    """The compute grid ttnn reports for the device's mock board (it follows the descriptor's harvest mask)."""
    x, y = _run_probe(device, [], 0)["grid"]
    return x, y


def judge_sources(device: DeviceProfile, sources: list[dict[str, Any]], l1_small_size: int = 0) -> list[Verdict]:
    """Verdicts for probe cases (already as source), from the cache or one probe run on the device's mock board."""
    keys = [hashlib.sha256(json.dumps([device.name, l1_small_size, s], sort_keys=True).encode()).hexdigest() for s in sources]
    cache = _load_cache()
    todo = sorted({k: s for k, s in zip(keys, sources) if k not in cache}.items())
    if todo:
        for r in _run_probe(device, [{"id": k, **src} for k, src in todo], l1_small_size)["results"]:
            cache[r.pop("id")] = r
        cache_file = _cache_file()
        tmp_file = cache_file.with_suffix(f".{os.getpid()}.tmp")  # processes may write at once: never share a temp file
        tmp_file.write_text(json.dumps(cache, sort_keys=True))
        tmp_file.replace(cache_file)
    return [Verdict(**{k: cache[key][k] for k in ("accepted", "message", "l1_dataflow", "l1_buffers", "l1_total")}) for key in keys]


def judge_matmuls(device: DeviceProfile, cases: list[MatmulCase], l1_small_size: int = 0) -> list[Verdict]:
    return judge_sources(device, [case_source(c, device) for c in cases], l1_small_size)
