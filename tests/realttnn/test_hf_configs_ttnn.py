"""Fresh builds of the Hugging Face configs the tests use (odd vocab sizes, plain multi-head attention, Mistral,
llama3 rope scaling, tied embeddings, 9 query / 3 KV heads) run under the real ttnn on the mock device: every op of
every prefill length and of decode, all layers."""

import os
from pathlib import Path

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.output.write import write_package
from tttgen.checking.realttnn.check import run_real_ttnn

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "tests/data/hf_configs").glob("*.json")) + [ROOT / "tests/data/tiny-mistral/config.json"]
DEVICES = ("n150", "p150")
# 7B multi-head-attention models keep 32 users' KV cache: 256 positions fit a 12 GB n150 next to the weights.
HINTS = (("max_seq_len", 256), ("prefill_lens", [128, 256]))
# Configs whose calls another one judged here (or a committed golden `tttgen check` judges) already covers: the same
# architecture and widths, another vocab or depth. They are judged in `make bench` (TTTGEN_SLOW_TESTS=1): the
# fixture plans, renders and judges every package of a group, about 7 s of CPU per 7B package on a clean clone.
COVERED = {
    "llama-2-7b-hf": "llama-7b-vocab-32001 (the same multi-head 7B, with an off-tile vocab)",
    "llama-3.1-8b": "the committed generated/llama_3_1_8b goldens",
    "llama-3.2-1b": "the committed generated/llama_3_2_1b goldens",
    "mistral-7b-v0.1": "mistral-7b-v0.3 and openhermes-2.5-mistral-7b (the same widths, other vocabs)",
    "smollm2-135m": "smollm2-135m-instruct-gguf (the same widths and vocab)",
}
SLOW = os.environ.get("TTTGEN_SLOW_TESTS") == "1"


def _verdicts(tmp_path_factory, configs):
    out = tmp_path_factory.mktemp("hf")
    packages = {}
    for config in configs:
        for device in DEVICES:
            p = plan(Request(str(config), device, None, HINTS))
            target = out / config.stem / p.out_subdir
            write_package(render_plan(p), target, force=True)
            packages[(config.stem, device)] = target
    by_path = {Path(v.package): v for v in run_real_ttnn(list(packages.values()))}
    return {key: by_path[path] for key, path in packages.items()}


@pytest.fixture(scope="module")
def verdicts(real_ttnn, tmp_path_factory):
    return _verdicts(tmp_path_factory, [c for c in CONFIGS if c.stem not in COVERED])


@pytest.fixture(scope="module")
def covered_verdicts(real_ttnn, tmp_path_factory):
    return _verdicts(tmp_path_factory, [c for c in CONFIGS if c.stem in COVERED])


def test_every_covered_config_names_a_config_judged_in_make_test():
    stems = {c.stem for c in CONFIGS}
    assert set(COVERED) < stems
    for stem, by in COVERED.items():
        named = by.split(" (")[0].split(" and ")
        assert all(n in stems - set(COVERED) or n.startswith("the committed") for n in named), (stem, by)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("config", [c.stem for c in CONFIGS if c.stem not in COVERED])
def test_real_ttnn_accepts_every_op(verdicts, config, device):
    check(verdicts[(config, device)])


@pytest.mark.slow
@pytest.mark.skipif(not SLOW, reason="covered by another config in make test: TTTGEN_SLOW_TESTS=1 (make bench)")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("config", sorted(COVERED))
def test_real_ttnn_accepts_every_op_of_the_covered_configs(covered_verdicts, config, device):
    check(covered_verdicts[(config, device)])


def check(verdict):
    assert verdict.ok, "\n".join(verdict.findings)
    assert verdict.phases and all(p["status"] == "ran" for p in verdict.phases)
