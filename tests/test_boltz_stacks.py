"""Boltz-2 as stacks (issue 25): the trunk's Pairformer stack and the diffusion module's transformers described as
loops of the per-layer descriptions, with the Boltz-2 checkpoint's own keys, run on the emulator next to boltz 2.2.1's
modules at small dims and depth 2; any token count through forward_tokens (host padding to a built size, the token
mask set), and the checks that make those comparisons able to fail."""

import os
import tempfile
from pathlib import Path

import pytest

from tttgen.generate import Request, plan
from tttgen.checking.verification import (
    emulated,
    imported_package,
    pcc,
    reference_module,
    rendered_files,
    verify_module,
)

pytest.importorskip("boltz.model.modules.transformersv2", reason="boltz 2.2.1 is installed by `make install`")

# the trunk stack at small dims: 2 blocks, s 64 wide with 2 heads of 32, z 32 wide, one size of 64 tokens
SMALL_TRUNK = (("n", "64"), ("num_blocks", "2"), ("token_s", "64"), ("token_z", "32"), ("heads", "2"))


def edited(pattern, replacement):
    import re

    def edit(files):
        model = re.sub(pattern, replacement, files["model.py"])
        assert model != files["model.py"], f"the planted bug {pattern!r} matched nothing"
        return {**files, "model.py": model}

    return edit


def run_package(p, state, call, edit_files=None):
    """call(model, torch) on the package of plan `p` on the emulator, its weights loaded from `state`."""
    import torch

    files = rendered_files(p, edit_files)
    with tempfile.TemporaryDirectory(prefix="tttgen-test-") as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(Path(tmp), "tttgen_test_stack") as package:
            device = ttnn.open_device(device_id=0)
            model = package.Model(device, package.weights.load_weights(device, state))
            return call(model, torch)


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_pairformer_stack_matches_boltz_pairformer_module(device):
    """Both tracks compared as their updates after 2 blocks (s and z carried from block to block)."""
    report = verify_module(plan(Request("boltz_pairformer_module", device, params=SMALL_TRUNK)))
    assert report.api_findings == []
    assert report.passed and len(report.pcc["prefill_64"]) == 2, report.as_dict()


def test_trunk_keys_are_the_boltz2_checkpoint_keys():
    """Every weight reads `pairformer_module.layers.{i}.` + the layer's own boltz attribute path (verify checked
    them against the reference, Boltz2's own nesting); the default build is 64 blocks."""
    graph = plan(Request("boltz_pairformer_module", "p150", params=(("n", "64"),))).graph
    keys = {k for w in graph.weights for k in w.hf_names}
    assert keys and all(k.startswith("pairformer_module.layers.{i}.") for k in keys)
    assert "pairformer_module.layers.{i}.tri_mul_out.p_in.weight" in keys
    assert "pairformer_module.layers.{i}.attention.proj_q.weight" in keys
    assert {w.loop_count for w in graph.weights} == {64}


def test_a_stack_that_does_not_carry_s_fails():
    p = plan(Request("boltz_pairformer_module", "n150", params=SMALL_TRUNK))
    report = verify_module(p, edit_files=edited(r"prefill_64\(s_out, z_out, mask\)", "prefill_64(s, z_out, mask)"))
    assert not report.passed


def _trunk_forward_tokens(real, edit_files=None):
    """(PCC of s's update, of z's update) of forward_tokens on `real` tokens against boltz on the same tokens,
    unpadded and unmasked."""
    import torch

    p = plan(Request("boltz_pairformer_module", "n150", params=SMALL_TRUNK))
    ref = reference_module(p, seed=0)
    state = {k: v.detach().clone() for k, v in ref.state_dict().items()}
    gen = torch.Generator().manual_seed(3)
    s = torch.randn(1, 1, real, 64, generator=gen) / 16
    z = torch.randn(1, real, real, 32, generator=gen) / 16
    with torch.no_grad():
        want_s, want_z = ref(s[0], z, torch.ones(1, real), torch.ones(1, real, real))
    got_s, got_z = run_package(p, state, lambda model, _: model.forward_tokens(s, z), edit_files)
    assert list(got_s.shape) == [1, 1, real, 64] and list(got_z.shape) == [1, real, real, 32]
    return pcc(got_s.float() - s, want_s[None] - s), pcc(got_z.float() - z, want_z - z)


def test_forward_tokens_runs_50_tokens_padded_to_64_like_boltz_on_50():
    """n = 50 (not a multiple of 32): padded on the host to the 64 built, the mask zero on the 14 padded tokens;
    the 50 real tokens' outputs match boltz run on the 50 tokens alone."""
    assert min(_trunk_forward_tokens(50)) >= 0.99


def test_padding_that_leaks_into_real_tokens_fails():
    """34 real tokens with the 30 padded ones marked real: the padding changes the real tokens' outputs."""
    leak = edited(r"mask = pad_tokens\(real, \[0\], size\)", "mask = (pad_tokens(real, [0], size) * 0 + 1)")
    assert min(_trunk_forward_tokens(34, edit_files=leak)) < 0.99


