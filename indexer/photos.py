"""What the index knows of photos and faces, from the database alone (no model is loaded): one photo's
record (``indexer show``), the files that could not be indexed (``indexer errors``), and the faces most
like one face (``indexer similar``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from indexer.db import queries
from indexer.errors import IndexerError
from indexer.library import Library
from indexer.scanner import absolute


@dataclass(frozen=True)
class StoredFace:
    """A face as stored: ``box`` [x, y, w, h] in pixels of the upright photo, detector confidence 0–1,
    the person's name (None: unnamed), the score 0–1 of that name, and who gave it (a LabelSource, or
    None). A face whose name was cleared by hand has no person and source "manual"."""

    face_id: int
    box: list[int]
    detection: float
    person: str | None
    score: float | None
    source: str | None


@dataclass(frozen=True)
class PhotoRecord:
    """One photo: size in pixels (upright) and bytes, when it was last read, why it could not be read
    (None: it could), and its faces left to right."""

    photo: str
    width: int | None
    height: int | None
    size: int
    indexed_at: datetime
    error: str | None
    faces: list[StoredFace]

    def as_dict(self) -> dict:
        return asdict(self)


def photo_record(library: Library, photo: str) -> PhotoRecord:
    """What the index holds of ``photo`` (a path as the user typed it); IndexerError when it holds nothing."""
    with library.session() as session:
        found = queries.photo_by_path(session, absolute(photo))
        if found is None:
            raise IndexerError(f"not in the index: {photo} (`indexer index` its folder, or ask `indexer who-is`)")
        faces = [StoredFace(face.id, face.box, round(face.detection, 4), name, face.label_score if name else None,
                            face.label_source)
                 for face, name in queries.stored_faces(session, found.id)]
        return PhotoRecord(found.path, found.width, found.height, found.size, found.indexed_at, found.error, faces)


@dataclass(frozen=True)
class FailedFile:
    path: str
    reason: str
    tried_at: datetime  # when it was last tried (UTC)


def failed_files(library: Library) -> list[FailedFile]:
    """The files that could not be indexed, by path."""
    with library.session() as session:
        return [FailedFile(*row) for row in queries.failed_photos(session)]


@dataclass(frozen=True)
class SimilarFace:
    face_id: int
    distance: float  # L2 between unit vectors, 0–2; the same person is usually below 1
    photo: str
    box: list[int]
    person: str | None


def similar_faces(library: Library, face_id: int, limit: int) -> list[SimilarFace]:
    """The ``limit`` faces most like face ``face_id`` (of the same model), nearest first. Raises
    IndexerError when there is no such face."""
    nearest = library.similar_faces(face_id, limit)
    with library.session() as session:
        faces = queries.faces_by_id(session, [i for i, _ in nearest])
    # A face deleted since the vector file was written is left out.
    return [SimilarFace(other, distance, *faces[other]) for other, distance in nearest if other in faces]
