# The two Quickstart commands: `make run` (the app) and `make test` (the whole suite, what CI runs); and
# `make check`, the fast loop while changing code.
# Each creates .venv with what it needs on first use; later runs reuse it until a requirements file changes.
#
# torch: the CPU build by default, from PyTorch's CPU wheel index (about 0.2 GB to download, 0.75 GB
# installed), not PyPI's, which on Linux is the CUDA build (several GB). TORCH names another of PyTorch's
# indexes (`make run TORCH=cu128`: CUDA 12.8), or `TORCH=pypi` for PyPI's own build (scripts/ensure-torch).
PYTHON ?= python3
TORCH ?= cpu
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check install install-deps install-dev lint bench browser nginx docker replicas

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# One stamp per build of torch, so that `make run TORCH=cu128` after a CPU install changes torch.
$(BIN)/.torch-$(TORCH): requirements.txt scripts/ensure-torch | $(BIN)/python
	$(BIN)/python scripts/ensure-torch $(TORCH)
	rm -f $(BIN)/.torch-* && touch $@

# The rest of requirements.txt. Its --extra-index-url line (PyTorch's CPU index, for a hosting service that
# installs the file itself) is left out here: torch is already in, and pip would ask that index for every
# other package too, waiting through retries on a machine that cannot reach it.
$(BIN)/.deps-installed: $(BIN)/.torch-$(TORCH) requirements.txt
	grep -v -e '^--extra-index-url' requirements.txt > $(VENV)/requirements.txt
	$(BIN)/python -m pip install -q -r $(VENV)/requirements.txt "setuptools>=70.1"
	touch $@

# What the image installs before its source is copied (Dockerfile): a code change does not reinstall torch.
install-deps: $(BIN)/.deps-installed

# The project itself is installed too (editable), so `sharp`, `dask scheduler` and `dask worker` from .venv
# import it from any directory. No build isolation: setuptools (70.1 or later, installed with the rest) is
# already in .venv, and no index is needed (its warning about editable installs, printed then, is silenced).
$(BIN)/.app-installed: $(BIN)/.deps-installed pyproject.toml
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install -q --no-build-isolation -e .
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

# The container engine and mmdebstrap from the OS packages, for tests/test_containers.py's image build.
docker:
	@scripts/ensure-docker

# A lecture hall: N app processes behind nginx on http://localhost:8501 (docs/serving.md, "Serving a lecture hall").
N ?= 3
replicas: install nginx
	scripts/serve-replicas $(N)

lint: install-dev
	$(BIN)/python -m ruff check .

test: install-dev browser nginx docker lint
	$(BIN)/python -m pytest --durations=15

# Lint, then every test that needs no browser, no server process or cluster, and no long computation
# (the markers are described in pyproject.toml): under 2 minutes on the 2-core machine.
check: lint
	$(BIN)/python -m pytest -q -m "not browser and not slow and not server"

bench: install
	$(BIN)/python -m sharp bench
