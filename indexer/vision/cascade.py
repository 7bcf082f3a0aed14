"""MTCNN's three-stage cascade around its networks, in numpy: one implementation for every engine.

MTCNN (Zhang et al., 2016) finds faces in three steps. A small fully convolutional *proposal* network
slides a 12 px window over a pyramid of scaled copies of the photo; the boxes it proposes are cut out,
resized to 24 px and scored again by a *refinement* network; the survivors, at 48 px, go through an
*output* network that gives the final score, a last correction of the box and five landmarks. Between
the steps, boxes are calibrated by the networks' regression, made square and thinned by non-maximum
suppression.

The networks themselves come from an engine (``indexer.vision.engines``): TensorFlow runs the Keras models of the
``mtcnn`` package, ONNX Runtime runs the same weights converted. Everything else is here, so both engines
see the same pixels and apply the same rules. The arithmetic follows ``mtcnn`` 1.0 (its TensorFlow
image operations: area resizing for the pyramid, bilinear crop-and-resize for the patches; its
suppression rule), so results match what the package found before this module replaced it.

Coordinates are pixels of the image given, as float x1, y1, x2, y2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

CELL_PX = 12  # the proposal network's window
CELL_STRIDE = 2  # its step in pixels of a pyramid level
PYRAMID_FACTOR = 0.709  # each pyramid level is this much smaller than the one before
FACE_PX = 20  # the face size (pixels) the pyramid's first level is scaled for
PROPOSE_STRIP_PIXELS = 80_000  # the most input pixels the proposal network is given at once (propose_in_strips)
PATCHES_PER_CALL = 64  # the most patches the refinement and output networks are given at once (in_chunks)
REFINE_PX = 24
OUTPUT_PX = 48

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


class CascadeNetworks(Protocol):
    """MTCNN's three networks on float32 batches of shape (n, height, width, 3) scaled to about −1…1."""

    def propose(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Box offsets (1, h, w, 4) and face/non-face probabilities (1, h, w, 2) for each 12 px window
        (step 2) of one pyramid level of shape (1, height, width, 3)."""
        ...

    def refine(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Offsets (n, 4) and probabilities (n, 2) for patches of shape (n, 24, 24, 3)."""
        ...

    def output(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Offsets (n, 4), landmarks (n, 10: five x then five y, 0–1 of the patch) and probabilities
        (n, 2) for patches of shape (n, 48, 48, 3)."""
        ...


@dataclass(frozen=True)
class CascadeThresholds:
    """Face probability (0–1) each stage needs, and the overlap above which a lower-scored box goes."""

    propose: float = 0.6
    refine: float = 0.7
    output: float = 0.8
    overlap_per_level: float = 0.5
    overlap_proposals: float = 0.7
    overlap_refined: float = 0.7
    overlap_output: float = 0.7  # intersection over the smaller box


@dataclass(frozen=True)
class CascadeFace:
    """``box`` is (x1, y1, x2, y2) in pixels, clipped to the image; ``landmarks`` are (x, y) pixels
    in the order of LANDMARK_NAMES; ``confidence`` is the output network's probability, 0–1."""

    box: tuple[float, float, float, float]
    confidence: float
    landmarks: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Pyramid:
    """What the cascade needs of an image before any network runs (``pyramid``): the image scaled to
    about −1…1 (float32, (height, width, 3)) and its levels, each (scale, float32 pixels), largest first."""

    image: np.ndarray
    levels: list[tuple[float, np.ndarray]]


def pyramid(pixels: np.ndarray) -> Pyramid:
    """The Pyramid of an RGB uint8 image (height, width, 3): no network, so it can be made ahead, in
    another thread (numpy releases the GIL), while the networks work on the image before."""
    height, width = pixels.shape[:2]
    image = (pixels.astype(np.float32) - 127.5) / 128.0
    resizer = AreaResizer(image)
    levels = []
    for scale in pyramid_scales(width, height):
        level_height, level_width = int(height * scale), int(width * scale)
        if min(level_height, level_width) >= CELL_PX:
            levels.append((scale, resizer.resize(level_height, level_width)))
    return Pyramid(image, levels)


def find_faces(pixels: np.ndarray | Pyramid, networks: CascadeNetworks, thresholds: CascadeThresholds) -> list[CascadeFace]:
    """Every face MTCNN finds in an RGB uint8 image (height, width, 3), or in the Pyramid made of one,
    looking for faces of FACE_PX and larger, best first."""
    made = pixels if isinstance(pixels, Pyramid) else pyramid(pixels)
    image = made.image
    height, width = image.shape[:2]
    boxes = _propose(made.levels, networks, thresholds)
    if len(boxes):
        boxes = _refine(image, boxes, networks, thresholds)
    if not len(boxes):
        return []
    boxes, landmarks = _output(image, boxes, networks, thresholds)
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width - 1)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height - 1)
    return [
        CascadeFace(
            box=tuple(float(v) for v in box[:4]),
            confidence=float(box[4]),
            landmarks=tuple((float(marks[i]), float(marks[i + 5])) for i in range(5)),
        )
        for box, marks in zip(boxes, landmarks)
    ]


