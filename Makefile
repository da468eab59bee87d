# tttgen developer commands. `make demo` installs and runs the main job; `make test` runs all tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The real ttnn (0.81.1, Python 3.12, no torch) that judges every generated package on a mock device.
TTNN_VENV := .venv-ttnn
GOLDEN_MODELS := llama-3.2-1b llama-3.1-8b mlp prenorm_encoder_layer boltz_transition boltz_adaln boltz_conditioned_transition \
  boltz_triangle_mult_outgoing boltz_triangle_mult_incoming boltz_triangle_attention_start boltz_triangle_attention_end \
  boltz_attention_with_bias boltz_attention_pair_bias boltz_pairformer_layer boltz_diffusion_transformer_layer \
  boltz_outer_product_mean boltz_pair_weighted_averaging boltz_single_conditioning siglip_vision_tower rotary_half gemma_mlp \
  gemma_decoder_layer gemma_decoder pi0_expert_layer pi0 boltz_atom_transformer
GOLDEN_DEVICES := n150 p150

.PHONY: install ttnn-venv venvs demo generate check test bench clean

$(BIN)/tttgen: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[verify,dev]"
	@echo "== boltz 2.2.1 torch modules (the Boltz-2 references), without the app's dependencies"
	$(BIN)/pip install -q --no-deps boltz==2.2.1
	touch $@

install: $(BIN)/tttgen

# Idempotent; the first run takes a few minutes (Python 3.12 venv, ttnn from PyPI, RISC-V binutils from Debian).
# Its setup script is standard library only, so it needs no main venv and installs beside it (`venvs`).
ttnn-venv:
	$(PY) -m tttgen.checking.realttnn.setup --venv $(TTNN_VENV)

# Both venvs side by side (two jobs): a clean clone's install is mostly downloads and unpacking.
venvs:
	@$(MAKE) --no-print-directory -j2 install ttnn-venv

demo: install
	$(BIN)/tttgen build llama --device wormhole_b0 --out build/demo --force

generate: install
	for m in $(GOLDEN_MODELS); do \
	  $(BIN)/tttgen build $$m $(foreach d,$(GOLDEN_DEVICES),--device $(d)) --out generated --force || exit 1; \
	done
	# a paged KV cache with chunked prefill: prompts up to 4096 tokens as 1024-row chunks
	$(BIN)/tttgen build llama-3.2-1b --paged --max-seq-len 4096 $(foreach d,$(GOLDEN_DEVICES),--device $(d)) \
	  --out generated/paged --force
	# the performance preset (tt_transformers' "performance" configuration, the one its published figures use)
	for m in llama-3.2-1b llama-3.1-8b; do \
	  $(BIN)/tttgen build $$m --precision performance $(foreach d,$(GOLDEN_DEVICES),--device $(d)) \
	    --out generated/performance --force || exit 1; \
	done
	# tensor-parallel mesh packages, judged by the real ttnn on the mock mesh with each distinct call judged once
	# (docs/real-ttnn.md): 15-25 s of runner time each for 70B on t3k, p150x4 and galaxy on a loaded 2-core machine
	$(BIN)/tttgen build llama-3.1-8b --device n300 --out generated --force
	$(BIN)/tttgen build llama-3.1-70b --device t3k --out generated --force
	$(BIN)/tttgen build llama-3.1-70b --device p150x4 --out generated --force
	$(BIN)/tttgen build llama-3.1-70b --device galaxy --out generated --force
	# a data-parallel module package: one Boltz pairformer design per chip of a 4xP150 QuietBox (the real ttnn judges
	# it on the mock 2x2 mesh: 270 calls, about 27 s)
	$(BIN)/tttgen build boltz_pairformer_layer --device p150x4 --out generated --force

check: venvs
	$(BIN)/tttgen check generated --api --ttnn

test: venvs
	@echo "== tttgen check: golden drift, ttnn API names, and the real ttnn 0.81.1 on a mock device"
	$(BIN)/tttgen check generated --api --ttnn
	@echo "== pytest"
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests

# the slow tests' full forms (TTTGEN_SLOW_TESTS=1, `-m slow`): full-size runs whose small forms `make test` runs
bench: venvs
	$(BIN)/python benchmarks/run.py
	TTTGEN_SLOW_TESTS=1 $(BIN)/python -m pytest -q -m slow tests

clean:
	rm -rf build .pytest_cache
