"""The models a configuration names, built here and only here: MTCNN for detection and FaceNet for
embedding, on the configured engine. Their files are verified when they are built; the networks load on
first use (``detect``, ``embed``), and TensorFlow is imported only then."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.config import Config
    from indexer.vision.detect import MtcnnDetector
    from indexer.vision.embed import FacenetEmbedder


def detector(config: Config, threads: int | None = None) -> MtcnnDetector:
    """MTCNN with ``[detection]`` on ``[runtime] engine``; its ONNX files are verified now. ``threads``: what
    each network's run may use on ONNX Runtime (``mtcnn_detector``)."""
    from indexer.vision.detect import mtcnn_detector

    return mtcnn_detector(config.detection, config.runtime.engine, config.embedding.models_dir, threads)


def embedder(config: Config, threads: int | None = None) -> FacenetEmbedder:
    """The ``[embedding] model`` on ``[runtime] engine``: its ONNX file, or for TensorFlow its weights
    (fetched when missing), are verified now. ``threads``: what its runs may use on ONNX Runtime."""
    from indexer.vision.embed import facenet_embedder
    from indexer.vision.weights import get_model

    e = config.embedding
    return facenet_embedder(get_model(e.model), config.runtime.engine, e.models_dir, e.batch_size, threads)
