"""The ONNX files in the models folder: which there are, what each is made from, and their check.

Each network built by ``indexer models fetch`` is ``<name>.onnx`` with ``<name>.onnx.json`` beside
it, recording the file's sha256, the sha256 of the weights it was made from, the converter and its
version, the ONNX opset, and the largest difference from TensorFlow's outputs measured when it was made. A file
is used only when it matches its record and the record names the weights indexer verifies; otherwise
the error says to run ``indexer models fetch``, which makes it again (as it does when the weights or the
builder's version change). No TensorFlow or ONNX Runtime here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import ModelUnavailable
from indexer.files import sha256_file
from indexer.vision.weights import MTCNN_WEIGHTS, ModelSpec

log = logging.getLogger(__name__)

# What builds the files (indexer's own graphs, ``graphs``) and its version: a new version makes every file
# stale, so that ``models fetch`` builds it again, while the old file stays usable meanwhile.
CONVERTER = "indexer-graphs"
GRAPHS_VERSION = "1"
OPSET = 17
FIX = "run `indexer models fetch` to make it from the verified weights"


@dataclass(frozen=True)
class ConvertedNetwork:
    """One network as an ONNX file. ``role`` is "propose", "refine" or "output" for MTCNN's networks,
    "embed" for FaceNet; ``made_from`` is the sha256 of its weights; ``input_side`` None means open
    height and width."""

    name: str
    role: str
    made_from: str
    input_side: int | None

    def path(self, models_dir: Path) -> Path:
        return models_dir / f"{self.name}.onnx"

    def record_path(self, models_dir: Path) -> Path:
        return models_dir / f"{self.name}.onnx.json"


CASCADE_NETWORKS = tuple(
    ConvertedNetwork(name=f"mtcnn-{role}", role=role, made_from=sha256, input_side=side)
    for (role, (_, sha256)), side in zip(MTCNN_WEIGHTS.items(), (None, 24, 48))
)


def facenet_network(spec: ModelSpec) -> ConvertedNetwork:
    return ConvertedNetwork(name=spec.name, role="embed", made_from=spec.sha256, input_side=spec.input_size)


def read_record(network: ConvertedNetwork, models_dir: Path) -> dict | None:
    """The file's record, or None when there is none or it cannot be read."""
    try:
        record = json.loads(network.record_path(models_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


_FAULTS = {
    "missing": "is missing",
    "other weights": "was made from other weights than the verified ones",
    "damaged": "does not match its sha256 (changed or damaged)",
}


def _fault(network: ConvertedNetwork, models_dir: Path) -> str | None:
    """What keeps ``network``'s ONNX file from being used (a key of _FAULTS), or None."""
    record = read_record(network, models_dir)
    if not network.path(models_dir).is_file() or record is None:
        return "missing"
    if record.get("made_from") != network.made_from:
        return "other weights"
    if sha256_file(network.path(models_dir)) != record.get("sha256"):
        return "damaged"
    return None


def verified_onnx(network: ConvertedNetwork, models_dir: Path) -> Path:
    """The path of ``network``'s ONNX file, checked against its record (sha256, and the weights it was made
    from). ModelUnavailable, naming the command that fixes it, when it is missing, changed or stale."""
    path = network.path(models_dir)
    fault = _fault(network, models_dir)
    if fault is not None:
        raise ModelUnavailable(f"{path} {_FAULTS[fault]}: {FIX}")
    return path


def state(network: ConvertedNetwork, models_dir: Path, converter_version: str | None) -> str:
    """"current", "missing", "stale" (other weights, another converter version or opset) or "damaged"."""
    fault = _fault(network, models_dir)
    if fault is not None:
        return "stale" if fault == "other weights" else fault
    record = read_record(network, models_dir)
    if converter_version is not None and record.get("converter") != f"{CONVERTER} {converter_version}":
        return "stale"
    return "stale" if record.get("opset") != OPSET else "current"


def converter_version() -> str:
    """The version of the graphs ``models fetch`` builds now."""
    return GRAPHS_VERSION
