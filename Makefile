# tttgen developer commands. `make demo` installs and runs the main job; `make test` runs all tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
GOLDEN_MODELS := llama-3.2-1b llama-3.1-8b
GOLDEN_DEVICES := n150 p150

.PHONY: install demo generate check test bench clean

$(BIN)/tttgen: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[verify,dev]"
	touch $@

install: $(BIN)/tttgen

demo: install
	$(BIN)/tttgen build llama --device wormhole_b0 --out build/demo --force

generate: install
	for m in $(GOLDEN_MODELS); do \
	  $(BIN)/tttgen build $$m $(foreach d,$(GOLDEN_DEVICES),--device $(d)) --out generated --force || exit 1; \
	done

check: install
	$(BIN)/tttgen check generated --api

test: install
	$(BIN)/tttgen check generated --api
	$(BIN)/python -m pytest -n 2 tests

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf build .pytest_cache
