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


def make_photo(path: Path, faces: int, size: tuple[int, int] = (400, 200), shade: int = 40, seed: int = 0) -> Path:
    """A JPEG with ``faces`` white squares (the fake detector's faces); ``seed`` varies the pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = np.full((size[1], size[0], 3), shade, dtype=np.uint8)
    pixels += rng.integers(0, 20, size=pixels.shape, dtype=np.uint8)
    for slot in range(faces):
        x = 10 + slot * SLOT
        pixels[10 : 10 + SQUARE, x : x + SQUARE] = 255
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


@pytest.fixture
def fake_library(write_config):
    """A Library on a real SQLite file and FAISS file, with the fake models."""

    def open_library(text: str = "") -> Library:
        config = load_config(write_config(text))
        return Library(config, detector=FakeDetector(), embedder=FakeEmbedder(config.embedding.model))

    return open_library


@pytest.fixture
def use_fake_models(monkeypatch):
    """Make every Library the CLI opens use the fakes (for CLI tests of the indexing logic)."""
    detector, embedder = FakeDetector(), FakeEmbedder()
    monkeypatch.setattr(Library, "detector", lambda self: detector)
    monkeypatch.setattr(Library, "embedder", lambda self: embedder)
    return detector, embedder


def refuse_to_list(monkeypatch, folder_name: str) -> None:
    """Make listing any folder called ``folder_name`` fail as an unreadable folder would."""
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(str(path)) == folder_name:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def pytest_collection_modifyitems(config, items):
    """Run the slow end-to-end tests last, so a quick failure shows first."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)

