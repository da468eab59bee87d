"""Property-based test of the front end: every shipped description, Hugging Face config, hints file and device
profile, mutated (a value swapped for a nasty one, a field dropped or renamed, the text cut or spliced), goes
through `validate` and `build`, and the input contract holds: exit 0, or exit 2 with a message and no traceback,
and nothing written on failure.

A fixed budget: derandomized (the same examples every run) and a bounded number of examples per kind, so it runs
in seconds in `make test` (TTTGEN_FUZZ_SCALE multiplies the budget for a longer hunt). A failure prints the mutated file's text (hypothesis shrinks it first).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from frontend_cli import files_under, run_cli
from tttgen.inputs.load import ROOT

MODULES = sorted((ROOT / "modules").glob("*.yaml")) + sorted((ROOT / "model_specs").glob("*.yaml"))
CONFIGS = sorted((ROOT / "tests" / "data").rglob("*.json"))
HINTS = sorted((ROOT / "tests" / "data" / "hints").glob("*.yaml"))
PROFILES = sorted((ROOT / "device_profiles").glob("*.yaml"))
# built quickly when a mutation leaves them valid (a valid mutation of a large model builds what the golden and
# hf-config tests build already: validate covers its front end)
CHEAP = {"mlp", "rotary_half", "gemma_mlp", "llama_mlp", "boltz_transition", "boltz_adaln"}


def _fuzz_settings(examples: int):
    # TTTGEN_FUZZ_SCALE=10 runs ten times the examples (a longer hunt by hand; `make test` keeps the budget)
    return settings(
        max_examples=examples * int(os.environ.get("TTTGEN_FUZZ_SCALE", "1")),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


NASTY = st.one_of(
    st.sampled_from(
        [0, -1, -128, 1, 3, 31, 2**31, 10**45, 1.5, -0.0, float("inf"), "", "x", "last", "rows", "dim // 0",
         "dim - dim", "0 * rows", "(" * 300, "a" * 300, "9" * 300, True, False, None, [], {}, [0], [-1, 0],
         {"True": 1}, {True: 1}, {1: "x"}, _deep(100), "{i}", "{", "modes", "call"]
    ),
    st.integers(-(10**6), 10**6),
    st.text(max_size=12),
)
SPLICES = [":", ": ", "- ", "{", "}", "[", "]", "\t", "&a ", "*a", "*undefined", "\x00", "\x85", "é", "'", '"',
           "\n  ", "\nTrue: 1\n", "9" * 5000, "[" * 5000, "!!python/object:os.system ", "? ", "<<: ", "---\n", "%",
           " 2001-02-30", " !!int 9x ", " !!float x ", " !!binary @ "]


def _pick_path(draw, data) -> list:
    path, node = [], data
    while isinstance(node, (dict, list)) and node and (not path or draw(st.integers(0, 3)) != 0):  # a field, at least
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        path.append(key)
        node = node[key]
    return path


def _mutate_data(draw, data):
    path = _pick_path(draw, data)
    if not path:
        return draw(NASTY)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = draw(st.sampled_from(["replace", "replace", "delete", "rename", "add"]))
    if action == "replace":
        parent[key] = draw(NASTY)
    elif action == "delete":
        del parent[key]
    elif action == "rename" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["True", "x", "name", "in", "shape", "typo", "1", ""]))] = parent.pop(key)
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(["extra", "doc", "shape", "key", "op"]))] = draw(NASTY)
    else:
        parent.insert(key, draw(NASTY))
    return data


def _mutated_text(draw, source: Path) -> str:
    """The file, mutated as data (then written back) or as text."""
    text = source.read_text()
    is_json = source.suffix == ".json"
    if draw(st.integers(0, 2)) != 0:  # as data, two times in three
        data = json.loads(text) if is_json else yaml.safe_load(text)
        for _ in range(draw(st.integers(1, 3))):
            data = _mutate_data(draw, data)
        if is_json:
            return json.dumps(data, indent=1, default=str)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    action = draw(st.sampled_from(["truncate", "splice", "splice", "duplicate_line", "drop_line"]))
    lines = text.split("\n")
    if action == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if action == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(SPLICES)) + text[at:]
    i = draw(st.integers(0, len(lines) - 1))
    if action == "duplicate_line":
        lines.insert(i, lines[i])
    else:
        del lines[i]
    return "\n".join(lines)


def _check(kind: str, source: Path, text: str, build_args) -> None:
    """validate, then build (into an empty folder, --ttnn-check off), each holding the contract."""
    note(f"{kind} {source.name} mutated to:\n{text[:4000]}")
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp) / "in"
        case.mkdir()
        path = case / source.name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        code, out = run_cli("validate", str(path))
        event(f"{kind}: validate exit {code}")  # --hypothesis-show-statistics shows the mix
        assert code in (0, 2), out
        assert "Traceback" not in out
        if code == 2:
            assert out.startswith("error: ") and len(out) > len("error: ") + 5, out
        assert files_under(case) == [path]  # validate writes nothing
        args = build_args(path, code)
        if args is None:
            return
        target = Path(tmp) / "out"
        bcode, bout = run_cli("build", *args, "--out", str(target), "--ttnn-check", "off")
        event(f"{kind}: build exit {bcode}")
        assert bcode in (0, 2), bout
        assert "Traceback" not in bout
        if bcode != 0:
            assert bout.startswith("error: "), bout
            assert files_under(target) == []  # nothing half-written
        if code == 2 and kind != "profile":  # what validate refuses, build refuses (profiles validate as data)
            assert bcode == 2, bout


@_fuzz_settings(40)
@given(st.data())
def test_mutated_module_descriptions_keep_the_contract(data):
    source = data.draw(st.sampled_from(MODULES))
    text = _mutated_text(data.draw, source)

    def build(path, code):
        return None if code == 0 and source.stem not in CHEAP else [str(path), "--device", "n150"]

    _check("module", source, text, build)


@_fuzz_settings(30)
@given(st.data())
def test_mutated_hf_configs_keep_the_contract(data):
    source = data.draw(st.sampled_from(CONFIGS))
    text = _mutated_text(data.draw, source)
    _check("config", source, text, lambda path, code: None if code == 0 else ["--config", str(path), "--device", "n150"])


@_fuzz_settings(15)
@given(st.data())
def test_mutated_hints_keep_the_contract(data):
    source = data.draw(st.sampled_from(HINTS))
    text = _mutated_text(data.draw, source)
    _check("hints", source, text, lambda path, code: ["mlp", "--hints", str(path), "--device", "n150"])


@_fuzz_settings(15)
@given(st.data())
def test_mutated_device_profiles_keep_the_contract(data):
    source = data.draw(st.sampled_from(PROFILES))
    text = _mutated_text(data.draw, source)
    _check("profile", source, text, lambda path, code: ["mlp", "--device", str(path)])


def test_the_fuzzer_sees_every_kind_of_input():
    assert len(MODULES) >= 20 and len(CONFIGS) >= 9 and HINTS and len(PROFILES) >= 5
