# Two commands for a fresh Debian/Ubuntu machine with Python 3.11:
#   make demo   set up .venv and run the whole rig on the embedded session
#   make test   set up .venv and run the test suite
# A second run reuses .venv and only rebuilds what changed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEPS := $(VENV)/.deps-installed
BUILT := $(VENV)/.package-built

.PHONY: setup demo test lint bench clean

setup: $(BUILT)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "error: Python 3.11 is required (set PYTHON=/path/to/python3.11)")'
	$(PYTHON) -m venv $(VENV)

$(DEPS): requirements.txt $(BIN)/python scripts/install_system_deps.sh
	scripts/install_system_deps.sh $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(BUILT): $(DEPS) setup.py pyproject.toml src/kernels.cpp
	$(BIN)/python -m pip install --quiet --no-build-isolation --no-deps -e .
	touch $@

demo: setup
	$(BIN)/hinge-coach run

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q test

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/hinge-coach bench

clean:
	rm -rf $(VENV) build *.egg-info hinge_coach_ros/*.so
