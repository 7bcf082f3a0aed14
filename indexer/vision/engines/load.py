"""Loading a network on an engine: MTCNN's three (``load_cascade``) and FaceNet (``load_facenet``). The
engine's own package (onnxruntime, tensorflow) is imported only here, when a network is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from indexer.vision.engines import ONNX

if TYPE_CHECKING:
    from indexer.vision.cascade import CascadeNetworks


def cascade_files(models_dir: Path) -> list[Path]:
    """The verified ONNX files of MTCNN's three networks (ModelUnavailable names the fix otherwise)."""
    from indexer.vision.engines.onnx_files import CASCADE_NETWORKS, verified_onnx

    return [verified_onnx(network, models_dir) for network in CASCADE_NETWORKS]


def load_cascade(engine: str, files: list[Path] | None = None, threads: int | None = None) -> CascadeNetworks:
    """MTCNN's networks on ``engine``; the ONNX engine runs ``files`` (from ``cascade_files``), each network
    with ``threads`` (None: ONNX Runtime's choice)."""
    if engine == ONNX:
        from indexer.vision.engines.onnx import OnnxCascade

        return OnnxCascade(files, threads)
    from indexer.vision.engines.tensorflow import TensorflowCascade

    return TensorflowCascade()


def load_facenet(engine: str, side: int, dimensions: int, file: Path, threads: int | None = None):
    """FaceNet on ``engine`` as a function from a standardised (n, side, side, 3) float32 batch to raw
    (n, dimensions) outputs. ``file`` is the verified ONNX file or, for TensorFlow, the weights; ``threads``
    what one run may use on ONNX Runtime (None: its own choice)."""
    if engine == ONNX:
        from indexer.vision.engines.onnx import OnnxNetwork

        network = OnnxNetwork(file, threads)
        return lambda batch: network.run(batch)[0]
    from indexer.vision.engines.tensorflow import TensorflowFacenet

    return TensorflowFacenet(side, dimensions, file)
