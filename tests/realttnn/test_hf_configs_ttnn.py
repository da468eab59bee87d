"""Fresh builds of the Hugging Face configs the tests use (odd vocab sizes, plain multi-head attention, Mistral,
llama3 rope scaling, tied embeddings, 9 query / 3 KV heads) run under the real ttnn on the mock device: every op of
every prefill length and of decode, all layers."""

from pathlib import Path

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.output.write import write_package
from tttgen.realttnn.check import run_real_ttnn

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "tests/data/hf_configs").glob("*.json")) + [ROOT / "tests/data/tiny-mistral/config.json"]
DEVICES = ("n150", "p150")
# 7B multi-head-attention models keep 32 users' KV cache: 256 positions fit a 12 GB n150 next to the weights.
HINTS = (("max_seq_len", 256), ("prefill_lens", [128, 256]))


@pytest.fixture(scope="module")
def verdicts(real_ttnn, tmp_path_factory):
    out = tmp_path_factory.mktemp("hf")
    packages = {}
    for config in CONFIGS:
        for device in DEVICES:
            p = plan(Request(str(config), device, None, HINTS))
            target = out / config.stem / p.out_subdir
            write_package(render_plan(p), target, force=True)
            packages[(config.stem, device)] = target
    by_path = {Path(v.package): v for v in run_real_ttnn(list(packages.values()))}
    return {key: by_path[path] for key, path in packages.items()}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("config", [c.stem for c in CONFIGS])
def test_real_ttnn_accepts_every_op(verdicts, config, device):
    verdict = verdicts[(config, device)]
    assert verdict.ok, "\n".join(verdict.findings)
    assert verdict.phases and all(p["status"] == "ran" for p in verdict.phases)
