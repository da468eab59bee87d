"""Tests for the real-ttnn-API check (tttgen.apicheck + the committed 0.81.1 snapshot)."""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest

from tttgen.apicheck import ApiFinding, TtnnApi, check_source, check_tree, introspect_module, load_api

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "tttgen" / "data" / "ttnn_api" / "0.81.1.json"
WHEEL_NAME = "ttnn-0.81.1-cp312-cp312-manylinux_2_34_x86_64.whl"


@pytest.fixture(scope="module")
def api() -> TtnnApi:
    return load_api("0.81.1", use_installed=False)


# ---------------------------------------------------------------------------
# the snapshot
# ---------------------------------------------------------------------------


def test_snapshot_loads(api):
    data = json.loads(SNAPSHOT.read_text())
    assert data["ttnn_version"] == "0.81.1"
    assert data["source"]["wheel"] == WHEEL_NAME
    assert len(data["source"]["sha256"]) == 64
    assert api.version == "0.81.1" and api.source == "snapshot"
    assert len(api) > 1500
    assert SNAPSHOT.stat().st_size < 1_500_000


REAL_NAMES = """
ttnn.linear ttnn.matmul ttnn.rms_norm ttnn.layer_norm ttnn.softmax
ttnn.experimental.rotary_embedding_llama ttnn.experimental.nlp_create_qkv_heads_decode
ttnn.experimental.nlp_concat_heads_decode ttnn.experimental.paged_update_cache
ttnn.experimental.nlp_create_qkv_heads ttnn.experimental.nlp_concat_heads ttnn.fill_cache ttnn.update_cache
ttnn.transformer.scaled_dot_product_attention ttnn.transformer.scaled_dot_product_attention_decode
ttnn.transformer.paged_scaled_dot_product_attention_decode
ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig ttnn.MatmulMultiCoreReuseMultiCastProgramConfig
ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig ttnn.MatmulMultiCoreReuseProgramConfig
ttnn.WormholeComputeKernelConfig ttnn.SDPAProgramConfig ttnn.LayerNormShardedMultiCoreProgramConfig
ttnn.create_sharded_memory_config ttnn.ShardSpec ttnn.CoreRange ttnn.CoreRangeSet ttnn.CoreCoord ttnn.CoreGrid
ttnn.MemoryConfig ttnn.as_tensor ttnn.from_torch ttnn.to_torch ttnn.embedding ttnn.mul ttnn.multiply ttnn.add
ttnn.typecast ttnn.reshape ttnn.slice ttnn.to_memory_config ttnn.sharded_to_interleaved ttnn.interleaved_to_sharded
ttnn.deallocate ttnn.open_device ttnn.close_device ttnn.TILE_LAYOUT ttnn.ROW_MAJOR_LAYOUT
ttnn.bfloat16 ttnn.bfloat8_b ttnn.bfloat4_b ttnn.uint32 ttnn.int32 ttnn.float32
ttnn.DRAM_MEMORY_CONFIG ttnn.L1_MEMORY_CONFIG ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG
ttnn.UnaryOpType.SILU ttnn.MathFidelity.HiFi2 ttnn.MathFidelity.HiFi4 ttnn.MathFidelity.LoFi
ttnn.TensorMemoryLayout.WIDTH_SHARDED ttnn.TensorMemoryLayout.HEIGHT_SHARDED ttnn.TensorMemoryLayout.INTERLEAVED
ttnn.BufferType.L1 ttnn.BufferType.DRAM ttnn.ShardOrientation.ROW_MAJOR ttnn.ShardStrategy.HEIGHT
ttnn.Layout.TILE ttnn.DataType.BFLOAT16 ttnn.Tensor ttnn.Shape ttnn.UnaryWithParam ttnn.DispatchCoreConfig
ttnn.ShardTensorToMesh ttnn.ReplicateTensorToMesh ttnn.ConcatMeshToTensor ttnn.experimental
""".split()


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_exist(api, name):
    assert api.has(name), name


@pytest.mark.parametrize(
    "name",
    [
        "ttnn.GrayskullComputeKernelConfig",
        "ttnn.made_up_op",
        "ttnn.experimental.made_up_op",
        "ttnn.UnaryOpType.NOT_A_MEMBER",
        "ttnn.MathFidelity.HiFi5",
        "ttnn.scaled_dot_product_attention",  # lives in ttnn.transformer
        "tttnn.linear",
    ],
)
def test_absent_names(api, name):
    assert not api.has(name)


