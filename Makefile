# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
NODE_BIN := $(CURDIR)/node_modules/.bin
export PATH := $(NODE_BIN):$(PATH)

.PHONY: install install-python install-node run test lint typecheck unit bench clean replicas-up replicas-down

install: install-python install-node

install-python:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@$(eval UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv"))
	$(UV) sync --locked

install-node: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

run: install
	.venv/bin/python -m mcpwarden.demo.launch

lint: install-python
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/mypy

test: install lint
	.venv/bin/pytest -q

bench: install
	.venv/bin/python bench/gateway_latency.py

# Two gateway replicas (127.0.0.1:8771, :8772) on the local PostgreSQL and Redis, behind the
# project's balancer on 127.0.0.1:8770 (docs/replicas.md). Returns once all are ready.
replicas-up: install-python
	.venv/bin/python -m mcpwarden.replicas.launch up

replicas-down:
	.venv/bin/python -m mcpwarden.replicas.launch down

clean:
	rm -rf .venv node_modules .mypy_cache .ruff_cache .pytest_cache
