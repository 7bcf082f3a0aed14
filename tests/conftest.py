"""Shared fixtures: an isolated home for every test, config files, synthetic photos and model fakes.

The fakes stand in for MTCNN and FaceNet in fast tests only; tests marked ``e2e`` use the real models.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.config import load_config
from indexer.detect import DetectedFace
from indexer.embed import l2_normalize
from indexer.library import Library

# Synthetic photos: a dark canvas with white squares ("faces") in fixed slots along the top.
SLOT = 60
SQUARE = 40


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No test sees the developer's config or data: a fresh working folder and config folder.
    The cache folder (downloaded archives, model weights) stays shared: it only holds verified files."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for name in ("INDEXER_CONFIG", "INDEXER_DATA_DIR", "INDEXER_MODELS_DIR"):
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


# Light colours the fake detector takes for faces; PeopleEmbedder gives each its own person.
PEOPLE = {"ann": (255, 255, 255), "bob": (255, 205, 205), "cy": (205, 255, 205), "dee": (205, 205, 255)}


def make_photo(path: Path, faces: int | list[str], size: tuple[int, int] = (400, 200), shade: int = 40, seed: int = 0) -> Path:
    """A JPEG with white squares (the fake detector's faces) in slots along the top: ``faces`` of them,
    or one per name of PEOPLE, coloured as that person. ``seed`` varies the pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = np.full((size[1], size[0], 3), shade, dtype=np.uint8)
    pixels += rng.integers(0, 20, size=pixels.shape, dtype=np.uint8)
    colours = [PEOPLE["ann"]] * faces if isinstance(faces, int) else [PEOPLE[name] for name in faces]
    for slot, colour in enumerate(colours):
        x = 10 + slot * SLOT
        pixels[10 : 10 + SQUARE, x : x + SQUARE] = colour
    Image.fromarray(pixels).save(path, quality=95)
    return path


class FakeDetector:
    """Finds the white squares that ``make_photo`` draws. Counts how many photos it was shown."""

    def __init__(self):
        self.calls = 0

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        self.calls += 1
        faces = []
        for slot in range((pixels.shape[1] - 10) // SLOT):
            x = 10 + slot * SLOT
            if pixels.shape[0] > 30 and pixels[30, x + SQUARE // 2].mean() > 200:
                landmarks = {"left_eye": (x + 10, 20), "right_eye": (x + 30, 20), "nose": (x + 20, 30),
                             "mouth_left": (x + 12, 40), "mouth_right": (x + 28, 40)}
                faces.append(DetectedFace(box=(x, 10, SQUARE, SQUARE), confidence=0.99, landmarks=landmarks))
        return faces


class FakeEmbedder:
    """Deterministic unit vectors derived from the crop's bytes, under the configured model's name."""

    def __init__(self, model_name: str = "facenet128", dimensions: int = 128):
        self.model_name = model_name
        self.dimensions = dimensions
        self.input_size = 32
        self.calls = 0

    def embed(self, crops):
        self.calls += 1
        vectors = []
        for crop in crops:
            seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(crop).tobytes()).digest()[:8], "little")
            vectors.append(np.random.default_rng(seed).normal(size=self.dimensions))
        return l2_normalize(np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimensions))


class PeopleEmbedder(FakeEmbedder):
    """Like FakeEmbedder, but a face's colour (see PEOPLE) decides where its vector lies: faces of the
    same person are about 0.3 apart, of different people about 1.4 (as FaceNet's are ~0.86 and ~1.44)."""

    def embed(self, crops):
        self.calls += 1
        vectors = []
        for crop in crops:
            centre = crop[crop.shape[0] // 2, crop.shape[1] // 2]
            person = tuple(int(round(c / 50)) for c in centre)
            base = np.random.default_rng(abs(hash(person)) % 2**32).normal(size=self.dimensions)
            seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(crop).tobytes()).digest()[:8], "little")
            noise = np.random.default_rng(seed).normal(size=self.dimensions)
            vectors.append(base / np.linalg.norm(base) + 0.02 * noise)
        return l2_normalize(np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimensions))


@pytest.fixture
def config(write_config) -> Path:
    """A config file whose data_dir is tmp_path/data."""
    return write_config()


@pytest.fixture
def run(config):
    """Run the CLI in-process with ``config``: ``run(*args, expect=0)`` asserts the exit status (None: any)."""
    from typer.testing import CliRunner

    from indexer.cli import app

    def invoke(*args: str, expect: int | None = 0):
        result = CliRunner().invoke(app, ["--config", str(config), *args], catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        return result

    return invoke


def patch_models(monkeypatch, embedder: FakeEmbedder) -> tuple[FakeDetector, FakeEmbedder]:
    """Make every Library opened from now on (the CLI's too) use FakeDetector and ``embedder``."""
    detector = FakeDetector()
    monkeypatch.setattr(Library, "detector", lambda self: detector)
    monkeypatch.setattr(Library, "embedder", lambda self: embedder)
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


def refuse_to_list(monkeypatch, folder_name: str) -> None:
    """Make listing any folder called ``folder_name`` fail as an unreadable folder would."""
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(str(path)) == folder_name:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.fixture(scope="session")
def sample():
    """The sample library (indexer.sample), built once per machine into the cache folder."""
    from indexer.sample import cached_sample_library

    return cached_sample_library()


def pytest_collection_modifyitems(config, items):
    """Run the slow end-to-end tests last, so a quick failure shows first."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)

