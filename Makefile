# Fangdiao — the commands a newcomer relies on (docs/architecture.md#commands).
# `make run` and `make test` work on a fresh machine with only Python 3.11+.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# `make test` runs on this many pytest-xdist workers (TEST_WORKERS=0: in this process, one test at a time).
TEST_WORKERS ?= 2
export DEBUG ?= 1

.PHONY: run serve install install-dev migrate seed test test-postgres e2e screenshots lint format migrations-check bench bench-day fuzz messages check-python clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "). Set PYTHON=python3.12 or similar.")'

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt requirements-tencent.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## run: set up (venv, SQLite, reference and demo data) and serve HTTP + WebSocket on $(HOST):$(PORT)
run: seed serve

serve: install
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(BIN)/python -m config.serve config.asgi:application --host $(HOST) --port $(PORT) --lifespan on --ws websockets-sansio

## test: the whole suite on SQLite + in-memory layer (or PostgreSQL/Redis with DATABASE_URL/REDIS_URL)
test: install-dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not e2e and not slow" $(PYTEST_ARGS)

## e2e: browser journeys with Playwright driving Debian's Chromium
e2e: install-dev
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

## screenshots: the browser journeys again, writing each role's pages (desktop and phone) into docs/screenshots/
screenshots: install-dev
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

## lint: ruff, then mypy on the strictly typed modules listed in pyproject.toml ([tool.mypy] modules)
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install-dev
	$(BIN)/python manage.py makemigrations --check --dry-run

bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

## bench-day: a city's working day under Locust on 4 uvicorn workers, PostgreSQL and Redis, people added stage by stage until the p95 budgets break (≤ 10 min; BENCH_ARGS=--quick ≤ 3 min); not part of `make bench`
bench-day: install-dev
	$(BIN)/python -m bench.dayload $(BENCH_ARGS)

## fuzz: the property, fuzz and schema tests with many more examples than `make test` uses, and the slow proofs
fuzz: install-dev
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -m "fuzz or slow" --timeout=0 tests $(PYTEST_ARGS)

messages: install-dev
	$(BIN)/python manage.py makemessages -l en --no-obsolete --ignore=.venv --ignore=bench --ignore=var --ignore=staticfiles
	$(BIN)/python manage.py compilemessages -l en --ignore=.venv

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
