"""Issue 24: PI0's `sample_actions` and a Boltz Pairformer layer as traced module packages on the emulator, which
replays a trace as the device does (the captured ops re-run on the tensors they were captured with). warmup()
captures every trace up front; a replayed call with new inputs equals the untraced call bit for bit; close()
releases the traces and a later call fails with the closed device's message. Planted bugs fail the same check: a
traced call that does not copy its inputs into the persistent ones (the replay reads the warm-up's stale inputs),
and a trace captured before the weights it reads were loaded. Small sizes, one layer."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from tttgen.generate import Request, plan, render_plan
from tttgen.checking.verification import emulated, imported_package

torch = pytest.importorskip("torch")

PI0_SMALL = {
    "vision_width": 64, "vision_mlp": 128, "vision_heads": 1, "vision_head_dim": 64, "vision_layers": 1,
    "image": 112, "width": 128, "mlp": 256, "layers": 1, "head_dim": 64, "vocab": 64,
    "expert_width": 64, "expert_mlp": 128, "rows": 160, "cache_len": 160,
}
PAIRFORMER_SMALL = {"token_s": 64, "token_z": 32, "heads": 2, "pair_heads": 2, "pair_head_dim": 32, "n": 32}


def no_input_copy(files):
    """Planted: traced_call replays without copying the new inputs into the persistent ones."""
    text = re.sub(r"\n\s+ttnn\.copy\(value, target\)", "\n                pass", files["model.py"])
    assert text != files["model.py"]
    return {**files, "model.py": text}


def write_package(p, edit=None):
    files = render_plan(p)
    files = edit(files) if edit else files
    tmp = tempfile.TemporaryDirectory(prefix="tttgen-traced-")
    (Path(tmp.name) / "pkg").mkdir()
    for name, text in files.items():
        (Path(tmp.name) / "pkg" / name).write_text(text)
    return tmp, files


def open_model(ttnn, package, state):
    """The model on a device opened as Model.open opens it (with the trace region), weights from `state`."""
    C = package.configs
    device = ttnn.open_device(device_id=0, l1_small_size=C.L1_SMALL_SIZE, trace_region_size=C.TRACE_REGION_SIZE)
    return package.Model(device, package.weights.load_weights(device, state))


def host(ttnn, out):
    outs = out if isinstance(out, tuple) else (out,)
    return tuple(ttnn.to_torch(o).float().clone() for o in outs)


def check_replays(ttnn, model, calls, traces_after_warmup):
    """Each call untraced, then warmup() and each call traced with the same (new, nonzero) inputs: bitwise equal.
    `calls`: (name, run(traced) -> device output(s))."""
    want = [host(ttnn, run(False)) for _, run in calls]
    model.warmup()
    assert len(model.traces) == traces_after_warmup, sorted(model.traces)
    for (name, run), w in zip(calls, want):
        got = host(ttnn, run(True))
        for g, e in zip(got, w):
            assert torch.equal(g, e), f"{name}: traced differs from untraced by {(g - e).abs().max().item()}"
    assert len(model.traces) == traces_after_warmup, "a traced call captured again after warmup()"


def reload_weights(model, weights):
    """Planted: the weights the methods read are (re)loaded after warmup() captured the traces (the base class's
    constructor binds them; the traces and caches Model adds stay)."""
    super(type(model), model).__init__(weights)


def check_close(ttnn, model, call):
    model.close()
    assert model.traces == {}
    with pytest.raises(Exception, match="closed"):
        call()


# ---- PI0


def pi0_state():
    from tttgen.checking.references.pi0 import PI0Policy
    from tttgen.checking.verification import informative_weights

    keys = ("vision_width", "vision_mlp", "vision_heads", "vision_layers", "image", "width", "mlp", "layers",
            "head_dim", "vocab", "expert_width", "expert_mlp")
    torch.manual_seed(0)
    ref = informative_weights(PI0Policy(**{k: PI0_SMALL[k] for k in keys}).eval())
    return {k: v.detach().clone() for k, v in ref.state_dict().items()}


def pi0_inputs(C, seed):
    """Random inputs of the prefix call and of sample_actions (shapes from the package's configs)."""
    g = torch.Generator().manual_seed(seed)
    prefix_rows = max(C.INPUT_SHAPES)
    pre = C.INPUT_SHAPES[prefix_rows]
    prefix = (
        torch.rand(pre["pixels"], generator=g) * 2 - 1,
        torch.randint(0, PI0_SMALL["vocab"], pre["tokens"], generator=g),
        torch.arange(prefix_rows).reshape(pre["positions"]),
        torch.full(pre["mask"], -1e9).triu(1),
        torch.zeros(()),
    )
    suf = C.INPUT_SHAPES[min(C.INPUT_SHAPES)]
    suffix = (
        torch.randn(suf["x_t"], generator=g),
        torch.randn(suf["robot_state"], generator=g),
        torch.zeros(suf["step"]),
        (prefix_rows + torch.arange(suf["positions"][-1])).reshape(suf["positions"]),
        torch.randn(suf["mask"], generator=g).clamp(max=0) * 4,
    )
    return prefix, suffix


def pi0_calls(model, C):
    calls = []
    for seed in (1, 2):
        prefix, suffix = pi0_inputs(C, seed)

        def prefix_call(traced, prefix=prefix):
            return model.forward(*model.to_device(*prefix), traced=traced)

        def actions(traced, prefix=prefix, suffix=suffix):
            model.forward(*model.to_device(*prefix))  # the prefix this observation's actions attend
            x_t, robot_state, _, positions, mask = model.to_device_denoise_step(*suffix)
            return model.sample_actions(x_t, robot_state, positions, mask, traced=traced)

        calls += [(f"forward (prefix) {seed}", prefix_call), (f"sample_actions {seed}", actions)]
    return calls


def run_pi0(edit=None, reload_after_warmup=False):
    p = plan(Request("pi0", "n150", params=tuple((k, str(v)) for k, v in PI0_SMALL.items())))
    tmp, files = write_package(p, edit)
    with tmp, emulated(p.graph.device) as ttnn, imported_package(Path(tmp.name) / "pkg", "tttgen_traced_pi0") as pkg:
        state = pi0_state()
        model = open_model(ttnn, pkg, {k: torch.zeros_like(v) for k, v in state.items()} if reload_after_warmup else state)
        calls = pi0_calls(model, pkg.configs)
        if reload_after_warmup:
            # planted: the traces are captured over weights that are then replaced by the checkpoint's
            model.warmup()
            reload_weights(model, pkg.weights.load_weights(model.device, state))
        check_replays(ttnn, model, calls, traces_after_warmup=2)
        check_close(ttnn, model, lambda: calls[1][1](True))
    return files


def test_pi0_sample_actions_replays_its_trace_with_new_inputs():
    files = run_pi0()
    assert 'return self.traced_call("sample_actions"' in files["model.py"]


def test_pi0_replay_without_the_input_copy_fails():
    with pytest.raises(AssertionError, match="traced differs from untraced"):
        run_pi0(no_input_copy)


def test_pi0_trace_captured_before_the_weights_load_fails():
    with pytest.raises(AssertionError, match="traced differs from untraced"):
        run_pi0(reload_after_warmup=True)


# ---- a Boltz Pairformer layer


def run_pairformer(edit=None, reload_after_warmup=False):
    from tttgen.checking.verification import module_input, reference_module

    p = plan(Request("boltz_pairformer_layer", "n150", params=tuple((k, str(v)) for k, v in PAIRFORMER_SMALL.items())))
    tmp, files = write_package(p, edit)
    state = {k: v.detach().clone() for k, v in reference_module(p, 0).state_dict().items()}
    (key, io), = p.graph.facts["io"].items()
    with tmp, emulated(p.graph.device) as ttnn, imported_package(Path(tmp.name) / "pkg", "tttgen_traced_pf") as pkg:
        model = open_model(ttnn, pkg, {k: v * 0.5 for k, v in state.items()} if reload_after_warmup else state)
        if reload_after_warmup:  # planted: traces captured over weights the checkpoint's then replace
            model.warmup()
            reload_weights(model, pkg.weights.load_weights(model.device, state))
        calls = []
        for seed in (1, 2):
            g = torch.Generator().manual_seed(seed)
            inputs = [module_input(p.graph, io, n, s, g) for n, s in io["inputs"].items()]
            calls.append((f"forward {seed}", lambda traced, inputs=inputs: model.forward(*model.to_device(*inputs), traced=traced)))
        check_replays(ttnn, model, calls, traces_after_warmup=1)
        check_close(ttnn, model, lambda: calls[0][1](True))
    return files


def test_pairformer_layer_replays_its_trace_with_new_inputs():
    run_pairformer()


def test_pairformer_replay_without_the_input_copy_fails():
    with pytest.raises(AssertionError, match="traced differs from untraced"):
        run_pairformer(no_input_copy)


def test_pairformer_trace_captured_before_the_weights_load_fails():
    with pytest.raises(AssertionError, match="traced differs from untraced"):
        run_pairformer(reload_after_warmup=True)
