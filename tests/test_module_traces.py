"""Issue 24: module packages run their calls as traces over persistent device inputs, with the machinery of the LM
decode step (forward(..., traced=True), the sampler's loop as one trace, warmup(), close() releasing them). On the
emulator, which replays a trace as the device does: the traced outputs equal the untraced ones, and a second call
with new inputs replays the captured trace with them."""

from __future__ import annotations

import pytest
import torch

from tttgen.generate import Request, plan, render_plan

PARAMS = (("in_features", "128"), ("hidden_features", "256"), ("out_features", "128"))


def test_a_module_forward_replays_a_trace_over_persistent_inputs(tmp_path):
    from safetensors.torch import save_file

    from tttgen.checking.verification import emulated, imported_package

    p = plan(Request("mlp", "n150", flags=(("prefill_lens", [128]),), params=PARAMS))
    files = render_plan(p)
    assert "trace_region_size=C.TRACE_REGION_SIZE" in files["model.py"]
    (tmp_path / "pkg").mkdir()
    for name, text in files.items():
        (tmp_path / "pkg" / name).write_text(text)
    g = torch.Generator().manual_seed(0)
    weights = {
        "fc1.weight": torch.randn(256, 128, generator=g) / 12,
        "fc1.bias": torch.randn(256, generator=g) / 10,
        "fc2.weight": torch.randn(128, 256, generator=g) / 16,
        "fc2.bias": torch.randn(128, generator=g) / 10,
    }
    save_file(weights, str(tmp_path / "model.safetensors"))
    with emulated(p.graph.device) as ttnn, imported_package(tmp_path / "pkg", "tttgen_module_traces_mlp") as package:
        model = package.Model.open(str(tmp_path / "model.safetensors"))
        xs = [torch.randn(1, 1, 128, 128, generator=g) for _ in range(3)]
        untraced = [ttnn.to_torch(model.forward(*model.to_device(x))).float() for x in xs]
        model.warmup()
        assert len(model.traces) == 1
        for x, want in zip(xs, untraced):
            got = ttnn.to_torch(model.forward(*model.to_device(x), traced=True)).float()
            assert torch.equal(got, want)
        assert len(model.traces) == 1  # one capture, replayed for each input
        model.close()
        assert model.traces == {}


def test_module_traces_are_decided_and_sized():
    mlp = plan(Request("mlp", "n150")).graph
    assert mlp.facts["module_traces"]["traceable"] is True
    from tttgen.passes.op_costs import TRACE_BYTES_PER_OP, dispatched_ops, trace_region_bytes

    ops = sum(dispatched_ops(mlp, k) for k in mlp.mode_keys())
    assert trace_region_bytes(mlp) >= ops * TRACE_BYTES_PER_OP > 0
    pi0 = plan(Request("pi0", "p150")).graph
    sampler = pi0.facts["sampler"]
    # the sampler's loop is one trace of its mode's ops, count times
    assert trace_region_bytes(pi0) >= sampler["count"] * dispatched_ops(pi0, sampler["mode_key"]) * TRACE_BYTES_PER_OP
    files = render_plan(plan(Request("pi0", "p150")))
    assert 'return self.traced_call("sample_actions"' in files["model.py"]


def test_a_mode_with_host_work_is_not_traced():
    """Planted: a mode that builds rotary tables on the host per call cannot be a trace."""
    from types import SimpleNamespace

    from tttgen.passes.step_state import module_traces

    graph = SimpleNamespace(facts={"functions": [{"mode": "prefill", "body": [{"host": "rotary_tables"}]}]})
    decision = module_traces(graph)
    assert decision["traceable"] is False and "host" in decision["why"]
