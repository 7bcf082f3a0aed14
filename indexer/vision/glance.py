"""A glance at a picture: its shape and a small grey thumbnail, had cheaply — a JPEG decoded at an eighth of
its size, a camera RAW's embedded preview likewise, a video's frame at its middle — to tell whether two
files of one name show one picture (``indexing.shots``: a camera's RAW beside its JPEG, a phone's HEIC
beside a JPEG copy, a Live Photo's video beside its still), and not two pictures that happen to share a
name (two cameras' IMG_0001 in one folder).

Measured on the sample library's 119 photos (bench/shots.py): a photo and a RAW (with its JPEG preview or
demosaiced), a HEIC or a re-encoded JPEG of it correlate at 0.970 or more (median 0.997); two other photos
of the same shape at most 0.758 (median 0.074), but for one picture the library holds at two sizes
(0.994). A glance costs 1–5 ms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 16  # the thumbnail's side, pixels
SAME_ASPECT = 0.03  # two pictures' width / height may differ by this fraction and be one picture
SAME_PICTURE = 0.9  # the least correlation (−1…1) of the two thumbnails, each to zero mean and unit length


@dataclass(frozen=True)
class Glance:
    """``aspect``: width / height of the upright picture; ``grey``: its SIDE × SIDE thumbnail, brightness
    with the mean taken out, scaled to unit length (all zero for a flat picture)."""

    aspect: float
    grey: np.ndarray


def glance(path: str | Path, formats: Iterable[str], max_megapixels: float) -> Glance | None:
    """A glance at the picture at ``path`` (a photo of one of ``formats``, a camera RAW or a video); None when
    it cannot be read."""
    from indexer.vision.imaging import UnreadablePhoto, load_upright
    from indexer.vision.media import read_as_video
    from indexer.vision.video import BadVideo, frame_at, video_info

    try:
        if read_as_video(path, formats):
            info = video_info(path, max_megapixels)
            picture = Image.fromarray(frame_at(path, info.duration / 2, max_megapixels))
        else:
            picture = load_upright(path, max_megapixels, formats, scale=1 / 8)
    except (UnreadablePhoto, BadVideo, OSError):
        return None
    width, height = picture.size
    grey = np.asarray(picture.convert("L").resize((SIDE, SIDE), Image.Resampling.BOX), dtype=np.float32)
    grey = grey - grey.mean()
    norm = float(np.linalg.norm(grey))
    return Glance(width / height, grey / norm if norm > 1e-3 else np.zeros_like(grey))


def same_picture(a: Glance, b: Glance) -> bool:
    """Whether two glances are of one picture: the same shape, and thumbnails that correlate by SAME_PICTURE
    at least (two flat pictures of the same shape are taken for one)."""
    if abs(a.aspect - b.aspect) > SAME_ASPECT * max(a.aspect, b.aspect):
        return False
    if not a.grey.any() or not b.grey.any():
        return not a.grey.any() and not b.grey.any()
    return float(np.sum(a.grey * b.grey)) >= SAME_PICTURE
