"""Face detection with MTCNN: every face in a photo, as boxes, scores and five landmarks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from indexer.vision.cascade import FACE_PX, LANDMARK_NAMES, CascadeNetworks, CascadeThresholds, find_faces
from indexer.config import DetectionConfig


@dataclass(frozen=True)
class DetectedFace:
    """One face. ``box`` is [x, y, w, h] in pixels of the upright photo; ``confidence`` is 0–1;
    ``landmarks`` maps left_eye, right_eye, nose, mouth_left, mouth_right to (x, y) pixels."""

    box: tuple[int, int, int, int]
    confidence: float
    landmarks: dict[str, tuple[int, int]]


class FaceDetector(Protocol):
    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        """Every face in an RGB uint8 image of shape (height, width, 3), left to right."""
        ...


class MtcnnDetector:
    """MTCNN (``indexer.vision.cascade``) on the networks ``load_networks()`` returns, called on the first ``detect``.

    A photo's smallest face looked for is ``min_face_px`` (the larger of ``min_face_size`` and
    ``min_face_fraction`` of the shorter side); MTCNN searches a copy scaled so that such a face is
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

    def _load(self) -> CascadeNetworks:
        if self._networks is None:
            self._networks = self._load_networks()
        return self._networks

    def min_face_px(self, width: int, height: int) -> float:
        """The smallest face (pixels, longer side of the box) looked for in a width × height photo."""
        return max(self.config.min_face_size, self.config.min_face_fraction * min(width, height))

    def candidates(self, pixels: np.ndarray) -> list[DetectedFace]:
        """Every box MTCNN reports with these thresholds (its last stage applies ``min_confidence``),
        before the size cut, left to right, in pixels of ``pixels``."""
        height, width = pixels.shape[:2]
        min_face = self.min_face_px(width, height)
        if min(height, width) < min_face:
            return []
        scale = FACE_PX / min_face
        image = pixels if scale == 1 else _resized(pixels, scale)
        faces = [
            DetectedFace(
                box=_box_in_original(found.box, scale, width, height),
                confidence=found.confidence,
                landmarks={name: (round(x / scale), round(y / scale)) for name, (x, y) in zip(LANDMARK_NAMES, found.landmarks)},
            )
            for found in find_faces(image, self._load(), self.thresholds)
        ]
        return sorted(faces, key=lambda f: (f.box[0], f.box[1]))

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        height, width = pixels.shape[:2]
        min_face = self.min_face_px(width, height)
        return [face for face in self.candidates(pixels) if self.keeps(face, min_face)]

    def keeps(self, face: DetectedFace, min_face: float) -> bool:
        """Whether a candidate is reported: at least ``min_face`` px (longer side) and ``min_confidence``."""
        _, _, w, h = face.box
        return w > 0 and h > 0 and max(w, h) >= min_face and face.confidence >= self.config.min_confidence


def mtcnn_detector(config: DetectionConfig, engine: str, models_dir: Path) -> MtcnnDetector:
    """MTCNN on ``engine`` ("onnx" or "tensorflow"). The ONNX files (in ``models_dir``) are verified now;
    the networks load on the first ``detect``."""
    from indexer.vision import engines
    from indexer.vision.engines import load

    files = load.cascade_files(models_dir) if engine == engines.ONNX else None
    return MtcnnDetector(config, lambda: load.load_cascade(engine, files))


def _resized(pixels: np.ndarray, scale: float) -> np.ndarray:
    height, width = pixels.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR))


def _box_in_original(box, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """A box (x1, y1, x2, y2) found on the image scaled by ``scale``, rounded to whole pixels of that image
    (as MTCNN reports boxes), in pixels of the original, clipped to it: [x, y, w, h]."""
    left, top = round(box[0]), round(box[1])
    right, bottom = left + round(box[2] - box[0]), top + round(box[3] - box[1])
    x0, y0 = max(0, round(left / scale)), max(0, round(top / scale))
    x1, y1 = min(width, round(right / scale)), min(height, round(bottom / scale))
    return (x0, y0, x1 - x0, y1 - y0)
