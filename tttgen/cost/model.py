"""Analytic cost model of ttnn ops on one Tenstorrent chip.

Every hardware number comes from the DeviceProfile; a handful of fitted coefficients
(`tttgen.cost.calibration.Coeffs`, stored in `calibration.yaml`) cover what the profile cannot:
per-K-block overheads, reader/multicast rates, pipelining overlap, fixed program time.
The equations are written out in docs/cost-model.md. Pure Python arithmetic, deterministic;
one `estimate_matmul` call takes about 10 microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import log2

from tttgen.cost.calibration import Coeffs, coeffs_for_arch
from tttgen.cost.l1 import dtype_name
from tttgen.ir.configs import MATMUL_1D, MATMUL_2D, MATMUL_DRAM_SHARDED, MATMUL_REUSE, MatmulConfig, MatmulShape
from tttgen.inputs.device import DeviceProfile

MATMUL_MULTICORE = "MatmulMultiCoreProgramConfig"

BINDINGS = ("compute", "dram", "noc", "overhead")


@dataclass(frozen=True)
class OpCost:
    """Predicted cost of one op. `total_ns` = `device_ns` (kernel time) + `op_gap_ns` (dispatch gap
    to the next op). `overhead_ns` is what does not scale with work: the fixed program time plus the
    op gap. `compute_ns`, `dram_ns` and `noc_ns` are the unoverlapped terms of the busiest core;
    `binding` names the largest of the four. `utilization` is FLOPs over the whole grid's peak at
    the op's fidelity during `device_ns` (0 for ops without matrix-engine work)."""

    total_ns: float
    compute_ns: float
    dram_ns: float
    noc_ns: float
    overhead_ns: float
    binding: str
    active_cores: int
    utilization: float
    dram_bytes: int
    device_ns: float = 0.0
    op_gap_ns: float = 0.0


_IN0 = {"dram": "dram", "l1": "l1", "sharded": "sharded", "l1_sharded": "sharded"}
_IN1 = {"dram": "dram", "dram_sharded": "dram_sharded", "l1": "l1", "sharded": "l1", "l1_sharded": "l1"}
_OUT = {"dram": "dram", "l1": "l1", "sharded": "sharded", "l1_sharded": "sharded"}


def _norm(value: str, table: dict[str, str], what: str) -> str:
    try:
        return table[value.lower()]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}; expected one of {sorted(table)}") from None


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _pick_binding(compute: float, dram: float, noc: float, overhead: float) -> str:
    best = "compute"
    top = compute
    if dram > top:
        best, top = "dram", dram
    if noc > top:
        best, top = "noc", noc
    if overhead > top:
        best = "overhead"
    return best


def _dst_limit(device: DeviceProfile, fp32_dest_acc_en: bool) -> int:
    return device.dst_limit(fp32_dest_acc_en, False)


