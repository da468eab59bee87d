"""Issue 8: modules built from descriptions alone (no Python written for them), rendered by the generic renderer
and run on the emulator against torch references these tests write."""

import ast
import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from plan_cache import cached_files, cached_plan
from tttgen.cli import cli, main
from tttgen.errors import InputError
from tttgen.generate import Request, plan, render_plan
from tttgen.checking.verification import verify_module


class TwoLayerMlp(torch.nn.Module):
    """modules/mlp.yaml in torch: fc2(gelu(fc1(x))) with nn.Linear weights (keys fc1.weight, fc1.bias, ...)."""

    def __init__(self, d_in=1024, hidden=4096, d_out=1024):
        super().__init__()
        self.fc1 = torch.nn.Linear(d_in, hidden)
        self.fc2 = torch.nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.fc2(torch.nn.functional.gelu(self.fc1(x)))


def encoder_layer():
    torch.manual_seed(0)
    return torch.nn.TransformerEncoderLayer(
        768, 12, 3072, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
    ).eval()


def mlp():
    torch.manual_seed(0)
    return TwoLayerMlp().eval()


@pytest.mark.parametrize("device", ["n150", "p150"])
@pytest.mark.parametrize("module, reference", [("mlp", mlp), ("prenorm_encoder_layer", encoder_layer)])
def test_module_from_description_matches_torch(module, reference, device):
    report = verify_module(cached_plan(module, device), reference=reference())
    assert report.api_findings == []
    assert set(report.pcc) == {"prefill_128", "prefill_1024"}  # one method per prefill length, no decode step
    assert report.passed, report.as_dict()


def test_a_planted_bug_is_caught():
    """The comparison can fail: drop fc2's bias from the generated call."""

    def drop_bias(files):
        files["model.py"] = files["model.py"].replace('bias=self.w["fc2_bias"],', "")
        return files

    model = mlp()
    with torch.no_grad():
        model.fc2.bias.mul_(0).add_(torch.linspace(-3, 3, 1024))  # a bias large enough to matter
    report = verify_module(plan(Request("mlp", "n150")), reference=model, edit_files=drop_bias)
    assert not report.passed and min(report.pcc["prefill_128"]) < 0.99


def test_the_description_names_its_reference():
    """prenorm_encoder_layer.yaml names torch.nn.TransformerEncoderLayer with init from its params: verify needs
    no test-written reference."""
    assert verify_module(cached_plan("prenorm_encoder_layer", "n150")).passed


BLOCK = """\
name: ffn_block
description: "x + mlp(LayerNorm(x)), the MLP a call of the built-in module"
params:
  width: {type: int, default: 256, doc: "model width"}
  hidden: {type: int, default: 512, doc: "MLP width"}
  rows: {type: int, doc: "rows per call"}
inputs:
  x: {shape: [1, 1, rows, width]}
outputs:
  y: {shape: [1, 1, rows, width]}
weights:
  norm: {shape: [width], key: "norm.weight"}
  norm_bias: {shape: [width], key: "norm.bias"}
ops:
  - {op: layer_norm, name: norm, in: {input: x, weight: norm, bias: norm_bias}, out: h, attrs: {eps: 1.0e-05}}
  - op: call
    name: ffn
    module: mlp
    in: {x: h}
    out: f
    bind: {in_features: width, hidden_features: hidden, out_features: width, activation: gelu, rows: rows}
    weight_prefix: "ffn."
  - {op: binary, name: residual, in: {a: x, b: f}, out: y, attrs: {fn: add}}
"""


class FfnBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = torch.nn.LayerNorm(256)
        self.ffn = TwoLayerMlp(256, 512, 256)

    def forward(self, x):
        return x + self.ffn(self.norm(x))


def test_a_user_module_calling_a_builtin(tmp_path):
    """A user's YAML composes the built-in mlp: one class per module, the callee's configs named after the call."""
    path = tmp_path / "ffn_block.yaml"
    path.write_text(BLOCK)
    p = plan(Request(str(path), "n150"))
    files = render_plan(p)
    # the callee's class is named after the module it runs (not the call), and takes only its weights
    assert "class Mlp:" in files["model.py"] and "self.ffn = Mlp(weights)" in files["model.py"]
    assert "f = self.ffn.prefill_128(h)" in files["model.py"]
    assert "    fc1_program = ttnn." in files["configs.py"]  # unambiguous: the op's own name
    assert 'state["ffn.fc1.weight"]' in files["weights.py"]  # the call's weight prefix
    torch.manual_seed(0)
    report = verify_module(p, reference=FfnBlock().eval())
    assert report.passed, report.as_dict()


