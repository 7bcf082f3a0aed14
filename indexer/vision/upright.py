"""Faces turned upright before FaceNet sees them.

FaceNet learnt from upright faces: a face whose head is tilted (rolled) 30° embeds 0.9 from the same
person's upright faces instead of 0.6, and a face drawn on its side 1.26, farther than other people
(bench/hard_faces.py). So a crop is cut *turned*: the picture around the face is turned about the face's
centre by its roll, at the scale of the crop, and cut as an upright crop is (``imaging.crop_face``: the
same margin and size).

- A detected face's roll is the slope of the line between its eyes (MTCNN's landmarks). Under
  ROLL_LEFT_ALONE the crop is exactly the upright one, so upright faces embed as they always did, and the
  landmarks' own jitter (a few degrees) never moves a vector.
- A face drawn by hand or taken from another tool's regions has no landmarks: the detector looks for a
  face inside its box turned by each of SEARCH_TURNS, and a face found there, near the box's centre and
  about its size, gives the crop (its own box and roll, in the photo); where none is found the box is
  cropped as drawn. All the turns are tried and the roll most sightings agree on is taken: MTCNN now and
  then finds a face on its side or upside down, its landmarks guessed.

Angles are degrees, positive when the face is turned clockwise as it is seen (image y axis down).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from indexer.vision.detect import DetectedFace
from indexer.vision.imaging import crop_face

ROLL_LEFT_ALONE = 8.0  # degrees: a face tilted less is cropped upright as it is (docs/performance.md, "Hard faces")
SEARCH_TURNS = (0, 45, -45, 90, -90, 180)  # degrees the region of a drawn face is turned to look for it
SEARCH_REGION = 1.6  # the side of the region searched around a drawn box, in the box's longer sides
SEARCH_REGION_PX = 240  # a larger region is searched at this side (pixels): MTCNN needs no more
FOUND_NEAR = 0.35  # a face found counts when its centre is this near the box's (in the box's longer sides)
FOUND_SIZE = (0.4, 1.6)  # ... and its longer side within this range of the box's
# degrees: sightings of a face at several turns whose rolls (in the photo) are this near agree. MTCNN finds
# faces tilted up to about 45° with their landmarks right, and now and then one on its side or upside down
# with its landmarks guessed: the roll most sightings agree on is the face's.
AGREEING_ROLL = 30.0


@dataclass(frozen=True)
class TurnedBox:
    """Where to crop a face: ``box`` ([x, y, w, h], pixels of the photo) frames the face once the picture is
    turned about the box's centre by ``roll`` degrees counter-clockwise as seen, which makes it upright (0:
    upright already)."""

    box: tuple[float, float, float, float]
    roll: float = 0.0


def roll_of(landmarks: dict[str, tuple[float, float]]) -> float:
    """How far a face is tilted (degrees, clockwise as seen, −180…180): the slope of the line from the
    eye on the image's left to the one on its right."""
    (lx, ly), (rx, ry) = landmarks["left_eye"], landmarks["right_eye"]
    return math.degrees(math.atan2(ry - ly, rx - lx))


def turned_box(face: DetectedFace) -> TurnedBox:
    """A detected face's crop: its box, turned upright by its roll when that is ROLL_LEFT_ALONE or more."""
    roll = roll_of(face.landmarks) if face.landmarks else 0.0
    return TurnedBox(tuple(face.box), roll if abs(roll) >= ROLL_LEFT_ALONE else 0.0)


def upright_crop(picture: np.ndarray | Image.Image, where: TurnedBox, margin: float, size: int) -> np.ndarray:
    """The face at ``where`` turned upright and cut as ``crop_face`` cuts an upright one: its box widened by
    ``margin`` × its side on each side, resized to ``size`` × ``size``. Outside the photo is black. A roll
    of 0 is ``crop_face`` itself. Returns (size, size, 3) uint8."""
    if where.roll == 0.0:
        return crop_face(picture, tuple(round(v) for v in where.box), margin, size)
    x, y, w, h = where.box
    cx, cy = x + w / 2, y + h / 2
    out_w, out_h = w * (1 + 2 * margin), h * (1 + 2 * margin)
    reach = math.ceil(math.hypot(out_w, out_h) / 2) + 2
    region, left, top = _around(picture, cx, cy, reach)
    # turned at the crop's own scale: one resampling at the size FaceNet sees, as an upright crop has
    scale = size / max(out_w, out_h)
    side = max(1, round(2 * reach * scale))
    region = region.resize((side, side), Image.Resampling.BILINEAR)
    scale = side / (2 * reach)
    centre = ((cx - left) * scale, (cy - top) * scale)
    turned = region.rotate(where.roll, resample=Image.Resampling.BICUBIC, center=centre)
    half_w, half_h = out_w * scale / 2, out_h * scale / 2
    face = turned.crop(tuple(round(v) for v in (centre[0] - half_w, centre[1] - half_h, centre[0] + half_w, centre[1] + half_h)))
    return np.asarray(face if face.size == (size, size) else face.resize((size, size), Image.Resampling.BILINEAR))


