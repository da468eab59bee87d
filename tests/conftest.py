import os
from pathlib import Path

import pytest

from tttgen.checking.realttnn import environment

ROOT = Path(__file__).resolve().parents[1]

# Under pytest-xdist, each worker's torch (and its OpenMP pool) gets its share of the cores: two workers of two
# threads each on a 2-core machine spend half their CPU spinning (measured: a Boltz and verify subset took 179 s of
# CPU that way against 83 s with one thread per worker, in the same wall time). Set before any test imports torch.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT") and "OMP_NUM_THREADS" not in os.environ:
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# Each test file's layer, as a pytest marker (registered in pyproject.toml): `-m unit` or `-m "not emulator and not
# realttnn and not golden"` runs the quick part. A file's layer is what most of its time goes to; a test that asks the
# real ttnn (the `real_ttnn` fixture) is also marked realttnn wherever it lives. A file not listed gets no layer.
LAYERS = {
    "unit": (  # inputs, CLI plumbing, cost model, single functions: no whole-model plan
        "test_apicheck.py",
        "test_architecture.py",
        "test_bench_decode.py",
        "test_bench_optimizer.py",
        "test_cli.py",
        "test_cost_model.py",
        "test_format_cache.py",
        "test_inputs.py",
        "test_mesh_profiles.py",
        "test_mesh_rules.py",
        "test_ccl_cost.py",
        "test_module_descriptions.py",
        "test_report_cache.py",
        "test_tiling.py",
        "test_ttnn_sweep.py",
    ),
    "passes": (  # the builder and the passes: graphs and their decisions
        "test_builder_expand.py",
        "test_column_chunks.py",
        "test_fusion.py",
        "test_hf_configs.py",
        "test_ir_entry.py",
        "test_host_io.py",
        "test_pinned_overrides.py",
        "test_parallelism.py",
        "test_pipeline.py",
        "test_rules.py",
        "test_search.py",
    ),
    "render": (  # rendered packages read as text
        "test_description_features.py",
        "test_generated_code.py",
        "test_output.py",
        "test_weight_transforms.py",
    ),
    "golden": ("test_golden.py",),  # committed generated/ against a fresh render
    "emulator": (  # generated packages on the ttnn CPU emulator, and the torch references they are judged against
        "emulator/",
        "test_boltz_modules.py",
        "test_boltz_pair_modules.py",
        "test_boltz_projections.py",
        "test_generate_loop.py",
        "test_module_packages.py",
        "test_paged.py",
        "test_pi0_modules.py",
        "test_pi0_policy.py",
        "test_pi0_reference.py",
        "test_real_weights.py",
        "test_sampled_decode.py",
        "test_traced_decode.py",
        "test_verify.py",
        "test_mesh_verify.py",
        "test_mesh_modules.py",
    ),
    "realttnn": ("realttnn/",),  # the real ttnn 0.81.1 on a mock device
}


def layer_of(relative: str) -> str | None:
    for layer, paths in LAYERS.items():
        if any(relative == p or (p.endswith("/") and relative.startswith(p)) for p in paths):
            return layer
    return None


def shares_module_work(item) -> bool:
    """Whether the test reads a module-scoped fixture of its file (a package built, run or judged once for the
    file's tests) or is marked `shares_module_work` (its file caches runs in the module, e.g. by lru_cache)."""
    if item.get_closest_marker("shares_module_work"):
        return True
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info else ()
    return any(d.scope == "module" for chain in defs for d in chain)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (`--dist loadgroup`, as `make test` runs)
def pytest_collection_modifyitems(items):
    tests = ROOT / "tests"
    for item in items:
        relative = item.path.relative_to(tests).as_posix()
        layer = layer_of(relative)
        if layer:
            item.add_marker(getattr(pytest.mark, layer))
        if "real_ttnn" in getattr(item, "fixturenames", ()) and layer != "realttnn":
            item.add_marker(pytest.mark.realttnn)
        # A file's tests that share module work run on one worker, which then does that work once, not once per
        # worker: under `make test`'s two workers the real-ttnn HF-config fixture alone was judged twice.
        if shares_module_work(item):
            item.add_marker(pytest.mark.xdist_group(relative))


# `tttgen build` asks the real ttnn when its venv exists; tests that build only to look at the output opt out,
# and the real-ttnn tests (tests/realttnn) ask it explicitly.
os.environ.setdefault("TTTGEN_TTNN_CHECK", "off")


@pytest.fixture(scope="session")
def real_ttnn():
    """The real ttnn 0.81.1 (a Python 3.12 venv, `make ttnn-venv`), for tests that ask it (tests/realttnn and the
    sweep's small form). `make test` creates that venv first, so in CI these tests always run: there a missing venv
    is a failure, not a skip."""
    env = environment.available()
    if env is None:
        message = f"no ttnn=={environment.TTNN_VERSION} venv at {environment.venv_dir()}: {environment.SETUP_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return env


@pytest.fixture(scope="session")
def load_benchmark():
    """A loader of benchmarks/<name>.py as a module (benchmarks are scripts, not a package)."""
    return _load_benchmark


def _load_benchmark(name: str):
    """Import benchmarks/<name>.py; yields the module, then unloads it."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]