def test_ops_of_two_calls_keep_their_call_path(tmp_path):
    """The same module called twice: its op names are ambiguous, so they keep the call path (configs too)."""
    twice = BLOCK.replace(
        "  - {op: binary, name: residual, in: {a: x, b: f}, out: y, attrs: {fn: add}}\n",
        """\
  - op: call
    name: ffn_b
    module: mlp
    in: {x: f}
    out: g
    bind: {in_features: width, hidden_features: hidden, out_features: width, activation: gelu, rows: rows}
    weight_prefix: "ffn_b."
  - {op: binary, name: residual, in: {a: x, b: g}, out: y, attrs: {fn: add}}
""",
    )
    path = tmp_path / "twice.yaml"
    path.write_text(twice.replace("name: ffn_block", "name: twice"))
    p = plan(Request(str(path), "n150"))
    assert {"prefill_128.ffn.fc1", "prefill_128.ffn_b.fc1"} <= {op.key for op in p.graph.ops}
    configs = render_plan(p)["configs.py"]
    assert "    ffn_fc1_program = ttnn." in configs and "    ffn_b_fc1_program = ttnn." in configs


def _methods(source: str):
    tree = ast.parse(source)
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef) and cls.name != "Model":
            yield from (f for f in cls.body if isinstance(f, ast.FunctionDef))


@pytest.mark.parametrize("module", ["mlp", "prenorm_encoder_layer"])
def test_module_methods_are_straight_line(module):
    files = cached_files(module, "n150")
    methods = list(_methods(files["model.py"]))
    assert {m.name for m in methods} >= {"prefill_128", "prefill_1024"}
    for m in methods:
        branches = [n for n in ast.walk(m) if isinstance(n, (ast.If, ast.For, ast.While, ast.IfExp, ast.Try))]
        assert not branches, f"{m.name} branches"


def test_shared_configs_are_named_once():
    configs = cached_files("prenorm_encoder_layer", "n150")["configs.py"]
    kernels = re.findall(r"^(KERNEL_\w+) = ttnn\.WormholeComputeKernelConfig\(", configs, re.M)
    assert kernels and len(kernels) == len(set(kernels))
    assert configs.count("ttnn.WormholeComputeKernelConfig(") == len(kernels)  # never repeated inline
    assert re.search(r"^    wqkv_compute = KERNEL_\w+$", configs, re.M)


def test_unsupported_kind_is_one_clear_error(tmp_path):
    path = tmp_path / "soft.yaml"
    path.write_text("""\
name: soft
description: "transpose, which the module renderer cannot print yet"
params:
  rows: {type: int, doc: "rows"}
inputs:
  x: {shape: [1, 1, rows, 64]}
outputs:
  y: {shape: [1, 1, rows, 64]}
ops:
  - {op: transpose, name: flip, in: {input: x}, out: y, attrs: {dim0: 0, dim1: 1}}
""")
    with pytest.raises(InputError) as info:
        plan(Request(str(path), "n150"))
    assert "'flip' (transpose)" in info.value.render()


def test_cli_builds_and_checks_a_module_yaml(tmp_path):
    path = tmp_path / "ffn_block.yaml"
    path.write_text(BLOCK)
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(cli, ["build", str(path), "--device", "n150", "--out", str(out), "--ttnn-check", "off"])
    assert result.exit_code == 0, result.output
    package = out / "ffn_block" / "n150"
    assert sorted(p.name for p in package.iterdir()) == [
        "MANIFEST.json",
        "README.md",
        "__init__.py",
        "configs.py",
        "graph.json",
        "model.py",
        "weights.py",
    ]
    assert runner.invoke(cli, ["check", str(out)]).exit_code == 0


def test_bad_module_build_exits_2_without_writing(tmp_path, monkeypatch, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(BLOCK.replace("module: mlp", "module: no_such_module"))
    out = tmp_path / "out"
    monkeypatch.setattr("sys.argv", ["tttgen", "build", str(path), "--device", "n150", "--out", str(out)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "no_such_module" in capsys.readouterr().err
    assert not out.exists()


def test_a_changed_called_description_is_drift(tmp_path):
    """Called modules are inputs too: their hashes are in the MANIFEST, so editing one shows in `tttgen check`."""
    (tmp_path / "ffn_block.yaml").write_text(BLOCK)
    mlp = Path(__file__).resolve().parents[1] / "modules" / "mlp.yaml"
    (tmp_path / "mlp.yaml").write_text(mlp.read_text())  # found beside the caller before the built-ins
    out = tmp_path / "out"
    runner = CliRunner()
    args = ["build", str(tmp_path / "ffn_block.yaml"), "--device", "n150", "--out", str(out), "--ttnn-check", "off"]
    assert runner.invoke(cli, args).exit_code == 0
    manifest = (out / "ffn_block" / "n150" / "MANIFEST.json").read_text()
    assert '"called": true' in manifest and "mlp.yaml" in manifest
    assert runner.invoke(cli, ["check", str(out)]).exit_code == 0
    (tmp_path / "mlp.yaml").write_text(mlp.read_text().replace("fc2(act(fc1(x)))", "fc2(act(fc1(x))) (edited)"))
    result = runner.invoke(cli, ["check", str(out)])
    assert result.exit_code == 1 and "MANIFEST.json" in result.output