def estimate_matmul(
    device: DeviceProfile,
    shape: MatmulShape,
    config: MatmulConfig,
    *,
    in0_dtype: str = "bfloat16",
    in1_dtype: str | None = None,
    out_dtype: str | None = None,
    fidelity: str = "HiFi2",
    in0_storage: str = "DRAM",
    in1_storage: str = "dram",
    out_storage: str = "DRAM",
    traced: bool = True,
    fp32_dest_acc_en: bool = False,
    in0_tile_h: int = 32,
    coeffs: Coeffs | None = None,
) -> OpCost:
    """Predicted time of `ttnn.matmul` with `config` (any of the 2D / 1D / DRAM-sharded / Reuse
    families, or "MatmulMultiCoreProgramConfig").

    in0_storage: "DRAM" (interleaved) | "L1" (interleaved) | "sharded" (L1, laid out as the config
    expects); in1_storage: "dram" | "dram_sharded" | "l1"; out_storage: "DRAM" | "L1" | "sharded".
    `in0_tile_h` < 32 models tiny tiles: the matrix engine still processes max(tile_h, 8) rows.
    """
    c = coeffs if coeffs is not None else coeffs_for_arch(device.arch)
    s0 = _norm(in0_storage, _IN0, "in0_storage")
    s1 = _norm(in1_storage, _IN1, "in1_storage")
    so = _norm(out_storage, _OUT, "out_storage")
    tiles = device.tile_bytes
    ta = tiles[dtype_name(in0_dtype)]
    tb = tiles[dtype_name(in1_dtype)] if in1_dtype else ta
    to = tiles[dtype_name(out_dtype)] if out_dtype else ta
    clk = device.clock_ghz
    cpt = device.cycles_per_tile[fidelity]
    rows = in0_tile_h if in0_tile_h > device.min_matmul_rows else device.min_matmul_rows
    rows_factor = rows / 32.0 if rows < 32 else 1.0

    mt, kt, nt = shape.mt, shape.kt, shape.nt
    kind = config.type
    # fuse_batch=False (2D or 1D) loops over A's batch with the same per-core blocks: each batch is one
    # pass of the whole kernel. The DRAM-sharded family has no fuse_batch field (M is one tile).
    fuse = config.fuse_batch is not False or shape.batch == 1 or kind == MATMUL_DRAM_SHARDED
    if fuse:
        m_all, loops = shape.batch * mt, 1
    else:
        m_all, loops = mt, shape.batch
    gx, gy = config.grid if config.grid is not None else (device.grid.x, device.grid.y)

    pcm = config.per_core_M
    pcn = config.per_core_N
    ibw = config.in0_block_w if config.in0_block_w > 0 else 1
    obh = config.out_block_h or pcm
    obw = config.out_block_w or pcn
    sbh = config.out_subblock_h or 1
    sbw = config.out_subblock_w or 1
    nobh = _cdiv(pcm, obh)
    nobw = _cdiv(pcn, obw)

    # Per-operand byte counts. recv: bytes of the operand that arrive at the busiest core over the
    # NoC (multicast or its own reads); read: bytes the busiest reader core pulls from DRAM or L1
    # banks; mcast: bytes one sender multicasts (it reads, then forwards, serially).
    recv0 = recv1 = 0.0
    read0 = read1 = 0.0
    mcast0 = mcast1 = 0.0
    dram_il = 0  # DRAM bytes through interleaved readers/writers
    dram_sh = 0  # DRAM bytes through bank-adjacent (DRAM-sharded) readers
    nkb = _cdiv(kt, ibw)
    blocks = nkb * nobh * nobw  # K blocks the busiest core walks through
    k_bytes_a = kt * ta
    k_bytes_b = kt * tb

    if kind == MATMUL_2D:
        bx = _cdiv(nt, pcn)
        by = _cdiv(m_all, pcm)
        cores = bx * by
        tiles_out = pcm * pcn
        in0_bytes = pcm * k_bytes_a * nobw
        in1_bytes = pcn * k_bytes_b * nobh
        if s0 != "sharded":
            read0 = in0_bytes
            if s0 == "dram":
                dram_il += m_all * k_bytes_a * nobw
        if bx > 1:
            mcast0 = in0_bytes
        if s0 != "sharded" or bx > 1:
            recv0 = in0_bytes
        if s1 != "l1":
            dram_il += nt * k_bytes_b * nobh
        read1 = recv1 = in1_bytes
        if by > 1:
            mcast1 = in1_bytes
    elif kind == MATMUL_1D:
        cores = _cdiv(nt, pcn) * _cdiv(m_all, pcm)
        tiles_out = pcm * pcn
        in0_bytes = pcm * k_bytes_a * nobw
        in1_bytes = pcn * k_bytes_b * nobh
        if config.mcast_in0 is not False:
            if s0 != "sharded":
                read0 = in0_bytes
                if s0 == "dram":
                    dram_il += m_all * k_bytes_a * nobw
            if cores > 1:
                mcast0 = in0_bytes
            recv0 = in0_bytes
            read1 = recv1 = in1_bytes
            if s1 != "l1":
                dram_il += nt * k_bytes_b * nobh
        else:
            read1 = recv1 = in1_bytes
            if s1 != "l1":
                dram_il += nt * k_bytes_b * nobh
            if cores > 1:
                mcast1 = in1_bytes
            if s0 != "sharded":
                read0 = recv0 = in0_bytes
                if s0 == "dram":
                    dram_il += m_all * k_bytes_a * nobw
    elif kind == MATMUL_DRAM_SHARDED:
        banks = device.dram.banks
        pcn = _cdiv(nt, banks)  # compute width per bank-adjacent core
        cores = _cdiv(nt, pcn)
        limit = _dst_limit(device, fp32_dest_acc_en)
        sbw = 1
        for w in range(min(limit, pcn), 0, -1):
            if pcn % w == 0:
                sbw = w
                break
        sbh = 1
        tiles_out = pcm * pcn
        blocks = nkb
        in1_bytes = pcn * k_bytes_b
        recv1 = in1_bytes
        if s1 == "dram_sharded":
            dram_sh += cores * in1_bytes
        else:
            read1 = in1_bytes
            if s1 == "dram":
                dram_il += cores * in1_bytes
        recv0 = mcast0 = pcm * k_bytes_a  # the width-sharded activation is gathered by every core
        if s0 != "sharded":
            read0 = pcm * k_bytes_a
            if s0 == "dram":
                dram_il += m_all * k_bytes_a
    elif kind == MATMUL_REUSE:
        grid_cores = gx * gy
        nblocks = _cdiv(m_all, pcm) * _cdiv(nt, pcn) * loops
        loops = 1
        per_core = _cdiv(nblocks, grid_cores)
        cores = nblocks if nblocks < grid_cores else grid_cores
        tiles_out = per_core * pcm * pcn
        blocks = per_core * nkb
        read0 = recv0 = per_core * pcm * k_bytes_a
        read1 = recv1 = per_core * pcn * k_bytes_b
        if s0 == "dram":
            dram_il += nblocks * pcm * k_bytes_a
        if s1 != "l1":
            dram_il += nblocks * pcn * k_bytes_b
    else:  # MatmulMultiCoreProgramConfig: one output tile at a time, no reuse
        grid_cores = gx * gy
        total_tiles = m_all * nt * loops
        loops = 1
        per_core = _cdiv(total_tiles, grid_cores)
        cores = total_tiles if total_tiles < grid_cores else grid_cores
        tiles_out = per_core
        nkb = kt
        blocks = per_core * kt
        read0 = recv0 = per_core * k_bytes_a
        read1 = recv1 = per_core * k_bytes_b
        sbh = sbw = 1
        if s0 == "dram":
            dram_il += total_tiles * k_bytes_a
        if s1 != "l1":
            dram_il += total_tiles * k_bytes_b

    out_bytes = m_all * nt * to * loops if so == "dram" else 0
    # The output of every out block but the last is written while later blocks compute; the last
    # block's write is a tail after the math kernel ends (not part of the measured kernel time).
    nob = nobh * nobw
    dram_write = out_bytes * (nob - 1) // nob if kind in (MATMUL_2D, MATMUL_1D) else out_bytes

    # compute on the busiest core: the math thread waits for the slower of its own passes and the
    # unpacker (each inner-K step of an h x w subblock unpacks h in0 and w in1 tiles), plus fixed
    # work per output tile in every K block (partials packed and reloaded).
    products = tiles_out * kt
    math_cyc = products * cpt * rows_factor
    unpack_cyc = products * (ta / sbw + tb / sbh) / c.unpack_Bpc
    compute_cyc = math_cyc if math_cyc > unpack_cyc else unpack_cyc
    compute_cyc += nkb * tiles_out * c.tile_kblock_cyc
    compute_ns = compute_cyc * loops / clk

    # data movement: NoC intake of the busiest core, each sender (read, then multicast), DRAM
    noc_rate = c.noc_Bpc * clk  # bytes per ns
    reader_rate = c.reader_Bpc * clk
    r0 = reader_rate if s0 == "dram" else noc_rate
    r1 = reader_rate if s1 in ("dram", "dram_sharded") and kind != MATMUL_DRAM_SHARDED else noc_rate
    recv_ns = (recv0 + recv1) / noc_rate * loops
    # each sender walks the K blocks: handshake latency per block, growing with log2 of the cores its
    # multicast waits on, then reads and forwards the block's bytes
    dest0 = dest1 = 0
    if kind == MATMUL_2D:
        dest0, dest1 = bx - 1, by - 1
    elif kind == MATMUL_1D:
        if config.mcast_in0 is not False:
            dest0 = cores - 1
        else:
            dest1 = cores - 1
    elif kind == MATMUL_DRAM_SHARDED:
        dest0 = cores - 1
    lat = c.kblock_ns
    stream0 = stream1 = 0.0
    if read0 or mcast0:
        stream0 = (blocks * (lat + log2(1 + dest0) * c.mcast_dest_ns) + read0 / r0 + mcast0 / noc_rate) * loops
    if read1 or mcast1:
        stream1 = (blocks * (lat + log2(1 + dest1) * c.mcast_dest_ns) + read1 / r1 + mcast1 / noc_rate) * loops
    dram_agg = (dram_il + dram_write) / (device.dram.interleaved_gbps * c.dram_eff) + dram_sh / device.dram.sharded_gbps
    # reported terms: a sender's DRAM reads count as DRAM time, its handshakes and multicast as NoC
    dram0 = read0 / reader_rate * loops if s0 == "dram" else 0.0
    dram1 = read1 / reader_rate * loops if s1 == "dram" and kind != MATMUL_DRAM_SHARDED else 0.0
    dram_ns = max(dram_agg, dram0, dram1)
    noc_ns = max(recv_ns, stream0 - dram0, stream1 - dram1)
    move_ns = max(recv_ns, stream0, stream1, dram_agg)

    # pipelining: the larger of compute and data movement plus the fitted fraction of the smaller
    # that double-buffering does not hide
    if compute_ns >= move_ns:
        hi, lo = compute_ns, move_ns
    else:
        hi, lo = move_ns, compute_ns
    body = hi + (c.dram_sharded_overlap if kind == MATMUL_DRAM_SHARDED else c.overlap) * lo
    device_ns = c.fixed_ns + body
    gap = device.op_gap.traced_ns if traced else device.op_gap.untraced_ns
    overhead_ns = c.fixed_ns + gap
    peak_per_ns = device.flops_per_cycle_per_core * device.cycles_per_tile["LoFi"] / cpt * device.grid.cores * clk
    utilization = shape.flops / (peak_per_ns * device_ns)
    return OpCost(
        total_ns=device_ns + gap,
        compute_ns=compute_ns,
        dram_ns=dram_ns,
        noc_ns=noc_ns,
        overhead_ns=overhead_ns,
        binding=_pick_binding(compute_ns, dram_ns, noc_ns, overhead_ns),
        active_cores=cores,
        utilization=utilization,
        dram_bytes=int(dram_il + dram_sh + out_bytes),
        device_ns=device_ns,
        op_gap_ns=gap,
    )


