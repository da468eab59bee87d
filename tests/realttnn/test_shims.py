"""The shape-only torch stand-in gives the shapes real torch gives, for the operations generated packages use."""

import pytest
import torch

from tttgen.checking.realttnn import shims

fake_torch = shims.make_torch()


def both(fn):
    """Run fn with real torch and with the stand-in; return the two shapes."""
    return tuple(fn(torch).shape), tuple(fn(fake_torch).shape)


CASES = {
    "reshape -1": lambda t: t.zeros(4, 6, 8).reshape(1, 1, -1, 32),
    "transpose": lambda t: t.zeros(4, 6, 8).transpose(0, 2),
    "pair order": lambda t: t.zeros(64, 16).reshape(4, 2, 8, 16).transpose(1, 2).reshape(64, 16),
    "cat": lambda t: t.cat([t.zeros(8, 4), t.zeros(2, 4), t.zeros(2, 4)], dim=0),
    "broadcast outer": lambda t: t.arange(10)[:, None] * t.arange(0, 8, 2)[None, :],
    "repeat_interleave": lambda t: t.repeat_interleave(t.zeros(5, 4), 2, dim=-1),
    "where": lambda t: t.where(t.zeros(4) > 1.0, t.zeros(4), t.zeros(1)),
    "repeat": lambda t: t.zeros(32, 32).repeat(1, 1, 8, 1),
    "index slice": lambda t: t.zeros(1, 1, 32, 100)[0, 0, 5, :50],
    "index ellipsis": lambda t: t.zeros(2, 3, 4)[..., 1:3],
    "pad vocab": lambda t: t.nn.functional.pad(t.zeros(1001, 64), (0, 0, 0, 23)),
    "unsqueeze": lambda t: t.zeros(3, 4).unsqueeze(-1),
    "stack": lambda t: t.stack([t.zeros(3), t.zeros(3)], dim=1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_match_torch(name):
    real, fake = both(CASES[name])
    assert real == fake


def test_bad_reshape_fails_like_torch():
    with pytest.raises(shims.ShimError):
        fake_torch.zeros(3, 5).reshape(4, 4)


def test_unknown_torch_function_is_named():
    with pytest.raises(shims.ShimError, match="torch.fft"):
        fake_torch.fft


def test_safetensors_stand_in_serves_the_checkpoint_shapes():
    pkg, _ = shims.make_safetensors({"a.weight": [8, 4]})
    with pkg.safe_open("unused", framework="pt") as handle:
        assert handle.keys() == ["a.weight"]
        assert tuple(handle.get_tensor("a.weight").shape) == (8, 4)


def test_iterating_a_tensor_yields_its_first_dim():
    """A per-layer input list (`[... for x in bias]`): as many entries as the first dim, each one entry's shape."""
    real = [tuple(x.shape) for x in torch.zeros(3, 1, 2, 4)]
    fake = [tuple(x.shape) for x in fake_torch.zeros(3, 1, 2, 4)]
    assert fake == real == [(1, 2, 4)] * 3
