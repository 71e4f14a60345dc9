# Minyi: the two commands a new engineer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test install lint messages openapi clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Run the platform on SQLite with demo data: web on http://127.0.0.1:$(PORT) plus the worker.
run: install
	PORT=$(PORT) bash scripts/run-dev.sh

## Install what the tests need (Python packages, Debian's Chromium) and run the whole suite.
test: install
	bash scripts/ensure-system-packages.sh
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src
	DJANGO_SETTINGS_MODULE=minyi.settings_test $(BIN)/python -m django makemigrations --check --dry-run
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

## Regenerate docs/openapi.json after changing the API (a test compares it with the code).
openapi: install
	$(BIN)/python scripts/openapi.py

## Recompile the translations after editing src/minyi/locale/*/LC_MESSAGES/django.po
messages: install
	cd src/minyi && DEBUG=1 MINYI_DATA_DIR=$(CURDIR)/var ../../$(BIN)/minyi makemessages -l zh_Hans --no-obsolete --add-location=file
	cd src/minyi && DEBUG=1 MINYI_DATA_DIR=$(CURDIR)/var ../../$(BIN)/minyi compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var build *.egg-info src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