def device_time_ns(device: DeviceProfile, shape: MatmulShape, config: MatmulConfig, **kwargs: object) -> float:
    """Kernel time of one matmul (no dispatch gap): `estimate_matmul(...).device_ns`."""
    return estimate_matmul(device, shape, config, **kwargs).device_ns  # type: ignore[arg-type]


# --------------------------------------------------------------------------- other ops

OP_KINDS = (
    "rms_norm",
    "layer_norm",
    "sdpa_prefill",
    "sdpa_decode",
    "eltwise",
    "reshard",
    "typecast",
    "concat_heads",
    "create_heads",
    "rotary",
    "cache_update",
    "cache_fill",
    "embedding",
)

# FPU element-wise rate: 0.128 TFLOPS per core at 1 GHz (reference §4) = 8 cycles per 32x32 tile;
# multiplies are divided by fidelity like the matrix engine.
FPU_TILE_CYC = 8.0


def _elem_bytes(device: DeviceProfile, dtype: str) -> float:
    return device.tile_bytes[dtype_name(dtype)] / 1024.0


def _fpu_mul_cyc(device: DeviceProfile, fidelity: str) -> float:
    return FPU_TILE_CYC * device.cycles_per_tile[fidelity] / device.cycles_per_tile["LoFi"]


def _assemble(
    device: DeviceProfile,
    c: Coeffs,
    *,
    compute_cyc: float,
    dram_bytes: float,
    dram_gbps: float,
    noc_bytes_per_core: float,
    cores: int,
    traced: bool,
    flops: float = 0.0,
    fidelity: str = "LoFi",
    latency_ns: float = 0.0,
) -> OpCost:
    """Common tail of the non-matmul estimates: the busiest core's compute, DRAM at the given
    bandwidth, the busiest core's NoC traffic, max + overlap * min, fixed op time and the op gap."""
    clk = device.clock_ghz
    compute_ns = compute_cyc / clk
    dram_ns = dram_bytes / dram_gbps if dram_bytes else 0.0
    noc_ns = noc_bytes_per_core / (c.noc_Bpc * clk) + latency_ns
    move = dram_ns if dram_ns > noc_ns else noc_ns
    hi, lo = (compute_ns, move) if compute_ns >= move else (move, compute_ns)
    device_ns = c.op_fixed_ns + hi + c.overlap * lo
    gap = device.op_gap.traced_ns if traced else device.op_gap.untraced_ns
    overhead = c.op_fixed_ns + gap
    util = 0.0
    if flops:
        peak_per_ns = (
            device.flops_per_cycle_per_core * device.cycles_per_tile["LoFi"] / device.cycles_per_tile[fidelity]
        )
        util = flops / (peak_per_ns * device.grid.cores * clk * device_ns)
    return OpCost(
        total_ns=device_ns + gap,
        compute_ns=compute_ns,
        dram_ns=dram_ns,
        noc_ns=noc_ns,
        overhead_ns=overhead,
        binding=_pick_binding(compute_ns, dram_ns, noc_ns, overhead),
        active_cores=cores,
        utilization=util,
        dram_bytes=int(dram_bytes),
        device_ns=device_ns,
        op_gap_ns=gap,
    )


