# kubelab: `make run` serves the demo cluster; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test setup setup-test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test

run: setup
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py serve

test: setup-test
	$(BIN)/python -m pytest

bench: setup-test
	$(BIN)/python bench/pods.py

clean:
	rm -rf $(VENV) kubelab.sqlite3 kubelab.sqlite3-wal kubelab.sqlite3-shm var
