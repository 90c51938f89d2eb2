# Everything a newcomer needs: `make run` serves the API on SQLite, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck pytest slow lock clean bench bench-profile bench-page

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

run: install
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m app serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy app seed

pytest: install
	$(BIN)/pytest -q

test: lint typecheck pytest

# Slow proofs (outages, crash loops, races); .ci/run runs them after `make test`.
slow: install
	$(BIN)/pytest -q -m slow || [ $$? -eq 5 ]

lock: install
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		--extra dev pyproject.toml -o requirements-dev.lock
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		--extra dev --extra bench pyproject.toml -o requirements-bench.lock

# The benchmark (docs/performance.md): needs wrk (`apt-get install -y wrk`) and, for its
# PostgreSQL leg, a server at BENCH_PG_URL. 10k + 100k events on SQLite and 100k on
# PostgreSQL by default; e.g. `make bench BENCH_ARGS="--sizes 10000,1000000"` adds 1M.
BENCH_PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
BENCH_ARGS ?=

$(VENV)/.bench-installed: $(VENV)/.installed requirements-bench.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-bench.lock
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench run --pg-url $(BENCH_PG_URL) $(BENCH_ARGS)

# Where the main query's time goes, at 100k events on SQLite (py-spy on the live server).
bench-profile: $(VENV)/.bench-installed
	$(BIN)/python -m bench profile --pg-url $(BENCH_PG_URL) $(BENCH_ARGS)

# How fast the page at / shows the events in headless Chromium (Debian's chromium package).
bench-page: install
	$(BIN)/python -m bench page $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache timeline.db timeline.db-*
