"""Wall time of whole `tttgen` commands (medians of repeated runs): build 70B for p150, check generated/,
and build time at 16 vs 80 decoder layers. Performance claims live here, never in timed unit tests."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TTTGEN = [str(ROOT / ".venv" / "bin" / "tttgen")] if (ROOT / ".venv/bin/tttgen").exists() else [sys.executable, "-m", "tttgen"]
RUNS = 7


def timed(cmd: list[str], runs: int = RUNS) -> list[float]:
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def row(name: str, times: list[float], goal: str = "") -> str:
    return f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | {goal} |"


def estimate_us() -> float:
    """The search scores thousands of candidates per build: time one estimate_matmul call."""
    sys.path.insert(0, str(ROOT))
    from tttgen.cost.model import estimate_matmul
    from tttgen.cost.ttnn_auto import ttnn_auto_config
    from tttgen.ir.configs import MatmulShape
    from tttgen.inputs.load import load_device

    device, _ = load_device("n150")
    shape = MatmulShape(2048, 4096, 14336)
    cfg = ttnn_auto_config(device, shape, in1_dtype="bfloat8_b")
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(2000):
            estimate_matmul(device, shape, cfg, in1_dtype="bfloat8_b", fidelity="HiFi2")
        runs.append((time.perf_counter() - start) / 2000 * 1e6)
    return statistics.median(runs)


def main() -> None:
    lines = ["| command | median s | min s | max s | goal |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out")
        # tttgen's own build time: the real-ttnn check (off) would open a 70B that does not fit one p150's DRAM
        build70 = TTTGEN + ["build", "llama-3.1-70b", "--device", "p150", "--no-fit-check", "--ttnn-check", "off", "--out", out, "--force"]
        lines.append(row("build llama-3.1-70b --device p150 (--no-fit-check: 70B does not fit one p150)", timed(build70), "<= 2 s"))
        # the golden packages built afresh: generated/ drifts while work is in flight, and freshness is `make test`'s job
        golden = str(Path(tmp) / "golden")
        for model in ("llama-3.2-1b", "llama-3.1-8b"):
            build = ["build", model, "--device", "n150", "--device", "p150", "--ttnn-check", "off", "--out", golden, "--force"]
            subprocess.run(TTTGEN + build, check=True, capture_output=True, cwd=ROOT)
        lines.append(row("check the 4 golden packages (as `make generate` builds them)", timed(TTTGEN + ["check", golden]), "<= 3 s"))
        spec = yaml.safe_load((ROOT / "model_specs/llama-3.1-70b.yaml").read_text())
        layer_times = {}
        for layers in (16, 80):
            path = Path(tmp) / f"llama-70b-{layers}l.yaml"
            path.write_text(yaml.safe_dump({**spec, "name": f"llama-70b-{layers}l", "num_hidden_layers": layers}))
            cmd = TTTGEN + ["build", str(path), "--device", "p150", "--no-fit-check", "--ttnn-check", "off", "--out", out, "--force"]
            layer_times[layers] = timed(cmd)
            lines.append(row(f"build 70B dims with {layers} layers", layer_times[layers]))
        ratio = statistics.median(layer_times[80]) / statistics.median(layer_times[16])
        lines.append(f"\n80-layer / 16-layer build time (medians): {ratio:.2f} (layers are a loop, not unrolled)")
    lines.append(f"\nOne cost-model matmul estimate (in-process, median of 5 x 2000 calls): {estimate_us():.1f} us")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
