# Two commands do all the set-up on a fresh machine:
#   make run    installs into .venv and runs `telecrm-bot run`
#   make test   installs into .venv (with test tools) and runs lint + the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test install install-dev browser postgres lint bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

run: install
	$(BIN)/telecrm-bot run

# Chromium from Debian for the browser tests (tests/browser); skipped when already there.
browser:
	bash scripts/install-browser.sh

# PostgreSQL server from Debian for the PostgreSQL tests (bench/postgres_server.py, one per test session);
# skipped when already there. Those tests never skip: this fails, saying why, when it cannot install.
postgres:
	bash scripts/install-postgres.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-dev lint browser
	$(BIN)/pytest

# (a prerequisite of its own line, so the rule above stays as it was)
test: postgres

bench: install-dev
	$(BIN)/python -m bench

# Slow reliability runs (crashes, overlapping processes, hostile clients; results in docs/RELIABILITY.md)
# and memory over 100,000 commands (soak/memory.py; results in docs/PERFORMANCE.md).
soak: install-dev
	$(BIN)/python -m soak

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
