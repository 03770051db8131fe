# prelib — two commands do all set-up on a fresh machine:
#   make demo   run the main job (papermill notebook pipeline, demo profile, synthetic data)
#   make test   install prelib[dev] into .venv and run pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
# GPU users: make test TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
TORCH_SPEC ?= torch==2.13.0
PROFILE ?= demo
# Sleeping (not spinning) OpenMP threads: torch on 2 busy cores is 5-7x faster
# (benchmarks/cpu_thread_contention.py); `import prelib` sets the same default.
export OMP_WAIT_POLICY ?= PASSIVE
PYTEST_ARGS ?=
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
HASH := $(shell cat pyproject.toml | sha256sum | cut -c1-16)
STAMP_RUN := $(VENV)/.stamp-run-$(HASH)
STAMP_DEV := $(VENV)/.stamp-dev-$(HASH)
STAMP_TORCH := $(VENV)/.stamp-torch

.PHONY: demo test lint format lab figures install install-dev clean help

help:
	@echo "make demo    - run the notebook pipeline at PROFILE=$(PROFILE) on the embedded synthetic world"
	@echo "make test    - install prelib[dev] into $(VENV) and run pytest"
	@echo "make lint    - ruff check + format check"
	@echo "make lab     - JupyterLab on notebooks/"
	@echo "make figures - copy curated figures from outputs/ to figures/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

# torch first, pinned: otherwise a dependency resolution pulls a multi-GB CUDA build.
$(STAMP_TORCH): | $(BIN)/python
	$(PIP) install --quiet "$(TORCH_SPEC)"
	touch $@

$(STAMP_RUN): pyproject.toml $(STAMP_TORCH)
	$(PIP) install --quiet -e ".[maps,notebooks]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	rm -f $(VENV)/.stamp-run-*; touch $@

$(STAMP_DEV): pyproject.toml $(STAMP_TORCH)
	$(PIP) install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	rm -f $(VENV)/.stamp-dev-* $(VENV)/.stamp-run-*; touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

demo: $(STAMP_RUN)
	$(BIN)/prelib pipeline run --profile $(PROFILE)

test: $(STAMP_DEV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP_DEV)
	$(BIN)/ruff check prelib tests benchmarks notebooks
	$(BIN)/ruff format --check prelib tests benchmarks notebooks

format: $(STAMP_DEV)
	$(BIN)/ruff format prelib tests benchmarks notebooks
	$(BIN)/ruff check --fix prelib tests benchmarks notebooks

lab: $(STAMP_DEV)
	$(BIN)/jupyter lab notebooks/

figures: $(STAMP_RUN)
	$(BIN)/prelib pipeline figures --profile $(PROFILE)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