EXPECTED_KWARGS = {
    "ttnn.linear": {
        "program_config",
        "memory_config",
        "dtype",
        "compute_kernel_config",
        "bias",
        "activation",
        "core_grid",
    },
    "ttnn.matmul": {"program_config", "memory_config", "dtype", "compute_kernel_config", "core_grid"},
    "ttnn.rms_norm": {
        "epsilon",
        "weight",
        "bias",
        "residual_input_tensor",
        "memory_config",
        "program_config",
        "compute_kernel_config",
    },
    "ttnn.mul": {"input_tensor_a_activations", "dtype", "memory_config"},
    "ttnn.experimental.paged_update_cache": {"update_idxs_tensor", "update_idxs", "page_table", "batch_offset"},
    "ttnn.transformer.scaled_dot_product_attention_decode": {
        "cur_pos_tensor",
        "cur_pos",
        "scale",
        "program_config",
        "compute_kernel_config",
        "memory_config",
        "sliding_window_size",
    },
    "ttnn.experimental.rotary_embedding_llama": {"is_decode_mode", "memory_config", "compute_kernel_config"},
    "ttnn.experimental.nlp_create_qkv_heads": {"transpose_k_heads", "num_heads", "num_kv_heads", "memory_config"},
    "ttnn.experimental.nlp_create_qkv_heads_decode": {
        "num_heads",
        "num_kv_heads",
        "memory_config",
        "overlap_qk_coregrid",
        "batch_offset",
        "slice_size",
    },
    "ttnn.as_tensor": {"cache_file_name", "dtype", "layout", "device", "memory_config", "mesh_mapper"},
    "ttnn.from_torch": {"dtype", "layout", "device", "memory_config", "mesh_mapper"},
    "ttnn.create_sharded_memory_config": {
        "shape",
        "core_grid",
        "strategy",
        "orientation",
        "use_height_and_width_as_shard_shape",
    },
    "ttnn.embedding": {"layout", "dtype", "memory_config", "padding_idx"},
    "ttnn.open_device": {"device_id", "l1_small_size", "trace_region_size", "dispatch_core_config"},
    "ttnn.slice": {"memory_config"},
    "ttnn.fill_cache": {"batch_idx"},
    "ttnn.to_memory_config": {"memory_config", "dtype"},
    # class constructors
    "ttnn.WormholeComputeKernelConfig": {
        "math_fidelity",
        "math_approx_mode",
        "fp32_dest_acc_en",
        "packer_l1_acc",
        "dst_full_sync_en",
    },
    "ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig": {
        "compute_with_storage_grid_size",
        "in0_block_w",
        "out_subblock_h",
        "out_subblock_w",
        "out_block_h",
        "out_block_w",
        "per_core_M",
        "per_core_N",
        "fuse_batch",
        "fused_activation",
        "mcast_in0",
    },
    "ttnn.MatmulMultiCoreReuseMultiCastProgramConfig": {
        "compute_with_storage_grid_size",
        "in0_block_w",
        "out_subblock_h",
        "out_subblock_w",
        "out_block_h",
        "out_block_w",
        "per_core_M",
        "per_core_N",
        "transpose_mcast",
        "fused_activation",
        "fuse_batch",
    },
    "ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig": {
        "in0_block_w",
        "per_core_M",
        "per_core_N",
        "fused_activation",
    },
    "ttnn.SDPAProgramConfig": {"compute_with_storage_grid_size", "q_chunk_size", "k_chunk_size", "exp_approx_mode"},
    "ttnn.LayerNormShardedMultiCoreProgramConfig": {
        "compute_with_storage_grid_size",
        "subblock_w",
        "block_h",
        "block_w",
        "inplace",
    },
    "ttnn.CoreGrid": {"x", "y"},
    "ttnn.ShardSpec": {"grid", "shard_shape", "shard_orientation"},
    "ttnn.MemoryConfig": {"memory_layout", "buffer_type", "shard_spec"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_KWARGS))
def test_real_keywords(api, name):
    kw = api.keywords(name)
    assert kw is not None, f"{name}: keywords unknown"
    missing = EXPECTED_KWARGS[name] - kw
    assert not missing, f"{name} lacks {sorted(missing)}"


def test_keywords_absent_and_unknown(api):
    assert "made_up_kwarg" not in api.keywords("ttnn.linear")
    assert api.keywords("ttnn.bfloat16") is None  # a value, not callable
    assert api.keywords("ttnn.not_there") is None
    assert api.keywords("ttnn_jit.jit") == frozenset(
        {
            "compile_only",
            "debug",
            "enable_cache",
            "math_fidelity",
            "memory_config",
            "fallback",
            "extra_pipeline_options",
        }
    )


def test_class_members_and_enum_members(api):
    assert api.has("ttnn.MatmulMultiCoreReuseMultiCastProgramConfig.per_core_M")
    assert api.has("ttnn.CoreGrid.num_cores")
    assert not api.has("ttnn.CoreGrid.made_up_member")
    assert api.has("ttnn.MathFidelity.HiFi2.name")  # attributes of enum values are not described
    assert api.has("ttnn.DRAM_MEMORY_CONFIG.buffer_type")


