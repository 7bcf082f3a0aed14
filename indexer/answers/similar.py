"""The faces most like one face (``indexer similar``), from the database and the vector file (no model is
loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.db import reads
from indexer.db.reader import Reader
from indexer.library import Library


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
        faces = {face.face_id: face for face in reads.faces_by_id(Reader.of_session(session), [i for i, _ in nearest])}
    # A face deleted since the vector file was written is left out.
    return [SimilarFace(other, distance, faces[other].photo, list(faces[other].box), faces[other].person)
            for other, distance in nearest if other in faces]
