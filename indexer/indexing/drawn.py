"""Faces drawn by hand: on an indexed photo, from a box (``indexer add-face``) or from another tool's face
region with no detected face under it (``import-xmp``). They are embedded from their crop like any face, so
they are found, named, grouped, searched and learnt from like any face, and they are the user's work: a
photo read anew keeps them (``store``), and only the user removes them (``undo``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from indexer.errors import IndexerError
from indexer.files import absolute
from indexer.vision.imaging import UnreadablePhoto, crop_face, load_photo, photo_formats

if TYPE_CHECKING:
    from indexer.library import Library

Box = tuple[int, int, int, int]


class BadBox(IndexerError):
    """A box that cannot be a face of that photo: outside it, or too small to embed."""


def parse_box(text: str) -> Box:
    """``X,Y,W,H`` (whole pixels, as `show` prints boxes) as a box; BadBox otherwise."""
    parts = text.replace(" ", "").split(",")
    if len(parts) != 4 or not all(part.removeprefix("-").isdecimal() for part in parts):  # what int() reads
        raise BadBox(f"a box is X,Y,W,H in whole pixels of the upright photo (as `indexer show` prints them), not {text!r}")
    x, y, w, h = (int(part) for part in parts)
    return x, y, w, h


def check_box(box: Box, width: int, height: int, min_face_size: int) -> None:
    """BadBox unless ``box`` lies inside a ``width`` × ``height`` photo and its longer side is at least
    ``min_face_size`` pixels (``[detection] min_face_size``: smaller is too small to embed)."""
    x, y, w, h = box
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise BadBox(f"the box {x},{y},{w},{h} is not inside the {width}×{height} photo")
    if max(w, h) < min_face_size:
        raise BadBox(f"the box {x},{y},{w},{h} is too small to embed: its longer side must be at least "
                     f"{min_face_size} px ([detection] min_face_size)")


@dataclass(frozen=True)
class PhotoPixels:
    photo_id: int
    path: str
    pixels: np.ndarray  # upright RGB


def indexed_pixels(library: Library, photo: str | Path, at: float | None = None) -> PhotoPixels:
    """The pixels of an indexed photo as the index knows it — of a video, its frame at ``at`` seconds;
    IndexerError when it is not in the index, could not be read then, or has changed since (its boxes
    would land elsewhere), or when ``at`` is missing for a video, given for a photo, or past its end."""
    from indexer.db import queries
    from indexer.vision.video import BadVideo, frame_at

    path = absolute(photo)
    with library.session() as session:
        known = queries.known_photos(session, [path]).get(path)
        row = queries.photo_by_id(session, known.id) if known is not None else None
        if row is None:
            raise IndexerError(f"not in the index: {photo} (`indexer index` its folder first)")
        if row.error is not None or row.width is None:
            raise IndexerError(f"{photo} could not be read when it was indexed ({row.error}); fix it and `indexer index` it")
        size, duration = (row.width, row.height), row.duration
    config = library.config.library
    if duration is None and at is not None:
        raise IndexerError(f"{photo} is a photo: --at is for a moment of a video")
    if duration is not None and (at is None or not 0 <= at <= duration):
        raise IndexerError(f"{photo} is a video of {duration:.1f} s: say at which moment the face is, --at SECONDS "
                           f"(0 to {duration:.1f})" + (f", not {at:g}" if at is not None else ""))
    try:
        pixels = (frame_at(path, at, config.max_megapixels) if duration is not None
                  else load_photo(path, config.max_megapixels, photo_formats(config.extensions)))
    except (UnreadablePhoto, BadVideo) as e:
        raise IndexerError(f"cannot read {photo}: {e}") from None
    if (pixels.shape[1], pixels.shape[0]) != size:
        raise IndexerError(f"{photo} changed since it was indexed (now {pixels.shape[1]}×{pixels.shape[0]}, then "
                           f"{size[0]}×{size[1]}): `indexer index` it first")
    return PhotoPixels(known.id, path, pixels)


def embed_boxes(library: Library, pixels: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """The embeddings (n, dimensions) of the faces in ``boxes`` of an upright photo, cropped with the
    configured margin like a detected face (the embedder loads on first use)."""
    embedder = library.embedder()
    crops = [crop_face(pixels, box, library.config.embedding.margin, embedder.input_size) for box in boxes]
    return embedder.embed(crops)


@dataclass(frozen=True)
class AddedFace:
    face_id: int
    photo: str
    box: list[int]
    person: str | None


def add_face(library: Library, photo: str | Path, box: Box, name: str | None = None, at: float | None = None) -> AddedFace:
    """Draw a face on an indexed photo — on a video, on its frame at ``at`` seconds: ``box`` in pixels of
    the upright photo, named ``name`` by hand when given. One event in the history (undo removes the
    face). Holds the writer lock (the vector file changes too). BadBox for a box outside the photo or
    too small to embed."""
    from indexer.naming.labels import by_hand

    with library.writer_lock("add-face"):
        found = indexed_pixels(library, photo, at)
        height, width = found.pixels.shape[:2]
        check_box(box, width, height, library.config.detection.min_face_size)
        vector = embed_boxes(library, found.pixels, [box])[0]
        with by_hand(library, "add-face") as naming:
            person = naming.person(name) if name is not None else None
            face = naming.add_face(found.photo_id, box, np.asarray(vector, dtype="<f4").tobytes(), library.model.name, person,
                                   at)
            naming.says(f"face {face.id} drawn at {','.join(map(str, box))}" + (f", {at:g} s," if at is not None else "")
                        + f" in {found.path}" + (f", named {person.name}" if person else ""))
        library.change_vectors(added=([face.id], vector[None, :]))
        return AddedFace(face.id, found.path, list(box), person.name if person else None)
