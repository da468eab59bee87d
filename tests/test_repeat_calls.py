"""Repeated calls (`repeat: {count, carry}`): one callee instance and one set of weights run `count` times, the
carried outputs fed back (Boltz-2's recycling). tests/data/user_modules/repeat_mlp.yaml (the built-in mlp repeated)
verifies on the emulator against a torch reference that applies one block N times; the generated code is a plain
for loop over the one instance; every op is priced count times; a dropped carry fails verify; the traced forward
replays the loop; and the mistakes a description can make in `repeat` are refused at their line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tttgen.checking.verification import emulated, imported_package, verify_module
from tttgen.errors import InputError
from tttgen.generate import Request, plan, render_plan

DATA = Path(__file__).parent / "data" / "user_modules"
REPEAT = str(DATA / "repeat_mlp.yaml")


def repeat_plan(times: int = 3, device: str = "n150"):
    return plan(Request(REPEAT, device, params=(("times", str(times)),), flags=(("prefill_lens", [128]),)))


def dropped_carry(files):
    """Planted: every iteration reads the call's first input instead of the carried output."""
    text, n = re.subn(r"y = self\.block\.prefill_128\(y\)", "y = self.block.prefill_128(x)", files["model.py"])
    assert n == 1, files["model.py"]
    return {**files, "model.py": text}


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_a_repeated_call_matches_the_block_applied_n_times(device):
    report = verify_module(repeat_plan(3, device))
    assert report.api_findings == []
    assert report.passed, report.as_dict()


def test_a_dropped_carry_fails():
    """One application instead of three: the reference's third differs."""
    assert not verify_module(repeat_plan(3), edit_files=dropped_carry).passed


def test_the_call_is_one_instance_in_a_for_loop_with_shared_weights():
    p = repeat_plan(3)
    files = render_plan(p)
    model, configs = files["model.py"], files["configs.py"]
    assert "self.block = Mlp(weights)" in model  # constructed once, not a per-layer list
    assert "y = x\n" in model and "for _ in range(C.BLOCK_REPEATS):  # the same weights every time" in model
    assert "BLOCK_REPEATS = 3" in configs
    keys = sorted(k for w in p.graph.weights for k in w.hf_names)
    assert keys == ["block.fc1.bias", "block.fc1.weight", "block.fc2.bias", "block.fc2.weight"]
    assert not any(w.per_layer for w in p.graph.weights) and {w.loop_count for w in p.graph.weights} == {1}


def test_every_op_is_priced_count_times():
    """Op.runs is the count; the mode's modeled time is count times one run's."""
    one, three = repeat_plan(1), repeat_plan(3)
    assert {op.runs for op in one.graph.ops} == {1} and {op.runs for op in three.graph.ops} == {3}
    (key, t1), = one.graph.facts["mode_time_ns"].items()
    t3 = three.graph.facts["mode_time_ns"][key]
    assert t3 == pytest.approx(3 * t1, rel=1e-6), (t1, t3)


def test_the_traced_forward_replays_the_loop():
    """forward(..., traced=True) captures the three calls and replays them bit for bit with new inputs."""
    torch = pytest.importorskip("torch")
    from test_traced_module_packages import check_replays, open_model, write_package

    from tttgen.checking.verification import module_input, reference_module

    p = repeat_plan(3)
    tmp, _ = write_package(p)
    state = {k: v.detach().clone() for k, v in reference_module(p, 0).state_dict().items()}
    (key, io), = p.graph.facts["io"].items()
    with tmp, emulated(p.graph.device) as ttnn, imported_package(Path(tmp.name) / "pkg", "tttgen_repeat") as pkg:
        model = open_model(ttnn, pkg, state)
        calls = []
        for seed in (1, 2):
            g = torch.Generator().manual_seed(seed)
            inputs = [module_input(p.graph, io, n, s, g) for n, s in io["inputs"].items()]
            run = lambda traced, i=inputs: model.forward(*model.to_device(*i), traced=traced)  # noqa: E731
            calls.append((f"forward {seed}", run))
        check_replays(ttnn, model, calls, traces_after_warmup=1)


