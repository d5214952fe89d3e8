# TraceChain: `make demo` runs the story on the embedded chain, `make test` checks everything.
# Both install what is missing first: Python packages into .venv, npm packages into node_modules.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .install-stamps
WEB_ASSETS := src/tracechain/api/static/vendor/MANIFEST.json

.PHONY: install demo test lint compile clean

install: $(STAMPS)/python $(STAMPS)/node $(WEB_ASSETS) $(STAMPS)/chromium

$(STAMPS)/python: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/node: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

# The web page's JavaScript libraries and the API docs' assets, bundled from node_modules (no CDN).
$(WEB_ASSETS): $(STAMPS)/node scripts/bundle-web.js scripts/web/vendor-entry.js
	node scripts/bundle-web.js

# Debian's chromium for the browser tests (Python Playwright drives it; no browser download).
$(STAMPS)/chromium:
	sh scripts/install-chromium.sh
	@mkdir -p $(STAMPS) && touch $@

demo: install
	$(BIN)/tracechain demo

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy src

test: lint
	$(BIN)/pytest

compile: install
	$(BIN)/tracechain compile

clean:
	rm -rf $(STAMPS) .tracechain .pytest_cache .mypy_cache .ruff_cache
