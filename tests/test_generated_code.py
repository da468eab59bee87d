"""Properties of the generated code itself: every config knob is read, and the package guards its inputs."""

import ast
from dataclasses import replace

import pytest

from plan_cache import cached_files, cached_plan
from tttgen.errors import PipelineError
from tttgen.ir.verify import verify

TINY = "tests/data/tiny-llama/config.json"
TINY_FLAGS = (("max_seq_len", 256), ("prefill_lens", (128, 256)))


def config_definitions(source: str) -> tuple[set[str], dict[str, set[str]]]:
    """Module-level names of configs.py, and each class's attributes."""
    module, classes = set(), {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            module |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ClassDef):
            module.add(node.name)
            classes[node.name] = {
                t.id for n in node.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
            }
    return module, classes


def config_reads(source: str, module_alias: str = "C") -> tuple[set[str], set[tuple[str, str]]]:
    """(C.NAME reads, (config class, attribute) reads) in one generated file.

    `C.Prefill128.x` reads Prefill128's attribute (what generated code does); a local bound to `C.Decode` reads
    Decode's, and one bound to `C.PREFILL[...]` reads "PREFILL[]". Reads through a name are credited to every class
    that name is bound to anywhere in the file.
    """
    tree = ast.parse(source)

    def is_c(node) -> bool:
        return isinstance(node, ast.Name) and node.id == module_alias

    bound: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Attribute) and is_c(value.value):
                bound.setdefault(node.targets[0].id, set()).add(value.attr)
            elif (
                isinstance(value, ast.Subscript) and isinstance(value.value, ast.Attribute) and is_c(value.value.value)
            ):
                bound.setdefault(node.targets[0].id, set()).add(value.value.attr + "[]")
    module, attrs = set(), set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if is_c(node.value):
            module.add(node.attr)
        elif isinstance(node.value, ast.Name):
            attrs |= {(cls, node.attr) for cls in bound.get(node.value.id, ())}
        elif isinstance(node.value, ast.Attribute) and is_c(node.value.value):
            attrs.add((node.value.attr, node.attr))
    return module, attrs


def dead_knobs(files: dict[str, str]) -> list[str]:
    module, classes = config_definitions(files["configs.py"])
    tree = ast.parse(files["configs.py"])
    used_in_configs = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    read_module, read_attrs = set(), set()
    for name in ("model.py", "weights.py"):
        m, a = config_reads(files[name])
        read_module |= m
        read_attrs |= a
    dead = sorted(n for n in module - read_module - used_in_configs)
    for cls, names in sorted(classes.items()):
        dead += [f"{cls}.{n}" for n in sorted(names) if (cls, n) not in read_attrs]
    return dead


def test_dead_knob_finder_finds_one():
    files = {
        "configs.py": "A = 1\nB = 2\nclass Decode:\n    x = A\n    y = 3\nclass Prefill128:\n    z = 4\n",
        "model.py": "def f():\n    D = C.Decode\n    return D.x + C.Prefill128.z + C.Decode.x\n",
        "weights.py": "",
    }
    assert dead_knobs(files) == ["B", "Decode.y"]


@pytest.mark.parametrize(
    "model, device, flags",
    [("llama-3.2-1b", "n150", ()), ("llama-3.2-1b", "p150", ()), (TINY, "n150", TINY_FLAGS)],
)
def test_every_config_knob_is_read(model, device, flags):
    assert dead_knobs(cached_files(model, device, flags)) == []


def test_w3_takes_w1_row_chunks_and_the_verifier_checks_it():
    graph = cached_plan("llama-3.2-1b", "n150").graph
    for key in ("prefill_128", "prefill_1024"):
        w1, w3 = graph.op(f"{key}.w1"), graph.op(f"{key}.w3")
        assert w3.decisions["shape"].batch == w1.decisions["shape"].batch == w1.decisions["calls"]
        assert "calls" not in w3.decisions  # model.py reshapes once, for w1; w3 reads that tensor
    op = graph.op("prefill_1024.w3")
    shape = op.decisions["shape"]
    split = replace(shape, m=shape.m // 2, batch=shape.batch * 2)
    bad = graph.with_ops(op.decide(shape=split) if o.key == op.key else o for o in graph.ops)
    with pytest.raises(PipelineError, match="reads w1's reshaped input"):
        verify(bad, "test")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """The tiny package's Model on the emulator, weights from a seeded random checkpoint."""
    pytest.importorskip("transformers")
    from tttgen.checking.verification import emulated, imported_package, reference_model

    p = cached_plan(TINY, "n150", TINY_FLAGS)
    work = tmp_path_factory.mktemp("guards")
    pkg = work / "pkg"
    pkg.mkdir()
    for name, text in cached_files(TINY, "n150", TINY_FLAGS).items():
        (pkg / name).write_text(text)
    _, checkpoint = reference_model(p.graph.entry.reference, None, work, seed=0)
    with emulated(p.graph.device) as ttnn, imported_package(pkg, "tttgen_guards_tiny") as package:
        device = ttnn.open_device(device_id=0, trace_region_size=package.configs.TRACE_REGION_SIZE)
        yield package.Model(device, str(checkpoint)), package.configs


def test_prefill_guards(tiny_model):
    import torch

    model, C = tiny_model
    with pytest.raises(ValueError, match="empty prompt"):
        model.prefill_forward(torch.zeros(0, dtype=torch.int64), user_id=0)
    with pytest.raises(ValueError, match="longer than the largest prefill length 256"):
        model.prefill_forward(torch.zeros(257, dtype=torch.int64), user_id=0)
    with pytest.raises(ValueError, match="one prompt"):
        model.prefill_forward(torch.zeros(2, 64, dtype=torch.int64), user_id=0)
    for user_id in (-1, C.DECODE_USERS, 1.0):
        with pytest.raises(ValueError, match=rf"user_id must be an int in \[0, {C.DECODE_USERS}\)"):
            model.prefill_forward(torch.zeros(8, dtype=torch.int64), user_id=user_id)
    with pytest.raises(ValueError, match=rf"token ids must lie in \[0, {C.VOCAB_SIZE}\)"):
        model.prefill_forward(torch.full((8,), C.VOCAB_SIZE), user_id=0)
    logits = model.prefill_forward(torch.arange(130), user_id=C.DECODE_USERS - 1)  # the guards pass valid input
    assert logits.shape == (C.VOCAB_SIZE,)


def test_decode_guards(tiny_model):
    import torch

    model, C = tiny_model
    users = C.DECODE_USERS
    tokens, positions = torch.zeros(users, dtype=torch.int64), torch.zeros(users, dtype=torch.int64)
    with pytest.raises(ValueError, match=f"one token per user slot \\({users}\\)"):
        model.decode_forward(tokens[:-1], positions)
    with pytest.raises(ValueError, match=f"positions must have shape \\[{users}\\]"):
        model.decode_forward(tokens, positions[:-1])
    for bad in (-2, C.MAX_SEQ_LEN):  # -1 marks an idle slot
        wrong = positions.clone()
        wrong[3] = bad
        with pytest.raises(ValueError, match=rf"positions must lie in \[0, MAX_SEQ_LEN={C.MAX_SEQ_LEN}\), or be -1"):
            model.decode_forward(tokens, wrong)
    with pytest.raises(ValueError, match="token ids must lie in"):
        model.decode_forward(torch.full((users,), -1), positions)
    last = positions.clone()
    last[0] = C.MAX_SEQ_LEN - 1
    assert model.decode_forward(tokens, last).shape == (users, C.VOCAB_SIZE)
