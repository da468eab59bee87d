"""What keeping a row chunk of the pair transition's intermediates in L1 would save (modeled), and whether it fits.

The Pairformer's pair transition at 704 tokens (495,616 pair rows of 128 channels) runs today as four whole-tensor
ops after its LayerNorm: fc1 (silu fused) and fc2 write [rows, 512] each to DRAM, the gate multiplies them (reads
both, writes a third), fc3 reads the product. This script prices the row-chunked alternative the memory pass would
have to choose: the normalised pair tensor sliced into k row chunks (DRAM -> L1 interleaved), per chunk fc1 and fc2
L1 -> L1, the gate in L1, fc3 L1 -> DRAM, and the k outputs concatenated in DRAM (ttnn.concat; no linear writes into
a row window of an existing tensor). Each linear is searched with its operands pinned to L1 interleaved and the other
live chunk tensors reserved (the matmul search's L1 rules, tttgen/rules/l1.py); the gate and the moves are priced by
the cost model at their storages (an L1 operand moves no DRAM bytes; the NoC and compute terms remain).

Reported per device and chunk count: rows per chunk, the peak L1 per core of the chunk's live tensors (interleaved
tiles dealt over the grid's cores, rules/l1.interleaved_l1_bytes_per_core) against usable L1 per core
(device_profiles/*.yaml), the modeled time of the chunked chain (all k chunks) against today's, and the saving over
the 64-block trunk. Modeled numbers are deterministic. Run: `.venv/bin/python benchmarks/l1_row_chunks.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tttgen.generate import Request, plan  # noqa: E402
from tttgen.ir.configs import L1_INTERLEAVED, MatmulShape  # noqa: E402
from tttgen.passes.matmul_program import L1Reserve, baseline_seeds, search  # noqa: E402
from tttgen.checking.realttnn.oracle import MatmulCase as OracleCase  # noqa: E402
from tttgen.checking.realttnn.oracle import judge_matmuls  # noqa: E402
from tttgen.rules.l1 import interleaved_l1_bytes_per_core  # noqa: E402
from tttgen.scoring import op_time_ns  # noqa: E402

PADDED = 704
BLOCKS = 64
CHUNK_COUNTS = (8, 11, 16, 22, 32, 44, 64, 88, 121, 128)  # divisors of the 15,488 tile rows


def _l1(device, rows: int, cols: int) -> int:
    return interleaved_l1_bytes_per_core(L1_INTERLEAVED, rows, cols, device.tile_bytes["bfloat16"], device.grid.cores)


def _linear_ns(graph, op, rows: int, reserve: int, out_l1: bool) -> tuple[float | None, OracleCase | None]:
    d = op.decisions
    shape = MatmulShape(rows, d["shape"].k, d["shape"].n, 1)
    dtypes = (d["dtypes"]["in0"], d["dtypes"]["in1"], d["dtypes"]["out"])
    out = L1_INTERLEAVED if out_l1 else d["out"]
    seeds = tuple((cfg, L1_INTERLEAVED, out) for cfg, _, _ in baseline_seeds(graph, op, shape))
    best, _, _ = search(
        graph.device, shape, d["kernel"], dtypes, d["in1"], False, seeds,
        L1Reserve(reserve, False, graph.bias_dtype(op)), placed=(L1_INTERLEAVED, out), counted=False,
    )
    if best is None:
        return None, None
    return best.time_ns, OracleCase(shape, best.config, d["kernel"], dtypes, L1_INTERLEAVED, d["in1"], out)


def chunk_rows(device_name: str) -> list[dict]:
    graph = plan(Request("boltz_pairformer_layer", device_name, params=(("n", str(PADDED)),))).graph
    device = graph.device
    key = f"prefill_{PADDED}"
    ops = {op.name: op for op in graph.ops if op.mode_key == key and op.name.startswith("transition_z.")}
    fc1, fc2, gate, fc3 = (ops[f"transition_z.{n}"] for n in ("fc1", "fc2", "gate", "fc3"))
    rows, c, h = PADDED * PADDED, fc1.decisions["shape"].k, fc1.decisions["shape"].n
    today = sum(o.decisions["time_ns"] for o in (fc1, fc2, gate, fc3))
    budget = device.usable_l1_bytes
    out = []
    for k in CHUNK_COUNTS:
        r = rows // k
        xn, wide, y = _l1(device, r, c), _l1(device, r, h), _l1(device, r, c)
        # live at each op of the chunk (the op's own output counted by its rule for the linears)
        peak = max(xn + wide, xn + 2 * wide, 3 * wide, wide + y)
        t1, case1 = _linear_ns(graph, fc1, r, xn, True)
        t2, case2 = _linear_ns(graph, fc2, r, xn + wide, True)
        t3, case3 = _linear_ns(graph, fc3, r, wide, False)
        bf16 = 2
        move_in = op_time_ns(device, "reshard", bytes_in=r * c * bf16, bytes_out=r * c * bf16, src="dram", dst="l1")
        mul = op_time_ns(device, "eltwise", elements=r * h, inputs=2, op="mul", storage="l1")
        per_chunk = None if None in (t1, t2, t3) else move_in.total_ns + t1 + t2 + mul.total_ns + t3
        concat = op_time_ns(device, "reshard", bytes_in=rows * c * bf16, bytes_out=rows * c * bf16, src="dram", dst="dram")
        chunked = None if per_chunk is None else k * per_chunk + concat.total_ns
        out.append({
            "device": device_name, "k": k, "rows": r, "peak_l1": peak, "budget": budget, "fits": peak <= budget,
            "today_ns": today, "chunked_ns": chunked, "cases": (case1, case2, case3), "graph_device": device,
            "parts_ns": None if per_chunk is None else {
                "slice": k * move_in.total_ns, "fc1": k * t1, "fc2": k * t2, "gate": k * mul.total_ns, "fc3": k * t3,
                "concat": concat.total_ns,
            },
        })
    return out


def triangle_rows(device_name: str, side: str = "tri_mul_out") -> list[dict]:
    """The triangle multiplication's input side the same way: per chunk the normalised pair rows sliced into L1,
    p_a, g_a, p_b, g_b L1 -> L1, the two sigmoid gates in L1, each gate's output copied to DRAM, and a concat per
    gate in DRAM (its reader, the channels-first permute, needs every row)."""
    graph = plan(Request("boltz_pairformer_layer", device_name, params=(("n", str(PADDED)),))).graph
    device = graph.device
    key = f"prefill_{PADDED}"
    ops = {op.name: op for op in graph.ops if op.mode_key == key and op.name.startswith(side + ".")}
    lins = [ops[f"{side}.{n}"] for n in ("p_a", "g_a", "p_b", "g_b")]
    gates = [ops[f"{side}.{n}"] for n in ("gate_a", "gate_b")]
    rows, c = PADDED * PADDED, lins[0].decisions["shape"].k
    today = sum(o.decisions["time_ns"] for o in lins + gates)
    out = []
    for k in CHUNK_COUNTS:
        r = rows // k
        t = _l1(device, r, c)
        peak = 6 * t  # zn chunk, four projections, one gate output
        times = [_linear_ns(graph, op, r, (1 + i) * t, True)[0] for i, op in enumerate(lins)]
        bf16 = 2
        move_in = op_time_ns(device, "reshard", bytes_in=r * c * bf16, bytes_out=r * c * bf16, src="dram", dst="l1")
        gate = (op_time_ns(device, "eltwise", elements=r * c, inputs=1, op="unary", storage="l1").total_ns
                + op_time_ns(device, "eltwise", elements=r * c, inputs=2, op="mul", storage="l1").total_ns)
        move_out = op_time_ns(device, "reshard", bytes_in=r * c * bf16, bytes_out=r * c * bf16, src="l1", dst="dram")
        concat = op_time_ns(device, "reshard", bytes_in=rows * c * bf16, bytes_out=rows * c * bf16, src="dram", dst="dram")
        chunked = None if None in times else (
            k * (move_in.total_ns + sum(times) + 2 * (gate + move_out.total_ns)) + 2 * concat.total_ns
        )
        out.append({"device": device_name, "k": k, "rows": r, "peak_l1": peak, "budget": device.usable_l1_bytes,
                    "fits": peak <= device.usable_l1_bytes, "today_ns": today, "chunked_ns": chunked})
    return out


def judged(r: dict, judge=judge_matmuls) -> list[str]:
    """The real ttnn's verdicts on the chunk's three linears (operands in L1 interleaved, as searched; the other
    live chunk tensors are not allocated by the judge)."""
    cases = [c for c in r["cases"] if c is not None]
    verdicts = judge(r["graph_device"], cases, r["graph_device"].l1_small_size)
    return [f"{n}: {'accepted, L1 per core ' + str(v.l1_total) if v.accepted else 'refused (' + str(v.message)[:160] + ')'}" for n, v in zip(("fc1", "fc2", "fc3"), verdicts)]


def main() -> int:
    best = {}
    print("| device | chunks | rows per chunk | peak L1 per core KB | usable L1 per core KB | fits | today ms/block "
          "| L1 chunks ms/block | saving s (64 blocks) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("p150", "n150"):
        for r in chunk_rows(name):
            chunked = "no config" if r["chunked_ns"] is None else f"{r['chunked_ns'] / 1e6:.3f}"
            saving = "-" if r["chunked_ns"] is None else f"{(r['today_ns'] - r['chunked_ns']) * BLOCKS / 1e9:.3f}"
            print(f"| {name} | {r['k']} | {r['rows']} | {r['peak_l1'] / 1024:.0f} | {r['budget'] / 1024:.0f} | "
                  f"{'yes' if r['fits'] else 'no'} | {r['today_ns'] / 1e6:.3f} | {chunked} | {saving} |")
            if r["chunked_ns"] is not None and r["fits"] and (name not in best or r["chunked_ns"] < best[name]["chunked_ns"]):
                best[name] = r
    print("\nTriangle multiplication (outgoing; incoming is the same shapes), input side:\n")
    print("| device | chunks | rows per chunk | peak L1 per core KB | fits | today ms/block | L1 chunks ms/block "
          "| saving s (64 blocks, both triangle multiplications) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("p150", "n150"):
        for r in triangle_rows(name):
            if r["chunked_ns"] is None or not r["fits"]:
                continue
            print(f"| {name} | {r['k']} | {r['rows']} | {r['peak_l1'] / 1024:.0f} | yes | {r['today_ns'] / 1e6:.3f} | "
                  f"{r['chunked_ns'] / 1e6:.3f} | {2 * (r['today_ns'] - r['chunked_ns']) * BLOCKS / 1e9:.3f} |")
    for name, r in best.items():
        parts = ", ".join(f"{k} {v / 1e6:.3f}" for k, v in r["parts_ns"].items())
        print(f"\n{name}, {r['k']} chunks: per block ms: {parts}")
        print(f"{name}, {r['k']} chunks, real ttnn 0.81.1 on a mock {name}: " + "; ".join(judged(r)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