def _storage(value: str) -> str:
    v = value.lower()
    if v in ("dram", "interleaved", "dram_interleaved"):
        return "dram"
    if v in ("l1", "l1_interleaved"):
        return "l1"
    if v in ("sharded", "l1_sharded", "height_sharded", "width_sharded", "block_sharded"):
        return "sharded"
    raise ValueError(f"unknown storage {value!r}; expected dram, l1 or sharded")


def estimate_op(
    device: DeviceProfile, kind: str, *, traced: bool = True, coeffs: Coeffs | None = None, **facts: object
) -> OpCost:
    """Predicted cost of a non-matmul op. Facts per kind (sizes in elements unless *_bytes):

    rms_norm | layer_norm: rows, dim, [dtype, out_dtype, storage "dram"|"l1"|"sharded" (or sharded=bool),
        cores, fidelity, residual (fused add)]
    sdpa_prefill: heads, kv_heads, seq, head_dim, [batch, fidelity, q_chunk, k_chunk, cores,
        causal, dtype, kv_dtype, kv_seq]
    sdpa_decode: batch, heads, kv_heads, kv_len, head_dim, [kv_dtype, dtype, fidelity, cores]
    eltwise: elements, [dtype, out_dtype, inputs, storage, cores, op "add"|"mul"|"unary", fidelity]
    reshard | typecast | concat_heads | create_heads | rotary | cache_update | cache_fill | embedding:
        bytes (moved: read + written) or bytes_in/bytes_out, [src, dst ("dram"|"l1"|"sharded"),
        cores, dtype, fidelity]
    Memory-bound ops cost bytes / bandwidth plus the fixed op time (docs/cost-model.md).
    """
    c = coeffs if coeffs is not None else coeffs_for_arch(device.arch)
    f = dict(facts)
    if kind in ("rms_norm", "layer_norm"):
        return _rms_norm(device, c, f, traced, centered=kind == "layer_norm")
    if kind == "sdpa_prefill":
        return _sdpa_prefill(device, c, f, traced)
    if kind == "sdpa_decode":
        return _sdpa_decode(device, c, f, traced)
    if kind == "eltwise":
        return _eltwise(device, c, f, traced)
    if kind in OP_KINDS:
        return _data_movement(device, c, kind, f, traced)
    raise ValueError(f"unknown op kind {kind!r}; expected one of {', '.join(OP_KINDS)} (matmul: estimate_matmul)")


