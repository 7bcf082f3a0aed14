"""Face embeddings with FaceNet (keras-facenet's Inception-ResNet-v1): crops in, unit vectors out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.vision.weights import ModelSpec


class FaceEmbedder(Protocol):
    model_name: str
    dimensions: int
    input_size: int

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Unit-length (L2-normalised) float32 vectors, shape (len(crops), dimensions), for RGB uint8
        crops of shape (input_size, input_size, 3)."""
        ...


def standardize(crops: np.ndarray, how: str) -> np.ndarray:
    """Scale a (n, h, w, 3) uint8 batch the way the model was trained: ``per_image`` is
    (x − mean) / max(std, 1/√size) over each crop; ``fixed`` is (x − 127.5) / 127.5."""
    x = crops.astype(np.float32)
    if how == "fixed":
        return (x - 127.5) / 127.5
    size = x[0].size
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = np.maximum(x.std(axis=(1, 2, 3), keepdims=True), 1.0 / np.sqrt(size))
    return (x - mean) / std


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def mean_face(vectors: np.ndarray) -> np.ndarray:
    """The mean of some faces' unit vectors (n, dimensions), itself of unit length: a person's, a
    cluster's or a video track's one face."""
    return l2_normalize(np.mean(vectors, axis=0, keepdims=True))[0]


class FacenetEmbedder:
    """FaceNet on the network ``load_network()`` returns (called on the first ``embed``): a function
    from a standardised (n, size, size, 3) float32 batch to raw (n, dimensions) outputs. Runs
    ``batch_size`` crops per call and normalises the outputs to unit length."""

    def __init__(self, spec: ModelSpec, load_network: Callable[[], Callable[[np.ndarray], np.ndarray]], batch_size: int = 32):
        self.spec = spec
        self.model_name = spec.name
        self.dimensions = spec.dimensions
        self.input_size = spec.input_size
        self.batch_size = batch_size
        self._load_network = load_network
        self._network = None
        self._loading = threading.Lock()  # threads reading photos at once load the network once

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        if self._network is None:
            with self._loading:
                if self._network is None:
                    self._network = self._load_network()
        return np.asarray(self._network(batch))

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        batch = standardize(np.stack(crops), self.spec.standardization)
        outputs = [self._forward(batch[start : start + self.batch_size]) for start in range(0, len(batch), self.batch_size)]
        return l2_normalize(np.concatenate(outputs))


def facenet_embedder(spec: ModelSpec, engine: str, models_dir: Path, batch_size: int = 32,
                     threads: int | None = None) -> FacenetEmbedder:
    """FaceNet ``spec`` on ``engine`` ("onnx" or "tensorflow"). Its ONNX file, or for TensorFlow its weights
    (fetched when missing), in ``models_dir`` are verified now; the network loads on the first ``embed``,
    and runs with ``threads`` on ONNX Runtime (None: its own choice; 1 for an embedder threads share)."""
    from indexer.vision import engines
    from indexer.vision.engines import load

    if engine == engines.ONNX:
        from indexer.vision.engines.onnx_files import facenet_network, verified_onnx

        file = verified_onnx(facenet_network(spec), models_dir)
    else:
        from indexer.config import downloads_dir
        from indexer.vision.weights import verified_weights

        file = verified_weights(spec, models_dir, downloads_dir())
    return FacenetEmbedder(spec, lambda: load.load_facenet(engine, spec.input_size, spec.dimensions, file, threads),
                           batch_size)
