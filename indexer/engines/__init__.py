"""Where the networks run: ONNX Runtime (the default) or TensorFlow (the reference).

Both engines run the same weights: the ONNX files are converted from the verified TensorFlow weights by
``indexer models fetch``, and everything around the networks (MTCNN's pyramid, suppression and box
calibration in ``indexer.cascade``; FaceNet's input scaling and normalisation in ``indexer.embed``) is
shared, so the two cannot drift. ONNX Runtime starts in under a second and a few hundred MB; TensorFlow
takes ~13 s and 1.2 GB. Nothing here imports either until a network is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the configuration reads ENGINES: nothing heavier is imported with it
    from indexer.cascade import CascadeNetworks

ONNX = "onnx"
TENSORFLOW = "tensorflow"
ENGINES = (ONNX, TENSORFLOW)
DEFAULT_ENGINE = ONNX


def cascade_files(models_dir: Path) -> list[Path]:
    """The verified ONNX files of MTCNN's three networks (ModelUnavailable names the fix otherwise)."""
    from indexer.engines.onnx_files import CASCADE_NETWORKS, verified_onnx

    return [verified_onnx(network, models_dir) for network in CASCADE_NETWORKS]


def load_cascade(engine: str, files: list[Path] | None = None) -> "CascadeNetworks":
    """MTCNN's networks on ``engine``; the ONNX engine runs ``files`` (from ``cascade_files``)."""
    if engine == ONNX:
        from indexer.engines.onnx import OnnxCascade

        return OnnxCascade(files)
    from indexer.engines.tensorflow import TensorflowCascade

    return TensorflowCascade()


def load_facenet(engine: str, side: int, dimensions: int, file: Path):
    """FaceNet on ``engine`` as a function from a standardised (n, side, side, 3) float32 batch to raw
    (n, dimensions) outputs. ``file`` is the verified ONNX file or, for TensorFlow, the weights."""
    if engine == ONNX:
        from indexer.engines.onnx import OnnxNetwork

        network = OnnxNetwork(file)
        return lambda batch: network.run(batch)[0]
    from indexer.engines.tensorflow import TensorflowFacenet

    return TensorflowFacenet(side, dimensions, file)
