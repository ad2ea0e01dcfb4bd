# Two commands from a fresh clone: `make run` and `make test` (see README.md). Another Python in
# a venv of its own: `make test PYTHON=python3.13 VENV=.venv-3.13` (.ci/run tests two).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install migrate seed bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Not editable: the project installs no package of its own (it runs from this directory), and
# setuptools warns about every editable install of one.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Development settings for every manage.py command and daphne, written once: DEBUG on and a key
# of this clone's own. Git-ignored; variables set in the environment win over it.
.env: | $(BIN)/python
	@printf '%s\n' '# Written by `make run` for development; variables set in the environment win.' \
		'DEBUG=1' "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "Wrote .env: DEBUG=1 and a development SECRET_KEY"

# The embedded default: SQLite and the in-memory channel layer, one daphne process.
run: export DEBUG ?= 1
run: $(STAMP) .env
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Portal (customers):  http://$(HOST):$(PORT)/portal/   alice / alice-demo   bob / bob-demo"
	@echo "  Admin (staff CRM):   http://$(HOST):$(PORT)/admin/    staff / staff-demo"
	@echo "  Snapshot API:        http://$(HOST):$(PORT)/api/portal/jobs/"
	@echo ""
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The side-by-side benchmark (docs/benchmarks.md); the peer and the plot need the bench extra.
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?= --sockets 100,1000

$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-* db.sqlite3 staticfiles build *.egg-info .pytest_cache .ruff_cache
