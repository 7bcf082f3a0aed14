"""Face detection with MTCNN: every face in a photo, as boxes, scores and five landmarks."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from indexer.vision.cascade import FACE_PX, LANDMARK_NAMES, CascadeNetworks, CascadeThresholds, find_faces, pyramid
from indexer.config import DetectionConfig

# pixels: the size a small photo is enlarged to at most, to look for faces under FACE_PX (down to
# tiny_face_size) in it. MTCNN's 12 px window sees a FACE_PX face at its first level, so a 12 px face needs
# the photo 20/12 × larger: a 150×104 photo is searched at 250×173, a 150×200 one at 217×289 (faces down to
# 14 px), and a photo of 250×250 or more is not enlarged — the search never costs more than that of a photo
# of this size (bench/hard_faces.py).
SMALL_PHOTO_PIXELS = 250 * 250


@dataclass(frozen=True)
class DetectedFace:
    """One face. ``box`` is [x, y, w, h] in pixels of the upright photo; ``confidence`` is 0–1;
    ``landmarks`` maps left_eye, right_eye, nose, mouth_left, mouth_right to (x, y) pixels."""

    box: tuple[int, int, int, int]
    confidence: float
    landmarks: dict[str, tuple[int, int]]


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo made ready for ``detect`` ahead of time (``FaceDetector.prepare``, in the reading thread
    while the networks work on the photo before): ``pixels`` is the copy the detector looks at (RGB uint8,
    (height, width, 3)) of a photo of ``photo_size`` (width, height, pixels); ``ahead`` is what the
    detector made of it without its networks (MTCNN: the image pyramid), or None."""

    pixels: np.ndarray
    photo_size: tuple[int, int]
    ahead: object = None


class FaceDetector(Protocol):
    def prepare(self, picture: np.ndarray | Image.Image) -> PreparedPhoto:
        """The work ``detect`` can have done ahead on a photo (its RGB uint8 pixels or Pillow image)."""
        ...

    def detect(self, photo: np.ndarray | PreparedPhoto) -> list[DetectedFace]:
        """Every face in an RGB uint8 photo of shape (height, width, 3), or in the photo ``prepare`` made
        ready, left to right, in pixels of the photo."""
        ...


