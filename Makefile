# Zhongfu 众扶 — the two commands: `make run` and `make test`.
# Everything else here is a step of those two.

SHELL := /bin/bash
.DEFAULT_GOAL := run

CARGO    ?= cargo
PROFILE  ?= dev
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)/$(if $(filter dev,$(PROFILE)),debug,$(PROFILE))
ZHONGFU  := $(TARGET_DIR)/zhongfu
LISTEN   ?= 127.0.0.1:8080
DEMO_HOUSEHOLDS ?= 2000
PG_URL   ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run build console test lint test-rust test-sqlite test-postgres test-console e2e clean

## run: build everything, load the demo district and serve the console (demo mode:
## the demo accounts keep the printed password).
run: export ZHONGFU_DEMO_MODE = true
run: build
	$(ZHONGFU) demo --households $(DEMO_HOUSEHOLDS) --seed 1
	@echo "Console: http://$(LISTEN)  ·  API docs: http://$(LISTEN)/api/docs"
	$(ZHONGFU) serve --listen $(LISTEN)

build: console
	$(CARGO) build --profile $(PROFILE) --bin zhongfu

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

## console: the Vue console, built into web/dist (embedded in the binary).
console: web/node_modules/.package-lock.json
	cd web && npm run build

## test: everything CI runs.
test: lint test-rust test-console e2e

lint: console
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust: test-sqlite test-postgres

test-sqlite: console
	ZHONGFU_TEST_DB=sqlite $(CARGO) test --workspace

# PostgreSQL is required under CI=true; elsewhere it is skipped, saying so.
test-postgres: console
	@if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
		ZHONGFU_TEST_DB=postgres ZHONGFU_TEST_POSTGRES_URL=$(PG_URL) $(CARGO) test -p zhongfu-tests; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL does not answer on 127.0.0.1:5432, and CI requires it." >&2; exit 1; \
	else \
		echo "NOTE: PostgreSQL does not answer on 127.0.0.1:5432: ran the Rust tests on SQLite only."; \
	fi

test-console: web/node_modules/.package-lock.json
	cd web && npm test

## e2e: the browser tests in Debian's Chromium against a real server.
e2e: build
	ZHONGFU=$(ZHONGFU) scripts/e2e.sh

clean:
	$(CARGO) clean
	rm -rf web/dist web/node_modules
