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


SOURCES = {  # several files, so format_files forks a child for the largest ones
    "a.py": SOURCE,
    "b.py": "x = [1,2,\n 3]\n" * 40,
    "c.py": "class C :\n  def f(self,y): return y\n",
}


def _forks(monkeypatch) -> list:
    """Record the forks format_files makes (in this process: the child's own calls never come back here)."""
    calls = []
    real = emit.os.fork
    monkeypatch.setattr(emit.os, "fork", lambda: calls.append(1) or real())
    return calls


def test_files_formatted_in_a_forked_child_are_what_black_returns(fresh, monkeypatch):
    """The parallel path (a forked child formats the largest files) returns exactly black's text for each file,
    as the serial path does, and caches both alike."""
    monkeypatch.setattr(emit, "_parallel_ok", lambda misses: len(misses) > 1)  # even on a one-core machine
    forks = _forks(monkeypatch)
    expected = {name: black.format_str(source, mode=emit.BLACK_MODE) for name, source in SOURCES.items()}
    assert emit.format_files(SOURCES) == expected and forks == [1]
    assert len(entries(fresh)) == 3
    monkeypatch.setattr(emit, "_formatted", {})
    monkeypatch.setenv("TTTGEN_BLACK_CACHE", "off")
    monkeypatch.setattr(emit, "_parallel_ok", lambda misses: False)
    assert emit.format_files(SOURCES) == expected and forks == [1]  # serial: no fork, same text


def test_a_child_that_dies_leaves_its_files_to_the_parent(fresh, monkeypatch):
    """A child that delivers nothing (here it exits at once) costs time, never output: the parent formats its
    files."""
    monkeypatch.setattr(emit, "_parallel_ok", lambda misses: len(misses) > 1)
    parent = emit.os.getpid()
    real = emit.run_black

    def dying(source):
        if emit.os.getpid() != parent:
            emit.os._exit(3)
        return real(source)

    monkeypatch.setattr(emit, "run_black", dying)
    forks = _forks(monkeypatch)
    expected = {name: black.format_str(source, mode=emit.BLACK_MODE) for name, source in SOURCES.items()}
    assert emit.format_files(SOURCES) == expected and forks == [1]


def test_a_parse_error_in_a_childs_file_is_reported_and_nothing_cached(fresh, monkeypatch):
    """black's error on a file the child took is met again by the parent: one FormatError naming the first bad
    file in order, as the serial path gives; nothing is cached."""
    monkeypatch.setattr(emit, "_parallel_ok", lambda misses: len(misses) > 1)
    forks = _forks(monkeypatch)
    bad = {"a.py": "def f(:\n" + "x = 1\n" * 200, "b.py": SOURCE, "c.py": "def g(:\n"}
    with pytest.raises(emit.FormatError, match="black could not parse rendered a.py"):
        emit.format_files(bad)
    assert forks == [1] and entries(fresh) == [] and emit._formatted == {}


