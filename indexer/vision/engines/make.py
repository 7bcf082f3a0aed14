"""Making the ONNX files of the ONNX engine (``indexer models fetch``), without TensorFlow.

Each network's graph is built from its verified weights (``graphs``), then proven on the spot: the fixed
inputs of ``reference`` go through it on ONNX Runtime, and a file whose outputs differ from those recorded
from TensorFlow by more than ``reference.TOLERANCE`` is not kept. For weights with no recorded outputs
(a FaceNet variant other than the default), the TensorFlow engine computes them, when the ``reference``
extra is installed; otherwise the file is refused, saying so. The largest difference goes into the
file's record.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from indexer.errors import ModelUnavailable
from indexer.files import atomic_file, sha256_file
from indexer.vision.engines import reference
from indexer.vision.engines.onnx_files import CASCADE_NETWORKS, CONVERTER, OPSET, ConvertedNetwork, converter_version, facenet_network, state
from indexer.vision.weights import ModelSpec, verified_mtcnn_weights

log = logging.getLogger(__name__)


def make_onnx_files(spec: ModelSpec, weights: Path, models_dir: Path, downloads_dir: Path) -> list[tuple[Path, str]]:
    """Make every ONNX file of the ONNX engine for the embedding model ``spec`` (whose verified weights
    are ``weights``) that is missing, damaged or stale; returns each file with what was done ("made" or
    "current"). MTCNN's weights are fetched into ``models_dir`` first when needed (``downloads_dir`` is
    the archives' cache)."""
    version = converter_version()
    wanted = [*CASCADE_NETWORKS, facenet_network(spec)]
    done = {network.name: "current" for network in wanted}
    todo = [network for network in wanted if state(network, models_dir, version) != "current"]
    needs_cascade = any(network.role != "embed" for network in todo)
    cascade_weights = verified_mtcnn_weights(models_dir, downloads_dir) if needs_cascade else {}
    for network in todo:
        _make(network, spec, cascade_weights.get(network.role, weights), models_dir, version)
        done[network.name] = "made"
    return [(network.path(models_dir), done[network.name]) for network in wanted]


def _graph(network: ConvertedNetwork, spec: ModelSpec, weights: Path):
    from indexer.vision.engines import graphs

    if network.role == "embed":
        return graphs.facenet_graph(weights, spec.input_size, spec.dimensions)
    return graphs.cascade_graph(network.role, graphs.read_cascade_weights(weights))


def _expected(network: ConvertedNetwork, spec: ModelSpec, weights: Path):
    expected = reference.recorded_outputs(network.name, network.made_from)
    if expected is not None:
        return expected
    log.info("no reference outputs are recorded for %s: TensorFlow gives them", network.name)
    return reference.tensorflow_outputs(network.role, weights, spec.input_size, spec.dimensions)


def _make(network: ConvertedNetwork, spec: ModelSpec, weights: Path, models_dir: Path, version: str) -> None:
    from indexer.vision.engines.onnx import OnnxNetwork

    log.info("building %s as ONNX from %s", network.name, weights.name)
    model = _graph(network, spec, weights)
    target = network.path(models_dir)
    with atomic_file(target, private=False) as tmp:
        Path(tmp).write_bytes(model)
        got = OnnxNetwork(Path(tmp)).run(reference.fixed_input(network.role))
        difference = reference.largest_difference(got, _expected(network, spec, weights))
        if difference > reference.TOLERANCE:
            raise ModelUnavailable(f"the ONNX graph of {network.name} differs from TensorFlow's recorded outputs by "
                                   f"{difference:.2g}; it was not kept")
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
    log.info("%s: %s (largest difference from TensorFlow's recorded outputs %.2g)", network.name, target, difference)