def _get(f: dict[str, object], name: str, default: object = None) -> object:
    if name in f:
        return f.pop(name)
    if default is None:
        raise ValueError(f"missing fact {name!r}")
    return default


def _done(kind: str, f: dict[str, object]) -> None:
    if f:
        raise ValueError(f"unknown facts for {kind}: {sorted(f)}")


def _interleaved_gbps(device: DeviceProfile, c: Coeffs) -> float:
    return device.dram.interleaved_gbps * c.dram_eff


def _rms_norm(device: DeviceProfile, c: Coeffs, f: dict[str, object], traced: bool, centered: bool = False) -> OpCost:
    rows = int(_get(f, "rows"))  # type: ignore[arg-type]
    dim = int(_get(f, "dim"))  # type: ignore[arg-type]
    dtype = str(_get(f, "dtype", "bfloat16"))
    out_dtype = str(_get(f, "out_dtype", dtype))
    sharded_flag = f.pop("sharded", None)
    storage = _storage(str(_get(f, "storage", "sharded" if sharded_flag else "dram")))
    cores_req = int(_get(f, "cores", device.grid.cores))  # type: ignore[arg-type]
    fidelity = str(_get(f, "fidelity", "HiFi4"))
    residual = bool(f.pop("residual", False))
    _done("rms_norm", f)
    mt, kt = _cdiv(rows, 32), _cdiv(dim, 32)
    tb_in = device.tile_bytes[dtype_name(dtype)]
    tb_out = device.tile_bytes[dtype_name(out_dtype)]
    inputs = 2 if residual else 1
    if storage == "sharded":
        cores = min(cores_req, mt * kt)
        tiles = _cdiv(mt * kt, cores)
        # partial row statistics gathered on one core and the result sent back
        noc = 2.0 * mt * device.tile_bytes["bfloat16"] * (cores - 1 if cores > 1 else 0) / max(cores, 1)
        latency = 2.0 * (c.kblock_ns + log2(cores) * c.mcast_dest_ns) if cores > 1 else 0.0
        dram = kt * 32 * 2.0  # gamma, one row of bf16
    else:
        cores = min(cores_req, mt)  # interleaved norms split whole tile rows over cores
        tiles = _cdiv(mt, cores) * kt
        noc = tiles * (inputs * tb_in + tb_out)
        latency = 0.0
        dram = mt * kt * (inputs * tb_in + tb_out) + kt * 64.0 if storage == "dram" else kt * 64.0
    # per tile: x*x, row reduce, scale by rsqrt, multiply by gamma (+ residual add)
    per_tile = 3.0 * _fpu_mul_cyc(device, fidelity) + FPU_TILE_CYC / 4.0 + (FPU_TILE_CYC if residual else 0.0)
    if centered:
        # LayerNorm: a second row reduce (the mean), the subtraction and the beta add. Not calibrated: no
        # measured layer_norm numbers are in the calibration set; the per-tile work is counted like rms_norm's.
        per_tile += FPU_TILE_CYC / 4.0 + 2.0 * FPU_TILE_CYC
    compute = tiles * per_tile + mt * c.sfpu_tile_cyc
    return _assemble(
        device,
        c,
        compute_cyc=compute,
        dram_bytes=dram,
        dram_gbps=_interleaved_gbps(device, c),
        noc_bytes_per_core=noc,
        cores=cores,
        traced=traced,
        latency_ns=latency,
    )


