"""Named queries: every SQL the rest of indexer runs is here, with bound parameters only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, bindparam, delete, exists, func, select, update
from sqlalchemy.orm import Session

from indexer.db.models import Classifier, Face, LabelSource, LostName, Person, Photo, Run

if TYPE_CHECKING:  # numpy is imported where used: `find` and `people` must start fast
    import numpy as np


@dataclass(frozen=True)
class KnownPhoto:
    """What the database remembers of a file, enough to tell whether it changed."""

    id: int
    path: str
    size: int
    mtime_ns: int
    failed: bool  # it could not be indexed last time
    analysis: str | None  # the settings it was indexed with
    content_hash: str | None  # sha256 of its bytes (None before schema 0003)


def known_photos(session: Session, paths: Iterable[str] | None = None) -> dict[str, KnownPhoto]:
    """Every file the database knows (indexed or failed), by path; only ``paths`` when given."""
    query = select(
        Photo.id, Photo.path, Photo.size, Photo.mtime_ns, Photo.error.is_not(None), Photo.analysis, Photo.content_hash
    )
    if paths is None:
        return {row[1]: KnownPhoto(*row) for row in session.execute(query)}
    paths = list(paths)
    found = {}
    for start in range(0, len(paths), 500):
        found |= {row[1]: KnownPhoto(*row) for row in session.execute(query.where(Photo.path.in_(paths[start : start + 500])))}
    return found


def count_photos_under(session: Session, prefix: str) -> int:
    """How many photos (indexed or failed) have a path starting with ``prefix`` (a folder ending in "/")."""
    return session.scalar(select(func.count()).select_from(Photo).where(func.substr(Photo.path, 1, len(prefix)) == prefix)) or 0


def face_ids(session: Session, model: str) -> np.ndarray:
    """The ids of the faces embedded by ``model``, sorted, as int64."""
    return _int64(session.scalars(select(Face.id).where(Face.embedding_model == model).order_by(Face.id)))


def _in_id_order(session: Session, query: Select, id_column, chunk: int) -> Iterator[list[Row]]:
    """The rows of ``query`` by ``id_column``, ``chunk`` at a time (keyset pagination: each chunk starts
    after the last id of the one before), so memory stays bounded however many rows there are."""
    last_id = 0
    while True:
        rows = session.execute(query.where(id_column > last_id).order_by(id_column).limit(chunk)).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1][0]


def _int64(values: Iterable[int]) -> np.ndarray:
    import numpy as np

    values = list(values)
    return np.fromiter(values, dtype=np.int64, count=len(values))


def _vectors(blobs: list[bytes], dimensions: int) -> np.ndarray:
    """Stored embeddings (float32, little-endian) as one (n, dimensions) array."""
    import numpy as np

    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dimensions)


def embeddings(session: Session, model: str, dimensions: int, chunk: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) of ``model``'s faces, ``chunk`` at a time, so memory stays bounded."""
    query = select(Face.id, Face.embedding).where(Face.embedding_model == model)
    for rows in _in_id_order(session, query, Face.id, chunk):
        yield _int64(r.id for r in rows), _vectors([r.embedding for r in rows], dimensions)


def photo_outcomes(session: Session, paths: list[str]) -> dict[str, tuple[int | None, str | None]]:
    """path -> (photo id, None) for each of ``paths`` indexed, (None, reason) for each that failed."""
    found = {}
    for start in range(0, len(paths), 500):
        rows = session.execute(select(Photo.path, Photo.id, Photo.error).where(Photo.path.in_(paths[start : start + 500])))
        found |= {path: (None, error) if error is not None else (photo_id, None) for path, photo_id, error in rows}
    return found


@dataclass(frozen=True)
class ManualLabel:
    """A label given by hand to a face: its box, the person (None: "nobody I have named"), the face's
    embedding (float32 bytes) and model, and the person's name (None when unnamed)."""

    box: tuple[int, int, int, int]
    person_id: int | None
    score: float | None
    embedding: bytes
    embedding_model: str
    person_name: str | None = None


def manual_labels_of(session: Session, photo_id: int) -> list[ManualLabel]:
    """The labels the user gave faces of this photo by hand, with the faces' boxes and embeddings."""
    rows = session.execute(
        select(Face.box_x, Face.box_y, Face.box_w, Face.box_h, Face.person_id, Face.label_score, Face.embedding,
               Face.embedding_model, Person.name)
        .join(Person, Person.id == Face.person_id, isouter=True)
        .where(Face.photo_id == photo_id, Face.label_source == LabelSource.MANUAL)
        .order_by(Face.id)
    )
    return [ManualLabel((r[0], r[1], r[2], r[3]), *r[4:]) for r in rows]


