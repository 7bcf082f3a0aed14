"""Face detection with MTCNN: every face in a photo, as boxes, scores and five landmarks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

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
    """MTCNN from the ``mtcnn`` package (weights ship with it), loaded on the first ``detect``.

    Boxes below ``min_face_size`` pixels (longer side) or ``min_confidence`` are dropped: MTCNN's image
    pyramid does not look for faces smaller than ``min_face_size``, so such boxes are unreliable.
    """

    def __init__(self, config: DetectionConfig):
        self.config = config
        self._mtcnn = None

    def _load(self):
        if self._mtcnn is None:
            from indexer.tensorflow_runtime import load_tensorflow, quiet_native_logs

            load_tensorflow()
            from mtcnn import MTCNN

            with quiet_native_logs():
                self._mtcnn = MTCNN()
        return self._mtcnn

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        return [face for face in self.candidates(pixels) if self.keeps(face)]

    def candidates(self, pixels: np.ndarray) -> list[DetectedFace]:
        """Every box MTCNN reports with these thresholds (its last stage applies ``min_confidence``),
        before the size cut, left to right."""
        height, width = pixels.shape[:2]
        if min(height, width) < self.config.min_face_size:
            return []
        raw = self._load().detect_faces(
            pixels,
            min_face_size=self.config.min_face_size,
            threshold_pnet=self.config.pnet_threshold,
            threshold_rnet=self.config.rnet_threshold,
            threshold_onet=self.config.min_confidence,
        )
        faces = [
            DetectedFace(
                box=tuple(int(v) for v in found["box"]),
                confidence=float(found["confidence"]),
                landmarks={name: (int(p[0]), int(p[1])) for name, p in found["keypoints"].items()},
            )
            for found in raw
        ]
        return sorted(faces, key=lambda f: (f.box[0], f.box[1]))

    def keeps(self, face: DetectedFace) -> bool:
        """Whether a candidate is reported: at least ``min_face_size`` px (longer side) and ``min_confidence``."""
        _, _, w, h = face.box
        return w > 0 and h > 0 and max(w, h) >= self.config.min_face_size and face.confidence >= self.config.min_confidence
