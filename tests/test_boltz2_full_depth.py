"""Boltz-2's three packages at the released depths and widths (issue 25: "small depth in `make test` and full depth
once in `make bench` or a slow marker"): the trunk step (64 Pairformer blocks, 4 MSA layers, 384 / 128 wide), the
diffusion conditioning (the atom-pair p and every bias stack: 24 token layers of 16 heads, 3 + 3 atom layers) and the
score model's step (24 token layers of 768 with 16 heads, 3 + 3 atom layers), each on the emulator against boltz
2.2.1's own modules; their small forms run in `make test` (tests/test_boltz2_trunk.py,
test_boltz_diffusion_conditioning.py, test_boltz_diffusion_step.py). 64 tokens (512 atoms, 64 MSA rows) keep the
emulator's run to about a minute each."""

import os

import pytest

from tttgen.checking.verification import verify_module
from tttgen.generate import Request, plan

pytest.importorskip("boltz.model.modules.diffusionv2", reason="boltz 2.2.1 and einx are installed by `make install`")

SLOW = pytest.mark.skipif(os.environ.get("TTTGEN_SLOW_TESTS") != "1", reason="full depth: TTTGEN_SLOW_TESTS=1")


@SLOW
@pytest.mark.slow
@pytest.mark.parametrize(
    "module, params, padded_tokens",
    [
        ("boltz2_trunk", (("n", "64"), ("msa_rows", "64")), 14),
        # no token mask input: every op is per token, pair or atom (its padding is tested in
        # tests/test_boltz_forward_tokens.py)
        ("boltz2_diffusion_conditioning", (("n", "64"), ("max_atoms", "512")), 0),
        ("boltz2_diffusion_step", (("n", "64"), ("max_atoms", "512")), 14),
    ],
)
def test_released_depths_match_boltz(module, params, padded_tokens):
    report = verify_module(plan(Request(module, "p150", params=params)), padded_tokens=padded_tokens)
    assert report.passed, report.as_dict()
