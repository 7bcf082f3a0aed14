"""Face embeddings with FaceNet (keras-facenet's Inception-ResNet-v1): crops in, unit vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.weights import ModelSpec


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


class FacenetEmbedder:
    """FaceNet on TensorFlow, built and loaded on the first ``embed``; runs ``batch_size`` crops per call.

    ``weights`` is the path of the (verified) weights file for ``spec``.
    """

    def __init__(self, spec: ModelSpec, weights: Path, batch_size: int = 32):
        self.spec = spec
        self.model_name = spec.name
        self.dimensions = spec.dimensions
        self.input_size = spec.input_size
        self.batch_size = batch_size
        self._weights = weights
        self._network = None
        self._graph = None
        self._batches = 0

    def _load(self):
        if self._network is None:
            from indexer.tensorflow_runtime import load_tensorflow, quiet_native_logs

            tf = load_tensorflow()
            with quiet_native_logs():
                from keras_facenet.inception_resnet_v1 import InceptionResNetV1

                size = self.spec.input_size
                network = InceptionResNetV1(input_shape=(size, size, 3), classes=self.spec.dimensions)
                network.load_weights(str(self._weights))
            # One graph for every batch size: Keras' predict_on_batch traces the network again (~2 s) for
            # each new batch size, and the batches of a run vary with the faces per photo.
            signature = [tf.TensorSpec([None, size, size, 3], tf.float32)]
            self._graph = tf.function(lambda batch: network(batch, training=False), input_signature=signature)
            self._network = network
        return self._network

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """The network on one batch. The first batch runs eagerly (0.75 s for 6 faces) rather than paying
        for tracing the graph (1.7 s), which only pays off from the second batch on (then 5× faster than
        eager). Both give the same numbers. So `who-is` on one photo and a nightly run with one batch of
        new faces never trace."""
        self._batches += 1
        if self._batches == 1:
            return np.asarray(self._load()(batch, training=False))
        self._load()
        return np.asarray(self._graph(batch))

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        batch = standardize(np.stack(crops), self.spec.standardization)
        outputs = [self._forward(batch[start : start + self.batch_size]) for start in range(0, len(batch), self.batch_size)]
        return l2_normalize(np.concatenate(outputs))
