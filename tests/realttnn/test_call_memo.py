"""The real-ttnn runner judges each distinct ttnn call once (tttgen/checking/realttnn/memo.py) and nothing else: a call that
differs from one judged before in any argument (a program-config field, a memory config, a dtype, a compute-kernel
config, which inputs share a buffer) or in the device's L1 allocator state is judged again, so an illegal call that
follows a legal one of the same op is still rejected; a package whose last layer alone holds an illegal config is
still rejected."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tttgen.checking.realttnn import environment

ROOT = Path(__file__).resolve().parents[2]
RUNNER_DIR = ROOT / "tttgen" / "checking" / "realttnn"
TTTGEN = [sys.executable, "-m", "tttgen"]

# Runs in the ttnn venv on a mock n150: each step is one call through the runner's Recorder and Proxy (what a
# package's `ttnn.` calls go through); the step records whether ttnn ran it (judged) and whether it was accepted.
SCRIPT = r'''
import json, sys
from pathlib import Path
job = json.loads(Path(sys.argv[1]).read_text())
sys.path.insert(0, job["runner_dir"])
import ttnn
from runner import Proxy, Recorder

device = ttnn.open_device(device_id=0)
rec = Recorder(ttnn, Path(job["package_dir"]))
rec.phase = "t"
T = Proxy(ttnn, rec)
TILE, DRAM, L1 = ttnn.TILE_LAYOUT, ttnn.DRAM_MEMORY_CONFIG, ttnn.L1_MEMORY_CONFIG


def alloc(shape, dtype, memory=DRAM):
    return ttnn.allocate_tensor_on_device(ttnn.Shape(shape), dtype, TILE, device, memory)


def program(**change):
    fields = dict(compute_with_storage_grid_size=(8, 8), in0_block_w=4, out_subblock_h=1, out_subblock_w=1,
                  per_core_M=1, per_core_N=1, fuse_batch=True, fused_activation=None, mcast_in0=True)
    fields.update(change)
    return ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig(**fields)


x = alloc([1, 1, 32, 1024], ttnn.bfloat16)
y = alloc([1, 1, 32, 1024], ttnn.bfloat16)
w1 = alloc([1, 1, 1024, 2048], ttnn.bfloat8_b)  # two layers' weights: same spec, different tensors
w2 = alloc([1, 1, 1024, 2048], ttnn.bfloat8_b)
steps, outputs = [], {}


def step(name, fn):
    judged, accepted = rec.memo.judged, sum(r["accepted"] for r in rec.records.values())
    rejected_before = rec.rejected_in_phase
    rec.rejected_in_phase = False
    out = fn()
    steps.append({"name": name, "judged": rec.memo.judged - judged,
                  "accepted": sum(r["accepted"] for r in rec.records.values()) - accepted})
    outputs[name] = out
    return out


hifi4 = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi4, fp32_dest_acc_en=False)
hifi2 = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi2, fp32_dest_acc_en=False)
step("first", lambda: T.linear(x, w1, program_config=program(), compute_kernel_config=hifi2, dtype=ttnn.bfloat16))
step("same, other weights", lambda: T.linear(x, w2, program_config=program(), compute_kernel_config=hifi2, dtype=ttnn.bfloat16))
step("illegal in0_block_w", lambda: T.linear(x, w2, program_config=program(in0_block_w=7), compute_kernel_config=hifi2, dtype=ttnn.bfloat16))
step("illegal again", lambda: T.linear(x, w2, program_config=program(in0_block_w=7), compute_kernel_config=hifi2, dtype=ttnn.bfloat16))
step("illegal out_subblock_w", lambda: T.linear(x, w1, program_config=program(out_subblock_w=2), compute_kernel_config=hifi2, dtype=ttnn.bfloat16))
step("legal in0_block_w", lambda: T.linear(x, w1, program_config=program(in0_block_w=2), compute_kernel_config=hifi2, dtype=ttnn.bfloat16))
step("memory config", lambda: T.linear(x, w1, program_config=program(), compute_kernel_config=hifi2, dtype=ttnn.bfloat16, memory_config=L1))
step("dtype", lambda: T.linear(x, w1, program_config=program(), compute_kernel_config=hifi2, dtype=ttnn.bfloat8_b))
step("kernel config", lambda: T.linear(x, w1, program_config=program(), compute_kernel_config=hifi4, dtype=ttnn.bfloat16))
step("input dtype", lambda: T.linear(alloc([1, 1, 32, 1024], ttnn.bfloat8_b), w1, program_config=program(), compute_kernel_config=hifi2, dtype=ttnn.bfloat16))
held = alloc([1, 1, 32, 1024 * 8], ttnn.bfloat16, L1)  # a live L1 tensor: ttnn checks CBs against it
step("L1 occupied", lambda: T.linear(x, w1, program_config=program(), compute_kernel_config=hifi2, dtype=ttnn.bfloat16))
ttnn.deallocate(held)
step("L1 free again", lambda: T.linear(x, w2, program_config=program(), compute_kernel_config=hifi2, dtype=ttnn.bfloat16))
step("add x x", lambda: T.add(x, x))
step("add x y", lambda: T.add(x, y))
step("add y x", lambda: T.add(y, x))
step("add x x again", lambda: T.add(x, x))
step("keyword added", lambda: T.add(x, y, memory_config=DRAM))


class Opaque:
    pass


unkeyed = rec.memo.key("linear", (x, w1), {"program_config": Opaque()})[0] is None


def grid(x1, y1):
    return ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(x1, y1)),
                              ttnn.CoreRange(ttnn.CoreCoord(0, 7), ttnn.CoreCoord(3, 7))})


# the classes memo.REPR_COMPLETE describes by repr alone: values differing in one field print differently
repr_complete = {
    "CoreRangeSet": repr(grid(7, 5)) != repr(grid(7, 6)) and repr(grid(7, 5)) != repr(grid(6, 5)),
    "Shape": repr(ttnn.Shape([1, 2, 32, 64])) != repr(ttnn.Shape([1, 2, 32, 96])),
    "TensorTopology": type(x.tensor_topology()).__name__ == "TensorTopology" and "placements=" in repr(x.tensor_topology())
    and "mesh_coords=" in repr(x.tensor_topology()) and "distribution_shape=" in repr(x.tensor_topology()),
}
first, again = outputs["first"], outputs["same, other weights"]
result = {
    "steps": steps,
    "memo": rec.memo.summary(),
    "unkeyed": unkeyed,
    "repr_complete": repr_complete,
    "reused_output_same_spec": bool(first.spec == again.spec) and tuple(first.padded_shape) == tuple(again.padded_shape),
    "reused_output_like_captured": first.buffer_address() == again.buffer_address() == 0 and again.is_allocated(),
}
ttnn.close_device(device)
Path(sys.argv[2]).write_text(json.dumps(result))
'''


@pytest.fixture(scope="module")
def memo_run(real_ttnn, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("memo")
    package = tmp / "package"
    package.mkdir()
    for name in ("model.py", "weights.py"):
        (package / name).write_text("")
    script, job, out = tmp / "memo_script.py", tmp / "job.json", tmp / "out.json"
    script.write_text(SCRIPT)
    job.write_text(json.dumps({"runner_dir": str(RUNNER_DIR), "package_dir": str(package)}))
    failure = environment.run_script(script, job, out, "n150")
    assert failure is None, failure
    result = json.loads(out.read_text())
    result["by_name"] = {s["name"]: s for s in result["steps"]}
    return result


def test_an_identical_call_on_other_weights_is_answered_from_the_first(memo_run):
    steps = memo_run["by_name"]
    assert steps["first"] == {"name": "first", "judged": 1, "accepted": 1}
    assert steps["same, other weights"] == {"name": "same, other weights", "judged": 0, "accepted": 1}
    assert memo_run["reused_output_same_spec"] and memo_run["reused_output_like_captured"]


@pytest.mark.parametrize(
    "name", ["illegal in0_block_w", "illegal again", "illegal out_subblock_w"]
)
def test_an_illegal_call_after_a_legal_one_of_the_same_op_is_still_rejected(memo_run, name):
    step = memo_run["by_name"][name]
    assert step["judged"] == 1 and step["accepted"] == 0, step


@pytest.mark.parametrize(
    "name",
    ["legal in0_block_w", "memory config", "dtype", "kernel config", "input dtype", "L1 occupied", "add x y",
     "keyword added"],
)
def test_a_call_differing_in_one_argument_or_the_l1_state_is_judged(memo_run, name):
    step = memo_run["by_name"][name]
    assert step["judged"] == 1 and step["accepted"] == 1, step


def test_repeats_are_reused_once_the_state_matches_again(memo_run):
    steps = memo_run["by_name"]
    assert steps["L1 free again"]["judged"] == 0  # the live L1 tensor is gone: the first call's key again
    assert steps["add x x"]["judged"] == 1 and steps["add x x again"]["judged"] == 0
    assert steps["add y x"]["judged"] == 0  # two tensors of one spec swapped: the same call as add(x, y)


def test_counts_say_what_was_judged(memo_run):
    memo = memo_run["memo"]
    judged = sum(s["judged"] for s in memo_run["steps"])
    assert memo["judged"] == judged and memo["calls"] == len(memo_run["steps"])
    assert memo["reused"] == memo["calls"] - memo["judged"] == 4  # other weights, L1 free again, add y x, add x x again
    # the rejected key was judged twice, so one more judged call than distinct calls
    assert memo["distinct"] == memo["judged"] - 1
    assert memo_run["unkeyed"]  # an argument of a type the key cannot describe: not memoised


def test_classes_described_by_repr_alone_print_their_whole_value(memo_run):
    assert memo_run["repr_complete"] == {"CoreRangeSet": True, "Shape": True, "TensorTopology": True}


def test_a_package_with_an_illegal_config_in_its_last_layer_only_is_rejected(real_ttnn, tmp_path):
    """Llama-3.2-1B (16 layers): the last layer's decode wo gets an in0_block_w that does not divide K; the first 15
    layers' wo calls are identical and answered from the first, the last is judged and rejected."""
    source = ROOT / "generated" / "llama_3_2_1b" / "n150"
    package = tmp_path / "llama_3_2_1b" / "n150"
    shutil.copytree(source, package)
    configs = package / "configs.py"
    text = configs.read_text()
    start = text.index("    wo_program = ", text.index("class Decode"))
    end = text.index("\n    )\n", start) + len("\n    )\n")
    planted = re.sub(r"in0_block_w=\d+", "in0_block_w=7", text[start:end], count=1)
    assert planted != text[start:end]
    configs.write_text(text + "\n\nPLANTED_LAST_WO = " + planted.strip().split("=", 1)[1].strip() + "\n")
    model = package / "model.py"
    text = model.read_text()
    assert text.count("program_config=C.Decode.wo_program,") == 1
    text = text.replace("program_config=C.Decode.wo_program,", "program_config=self.wo_program,")
    init = "        self.w = weights\n        self.transformation_mats = transformation_mats\n"
    assert text.count(init) == 1
    text = text.replace(init, init + "        self.wo_program = C.Decode.wo_program\n")
    layers = "        self.layers = [TransformerBlock(layer_weights, transformation_mats) for layer_weights in weights[\"layers\"]]\n"
    assert text.count(layers) == 1
    text = text.replace(layers, layers + "        self.layers[-1].attention.wo_program = C.PLANTED_LAST_WO\n")
    model.write_text(text)

    done = subprocess.run(TTTGEN + ["check", str(package), "--ttnn", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    [verdict] = json.loads(done.stdout)["real_ttnn"]
    rejected = [f for f in verdict["findings"] if f.startswith("rejected") and "decode.wo" in f]
    assert rejected and "in0_block_w" in rejected[0], verdict["findings"]
    [wo] = [op for op in verdict["ops"] if op["key"] == "decode.wo" and op["phase"] == "decode"]
    assert wo["calls"] == 16 and wo["accepted"] == 15  # layers 0-14 accepted, layer 15 rejected
    assert wo["judged"] == 2  # layer 0 and the planted layer 15; layers 1-14 answered from layer 0
    memo = verdict["memo"]
    assert memo["judged"] < memo["calls"] // 4


def test_judging_each_distinct_call_once_reports_what_judging_every_call_reports(real_ttnn, tmp_path):
    """Llama-3.2-1B on n150, every mode: the op records (calls, accepted, ttnn's messages, L1 figures per call site)
    are the same whether every call is judged or each distinct call once; the second judges far fewer."""
    from tttgen.checking.realttnn.check import RUNNER, prepare_job

    job, device = prepare_job(ROOT / "generated" / "llama_3_2_1b" / "n150", tmp_path)
    reports = {}
    for mode, every in (("every", True), ("once", False)):
        job_file, out = tmp_path / f"job_{mode}.json", tmp_path / f"out_{mode}.json"
        job_file.write_text(json.dumps({"packages": [{**job, "judge_every_call": every}]}))
        assert environment.run_script(RUNNER, job_file, out, device) is None
        [reports[mode]] = json.loads(out.read_text())["packages"]
    every, once = reports["every"], reports["once"]
    assert not every["errors"] and not once["errors"]

    def records(report):
        return [{k: v for k, v in op.items() if k != "judged"} for op in report["ops"]]

    assert records(once) == records(every)
    assert [(p["phase"], p["status"]) for p in once["phases"]] == [(p["phase"], p["status"]) for p in every["phases"]]
    assert every["memo"]["judged"] == every["memo"]["calls"] == once["memo"]["calls"]
    assert once["memo"]["judged"] * 5 < once["memo"]["calls"]
