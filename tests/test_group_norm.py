"""The group_norm kind (docs/adding-an-op-kind.md): added as its kind file, its ops.j2 macro and its emulator
function. A small description using it is built for n150 and run on the emulator against torch's GroupNorm."""

import pytest
import torch

import tttgen.checking.emulator as emu
from tttgen.errors import InputError
from tttgen.generate import Request, plan, render_plan
from tttgen.ops.kinds.base import ShapeError
from tttgen.ops.registry import REGISTRY
from tttgen.checking.verification import verify_module

DESCRIPTION = """\
name: group_norm_block
description: "GroupNorm of channels-last pixels, then a linear: proj(group_norm(x))"
params:
  channels: {type: int, default: 256, doc: "channels, the last dim"}
  groups: {type: int, default: 8, doc: "channel groups"}
  rows: {type: int, doc: "pixels (H * W) per call"}
inputs:
  x: {shape: [1, 1, rows, channels]}
outputs:
  y: {shape: [1, 1, rows, channels]}
weights:
  norm: {shape: [channels], key: "norm.weight"}
  norm_bias: {shape: [channels], key: "norm.bias"}
  proj: {shape: [channels, channels], key: "proj.weight", transforms: [{kind: transpose}], role: FF2}
ops:
  - {op: group_norm, name: norm, in: {input: x, weight: norm, bias: norm_bias}, out: h, attrs: {num_groups: groups, eps: 1.0e-05}}
  - {op: linear, name: proj, in: {input: h, weight: proj}, out: y}
"""


class GroupNormBlock(torch.nn.Module):
    """The description in torch: GroupNorm over NCHW (the NHWC rows permuted), then a bias-free linear."""

    def __init__(self, channels=256, groups=8):
        super().__init__()
        self.norm = torch.nn.GroupNorm(groups, channels)
        self.proj = torch.nn.Linear(channels, channels, bias=False)

    def forward(self, x):  # x: one batch item's rows x channels (verify hands it without the leading 1s)
        pixels = x.reshape(1, -1, x.shape[-1])  # [N, H*W, C]
        h = self.norm(pixels.transpose(1, 2)).transpose(1, 2).reshape(x.shape)  # GroupNorm reads [N, C, *]
        return self.proj(h)


def reference():
    torch.manual_seed(0)
    model = GroupNormBlock().eval()
    with torch.no_grad():  # an affine transform large enough to matter
        model.norm.weight.copy_(torch.linspace(0.5, 2.0, 256))
        model.norm.bias.copy_(torch.linspace(-1.0, 1.0, 256))
    return model


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("group_norm") / "group_norm_block.yaml"
    path.write_text(DESCRIPTION)
    return plan(Request(str(path), "n150"))


def test_group_norm_is_a_registered_kind_with_its_macro():
    kind = REGISTRY["group_norm"]
    assert kind.macro == "group_norm" and kind.device_op


def test_group_norm_renders_the_ttnn_call(built):
    model_py = render_plan(built)["model.py"]
    assert "ttnn.group_norm(" in model_py and "num_groups=8," in model_py and "epsilon=1e-05," in model_py
    assert "inplace=False," in model_py  # ttnn refuses an in-place group_norm of a TILE input


def test_group_norm_block_matches_torch_on_the_emulator(built):
    report = verify_module(built, reference=reference())
    assert report.api_findings == []  # ttnn.group_norm and its keywords exist in ttnn 0.81.1
    assert report.passed, report.as_dict()


def test_a_wrong_bias_is_caught(built):
    """The comparison can fail: the generated call drops the bias."""

    def drop_bias(files):
        files["model.py"] = files["model.py"].replace('bias=self.w["norm_bias"],', "bias=None,")
        return files

    report = verify_module(built, reference=reference(), edit_files=drop_bias)
    assert not report.passed


@pytest.mark.parametrize(
    "shape, groups, message",
    [
        ((1, 1, 64, 48), 8, "48 channels do not fill whole tiles of 32"),
        ((1, 1, 64, 256), 6, "256 channels do not split into num_groups 6 equal groups"),
        ((1, 2, 64, 256), 8, "is not [batch, 1, rows, channels]"),
    ],
)
def test_group_norm_shape_rules(shape, groups, message):
    with pytest.raises(ShapeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        REGISTRY["group_norm"].infer({"input": shape}, {"num_groups": groups, "eps": 1e-5})


def test_a_description_breaking_a_rule_is_a_plan_error(tmp_path):
    path = tmp_path / "group_norm_block.yaml"
    path.write_text(DESCRIPTION.replace("default: 8, doc", "default: 6, doc"))
    with pytest.raises(InputError) as info:
        plan(Request(str(path), "n150"))
    # the front end names the op's line, its name and kind, then the kind's own words
    assert (
        "group_norm_block.yaml:16: op 'norm' (group_norm): 256 channels do not split into num_groups 6 equal groups"
        in info.value.render()
    )


def test_emulated_group_norm_is_torch_group_norm():
    """The emulator's ttnn.group_norm against torch.nn.functional.group_norm (the 0.81.1 golden) with a batch of 2
    and gamma/beta packed [1, 1, C / 32, 32]; it refuses channels that do not fill whole tiles."""
    torch.manual_seed(0)
    x, gamma, beta = torch.randn(2, 1, 64, 64) + 1, torch.randn(64), torch.randn(64)
    bf16 = lambda t: t.to(torch.bfloat16).float()  # noqa: E731
    want = torch.nn.functional.group_norm(bf16(x).permute(0, 3, 1, 2), 4, bf16(gamma), bf16(beta), 1e-5)
    with emu.installed(arch="wormhole_b0", grid=(8, 8), dram_banks=12) as ttnn:
        device = ttnn.open_device(device_id=0)
        upload = lambda t, layout: ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=layout, device=device)  # noqa: E731
        out = ttnn.group_norm(
            upload(x, ttnn.TILE_LAYOUT),
            num_groups=4,
            epsilon=1e-5,
            weight=upload(gamma.reshape(1, 1, 2, 32), ttnn.ROW_MAJOR_LAYOUT),
            bias=upload(beta.reshape(1, 1, 2, 32), ttnn.ROW_MAJOR_LAYOUT),
            inplace=False,
        )
        got = ttnn.to_torch(out).float()
        assert got.shape == x.shape
        assert (got - want.permute(0, 2, 3, 1)).abs().max() < 0.05
        with pytest.raises(Exception, match="Tile layout requires non-inplace tensors"):  # ttnn's default
            ttnn.group_norm(upload(x, ttnn.TILE_LAYOUT), num_groups=4)
        with pytest.raises(Exception, match="C \\(96\\) must split into 64 equal groups"):
            ttnn.group_norm(upload(torch.randn(1, 1, 32, 96), ttnn.TILE_LAYOUT), num_groups=64, inplace=False)
