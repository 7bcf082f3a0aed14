"""The TensorFlow engine (the reference): MTCNN's Keras networks from the ``mtcnn`` package and FaceNet
from ``keras-facenet``, each run as one TensorFlow graph. The outputs the ONNX files are checked against
were recorded from it (``reference``). It needs the ``reference`` extra; the runtime install has none of it.

TensorFlow is imported on first use only and without its native start-up chatter.

TensorFlow's C++ side prints CUDA probing and oneDNN notices straight to file descriptor 2 on every
start, whatever TF_CPP_MIN_LOG_LEVEL says. ``quiet_native_logs`` sends descriptor 2 to a temporary file
while a model loads, and replays what was caught if the load fails. With ``-v`` nothing is hidden.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Hide what native code writes to stderr inside the block, unless debug logging is on."""
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        failed = False
        try:
            yield
        except Exception:  # not on ^C: then the chatter is of no use
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                caught.seek(0)
                sys.stderr.write(caught.read().decode("utf-8", "replace"))
                sys.stderr.flush()


REFERENCE_EXTRA = "the TensorFlow engine needs the reference extra: pip install 'indexer[reference]'"


def load_tensorflow():
    """The ``tensorflow`` module, imported quietly; ModelUnavailable naming the extra when it is not
    installed (the runtime install has no TensorFlow)."""
    from importlib.util import find_spec

    from indexer.errors import ModelUnavailable

    if find_spec("tensorflow") is None or find_spec("keras_facenet") is None:
        raise ModelUnavailable(REFERENCE_EXTRA)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_native_logs():
        import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return tf


# MTCNN's input size per network: the proposal network takes whole pyramid levels, the other two patches.
CASCADE_INPUT_SIDES = {"propose": None, "refine": 24, "output": 48}


def cascade_functions() -> dict[str, object]:
    """MTCNN's three Keras networks (weights from the ``mtcnn`` package) as ``tf.function`` graphs keyed
    by role, with open batch size (and open height and width for the proposal network)."""
    from indexer.vision.weights import installed_mtcnn_weights_are_pinned

    tf = load_tensorflow()
    installed_mtcnn_weights_are_pinned()
    with quiet_native_logs():
        from mtcnn import MTCNN

        stages = MTCNN()._stages
    networks = dict(zip(CASCADE_INPUT_SIDES, (stage._model for stage in stages)))
    return {role: _graph(tf, networks[role], CASCADE_INPUT_SIDES[role]) for role in CASCADE_INPUT_SIDES}


def facenet_function(side: int, dimensions: int, weights: Path):
    """keras-facenet's Inception-ResNet-v1 with ``weights`` as a ``tf.function`` over (n, side, side, 3),
    and the Keras model itself."""
    tf = load_tensorflow()
    with quiet_native_logs():
        from keras_facenet.inception_resnet_v1 import InceptionResNetV1

        network = InceptionResNetV1(input_shape=(side, side, 3), classes=dimensions)
        network.load_weights(str(weights))
    return _graph(tf, network, side), network


def _graph(tf, network, side: int | None):
    """One graph for every batch (and level) size: nothing is traced again for new shapes. Same weights and
    results as eager Keras; 2.6× faster for MTCNN on small photos, because eager mode pays Python overhead
    for every layer of every pyramid level."""
    signature = [tf.TensorSpec([None, side, side, 3], tf.float32)]
    return tf.function(lambda batch: network(batch, training=False), input_signature=signature)


class TensorflowCascade:
    """MTCNN's networks on TensorFlow (``cascade.CascadeNetworks``)."""

    def __init__(self):
        self._functions = cascade_functions()

    def _run(self, role: str, batch: np.ndarray):
        return [np.asarray(output) for output in self._functions[role](np.asarray(batch, dtype=np.float32))]

    def propose(self, level):
        return tuple(self._run("propose", level))

    def refine(self, patches):
        return tuple(self._run("refine", patches))

    def output(self, patches):
        return tuple(self._run("output", patches))


class TensorflowFacenet:
    """FaceNet on TensorFlow: standardised (n, side, side, 3) float32 in, raw (n, dimensions) out.

    The first batch runs eagerly (0.75 s for 6 faces) rather than paying for tracing the graph (1.7 s),
    which only pays off from the second batch on (then 5× faster than eager). Both give the same numbers.
    So `who-is` on one photo and a nightly run with one batch of new faces never trace."""

    def __init__(self, side: int, dimensions: int, weights: Path):
        self._graph, self._network = facenet_function(side, dimensions, weights)
        self._batches = 0

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self._batches += 1
        if self._batches == 1:
            return np.asarray(self._network(batch, training=False))
        return np.asarray(self._graph(batch))