def edited(tmp_path, old: str, new: str) -> str:
    text = Path(REPEAT).read_text()
    assert text.count(old) == 1, old
    path = tmp_path / "repeat_mlp.yaml"
    path.write_text(text.replace(old, new))
    (tmp_path / "repeat_mlp_ref.py").write_text((DATA / "repeat_mlp_ref.py").read_text())
    return str(path)


def test_a_carry_that_changes_shape_is_refused_at_the_call(tmp_path):
    """The block made 64 -> 128 wide with its output fed back to its 64-wide input: refused, both shapes named."""
    path = edited(tmp_path, "out_features: width,", "out_features: hidden,")
    text = Path(path).read_text()
    Path(path).write_text(text.replace("y: {shape: [1, 1, rows, width]}", "y: {shape: [1, 1, rows, hidden]}"))
    with pytest.raises(InputError) as info:
        plan(Request(path, "n150", flags=(("prefill_lens", [128]),)))
    message = info.value.render()
    assert "repeat_mlp.yaml:" in message
    assert "carried output 'y' is [1, 1, 128, 128] but feeds input 'x' given [1, 1, 128, 64]" in message, message


def test_a_repeated_call_inside_a_looped_call():
    """repeat_mlp_stack: 2 looped layers, each repeating its own block 3 times: per-layer weights (keys
    layers.{i}.block.), ops priced 2 * 3 times, and the emulator's output equal to the blocks applied in order."""
    torch = pytest.importorskip("torch")
    from test_traced_module_packages import write_package

    p = plan(Request(str(DATA / "repeat_mlp_stack.yaml"), "n150", flags=(("prefill_lens", [128]),)))
    assert {op.runs for op in p.graph.ops} == {6}
    assert {(w.per_layer, w.loop_count) for w in p.graph.weights} == {(True, 2)}
    assert sorted(k for w in p.graph.weights for k in w.hf_names)[0] == "layers.{i}.block.fc1.bias"
    torch.manual_seed(0)
    state = {}
    for i in range(2):
        for name, shape in (("fc1", (128, 64)), ("fc2", (64, 128))):
            state[f"layers.{i}.block.{name}.weight"] = torch.randn(shape) / shape[1] ** 0.5
            state[f"layers.{i}.block.{name}.bias"] = torch.randn(shape[0]) * 0.1
    x = torch.randn(1, 1, 128, 64)
    want = x
    for i in range(2):
        for _ in range(3):
            h = torch.relu(want @ state[f"layers.{i}.block.fc1.weight"].T + state[f"layers.{i}.block.fc1.bias"])
            want = h @ state[f"layers.{i}.block.fc2.weight"].T + state[f"layers.{i}.block.fc2.bias"]
    tmp, files = write_package(p)
    assert "for layer in range(C.LAYER_COUNT):" in files["model.py"]
    assert "for _ in range(C.BLOCK_REPEATS):" in files["model.py"]
    with tmp, emulated(p.graph.device) as ttnn, imported_package(Path(tmp.name) / "pkg", "tttgen_repeat_stack") as pkg:
        device = ttnn.open_device(device_id=0)
        model = pkg.Model(device, pkg.weights.load_weights(device, state))
        got = ttnn.to_torch(model.forward(*model.to_device(x))).float()
    from tttgen.checking.verification import pcc

    assert pcc(got, want) >= 0.99
    # the same chain with each layer's block run once is not it (the repeat is visible in the output)
    once = x
    for i in range(2):
        h = torch.relu(once @ state[f"layers.{i}.block.fc1.weight"].T + state[f"layers.{i}.block.fc1.bias"])
        once = h @ state[f"layers.{i}.block.fc2.weight"].T + state[f"layers.{i}.block.fc2.bias"]
    assert pcc(got, once) < 0.99
