"""What the reference engine (TensorFlow) gives for a few fixed inputs, recorded once, so that ONNX files
built without TensorFlow can be checked against it wherever they are built.

The inputs are made from integers alone (the same bytes on every machine): crops of FaceNet's size, patches
of MTCNN's refinement and output networks and one level of its proposal network. Their outputs from the
TensorFlow networks — keras-facenet's Inception-ResNet-v1 with the verified weights, the mtcnn package's
Keras networks — are in ``reference_outputs.json`` beside this file, keyed by network name and by the
sha256 of the weights they were computed with.

Record them again (needs the ``reference`` extra: TensorFlow, keras-facenet, mtcnn):
``python -m indexer.vision.engines.reference``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

RECORDED = Path(__file__).with_name("reference_outputs.json")
# An ONNX file is kept when no output differs from the recorded one by more than this. Measured: FaceNet
# 2e-7, MTCNN 0 (docs/performance.md); this only lets float rounding through.
TOLERANCE = 1e-5
# (batch, height, width) of the fixed inputs by role.
INPUT_SHAPES = {"propose": (1, 30, 41), "refine": (3, 24, 24), "output": (3, 48, 48), "embed": (3, 160, 160)}


def fixed_input(role: str) -> np.ndarray:
    """The fixed (batch, height, width, 3) float32 input of a network role, in [-1, 1]: smooth ramps that
    differ from crop to crop, with a fine pattern over them, from integer arithmetic only."""
    batch, height, width = INPUT_SHAPES[role]
    n, y, x, c = np.meshgrid(np.arange(batch), np.arange(height), np.arange(width), np.arange(3), indexing="ij")
    ramp = ((n + 1) * y + (c + 2) * x + 7 * n) % 64
    fine = (5 * x + 3 * y + 11 * c + 13 * n) % 17
    return ((ramp * 17 + fine) / (64 * 17 / 2) - 1).astype(np.float32)


def recorded_outputs(network_name: str, made_from: str) -> list[np.ndarray] | None:
    """The recorded outputs of ``network_name`` with the weights of sha256 ``made_from``; None when none
    were recorded for those weights."""
    try:
        recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = recorded.get(network_name)
    if not isinstance(entry, dict) or entry.get("made_from") != made_from:
        return None
    return [np.asarray(values, dtype=np.float32).reshape(shape) for values, shape in zip(entry["outputs"], entry["shapes"])]


def largest_difference(got: list[np.ndarray], expected: list[np.ndarray]) -> float:
    """The largest absolute difference between two lists of outputs; infinite when their shapes differ."""
    if len(got) != len(expected) or any(a.shape != b.shape for a, b in zip(got, expected)):
        return float("inf")
    return max(float(np.max(np.abs(a - b))) for a, b in zip(got, expected))


def tensorflow_outputs(role: str, weights: Path | None = None, side: int = 160, dimensions: int = 128) -> list[np.ndarray]:
    """What the TensorFlow engine gives for ``fixed_input(role)``; FaceNet's ``weights`` for "embed"."""
    from indexer.vision.engines import tensorflow

    batch = fixed_input(role)
    if role == "embed":
        function, _ = tensorflow.facenet_function(side, dimensions, weights)
    else:
        function = tensorflow.cascade_functions()[role]
    outputs = function(batch)
    return [np.asarray(output) for output in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def record(models_dir: Path) -> dict:
    """Run the TensorFlow networks on the fixed inputs and write ``reference_outputs.json``."""
    from indexer.vision.engines.onnx_files import CASCADE_NETWORKS, facenet_network
    from indexer.vision.weights import DEFAULT_MODEL, get_model, weights_file

    spec = get_model(DEFAULT_MODEL)
    recorded = {}
    for network in [*CASCADE_NETWORKS, facenet_network(spec)]:
        outputs = tensorflow_outputs(network.role, weights_file(spec, models_dir), spec.input_size, spec.dimensions)
        recorded[network.name] = {
            "made_from": network.made_from,
            "shapes": [list(output.shape) for output in outputs],
            "outputs": [[float(value) for value in output.ravel()] for output in outputs],
        }
    RECORDED.write_text(json.dumps(recorded, indent=1) + "\n", encoding="utf-8")
    return recorded


if __name__ == "__main__":
    from indexer.config import Config

    written = record(Config().embedding.models_dir)
    print(f"{RECORDED}: {', '.join(written)}")
