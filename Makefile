# Parley: `make run` serves on SQLite with nothing else to install; `make test` runs
# every test. Both set everything up first, on a fresh machine too.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help install web run cluster cluster-db db-upgrade test test-fast lint lint-js typecheck system-deps browser check-services bench bench-smoke clean

help:
	@echo "make run    set up and serve Parley on http://127.0.0.1:5000 (SQLite)"
	@echo "make cluster  2 processes behind Nginx on http://127.0.0.1:8080 (PostgreSQL, Redis)"
	@echo "make test   set up and run every test (SQLite and PostgreSQL)"
	@echo "make lint   ruff;  make typecheck   mypy;  make lint-js   tsc over the page's JavaScript"
	@echo "make bench  the benchmark suite (minutes); make bench-smoke  every scenario, tiny"

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

# The web page's browser libraries come from npm (package-lock.json pins them) and are
# copied into the served static folder, which git ignores. The emoji picker's English
# data is served from there too: the page never asks another site for it (the picker's
# default data source is a CDN).
WEB_VENDOR := src/parley/static/vendor
WEB_READY := $(WEB_VENDOR)/.installed

$(WEB_READY): package.json package-lock.json types/vendor/socket.io.esm.min.d.ts
	@command -v npm >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; \
		else echo "Please install Node.js and npm (Debian: apt-get install nodejs npm)"; exit 1; fi; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p $(WEB_VENDOR)/swagger-ui
	cp node_modules/socket.io-client/dist/socket.io.esm.min.js types/vendor/socket.io.esm.min.d.ts \
		$(WEB_VENDOR)/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
		$(WEB_VENDOR)/swagger-ui/
	cp node_modules/zxcvbn/dist/zxcvbn.js $(WEB_VENDOR)/
	mkdir -p $(WEB_VENDOR)/emoji-picker-element
	cp node_modules/emoji-picker-element/picker.js node_modules/emoji-picker-element/database.js \
		node_modules/emoji-picker-element/picker.d.ts node_modules/emoji-picker-element/database.d.ts \
		node_modules/emoji-picker-element/shared.d.ts $(WEB_VENDOR)/emoji-picker-element/
	cp node_modules/emoji-picker-element-data/en/emojibase/data.json $(WEB_VENDOR)/emoji-picker-element/
	touch $@

web: $(WEB_READY)

install: $(INSTALLED) $(WEB_READY)

db-upgrade: $(INSTALLED)
	$(BIN)/parley db upgrade

run: db-upgrade $(WEB_READY)
	$(BIN)/parley run

# The production layout on this machine (docs/deploy.md): two gunicorn processes behind
# an Nginx of their own, on the local PostgreSQL (database parley) and Redis.
CLUSTER_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/parley
CLUSTER_MESSAGE_QUEUE ?= redis://127.0.0.1:6379/0

cluster: $(INSTALLED) $(WEB_READY) system-deps check-services cluster-db
	DATABASE_URL=$(CLUSTER_DATABASE_URL) PARLEY_MESSAGE_QUEUE=$(CLUSTER_MESSAGE_QUEUE) \
		$(BIN)/parley cluster --processes 2 --port 8080

cluster-db:
	@psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'parley'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres parley

lint: $(INSTALLED)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# mypy names a module after its file, and the conftest.py files below tests/ would all be
# `conftest`: [tool.mypy] leaves them out of its run, and each gets a run of its own.
SUB_CONFTESTS := $(wildcard tests/*/conftest.py tests/*/*/conftest.py)

typecheck: $(INSTALLED)
	$(BIN)/mypy
	@for conftest in $(SUB_CONFTESTS); do echo "mypy $$conftest"; $(BIN)/mypy $$conftest || exit 1; done

# The page's JavaScript, type-checked by TypeScript (tsconfig.json; `// @ts-check` in each file).
lint-js: $(WEB_READY)
	node_modules/.bin/tsc -p tsconfig.json

# Tools the end-to-end tests drive (the README walkthrough uses curl and jq; `parley
# cluster` and its tests run nginx). Debian's nginx package also starts a system nginx
# on port 80 where it can: the cluster runs one of its own on its own ports, beside it.
SYSTEM_TOOLS := curl jq nginx

system-deps:
	@PATH="$$PATH:/usr/sbin:/sbin"; missing=""; for tool in $(SYSTEM_TOOLS); do \
		command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
		else echo "Please install:$$missing"; exit 1; fi; fi

# The browser tests drive Debian's Chromium, never a downloaded browser, with an emoji
# font so that screenshots show emoji as people see them, not as empty boxes.
CHROMIUM := /usr/bin/chromium
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core; \
		else echo "Chromium is missing: the browser tests will skip (apt-get install chromium)"; fi; fi
	@if [ ! -e $(EMOJI_FONT) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-noto-color-emoji; \
		else echo "The emoji font is missing: emoji show as boxes (apt-get install fonts-noto-color-emoji)"; fi; fi

# PostgreSQL and Redis are system services; start them if installed but down.
check-services:
	@if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; fi
	@if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
			|| true; fi

test: $(INSTALLED) $(WEB_READY) system-deps browser check-services lint typecheck lint-js
	# Three workers on two cores: the end-to-end tests spend most of their time waiting
	# on servers and sockets, not computing. Work stealing hands out each worker a run
	# of neighbouring tests (so a module's shared server starts once, not in every
	# worker) and evens out the end, where a few long tests used to leave workers idle.
	$(BIN)/pytest -n 3 --dist worksteal $(PYTEST_ARGS)
	$(MAKE) --no-print-directory bench-smoke

# The benchmark suite (bench/, docs/performance.md): the full set takes many minutes and
# writes bench/results/<time>/; the smoke run does every scenario tiny, so it never rots.
# The processes scenario runs `parley cluster`, whose Nginx system-deps installs.
BENCH_SMOKE_OUT ?= $(shell mktemp -d /tmp/parley-bench-smoke.XXXXXX)

bench: $(INSTALLED) system-deps check-services
	$(BIN)/python -m bench

# gevent only: the threading servers run the same scenario code (the full run measures them).
bench-smoke: $(INSTALLED) system-deps check-services
	$(BIN)/python -m bench --smoke --modes gevent --out $(BENCH_SMOKE_OUT)

test-fast: $(INSTALLED) $(WEB_READY)
	$(BIN)/pytest -x -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache node_modules $(WEB_VENDOR)
