"""Every input file is bounded before it is parsed (tttgen/inputs/bounds.py): the crashes a fuzzer found (deep
nesting: a segfault in libyaml, a RecursionError in json; a 5000-digit int: Python's ValueError; a `True:` key: a
TypeError in the description checks) are each exit 2 with one message naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontend_cli import files_under, run_cli
from tttgen.inputs import bounds
from tttgen.inputs.load import ROOT

PROFILE = (ROOT / "device_profiles" / "n150.yaml").read_text()
CONFIG = (ROOT / "tests" / "data" / "tiny-llama" / "config.json").read_text()


def _refused(tmp_path: Path, name: str, text: str, *args: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    code, out = run_cli("validate", str(path))
    assert code == 2 and "Traceback" not in out, out
    if args:  # build refuses it too, writing nothing
        target = tmp_path / "out"
        bcode, bout = run_cli("build", *[a.replace("{path}", str(path)) for a in args], "--out", str(target),
                              "--ttnn-check", "off")
        assert bcode == 2 and files_under(target) == [], bout
    return out


@pytest.mark.parametrize("text", ["batch: " + "[" * 200_000 + "]" * 200_000, "a:\n" + "- " * 10_000 + "1\n"])
def test_deeply_nested_hints_are_refused_before_parsing(tmp_path, text):
    out = _refused(tmp_path, "hints.yaml", text, "mlp", "--hints", "{path}", "--device", "n150")
    assert "hints.yaml:" in out and "nesting deeper than 64 levels" in out


def test_deeply_nested_json_config_is_refused(tmp_path):
    text = CONFIG.replace('"torch_dtype": "bfloat16"', '"torch_dtype": ' + "[" * 100_000 + "]" * 100_000)
    out = _refused(tmp_path, "config.json", text, "--config", "{path}", "--device", "n150")
    assert "config.json:" in out and "nesting deeper than 64 levels" in out


def test_huge_integers_are_refused_in_a_profile_and_a_config(tmp_path):
    profile = PROFILE.replace("\narch:", "\nl1_bytes_extra: " + "7" * 5000 + "\narch:", 1)
    out = _refused(tmp_path, "n150.yaml", profile)
    assert "n150.yaml:" in out and "an integer with more than 40 digits" in out
    config = CONFIG.replace('"vocab_size": 512', '"vocab_size": ' + "5" * 5000)
    out = _refused(tmp_path, "config.json", config, "--config", "{path}", "--device", "n150")
    assert "config.json:14: field 'vocab_size': a number with more than 40 digits" in out


def test_a_non_string_key_names_its_line_and_field(tmp_path):
    text = (ROOT / "modules" / "mlp.yaml").read_text().replace("  x: {shape:", "  True: {shape:")
    out = _refused(tmp_path, "mlp.yaml", text, "{path}", "--device", "n150")
    assert "mlp.yaml:11: field 'inputs': key True is not a string" in out


def test_aliases_may_not_explode_or_loop(tmp_path):
    laughs = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    assert "expand to more than" in _refused(tmp_path, "hints.yaml", laughs)
    assert "refers to a value that contains it" in _refused(tmp_path, "loop.yaml", "a: &x [*x]\n")


def test_a_file_past_the_size_bound_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(bounds, "MAX_BYTES", 1024)
    out = _refused(tmp_path, "hints.yaml", "batch: 1\n" + "# padding\n" * 200)
    assert "larger than" in out


def test_yaml_and_json_syntax_errors_are_file_line_col_in_our_words(tmp_path):
    out = _refused(tmp_path, "hints.yaml", "batch: 1\nprefill_lens: [128, 256\nmax_seq_len: 512\n")
    assert "hints.yaml:3:" in out and "not valid YAML: a [ list is not closed by ]" in out
    assert "<byte string>" not in out
    out = _refused(tmp_path, "config.json", '{\n  "hidden_size": 64,\n}')
    assert "config.json:3:1: not valid JSON" in out


@pytest.mark.parametrize(
    "value, words", [("2001-02-30", "'2001-02-30' is not a valid timestamp"), ("!!int 9x", "'9x' is not a valid int")]
)
def test_a_scalar_yaml_cannot_construct_names_its_field(tmp_path, value, words):
    """A ValueError traceback from PyYAML's constructor before: `2001-02-30` resolves as a date."""
    out = _refused(tmp_path, "hints.yaml", f"batch: 1\nmax_seq_len: {value}\n")
    assert f"hints.yaml:2: field 'max_seq_len': {words}" in out


