# The one task file: the README's quick start and CI (.ci/run) both call it.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint bench install clean

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

## Run the whole test suite (what CI runs).
test: install
	$(BIN)/ruff check curator tests benchmarks
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check curator tests benchmarks
	$(BIN)/ruff format --check curator tests benchmarks
	$(BIN)/python -m mypy

bench: install
	$(BIN)/python benchmarks/fetch.py
	$(BIN)/python benchmarks/submit.py
	$(BIN)/python benchmarks/candidates.py
	$(BIN)/python benchmarks/draft.py
	$(BIN)/python benchmarks/archive.py

clean:
	rm -rf $(VENV) demo drafts .pytest_cache