def test_parallel_formatting_needs_two_misses_linux_a_second_core_and_one_thread(monkeypatch):
    import threading

    monkeypatch.delenv("TTTGEN_BLACK_PARALLEL", raising=False)
    monkeypatch.setattr(emit.sys, "platform", "linux")
    monkeypatch.setattr(emit.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert emit._parallel_ok(SOURCES) and not emit._parallel_ok({"a.py": SOURCE})
    monkeypatch.setenv("TTTGEN_BLACK_PARALLEL", "off")
    assert not emit._parallel_ok(SOURCES)
    monkeypatch.delenv("TTTGEN_BLACK_PARALLEL")
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not emit._parallel_ok(SOURCES)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(emit.sys, "platform", "darwin")
    assert not emit._parallel_ok(SOURCES)
    monkeypatch.setattr(emit.sys, "platform", "linux")
    monkeypatch.setattr(emit.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert not emit._parallel_ok(SOURCES)


@pytest.fixture
def forkable(monkeypatch):
    """emit.formatter() forks its formatter even on a one-core machine."""
    monkeypatch.setattr(emit, "_fork_ok", lambda: True)


def _reaped(pid: int) -> bool:
    try:
        emit.os.waitpid(pid, emit.os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_formatter_formats_in_its_own_processes_what_black_returns(fresh, forkable, monkeypatch):
    """With a formatter open, this process runs black for nothing (its run_black is replaced after the fork; the
    formatter and its child keep the real one) and gets black's text for each file; the formatter is reaped when
    the block ends."""
    expected = {name: black.format_str(source, mode=emit.BLACK_MODE) for name, source in SOURCES.items()}
    with emit.formatter():
        helper = emit._helper
        assert helper is not None
        monkeypatch.setattr(emit, "run_black", lambda source: pytest.fail("black ran in the building process"))
        pending = emit.start_format(SOURCES)
        assert pending() == expected
        monkeypatch.setattr(emit, "_formatted", {})
        monkeypatch.setenv("TTTGEN_BLACK_CACHE", "off")
        assert emit.format_files(SOURCES) == expected  # a second request to the same formatter
    assert emit._helper is None and _reaped(helper.pid)


def test_files_a_formatter_does_not_deliver_are_formatted_here(fresh, forkable, monkeypatch):
    """A formatter that died (killed here before the request) costs time, never output; black's parse error on a
    file the formatter took is met again here: the same FormatError, for the first bad file in order."""
    expected = {name: black.format_str(source, mode=emit.BLACK_MODE) for name, source in SOURCES.items()}
    with emit.formatter():
        emit.os.kill(emit._helper.pid, 9)
        assert emit.format_files(SOURCES) == expected
    monkeypatch.setattr(emit, "_formatted", {})
    monkeypatch.setenv("TTTGEN_BLACK_CACHE", "off")
    bad = {"a.py": "def f(:\n" + "x = 1\n" * 200, "b.py": SOURCE, "c.py": "def g(:\n"}
    with emit.formatter():
        calls = []
        real = emit.run_black
        monkeypatch.setattr(emit, "run_black", lambda source: calls.append(source) or real(source))
        with pytest.raises(emit.FormatError, match="black could not parse rendered a.py"):
            emit.format_files(bad)
        assert calls == [bad["a.py"]]  # b.py came back formatted; a.py is formatted again here and fails first


def test_a_formatter_is_stopped_without_waiting_and_not_opened_twice(fresh, forkable, monkeypatch):
    """Leaving the block while the formatter works (an error after the request) neither waits for nor leaks it;
    a block inside another uses the outer formatter; with forking not allowed, there is none."""
    big = {name: source * 50 for name, source in SOURCES.items()}
    with pytest.raises(RuntimeError):
        with emit.formatter():
            helper = emit._helper
            with emit.formatter():
                assert emit._helper is helper
            emit.start_format(big)  # asked, never collected
            raise RuntimeError("planning failed")
    assert emit._helper is None and _reaped(helper.pid)
    monkeypatch.setattr(emit, "_fork_ok", lambda: False)
    with emit.formatter():
        assert emit._helper is None


def test_a_package_rendered_with_a_formatter_is_byte_identical(fresh, forkable, monkeypatch):
    """The renderer asks the formatter first and writes graph.json and plan.json while it formats: the package is
    the one rendered without it."""
    from tttgen.generate import Request, plan, render_plan

    monkeypatch.setenv("TTTGEN_BLACK_CACHE", "off")
    planned = plan(Request("llama-3.2-1b", "n150"))
    alone = render_plan(planned)
    monkeypatch.setattr(emit, "_formatted", {})
    with emit.formatter():
        calls = []
        monkeypatch.setattr(emit, "run_black", lambda source: calls.append(source))
        assert render_plan(planned) == alone and calls == []


def test_the_formatter_imports_black_early_only_when_files_will_surely_miss(fresh, monkeypatch):
    """black's disk cache off or empty: every file misses, so the formatter imports black at once (while the build
    plans); a cache with entries (a rebuild, the tests): at its first request, so an all-hit build spends nothing
    on it. The output is black's either way."""
    monkeypatch.setenv("TTTGEN_BLACK_CACHE", "off")
    assert emit._misses_likely()
    monkeypatch.setenv("TTTGEN_BLACK_CACHE", str(fresh))
    assert emit._misses_likely()  # not created yet
    fresh.mkdir(parents=True)
    assert emit._misses_likely()  # empty
    emit.format_python(SOURCE, "f.py")
    assert not emit._misses_likely()
    monkeypatch.setattr(emit, "_fork_ok", lambda: True)
    monkeypatch.setattr(emit, "_formatted", {})
    expected = {name: black.format_str(source, mode=emit.BLACK_MODE) for name, source in SOURCES.items()}
    with emit.formatter():
        monkeypatch.setattr(emit, "run_black", lambda source: pytest.fail("black ran in the building process"))
        assert emit.format_files(SOURCES) == expected  # the lazy formatter imports black at the request
