"""ONNX models written as protocol-buffer bytes by hand, so that building the ONNX files needs neither the
``onnx`` package (35 MB with what it brings) nor TensorFlow: only the handful of messages the graphs use.

The messages and field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
TensorProto, ValueInfoProto and the type and shape messages; proto2: a field set is written even when it
is zero or empty, repeated numbers are not packed); fields are written in field-number order, as
protobuf's own serializer writes them, so the bytes are those the ``onnx`` package writes for the same
model (tests/test_light_install.py checks it, with onnx from the test extra).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

IR_VERSION = 8  # the IR of ONNX 1.12–1.14, which opset 17 came with
FLOAT = 1  # TensorProto.DataType FLOAT
_ATTRIBUTE_FLOAT, _ATTRIBUTE_INT, _ATTRIBUTE_STRING, _ATTRIBUTE_INTS = 1, 2, 3, 7


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s as protobuf writes them: ten bytes, two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _int(number: int, value: int) -> bytes:
    return _key(number, 0) + _varint(value)


def _bytes(number: int, value: bytes | str) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _key(number, 2) + _varint(len(data)) + data


def _message(number: int, body: bytes) -> bytes:
    return _bytes(number, body)


def _ints(number: int, values: list[int]) -> bytes:
    return b"".join(_int(number, v) for v in values)


@dataclass(frozen=True)
class Node:
    """One operator: ``attributes`` are ints, floats, strings or lists of ints."""

    op: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, int | float | str | list[int]] = field(default_factory=dict)

    def encode(self) -> bytes:
        body = b"".join(_bytes(1, name) for name in self.inputs) + b"".join(_bytes(2, name) for name in self.outputs)
        body += _bytes(4, self.op)
        for name in sorted(self.attributes):
            body += _message(5, _attribute(name, self.attributes[name]))
        return body


def _attribute(name: str, value: int | float | str | list[int]) -> bytes:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, list)):
        raise TypeError(f"attribute {name}: {value!r} is not an int, float, string or list of ints")
    if isinstance(value, float):
        return _bytes(1, name) + _key(2, 5) + struct.pack("<f", value) + _int(20, _ATTRIBUTE_FLOAT)
    if isinstance(value, int):
        return _bytes(1, name) + _int(3, value) + _int(20, _ATTRIBUTE_INT)
    if isinstance(value, str):
        return _bytes(1, name) + _bytes(4, value) + _int(20, _ATTRIBUTE_STRING)
    return _bytes(1, name) + _ints(8, list(value)) + _int(20, _ATTRIBUTE_INTS)


def tensor(name: str, array: np.ndarray) -> bytes:
    """A float32 TensorProto with its values as raw little-endian bytes."""
    array = np.ascontiguousarray(array, dtype="<f4")
    return _ints(1, list(array.shape)) + _int(2, FLOAT) + _bytes(8, name) + _bytes(9, array.tobytes())


def value_info(name: str, shape: list[int | str]) -> bytes:
    """A float tensor's ValueInfoProto; a str in ``shape`` is a named (open) dimension."""
    dims = b"".join(_message(1, _int(1, d) if isinstance(d, int) else _bytes(2, d)) for d in shape)
    tensor_type = _int(1, FLOAT) + _message(2, dims)
    return _bytes(1, name) + _message(2, _message(1, tensor_type))


def model(name: str, nodes: list[Node], initializers: list[bytes], inputs: list[bytes], outputs: list[bytes],
          opset: int, producer: str) -> bytes:
    """A ModelProto: one graph called ``name`` of ``nodes``, with ``initializers`` (``tensor``), ``inputs`` and
    ``outputs`` (``value_info``), in the default domain at ``opset``."""
    graph = b"".join(_message(1, node.encode()) for node in nodes) + _bytes(2, name)
    graph += b"".join(_message(5, t) for t in initializers)
    graph += b"".join(_message(11, i) for i in inputs) + b"".join(_message(12, o) for o in outputs)
    opset_import = _bytes(1, "") + _int(2, opset)
    return _int(1, IR_VERSION) + _bytes(2, producer) + _message(7, graph) + _message(8, opset_import)
