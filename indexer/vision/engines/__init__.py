"""Where the networks run: ONNX Runtime (the default) or TensorFlow (the reference).

Both engines run the same weights: the ONNX files are built from the verified weights by ``indexer models
fetch`` (``graphs``, no TensorFlow) and checked against outputs recorded from TensorFlow (``reference``);
everything around the networks (MTCNN's pyramid, suppression and box
calibration in ``indexer.vision.cascade``; FaceNet's input scaling and normalisation in ``indexer.vision.embed``) is
shared, so the two cannot drift. ONNX Runtime starts in under a second and a few hundred MB; TensorFlow
takes ~13 s and 1.2 GB, and is installed only with the ``reference`` extra. Nothing here imports either (the configuration reads ENGINES); ``load`` loads
the networks on an engine.
"""

from __future__ import annotations

ONNX = "onnx"
TENSORFLOW = "tensorflow"
ENGINES = (ONNX, TENSORFLOW)
DEFAULT_ENGINE = ONNX
