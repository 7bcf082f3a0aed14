"""Faces: their embeddings, the labels given by hand, recognition's names, and lookups by photo or id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from indexer.db.models import Face, Person, Photo, Rejection
from indexer.db.values import USERS_WORD, LabelSource
from indexer.db.reader import chunks

if TYPE_CHECKING:  # numpy is imported where used: `find` and `people` must start fast
    import numpy as np

from indexer.db.queries.rows import in_id_order, int64_array, unnamed, vector_array

__all__ = [
    "rejected_pairs", "unnamed_faces", "unnamed_faces_in_cluster", "rejections_of", "add_rejections",
    "add_faces",
    "face_by_id", "faces_of_photo",
    "face_ids", "embeddings", "ManualLabel", "manual_labels_of", "manual_faces_under", "delete_faces_of",
    "named_faces", "UnnamedFaces", "faces_to_label", "AutomaticName", "set_automatic_names", "delete_faces",
    "DrawnBox", "drawn_faces_of", "add_drawn_face", "move_rejections",
    "drop_automatic_names_given_by_hand_elsewhere", "set_labels", "set_person", "faces_with_a_source_but_no_person",
    "manual_names_by_photo", "face_vector", "face_counts_by_model",
    "faces_with_wrong_embedding_size",
]


def face_ids(session: Session, model: str) -> np.ndarray:
    """The ids of the faces embedded by ``model``, sorted, as int64."""
    return int64_array(session.scalars(select(Face.id).where(Face.embedding_model == model).order_by(Face.id)))


def embeddings(session: Session, model: str, dimensions: int, chunk: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) of ``model``'s faces, ``chunk`` at a time, so memory stays bounded."""
    query = select(Face.id, Face.embedding).where(Face.embedding_model == model)
    for rows in in_id_order(session, query, Face.id, chunk):
        yield int64_array(r.id for r in rows), vector_array([r.embedding for r in rows], dimensions)


@dataclass(frozen=True)
class ManualLabel:
    """A label given by hand to a face: its box, the person (None: "nobody I have named", or not a face at
    all), the face's embedding (float32 bytes) and model, the person's name (None when unnamed), and which
    of the user's words it is (``values.USERS_WORD``)."""

    box: tuple[int, int, int, int]
    person_id: int | None
    score: float | None
    embedding: bytes
    embedding_model: str
    person_name: str | None = None
    face_id: int | None = None
    span: tuple[float, float] | None = None  # in a video: the appearance, (from, to) seconds
    source: str = LabelSource.MANUAL.value


def manual_labels_of(session: Session, photo_id: int, origin: str | None = None) -> list[ManualLabel]:
    """The labels the user gave faces of this photo by hand (of ``origin`` when given), with the faces'
    boxes and embeddings."""
    rows = session.execute(
        select(Face.box_x, Face.box_y, Face.box_w, Face.box_h, Face.person_id, Face.label_score, Face.embedding,
               Face.embedding_model, Person.name, Face.id, Face.video_from, Face.video_to, Face.label_source)
        .join(Person, Person.id == Face.person_id, isouter=True)
        .where(Face.photo_id == photo_id, Face.label_source.in_(USERS_WORD), *([Face.origin == origin] if origin else []))
        .order_by(Face.id)
    )
    return [ManualLabel((r[0], r[1], r[2], r[3]), *r[4:10], (r[10], r[11]) if r[10] is not None else None, r[12])
            for r in rows]


def manual_faces_under(session: Session, photo_ids: Iterable[int]) -> int:
    """How many faces of these photos carry a name given by hand."""
    photo_ids = list(photo_ids)
    total = 0
    for chunk in chunks(photo_ids):
        total += session.scalar(
            select(func.count()).select_from(Face).where(
                Face.photo_id.in_(chunk), Face.label_source == LabelSource.MANUAL,
                Face.person_id.is_not(None))
        ) or 0
    return total


def delete_faces_of(session: Session, photo_ids: Iterable[int], origin: str | None = None) -> list[int]:
    """Delete the faces of these photos (only those of ``origin`` when given); returns the deleted face
    ids (for the vector index)."""
    photo_ids = list(photo_ids)
    removed: list[int] = []
    for chunk in chunks(photo_ids):
        condition = [Face.photo_id.in_(chunk)] + ([Face.origin == origin] if origin else [])
        removed += session.scalars(select(Face.id).where(*condition)).all()
        session.execute(delete(Face).where(*condition))
    return removed


def delete_faces(session: Session, face_ids: Iterable[int]) -> None:
    face_ids = list(face_ids)
    for chunk in chunks(face_ids):
        session.execute(delete(Face).where(Face.id.in_(chunk)))


@dataclass(frozen=True)
class DrawnBox:
    """A face drawn by hand on a photo: its id and box ([x, y, w, h], pixels of the upright photo of
    ``size``: width, height)."""

    face_id: int
    box: tuple[int, int, int, int]
    size: tuple[int, int]