def test_sizes_mask_must_name_a_token_mask_input(tmp_path):
    import yaml

    from tttgen.errors import InputError
    from tttgen.inputs.module import MODULE_DIR

    data = yaml.safe_load((MODULE_DIR / "boltz_pairformer_module.yaml").read_text())
    data["sizes"]["mask"] = "nope"
    (tmp_path / "stack.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as info:
        plan(Request(str(tmp_path / "stack.yaml"), "n150"))
    assert "sizes.mask" in info.value.render() and "unknown input 'nope'" in info.value.render()
    data["sizes"]["mask"] = "s"  # [1, 1, n, token_s]: not a mask over tokens
    (tmp_path / "stack.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"must be shaped \[1, \.\.\., 1, n\]"):
        plan(Request(str(tmp_path / "stack.yaml"), "n150"))


def test_readme_prices_each_size():
    files = rendered_files(plan(Request("boltz_pairformer_module", "p150", params=(("num_blocks", "2"),))), None)
    readme = files["README.md"]
    assert "`model.forward_tokens(s, z)`" in readme
    assert "| 64 | " in readme and "| 256 | " in readme


# the token transformer at small dims: 2 layers of 128 with 2 heads of 64
SMALL_DIT = (("n", "64"), ("depth", "2"), ("dim", "128"), ("dim_single_cond", "128"), ("heads", "2"))


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_token_transformer_stack_matches_boltz_diffusion_transformer(device):
    """Each layer reads its own per-head bias (the input's per-layer list) as boltz slices layer i's heads."""
    report = verify_module(plan(Request("boltz_diffusion_transformer", device, params=SMALL_DIT)))
    assert report.api_findings == []
    assert report.passed, report.as_dict()


def test_token_transformer_keys_and_padding():
    """Keys `structure_module.score_model.token_transformer.layers.{i}.` (Boltz2's nesting); 50 real tokens of 64
    match boltz given the same mask."""
    p = plan(Request("boltz_diffusion_transformer", "n150", params=SMALL_DIT))
    keys = {k for w in p.graph.weights for k in w.hf_names}
    assert all(k.startswith("structure_module.score_model.token_transformer.layers.{i}.") for k in keys)
    report = verify_module(p, padded_tokens=14)
    assert report.passed, report.as_dict()


def test_a_layer_reading_another_layers_bias_fails():
    p = plan(Request("boltz_diffusion_transformer", "n150", params=SMALL_DIT))
    assert not verify_module(p, edit_files=edited(r"bias\[layer\]", "bias[0]")).passed


def test_trunk_bench_prices_both_stacks_against_tt_boltz(load_benchmark, monkeypatch):
    """benchmarks/boltz_trunk.py at small dims (64 tokens, depth 2, every config accepted): each stack's modeled
    whole forward next to the same ops with TT-Boltz's linears, the per-kind breakdown and the fused-projection
    comparison are reported."""
    from tttgen.checking.realttnn.oracle import Verdict

    loader = load_benchmark("boltz_trunk")
    bench = next(loader)
    monkeypatch.setattr(bench, "PADDED", 64)

    def accept_all(device, cases, l1_small_size=0):
        return [Verdict(True, None, 0, 0, 0) for _ in cases]

    lines, ratios = bench.report(
        judge=accept_all, devices=("n150",), trunk=SMALL_TRUNK[1:], diffusion=SMALL_DIT[1:], msa=SMALL_MSA[1:]
    )
    text = "\n".join(lines)
    assert "| trunk Pairformer (one recycling pass) | 2 |" in text and "| diffusion token transformer (one step) | 2 |" in text
    assert "| MSA module layers (one recycling pass, 1024 MSA rows) | 2 |" in text and "| recycling pass: MSA module + trunk |" in text
    assert "| binary |" in text and "## Fused input projections" in text
    trunk, diffusion = ratios["n150"]
    assert trunk > 0 and diffusion > 0
    next(loader, None)


# the MSA module's layers at small dims: 2 blocks, msa_s 32, z 32 wide, 96 MSA rows (never mistaken for 64 tokens)
SMALL_MSA = (("n", "64"), ("msa_blocks", "2"), ("msa_s", "32"), ("token_z", "32"), ("s", "96"))


def test_msa_module_layers_match_boltz_with_padding():
    """z and m carried through 2 MSA layers (pair-weighted averaging, MSA transition, outer-product mean, the pair
    track) against boltz's MSALayers under Boltz2's `msa_module.layers.{i}.` keys; 50 real tokens of 64."""
    p = plan(Request("boltz_msa_module", "n150", params=SMALL_MSA))
    keys = {k for w in p.graph.weights for k in w.hf_names}
    assert all(k.startswith("msa_module.layers.{i}.") for k in keys)
    report = verify_module(p, padded_tokens=14)
    assert report.api_findings == [] and report.passed and len(report.pcc["prefill_64"]) == 2, report.as_dict()


def test_an_msa_stack_that_does_not_carry_m_fails():
    p = plan(Request("boltz_msa_module", "n150", params=SMALL_MSA))
    report = verify_module(p, edit_files=edited(r"prefill_64\(z_out, m_out, mask\)", "prefill_64(z_out, m, mask)"))
    assert not report.passed


SLOW = pytest.mark.skipif(os.environ.get("TTTGEN_SLOW_TESTS") != "1", reason="full depth: TTTGEN_SLOW_TESTS=1")


@SLOW
@pytest.mark.slow
@pytest.mark.parametrize(
    "module, params",
    [
        ("boltz_pairformer_module", (("n", "64"),)),  # 64 blocks, 384 / 128
        ("boltz_msa_module", (("n", "64"), ("s", "96"))),  # 4 blocks, msa_s 64
        ("boltz_diffusion_transformer", (("n", "64"),)),  # 24 layers of 768, 16 heads
    ],
)
def test_full_depth_stacks_match_boltz(module, params):
    """Boltz-2's own depths and widths, 50 real tokens of 64."""
    report = verify_module(plan(Request(module, "p150", params=params)), padded_tokens=14)
    assert report.passed, report.as_dict()
