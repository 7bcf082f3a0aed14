"""Making the ONNX files from the verified TensorFlow weights (``indexer models fetch``; the only place
the ONNX engine needs TensorFlow).

Each network is traced as a ``tf.function`` and converted by tf2onnx at opset 17, then proven on the
spot: a batch of random inputs goes through both, and a file whose outputs differ from TensorFlow's by
more than MAX_DIFFERENCE is not kept. The largest difference goes into the file's record.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from indexer.vision.engines.onnx_files import CASCADE_NETWORKS, CONVERTER, OPSET, ConvertedNetwork, converter_version, facenet_network, state
from indexer.errors import ModelUnavailable
from indexer.files import atomic_file, sha256_file
from indexer.vision.weights import ModelSpec, verified_mtcnn_weights

log = logging.getLogger(__name__)

# Outputs are probabilities, box offsets (fractions of a box) and embedding components; measured
# differences are ~1e-6 (MTCNN) and ~1e-7 (FaceNet), so this only catches a broken conversion.
MAX_DIFFERENCE = 1e-4
# Sizes of the random inputs the check runs: (batch, side) per network; the proposal network gets a
# non-square level, as the pyramid gives it.
_CHECK_SHAPES = {"propose": (1, 67, 91), "refine": (16, 24, 24), "output": (16, 48, 48), "embed": (4, 160, 160)}


def make_onnx_files(spec: ModelSpec, weights: Path, models_dir: Path) -> list[tuple[Path, str]]:
    """Make every ONNX file of the ONNX engine for the embedding model ``spec`` (whose verified weights
    are ``weights``) that is missing, damaged or stale; returns each file with what was done ("made" or
    "current")."""
    version = converter_version()
    if version is None:
        raise ModelUnavailable(f"{CONVERTER} is not installed, so the ONNX files cannot be made: pip install the indexer package again")
    wanted = [*CASCADE_NETWORKS, facenet_network(spec)]
    todo = [network for network in wanted if state(network, models_dir, version) != "current"]
    done = {network.name: "current" for network in wanted}
    if todo:
        functions = _tensorflow_functions(todo, spec, weights)
        for network in todo:
            _convert(network, functions[network.role], models_dir, version)
            done[network.name] = "made"
    return [(network.path(models_dir), done[network.name]) for network in wanted]


def _tensorflow_functions(networks: list[ConvertedNetwork], spec: ModelSpec, weights: Path) -> dict:
    from indexer.vision.engines import tensorflow

    functions = {}
    if any(network.role != "embed" for network in networks):
        verified_mtcnn_weights()  # the package's weights, which MTCNN() loads, are the pinned ones
        functions.update(tensorflow.cascade_functions())
    if any(network.role == "embed" for network in networks):
        functions["embed"], _ = tensorflow.facenet_function(spec.input_size, spec.dimensions, weights)
    return functions


def _convert(network: ConvertedNetwork, function, models_dir: Path, version: str) -> None:
    import tensorflow as tf
    import tf2onnx

    from indexer.vision.engines.onnx import OnnxNetwork
    from indexer.vision.engines.tensorflow import quiet_native_logs

    log.info("converting %s to ONNX with %s %s", network.name, CONVERTER, version)
    side = network.input_side
    signature = [tf.TensorSpec([None, side, side, 3], tf.float32)]
    target = network.path(models_dir)
    with atomic_file(target, private=False) as tmp:
        with quiet_native_logs():
            tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET, output_path=tmp)
        batch, height, width = _CHECK_SHAPES[network.role]
        sample = np.random.default_rng(0).uniform(-1, 1, (batch, height, width, 3)).astype(np.float32)
        expected = [np.asarray(output) for output in _as_list(function(sample))]
        got = OnnxNetwork(Path(tmp)).run(sample)
        difference = max(float(np.max(np.abs(a - b))) for a, b in zip(expected, got))
        if len(got) != len(expected) or difference > MAX_DIFFERENCE:
            raise ModelUnavailable(f"the ONNX conversion of {network.name} differs from TensorFlow by {difference:.2g}; it was not kept")
        digest = sha256_file(tmp)
    record = {
        "network": network.name,
        "sha256": digest,
        "made_from": network.made_from,
        "converter": f"{CONVERTER} {version}",
        "opset": OPSET,
        "max_difference_from_tensorflow": difference,
    }
    with atomic_file(network.record_path(models_dir), private=False) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    log.info("%s: %s (largest difference from TensorFlow %.2g)", network.name, target, difference)


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
