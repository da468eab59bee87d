"""Module packages on a mesh, data parallel (issue 23): the parallelism pass records where each design goes (one per
chip, concatenated on host dim 0), the package opens the mesh, replicates its weights, shards the designs with
ShardTensorToMesh and joins the outputs with ConcatMeshToTensor, and the emulator runs it with every chip on its own
design next to the torch reference. Planted bugs (every chip given design 0, the outputs joined on the wrong dim)
fail verify. Kept small: the pairformer layer at n = 64, the Transition at 128 rows."""

import re

import pytest
import torch

from tttgen.errors import UnsupportedTarget
from tttgen.generate import Request, plan, render_plan
from tttgen.checking.verification import emulated, imported_package, reference_module, rendered_files, verify_module

pytest.importorskip("boltz.model.modules.transformersv2", reason="boltz 2.2.1 is installed by `make install`")

PAIRFORMER = ("boltz_pairformer_layer", (("n", "64"),), ())
TRANSITION = ("boltz_transition", (), (("prefill_lens", [128]),))  # one mode: 128 rows
COLLECTIVES = ("all_gather", "reduce_scatter", "all_reduce")


def planned(module, device):
    name, params, flags = module
    return plan(Request(name, device, None, flags, params))


def test_the_pass_places_one_design_per_chip():
    g = planned(PAIRFORMER, "p150x4").graph
    mesh = g.facts["mesh"]
    assert mesh["strategy"] == "data_parallel"
    designs = mesh["designs"]
    assert designs["per_call"] == 4 and designs["dim"] == 0 and designs["fill"] == "last"
    assert designs["chips"] == [[0, 0], [0, 1], [1, 0], [1, 1]]  # design i on chip i, the mesh in row-major order
    assert designs["inputs"] == {"prefill_64": {"s": 0, "z": 0, "mask": 0}}
    assert designs["outputs"] == {"prefill_64": {"s_out": 0, "z_out": 0}}
    assert designs["unsupported"] == []
    assert not g.ops_of(COLLECTIVES)
    assert all(w.decisions["mesh"]["states"] == ("R", "R") for w in g.weights)


def test_the_package_opens_the_mesh_and_shards_the_designs():
    files = render_plan(planned(PAIRFORMER, "t3k"))
    model, configs, readme = files["model.py"], files["configs.py"], files["README.md"]
    assert "ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D_RING)" in model
    assert "ttnn.MeshShape(*C.MESH_SHAPE)" in model and "ttnn.DispatchCoreType.ETH" in model
    assert "ttnn.ShardTensorToMesh(device, dim=0)" in model and "ttnn.ConcatMeshToTensor(device, dim=0)" in model
    assert model.count("mesh_mapper=self.design_mapper") == 3  # s, z, mask
    assert "ttnn.close_mesh_device(self.device)" in model and "ttnn.open_device(" not in model
    assert not any(f"ttnn.{c}(" in model for c in COLLECTIVES)
    assert "MESH_SHAPE = (1, 8)" in configs and "DESIGNS_PER_CALL = 8" in configs and "WEIGHT_SPLITS = {}" in configs
    assert "ttnn.ReplicateTensorToMesh(device)" in files["weights.py"]
    assert "There are no collectives" in readme and "| 7 | (0, 7) |" in readme


def test_module_state_on_a_mesh_is_refused_naming_it():
    """PI0 keeps a KV cache every call reads (its prefix and suffix modes): not one design per chip yet."""
    with pytest.raises(UnsupportedTarget, match="state k_cache"):
        render_plan(plan(Request("pi0", "p150x4")))


def test_pairformer_layer_on_four_chips_matches_boltz_for_each_design():
    """A batch of 4 different designs, one per chip of the 2x2 Blackhole QuietBox: each chip's outputs equal boltz's
    PairformerLayer on its own design."""
    report = verify_module(planned(PAIRFORMER, "p150x4"))
    assert report.designs == 4 and len(report.design_pcc["prefill_64"]) == 4
    assert all(len(row) == 2 for row in report.design_pcc["prefill_64"])
    assert report.passed and not report.api_findings, report.as_dict()


def test_a_per_layer_bias_list_on_a_mesh_matches_boltz_for_each_design():
    """boltz_diffusion_transformer (2 layers) on n300: its per-layer bias list holds one design per chip on dim 0 of
    each layer's tensor (host dim 1 of the stack); each chip's output equals boltz's DiffusionTransformer on its own
    design."""
    p = plan(Request("boltz_diffusion_transformer", "n300", params=(("n", "64"), ("depth", "2"), ("dim", "128"),
                                                                     ("dim_single_cond", "128"), ("heads", "2"))))
    assert p.graph.facts["mesh"]["designs"]["inputs"]["prefill_64"]["bias"] == 1
    report = verify_module(p)
    assert report.designs == 2 and len(report.design_pcc["prefill_64"]) == 2
    assert report.passed and not report.api_findings, report.as_dict()


