# The one task file: the README's quick start and CI (.ci/run) both call it.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test test-quick lint bench install node-tools clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,serve]'
	touch $@

install: $(VENV)/.installed

## Run the whole workflow on the bundled sample feeds, offline.
demo: install
	$(BIN)/curator demo --dir demo

## The reference checkers the tests run (MJML validator, axe-core), from npm into .ci/node.
## Without npm the tests that need them are skipped with a reason (under CI=true they fail).
node-tools:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: the MJML validator and axe-core checks will be skipped"; \
	elif [ ! -x .ci/node/node_modules/.bin/mjml ] || [ ! -f .ci/node/node_modules/axe-core/axe.min.js ]; then \
		npm install --prefix .ci/node --no-audit --no-fund --no-save --loglevel=error mjml@4.15.3 axe-core@4; \
	fi

## Run the whole test suite (what CI runs).
test: install node-tools
	$(BIN)/ruff check curator tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

## The suite without the tests marked slow (the browser tests, properties with many examples,
## real processes): the quick loop while editing; `make test` before pushing.
test-quick: install node-tools
	$(BIN)/ruff check curator tests benchmarks
	$(BIN)/python -m pytest -m "not slow"

## ruff, the format check, the layers contract (import-linter) and mypy --strict on the core.
lint: install
	$(BIN)/ruff check curator tests benchmarks
	$(BIN)/ruff format --check curator tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m mypy

bench: install
	$(BIN)/python benchmarks/fetch.py
	$(BIN)/python benchmarks/submit.py
	$(BIN)/python benchmarks/candidates.py
	$(BIN)/python benchmarks/draft.py
	$(BIN)/python benchmarks/archive.py

clean:
	rm -rf $(VENV) demo drafts .pytest_cache .hypothesis test-artifacts
