# Handoff: `make run` serves a demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-pg lint format bench lock sdl clean shell node-tools

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## migrate, seed a demo org if empty, print tokens, serve
	$(BIN)/handoff demo
	$(BIN)/handoff serve

shell: $(STAMP)  ## a shell with the venv on PATH (handoff, pytest, ruff, mypy); exit to leave
	@echo "venv on PATH: handoff, pytest, ruff, mypy. Leave with exit."
	@PATH="$(CURDIR)/$(BIN):$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)" $${SHELL:-/bin/sh} -i

node-tools:  ## npm tools the OIDC and codegen tests run, into ~/.cache/handoff/node-tools
	bash tests/node/install.sh

test: $(STAMP)  ## the whole suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
	$(BIN)/pytest

test-pg: $(STAMP)  ## the suite against the local PostgreSQL server
	TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test $(BIN)/pytest

bench: $(STAMP)  ## side-by-side benchmark; e.g. make bench ARGS="--orders 100000 --json out.json"
	$(BIN)/python -m bench $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

sdl: $(STAMP)  ## rewrite the committed per-role SDL and the README role matrix
	$(BIN)/python -m schema.artifacts

lock:  ## re-resolve constraints.txt from pyproject.toml in a scratch venv
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade pip
	.lock-venv/bin/python -m pip install -q -e '.[dev]'
	(echo "# Exact versions of every package (direct and transitive) that 'make' installs."; \
	 echo "# Regenerate: make lock  (fresh venv, pip install -e '.[dev]', pip freeze)."; \
	 .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^handoff') > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
