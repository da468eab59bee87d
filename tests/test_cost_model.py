"""Cost model, chooser and ttnn auto-config: hand-computed small cases and the calibration goals."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from tttgen.cost import (
    Coeffs,
    choose_matmul_config,
    enumerate_matmul_configs,
    estimate_matmul,
    estimate_op,
    legality_problems,
    ttnn_auto_config,
)
from tttgen.cost.calibration import CALIBRATION_PATH, load_calibration
from tttgen.cost.choose import MatmulProblem, Storage, _tie_key
from tttgen.cost.cli import cost
from tttgen.cost.model import OP_KINDS
from tttgen.cost.ttnn_auto import matmul_subblock_params
from tttgen.ir.configs import MATMUL_1D, MATMUL_2D, MATMUL_DRAM_SHARDED, MatmulConfig, MatmulShape
from tttgen.spec.device import FIDELITIES
from tttgen.spec.load import load_device

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "reference" / "data"

N150 = load_device("n150")[0]
P150 = load_device("p150")[0]
P150_LEGACY = load_device("p150-legacy-fw")[0]
P100 = load_device("p100")[0]

# Coefficients that switch every fitted effect off, so single terms can be checked by hand.
BARE = Coeffs(
    tile_kblock_cyc=0.0,
    unpack_Bpc=1e12,
    noc_Bpc=1e12,
    reader_Bpc=1e12,
    dram_eff=1.0,
    overlap=0.0,
    dram_sharded_overlap=0.0,
    fixed_ns=0.0,
    kblock_ns=0.0,
    mcast_dest_ns=0.0,
    op_fixed_ns=0.0,
)


def one_tile_2d() -> MatmulConfig:
    return MatmulConfig(
        type=MATMUL_2D,
        in0_block_w=1,
        per_core_M=1,
        per_core_N=1,
        out_subblock_h=1,
        out_subblock_w=1,
        out_block_h=1,
        out_block_w=1,
        grid=(1, 1),
        transpose_mcast=False,
        fuse_batch=True,
    )


# --------------------------------------------------------------------------- cost terms


@pytest.mark.parametrize("device", [N150, P150], ids=["n150", "p150"])
@pytest.mark.parametrize("fidelity", FIDELITIES)
def test_compute_of_one_tile_product_is_cycles_per_tile_over_clock(device, fidelity):
    cost_ = estimate_matmul(
        device,
        MatmulShape(32, 32, 32),
        one_tile_2d(),
        fidelity=fidelity,
        in0_storage="L1",
        in1_storage="l1",
        out_storage="L1",
        coeffs=BARE,
    )
    assert cost_.compute_ns == pytest.approx(device.cycles_per_tile[fidelity] / device.clock_ghz)
    assert cost_.active_cores == 1


def test_compute_scales_with_tile_products_of_the_busiest_core():
    # 2D on 2x2 cores, per core 2x3 output tiles, K = 4 tiles -> 24 tile products per core
    cfg = replace(one_tile_2d(), grid=(2, 2), per_core_M=2, per_core_N=3, out_block_h=2, out_block_w=3)
    cost_ = estimate_matmul(N150, MatmulShape(128, 128, 192), cfg, fidelity="HiFi2", coeffs=BARE)
    assert cost_.active_cores == 4
    assert cost_.compute_ns == pytest.approx(24 * 32 / N150.clock_ghz)


def test_dram_term_is_bytes_over_bandwidth():
    # interleaved reads of in0 (2x4 tiles) and in1 (4x2 tiles); single out block: its write is the
    # tail after the math kernel, so it is counted in dram_bytes but not in the kernel-time term
    cfg = replace(one_tile_2d(), per_core_M=2, per_core_N=2, in0_block_w=4, out_block_h=2, out_block_w=2)
    shape = MatmulShape(64, 128, 64)
    cost_ = estimate_matmul(N150, shape, cfg, in0_dtype="bfloat8_b", fidelity="LoFi", coeffs=BARE)
    read = (8 + 8) * 1088
    assert cost_.dram_bytes == read + 4 * 1088
    assert cost_.dram_ns == pytest.approx(read / N150.dram.interleaved_gbps)
    # memory-bound element-wise op: every byte read and written goes through DRAM
    op = estimate_op(N150, "eltwise", elements=1024 * 640, inputs=2, coeffs=BARE)
    assert op.dram_bytes == 640 * 3 * 2048
    assert op.dram_ns == pytest.approx(640 * 3 * 2048 / N150.dram.interleaved_gbps)
    assert op.binding == "dram"


@pytest.mark.parametrize("tile_h,expected_rows", [(1, 8), (4, 8), (8, 8), (16, 16), (32, 32)])
def test_matrix_engine_processes_at_least_eight_rows(tile_h, expected_rows):
    cost_ = estimate_matmul(
        N150, MatmulShape(32, 32, 32), one_tile_2d(), fidelity="LoFi", in0_tile_h=tile_h, coeffs=BARE
    )
    assert cost_.compute_ns == pytest.approx(16 * expected_rows / 32 / N150.clock_ghz)


def test_decode_rows_cost_a_whole_tile():
    full = estimate_matmul(N150, MatmulShape(32, 32, 32), one_tile_2d(), coeffs=BARE)
    one_row = estimate_matmul(N150, MatmulShape(1, 32, 32), one_tile_2d(), coeffs=BARE)
    assert one_row.compute_ns == full.compute_ns


def test_binding_moves_from_dram_to_compute_as_m_grows():
    bindings = []
    for m in (32, 128, 1024, 4096):
        choice = choose_matmul_config(N150, MatmulShape(m, 4096, 4096), in1_dtype="bfloat8_b", fidelity="HiFi4")
        bindings.append(choice.cost.binding)
    assert bindings[0] == "dram"
    assert bindings[-1] == "compute"


@pytest.mark.parametrize("device,banks", [(N150, 12), (P150, 8), (P100, 7)], ids=["n150", "p150", "p100"])
def test_dram_sharded_computes_on_one_core_per_bank(device, banks):
    shape = MatmulShape(32, 4096, 6144)  # Nt = 192
    cfg = MatmulConfig(type=MATMUL_DRAM_SHARDED, in0_block_w=4, per_core_M=1, per_core_N=6)
    cost_ = estimate_matmul(
        device,
        shape,
        cfg,
        in1_dtype="bfloat8_b",
        fidelity="LoFi",
        in0_storage="sharded",
        in1_storage="dram_sharded",
        out_storage="sharded",
        coeffs=BARE,
    )
    per_bank = -(-192 // banks)
    assert cost_.active_cores == -(-192 // per_bank)
    assert cost_.compute_ns == pytest.approx(per_bank * 128 * 16 / device.clock_ghz)
    weight = cost_.active_cores * per_bank * 128 * 1088
    assert cost_.dram_bytes == weight
    assert cost_.dram_ns == pytest.approx(weight / device.dram.sharded_gbps)


def test_more_dram_banks_read_the_weight_faster():
    shape = MatmulShape(32, 4096, 14336)
    kw = dict(
        in1_dtype="bfloat4_b", fidelity="LoFi", in0_storage="sharded", in1_storage="dram_sharded", out_storage="sharded"
    )
    cfg = MatmulConfig(type=MATMUL_DRAM_SHARDED, in0_block_w=4, per_core_M=1, per_core_N=14)
    assert (
        estimate_matmul(N150, shape, cfg, **kw).compute_ns
        < estimate_matmul(replace_banks(N150, 6), shape, cfg, **kw).compute_ns
    )


def replace_banks(device, banks):
    return device.model_copy(update={"dram": device.dram.model_copy(update={"banks": banks})})


def test_traced_overhead_is_smaller_than_untraced():
    shape = MatmulShape(256, 256, 256)
    cfg = ttnn_auto_config(N150, shape)
    traced = estimate_matmul(N150, shape, cfg, traced=True)
    untraced = estimate_matmul(N150, shape, cfg, traced=False)
    assert traced.overhead_ns < untraced.overhead_ns
    assert traced.total_ns < untraced.total_ns
    assert traced.device_ns == untraced.device_ns
    assert traced.total_ns == pytest.approx(traced.device_ns + N150.op_gap.traced_ns)


def test_small_subblocks_cost_more_compute():
    shape = MatmulShape(256, 1024, 256)
    base = replace(one_tile_2d(), per_core_M=8, per_core_N=8, in0_block_w=8, out_block_h=8, out_block_w=8)
    big = estimate_matmul(N150, shape, replace(base, out_subblock_h=2, out_subblock_w=4), fidelity="LoFi")
    small = estimate_matmul(N150, shape, replace(base, out_subblock_h=1, out_subblock_w=1), fidelity="LoFi")
    assert small.compute_ns > big.compute_ns


def test_narrow_in0_block_costs_more_than_wide():
    shape = MatmulShape(256, 2048, 256)
    base = replace(
        one_tile_2d(),
        grid=(1, 1),
        per_core_M=8,
        per_core_N=8,
        out_block_h=8,
        out_block_w=8,
        out_subblock_h=2,
        out_subblock_w=4,
    )
    wide = estimate_matmul(N150, shape, replace(base, in0_block_w=8), in0_storage="L1", in1_storage="l1")
    narrow = estimate_matmul(N150, shape, replace(base, in0_block_w=1), in0_storage="L1", in1_storage="l1")
    assert narrow.device_ns > wide.device_ns


def test_one_estimate_is_fast():
    shape = MatmulShape(2048, 4096, 14336)
    cfg = ttnn_auto_config(N150, shape, in1_dtype="bfloat8_b")
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        estimate_matmul(N150, shape, cfg, in1_dtype="bfloat8_b", fidelity="HiFi2")
    per_call = (time.perf_counter() - start) / n
    assert per_call < 50e-6


def test_estimates_are_deterministic():
    shape = MatmulShape(1000, 3000, 5000)
    cfg = ttnn_auto_config(P150, shape)
    assert estimate_matmul(P150, shape, cfg) == estimate_matmul(P150, shape, cfg)


# --------------------------------------------------------------------------- other ops


@pytest.mark.parametrize(
    "kind,facts",
    [
        ("rms_norm", dict(rows=32, dim=4096, storage="sharded", cores=32)),
        ("rms_norm", dict(rows=2048, dim=4096)),
        ("sdpa_prefill", dict(heads=32, kv_heads=8, seq=2048, head_dim=128)),
        ("sdpa_decode", dict(batch=32, heads=32, kv_heads=8, kv_len=4096, head_dim=128)),
        ("eltwise", dict(elements=32 * 14336, op="mul", storage="sharded", cores=64)),
        ("reshard", dict(bytes=2 * 32 * 4096 * 2, src="sharded", dst="sharded", cores=32)),
        ("typecast", dict(bytes_in=2048 * 1024 * 2, bytes_out=2048 * 1024 * 1.0625)),
        ("concat_heads", dict(bytes=2 * 32 * 4096 * 2, src="l1")),
        ("create_heads", dict(bytes=2 * 32 * 6144 * 2, src="l1")),
        ("rotary", dict(bytes=2 * 32 * 32 * 128 * 2, src="sharded")),
        ("cache_update", dict(bytes=2 * 32 * 8 * 128 * 2)),
        ("cache_fill", dict(bytes=2 * 2048 * 8 * 128 * 2)),
        ("embedding", dict(bytes_in=32 * 4096 * 2, bytes_out=32 * 4096 * 2)),
    ],
)
def test_every_op_kind_has_an_estimate(kind, facts):
    c = estimate_op(N150, kind, **facts)
    assert kind in OP_KINDS
    assert c.device_ns >= load_calibration().coeffs("wormhole_b0").op_fixed_ns
    assert c.total_ns > c.device_ns
    assert c.binding in ("compute", "dram", "noc", "overhead")


def test_sdpa_decode_reads_the_kv_cache_once():
    c = estimate_op(
        N150,
        "sdpa_decode",
        batch=32,
        heads=32,
        kv_heads=8,
        kv_len=8192,
        head_dim=128,
        kv_dtype="bfloat8_b",
        coeffs=BARE,
    )
    kv = 2 * 32 * 8 * 8192 * 128 * 1088 / 1024
    assert c.dram_bytes == int(kv + 2 * 32 * 32 * 128 * 2)
    assert c.binding == "dram"


def test_unknown_op_facts_are_rejected():
    with pytest.raises(ValueError, match="unknown facts"):
        estimate_op(N150, "eltwise", elements=1024, colour="red")
    with pytest.raises(ValueError, match="unknown op kind"):
        estimate_op(N150, "softmax", elements=1024)


# --------------------------------------------------------------------------- chooser


def _problem(device, shape, in0="DRAM", in1="dram", out="DRAM", dtype="bfloat16"):
    return MatmulProblem(device, shape, dtype, dtype, dtype, Storage.of(in0, in1, out))


@pytest.mark.parametrize(
    "family,shape,storage",
    [
        ("2d", MatmulShape(256, 256, 256), ("DRAM", "dram", "DRAM")),
        ("2d", MatmulShape(512, 1024, 1024), ("sharded", "dram", "sharded")),
        ("1d_in0", MatmulShape(32, 256, 2048), ("DRAM", "dram", "DRAM")),
        ("1d_in0", MatmulShape(32, 1024, 2048), ("sharded", "dram", "sharded")),
        ("1d_in1", MatmulShape(2048, 256, 32), ("DRAM", "dram", "DRAM")),
        ("dram_sharded", MatmulShape(32, 4096, 6144), ("sharded", "dram_sharded", "sharded")),
    ],
)
def test_chooser_returns_a_legal_config_per_family(family, shape, storage):
    in0, in1, out = storage
    choice = choose_matmul_config(
        N150, shape, fidelity="HiFi2", in0_storage=in0, in1_storage=in1, out_storage=out, families=(family,)
    )
    cfg = choice.config
    problem = _problem(N150, shape, in0, in1, out)
    assert legality_problems(problem, cfg) == []
    assert choice.l1_bytes <= N150.usable_l1_bytes
    assert choice.layout["family"] == family
    if family == "2d":
        assert cfg.type == MATMUL_2D
        assert -(-shape.nt // cfg.per_core_N) <= cfg.grid[0] and -(-shape.mt // cfg.per_core_M) <= cfg.grid[1]
    elif family == "1d_in0":
        assert cfg.type == MATMUL_1D and cfg.mcast_in0 and cfg.per_core_M == shape.mt
    elif family == "1d_in1":
        assert cfg.type == MATMUL_1D and cfg.mcast_in0 is False and cfg.per_core_N == shape.nt
    else:
        assert cfg.type == MATMUL_DRAM_SHARDED and cfg.per_core_M == 1
        cores = choice.layout["cores"]
        assert cores * cfg.per_core_N == shape.nt and shape.kt % cores == 0
        assert (shape.kt // cores) % cfg.in0_block_w == 0


def test_chooser_picks_dram_sharded_for_wormhole_decode():
    choice = choose_matmul_config(
        N150,
        MatmulShape(32, 4096, 6144),
        in1_dtype="bfloat8_b",
        fidelity="HiFi2",
        in0_storage="sharded",
        in1_storage="dram_sharded",
        out_storage="sharded",
    )
    assert choice.config.type == MATMUL_DRAM_SHARDED
    assert choice.cost.binding == "dram"


def test_chooser_beats_or_matches_ttnn_default():
    for shape in (MatmulShape(512, 1024, 1024), MatmulShape(2048, 2048, 2048), MatmulShape(128, 4096, 4096)):
        auto = ttnn_auto_config(N150, shape)
        auto_ns = estimate_matmul(N150, shape, auto).total_ns
        assert choose_matmul_config(N150, shape).cost.total_ns <= auto_ns


def test_chooser_is_deterministic_and_breaks_ties_by_family_then_cores():
    shape = MatmulShape(32, 32, 32)
    first = choose_matmul_config(N150, shape)
    second = choose_matmul_config(N150, shape)
    assert first.config == second.config
    assert [a.config for a in first.alternatives] == [a.config for a in second.alternatives]
    c2d = MatmulConfig(type=MATMUL_2D, in0_block_w=1, per_core_M=1, per_core_N=1, grid=(1, 1))
    c1d = MatmulConfig(type=MATMUL_1D, in0_block_w=1, per_core_M=1, per_core_N=1, grid=(1, 1), mcast_in0=True)
    same = estimate_matmul(N150, shape, one_tile_2d())
    assert _tie_key(c2d, same) < _tie_key(c1d, same)
    more_cores = replace(same, active_cores=same.active_cores + 1)
    assert _tie_key(c2d, same) < _tie_key(c2d, more_cores)


def test_chooser_never_exceeds_l1():
    problem = _problem(N150, MatmulShape(2048, 4096, 4096), "sharded", "dram", "sharded")
    seen = 0
    for cfg, size in enumerate_matmul_configs(problem):
        assert size <= N150.usable_l1_bytes
        assert problem.l1_bytes(cfg) == size
        seen += 1
    assert seen > 0


def test_chooser_uses_callbacks():
    shape = MatmulShape(1024, 1024, 1024)
    small_grid = choose_matmul_config(
        N150, shape, is_legal=lambda c: c.grid is not None and c.grid[0] <= 4 and c.grid[1] <= 4
    )
    assert small_grid.config.grid[0] <= 4 and small_grid.config.grid[1] <= 4
    tight = choose_matmul_config(N150, shape, l1_bytes=lambda c: 10**9 if (c.out_block_h or 0) > 2 else 1)
    assert (tight.config.out_block_h or 0) <= 2
    with pytest.raises(ValueError, match="no legal matmul config"):
        choose_matmul_config(N150, shape, is_legal=lambda c: False)


# --------------------------------------------------------------------------- ttnn auto-config


def test_auto_config_short_m_goes_1d_mcast_in0():
    # Mt = 16 fits one 16x16 block row: single-row block grid -> 1D mcast_in0 on the device grid
    cfg = ttnn_auto_config(N150, MatmulShape(512, 1024, 1024))
    assert (cfg.type, cfg.mcast_in0, cfg.grid) == (MATMUL_1D, True, (8, 8))
    assert (cfg.per_core_M, cfg.per_core_N, cfg.in0_block_w) == (16, 1, 2)
    assert (cfg.out_subblock_h, cfg.out_subblock_w) == (8, 1)


def test_auto_config_square_goes_2d_full_grid():
    cfg = ttnn_auto_config(N150, MatmulShape(1024, 1024, 1024))
    assert (cfg.type, cfg.grid, cfg.fuse_batch) == (MATMUL_2D, (8, 8), False)
    assert (cfg.per_core_M, cfg.per_core_N, cfg.in0_block_w) == (4, 4, 4)  # in0_block_w = Kt / grid.x
    assert (cfg.out_subblock_h, cfg.out_subblock_w) == (4, 2)


def test_auto_config_shrinks_out_blocks_to_fit_l1():
    cfg = ttnn_auto_config(N150, MatmulShape(4096, 4096, 4096))
    assert (cfg.per_core_M, cfg.per_core_N, cfg.in0_block_w) == (16, 16, 16)
    assert (cfg.out_block_h, cfg.out_block_w) == (8, 8)
    problem = _problem(N150, MatmulShape(4096, 4096, 4096))
    assert problem.l1_bytes(cfg) <= N150.usable_l1_bytes


def test_auto_config_narrow_shapes():
    wide = ttnn_auto_config(N150, MatmulShape(32, 4096, 4096))
    assert (wide.type, wide.mcast_in0, wide.per_core_M, wide.per_core_N) == (MATMUL_1D, True, 1, 2)
    tall = ttnn_auto_config(N150, MatmulShape(4096, 4096, 32))
    assert (tall.type, tall.mcast_in0, tall.per_core_M, tall.per_core_N) == (MATMUL_1D, False, 2, 1)


def test_auto_config_sharded_activation():
    width = ttnn_auto_config(N150, MatmulShape(32, 4096, 4096), in0_sharded="WIDTH", in0_shard_grid=(8, 4))
    assert (width.type, width.mcast_in0, width.per_core_M) == (MATMUL_1D, True, 1)
    assert width.per_core_N == 4 and width.in0_block_w == 4  # gcd(shard width 4 tiles, Kt 128)
    height = ttnn_auto_config(N150, MatmulShape(2048, 1024, 256), in0_sharded="HEIGHT")
    assert (height.type, height.mcast_in0, height.per_core_M, height.per_core_N) == (MATMUL_1D, False, 1, 8)
    assert height.in0_block_w == 32
    block = ttnn_auto_config(N150, MatmulShape(1024, 1024, 1024), in0_sharded="BLOCK")
    assert (block.type, block.per_core_M, block.per_core_N, block.in0_block_w) == (MATMUL_2D, 4, 4, 4)


def test_subblock_choice_table_order():
    assert matmul_subblock_params(4, 4, False, False, False) == (4, 2)
    assert matmul_subblock_params(4, 4, False, False, True) == (2, 2)  # fp32 acc: area <= 4
    assert matmul_subblock_params(3, 5, False, False, False) == (1, 5)  # area 5 comes before (3, 1)
    assert matmul_subblock_params(2, 6, False, True, False) == (1, 6)  # sharded out: w == per_core_N


# --------------------------------------------------------------------------- calibration


@pytest.mark.skipif(not (DATA / "gemm_measured_calibration.csv").exists(), reason="reference data absent")
def test_committed_calibration_meets_the_goals():
    pytest.importorskip("numpy")  # the calibration script fits with numpy (not a runtime dependency)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import calibrate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    cases = calibrate.load_cases(DATA)
    scores = calibrate.score_committed(cases, CALIBRATION_PATH)
    assert set(scores) == {"n150", "p150-legacy-fw"}
    for name, s in scores.items():
        assert s["median"] <= calibrate.GOAL_MEDIAN, (name, s)
        assert s["p90"] <= calibrate.GOAL_P90, (name, s)
    recorded = load_calibration().provenance["scores"]
    for name, s in recorded.items():
        assert s["cross_validated"]["median"] <= calibrate.GOAL_MEDIAN, name
        assert s["cross_validated"]["p90"] <= calibrate.GOAL_P90, name


def test_calibration_file_has_every_coefficient():
    calib = load_calibration()
    for arch in ("wormhole_b0", "blackhole"):
        assert arch in calib.per_arch
    assert calib.coeffs("grayskull") == calib.per_arch["wormhole_b0"]


# --------------------------------------------------------------------------- CLI


def test_cli_matmul_json():
    result = CliRunner().invoke(
        cost,
        [
            "matmul",
            "--device",
            "n150",
            "--m",
            "512",
            "--k",
            "1024",
            "--n",
            "1024",
            "--dtype",
            "bf16",
            "--fidelity",
            "HiFi2",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["device_time_ns"] > 0
    assert doc["program_config"]["type"].startswith("MatmulMultiCore")
    assert "in0_block_w" in doc["program_config"]
    assert doc["binding"] in ("compute", "dram", "noc", "overhead")
    assert set(doc["terms"]) == {"compute_ns", "dram_ns", "noc_ns", "overhead_ns"}


def test_cli_matmul_text_and_bad_device():
    runner = CliRunner()
    ok = runner.invoke(
        cost,
        [
            "matmul",
            "--device",
            "p150",
            "--m",
            "32",
            "--k",
            "4096",
            "--n",
            "6144",
            "--dtype",
            "bfloat8_b",
            "--storage",
            "sharded",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "predicted device time" in ok.output
    bad = runner.invoke(cost, ["matmul", "--device", "nope", "--m", "32", "--k", "32", "--n", "32"])
    assert bad.exit_code == 2
    assert "unknown device" in bad.output
