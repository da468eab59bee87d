"""Mode names a description chooses (docs/module-descriptions.md, "Modes"): a `modes` key such as PI0's `prefix` or
`denoise_step` states its role (how its ops run: `prefill` or `decode`) and, for one row count, `rows`; the builder
keys its ops by that name, so the generated methods, configs classes, to_device entries, traces and cost rows use it,
and passes ask the role. Misnamed modes are refused all at once, each at its line."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from tttgen.errors import InputError
from tttgen.generate import Request, plan, render_plan
from tttgen.inputs.module import MODE_RESERVED, ROOT, load_module
from tttgen.checking.verification import emulated, imported_package

torch = pytest.importorskip("torch")

NAMED = """\
name: stepper
description: "an encode mode at every size and a step mode a sampler repeats, both named by the description"
params:
  d: {type: int, default: 64, doc: "width"}
  small: {type: int, default: 32, doc: "rows of the step mode"}
  steps: {type: int, default: 3, doc: "sampler steps"}
  rows: {type: int, doc: "rows"}
sizes: {param: rows, default: [128]}
inputs:
  x: {shape: [1, 1, rows, d]}
outputs:
  y: {shape: [1, 1, rows, d]}
weights:
  w: {shape: [d, d], key: "w.weight", transforms: [{kind: transpose}], role: FF1_FF3}
  shift: {shape: [d, d], generate: {kind: shift, size: d}, role: FF1_FF3}
  first: {shape: [small, d], generate: {kind: one_hot, rows: small, size: d, index: 0}, role: EMBEDDING}
modes:
  encode:
    role: prefill
    ops:
      - {op: linear, name: proj, in: {input: x, weight: w}, out: y}
  step:
    role: prefill
    rows: small
    inputs:
      h: {shape: [1, 1, small, d]}
      s: {shape: [1, 1, small, d], example: zeros}
    outputs:
      h_next: {shape: [1, 1, small, d]}
      s_next: {shape: [1, 1, small, d]}
    ops:
      - {op: binary, name: accumulate, in: {a: h, b: s}, out: h_next, attrs: {fn: add}}
      - {op: linear, name: advance, in: {input: s, weight: shift}, out: s_next}
sampler:
  name: run_steps
  mode: step
  count: steps
  carry: {h_next: h, s_next: s}
  start: {s: first}
  returns: h_next