def record_lost_names(session: Session, photo_id: int, labels: Iterable[ManualLabel], reason: str) -> None:
    """Keep the names of ``labels`` (given by hand on faces of ``photo_id`` that are no longer found) as
    lost names the user can see."""
    for label in labels:
        if label.person_id is not None:
            x, y, w, h = label.box
            session.add(LostName(photo_id=photo_id, person_id=label.person_id, person_name=label.person_name or "?",
                                 box_x=x, box_y=y, box_w=w, box_h=h, reason=reason))


def resolve_lost_name(session: Session, photo_id: int, person_id: int) -> None:
    """The user named a face of ``photo_id`` after ``person_id``: a lost name of theirs there is found."""
    session.execute(delete(LostName).where(LostName.photo_id == photo_id, LostName.person_id == person_id))


@dataclass(frozen=True)
class LostNameRow:
    id: int
    photo_path: str
    person: str  # the person's name now (or as it was, when they were merged away)
    box: list[int]
    reason: str
    lost_at: datetime


def lost_names(session: Session) -> list[LostNameRow]:
    """Every name given by hand that could not be carried to a face of its re-read photo, by photo."""
    rows = session.execute(
        select(LostName, Photo.path, Person.name)
        .join(Photo, Photo.id == LostName.photo_id)
        .join(Person, Person.id == LostName.person_id, isouter=True)
        .order_by(Photo.path, LostName.id)
    )
    return [LostNameRow(lost.id, path, name or lost.person_name, lost.box, lost.reason, lost.lost_at) for lost, path, name in rows]


def person_names(session: Session) -> dict[int, str]:
    """Person id -> name, for everyone."""
    return dict(session.execute(select(Person.id, Person.name)).all())


def existing_people(session: Session, person_ids: Iterable[int]) -> set[int]:
    """Which of ``person_ids`` still exist (a person merged away meanwhile does not)."""
    person_ids = list(set(person_ids))
    found: set[int] = set()
    for start in range(0, len(person_ids), 500):
        found |= set(session.scalars(select(Person.id).where(Person.id.in_(person_ids[start : start + 500]))))
    return found


def move_photos(session: Session, moves: list[tuple[int, str, int, int]]) -> None:
    """Give photos new paths, sizes and modification times: (photo id, path, size, mtime_ns) each. Paths
    may be exchanged between the photos moved (a swap of two files): each first gets a path no file has."""
    for photo_id, _, _, _ in moves:
        session.execute(update(Photo).where(Photo.id == photo_id).values(path=f"\0moving:{photo_id}"))
    for photo_id, path, size, mtime_ns in moves:
        session.execute(update(Photo).where(Photo.id == photo_id).values(path=path, size=size, mtime_ns=mtime_ns))


def touch_photo(session: Session, photo_id: int, size: int, mtime_ns: int) -> None:
    """A photo's file was found with the content it was indexed from, under a new size or time: record
    those, and that it reads (again)."""
    session.execute(update(Photo).where(Photo.id == photo_id).values(size=size, mtime_ns=mtime_ns, error=None))


def mark_failed(session: Session, photo_id: int, error: str, when: datetime) -> None:
    """A known photo could not be read this time: record why, and keep everything it had (faces, names,
    size and content hash of the last good read), so it is read again next run and nothing is lost."""
    session.execute(update(Photo).where(Photo.id == photo_id).values(error=error, indexed_at=when))


def manual_faces_under(session: Session, photo_ids: Iterable[int]) -> int:
    """How many faces of these photos carry a name given by hand."""
    photo_ids = list(photo_ids)
    total = 0
    for start in range(0, len(photo_ids), 500):
        total += session.scalar(
            select(func.count()).select_from(Face).where(
                Face.photo_id.in_(photo_ids[start : start + 500]), Face.label_source == LabelSource.MANUAL,
                Face.person_id.is_not(None))
        ) or 0
    return total


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


def last_training(session: Session, model: str) -> Classifier | None:
    """The classifier ``indexer train`` last made for ``model``."""
    return session.scalars(
        select(Classifier).where(Classifier.embedding_model == model).order_by(Classifier.id.desc()).limit(1)
    ).first()