# ---------------------------------------------------------------------------
# checking code
# ---------------------------------------------------------------------------

GOOD = """\
import ttnn
import ttnn_jit
from ttnn import linear as lin


@ttnn_jit.jit(debug=True, math_fidelity=ttnn.MathFidelity.HiFi4)
def block(x, w, pos, keys, cos, sin, trans, grid):
    cfg = ttnn.WormholeComputeKernelConfig(
        math_fidelity=ttnn.MathFidelity.HiFi2, math_approx_mode=False, fp32_dest_acc_en=True,
        packer_l1_acc=True, dst_full_sync_en=False,
    )
    pc = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        in0_block_w=4, per_core_M=1, per_core_N=4, fused_activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU))
    y = ttnn.linear(x, w, program_config=pc, memory_config=ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG,
                    compute_kernel_config=cfg, dtype=ttnn.bfloat8_b)
    y = lin(y, w, bias=None, core_grid=ttnn.CoreGrid(y=4, x=8))
    q, k, v = ttnn.experimental.nlp_create_qkv_heads_decode(y, num_heads=8, num_kv_heads=1,
                                                           memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG)
    q = ttnn.experimental.rotary_embedding_llama(q, cos, sin, trans, is_decode_mode=True)
    ttnn.experimental.paged_update_cache(keys, k, update_idxs_tensor=pos)
    o = ttnn.transformer.scaled_dot_product_attention_decode(q, keys, keys, cur_pos_tensor=pos, scale=0.1)
    o = ttnn.mul(o, y, input_tensor_a_activations=[ttnn.UnaryOpType.SILU], dtype=ttnn.bfloat16)
    ttnn.deallocate(y)
    return ttnn.to_memory_config(o, ttnn.DRAM_MEMORY_CONFIG).shape, ttnn.TensorMemoryLayout.WIDTH_SHARDED
"""

PLANTED = """\
import ttnn
import ttnn_jit


@ttnn_jit.jit(bogus=1)
def block(x, w):
    y = ttnn.made_up_op(x)
    cfg = ttnn.GrayskullComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi2)
    z = ttnn.linear(x, w, made_up_kwarg=1)
    return y, cfg, z
"""


def test_good_code_has_no_findings(api):
    assert check_source(GOOD, "good.py", api) == []


def test_planted_errors_are_caught(api):
    findings = check_source(PLANTED, "gen/model.py", api)
    got = {(f.line, f.message) for f in findings}
    assert got == {
        (5, "ttnn_jit.jit() has no keyword argument 'bogus' in ttnn_jit (tt-mlir)"),
        (7, "ttnn.made_up_op does not exist in ttnn 0.81.1"),
        (8, "ttnn.GrayskullComputeKernelConfig does not exist in ttnn 0.81.1"),
        (9, "ttnn.linear() has no keyword argument 'made_up_kwarg' in ttnn 0.81.1"),
    }
    assert all(f.file == "gen/model.py" for f in findings)
    made_up = next(f for f in findings if "made_up_op" in f.message)
    assert str(made_up) == "gen/model.py:7:9: ttnn.made_up_op does not exist in ttnn 0.81.1"
    assert [f.line for f in findings] == sorted(f.line for f in findings)


def test_import_forms(api):
    src = (
        "import ttnn as tt\n"
        "from ttnn import nope\n"
        "from ttnn.experimental import nlp_concat_heads_decode as concat, also_nope\n"
        "import ttnn.experimental\n"
        "x = tt.made_up(1)\n"
        "y = concat(x, num_heads=8, bad=1)\n"
        "z = tt.transformer.scaled_dot_product_attention(x, x, x, is_causal=True)\n"
        "w = other.made_up(1)\n"
    )
    findings = check_source(src, "m.py", api)
    assert [(f.line, f.message) for f in findings] == [
        (2, "ttnn.nope does not exist in ttnn 0.81.1"),
        (3, "ttnn.experimental.also_nope does not exist in ttnn 0.81.1"),
        (5, "ttnn.made_up does not exist in ttnn 0.81.1"),
        (6, "ttnn.experimental.nlp_concat_heads_decode() has no keyword argument 'bad' in ttnn 0.81.1"),
    ]


def test_unknown_kwargs_accept_anything(api):
    # ops whose keyword names could not be recovered from the binary accept anything
    data = json.loads(SNAPSHOT.read_text())
    unknown = data["stats"]["cpp_ops_with_unknown_kwargs"]
    assert unknown, "expected a few ops with unknown kwargs"
    name = unknown[0]
    assert api.keywords(name) is None
    src = f"import ttnn\n{name}(1, anything_goes=2)\n"
    assert check_source(src, "u.py", api) == []


