"""Faces drawn by hand: on an indexed photo, from a box (``indexer add-face``) or from another tool's face
region with no detected face under it (``import-xmp``). They are embedded from their crop like any face, so
they are found, named, grouped, searched and learnt from like any face, and they are the user's work: a
photo read anew keeps them (``store``), and only the user removes them (``undo``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from indexer.errors import IndexerError
from indexer.files import sha256_file
from indexer.ids import integer, is_id
from indexer.naming.labels import Who, by_hand
from indexer.vision.imaging import UnreadablePhoto, load_photo, photo_formats
from indexer.vision.upright import drawn_face_crop

if TYPE_CHECKING:
    from indexer.library import Library

Box = tuple[int, int, int, int]


class BadBox(IndexerError):
    """A box that cannot be a face of that photo: outside it, or too small to embed."""


@dataclass(frozen=True)
class PhotoPixels:
    photo_id: int
    path: str
    pixels: np.ndarray  # upright RGB


@dataclass(frozen=True)
class AddedFace:
    face_id: int
    photo: str
    box: list[int]
    person: str | None
    event: int | None = None


@dataclass(frozen=True)
class Drawing:
    """A face to draw on photo ``photo_id``: its box (upright pixels), whom it is (``Who``), its embedding."""

    photo_id: int
    box: Box
    who: Who
    vector: np.ndarray


@dataclass(frozen=True)
class TakenIn:
    event: int | None  # the history event (None: nothing changed)
    drawn: list[tuple[int, int, Box]]  # (photo id, new face id, box) of each face drawn


def parse_box(text: str) -> Box:
    """``X,Y,W,H`` (whole pixels, as `show` prints boxes) as a box; BadBox otherwise."""
    parts = [integer(part) for part in text.replace(" ", "").split(",")]
    if len(parts) != 4 or None in parts:
        raise BadBox(f"a box is X,Y,W,H in whole pixels of the upright photo (as `indexer show` prints them), not {text!r}")
    x, y, w, h = parts
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


def indexed_pixels(library: Library, photo_id: int, at: float | None = None) -> PhotoPixels:
    """The pixels of photo ``photo_id`` as the index knows it — of a video, its frame at ``at`` seconds;
    IndexerError when it is not in the index, could not be read then, or has changed since (its boxes
    would land elsewhere), or when ``at`` is missing for a video, given for a photo, or past its end."""
    from indexer.db import queries
    from indexer.vision.video import BadVideo, frame_at

    with library.session() as session:
        row = queries.photo_by_id(session, photo_id) if is_id(photo_id) else None
        if row is None:
            raise IndexerError(f"no photo {photo_id} in the index (`indexer index` its folder first)")
        path, error, size, duration, content = row.path, row.error, (row.width, row.height), row.duration, row.content_hash
    if error is not None or size[0] is None:
        raise IndexerError(f"{path} could not be read when it was indexed ({error}); fix it and `indexer index` it")
    try:
        changed = content is not None and sha256_file(path) != content
    except OSError as e:
        raise IndexerError(f"cannot read {path}: {e.strerror or e}") from None
    if changed:
        raise IndexerError(f"{path} changed since it was indexed (its content is not what the index read): "
                           "`indexer index` it first")
    config = library.config.library
    if duration is None and at is not None:
        raise IndexerError(f"{path} is a photo: --at is for a moment of a video")
    if duration is not None and (at is None or not 0 <= at <= duration):
        raise IndexerError(f"{path} is a video of {duration:.1f} s: say at which moment the face is, --at SECONDS "
                           f"(0 to {duration:.1f})" + (f", not {at:g}" if at is not None else ""))
    try:
        pixels = (frame_at(path, at, config.max_megapixels) if duration is not None
                  else load_photo(path, config.max_megapixels, photo_formats(config.extensions)))
    except (UnreadablePhoto, BadVideo) as e:
        raise IndexerError(f"cannot read {path}: {e}") from None
    if (pixels.shape[1], pixels.shape[0]) != size:
        raise IndexerError(f"{path} changed since it was indexed (now {pixels.shape[1]}×{pixels.shape[0]}, then "
                           f"{size[0]}×{size[1]}): `indexer index` it first")
    return PhotoPixels(photo_id, path, pixels)


def embed_boxes(library: Library, pixels: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """The embeddings (n, dimensions) of the faces in ``boxes`` of an upright photo, cropped with the
    configured margin like a detected face — turned upright where the detector finds the face inside its
    box (``vision.upright``) —, a batch (``[embedding] batch_size``) at a time: memory stays that of one
    batch however many boxes there are (the models load on first use)."""
    embedder, detector = library.embedder(), library.detector()
    size, margin = library.config.embedding.batch_size, library.config.embedding.margin
    vectors = [embedder.embed([drawn_face_crop(pixels, box, detector, margin, embedder.input_size)
                               for box in boxes[start : start + size]])
               for start in range(0, len(boxes), size)]
    return np.concatenate(vectors) if vectors else np.zeros((0, embedder.dimensions), dtype=np.float32)


def _check_free(library: Library, photo_id: int, box: Box, at: float | None) -> None:
    """IndexerError, naming the face, when ``box`` lies on a face of the photo (of a video: one seen at
    ``at``) the index holds, overlapping it by more than half (IoU): that face is named, not drawn twice."""
    from indexer.db import queries
    from indexer.geometry import box_overlap

    with library.session() as session:
        faces = queries.faces_of_photo(session, photo_id)
        taken = [(box_overlap(box, face.box), face.id) for face in faces
                 if at is None or face.video_from is None or face.video_from <= at <= face.video_to]
    overlap, face_id = max(taken, default=(0.0, None))
    if overlap > 0.5:
        raise BadBox(f"the box {','.join(map(str, box))} lies on face {face_id} (they overlap by {round(100 * overlap)} %): "
                     f"name that face instead (`indexer label {face_id} NAME`)")


def add_face(library: Library, photo_id: int, box: Box, who: Who | None = None, at: float | None = None) -> AddedFace:
    """Draw a face on photo ``photo_id`` of the index — on a video, on its frame at ``at`` seconds: ``box``
    in pixels of the upright photo, named by hand after ``who`` (a person's id, or a name: made when new)
    when given. One event in the history (undo removes the face). Holds the writer lock (the vector file
    changes too). BadBox for a box outside the photo or too small to embed."""
    with library.writer_lock("add-face"):
        found = indexed_pixels(library, photo_id, at)
        height, width = found.pixels.shape[:2]
        check_box(box, width, height, library.config.detection.min_face_size)
        _check_free(library, photo_id, box, at)
        vector = embed_boxes(library, found.pixels, [box])[0]
        with by_hand(library, "add-face") as naming:
            person = naming.who(who) if who is not None else None
            face = naming.add_face(found.photo_id, box, np.asarray(vector, dtype="<f4").tobytes(), library.model.name, person,
                                   at)
            naming.says(f"face {face.id} drawn at {','.join(map(str, box))}" + (f", {at:g} s," if at is not None else "")
                        + f" in {found.path}" + (f", named {person.name}" if person else ""))
            added = AddedFace(face.id, found.path, list(box), person.name if person else None, naming.finish_event())
        library.change_vectors(added=([added.face_id], vector[None, :]))
        return added


def take_in(library: Library, names: list[tuple[int, Who]], drawings: list[Drawing], description: str,
            action: str = "import-xmp") -> TakenIn:
    """Other tools' word on faces, as one event of the history: ``names`` (face id, whom) named by hand
    (a face removed since is passed over), ``drawings`` drawn and named; then the vector file. The caller
    holds the writer lock when it draws."""
    from indexer.db import queries

    drawn = []
    with by_hand(library, action) as naming:
        for face_id, who in names:
            face = queries.face_by_id(naming.session, face_id)
            if face is not None:
                naming.name(face, naming.who(who))
        for drawing in drawings:
            face = naming.add_face(drawing.photo_id, drawing.box, np.asarray(drawing.vector, dtype="<f4").tobytes(),
                                   library.model.name, naming.who(drawing.who))
            drawn.append((drawing.photo_id, face.id, drawing.box))
        naming.says(description)
        event = naming.finish_event()
    if drawn:
        library.change_vectors(added=([face_id for _, face_id, _ in drawn],
                                      np.stack([drawing.vector for drawing in drawings]).astype(np.float32)))
    return TakenIn(event, drawn)