def drawn_faces_of(session: Session, photo_ids: Iterable[int]) -> dict[int, list[DrawnBox]]:
    """photo id → the faces drawn by hand on it, by id (photos with none are left out)."""
    from indexer.db.values import FaceOrigin

    photo_ids = list(photo_ids)
    found: dict[int, list[DrawnBox]] = {}
    for chunk in chunks(photo_ids):
        rows = session.execute(
            select(Face.photo_id, Face.id, Face.box_x, Face.box_y, Face.box_w, Face.box_h, Photo.width, Photo.height)
            .join(Photo, Photo.id == Face.photo_id)
            .where(Face.photo_id.in_(chunk), Face.origin == FaceOrigin.DRAWN).order_by(Face.id))
        for photo_id, face_id, x, y, w, h, width, height in rows:
            found.setdefault(photo_id, []).append(DrawnBox(face_id, (x, y, w, h), (width or 0, height or 0)))
    return found


def add_drawn_face(session: Session, photo_id: int, box: tuple[int, int, int, int], embedding: bytes, model: str,
                   at: float | None = None) -> Face:
    """A new face drawn by hand on photo ``photo_id``: its box in pixels of the upright photo (of a video:
    of its frame at ``at`` seconds, the face's time and span), its embedding (float32 bytes) by ``model``;
    detection 1.0 (the user's certainty), no landmarks."""
    from indexer.db.values import FaceOrigin

    x, y, w, h = box
    face = Face(photo_id=photo_id, box_x=x, box_y=y, box_w=w, box_h=h, detection=1.0, landmarks={}, embedding=embedding,
                embedding_model=model, origin=FaceOrigin.DRAWN, video_time=at, video_from=at, video_to=at)
    session.add(face)
    session.flush()
    return face


def move_rejections(session: Session, old_face_id: int, new_face_id: int) -> None:
    """The people face ``old_face_id`` is not are the people ``new_face_id`` is not."""
    people = session.scalars(select(Rejection.person_id).where(Rejection.face_id == old_face_id)).all()
    add_rejections(session, [(new_face_id, person) for person in people])


def _open_to_recognition(faces):
    """The faces recognition may name or unname: those without the user's word (``values.USERS_WORD``)."""
    return or_(faces.c.label_source.is_(None), faces.c.label_source == LabelSource.AUTO.value)


