"""Boltz-2's atom transformer (issue 25): windows of 32 query atoms over the 128 key atoms around them, the keys
gathered by one matmul with a constant window_keys matrix, run on the emulator next to boltz 2.2.1's AtomTransformer
at depth 2 (encoder and decoder keys), and the checks that make the comparison able to fail: a key window one
half-window off, the pair bias dropped, the key mask dropped."""

import math

import pytest

from tttgen.generate import Request, plan
from tttgen.render.weight_code import host_weight_source
from tttgen.checking.verification import verify_module

torch = pytest.importorskip("torch")
pytest.importorskip("boltz.model.modules.encodersv2", reason="boltz 2.2.1 is installed by `make install`")

# 512 atoms (16 windows), depth 2, the gather matrix made at that size
SMALL = (("n", "512"), ("depth", "2"), ("max_atoms", "512"))


def window_keys(windows, queries=32, keys=128):
    lines = host_weight_source(
        "w", [], [], generator={"kind": "window_keys", "windows": windows, "queries": queries, "keys": keys}
    )
    namespace = {"torch": torch, "math": math}
    exec("\n".join(lines), namespace)
    return namespace["w"]


@pytest.mark.parametrize("windows", [4, 16, 176])
def test_window_keys_is_boltz_indexing_matrix_transposed(windows):
    from boltz.model.modules.encodersv2 import get_indexing_matrix

    want = get_indexing_matrix(windows, 32, 128, "cpu").transpose(0, 1)
    assert torch.equal(window_keys(windows), want)


def test_a_smaller_window_count_is_the_corner_of_a_larger_one():
    """What the package relies on to build every size from one matrix made at max_atoms."""
    big = window_keys(176)
    for windows in (16, 64, 160):
        assert torch.equal(big[: 8 * windows, : 2 * windows], window_keys(windows))


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_atom_transformer_matches_boltz_atom_transformer(device):
    report = verify_module(plan(Request("boltz_atom_transformer", device, params=SMALL)))
    assert report.api_findings == []
    assert report.passed, report.as_dict()


def test_decoder_keys_and_padded_atoms():
    """`transformer` names the decoder's copy; 412 real atoms of 512 (the last 100 masked as keys) match boltz given
    the same mask."""
    p = plan(Request("boltz_atom_transformer", "n150", params=SMALL + (("transformer", "atom_attention_decoder.atom_decoder"),)))
    keys = {k for w in p.graph.weights for k in w.hf_names}
    prefix = "structure_module.score_model.atom_attention_decoder.atom_decoder.diffusion_transformer.layers.{i}."
    assert keys and all(k.startswith(prefix) for k in keys), keys
    assert prefix + "pair_bias_attn.proj_q.weight" in keys and prefix + "transition.swish_gate.0.weight" in keys
    report = verify_module(p, padded_tokens=100)
    assert report.passed, report.as_dict()
    report = verify_module(p, padded_tokens=400)
    assert report.passed, report.as_dict()


def test_encoder_keys_are_the_boltz2_checkpoint_keys():
    graph = plan(Request("boltz_atom_transformer", "p150", params=(("n", "512"),))).graph
    keys = {k for w in graph.weights for k in w.hf_names}
    prefix = "structure_module.score_model.atom_attention_encoder.atom_encoder.diffusion_transformer.layers.{i}."
    assert keys and all(k.startswith(prefix) for k in keys)
    assert {w.loop_count for w in graph.weights if w.per_layer} == {3}


def planted(pattern, replacement, file="model.py"):
    import re

    def edit(files):
        text = re.sub(pattern, replacement, files[file])
        assert text != files[file], f"the planted bug {pattern!r} matched nothing"
        return {**files, file: text}

    return edit


@pytest.mark.parametrize(
    "bug",
    [
        # every key window one half-window (16 atoms) late
        planted(r"% 8 - 3", "% 8 - 2", file="weights.py"),
        # the pair bias dropped: only the key mask reaches the attention
        planted(r"attn_bias = ttnn\.add\(bias, key_bias,", "attn_bias = ttnn.add(ttnn.multiply(bias, 0.0), key_bias,"),
    ],
    ids=["key-window-off-by-half", "pair-bias-dropped"],
)
def test_a_broken_window_fails(bug):
    report = verify_module(plan(Request("boltz_atom_transformer", "n150", params=SMALL)), edit_files=bug)
    assert not report.passed, report.as_dict()


def test_keys_that_ignore_the_mask_fail_with_padded_atoms():
    """112 real atoms of 512: the last windows' keys reach 48 atoms into the padding (and the first window's before
    the first atom), which only the key mask keeps out."""
    bug = planted(r"key_bias_prefill_jit\(kmask\)", "key_bias_prefill_jit(ttnn.add(ttnn.multiply(kmask, 0.0), 1.0))")
    report = verify_module(plan(Request("boltz_atom_transformer", "n150", params=SMALL)), edit_files=bug, padded_tokens=400)
    assert not report.passed, report.as_dict()