def _sdpa_prefill(device: DeviceProfile, c: Coeffs, f: dict[str, object], traced: bool) -> OpCost:
    heads = int(_get(f, "heads"))  # type: ignore[arg-type]
    kv_heads = int(_get(f, "kv_heads"))  # type: ignore[arg-type]
    seq = int(_get(f, "seq"))  # type: ignore[arg-type]
    head_dim = int(_get(f, "head_dim"))  # type: ignore[arg-type]
    batch = int(_get(f, "batch", 1))  # type: ignore[arg-type]
    fidelity = str(_get(f, "fidelity", "HiFi4"))
    default_chunk = 256 if seq >= 2048 else 64  # tt_transformers SDPA_PROGCFG
    q_chunk = int(_get(f, "q_chunk", default_chunk))  # type: ignore[arg-type]
    k_chunk = int(_get(f, "k_chunk", default_chunk))  # type: ignore[arg-type]
    cores_req = int(_get(f, "cores", device.grid.cores))  # type: ignore[arg-type]
    causal = bool(f.pop("causal", True))
    dtype = str(_get(f, "dtype", "bfloat16"))
    kv_dtype = str(_get(f, "kv_dtype", dtype))
    kv_seq = int(_get(f, "kv_seq", seq))  # type: ignore[arg-type]
    _done("sdpa_prefill", f)
    if kv_heads <= 0 or heads % kv_heads:
        raise ValueError("sdpa_prefill: heads must be a multiple of kv_heads")
    nq = _cdiv(seq, q_chunk)
    nk = _cdiv(kv_seq, k_chunk)
    # causal: q chunk i sees the k chunks up to its end (ttnn pairs early and late chunks per core)
    pairs_per_head = nq * (nk + 1) / 2.0 if causal and kv_seq == seq else float(nq * nk)
    units = batch * heads * nq
    cores = min(cores_req, units)
    pairs_per_core = pairs_per_head * batch * heads / cores
    qt, kt_, dt = q_chunk / 32.0, k_chunk / 32.0, _cdiv(head_dim, 32)
    cpt = device.cycles_per_tile[fidelity]
    # QK^T and PV tile products, then softmax over the score tiles (exp + max/sum/rescale passes)
    per_pair = 2.0 * qt * kt_ * dt * cpt + qt * kt_ * (c.sfpu_tile_cyc + 3.0 * FPU_TILE_CYC)
    compute = pairs_per_core * per_pair
    kv_bytes_chunk = 2.0 * k_chunk * head_dim * _elem_bytes(device, kv_dtype)
    q_bytes = batch * heads * seq * head_dim * _elem_bytes(device, dtype)
    dram = pairs_per_head * batch * heads * kv_bytes_chunk + 2.0 * q_bytes  # K/V per pair, Q in, out
    noc = pairs_per_core * kv_bytes_chunk + 2.0 * q_bytes / cores
    flops = 4.0 * batch * heads * seq * kv_seq * head_dim * (0.5 if causal and kv_seq == seq else 1.0)
    return _assemble(
        device,
        c,
        compute_cyc=compute,
        dram_bytes=dram,
        dram_gbps=_interleaved_gbps(device, c),
        noc_bytes_per_core=noc,
        cores=cores,
        traced=traced,
        flops=flops,
        fidelity=fidelity,
    )


