"""Named queries: every SQL the rest of indexer runs is here, with bound parameters only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from indexer.db.models import Face, Person, Photo, Run


@dataclass(frozen=True)
class KnownPhoto:
    """What the database remembers of a file, enough to tell whether it changed."""

    id: int
    path: str
    size: int
    mtime_ns: int
    failed: bool  # it could not be indexed last time
    analysis: str | None  # the settings it was indexed with


def known_photos(session: Session) -> dict[str, KnownPhoto]:
    """Every file the database knows (indexed or failed), by path."""
    rows = session.execute(
        select(Photo.id, Photo.path, Photo.size, Photo.mtime_ns, Photo.error.is_not(None), Photo.analysis)
    )
    return {row[1]: KnownPhoto(*row) for row in rows}


def face_ids(session: Session, model: str) -> np.ndarray:
    """The ids of the faces embedded by ``model``, sorted, as int64."""
    ids = session.scalars(select(Face.id).where(Face.embedding_model == model).order_by(Face.id)).all()
    return np.asarray(ids, dtype=np.int64)


def embeddings(session: Session, model: str, dimensions: int, chunk: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) of ``model``'s faces, ``chunk`` at a time, so memory stays bounded."""
    last_id = 0
    while True:
        rows = session.execute(
            select(Face.id, Face.embedding)
            .where(Face.embedding_model == model, Face.id > last_id)
            .order_by(Face.id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        ids = np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows))
        vectors = np.frombuffer(b"".join(r.embedding for r in rows), dtype="<f4").reshape(len(rows), dimensions)
        yield ids, vectors
        last_id = int(ids[-1])


def delete_faces_of(session: Session, photo_ids: Iterable[int]) -> list[int]:
    """Delete the faces of these photos; returns the deleted face ids (for the vector index)."""
    photo_ids = list(photo_ids)
    removed: list[int] = []
    for start in range(0, len(photo_ids), 500):
        batch = photo_ids[start : start + 500]
        removed += session.scalars(select(Face.id).where(Face.photo_id.in_(batch))).all()
        session.execute(delete(Face).where(Face.photo_id.in_(batch)))
    return removed


def delete_photos(session: Session, photo_ids: Iterable[int]) -> list[int]:
    """Delete these photos and their faces; returns the deleted face ids."""
    photo_ids = list(photo_ids)
    removed = delete_faces_of(session, photo_ids)
    for start in range(0, len(photo_ids), 500):
        session.execute(delete(Photo).where(Photo.id.in_(photo_ids[start : start + 500])))
    return removed


@dataclass(frozen=True)
class Counts:
    photos: int  # files indexed successfully
    faces: int
    people: int
    labelled_faces: int
    errors: int  # files that could not be indexed


def counts(session: Session) -> Counts:
    """How much the database holds."""
    return Counts(
        photos=session.scalar(select(func.count()).select_from(Photo).where(Photo.error.is_(None))) or 0,
        faces=session.scalar(select(func.count()).select_from(Face)) or 0,
        people=session.scalar(select(func.count()).select_from(Person)) or 0,
        labelled_faces=session.scalar(select(func.count()).select_from(Face).where(Face.person_id.is_not(None))) or 0,
        errors=session.scalar(select(func.count()).select_from(Photo).where(Photo.error.is_not(None))) or 0,
    )


def last_run(session: Session) -> Run | None:
    """The most recently started index run."""
    return session.scalars(select(Run).order_by(Run.id.desc()).limit(1)).first()