class MtcnnDetector:
    """MTCNN (``indexer.vision.cascade``) on the networks ``load_networks()`` returns, called on the first ``detect``.

    A photo's smallest face looked for is ``min_face_px`` (``min_face_size``, lower in a small photo, or
    ``min_face_fraction`` of the shorter side when that is larger); MTCNN searches a copy scaled so that such a face is
    FACE_PX (20 px), and the boxes are mapped back to the photo's pixels (crops are cut from the photo
    itself). Boxes below that size (longer side) or ``min_confidence`` are dropped: the image pyramid
    does not look for smaller faces, so such boxes are unreliable.
    """

    def __init__(self, config: DetectionConfig, load_networks: Callable[[], CascadeNetworks]):
        self.config = config
        self.thresholds = CascadeThresholds(
            propose=config.pnet_threshold, refine=config.rnet_threshold, output=config.min_confidence
        )
        self._load_networks = load_networks
        self._networks: CascadeNetworks | None = None
        self._loading = threading.Lock()  # threads reading photos at once load the networks once

    def _load(self) -> CascadeNetworks:
        if self._networks is None:
            with self._loading:
                if self._networks is None:
                    self._networks = self._load_networks()
        return self._networks

    def min_face_px(self, width: int, height: int) -> float:
        """The smallest face (pixels of the photo, longer side of the box) looked for in a width × height
        photo: ``min_face_size``, or in a small photo down to ``tiny_face_size`` where the copy searched
        stays within SMALL_PHOTO_PIXELS; at least ``min_face_fraction`` of the shorter side."""
        config, shorter = self.config, min(width, height)
        smallest = config.min_face_size
        if config.tiny_face_size < smallest:
            enlarged = FACE_PX / math.sqrt(SMALL_PHOTO_PIXELS / max(1, width * height))  # at the largest allowed
            smallest = min(smallest, max(config.tiny_face_size, enlarged))
        return max(smallest, config.min_face_fraction * shorter)

    def working_size(self, width: int, height: int) -> tuple[int, int]:
        """The size (width, height, pixels) of the copy of a width × height photo MTCNN searches: scaled
        so that its smallest face looked for (``min_face_px``) is FACE_PX."""
        scale = FACE_PX / self.min_face_px(width, height)
        if scale == 1:
            return width, height
        return max(1, round(width * scale)), max(1, round(height * scale))

    def prepare(self, picture: np.ndarray | Image.Image) -> PreparedPhoto:
        """The copy MTCNN searches and its image pyramid (``cascade.pyramid``); nothing when the photo is
        smaller than the smallest face looked for."""
        size = picture.size if isinstance(picture, Image.Image) else (picture.shape[1], picture.shape[0])
        pixels = scaled_for_detection(picture, self.working_size(*size))
        too_small = min(size) < self.min_face_px(*size)
        return PreparedPhoto(pixels, size, None if too_small else pyramid(pixels))

    def candidates(self, photo: np.ndarray | PreparedPhoto) -> list[DetectedFace]:
        """Every box MTCNN reports with these thresholds (its last stage applies ``min_confidence``),
        before the size cut, left to right, in pixels of the photo."""
        prepared = photo if isinstance(photo, PreparedPhoto) else self.prepare(photo)
        if prepared.ahead is None:
            return []
        width, height = prepared.photo_size
        scale = FACE_PX / self.min_face_px(width, height)
        faces = [
            DetectedFace(
                box=_box_in_original(found.box, scale, width, height),
                confidence=found.confidence,
                landmarks={name: (round(x / scale), round(y / scale)) for name, (x, y) in zip(LANDMARK_NAMES, found.landmarks)},
            )
            for found in find_faces(prepared.ahead, self._load(), self.thresholds)
        ]
        return sorted(faces, key=lambda f: (f.box[0], f.box[1]))

    def detect(self, photo: np.ndarray | PreparedPhoto) -> list[DetectedFace]:
        prepared = photo if isinstance(photo, PreparedPhoto) else self.prepare(photo)
        min_face = self.min_face_px(*prepared.photo_size)
        return [face for face in self.candidates(prepared) if self.keeps(face, min_face)]

    def keeps(self, face: DetectedFace, min_face: float) -> bool:
        """Whether a candidate is reported: at least ``min_face`` px (longer side) and ``min_confidence``."""
        _, _, w, h = face.box
        return w > 0 and h > 0 and max(w, h) >= min_face and face.confidence >= self.config.min_confidence


def mtcnn_detector(config: DetectionConfig, engine: str, models_dir: Path, threads: int | None = None) -> MtcnnDetector:
    """MTCNN on ``engine`` ("onnx" or "tensorflow"). The ONNX files (in ``models_dir``) are verified now;
    the networks load on the first ``detect``, each run with ``threads`` on ONNX Runtime (None: its own
    choice; 1 for a detector several threads share)."""
    from indexer.vision import engines
    from indexer.vision.engines import load

    files = load.cascade_files(models_dir) if engine == engines.ONNX else None
    return MtcnnDetector(config, lambda: load.load_cascade(engine, files, threads))


def scaled_for_detection(picture: np.ndarray | Image.Image, size: tuple[int, int]) -> np.ndarray:
    """A photo (pixels, or its decoded Pillow image: no copy of the whole photo is made then) resized
    bilinearly to ``size`` (width, height, pixels; ``FaceDetector.working_size``) as RGB uint8 pixels;
    pixels already of that size are returned as they are (a small photo, a video frame)."""
    if isinstance(picture, np.ndarray) and (picture.shape[1], picture.shape[0]) == size:
        return picture
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    return np.asarray(image if image.size == size else image.resize(size, Image.Resampling.BILINEAR))


def _box_in_original(box, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """A box (x1, y1, x2, y2) found on the image scaled by ``scale``, rounded to whole pixels of that image
    (as MTCNN reports boxes), in pixels of the original, clipped to it: [x, y, w, h]."""
    left, top = round(box[0]), round(box[1])
    right, bottom = left + round(box[2] - box[0]), top + round(box[3] - box[1])
    x0, y0 = max(0, round(left / scale)), max(0, round(top / scale))
    x1, y1 = min(width, round(right / scale)), min(height, round(bottom / scale))
    return (x0, y0, x1 - x0, y1 - y0)
