"""How `tttgen` ends (tttgen/cli.py): main() pauses the cyclic garbage collector only while a command runs; program(),
the program, leaves without the interpreter's teardown but keeps exit codes, output and exit handlers."""

import gc
import json
import subprocess
import sys

import pytest

from tttgen.cli import main

PROGRAM = [sys.executable, "-m", "tttgen"]


def test_main_leaves_the_collector_as_it_was(monkeypatch, capsys):
    assert gc.isenabled()
    monkeypatch.setattr(sys, "argv", ["tttgen", "list", "devices"])
    main()
    assert gc.isenabled() and "p150" in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["tttgen", "build", "llama", "--device", "quasar", "--out", "/tmp/never-written"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2 and gc.isenabled()


def test_the_program_keeps_exit_codes_and_flushes_its_output():
    done = subprocess.run([*PROGRAM, "list", "models", "--json"], capture_output=True, text=True)
    assert done.returncode == 0 and any(m["name"] == "llama-3.1-70b" for m in json.loads(done.stdout))
    done = subprocess.run([*PROGRAM, "build", "llama", "--device", "quasar", "--out", "/tmp/never-written"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "error: --device: unknown device 'quasar'" in done.stderr
    done = subprocess.run([*PROGRAM, "build", "--no-such-option"], capture_output=True, text=True)
    assert done.returncode == 2 and "No such option" in done.stderr


def test_the_program_runs_exit_handlers():
    code = ("import atexit, sys; atexit.register(lambda: print('handler ran')); "
            "sys.argv = ['tttgen', 'list', 'devices']; from tttgen.cli import program; program()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("handler ran") and "p150" in done.stdout