def drawn_face_crop(picture: np.ndarray | Image.Image, box: tuple[int, int, int, int], detector, margin: float,
                    size: int) -> np.ndarray:
    """The crop of a face drawn by hand at ``box`` ([x, y, w, h], pixels): upright where ``detector``
    (``FaceDetector``) finds the face inside the box at one of SEARCH_TURNS, else the box as drawn."""
    return upright_crop(picture, find_upright(picture, box, detector) or TurnedBox(tuple(box)), margin, size)


def find_upright(picture: np.ndarray | Image.Image, box: tuple[int, int, int, int], detector) -> TurnedBox | None:
    """The face inside a drawn ``box`` as ``detector`` sees it turned upright (its box in the photo's pixels
    and its roll), or None where no face near the box's centre and of about its size is found at any turn.
    Of the faces found at the turns, the one whose roll the most (and surest) sightings agree on is
    taken (AGREEING_ROLL)."""
    x, y, w, h = box
    side = max(w, h)
    cx, cy = x + w / 2, y + h / 2
    region, _, _ = _around(picture, cx, cy, max(1, math.ceil(side * SEARCH_REGION / 2)))
    shrink = min(1.0, SEARCH_REGION_PX / region.width)
    if shrink < 1.0:
        region = region.resize((max(1, round(region.width * shrink)),) * 2, Image.Resampling.BILINEAR)
    middle = region.width / 2
    found = []  # (roll in the photo, confidence, box in the photo)
    for turn in SEARCH_TURNS:
        pixels = np.asarray(region.rotate(turn, resample=Image.Resampling.BILINEAR) if turn else region)
        for face in detector.detect(pixels):
            fx, fy, fw, fh = face.box
            # the face's centre, turned back to the region as it was, then to the photo
            dx, dy = _turned_back(fx + fw / 2 - middle, fy + fh / 2 - middle, turn)
            found_cx, found_cy = cx + dx / shrink, cy + dy / shrink
            found_side = max(fw, fh) / shrink
            near = math.hypot(found_cx - cx, found_cy - cy) <= FOUND_NEAR * side
            if not (near and FOUND_SIZE[0] * side <= found_side <= FOUND_SIZE[1] * side):
                continue
            residual = roll_of(face.landmarks) if face.landmarks else 0.0
            roll = (residual + turn + 180.0) % 360.0 - 180.0
            fw_photo, fh_photo = fw / shrink, fh / shrink
            found.append((roll, face.confidence, (found_cx - fw_photo / 2, found_cy - fh_photo / 2, fw_photo, fh_photo)))
    if not found:
        return None

    def support(roll: float) -> float:  # the confidence of every sighting that agrees on the roll
        return sum(confidence for other, confidence, _ in found if abs((other - roll + 180.0) % 360.0 - 180.0) <= AGREEING_ROLL)

    roll, _, where = max(found, key=lambda f: (support(f[0]), f[1]))
    return TurnedBox(where, roll if abs(roll) >= ROLL_LEFT_ALONE else 0.0)


def _turned_back(dx: float, dy: float, turn: float) -> tuple[float, float]:
    """A point (dx, dy from the centre, image y down) of an image Pillow turned by ``turn`` degrees
    (counter-clockwise as seen) where it was before the turn."""
    a = math.radians(turn)
    return dx * math.cos(a) - dy * math.sin(a), dx * math.sin(a) + dy * math.cos(a)


def _around(picture: np.ndarray | Image.Image, cx: float, cy: float, reach: int) -> tuple[Image.Image, int, int]:
    """The square of 2 × ``reach`` pixels around (cx, cy) of the picture as an RGB image, black outside the
    picture, and its top-left corner in the picture (left, top)."""
    left, top, side = math.floor(cx) - reach, math.floor(cy) - reach, 2 * reach
    if isinstance(picture, Image.Image):
        return picture.crop((left, top, left + side, top + side)), left, top
    height, width = picture.shape[:2]
    region = np.zeros((side, side, 3), dtype=np.uint8)
    x0, y0, x1, y1 = max(0, left), max(0, top), min(width, left + side), min(height, top + side)
    if x1 > x0 and y1 > y0:
        region[y0 - top : y1 - top, x0 - left : x1 - left] = picture[y0:y1, x0:x1]
    return Image.fromarray(region), left, top