def pyramid_scales(width: int, height: int) -> list[float]:
    """The scale of each pyramid level: the first makes a FACE_PX face fill the 12 px window, each next
    one is PYRAMID_FACTOR smaller, down to where the shorter side is about 12 px."""
    shorter = min(width, height)
    count = round(-(np.log(shorter / CELL_PX) / np.log(PYRAMID_FACTOR) + 1))
    first = CELL_PX / FACE_PX
    return [first * PYRAMID_FACTOR**level for level in range(max(0, count))]


def _propose(levels: list[tuple[float, np.ndarray]], networks: CascadeNetworks, thresholds: CascadeThresholds) -> np.ndarray:
    found = []
    for scale, level in levels:
        offsets, probabilities = propose_in_strips(networks, level)
        boxes = _windows(offsets, probabilities[:, :, 1], thresholds.propose)
        boxes[:, :4] /= scale
        found.append(boxes[suppress(boxes, thresholds.overlap_per_level)])
    boxes = np.concatenate(found) if found else np.zeros((0, 5), np.float32)
    boxes = _best_first(boxes)
    return to_square(boxes[suppress(boxes, thresholds.overlap_proposals)])


def propose_in_strips(networks: CascadeNetworks, level: np.ndarray, strip_pixels: int = PROPOSE_STRIP_PIXELS):
    """The proposal network's offsets (h, w, 4) and probabilities (h, w, 2) over one pyramid level
    (height, width, 3), run on horizontal strips of about ``strip_pixels`` input pixels each.

    An output row sees the CELL_PX input rows from CELL_STRIDE × its index on, so strips that overlap by
    CELL_PX − CELL_STRIDE rows give exactly the rows of one run over the whole level; the last strip runs
    to the level's end, where the network's pooling pads as it does for the whole. ONNX Runtime (without
    its memory arena, see engines.onnx) takes 50 ms for a 640×480 level whole and 23 ms in four strips."""
    height, width = level.shape[:2]
    rows_per_strip = max(1, (strip_pixels // width - CELL_PX) // CELL_STRIDE + 1)
    parts, first = [], 0
    while True:
        top = first * CELL_STRIDE
        last_strip = height - top <= (rows_per_strip - 1) * CELL_STRIDE + CELL_PX + CELL_STRIDE
        strip = level[top:] if last_strip else level[top : top + (rows_per_strip - 1) * CELL_STRIDE + CELL_PX]
        offsets, probabilities = networks.propose(strip[np.newaxis])
        parts.append((np.asarray(offsets)[0], np.asarray(probabilities)[0]))
        if last_strip:
            break
        first += rows_per_strip
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([o for o, _ in parts]), np.concatenate([p for _, p in parts])


def _windows(offsets: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """The proposal network's windows above ``threshold`` as boxes (x1, y1, x2, y2, score) in pixels of
    the level, calibrated by their offsets, best first."""
    rows, cols = np.nonzero(scores > threshold)
    x1, y1 = cols * CELL_STRIDE + 1, rows * CELL_STRIDE + 1
    x2, y2 = cols * CELL_STRIDE + CELL_PX, rows * CELL_STRIDE + CELL_PX
    side = CELL_PX - 1
    shift = offsets[rows, cols]
    boxes = np.stack(
        [x1 + shift[:, 0] * side, y1 + shift[:, 1] * side, x2 + shift[:, 2] * side, y2 + shift[:, 3] * side, scores[rows, cols]],
        axis=1,
    ).astype(np.float64)
    return _best_first(boxes)


def _refine(image: np.ndarray, boxes: np.ndarray, networks: CascadeNetworks, thresholds: CascadeThresholds) -> np.ndarray:
    offsets, probabilities = in_chunks(networks.refine, crop_and_resize(image, boxes, REFINE_PX))
    boxes = boxes.copy()
    boxes[:, 4] = np.asarray(probabilities)[:, 1]
    boxes = calibrate(boxes, np.asarray(offsets))
    boxes = _best_first(boxes[boxes[:, 4] > thresholds.refine])
    return to_square(boxes[suppress(boxes, thresholds.overlap_refined)])


def _output(image: np.ndarray, boxes: np.ndarray, networks: CascadeNetworks, thresholds: CascadeThresholds):
    offsets, marks, probabilities = in_chunks(networks.output, crop_and_resize(image, boxes, OUTPUT_PX))
    marks = np.asarray(marks, dtype=np.float64)
    widths = boxes[:, 2:3] - boxes[:, 0:1] + 1
    heights = boxes[:, 3:4] - boxes[:, 1:2] + 1
    landmarks = np.concatenate([widths * marks[:, :5] + boxes[:, 0:1] - 1, heights * marks[:, 5:] + boxes[:, 1:2] - 1], axis=1)
    boxes = boxes.copy()
    boxes[:, 4] = np.asarray(probabilities)[:, 1]
    boxes = calibrate(boxes, np.asarray(offsets))
    kept = boxes[:, 4] > thresholds.output
    boxes, landmarks = boxes[kept], landmarks[kept]
    order = _best_first_order(boxes)
    boxes, landmarks = boxes[order], landmarks[order]
    survivors = suppress(boxes, thresholds.overlap_output, over="smaller")
    return boxes[survivors], landmarks[survivors]


def in_chunks(network, patches: np.ndarray, per_call: int = PATCHES_PER_CALL) -> tuple[np.ndarray, ...]:
    """A network's outputs for a batch of patches, given to it ``per_call`` at a time: each patch's
    outputs are its own, and ONNX Runtime without its memory arena is ~2× slower on large batches (the
    refinement network on 262 patches: 40 ms at once, 16 ms in calls of 64)."""
    parts = [tuple(np.asarray(o) for o in network(patches[start : start + per_call]))
             for start in range(0, len(patches), per_call)]
    return tuple(np.concatenate(outputs) for outputs in zip(*parts))


def calibrate(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Boxes moved by a network's regression: each edge by its offset times the box's side (+1 px)."""
    boxes = boxes.copy()
    widths = boxes[:, 2] - boxes[:, 0] + 1
    heights = boxes[:, 3] - boxes[:, 1] + 1
    boxes[:, :4] += offsets * np.stack([widths, heights, widths, heights], axis=1)
    return boxes


def to_square(boxes: np.ndarray) -> np.ndarray:
    """Boxes grown to squares of their longer side, around the same centre."""
    boxes = boxes.copy()
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    sides = np.maximum(widths, heights)
    boxes[:, 0] += (widths - sides) / 2
    boxes[:, 1] += (heights - sides) / 2
    boxes[:, 2] = boxes[:, 0] + sides
    boxes[:, 3] = boxes[:, 1] + sides
    return boxes


def _best_first_order(boxes: np.ndarray) -> np.ndarray:
    return np.argsort(boxes[:, 4])[::-1]


def _best_first(boxes: np.ndarray) -> np.ndarray:
    return boxes[_best_first_order(boxes)]


def suppress(boxes: np.ndarray, threshold: float, over: str = "union", block: int = 1024) -> np.ndarray:
    """Indices of the boxes (sorted best first) that no better box overlaps by more than ``threshold``:
    intersection over union, or over the smaller box. Unlike greedy suppression, a box that was itself
    suppressed still suppresses the ones below it (MTCNN's rule). Memory: len(boxes) × ``block``."""
    count = len(boxes)
    if count == 0:
        return np.zeros(0, dtype=int)
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    areas = (x2 - x1) * (y2 - y1)
    keep = np.ones(count, dtype=bool)
    for start in range(0, count, block):
        stop = min(count, start + block)
        width = np.maximum(0, np.minimum(x2[:stop, None], x2[None, start:stop]) - np.maximum(x1[:stop, None], x1[None, start:stop]))
        height = np.maximum(0, np.minimum(y2[:stop, None], y2[None, start:stop]) - np.maximum(y1[:stop, None], y1[None, start:stop]))
        inter = width * height
        if over == "union":
            base = areas[:stop, None] + areas[None, start:stop] - inter
        else:
            base = np.minimum(areas[:stop, None], areas[None, start:stop])
        with np.errstate(divide="ignore", invalid="ignore"):
            overlap = inter / base
        better = np.arange(stop)[:, None] < np.arange(start, stop)[None, :]
        keep[start:stop] = ~((overlap > threshold) & better).any(axis=0)
    return np.nonzero(keep)[0]


class AreaResizer:
    """Shrinks one (h, w, c) image to any size by area averaging: each output pixel is the mean of the
    input area it covers, partly covered pixels weighted by the part covered (TensorFlow's ``resize_area``).

    The integral image is computed once (float64, (h + 1) × (w + 1)); since it is linear between whole
    pixels, the integral up to any fractional edge is its bilinear interpolation, and each output pixel is
    the difference of four such values. A pyramid level then costs in proportion to its own size."""

    def __init__(self, image: np.ndarray):
        height, width, channels = image.shape
        self.height, self.width = height, width
        self._integral = np.zeros((height + 1, width + 1, channels), dtype=np.float64)
        inner = self._integral[1:, 1:]
        inner[...] = image
        np.add.accumulate(inner, axis=0, out=inner)  # in place: a third faster than two cumsums' copies
        np.add.accumulate(inner, axis=1, out=inner)

    def resize(self, out_height: int, out_width: int) -> np.ndarray:
        """The image at out_height × out_width (float32)."""
        rows = _at_edges(self._integral, self.height, out_height, axis=0)
        corners = _at_edges(rows, self.width, out_width, axis=1)
        area = (self.height / out_height) * (self.width / out_width)
        return (np.diff(np.diff(corners, axis=0), axis=1) / area).astype(np.float32)


def resize_area(image: np.ndarray, out_height: int, out_width: int) -> np.ndarray:
    """``image`` (h, w, c) shrunk to out_height × out_width by area averaging (see AreaResizer)."""
    return AreaResizer(image).resize(out_height, out_width)


def _at_edges(integral: np.ndarray, size: int, out_size: int, axis: int) -> np.ndarray:
    """The integral along ``axis`` (size + 1 values) interpolated at the out_size + 1 edges of the output
    pixels, which are size / out_size input pixels apart."""
    edges = np.arange(out_size + 1) * (size / out_size)
    lower = np.minimum(np.floor(edges).astype(int), size - 1)
    shape = [1] * integral.ndim
    shape[axis] = -1
    fraction = (edges - lower).reshape(shape)
    below = np.take(integral, lower, axis=axis)
    return below + (np.take(integral, lower + 1, axis=axis) - below) * fraction


def crop_and_resize(image: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray:
    """Each box (x1, y1, x2, y2 in pixels) cut out of an (h, w, 3) image and resized to side × side by
    bilinear sampling; samples outside the image are 0. Box edges map to (h − 1) / h of the pixel grid,
    as MTCNN normalised them for TensorFlow's ``crop_and_resize``. Returns (n, side, side, 3) float32."""
    height, width = image.shape[:2]
    ys = _sample_positions(boxes[:, 1] / height, boxes[:, 3] / height, height, side)
    xs = _sample_positions(boxes[:, 0] / width, boxes[:, 2] / width, width, side)
    top, left = np.floor(ys).astype(int), np.floor(xs).astype(int)
    bottom, right = np.ceil(ys).astype(int), np.ceil(xs).astype(int)
    y_inside = (ys >= 0) & (ys <= height - 1)
    x_inside = (xs >= 0) & (xs <= width - 1)
    top, bottom = np.clip(top, 0, height - 1), np.clip(bottom, 0, height - 1)
    left, right = np.clip(left, 0, width - 1), np.clip(right, 0, width - 1)
    y_lerp = (ys - np.floor(ys)).astype(image.dtype)[:, :, None, None]  # the image's float32, not float64
    x_lerp = (xs - np.floor(xs)).astype(image.dtype)[:, None, :, None]

    pixels = image.reshape(-1, image.shape[2])

    def at(rows, cols):  # (n, side, side, channels): one flat take is ~3× faster than indexing by two arrays
        return np.take(pixels, rows[:, :, None] * width + cols[:, None, :], axis=0)

    top_left, bottom_left = at(top, left), at(bottom, left)
    upper = top_left + (at(top, right) - top_left) * x_lerp
    lower = bottom_left + (at(bottom, right) - bottom_left) * x_lerp
    patches = upper + (lower - upper) * y_lerp
    patches *= (y_inside[:, :, None] & x_inside[:, None, :])[:, :, :, None]
    return patches.astype(np.float32)


def _sample_positions(start: np.ndarray, stop: np.ndarray, size: int, side: int) -> np.ndarray:
    """(n, side) sample coordinates between normalised ``start`` and ``stop`` of an axis of ``size`` px."""
    step = (stop - start) * (size - 1) / (side - 1)
    return start[:, None] * (size - 1) + np.arange(side)[None, :] * step[:, None]