def test_check_tree_sorted(api, tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.py").write_text("import ttnn\nttnn.nope_b\n")
    (tmp_path / "a.py").write_text("import ttnn\n\nttnn.nope_a()\n")
    (tmp_path / "ok.py").write_text("import ttnn\nttnn.linear\n")
    (tmp_path / "notes.txt").write_text("ttnn.nope_txt")
    findings = check_tree(tmp_path, api)
    assert [(Path(f.file).name, f.line) for f in findings] == [("a.py", 3), ("z.py", 2)]
    assert isinstance(findings[0], ApiFinding)
    with pytest.raises(Exception):
        findings[0].line = 5  # frozen


def test_syntax_error_is_a_finding(api):
    (finding,) = check_source("def f(:\n", "bad.py", api)
    assert finding.file == "bad.py" and "syntax error" in finding.message


def test_extra_modules(api):
    mine = TtnnApi(
        "1.0",
        {"mylib": {"kind": "module"}, "mylib.f": {"kind": "function", "kwargs": ["a"]}},
        labels={"mylib": "mylib 1.0"},
    )
    src = "import mylib\nmylib.f(a=1)\nmylib.f(b=1)\nmylib.g()\n"
    findings = check_source(src, "x.py", api, extra_modules={"mylib": mine})
    assert [f.message for f in findings] == [
        "mylib.f() has no keyword argument 'b' in mylib 1.0",
        "mylib.g does not exist in mylib 1.0",
    ]


# ---------------------------------------------------------------------------
# loading: emulator / real module
# ---------------------------------------------------------------------------


def test_emulator_module_is_not_introspected(monkeypatch):
    fake = types.ModuleType("ttnn")
    fake.__tttgen_emulator__ = True
    monkeypatch.setitem(sys.modules, "ttnn", fake)
    assert load_api("0.81.1").source == "snapshot"


def test_introspection_of_a_module():
    root = types.ModuleType("ttnn")
    exp = types.ModuleType("ttnn.experimental")
    root.experimental = exp

    def linear(input_tensor_a, input_tensor_b, *, bias=None, program_config=None):
        return None

    def op_with_kwargs(x, **kwargs):
        return None

    class NbFunc:  # looks like a nanobind function
        __nb_signature__ = (
            ("def nb_op(input_tensor: ttnn.Tensor, *, memory_config: X | None = None) -> X", None, None),
        )

        def __call__(self, *a, **k):
            return None

    class CoreGrid:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def num_cores(self):
            return self.x * self.y

    class MathFidelity:
        __members__ = {"LoFi": 0, "HiFi2": 2}

    root.linear = linear
    root.op_with_kwargs = op_with_kwargs
    root.nb_op = NbFunc()
    root.CoreGrid = CoreGrid
    root.MathFidelity = MathFidelity
    root.bfloat16 = object()
    root.json = json  # foreign module: skipped
    exp.concat = linear
    entries = introspect_module(root)
    api = TtnnApi("9.9", entries, source="introspection")
    assert api.keywords("ttnn.linear") == frozenset({"input_tensor_a", "input_tensor_b", "bias", "program_config"})
    assert api.keywords("ttnn.op_with_kwargs") is None
    assert api.keywords("ttnn.nb_op") == frozenset({"input_tensor", "memory_config"})
    assert api.keywords("ttnn.CoreGrid") == frozenset({"x", "y"})
    assert api.has("ttnn.CoreGrid.num_cores") and not api.has("ttnn.CoreGrid.nope")
    assert api.has("ttnn.MathFidelity.HiFi2") and not api.has("ttnn.MathFidelity.HiFi3")
    assert api.has("ttnn.experimental.concat") and api.has("ttnn.bfloat16")
    assert not api.has("ttnn.json")


# ---------------------------------------------------------------------------
# the snapshot is reproducible from the wheel
# ---------------------------------------------------------------------------


def _local_wheel() -> Path | None:
    for cand in (Path("/tmp/ttnnwheel") / WHEEL_NAME, _load_script().DEFAULT_CACHE / WHEEL_NAME):
        if cand.is_file():
            return cand
    return None


@functools.lru_cache(maxsize=None)
def _load_script():
    spec = importlib.util.spec_from_file_location("snapshot_ttnn_api", REPO / "scripts" / "snapshot_ttnn_api.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["snapshot_ttnn_api"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_snapshot_reproduces_from_local_wheel():
    wheel = _local_wheel()
    if wheel is None:
        pytest.skip("ttnn 0.81.1 wheel not available locally (run scripts/snapshot_ttnn_api.py to fetch it)")
    script = _load_script()
    committed = SNAPSHOT.read_text()
    sha = script.sha256_file(wheel)
    assert sha == json.loads(committed)["source"]["sha256"] == script.KNOWN_SHA256["0.81.1"]
    text = script.render(script.build_snapshot(wheel, "0.81.1", sha))
    assert text == committed