def planted(pattern, replacement):
    def edit(files):
        model = re.sub(pattern, replacement, files["model.py"])
        assert model != files["model.py"], f"the planted bug {pattern!r} matched nothing"
        return {**files, "model.py": model}

    return edit


def test_every_chip_given_design_0_fails():
    p = planned(TRANSITION, "n300")
    assert verify_module(p).passed
    # to_device hands every chip the first design (x repeated), so chip 1 runs design 0 and is compared with design 1
    first_only = planted(
        r"ttnn\.from_torch\(\s*x,", "ttnn.from_torch(x.narrow(0, 0, 1).repeat(C.DESIGNS_PER_CALL, 1, 1, 1),"
    )
    report = verify_module(p, edit_files=first_only)
    assert not report.passed and report.design_pcc["prefill_128"][0][0] > 0.99
    assert report.design_pcc["prefill_128"][1][0] < 0.5


def test_outputs_joined_on_the_wrong_dim_fail():
    p = planned(TRANSITION, "n300")
    report = verify_module(p, edit_files=planted(r"ConcatMeshToTensor\(device, dim=0\)", "ConcatMeshToTensor(device, dim=2)"))
    assert not report.passed and report.shape_errors
    assert "not 2 designs concatenated on dim 0" in report.shape_errors[0]


def test_forward_batch_runs_any_number_of_designs():
    """5 designs on 4 chips: two rounds, the second filled with copies of design 4 (their outputs dropped); each
    design's output equals boltz's Transition on it; a traced call gives the same. to_device refuses a count other
    than one per chip."""
    from tttgen.checking.verification import pcc

    p = planned(TRANSITION, "p150x4")
    reference = reference_module(p, 0)
    state = {k: v.detach().clone() for k, v in reference.state_dict().items()}
    files = rendered_files(p, None)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device), imported_package(Path(tmp), "tttgen_test_mesh_modules_transition") as package:
            device = package.model.open_mesh(package.configs.TRACE_REGION_SIZE)
            model = package.Model(device, package.weights.load_weights(device, state))
            x = torch.randn(5, 1, 128, 384, generator=torch.Generator().manual_seed(3))
            y = model.forward_batch(x)
            assert list(y.shape) == [5, 1, 128, 384]
            with torch.no_grad():
                for i in range(5):
                    assert pcc(y[i], reference(x[i : i + 1, 0])[0]) > 0.99, i
            with pytest.raises(ValueError, match="to_device takes 4 designs \\(one per chip\\), got 3"):
                model.to_device(x[:3])
            with pytest.raises(ValueError, match="x must be designs of shape \\[1, 1, 128, 384\\]"):
                model.forward_batch(x[:, :, :, :256])
            # a traced call replays on the mesh as on one chip: the same outputs as forward_batch's first round
            traced = model.to_host(model.forward(*model.to_device(x[:4]), traced=True))[0]
            assert torch.equal(traced, y[:4])
            model.close()


def test_forward_tokens_pads_every_design_on_a_mesh():
    """The trunk stack (small dims, 2 blocks, built for 64 tokens) on n300: two designs of 50 tokens each, padded on
    the host to 64 with their masks zero on the padding, one per chip; each design's real tokens match boltz's
    PairformerModule on that design alone."""
    import tempfile
    from pathlib import Path

    from tttgen.checking.verification import pcc

    small = (("n", "64"), ("num_blocks", "2"), ("token_s", "64"), ("token_z", "32"), ("heads", "2"))
    p = plan(Request("boltz_pairformer_module", "n300", params=small))
    reference = reference_module(p, 0)
    state = {k: v.detach().clone() for k, v in reference.state_dict().items()}
    gen = torch.Generator().manual_seed(3)
    s = torch.randn(2, 1, 50, 64, generator=gen) / 16
    z = torch.randn(2, 50, 50, 32, generator=gen) / 16
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in rendered_files(p, None).items():
            (Path(tmp) / name).write_text(text)
        with emulated(p.graph.device), imported_package(Path(tmp), "tttgen_test_mesh_modules_trunk") as package:
            device = package.model.open_mesh(package.configs.TRACE_REGION_SIZE)
            model = package.Model(device, package.weights.load_weights(device, state))
            got_s, got_z = model.forward_tokens(s, z)
    assert list(got_s.shape) == [2, 1, 50, 64] and list(got_z.shape) == [2, 50, 50, 32]
    for i in range(2):
        with torch.no_grad():
            want_s, want_z = reference(s[i], z[i : i + 1], torch.ones(1, 50), torch.ones(1, 50, 50))
        assert pcc(got_s[i].float() - s[i], want_s - s[i]) >= 0.99, i
        assert pcc(got_z[i : i + 1].float() - z[i : i + 1], want_z - z[i : i + 1]) >= 0.99, i
