"""The mistakes a user writes into a module description (tests/data/broken/*.yaml): `validate` and `build` both
refuse each with exit 2, every expected problem at its `file:line:` with its words, no traceback, nothing written.

Each corpus file states what it expects in its first lines: `# expect: LINE[:COL]: words of the message`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from frontend_cli import files_under, run_cli

CORPUS = Path(__file__).parent / "data" / "broken"
LABEL = "tests/data/broken"
EXPECT = re.compile(r"^# expect: (\d+(?::\d+)?): (.+)$")


def _expectations(path: Path) -> list[tuple[str, str]]:
    found = []
    for line in path.read_text().splitlines():
        m = EXPECT.match(line)
        if m:
            found.append((m.group(1), m.group(2)))
    return found


CASES = sorted(p for p in CORPUS.glob("*.yaml") if _expectations(p))


def test_the_corpus_covers_the_mistakes_users_make():
    names = {p.stem for p in CASES}
    assert {
        "linear_width", "shape_div_zero", "zero_width", "negative_size", "duplicate_weight", "duplicate_key",
        "unused_weight", "unused_input", "no_outputs", "output_mismatch", "yaml_syntax", "unknown_module",
        "recursive", "dim_last", "param_input_clash", "true_key", "deep_nesting", "huge_int",
        "reference_missing_class", "reference_missing_adapter", "reference_not_callable", "reference_unknown_package",
        "key_map_mistakes",
        "extends_unknown_base", "extends_cycle", "extends_patch_missing", "extends_conflicting_patch",
        "feature_patch_missing", "derived_unknown", "bind_inherited_type", "mode_names", "sizes_axes",
        "repeat_mistakes",
    } <= names


def _assert_refused(code: int, text: str, path: Path) -> None:
    assert code == 2, text
    assert "Traceback" not in text
    for place, words in _expectations(path):
        assert f"{LABEL}/{path.name}:{place}:" in text, f"no problem at line {place} in:\n{text}"
        line = next(l for l in text.splitlines() if f"{path.name}:{place}:" in l)
        assert words in line, f"'{words}' not in: {line}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_validate_refuses_with_the_line(path):
    code, text = run_cli("validate", str(path))
    _assert_refused(code, text, path)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_build_refuses_with_the_same_messages(path, tmp_path):
    out = tmp_path / "out"
    code, text = run_cli("build", str(path), "--device", "n150", "--out", str(out), "--ttnn-check", "off")
    _assert_refused(code, text, path)
    assert files_under(out) == []


def test_every_shape_problem_is_reported_at_once():
    code, text = run_cli("validate", str(CORPUS / "many_mistakes.yaml"))
    assert code == 2 and "3 problems" in text


def test_a_recursive_call_is_one_problem():
    code, text = run_cli("validate", str(CORPUS / "recursive.yaml"))
    assert code == 2 and "1 problem\n" in text


def test_unknown_module_lists_modules_not_every_yaml_beside_the_file():
    code, text = run_cli("validate", str(CORPUS / "unknown_module.yaml"))
    assert code == 2
    allowed = text.split("(allowed: ", 1)[1]
    assert "mlp" in allowed and "llama" in allowed
    assert "not_a_module" not in allowed  # a hints file in the same folder


def test_a_param_given_on_the_command_line_is_checked_like_a_default(tmp_path):
    """--param dim=0 makes the same degenerate shape a default of 0 does: refused before the cost model runs."""
    out = tmp_path / "out"
    code, text = run_cli(
        "build", "mlp", "--device", "n150", "--param", "in_features=0", "--out", str(out), "--ttnn-check", "off"
    )
    assert code == 2 and "modules/mlp.yaml:" in text and "a dim must be a positive int" in text, text
    assert files_under(out) == []


def test_a_reference_file_is_read_without_running_it(tmp_path):
    """validate parses a reference's Python file (never imports it): an optional import binds its name on some path
    and is accepted, a plain value or an absent name is refused, a file that does not parse is named with its line."""
    from tttgen.inputs.module import python_object_problem

    ref = tmp_path / "ref.py"
    ref.write_text(
        "raise SystemExit('never run')\n"
        "try:\n    from transformers import GPT2Block as Block\nexcept ImportError:\n    Block = None\n"
        "import torch\nWIDTH = 3\nLinear = torch.nn.Linear\n\n\ndef adapt(reference, x):\n    return reference(x)\n"
    )
    assert python_object_problem(ref, "ref.py", "Block") is None
    assert python_object_problem(ref, "ref.py", "Linear") is None
    assert python_object_problem(ref, "ref.py", "adapt") is None
    assert "is a plain value" in python_object_problem(ref, "ref.py", "WIDTH")
    assert "defines no 'adapter' at its top level (defined: Block, Linear, adapt)" in python_object_problem(
        ref, "ref.py", "adapter"
    )
    ref.write_text("def broken(:\n    pass\n")
    assert python_object_problem(ref, "ref.py", "broken") == "'ref.py' does not parse: invalid syntax (line 1)"
