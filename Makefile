# Two commands: `make run` (set up and serve) and `make test` (the whole suite). See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# `make test` spreads the suite over one process per core (pytest-xdist); TEST_PROCESSES=0 runs it in one.
TEST_PROCESSES ?= auto
# Development mode for the two commands, unless the caller says otherwise. The app itself defaults to DEBUG off.
export DEBUG ?= true

.PHONY: run test lint format install migrate demo worker beat bench lock clean renderer-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-installs only when the lock file changes.
$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

var:
	mkdir -p var/media

migrate: install | var
	$(BIN)/python manage.py migrate --noinput

# The demo's first edition is the seed's, dated 22 October 2025 whatever today's date.
demo: migrate
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py publish_register sub-licences --if-none --dated 2025-10-22
	$(BIN)/python manage.py publish_register information-sharing --if-none
	$(BIN)/python manage.py public_pages_refresh

# The PDFs need Pango, HarfBuzz-Subset and Liberation Sans; without them they would quietly differ. Stops with
# the apt-get line to run.
renderer-check: install
	$(BIN)/python manage.py check_renderer

run: renderer-check demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# ruff, then mypy ([tool.mypy] in pyproject.toml). mypy's django-stubs plugin imports the settings, which load
# only with DEBUG on or a SECRET_KEY.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: renderer-check lint | var
	$(BIN)/python manage.py makemigrations --check --dry-run > /dev/null || \
		(echo "Model changes have no migration: run manage.py makemigrations"; exit 1)
	$(BIN)/pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS)

# With CELERY_BROKER_URL set, the worker and beat for tasks (make run alone runs them in-process).
worker: install
	$(BIN)/celery -A register worker --loglevel=info
beat: install | var
	$(BIN)/celery -A register beat --loglevel=info

# Issue 14's figures in one table, ratios measured in one run (BENCH_ARGS=--large adds 50,000 rows).
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Re-pin the whole dependency tree after changing pyproject.toml.
lock:
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11

clean:
	rm -rf $(VENV) node_modules