def test_duplicate_keys_in_json_name_the_second(tmp_path):
    out = _refused(tmp_path, "config.json", CONFIG.replace('"vocab_size": 512,', '"vocab_size": 512,\n"vocab_size": 64,'))
    assert "config.json:15: field 'vocab_size': appears twice" in out


def test_an_overlong_shape_expression_is_one_problem(tmp_path):
    text = (ROOT / "modules" / "mlp.yaml").read_text().replace("[1, 1, rows, in_features]", "[1, 1, rows, " + "(" * 300 + "in_features" + ")" * 300 + "]")
    out = _refused(tmp_path, "mlp.yaml", text)
    assert "mlp.yaml:11:" in out and "at most 256" in out


def _numeric_paths(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _numeric_paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _numeric_paths(value, prefix + (i,))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        yield prefix


def test_every_number_of_a_device_profile_is_bounded(tmp_path):
    """Each number of a profile set to 0, -1 or 10**39: refused with its field, or (a zero time) built; a zero
    clock or cycle count once divided by zero in the cost model, and a 10**39-core grid never finished."""
    import copy

    import yaml

    base = yaml.safe_load(PROFILE)
    accepted = []
    for path in _numeric_paths(base):
        for value in (0, -1, 10**39):
            data = copy.deepcopy(base)
            node = data
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
            case = tmp_path / f"{'.'.join(map(str, path))}={value}"
            case.mkdir()
            (case / "n150.yaml").write_text(yaml.safe_dump(data))
            code, out = run_cli("validate", str(case / "n150.yaml"))
            assert code in (0, 2), out
            if code == 2:
                assert str(path[0]) in out, out
            else:
                accepted.append((path, value))
    assert accepted and all(value == 0 and str(path[-1]).endswith("_ns") or path == ("l1_small_size",)
                            for path, value in accepted), accepted
    for path, value in accepted[:3]:  # zero latencies and gaps: the cost model takes them (three builds suffice)
        case = tmp_path / f"{'.'.join(map(str, path))}={value}"
        code, out = run_cli("build", "mlp", "--device", str(case / "n150.yaml"), "--out", str(case / "out"),
                            "--ttnn-check", "off")
        assert code == 0, out


def test_each_read_of_a_yaml_file_is_a_deep_copy_of_its_one_parse(tmp_path):
    """A file is parsed once a process and each read gets its own copy (spec/load.copy_data, faster than
    copy.deepcopy): equal to copy.deepcopy's, an alias still one object held twice, nothing shared with the parse or
    with another read (a caller that edits its data edits only its own)."""
    import copy

    from tttgen.inputs.load import _parsed, copy_data, read_yaml

    path = tmp_path / "d.yaml"
    path.write_text(
        "base: &b {dims: [1, 2, {deep: x}], when: 2024-01-02}\n"
        "alias: *b\n"
        "tags: !!set {a, b}\n"
        "pairs: !!omap [{one: [1]}, {two: {n: 2}}]\n"
        "plain: [true, null, 1.5, -3, text]\n"
    )
    first, _ = read_yaml(path)
    parsed, _ = _parsed(path.read_bytes(), str(path))
    reference = copy.deepcopy(parsed)
    assert repr(first) == repr(reference) and first == reference
    assert first["alias"] is first["base"] and first["base"] is not parsed["base"]
    first["base"]["dims"][2]["deep"] = "edited"
    first["pairs"][0][1].append(2)
    second, _ = read_yaml(path)
    assert second == reference and parsed == reference
    assert second["pairs"][1][1] is not parsed["pairs"][1][1]
    assert repr(copy_data(parsed)) == repr(reference)
