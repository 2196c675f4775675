# Parley: `make run` serves on SQLite with nothing else to install; `make test` runs
# every test. Both set everything up first, on a fresh machine too.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help install run db-upgrade test test-fast lint typecheck system-deps check-services clean

help:
	@echo "make run    set up and serve Parley on http://127.0.0.1:5000 (SQLite)"
	@echo "make test   set up and run every test (SQLite and PostgreSQL)"
	@echo "make lint   ruff;  make typecheck   mypy"

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(INSTALLED)

db-upgrade: $(INSTALLED)
	$(BIN)/parley db upgrade

run: db-upgrade
	$(BIN)/parley run

lint: $(INSTALLED)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(INSTALLED)
	$(BIN)/mypy

# Tools the end-to-end tests drive (the README walkthrough uses curl and jq).
SYSTEM_TOOLS := curl jq

system-deps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do \
		command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
		else echo "Please install:$$missing"; exit 1; fi; fi

# PostgreSQL and Redis are system services; start them if installed but down.
check-services:
	@if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; fi
	@if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
			|| true; fi

test: $(INSTALLED) system-deps check-services lint typecheck
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-fast: $(INSTALLED)
	$(BIN)/pytest -x -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache
