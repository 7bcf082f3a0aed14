"""The ONNX files built straight from the networks' weights (``indexer models fetch``): no TensorFlow, no
converter, not even the ``onnx`` package — the graphs are written as ONNX's protocol-buffer messages by
``onnx_proto``.

FaceNet is Inception-ResNet-v1 as keras-facenet lays it out (``inception_resnet_v1``, written out here
layer by layer), its weights read by layer name from the Keras h5 file with h5py: a whole saved model
(``model_weights/<layer>/...``, as facenet_keras.h5) or weights alone (``<layer>/...``). MTCNN's three
networks are read from the ``mtcnn`` package's weight files (joblib lists of arrays, in the order of its
Keras layers) without importing that package, which would import TensorFlow.

The graphs take what the TensorFlow networks take — float32 batches in NHWC, (n, height, width, 3) — and
give the same outputs in the same order and layout (NHWC maps for the proposal network). Inside they are
NCHW, as ONNX's convolutions are; batch normalisation stays a node of its own (ONNX Runtime folds it into
the convolution before it runs). What they give is checked against outputs recorded from TensorFlow
(``reference``) before a file is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.errors import ModelUnavailable
from indexer.vision.engines import onnx_proto
from indexer.vision.engines.onnx_files import OPSET

# Keras's BatchNormalization epsilon in both FaceNet files, and tf.math.l2_normalize's.
_BATCH_NORM_EPSILON = 1e-3
_L2_EPSILON = 1e-12


@dataclass
class _Graph:
    """A graph being written: nodes in order, weights as initializers, and fresh value names."""

    nodes: list[onnx_proto.Node] = field(default_factory=list)
    weights: list[bytes] = field(default_factory=list)
    _count: int = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, array: np.ndarray, hint: str) -> str:
        name = self._name(hint)
        self.weights.append(onnx_proto.tensor(name, array))
        return name

    def node(self, op: str, inputs: list[str], hint: str | None = None, **attributes) -> str:
        name = self._name(hint or op.lower())
        self.nodes.append(onnx_proto.Node(op, inputs, [name], attributes))
        return name

    # The layers, each on NCHW values (or (n, features) after flattening).

    def conv(self, x: str, kernel: np.ndarray, bias: np.ndarray | None, strides: int | tuple[int, int], same: bool) -> str:
        """A Keras Conv2D: ``kernel`` is (height, width, in, out) as Keras keeps it. TensorFlow's "same"
        padding puts the odd pixel after, as ONNX's SAME_UPPER does."""
        strides = (strides, strides) if isinstance(strides, int) else strides
        inputs = [x, self.constant(kernel.transpose(3, 2, 0, 1), "kernel")]
        if bias is not None:
            inputs.append(self.constant(bias, "bias"))
        padding = {"auto_pad": "SAME_UPPER"} if same else {"pads": [0, 0, 0, 0]}
        return self.node("Conv", inputs, "conv", kernel_shape=list(kernel.shape[:2]), strides=list(strides), **padding)

    def batch_norm(self, x: str, beta: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> str:
        """A Keras BatchNormalization with scale=False (gamma 1) at inference."""
        inputs = [x, self.constant(np.ones_like(beta), "gamma"), self.constant(beta, "beta"),
                  self.constant(mean, "mean"), self.constant(variance, "variance")]
        return self.node("BatchNormalization", inputs, "batch_norm", epsilon=_BATCH_NORM_EPSILON)

    def prelu(self, x: str, alpha: np.ndarray) -> str:
        """PReLU with one slope a channel: ``alpha`` is (1, 1, c) for maps, (c,) after flattening."""
        slope = alpha.reshape(-1, 1, 1) if alpha.ndim == 3 else alpha
        return self.node("PRelu", [x, self.constant(slope, "alpha")], "prelu")

    def max_pool(self, x: str, size: int, stride: int, same: bool) -> str:
        padding = {"auto_pad": "SAME_UPPER"} if same else {"pads": [0, 0, 0, 0]}
        return self.node("MaxPool", [x], "max_pool", kernel_shape=[size, size], strides=[stride, stride], **padding)

    def dense(self, x: str, kernel: np.ndarray, bias: np.ndarray | None) -> str:
        """A Keras Dense: ``kernel`` is (in, out)."""
        y = self.node("MatMul", [x, self.constant(kernel, "kernel")], "dense")
        return y if bias is None else self.node("Add", [y, self.constant(bias, "bias")], "dense_bias")

    def scaled(self, x: str, scale: float) -> str:
        return self.node("Mul", [x, self.constant(np.array(scale, dtype=np.float32), "scale")], "scaled")

    def to_nchw(self, x: str) -> str:
        return self.node("Transpose", [x], "nchw", perm=[0, 3, 1, 2])

    def to_nhwc(self, x: str) -> str:
        return self.node("Transpose", [x], "nhwc", perm=[0, 2, 3, 1])

    def finish(self, name: str, side: int | None, outputs: list[tuple[str, str, list]]) -> bytes:
        """The model's bytes: one input ``input`` (n, side, side, 3) (open height and width when ``side`` is
        None) and ``outputs`` as (value, name, shape) — renamed by an Identity each."""
        final = []
        for value, output_name, shape in outputs:
            self.nodes.append(onnx_proto.Node("Identity", [value], [output_name]))
            final.append(onnx_proto.value_info(output_name, shape))
        spatial = ["height", "width"] if side is None else [side, side]
        image = onnx_proto.value_info("input", ["n", *spatial, 3])
        return onnx_proto.model(name, self.nodes, self.weights, [image], final, OPSET, producer="indexer")


# FaceNet: Inception-ResNet-v1 as keras-facenet lays it out, named as its layers are.

class _Weights:
    """A Keras h5 file's weights by layer name: ``of("Conv2d_1a_3x3")`` is {"kernel": array, ...}."""

    def __init__(self, path: Path):
        import h5py

        self._file = h5py.File(path, "r")
        self._layers = self._file["model_weights"] if "model_weights" in self._file else self._file

    def of(self, layer: str) -> dict[str, np.ndarray]:
        if layer not in self._layers:
            raise ModelUnavailable(f"the weights file has no layer {layer!r}: it is not an Inception-ResNet-v1 of keras-facenet's layout")
        group = self._layers[layer]
        found = {}
        for full_name in group.attrs["weight_names"]:
            full_name = full_name.decode() if isinstance(full_name, bytes) else str(full_name)
            short = full_name.rsplit("/", 1)[-1].split(":", 1)[0]
            found[short] = np.asarray(group[full_name], dtype=np.float32)
        return found

    def close(self) -> None:
        self._file.close()


@dataclass
class _Facenet:
    graph: _Graph
    weights: _Weights

    def conv_bn(self, x: str, name: str, strides: int = 1, same: bool = True, relu: bool = True) -> str:
        """Convolution, batch normalisation (no bias, gamma 1) and ReLU, as keras-facenet's conv2d_bn; the
        kernel's shape is the weights' (the layer's name says it: Conv2d_0b_1x7)."""
        conv = self.weights.of(name)
        x = self.graph.conv(x, conv["kernel"], None, strides, same)
        norm = self.weights.of(f"{name}_BatchNorm")
        x = self.graph.batch_norm(x, norm["beta"], norm["moving_mean"], norm["moving_variance"])
        return self.graph.node("Relu", [x], "relu") if relu else x

    def residual_block(self, x: str, kind: str, index: int, scale: float, relu: bool = True) -> str:
        """One Inception-ResNet block: its branches concatenated, a 1×1 convolution (with bias, no
        normalisation) back to the input's width, scaled, added to the input, then ReLU."""
        prefix = f"{kind}_{index}"

        def branch(number: int, name: str) -> str:
            return f"{prefix}_Branch_{number}_{name}"

        if kind == "Block35":
            b0 = self.conv_bn(x, branch(0, "Conv2d_1x1"))
            b1 = self.conv_bn(self.conv_bn(x, branch(1, "Conv2d_0a_1x1")), branch(1, "Conv2d_0b_3x3"))
            b2 = self.conv_bn(x, branch(2, "Conv2d_0a_1x1"))
            b2 = self.conv_bn(self.conv_bn(b2, branch(2, "Conv2d_0b_3x3")), branch(2, "Conv2d_0c_3x3"))
            branches = [b0, b1, b2]
        else:
            first, second = ("1x7", "7x1") if kind == "Block17" else ("1x3", "3x1")
            b0 = self.conv_bn(x, branch(0, "Conv2d_1x1"))
            b1 = self.conv_bn(x, branch(1, "Conv2d_0a_1x1"))
            b1 = self.conv_bn(self.conv_bn(b1, branch(1, f"Conv2d_0b_{first}")), branch(1, f"Conv2d_0c_{second}"))
            branches = [b0, b1]
        mixed = self.graph.node("Concat", branches, "concat", axis=1)
        up_weights = self.weights.of(f"{prefix}_Conv2d_1x1")
        up = self.graph.conv(mixed, up_weights["kernel"], up_weights["bias"], 1, True)
        summed = self.graph.node("Add", [x, self.graph.scaled(up, scale)], "residual")
        return self.graph.node("Relu", [summed], "relu") if relu else summed

    def reduction(self, x: str, name: str, branches: list[list[tuple[str, int, bool]]]) -> str:
        """A reduction block: each branch a chain of (layer, stride, same) conv_bn, then a 3×3 stride-2 max
        pool of the input, all concatenated."""
        outputs = []
        for number, chain in enumerate(branches):
            y = x
            for layer, stride, same in chain:
                y = self.conv_bn(y, f"{name}_Branch_{number}_{layer}", stride, same)
            outputs.append(y)
        outputs.append(self.graph.max_pool(x, 3, 2, same=False))
        return self.graph.node("Concat", outputs, "concat", axis=1)


def facenet_graph(weights_path: Path, side: int, dimensions: int) -> bytes:
    """Inception-ResNet-v1 with the weights of ``weights_path`` as an ONNX model's bytes: (n, side, side, 3)
    standardised crops in, (n, dimensions) unit vectors out (keras-facenet's last layer normalises)."""
    graph = _Graph()
    weights = _Weights(weights_path)
    try:
        net = _Facenet(graph, weights)
        x = graph.to_nchw("input")
        x = net.conv_bn(x, "Conv2d_1a_3x3", strides=2, same=False)
        x = net.conv_bn(x, "Conv2d_2a_3x3", same=False)
        x = net.conv_bn(x, "Conv2d_2b_3x3")
        x = graph.max_pool(x, 3, 2, same=False)
        x = net.conv_bn(x, "Conv2d_3b_1x1", same=False)
        x = net.conv_bn(x, "Conv2d_4a_3x3", same=False)
        x = net.conv_bn(x, "Conv2d_4b_3x3", strides=2, same=False)
        for index in range(1, 6):
            x = net.residual_block(x, "Block35", index, 0.17)
        x = net.reduction(x, "Mixed_6a", [
            [("Conv2d_1a_3x3", 2, False)],
            [("Conv2d_0a_1x1", 1, True), ("Conv2d_0b_3x3", 1, True), ("Conv2d_1a_3x3", 2, False)],
        ])
        for index in range(1, 11):
            x = net.residual_block(x, "Block17", index, 0.1)
        x = net.reduction(x, "Mixed_7a", [
            [("Conv2d_0a_1x1", 1, True), ("Conv2d_1a_3x3", 2, False)],
            [("Conv2d_0a_1x1", 1, True), ("Conv2d_1a_3x3", 2, False)],
            [("Conv2d_0a_1x1", 1, True), ("Conv2d_0b_3x3", 1, True), ("Conv2d_1a_3x3", 2, False)],
        ])
        for index in range(1, 6):
            x = net.residual_block(x, "Block8", index, 0.2)
        x = net.residual_block(x, "Block8", 6, 1.0, relu=False)
        x = graph.node("GlobalAveragePool", [x], "average")
        x = graph.node("Flatten", [x], "flatten", axis=1)  # dropout is nothing at inference
        bottleneck = weights.of("Bottleneck")
        x = graph.dense(x, bottleneck["kernel"], None)
        norm = weights.of("Bottleneck_BatchNorm")
        x = graph.batch_norm(x, norm["beta"], norm["moving_mean"], norm["moving_variance"])
        if bottleneck["kernel"].shape[1] != dimensions:
            raise ModelUnavailable(f"{weights_path} gives {bottleneck['kernel'].shape[1]} numbers a face, not {dimensions}")
        x = _l2_normalized(graph, x)
    finally:
        weights.close()
    return graph.finish("facenet", side, [(x, "embedding", ["n", dimensions])])


def _l2_normalized(graph: _Graph, x: str) -> str:
    """x / sqrt(max(Σx², 1e-12)) along the features, as tf.math.l2_normalize."""
    squares = graph.node("ReduceSumSquare", [x], "squares", axes=[1], keepdims=1)
    floor = graph.constant(np.array(_L2_EPSILON, dtype=np.float32), "epsilon")
    norm = graph.node("Sqrt", [graph.node("Max", [squares, floor], "floored")], "norm")
    return graph.node("Div", [x, norm], "normalised")


# MTCNN: the mtcnn package's three networks, their weights in the order of its Keras layers.

def _popper(arrays: list[np.ndarray]) -> Callable[[], np.ndarray]:
    queue = [np.asarray(array, dtype=np.float32) for array in arrays]
    queue.reverse()
    return queue.pop


def _conv_prelu(graph: _Graph, x: str, take: Callable[[], np.ndarray]) -> str:
    kernel, bias = take(), take()
    return graph.prelu(graph.conv(x, kernel, bias, 1, same=False), take())


def _head(graph: _Graph, x: str, take: Callable[[], np.ndarray], softmax: bool = False) -> str:
    y = graph.dense(x, take(), take())
    return graph.node("Softmax", [y], "softmax", axis=-1) if softmax else y


def _flattened_like_keras(graph: _Graph, x: str) -> str:
    """mtcnn's Permute((2, 1, 3)) then Flatten on NHWC maps is (n, w, h, c) flattened: from NCHW, perm
    (0, 3, 2, 1)."""
    transposed = graph.node("Transpose", [x], "permute", perm=[0, 3, 2, 1])
    return graph.node("Flatten", [transposed], "flatten", axis=1)


def cascade_graph(role: str, arrays: list[np.ndarray]) -> bytes:
    """One of MTCNN's networks ("propose", "refine", "output") with its weight ``arrays`` as an ONNX model's
    bytes.

    propose: (n, h, w, 3) → box offsets (n, h', w', 4), face probabilities (n, h', w', 2);
    refine: (n, 24, 24, 3) → (n, 4), (n, 2); output: (n, 48, 48, 3) → (n, 4), landmarks (n, 10), (n, 2).
    """
    graph = _Graph()
    take = _popper(arrays)
    x = graph.to_nchw("input")
    if role == "propose":
        x = graph.max_pool(_conv_prelu(graph, x, take), 2, 2, same=True)
        x = _conv_prelu(graph, _conv_prelu(graph, x, take), take)
        boxes = graph.to_nhwc(graph.conv(x, take(), take(), 1, same=False))
        scores = graph.to_nhwc(graph.conv(x, take(), take(), 1, same=False))
        scores = graph.node("Softmax", [scores], "softmax", axis=-1)
        outputs = [(boxes, "boxes", ["n", "h", "w", 4]), (scores, "scores", ["n", "h", "w", 2])]
        side = None
    elif role in ("refine", "output"):
        x = graph.max_pool(_conv_prelu(graph, x, take), 3, 2, same=True)
        x = graph.max_pool(_conv_prelu(graph, x, take), 3, 2, same=False)
        x = _conv_prelu(graph, x, take)
        if role == "output":
            x = _conv_prelu(graph, graph.max_pool(x, 2, 2, same=True), take)
        x = _flattened_like_keras(graph, x)
        kernel, bias = take(), take()
        x = graph.prelu(graph.dense(x, kernel, bias), take())
        boxes = _head(graph, x, take)
        outputs = [(boxes, "boxes", ["n", 4])]
        if role == "output":
            outputs.append((_head(graph, x, take), "landmarks", ["n", 10]))
        outputs.append((_head(graph, x, take, softmax=True), "scores", ["n", 2]))
        side = 24 if role == "refine" else 48
    else:
        raise ValueError(f"no MTCNN network {role!r}")
    left = []
    try:
        left.append(take())
    except IndexError:
        pass
    if left:
        raise ValueError(f"the {role} network's weights hold more arrays than its layers take")
    return graph.finish(f"mtcnn-{role}", side, outputs)


def read_cascade_weights(path: Path) -> list[np.ndarray]:
    """The arrays of one of the mtcnn package's weight files (a joblib list, lz4-compressed)."""
    import joblib

    arrays = joblib.load(path)
    if not isinstance(arrays, list) or not all(isinstance(array, np.ndarray) for array in arrays):
        raise ModelUnavailable(f"{path} is not a list of arrays as mtcnn 1.0 writes its weights")
    return arrays
