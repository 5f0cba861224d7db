# saca: developer entry points.  `make test` is what CI (.ci/run) runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN  := $(VENV)/bin
# Stamp: (re)installs the project whenever pyproject.toml changes.
STAMP := $(VENV)/.installed

# Interpreter for the venv: first candidate that is really Python >= 3.12.
# (A pyenv shim such as `python3.12` exists on PATH even where it cannot run,
# so candidates are tried, not just looked up.)  Override with `make PYTHON=...`.
PY_CANDIDATES := python3.12 python3 python \
	$(sort $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3))
PY_OK := import sys; sys.exit(sys.version_info < (3, 12))
PYTHON ?= $(shell for p in $(PY_CANDIDATES); do \
	"$$p" -c '$(PY_OK)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

.PHONY: help venv demo test bench clean distclean

help:
	@echo "make venv   - create .venv (Python >= 3.12) and pip install -e '.[dev]'"
	@echo "make test   - ruff check, ruff format --check, pytest"
	@echo "make demo   - compare constructive vs autonomous on the emergency scenario"
	@echo "make bench  - run benchmarks/bench_model.py"
	@echo "make clean  - remove build artefacts and caches (distclean: also .venv)"

$(BIN)/python:
	@if [ -z "$(PYTHON)" ] || ! "$(PYTHON)" -c '$(PY_OK)' >/dev/null 2>&1; then \
		echo "error: saca needs Python >= 3.12; none found (tried: $(or $(PYTHON),$(PY_CANDIDATES)))." >&2; \
		echo "       Install one (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12'." >&2; \
		exit 1; fi
	@echo "creating $(VENV) with $(PYTHON) ($$("$(PYTHON)" --version))"
	"$(PYTHON)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/saca compare --regimes constructive,autonomous --scenario emergency \
		--replicates 5 --out results/demo --force

# pytest-xdist: one worker per core; a module stays on one worker (its module-scoped
# fixtures are built once); the ten slowest tests are listed at the end.
PYTEST_ARGS ?= -n auto --dist loadscope --durations=10

# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE):
# the suite starts a hundred `saca` processes, and each would compile the package again.
test: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && \
		env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis benchmarks/out
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