def _sdpa_decode(device: DeviceProfile, c: Coeffs, f: dict[str, object], traced: bool) -> OpCost:
    batch = int(_get(f, "batch"))  # type: ignore[arg-type]
    heads = int(_get(f, "heads"))  # type: ignore[arg-type]
    kv_heads = int(_get(f, "kv_heads"))  # type: ignore[arg-type]
    kv_len = int(_get(f, "kv_len"))  # type: ignore[arg-type]
    head_dim = int(_get(f, "head_dim"))  # type: ignore[arg-type]
    kv_dtype = str(_get(f, "kv_dtype", "bfloat8_b"))
    dtype = str(_get(f, "dtype", "bfloat16"))
    fidelity = str(_get(f, "fidelity", "HiFi2"))
    cores_req = int(_get(f, "cores", device.grid.cores))  # type: ignore[arg-type]
    _done("sdpa_decode", f)
    groups = batch * kv_heads  # one (user, kv head) pair; its q heads share one padded tile row
    # up to 16 cores split one group's kv_len and reduce (max_cores_per_head_batch = 16)
    per_group = max(1, min(16, cores_req // groups)) if groups < cores_req else 1
    cores = min(cores_req, groups * per_group)
    groups_per_core = _cdiv(groups, max(1, cores // per_group))
    q_rows_tiles = _cdiv(_cdiv(heads, kv_heads), 32)
    kv_tiles = _cdiv(_cdiv(kv_len, 32), per_group)
    dt = _cdiv(head_dim, 32)
    cpt = device.cycles_per_tile[fidelity]
    per_group_cyc = 2.0 * q_rows_tiles * kv_tiles * dt * cpt + q_rows_tiles * kv_tiles * (
        c.sfpu_tile_cyc + 3.0 * FPU_TILE_CYC
    )
    compute = groups_per_core * per_group_cyc
    kv_bytes = 2.0 * batch * kv_heads * kv_len * head_dim * _elem_bytes(device, kv_dtype)
    q_bytes = 2.0 * batch * heads * head_dim * _elem_bytes(device, dtype)
    noc = groups_per_core * 2.0 * kv_tiles * dt * device.tile_bytes[dtype_name(kv_dtype)]
    latency = 2.0 * (c.kblock_ns + log2(per_group) * c.mcast_dest_ns) if per_group > 1 else 0.0
    flops = 4.0 * batch * heads * kv_len * head_dim
    return _assemble(
        device,
        c,
        compute_cyc=compute,
        dram_bytes=kv_bytes + q_bytes,
        dram_gbps=_interleaved_gbps(device, c),
        noc_bytes_per_core=noc,
        cores=cores,
        traced=traced,
        flops=flops,
        fidelity=fidelity,
        latency_ns=latency,
    )


def _eltwise(device: DeviceProfile, c: Coeffs, f: dict[str, object], traced: bool) -> OpCost:
    elements = int(_get(f, "elements"))  # type: ignore[arg-type]
    dtype = str(_get(f, "dtype", "bfloat16"))
    out_dtype = str(_get(f, "out_dtype", dtype))
    inputs = int(_get(f, "inputs", 2))  # type: ignore[arg-type]
    storage = _storage(str(_get(f, "storage", "dram")))
    cores_req = int(_get(f, "cores", device.grid.cores))  # type: ignore[arg-type]
    op = str(_get(f, "op", "add"))
    fidelity = str(_get(f, "fidelity", "HiFi4"))
    _done("eltwise", f)
    tiles = _cdiv(elements, 1024)
    cores = max(1, min(cores_req, tiles))
    per_core = _cdiv(tiles, cores)
    if op == "add":
        per_tile = FPU_TILE_CYC
    elif op == "mul":
        per_tile = _fpu_mul_cyc(device, fidelity)
    elif op == "unary":
        per_tile = c.sfpu_tile_cyc
    else:
        raise ValueError(f"eltwise op must be add, mul or unary, got {op!r}")
    bytes_tile = inputs * device.tile_bytes[dtype_name(dtype)] + device.tile_bytes[dtype_name(out_dtype)]
    dram = tiles * bytes_tile if storage == "dram" else 0.0
    noc = per_core * bytes_tile if storage != "sharded" else 0.0
    return _assemble(
        device,
        c,
        compute_cyc=per_core * per_tile,
        dram_bytes=dram,
        dram_gbps=_interleaved_gbps(device, c),
        noc_bytes_per_core=noc,
        cores=cores,
        traced=traced,
    )


def _data_movement(device: DeviceProfile, c: Coeffs, kind: str, f: dict[str, object], traced: bool) -> OpCost:
    total = f.pop("bytes", None)
    if total is not None:
        bytes_in = bytes_out = float(total) / 2.0  # type: ignore[arg-type]
    else:
        bytes_in = float(_get(f, "bytes_in"))  # type: ignore[arg-type]
        bytes_out = float(_get(f, "bytes_out", bytes_in))  # type: ignore[arg-type]
    src = _storage(str(_get(f, "src", "dram")))
    dst = _storage(str(_get(f, "dst", src)))
    cores_req = int(_get(f, "cores", device.grid.cores))  # type: ignore[arg-type]
    dtype = str(_get(f, "dtype", "bfloat16"))
    fidelity = str(_get(f, "fidelity", "HiFi4"))
    _done(kind, f)
    tile_in = device.tile_bytes[dtype_name(dtype)]
    tiles = max(1, _cdiv(int(bytes_in), tile_in))
    cores = max(1, min(cores_req, tiles))
    per_core_tiles = _cdiv(tiles, cores)
    if kind == "typecast":
        per_tile = c.sfpu_tile_cyc
    elif kind == "rotary":
        # rotary_embedding_llama: x @ trans_mat (one tile product), two multiplies and an add
        per_tile = device.cycles_per_tile[fidelity] + 2.0 * _fpu_mul_cyc(device, fidelity) + FPU_TILE_CYC
    else:
        per_tile = 0.0
    dram = (bytes_in if src == "dram" else 0.0) + (bytes_out if dst == "dram" else 0.0)
    moved = (bytes_in if src != "sharded" else 0.0) + (bytes_out if dst != "sharded" else 0.0)
    if kind == "reshard" and src == "sharded" and dst == "sharded":
        moved = bytes_in + bytes_out  # shards move between cores over the NoC
    return _assemble(
        device,
        c,
        compute_cyc=per_core_tiles * per_tile,
        dram_bytes=dram,
        dram_gbps=_interleaved_gbps(device, c),
        noc_bytes_per_core=moved / cores,
        cores=cores,
        traced=traced,
    )


# --------------------------------------------------------------------------- elementwise chains

CHAIN_STEPS = ("add", "mul", "unary")


def _chain_step_cyc(device: DeviceProfile, c: Coeffs, step: str, fidelity: str) -> float:
    if step == "add":
        return FPU_TILE_CYC
    if step == "mul":
        return _fpu_mul_cyc(device, fidelity)
    if step == "unary":
        return c.sfpu_tile_cyc
    raise ValueError(f"chain step must be one of {', '.join(CHAIN_STEPS)}, got {step!r}")


def _sum_costs(parts: list[OpCost]) -> OpCost:
    """Ops that run one after another: times, bytes and gaps add up."""
    compute, dram, noc = (sum(getattr(p, k) for p in parts) for k in ("compute_ns", "dram_ns", "noc_ns"))
    overhead = sum(p.overhead_ns for p in parts)
    return OpCost(
        total_ns=sum(p.total_ns for p in parts),
        compute_ns=compute,
        dram_ns=dram,
        noc_ns=noc,
        overhead_ns=overhead,
        binding=_pick_binding(compute, dram, noc, overhead),
        active_cores=max(p.active_cores for p in parts),
        utilization=0.0,
        dram_bytes=sum(p.dram_bytes for p in parts),
        device_ns=sum(p.device_ns for p in parts),
        op_gap_ns=sum(p.op_gap_ns for p in parts),
    )


def estimate_eltwise_chain(
    device: DeviceProfile,
    steps: tuple[str, ...],
    *,
    elements: int,
    one_kernel: bool,
    storage: str = "dram",
    dtype: str = "bfloat16",
    cores: int | None = None,
    fidelity: str = "HiFi4",
    traced: bool = True,
    coeffs: Coeffs | None = None,
) -> OpCost:
    """Cost of an elementwise chain over `elements` values. `steps` run in order on the running value:
    "unary" (an SFPU pass) or "add" / "mul" (with one more operand), e.g. silu then multiply = ("unary", "mul").

    one_kernel=True: one program does every step per tile, intermediates stay in DST and circular buffers; it reads
    each operand and writes the result once (ttnn's binary op with `input_tensor_a_activations`, or a ttnn-jit fused
    block). one_kernel=False: one ttnn op per step, each intermediate written to `storage` and read back by the next
    op, each op with its own fixed time and op gap (the sum of the `eltwise` estimates).
    """
    if not steps:
        raise ValueError("an elementwise chain needs at least one step")
    c = coeffs if coeffs is not None else coeffs_for_arch(device.arch)
    cores_req = cores if cores is not None else device.grid.cores
    if not one_kernel:
        parts = [
            estimate_op(
                device, "eltwise", traced=traced, coeffs=c, elements=elements, dtype=dtype,
                inputs=1 if s == "unary" else 2, storage=storage, cores=cores_req, op=s, fidelity=fidelity,
            )
            for s in steps
        ]
        return _sum_costs(parts)
    per_tile = sum(_chain_step_cyc(device, c, s, fidelity) for s in steps)
    operands = 1 + sum(1 for s in steps if s != "unary")
    tiles = _cdiv(elements, 1024)
    used = max(1, min(cores_req, tiles))
    per_core = _cdiv(tiles, used)
    bytes_tile = (operands + 1) * device.tile_bytes[dtype_name(dtype)]
    where = _storage(storage)
    return _assemble(
        device,
        c,
        compute_cyc=per_core * per_tile,
        dram_bytes=tiles * bytes_tile if where == "dram" else 0.0,
        dram_gbps=_interleaved_gbps(device, c),
        noc_bytes_per_core=per_core * bytes_tile if where != "sharded" else 0.0,
        cores=used,
        traced=traced,
    )
