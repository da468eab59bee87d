"""Ask the real ttnn about single ops: `python probe.py CASES.json OUT.json` inside the ttnn venv.

Each case names an op (`ttnn.linear` today), its operand tensors (shape, dtype, layout and memory config as the
Python source tttgen would emit for them, from `tttgen.render.literals`; an operand with a `keyword`, such as a
linear's bias, is passed by that name) and its keyword arguments (program config,
compute-kernel config, output memory config, dtype, as source). The probe allocates the operands on the mock
device, runs the op inside a NO_DISPATCH graph capture and reports ttnn's verdict: accepted with the L1 per core
it reports (circular buffers and L1 buffers), or its own error message.

Standard library and ttnn only. The environment names the board's mock cluster descriptor.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path


def first_lines(text: str, n: int = 3) -> str:
    """ttnn's message in one line: its first n lines, without C++ backtrace frames."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip() and not ln.strip().startswith("---")]
    lines = [ln for ln in lines if not re.match(r"^\d+\.\s", ln)]
    return " | ".join(lines[:n])[:600]


def run_case(ttnn, device, case: dict, namespace: dict) -> dict:
    g = ttnn._ttnn.graph
    result = {"id": case["id"], "accepted": False, "message": None, "l1_dataflow": 0, "l1_buffers": 0, "l1_total": 0}
    tensors, keyword_tensors = [], {}
    try:
        for operand in case["operands"]:
            memory = eval(operand["memory"], namespace)  # source text tttgen would emit
            tensor = ttnn.allocate_tensor_on_device(
                ttnn.Shape(operand["shape"]), eval(operand["dtype"], namespace), ttnn.TILE_LAYOUT, device, memory
            )
            if "keyword" in operand:  # e.g. a linear's bias=
                keyword_tensors[operand["keyword"]] = tensor
            else:
                tensors.append(tensor)
        kwargs = {k: eval(v, namespace) for k, v in case["kwargs"].items()} | keyword_tensors
        op = eval(case["op"], namespace)
    except Exception as err:  # a config that does not even construct
        result["message"] = f"construct: {first_lines(err)}"
        return result
    g.begin_graph_capture(g.RunMode.NO_DISPATCH)
    try:
        out = op(*tensors, **kwargs)
    except Exception as err:
        g.end_graph_capture()
        result["message"] = first_lines(err)
    else:
        usage = g.extract_resource_usage_per_core(g.end_graph_capture())
        result.update(
            accepted=True,
            l1_dataflow=int(usage.peak_dataflow_buffer),
            l1_buffers=int(usage.peak_l1),
            l1_total=int(usage.peak_total),
        )
        for o in out if isinstance(out, (list, tuple)) else [out]:  # nlp_create_qkv_heads* return (q, k, v)
            ttnn.deallocate(o)
    for t in tensors + list(keyword_tensors.values()):
        ttnn.deallocate(t)
    return result


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text())
    import ttnn

    device = ttnn.open_device(device_id=0, l1_small_size=job.get("l1_small_size", 0))
    namespace = {"ttnn": ttnn}
    grid = device.compute_with_storage_grid_size()
    results = []
    started = time.perf_counter()
    try:
        for case in job["cases"]:
            results.append(run_case(ttnn, device, case, namespace))
    finally:
        ttnn.close_device(device)
    Path(argv[1]).write_text(
        json.dumps({"results": results, "grid": [grid.x, grid.y], "seconds": round(time.perf_counter() - started, 2)})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
