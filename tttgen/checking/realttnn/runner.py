"""Run generated packages under the real ttnn on a mock device and report what ttnn says about every op.

This file runs inside the torch-free Python 3.12 venv that holds `ttnn==0.81.1` (see `setup.py`), as
`python runner.py JOB.json OUT.json`. The host side (`tttgen.checking.realttnn.check`) writes the job: the packages, the
checkpoint shapes of each, and the calls to make (every prefill length, decode). The environment already points
`TT_METAL_MOCK_CLUSTER_DESC_PATH` at the board's cluster descriptor.

For each package:
1. `configs.py` is imported: every config object is constructed by the real ttnn classes.
2. The ttnn API the package uses is checked by `tttgen.apicheck` introspecting the real module.
3. `Model.open(...)` opens the mock device the way the package does (its `l1_small_size`), the weights are loaded
   through the package's own `weights.py` with shape-only torch/safetensors stand-ins (`shims.py`) and
   `from_torch`/`as_tensor` allocating device tensors of the same shape, dtype, layout and memory config.
4. Each call runs with every ttnn op inside a NO_DISPATCH graph capture: programs are created and validated,
   nothing runs. Per op: accepted, or ttnn's own message with the model.py line, and the L1 per core ttnn reports.
   After a rejection the op is retried without its program config so the rest of the call is still checked
   (later records in that call are marked `after_rejection`).

Only the standard library, ttnn, `shims.py`, `probe.py` and the standard-library-only `tttgen/apicheck.py` and
`tttgen/tiling.py` (loaded by path) are imported here.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import sys
import threading
import time
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # shims.py; the main venv's site-packages never enter this 3.12 interpreter

import mesh_rules  # noqa: E402
import shims  # noqa: E402
from memo import CallMemo  # noqa: E402
from probe import first_lines  # noqa: E402

# ttnn-jit's real decorator flags (tt-mlir tools/ttnn-jit/api.py; reference module-library-facts §1.1).
JIT_FLAGS = ("compile_only", "debug", "enable_cache", "math_fidelity", "memory_config", "fallback", "extra_pipeline_options")
# Calls that manage the device or host memory: run as they are, outside any capture, not reported as ops.
# (from_torch, as_tensor and to_torch are replaced by tensor_io; classes such as ttnn.Shape are never wrapped.)
PASS_THROUGH = frozenset(
    {
        "open_device",
        "close_device",
        "synchronize_device",
        "deallocate",
        # a mesh package opens its mesh and builds mesh mappers and composers (the stand-ins read their placements)
        "set_fabric_config",
        "open_mesh_device",
        "close_mesh_device",
        "get_device_tensors",
        "ReplicateTensorToMesh",
        "ConcatMeshToTensor",
        "ConcatMesh2dToTensor",
    }
)
# Pass-through calls after which nothing judged before applies (a device opened or closed, the fabric changed).
DEVICE_LIFECYCLE = frozenset({"open_device", "close_device", "set_fabric_config", "open_mesh_device", "close_mesh_device"})


CONFIG_SUFFIXES = ("_program", "_compute", "_memory")


def call_ops(path: Path) -> dict[int, str]:
    """Source line -> op name for every call in a generated file that passes a configs.py attribute named
    `<op>_program`, `<op>_compute` or `<op>_memory` (e.g. `P.wqkv_program` -> wqkv). Config objects may be shared
    between ops (one compute-kernel config for many), so the attribute *name* says which op a call is."""
    import ast

    ops: dict[int, str] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        for arg in list(node.args) + [k.value for k in node.keywords]:
            if isinstance(arg, ast.Attribute) and arg.attr.endswith(CONFIG_SUFFIXES):
                op = arg.attr.rsplit("_", 1)[0]
                for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    ops.setdefault(line, op)  # ast.walk visits outer calls first; inner lines keep the outer op
                break
    return ops


class Recorder:
    """Wraps ttnn callables the package uses; records one entry per (call, op key)."""

    def __init__(self, ttnn, package_dir: Path):
        self.ttnn = ttnn
        self.graph = ttnn._ttnn.graph
        self.package_dir = str(package_dir)
        self.ops = {name: call_ops(package_dir / name) for name in ("model.py", "weights.py")}
        self.phase = "load"
        self.rejected_in_phase = False
        self.records: dict[tuple[str, str, int], dict] = {}
        self.local = threading.local()
        self.memo = CallMemo(ttnn)  # each distinct call judged once (memo.py)
        self.mesh_rules: dict | None = None  # a mesh package's rules the mock does not check (mesh_rules.py)

    def _where(self) -> tuple[str, int]:
        """The package file and line of the innermost package frame calling ttnn (frames walked, not formatted:
        traceback.extract_stack reads every frame's source line, which cost more than most ttnn calls)."""
        frame = sys._getframe(2)  # the caller of _record
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(self.package_dir):
                return Path(filename).name, frame.f_lineno
            frame = frame.f_back
        return "?", 0

    def _record(self, fn_name: str, **fields) -> None:
        file, line = self._where()
        key = f"{self.phase}.{self.ops.get(file, {}).get(line, fn_name)}"
        rec = self.records.get((self.phase, key, line))
        if rec is None:
            # An op first seen after another op of this call was rejected ran on stand-in inputs.
            after = self.rejected_in_phase and not fields.get("first_rejection")
            rec = self.records[(self.phase, key, line)] = {
                "phase": self.phase, "key": key, "fn": fn_name, "file": file, "line": line, "calls": 0, "judged": 0,
                "accepted": 0, "message": None, "after_rejection": after, "l1_dataflow": 0, "l1_total": 0, "l1_buffers": 0,
            }
        rec["calls"] += 1
        self.memo.calls += 1
        if not fields.get("reused"):  # run by ttnn, not answered from an identical earlier call
            rec["judged"] += 1
            self.memo.judged += 1
        if fields.get("accepted"):
            rec["accepted"] += 1
        elif rec["message"] is None:
            rec["message"] = fields.get("message")
        for k in ("l1_dataflow", "l1_total", "l1_buffers"):
            rec[k] = max(rec[k], fields.get(k, 0))

    def call(self, fn_name: str, fn, args, kwargs):
        if getattr(self.local, "depth", 0) or fn_name in PASS_THROUGH:
            if fn_name in DEVICE_LIFECYCLE:
                self.memo.clear()
            return fn(*args, **kwargs)
        self.local.depth = 1
        g = self.graph
        try:
            refused = mesh_rules.before(fn_name, args, kwargs, self.mesh_rules) if self.mesh_rules else None
            if refused:  # hardware would refuse what the mock accepts: reported as a rejection, the call still runs
                self._record(fn_name, accepted=False, message=refused, first_rejection=not self.rejected_in_phase)
                self.rejected_in_phase = True
                return self._retry(fn, args, kwargs, None, attempts=[kwargs])
            # a call identical to one ttnn judged and accepted (same op, argument specs, configs and allocator
            # state): its outputs are rebuilt with the same specs and the first call's L1 figures are reported
            key, walk = self.memo.key(fn_name, args, kwargs) if self.memo.enabled else (None, None)
            if key is None:
                self.memo.unkeyed += 1
            else:
                self.memo.seen.add(key)
                hit = self.memo.replay(key, walk)
                if hit is not None:
                    out, figures = hit
                    self._record_judged(fn_name, figures, reused=True)
                    return out
            g.begin_graph_capture(g.RunMode.NO_DISPATCH)
            try:
                out = fn(*args, **kwargs)
            except Exception as err:  # ttnn's TT_FATAL / TypeError: the verdict
                g.end_graph_capture()
                first = not self.rejected_in_phase
                self._record(fn_name, accepted=False, message=first_lines(err), first_rejection=first)
                self.rejected_in_phase = True
                return self._retry(fn, args, kwargs, err)
            captured = g.end_graph_capture()
            usage = g.extract_resource_usage_per_core(captured)
            figures = {
                "l1_dataflow": int(usage.peak_dataflow_buffer), "l1_total": int(usage.peak_total), "l1_buffers": int(usage.peak_l1),
            }
            self._record_judged(fn_name, figures)
            if key is not None:
                self.memo.remember(key, walk, out, figures)
            return out
        finally:
            self.local.depth = 0

    def _record_judged(self, fn_name: str, figures: dict, reused: bool = False) -> None:
        """An op ttnn accepted, unless its L1 figures break a rule the mock mesh does not check."""
        refused = mesh_rules.after(fn_name, figures, self.mesh_rules) if self.mesh_rules else None
        if refused:
            self._record(fn_name, accepted=False, reused=reused, message=refused, first_rejection=not self.rejected_in_phase, **figures)
            self.rejected_in_phase = True
        else:
            self._record(fn_name, accepted=True, reused=reused, **figures)

    def _retry(self, fn, args, kwargs, err, attempts=None):
        """Run the rejected op without its program config (then in DRAM) so the rest of the call is checked."""
        attempts = attempts or [
            {k: v for k, v in kwargs.items() if k != "program_config"},
            {**{k: v for k, v in kwargs.items() if k != "program_config"}, "memory_config": self.ttnn.DRAM_MEMORY_CONFIG},
        ]
        g = self.graph
        for attempt in attempts:
            try:
                g.begin_graph_capture(g.RunMode.NO_DISPATCH)
                try:
                    return fn(*args, **attempt)
                finally:
                    g.end_graph_capture()
            except Exception:
                continue
        raise PhaseAborted(first_lines(err) if err is not None else "the op failed after a rule refused it")


class PhaseAborted(RuntimeError):
    pass


class Proxy:
    """Stands for the `ttnn` module inside a package: callables are recorded, everything else passes through."""

    def __init__(self, target, recorder: Recorder, prefix: str = ""):
        self._target = target
        self._recorder = recorder
        self._prefix = prefix

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if isinstance(value, types.ModuleType):  # ttnn.experimental, ttnn.transformer
            return Proxy(value, self._recorder, f"{self._prefix}{name}.")
        if isinstance(value, type) or not callable(value):
            return value
        full = f"{self._prefix}{name}"
        recorder = self._recorder

        def wrapped(*args, **kwargs):
            return recorder.call(full, value, args, kwargs)

        wrapped.__name__ = name
        return wrapped


TORCH_TO_TTNN = {"float32": "float32", "float": "float32", "float64": "float32", "bfloat16": "bfloat16", "int32": "int32",
                 "int64": "uint32", "long": "uint32", "uint8": "uint8", "bool": "uint8"}


def tensor_io(ttnn) -> dict:
    """Stand-ins for the package: from_torch / as_tensor allocate a device tensor of the same spec; to_torch
    returns a FakeTensor."""
    import inspect

    real_from_torch, real_as_tensor = ttnn.from_torch, ttnn.as_tensor
    # FastOperation wraps the Python function whose signature ttnn binds.
    from_sig = inspect.signature(getattr(real_from_torch, "function", real_from_torch))
    as_sig = inspect.signature(getattr(real_as_tensor, "function", real_as_tensor))

    splits: dict[int, tuple] = {}  # id(mapper) -> (dims per mesh axis, mesh shape) of each shard mapper made

    def shard_2d(mesh_device, dims, mesh_shape):
        mapper = ttnn.ShardTensor2dMesh(mesh_device, dims=dims, mesh_shape=mesh_shape)
        splits[id(mapper)] = (tuple(dims), tuple(mesh_shape))
        return mapper

    def shard(mesh_device, dim):
        mapper = ttnn.ShardTensorToMesh(mesh_device, dim=dim)
        splits[id(mapper)] = ((None, dim), (1, mesh_device.get_num_devices()))  # every chip along one flattened axis
        return mapper

    def per_chip(shape, mapper):
        """The shape each chip holds: the host shape divided along the dims the mapper splits (replicated: all)."""
        dims, mesh_shape = splits.get(id(mapper), ((None, None), (1, 1)))
        out = list(shape)
        for axis, d in enumerate(dims):
            if d is not None:
                out[d] //= mesh_shape[axis]
        return out

    def allocate(sig, tensor, *args, **kwargs):
        bound = sig.bind(tensor, *args, **kwargs)  # a wrong keyword or argument count fails here, as it would for real
        a = bound.arguments
        dtype = a.get("dtype") or getattr(ttnn, TORCH_TO_TTNN.get(tensor.dtype.name, "float32"))
        layout = a.get("layout") or ttnn.ROW_MAJOR_LAYOUT
        device = a.get("device")
        memory_config = a.get("memory_config") or ttnn.DRAM_MEMORY_CONFIG
        shape = ttnn.Shape(per_chip(list(tensor.shape), a.get("mesh_mapper")))
        if device is None:
            return ttnn.zeros(list(shape), dtype=dtype, layout=layout)
        return ttnn.allocate_tensor_on_device(shape, dtype, layout, device, memory_config)

    def from_torch(tensor, *args, **kwargs):
        return allocate(from_sig, tensor, *args, **kwargs)

    def as_tensor(tensor, *args, **kwargs):
        return allocate(as_sig, tensor, *args, **kwargs)

    def to_torch(tensor, *args, **kwargs):
        return shims.FakeTensor(tuple(int(s) for s in tensor.shape))

    return {"from_torch": from_torch, "as_tensor": as_tensor, "to_torch": to_torch, "ShardTensor2dMesh": shard_2d, "ShardTensorToMesh": shard}


class IOProxy(Proxy):
    def __init__(self, target, recorder, overrides: dict):
        super().__init__(target, recorder)
        self._overrides = overrides

    def __getattr__(self, name):
        if name in self._overrides:
            return self._overrides[name]
        return super().__getattr__(name)


def default_jit_output(ttnn, shape, grid):
    """ttnn-jit's output layout when the decorator declares none: maximally L1 block-sharded."""
    dims = [int(d) for d in shape]
    rows = 1
    for d in dims[:-1]:
        rows *= d
    x, y = load_by_path("tiling").jit_block_grid(-(-rows // 32), -(-dims[-1] // 32), grid[0], grid[1])
    return ttnn.create_sharded_memory_config(shape, ttnn.CoreGrid(x=x, y=y), ttnn.ShardStrategy.BLOCK)


def make_ttnn_jit(ttnn, device_grid) -> types.ModuleType:
    """`ttnn_jit` stand-in: checks the decorator's flags against the real ones, runs the body's ttnn ops eagerly
    (each validated by ttnn) and moves the result to the block's declared output layout, or to ttnn-jit's
    default (maximally L1 block-sharded) when none is declared, so the consumer sees what the JIT returns."""
    mod = types.ModuleType("ttnn_jit")
    mod.__tttgen_standin__ = True

    def jit(**flags):
        unknown = sorted(set(flags) - set(JIT_FLAGS))
        if unknown:
            raise TypeError(f"jit() got unexpected keyword argument(s) {unknown}; ttnn_jit.jit takes {list(JIT_FLAGS)}")
        if flags.get("compile_only") and flags.get("fallback"):
            raise ValueError("ttnn_jit.jit: fallback=True cannot be combined with compile_only=True")

        def decorate(fn):
            def run(*args, **kwargs):
                out = fn(*args, **kwargs)
                target = flags.get("memory_config")
                if target is None:
                    target = default_jit_output(ttnn, out.shape, device_grid)
                return fn.__globals__["ttnn"].to_memory_config(out, target)

            run.__name__ = fn.__name__
            return run

        return decorate

    mod.jit = jit
    return mod


def load_by_path(name: str) -> types.ModuleType:
    """tttgen/<name>.py, a standard-library-only module (apicheck, tiling), loaded by path: the main venv's
    tttgen package and its dependencies are not importable in this interpreter."""
    module_name = f"tttgen_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, HERE.parents[1] / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses resolve their module through sys.modules
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def import_package(directory: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, directory / "__init__.py", submodule_search_locations=[str(directory)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _argument(spec):
    if isinstance(spec, dict) and "tensor" in spec:
        return shims.FakeTensor(tuple(spec["tensor"]), spec.get("dtype", "int64"))
    return spec


def check_package(ttnn, job: dict, index: int) -> dict:
    directory = Path(job["dir"]).resolve()
    report: dict = {"package": job["dir"], "phases": [], "ops": [], "api": [], "errors": []}
    shims.install(Path(job["shapes_file"]))
    sys.modules["ttnn_jit"] = make_ttnn_jit(ttnn, job["grid"])
    name = f"tttgen_realttnn_pkg{index}"
    try:
        import_package(directory, name)
        importlib.import_module(f"{name}.configs")  # every config object constructed by the real ttnn classes
    except Exception as err:
        report["errors"].append(f"configs.py: {first_lines(err)}")
        return report
    apicheck = load_by_path("apicheck")  # with the real ttnn importable, load_api introspects it
    report["api"] = [str(f) for f in apicheck.check_tree(directory, apicheck.load_api())]

    recorder = Recorder(ttnn, directory)
    recorder.memo.enabled = not job.get("judge_every_call", False)  # the call-by-call judge, for comparison
    recorder.mesh_rules = job.get("mesh_rules")
    proxy = IOProxy(ttnn, recorder, tensor_io(ttnn))
    try:
        model_mod = importlib.import_module(f"{name}.model")
        weights_mod = importlib.import_module(f"{name}.weights")
    except Exception as err:
        report["errors"].append(f"import: {first_lines(err)}")
        return report
    for mod in (model_mod, weights_mod):
        mod.ttnn = proxy
    model = None
    try:
        if "host_weights" in job:  # a module package: weights placed from host tensors of the transformed shapes
            host = {
                n: (
                    [{k: shims.FakeTensor(tuple(s)) for k, s in layer.items()} for layer in shape]
                    if shape and isinstance(shape[0], dict)  # a looped call's per-layer weights
                    else shims.FakeTensor(tuple(shape))
                )
                for n, shape in job["host_weights"].items()
            }
            model = model_mod.Model.from_host_weights(host)
        else:
            model = model_mod.Model.open(job["checkpoint_dir"])
    except PhaseAborted as err:
        report["errors"].append(f"Model.open aborted after a rejection: {err}")
    except Exception as err:
        report["errors"].append(f"Model.open: {type(err).__name__}: {first_lines(err)}")
    if model is not None:
        for call in job["calls"]:
            recorder.phase, recorder.rejected_in_phase = call["phase"], False
            started = time.perf_counter()
            status = "ran"
            try:
                args = [_argument(a) for a in call["args"]]
                if call.get("through"):  # e.g. to_device: host inputs -> the device tensors the method takes
                    args = getattr(model, call["through"])(*args)
                getattr(model, call["method"])(*args, **{k: _argument(v) for k, v in call.get("kwargs", {}).items()})
            except PhaseAborted as err:
                status = f"aborted: {err}"
            except Exception as err:
                status = f"error: {type(err).__name__}: {first_lines(err)}"
                report["errors"].append(f"{call['phase']}: {status}")
            report["phases"].append({"phase": call["phase"], "status": status, "seconds": round(time.perf_counter() - started, 2)})
        try:
            model.close()
        except Exception as err:
            report["errors"].append(f"close: {first_lines(err)}")
    report["ops"] = sorted(recorder.records.values(), key=lambda r: (r["phase"], r["line"], r["key"]))
    report["memo"] = recorder.memo.summary()
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".") or k == "ttnn_jit"]:
        del sys.modules[key]
    del model
    gc.collect()
    return report


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text())
    import ttnn

    reports = []
    for i, package in enumerate(job["packages"]):
        started = time.perf_counter()
        try:
            report = check_package(ttnn, package, i)
        except Exception as err:  # the runner itself failed on this package: say so, keep going
            report = {"package": package["dir"], "phases": [], "ops": [], "api": [],
                      "errors": [f"runner: {type(err).__name__}: {first_lines(err)}"]}
        report["seconds"] = round(time.perf_counter() - started, 2)
        reports.append(report)
    Path(argv[1]).write_text(json.dumps({"ttnn_version": getattr(ttnn, "__version__", "?"), "packages": reports}, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
