# TraceChain: `make demo` runs the story on the embedded chain, `make test` checks everything.
# Both install what is missing first: Python packages into .venv, npm packages into node_modules.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .install-stamps

.PHONY: install demo test lint compile clean

install: $(STAMPS)/python $(STAMPS)/node $(STAMPS)/system

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

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy src

test: lint
	$(BIN)/pytest

compile: install
	$(BIN)/tracechain compile

clean:
	rm -rf $(STAMPS) .tracechain .pytest_cache .mypy_cache .ruff_cache
