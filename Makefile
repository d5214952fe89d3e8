# TraceChain: `make demo` runs the story on the embedded chain, `make test` checks everything.
# Both install what is missing first: Python packages into .venv, npm packages into node_modules.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .install-stamps

.PHONY: install demo test lint compile clean forge slither

install: $(STAMPS)/python $(STAMPS)/node $(STAMPS)/system
	@echo "installed: run 'source .venv/bin/activate' to use tracechain by name (or call .venv/bin/tracechain)"

$(STAMPS)/python: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/node: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

# Debian packages the tests drive: PostgreSQL's server (a throwaway cluster per test session).
$(STAMPS)/system:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
		elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq postgresql >/dev/null; \
		else echo "install Debian's postgresql package (the tests start a throwaway cluster)" >&2; exit 1; fi; }
	@mkdir -p $(STAMPS) && touch $@

demo: install
	$(BIN)/tracechain demo

lint: install slither
	$(BIN)/ruff check src tests
	$(BIN)/mypy src

test: lint forge
	$(BIN)/pytest

# Property-based contract tests (test/forge/, settings in foundry.toml): forge from npm, compiling
# with the npm solc through scripts/solc-shim.js. forge's cache recompiles only what changed.
forge: install
	node_modules/.bin/forge test

# slither on contracts/ (triage in slither.config.json), compiled by forge under the `slither`
# profile so its `forge clean` leaves the test build alone. It runs in its own venv (see
# scripts/slither-requirements.txt) and only when the contracts or its settings changed.
SLITHER_VENV := .venv-slither
SLITHER_INPUTS := $(wildcard contracts/*.sol contracts/*/*.sol slither.db.json) slither.config.json foundry.toml \
	package-lock.json scripts/solc-shim.js

slither: $(STAMPS)/slither-passed

$(STAMPS)/slither-tool: scripts/slither-requirements.txt
	@test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/slither-requirements.txt
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/slither-passed: $(STAMPS)/slither-tool $(SLITHER_INPUTS) | install
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" FOUNDRY_PROFILE=slither $(SLITHER_VENV)/bin/slither .
	@touch $@

compile: install
	$(BIN)/tracechain compile

clean:
	rm -rf $(STAMPS) .tracechain .pytest_cache .mypy_cache .ruff_cache
