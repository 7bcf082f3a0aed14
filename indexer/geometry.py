"""Face boxes: [x, y, w, h] in pixels of the upright photo, and when two of them frame the same face."""

from __future__ import annotations

import math
from collections.abc import Sequence

Box = Sequence[float]


def box_overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes, 0–1."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = width * height
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def same_place(a: Box, b: Box) -> bool:
    """Whether two boxes are one face's place: overlapping by half or more (IoU), or centred on each other
    (``same_face``). Where a name given by hand, or a face drawn by hand, goes when a photo is read anew."""
    return box_overlap(a, b) >= 0.5 or same_face(a, b)


def near_in_time(a: Box, b: Box) -> bool:
    """Whether two boxes of frames of a video a second or two apart are one face's place, as it moves:
    centres at most one face's side (the longer of the two) apart, sides within 1.5× of each other.
    Where a track goes on (``indexing.tracks``)."""
    side_a, side_b = max(a[2], a[3]), max(b[2], b[3])
    if min(side_a, side_b) <= 0 or max(side_a, side_b) > 1.5 * min(side_a, side_b):
        return False
    return math.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2) <= max(side_a, side_b)


def same_face(a: Box, b: Box) -> bool:
    """Whether two boxes frame the same place: each centre lies within the middle half of the other box.
    (MTCNN frames one face a little differently at different scales, so boxes found on a downscaled copy
    can overlap the full-size ones by less than half and still be the same face.)"""

    def centre_within(p: Box, q: Box) -> bool:
        cx, cy = p[0] + p[2] / 2, p[1] + p[3] / 2
        return abs(cx - (q[0] + q[2] / 2)) <= q[2] / 4 and abs(cy - (q[1] + q[3] / 2)) <= q[3] / 4

    return centre_within(a, b) and centre_within(b, a)