"""


def write(folder: Path, text: str, name: str = "stepper") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    (index,) = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return index


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("named"), NAMED)
    p = plan(Request(str(path), "n150"))
    return path, p, render_plan(p)


def test_ops_are_keyed_by_the_chosen_names_and_keep_their_role(named):
    _, p, _ = named
    graph = p.graph
    assert graph.facts["mode_variants"] == {"step": "step", "encode": "encode"}
    assert {op.mode_key: (op.mode, op.seq) for op in graph.ops} == {"step": ("prefill", 32), "encode": ("prefill", 128)}
    assert graph.op("step.advance").kind == "linear" and graph.op("encode.proj").kind == "linear"
    assert set(graph.facts["io"]) == {"step", "encode"} and set(graph.facts["mode_time_ns"]) == {"step", "encode"}
    assert graph.facts["sampler"]["mode_key"] == "step"


def test_the_generated_package_uses_the_chosen_names(named):
    _, _, files = named
    model, configs, readme = files["model.py"], files["configs.py"], files["README.md"]
    compile(model, "model.py", "exec")
    assert "    def encode(self, x):" in model and "    def step(self, h, s):" in model
    assert "prefill_" not in model and "prefill_" not in configs  # no derived prefill_<rows> name anywhere
    assert "class Encode:" in configs and "class Step:" in configs
    assert re.search(r"C\.Encode\.proj_\w+", model) and re.search(r"C\.Step\.advance_\w+", model)
    assert "    def to_device_step(self, h, s):" in model
    assert "return self.encode(x)" in model  # forward runs the one size of `encode` by name
    assert "h, s = self.step(h, s)" in model  # the sampler repeats `step`
    assert "| modes | step, encode |" in readme


def test_the_named_package_runs_on_the_emulator(named):
    """forward runs `encode` (x @ w), and run_steps repeats `step` 3 times: ones in columns 0..2 of every row."""
    _, p, files = named
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(Path(tmp), "stepper_n150") as package:
            device = ttnn.open_device(device_id=0)
            model = package.Model(device, package.weights.load_weights(device, {"w.weight": 2 * torch.eye(64)}))
            x = torch.ones(1, 1, 128, 64)
            y = ttnn.to_torch(model.forward(*model.to_device(x))).float().reshape(128, 64)
            h, _ = model.to_device_step(torch.zeros(1, 1, 32, 64), torch.zeros(1, 1, 32, 64))
            got = ttnn.to_torch(model.run_steps(h)).float().reshape(32, 64)
    assert torch.equal(y, torch.full((128, 64), 2.0))
    want = torch.zeros(32, 64)
    want[:, :3] = 1.0
    assert torch.equal(got, want)


def test_a_named_mode_at_several_sizes_gets_one_method_per_size(tmp_path):
    text = edited(NAMED, "default: [128]}", "default: [128, 256]}")
    p = plan(Request(str(write(tmp_path, text)), "n150"))
    assert p.graph.facts["mode_variants"] == {"step": "step", "encode_128": "encode", "encode_256": "encode"}
    model = render_plan(p)["model.py"]
    assert "    def encode_128(self, x):" in model and "    def encode_256(self, x):" in model
    assert 'return getattr(self, f"encode_{rows}")(x)' in model


def test_a_mode_run_by_its_own_method_may_share_forwards_rows(tmp_path):
    """forward tells its modes apart by their rows; a mode with its own method (here the sampler's step) is called by
    name, so it may run at encode's 128 rows: INPUT_SHAPES keys it by its name, forward still refuses other rows, and
    both run on the emulator."""
    path = write(tmp_path, NAMED)
    p = plan(Request(str(path), "n150", params=(("small", "128"),)))
    files = render_plan(p)
    configs, model = files["configs.py"], files["model.py"]
    assert "    128: {" in configs and '    "step": {' in configs
    assert 'check_shapes("step", h=h)' in model and 'shapes = C.INPUT_SHAPES["step"]' in model
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device) as ttnn, imported_package(Path(tmp), "stepper_shared_rows") as package:
            device = ttnn.open_device(device_id=0)
            model = package.Model(device, package.weights.load_weights(device, {"w.weight": 2 * torch.eye(64)}))
            y = ttnn.to_torch(model.forward(*model.to_device(torch.ones(1, 1, 128, 64)))).float()
            h, _ = model.to_device_step(torch.zeros(1, 1, 128, 64), torch.zeros(1, 1, 128, 64))
            got = ttnn.to_torch(model.run_steps(h)).float().reshape(128, 64)
            with pytest.raises(ValueError, match=r"x has 32 rows; this package was generated for rows in \[128\]"):
                model.forward(*model.to_device(torch.ones(1, 1, 32, 64)))
    assert torch.equal(y.reshape(128, 64), torch.full((128, 64), 2.0))
    want = torch.zeros(128, 64)
    want[:, :3] = 1.0
    assert torch.equal(got, want)


def test_chosen_names_with_one_key_twice_are_refused(tmp_path):
    """`encode` at sizes 32 and 128 makes `encode_32`; a mode named `encode_32` as well is refused."""
    text = edited(NAMED, "default: [128]}", "default: [64, 128]}")
    text = edited(text, "sampler:\n", "  encode_64:\n    role: prefill\n    rows: 2 * small\n    ops:\n"
                  "      - {op: linear, name: proj, in: {input: x, weight: w}, out: y}\nsampler:\n")
    with pytest.raises(InputError, match=r"mode key encode_64 is made twice"):
        plan(Request(str(write(tmp_path, text)), "n150"))


def problems(tmp_path, text: str) -> str:
    with pytest.raises(InputError) as info:
        load_module(write(tmp_path, text))
    return info.value.render()


def test_misnamed_modes_are_refused_all_at_once_each_at_its_line(tmp_path):
    text = edited(NAMED, "  step:\n", "  Step:\n")
    text = edited(text, "  encode:\n    role: prefill\n", "  forward:\n    role: prefill\n")
    extra = "".join(
        f"  {name}:\n" + ("    role: prefill\n" if name != "no_role" else "") + "    ops: []\n"
        for name in ("extra_1", "extra1", "lambda", "no_role", "warmup")
    )
    text = edited(text, "sampler:\n", extra + "sampler:\n")  # still under `modes:`
    out = problems(tmp_path, text)
    expect = {
        "  Step:": "field 'modes.Step': mode name 'Step' is not a lowercase Python identifier",
        "  forward:": "field 'modes.forward': mode name 'forward' is reserved",
        "  extra1:": "field 'modes.extra1': modes 'extra_1' and 'extra1' make the same configs class 'Extra1'",
        "  lambda:": "field 'modes.lambda': mode name 'lambda' is a Python keyword",
        "  no_role:": "field 'modes.no_role': mode 'no_role' needs a `role`: how its ops run (allowed: prefill, decode)",
        "  warmup:": "field 'modes.warmup': mode name 'warmup' is reserved",
    }
    for needle, words in expect.items():
        assert f"stepper.yaml:{line_of(text, needle)}: {words}" in out, (needle, out)
    assert "field 'sampler.mode': unknown mode 'step'" in out  # the other problems of the file, in the same run


def test_role_and_rows_misuse(tmp_path):
    text = edited(NAMED, "  step:\n    role: prefill\n    rows: small\n", "  step:\n    role: decode\n    rows: smal\n")
    text = edited(text, "  encode:\n    role: prefill\n", "  encode:\n    role: forward\n")
    out = problems(tmp_path, text)
    assert f"stepper.yaml:{line_of(text, 'role: decode')}: field 'modes.step.role': a decode mode is named `decode`" in out
    assert f"stepper.yaml:{line_of(text, 'role: forward')}: field 'modes.encode.role'" in out  # schema: prefill|decode


def test_rows_name_an_int_param(tmp_path):
    text = edited(NAMED, "    rows: small\n", "    rows: smal\n")
    out = problems(tmp_path, text)
    assert f"stepper.yaml:{line_of(text, '    rows: smal')}: field 'modes.step.rows': unknown param 'smal'" in out


def test_a_mode_named_like_a_call_or_the_sampler_is_refused(tmp_path):
    text = edited(NAMED, "  step:\n", "  run_steps:\n").replace("mode: step", "mode: run_steps")
    out = problems(tmp_path, text)
    assert f"stepper.yaml:{line_of(text, '  run_steps:')}: field 'modes.run_steps': mode name 'run_steps' is the sampler's" in out


def test_reserved_names_cover_every_method_the_templates_define():
    """A mode's method sits beside the generated classes' own: every method model.py.j2 and lm.py.j2 define is
    reserved (a new template method without an entry fails here)."""
    defined = set()
    for name in ("model.py.j2", "lm.py.j2"):
        defined |= set(re.findall(r"^    def ([a-z_]+)\(", (ROOT / "templates" / name).read_text(), re.M))
    assert defined - {"__init__"} <= set(MODE_RESERVED), sorted(defined - set(MODE_RESERVED))


def test_pi0_names_its_modes_prefix_and_denoise_step():
    desc = load_module("pi0")
    assert list(desc.modes) == ["prefix", "denoise_step"]
    assert {k: (v.role, v.rows) for k, v in desc.modes.items()} == {
        "prefix": ("prefill", None),
        "denoise_step": ("prefill", "suffix"),
    }
    assert desc.sampler.mode == "denoise_step"


def test_a_callee_without_the_callers_mode_is_refused_at_the_call(tmp_path):
    """A callee whose only mode is a chosen one runs only from a caller's mode of that name: called from `prefill`
    it is refused at the call, naming the modes it has."""
    write(tmp_path, edited(NAMED, "name: stepper", "name: inner"), "inner")
    outer = """\
name: outer
description: "calls inner from prefill"
params:
  rows: {type: int, doc: "rows"}
inputs:
  x: {shape: [1, 1, rows, 64]}
outputs:
  y: {shape: [1, 1, rows, 64]}
ops:
  - {op: call, name: inner, module: inner, in: {x: x}, out: y}
"""
    with pytest.raises(InputError) as info:
        plan(Request(str(write(tmp_path, outer, "outer")), "n150"))
    assert "module 'inner' has no mode 'prefill'" in info.value.render() and "encode, step" in info.value.render()
