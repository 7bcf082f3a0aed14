"""Shared fixtures: an isolated home for every test, config files, synthetic photos and model fakes.

The fakes stand in for MTCNN and FaceNet in fast tests only; tests marked ``e2e`` use the real models.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from indexer.config import load_config
from indexer.library import Library
from support.fakes import FakeDetector, FakeEmbedder, PeopleEmbedder


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No test sees the developer's config or data: a fresh working folder and config folder.
    The cache folder (downloaded archives, model weights) stays shared: it only holds verified files."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for name in ("INDEXER_CONFIG", "INDEXER_DATA_DIR", "INDEXER_DATABASE_URL", "INDEXER_MODELS_DIR"):
        monkeypatch.delenv(name, raising=False)
    return work


@pytest.fixture
def write_config(tmp_path):
    """Write a config.toml (TOML text) and return its path; data_dir defaults to tmp_path/data."""

    def write(text: str = "", name: str = "config.toml", data_dir: bool = True) -> Path:
        path = tmp_path / name
        if data_dir and "[storage]" not in text:
            text = f'[storage]\ndata_dir = "{tmp_path / "data"}"\n' + text
        path.write_text(text)
        return path

    return write


@pytest.fixture
def config(write_config) -> Path:
    """A config file whose data_dir is tmp_path/data."""
    return write_config()


@pytest.fixture
def run(config, tmp_path):
    """The CLI in this process with ``config`` (support.cli.Cli): ``run(*args, expect=0, input=None)``
    asserts the exit status (None: any); ``input`` is what the user types."""
    from support.cli import Cli

    return Cli(config, data_dir=tmp_path / "data")


@pytest.fixture(params=["sqlite", "postgresql"])
def run_on_both(request, config, tmp_path, write_config):
    """The CLI in this process (``run``) once on a SQLite file and once on a new database of the session's
    PostgreSQL server (``run.query`` reads either)."""
    import re

    from support.cli import Backend, Cli

    if request.param == "sqlite":
        return Cli(config, data_dir=tmp_path / "data")
    server = request.getfixturevalue("postgres")
    name = re.sub(r"\W", "_", request.node.name)[:60]
    url = server.create_database(name)
    return Cli(write_config(f'[storage]\ndata_dir = "{tmp_path / "pg-data"}"\ndatabase_url = "{url}"\n', name="pg.toml"),
               backend=Backend("postgresql", server), database=name)


def patch_models(monkeypatch, embedder: FakeEmbedder) -> tuple[FakeDetector, FakeEmbedder]:
    """Make every Library opened from now on (the CLI's too) use FakeDetector and ``embedder``."""
    detector = FakeDetector()
    monkeypatch.setattr(Library, "detector", lambda self, threads=None: detector)
    monkeypatch.setattr(Library, "embedder", lambda self, threads=None: embedder)
    return detector, embedder


@pytest.fixture
def use_people_models(monkeypatch):
    """The fake detector and PeopleEmbedder for every Library the CLI opens (recognition tests)."""
    return patch_models(monkeypatch, PeopleEmbedder())


@pytest.fixture
def fake_library(write_config):
    """A Library on a real SQLite file and FAISS file, with the fake models."""

    def open_library(text: str = "") -> Library:
        config = load_config(write_config(text))
        return Library(config, detector=FakeDetector(), embedder=FakeEmbedder(config.embedding.model))

    return open_library


@pytest.fixture
def use_fake_models(monkeypatch):
    """The fakes for every Library the CLI opens (CLI tests of the indexing logic)."""
    return patch_models(monkeypatch, FakeEmbedder())


@pytest.fixture(scope="session")
def sample():
    """The sample library (indexer.sample), built once per machine into the cache folder."""
    from indexer.sample import cached_sample_library

    return cached_sample_library()


@pytest.fixture(scope="session")
def exiftool() -> str:
    """exiftool, the XMP tests' independent reader and writer; the test is skipped, saying why, without it."""
    found = shutil.which("exiftool")
    if found is None:
        pytest.skip("no exiftool here: `make test` installs it as root with apt-get (Debian's libimage-exiftool-perl)")
    return found


@pytest.fixture(scope="session")
def trained_sample(sample, tmp_path_factory, request):
    """``trained_sample(engine, backend)``: the sample library indexed with ``engine`` (the 25 val photos
    and the group photo) into a ``backend`` database ("sqlite" or "postgresql"), the 93 train photos
    enrolled from their folders and trained, built once per session, engine and backend, and handed out
    as it was right after training (what an earlier test did to its data is undone): (indexer, library
    folder, train report, a copy of the data folder as it was then). A test that writes into the
    library folder takes its own copy (``support.e2e.own_copy``)."""
    from support.e2e import restore, train_sample

    built = {}

    def get(engine: str = "onnx", backend: str = "sqlite"):
        if (engine, backend) not in built:
            home = tmp_path_factory.mktemp(f"named-{engine}-{backend}")
            built[engine, backend] = train_sample(sample, home, engine, database_backend(request, backend))
        else:
            indexer, _, _, copy = built[engine, backend]
            restore(indexer, copy)
        return built[engine, backend]

    return get


def database_backend(request, name: str):
    """support.cli.Backend ``name``; for "postgresql" the session's server (started now if need be)."""
    from support.cli import Backend

    return Backend(name, request.getfixturevalue("postgres") if name == "postgresql" else None)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request):
    """The database an end-to-end module runs against: each such module runs once on SQLite and once on
    PostgreSQL (a real server: ``postgres``)."""
    return database_backend(request, request.param)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (support/postgres.py); skipped, saying why, where the
    machine has no server binaries."""
    from support.postgres import PostgresServer, server_binaries

    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server here: `make test` installs Debian's postgresql as root with apt-get")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[test]')")
    # Not under pytest's own temporary folder: that is the user's alone, and as root the server runs as
    # the postgres user, who must reach its folder.
    folder = Path(tempfile.mkdtemp(prefix="indexer-tests-postgres-"))
    server = PostgresServer(folder, binaries)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by chromium-driver, for the browser tests (gallery, serve); skipped, saying
    why, where either is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("no chromium and chromium-driver here: `make test` installs them as root with apt-get "
                    "(Debian's chromium, chromium-driver); elsewhere install them to run the browser tests")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def pytest_collection_modifyitems(config, items):
    """Run the slow end-to-end tests last, so a quick failure shows first."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)