def named_faces(session: Session, model: str, dimensions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The faces of ``model`` the user named by hand: (face ids, person ids, vectors (n, dimensions))."""
    rows = session.execute(
        select(Face.id, Face.person_id, Face.embedding)
        .where(Face.embedding_model == model, Face.label_source == LabelSource.MANUAL, Face.person_id.is_not(None))
        .order_by(Face.id)
    ).all()
    return int64_array(r.id for r in rows), int64_array(r.person_id for r in rows), vector_array([r.embedding for r in rows], dimensions)


@dataclass(frozen=True)
class UnnamedFaces:
    """A chunk of faces that recognition may name: ids, their photos, their current labels, vectors."""

    ids: np.ndarray
    photo_ids: np.ndarray
    person_ids: list[int | None]
    scores: list[float | None]
    vectors: np.ndarray
    spans: list[tuple[float, float] | None]  # a video face's appearance, seconds (None: a photo's face)


def faces_to_label(session: Session, model: str, dimensions: int, chunk: int = 20_000) -> Iterator[UnnamedFaces]:
    """Every face of ``model`` not labelled by hand, ``chunk`` at a time."""
    query = select(Face.id, Face.photo_id, Face.person_id, Face.label_score, Face.embedding, Face.video_from,
                   Face.video_to).where(Face.embedding_model == model, _open_to_recognition(Face.__table__))
    for rows in in_id_order(session, query, Face.id, chunk):
        yield UnnamedFaces(
            ids=int64_array(r.id for r in rows),
            photo_ids=int64_array(r.photo_id for r in rows),
            person_ids=[r.person_id for r in rows],
            scores=[r.label_score for r in rows],
            vectors=vector_array([r.embedding for r in rows], dimensions),
            spans=[(r.video_from, r.video_to) if r.video_from is not None else None for r in rows],
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
    not_manual = _open_to_recognition(faces)
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
        for chunk in chunks(rows, 5000):
            session.connection().execute(statement, chunk)
    drop_automatic_names_given_by_hand_elsewhere(session)


def drop_automatic_names_given_by_hand_elsewhere(session: Session, photo_ids: list[int] | None = None) -> None:
    """Take an automatic name off every face whose photo has a face named after the same person by hand
    (a person is named once per photo — in a video, once per moment: appearances that overlap in time —,
    and the user's name wins); only in the photos ``photo_ids`` when given."""
    faces = Face.__table__
    by_hand = faces.alias("by_hand")
    same_moment = or_(faces.c.video_from.is_(None), by_hand.c.video_from.is_(None),
                      and_(by_hand.c.video_from <= faces.c.video_to, by_hand.c.video_to >= faces.c.video_from))
    condition = [faces.c.label_source == LabelSource.AUTO,
                 exists(select(by_hand.c.id).where(by_hand.c.photo_id == faces.c.photo_id, by_hand.c.person_id == faces.c.person_id,
                                                  by_hand.c.label_source == LabelSource.MANUAL, same_moment))]
    statement = update(faces).values(person_id=None, label_score=None, label_source=None)
    if photo_ids is None:
        session.connection().execute(statement.where(*condition))
        return
    for chunk in chunks(photo_ids):
        session.connection().execute(statement.where(*condition, faces.c.photo_id.in_(chunk)))


def set_labels(session: Session, face_ids: Iterable[int], person_id: int | None, source: str | None,
               score: float | None) -> None:
    """Give these faces this label (person, LabelSource, score), whatever they had."""
    face_ids = list(face_ids)
    for chunk in chunks(face_ids):
        session.execute(update(Face).where(Face.id.in_(chunk))
                        .values(person_id=person_id, label_source=source, label_score=score))


def set_person(session: Session, face_ids: Iterable[int], person_id: int) -> None:
    """Name these faces ``person_id``, keeping who named them and the score (a split of a person)."""
    face_ids = list(face_ids)
    for chunk in chunks(face_ids):
        session.execute(update(Face).where(Face.id.in_(chunk)).values(person_id=person_id))


def faces_with_a_source_but_no_person(session: Session) -> int:
    """How many faces say they were named (automatically, or with a score) yet name nobody: none should
    (a face cleared by hand has source "manual", no person and no score)."""
    return session.scalar(select(func.count()).select_from(Face).where(
        Face.person_id.is_(None),
        (Face.label_source == LabelSource.AUTO) | Face.label_score.is_not(None))) or 0


def manual_names_by_photo(session: Session, model: str) -> set[tuple[int, int, tuple[float, float] | None]]:
    """(photo id, person id, span in its video or None) for every face of ``model`` named by hand."""
    rows = session.execute(
        select(Face.photo_id, Face.person_id, Face.video_from, Face.video_to)
        .where(Face.embedding_model == model, Face.label_source == LabelSource.MANUAL, Face.person_id.is_not(None))
    )
    return {(r.photo_id, r.person_id, (r.video_from, r.video_to) if r.video_from is not None else None) for r in rows}


def face_vector(session: Session, face_id: int) -> tuple[str, bytes] | None:
    """(embedding model, embedding bytes) of one face, or None."""
    row = session.execute(select(Face.embedding_model, Face.embedding).where(Face.id == face_id)).first()
    return None if row is None else (row[0], row[1])


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


def face_by_id(session: Session, face_id: int) -> Face | None:
    return session.get(Face, face_id)


def faces_of_photo(session: Session, photo_id: int) -> list[Face]:
    return list(session.scalars(select(Face).where(Face.photo_id == photo_id).order_by(Face.id)))


def add_faces(session: Session, faces: list[Face]) -> None:
    session.add_all(faces)


def rejected_pairs(session: Session) -> set[tuple[int, int]]:
    """(face id, person id) of every face the user said is not that person."""
    return {(row[0], row[1]) for row in session.execute(select(Rejection.face_id, Rejection.person_id))}


def unnamed_faces(session: Session, model: str) -> list:
    """The faces of ``model`` with no name at all, by id: rows of id, photo_id, box_x, box_y, box_w, box_h,
    detection, cluster_id, embedding and video_time."""
    return list(session.execute(
        select(Face.id, Face.photo_id, Face.box_x, Face.box_y, Face.box_w, Face.box_h, Face.detection, Face.cluster_id,
               Face.embedding, Face.video_time)
        .where(Face.embedding_model == model, *unnamed())
        .order_by(Face.id)
    ).all())


def unnamed_faces_in_cluster(session: Session, cluster_id: int) -> list[Face]:
    """The faces of a cluster that have no name at all, by id."""
    return list(session.scalars(select(Face).where(Face.cluster_id == cluster_id, *unnamed()).order_by(Face.id)))


def rejections_of(session: Session, photo_id: int, origin: str | None = None) -> list[tuple[ManualLabel, set[int]]]:
    """The faces of this photo (of ``origin`` when given) the user said are not somebody: each as a
    ManualLabel (box, embedding, model; no person) with the ids of the people it is not."""
    rows = session.execute(
        select(Face.id, Face.box_x, Face.box_y, Face.box_w, Face.box_h, Face.embedding, Face.embedding_model,
               Rejection.person_id, Face.video_from, Face.video_to)
        .join(Rejection, Rejection.face_id == Face.id)
        .where(Face.photo_id == photo_id, *([Face.origin == origin] if origin else []))
        .order_by(Face.id)
    )
    found: dict[int, tuple[ManualLabel, set[int]]] = {}
    for face_id, x, y, w, h, embedding, model, person_id, start, end in rows:
        span = (start, end) if start is not None else None
        found.setdefault(face_id, (ManualLabel((x, y, w, h), None, None, embedding, model, None, face_id, span),
                                   set()))[1].add(person_id)
    return list(found.values())


def add_rejections(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Record (face id, person id) pairs the user said do not go together (those already recorded stay)."""
    for face_id, person_id in dict.fromkeys(pairs):
        if session.get(Rejection, (face_id, person_id)) is None:
            session.add(Rejection(face_id=face_id, person_id=person_id))