def replace_classifier(session: Session, classifier: Classifier) -> list[str | None]:
    """Make ``classifier`` the one of its model: the rows of earlier ones are deleted; returns their
    file names (for the caller to delete the files once this commits)."""
    model = classifier.embedding_model
    previous = list(session.scalars(select(Classifier.file).where(Classifier.embedding_model == model)))
    session.execute(delete(Classifier).where(Classifier.embedding_model == model))
    session.add(classifier)
    return previous


def last_run(session: Session) -> Run | None:
    """The most recently started index run."""
    return session.scalars(select(Run).order_by(Run.id.desc()).limit(1)).first()


def named_faces(session: Session, model: str, dimensions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The faces of ``model`` the user named by hand: (face ids, person ids, vectors (n, dimensions))."""
    rows = session.execute(
        select(Face.id, Face.person_id, Face.embedding)
        .where(Face.embedding_model == model, Face.label_source == LabelSource.MANUAL, Face.person_id.is_not(None))
        .order_by(Face.id)
    ).all()
    return _int64(r.id for r in rows), _int64(r.person_id for r in rows), _vectors([r.embedding for r in rows], dimensions)


@dataclass(frozen=True)
class UnnamedFaces:
    """A chunk of faces that recognition may name: ids, their photos, their current labels, vectors."""

    ids: np.ndarray
    photo_ids: np.ndarray
    person_ids: list[int | None]
    scores: list[float | None]
    vectors: np.ndarray


def faces_to_label(session: Session, model: str, dimensions: int, chunk: int = 20_000) -> Iterator[UnnamedFaces]:
    """Every face of ``model`` not labelled by hand, ``chunk`` at a time."""
    query = select(Face.id, Face.photo_id, Face.person_id, Face.label_score, Face.embedding).where(
        Face.embedding_model == model, Face.label_source.is_distinct_from(LabelSource.MANUAL)
    )
    for rows in _in_id_order(session, query, Face.id, chunk):
        yield UnnamedFaces(
            ids=_int64(r.id for r in rows),
            photo_ids=_int64(r.photo_id for r in rows),
            person_ids=[r.person_id for r in rows],
            scores=[r.label_score for r in rows],
            vectors=_vectors([r.embedding for r in rows], dimensions),
        )


@dataclass(frozen=True)
class AutomaticName:
    """What recognition decided for one face: a person and score, or (None, None) for no name."""

    face_id: int
    person_id: int | None
    score: float | None


def set_automatic_names(session: Session, names: list[AutomaticName]) -> None:
    """Write recognition's names. Each face is changed only if it is still not named by hand and the
    person still exists, checked in the statement itself: the user may have named the face, or merged
    the person away, since the names were computed (``train`` takes minutes; ``label`` takes no lock).
    Then, in the same transaction, an automatic name is taken off any face whose photo has a face named
    after the same person by hand (one name per photo, and the user's wins)."""
    faces = Face.__table__
    not_manual = faces.c.label_source.is_distinct_from(LabelSource.MANUAL)
    naming = (
        update(faces)
        .where(faces.c.id == bindparam("face"), not_manual,
               exists(select(Person.id).where(Person.id == bindparam("person"))))
        .values(person_id=bindparam("person"), label_score=bindparam("score"), label_source=LabelSource.AUTO)
    )
    unnaming = update(faces).where(faces.c.id == bindparam("face"), not_manual).values(
        person_id=None, label_score=None, label_source=None)
    named = [{"face": n.face_id, "person": n.person_id, "score": n.score} for n in names if n.person_id is not None]
    unnamed = [{"face": n.face_id} for n in names if n.person_id is None]
    for statement, rows in ((naming, named), (unnaming, unnamed)):
        for start in range(0, len(rows), 5000):
            session.connection().execute(statement, rows[start : start + 5000])
    manual = Face.__table__.alias("manual")
    session.connection().execute(
        update(faces)
        .where(faces.c.label_source == LabelSource.AUTO,
               exists(select(manual.c.id).where(manual.c.photo_id == faces.c.photo_id, manual.c.person_id == faces.c.person_id,
                                                manual.c.label_source == LabelSource.MANUAL)))
        .values(person_id=None, label_score=None, label_source=None)
    )


def manual_names_by_photo(session: Session, model: str) -> set[tuple[int, int]]:
    """(photo id, person id) for every face of ``model`` named by hand."""
    rows = session.execute(
        select(Face.photo_id, Face.person_id)
        .where(Face.embedding_model == model, Face.label_source == LabelSource.MANUAL, Face.person_id.is_not(None))
    )
    return {(r.photo_id, r.person_id) for r in rows}


@dataclass(frozen=True)
class PersonCounts:
    id: int
    name: str
    faces: int
    photos: int
    manual_faces: int  # named by hand (the references recognition learns from)


def people_with_counts(session: Session) -> list[PersonCounts]:
    """Every person, with how many faces and photos show them, by name."""
    faces = func.count(Face.id)
    rows = session.execute(
        select(
            Person.id, Person.name, faces, func.count(func.distinct(Face.photo_id)),
            func.count(Face.id).filter(Face.label_source == LabelSource.MANUAL),
        )
        .join(Face, Face.person_id == Person.id, isouter=True)
        .group_by(Person.id)
        .order_by(func.lower(Person.name), Person.name)
    )
    return [PersonCounts(*row) for row in rows]


@dataclass(frozen=True)
class FaceOfPerson:
    face_id: int
    photo_path: str
    box: list[int]
    score: float
    source: str


def faces_of_person(session: Session, person_id: int, min_score: float = 0.0) -> list[FaceOfPerson]:
    """The faces named ``person_id`` with a score of at least ``min_score`` (manual names count as 1.0),
    best first."""
    score = func.coalesce(Face.label_score, 1.0)
    rows = session.execute(
        select(Face.id, Photo.path, Face.box_x, Face.box_y, Face.box_w, Face.box_h, score, Face.label_source)
        .join(Photo, Photo.id == Face.photo_id)
        .where(Face.person_id == person_id, score >= min_score)
        .order_by(score.desc(), Photo.path, Face.id)
    )
    return [FaceOfPerson(r[0], r[1], [r[2], r[3], r[4], r[5]], float(r[6]), r[7]) for r in rows]


def stored_faces(session: Session, photo_id: int) -> list[tuple[Face, str | None]]:
    """The faces of one photo, left to right, each with its person's name (None when unnamed)."""
    rows = session.execute(
        select(Face, Person.name)
        .join(Person, Person.id == Face.person_id, isouter=True)
        .where(Face.photo_id == photo_id)
        .order_by(Face.box_x, Face.box_y, Face.id)
    )
    return [(face, name) for face, name in rows]


def face_vector(session: Session, face_id: int) -> tuple[str, bytes] | None:
    """(embedding model, embedding bytes) of one face, or None."""
    row = session.execute(select(Face.embedding_model, Face.embedding).where(Face.id == face_id)).first()
    return None if row is None else (row[0], row[1])


def faces_by_id(session: Session, face_ids: list[int]) -> dict[int, tuple[str, list[int], str | None]]:
    """face id -> (photo path, box, person's name or None)."""
    rows = session.execute(
        select(Face, Photo.path, Person.name)
        .join(Photo, Photo.id == Face.photo_id)
        .join(Person, Person.id == Face.person_id, isouter=True)
        .where(Face.id.in_(face_ids))
    )
    return {face.id: (path, face.box, name) for face, path, name in rows}


def failed_photos(session: Session) -> list[tuple[str, str, datetime]]:
    """(path, reason, when it was last tried) of every file that could not be indexed, by path."""
    rows = session.execute(select(Photo.path, Photo.error, Photo.indexed_at).where(Photo.error.is_not(None)).order_by(Photo.path))
    return [(r[0], r[1], r[2]) for r in rows]


def photo_by_path(session: Session, path: str) -> Photo | None:
    return session.scalars(select(Photo).where(Photo.path == path)).first()


def face_counts_by_model(session: Session) -> dict[str, int]:
    """How many faces each embedding model has in the database."""
    rows = session.execute(select(Face.embedding_model, func.count()).group_by(Face.embedding_model))
    return {model: count for model, count in rows}


def faces_with_wrong_embedding_size(session: Session, model: str, dimensions: int) -> list[int]:
    """Photo ids of faces of ``model`` whose stored embedding is not ``dimensions`` float32 values."""
    rows = session.scalars(
        select(Face.photo_id).where(Face.embedding_model == model, func.length(Face.embedding) != 4 * dimensions).distinct()
    )
    return list(rows)


def indexed_photo_paths(session: Session, chunk: int = 50_000) -> Iterator[list[tuple[int, str]]]:
    """(id, path) of every indexed photo (not failed), ``chunk`` at a time."""
    query = select(Photo.id, Photo.path).where(Photo.error.is_(None))
    for rows in _in_id_order(session, query, Photo.id, chunk):
        yield [(r[0], r[1]) for r in rows]
