# The two Quickstart commands: `make run` (the app) and `make test` (the whole suite, what CI runs); and
# `make check`, the fast loop while changing code.
# Each creates .venv with what it needs on first use; later runs reuse it until a requirements file changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check install install-dev lint bench browser nginx replicas

# The project itself is installed too (editable), so `dask scheduler` and `dask worker` from .venv import sharp
# from any directory.
$(BIN)/.app-installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q -e .
	touch $@

$(BIN)/.dev-installed: $(BIN)/.app-installed requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

install: $(BIN)/.app-installed

install-dev: $(BIN)/.dev-installed

run: install
	$(BIN)/python -m streamlit run app.py --server.headless true --browser.gatherUsageStats false

browser:
	@scripts/ensure-chromium

nginx:
	@scripts/ensure-nginx

# A lecture hall: N app processes behind nginx on http://localhost:8501 (README, "Serving a lecture hall").
N ?= 3
replicas: install nginx
	scripts/serve-replicas $(N)

lint: install-dev
	$(BIN)/python -m ruff check .

test: install-dev browser nginx lint
	$(BIN)/python -m pytest

# Lint, then every test that needs no browser, no server process or cluster, and no long computation
# (the markers are described in pyproject.toml): under 2 minutes on the 2-core machine.
check: lint
	$(BIN)/python -m pytest -q -m "not browser and not slow and not server"

bench: install
	$(BIN)/python -m sharp bench
