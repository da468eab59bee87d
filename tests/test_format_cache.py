"""black's results are cached by content (tttgen/render/emit.py): a hit returns byte for byte what black returns, a
damaged cache entry is ignored, and output never depends on whether the cache exists."""

import json

import black
import pytest

from tttgen.render import emit

SOURCE = "def f( a,b ):\n  return {'x':a,\n 'y':b}\n"


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """An empty in-process memo and an empty on-disk cache under tmp_path; returns the cache directory."""
    monkeypatch.setattr(emit, "_formatted", {})
    monkeypatch.setenv("TTTGEN_BLACK_CACHE", str(tmp_path / "black"))
    return tmp_path / "black"


def entries(directory):
    return sorted(directory.rglob("*.json"))


def test_cached_and_uncached_results_are_identical(fresh, monkeypatch):
    expected = black.format_str(SOURCE, mode=emit.BLACK_MODE)
    assert emit.format_python(SOURCE, "f.py") == expected  # miss: black runs, the disk entry is written
    assert len(entries(fresh)) == 1
    monkeypatch.setattr(emit, "_formatted", {})
    calls = []
    monkeypatch.setattr(emit, "run_black", lambda *a, **k: calls.append(a) or "black ran")
    assert emit.format_python(SOURCE, "f.py") == expected and calls == []  # a disk hit, black not asked
    monkeypatch.setenv("TTTGEN_BLACK_CACHE", "off")
    monkeypatch.setattr(emit, "_formatted", {})
    assert emit.format_python(SOURCE, "f.py") == "black ran"  # off: no disk cache, black is asked


def test_a_damaged_entry_is_ignored_and_replaced(fresh, monkeypatch):
    expected = emit.format_python(SOURCE, "f.py")
    (path,) = entries(fresh)
    record = json.loads(path.read_text())
    path.write_text(json.dumps({"sha256": record["sha256"], "text": expected + "# tampered\n"}))
    monkeypatch.setattr(emit, "_formatted", {})
    assert emit.format_python(SOURCE, "f.py") == expected
    path.write_text(path.read_text()[:20])  # truncated
    monkeypatch.setattr(emit, "_formatted", {})
    assert emit.format_python(SOURCE, "f.py") == expected
    assert json.loads(path.read_text())["text"] == expected  # rewritten whole


def test_the_key_names_black_version_and_mode(fresh):
    emit.format_python(SOURCE, "f.py")
    (path,) = entries(fresh)
    mode = emit.BLACK_MODE
    assert (mode.line_length, mode.target_versions) == (120, {black.TargetVersion.PY310})
    key = f"black {black.__version__} mode line_length=120 target_versions=PY310 one pass"
    assert path.stem == emit.sha256(f"{key}\n{SOURCE}")


def test_one_pass_is_what_black_returns():
    """run_black is black's first pass; on rendered code (and this source) the second pass black adds changes
    nothing."""
    assert emit.run_black(SOURCE) == black.format_str(SOURCE, mode=emit.BLACK_MODE)


def test_an_unwritable_cache_is_skipped(fresh, monkeypatch):
    fresh.parent.joinpath("black").write_text("a file where the cache directory would be")
    assert emit.format_python(SOURCE, "f.py") == black.format_str(SOURCE, mode=emit.BLACK_MODE)


def test_black_errors_are_not_cached(fresh):
    with pytest.raises(emit.FormatError, match="black could not parse rendered bad.py"):
        emit.format_python("def f(:\n", "bad.py")
    assert entries(fresh) == [] and emit._formatted == {}


def test_a_bucket_keeps_its_most_recently_used_entries(fresh, monkeypatch):
    monkeypatch.setattr(emit, "BLACK_CACHE_BUCKET", 2)
    monkeypatch.setattr(emit, "sha256", lambda text: "00" + emit.hashlib.sha256(text.encode()).hexdigest()[2:])
    sources = [f"x = {i}\n" for i in range(4)]
    for i, source in enumerate(sources):
        emit.format_python(source, "f.py")
        path = next(p for p in entries(fresh) if p.stem == emit.sha256(f"{emit.BLACK_KEY}\n{source}"))
        emit.os.utime(path, ns=(i * 10**9, i * 10**9))  # written one second apart
    kept = {json.loads(p.read_text())["text"] for p in entries(fresh)}
    assert kept == {"x = 2\n", "x = 3\n"}  # one bucket ("00"), the two newest kept


def test_compiled_templates_cache_never_changes_a_render(monkeypatch, tmp_path):
    """Compiled templates kept on disk (jinja2's bytecode cache) render what freshly compiled ones do; a damaged
    entry is recompiled; "off" keeps none."""
    context = {"header": "# h", "module": "m", "device": {"name": "p150"}, "is_lm": True}

    def render(setting):
        monkeypatch.setenv("TTTGEN_JINJA_CACHE", setting)
        emit.environment.cache_clear()
        try:
            return emit.environment().get_template("__init__.py.j2").render(context)
        finally:
            emit.environment.cache_clear()

    fresh = render("off")
    assert fresh.startswith("# h\n") and "m on p150" in fresh
    cache = tmp_path / "jinja"
    assert render(str(cache)) == fresh and list(cache.iterdir())  # compiled and written
    assert render(str(cache)) == fresh  # loaded from disk
    for entry in cache.iterdir():
        entry.write_bytes(b"not bytecode")
    assert render(str(cache)) == fresh
