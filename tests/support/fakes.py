"""Small stand-ins for MTCNN and FaceNet, for the fast tests: they find the squares ``make_photo`` draws
and give deterministic unit vectors."""

from __future__ import annotations

import hashlib

import numpy as np

from indexer.vision.detect import DetectedFace, PreparedPhoto
from indexer.vision.embed import l2_normalize
from support.photos import PEOPLE, SLOT, SQUARE

__all__ = ["FakeDetector", "FakeEmbedder", "PeopleEmbedder", "PEOPLE"]


class FakeDetector:
    """Finds the white squares that ``make_photo`` draws. Counts how many photos it was shown."""

    def __init__(self):
        self.calls = 0
        self.blind_to: set[int] = set()  # slots whose faces it misses (as MTCNN misses a profile)

    def prepare(self, picture) -> PreparedPhoto:
        pixels = np.asarray(picture)  # it looks at the photo whole
        return PreparedPhoto(pixels, (pixels.shape[1], pixels.shape[0]))

    def detect(self, photo) -> list[DetectedFace]:
        self.calls += 1
        pixels = photo.pixels if isinstance(photo, PreparedPhoto) else photo
        faces = []
        for slot in range((pixels.shape[1] - 10) // SLOT):
            if slot in self.blind_to:
                continue
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
        self.largest = 0  # the most crops one call was given

    def embed(self, crops):
        self.calls += 1
        self.largest = max(self.largest, len(crops))
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
        self.largest = max(self.largest, len(crops))
        vectors = []
        for crop in crops:
            centre = crop[crop.shape[0] // 2, crop.shape[1] // 2]
            person = tuple(int(round(c / 50)) for c in centre)
            base = np.random.default_rng(abs(hash(person)) % 2**32).normal(size=self.dimensions)
            seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(crop).tobytes()).digest()[:8], "little")
            noise = np.random.default_rng(seed).normal(size=self.dimensions)
            vectors.append(base / np.linalg.norm(base) + 0.02 * noise)
        return l2_normalize(np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimensions))
