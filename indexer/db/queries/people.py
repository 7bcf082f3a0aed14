"""People: names, who still exists, counts, their faces, and the names given by hand that were lost."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from indexer.db.models import Face, LostName, Person, Photo
from indexer.db.values import LabelSource
from indexer.db.reader import chunks

from indexer.db.queries.faces import ManualLabel

__all__ = [
    "existing_people",
    "record_lost_names", "resolve_lost_names", "LostNameRow", "lost_names", "person_by_id", "everyone", "add_person",
    "delete_person", "merge_people", "show_person", "set_cover",
]


def existing_people(session: Session, person_ids: Iterable[int]) -> set[int]:
    """Which of ``person_ids`` still exist (a person merged away meanwhile does not)."""
    person_ids = list(set(person_ids))
    found: set[int] = set()
    for chunk in chunks(person_ids):
        found |= set(session.scalars(select(Person.id).where(Person.id.in_(chunk))))
    return found


def record_lost_names(session: Session, photo_id: int, labels: Iterable[ManualLabel], reason: str) -> list[int]:
    """Keep the names of ``labels`` (given by hand on faces of ``photo_id`` that are no longer found) as
    lost names the user can see; returns their ids, in the order of ``labels`` (those with a person)."""
    rows = []
    for label in labels:
        if label.person_id is not None:
            x, y, w, h = label.box
            rows.append(LostName(photo_id=photo_id, person_id=label.person_id, person_name=label.person_name or "?",
                                 box_x=x, box_y=y, box_w=w, box_h=h, reason=reason))
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def resolve_lost_names(session: Session, photo_ids: list[int], person_id: int) -> None:
    """The user named a face of each of ``photo_ids`` after ``person_id``: their lost names there are found."""
    for chunk in chunks(photo_ids):
        session.execute(delete(LostName).where(LostName.photo_id.in_(chunk),
                                               LostName.person_id == person_id))


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


def person_by_id(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def everyone(session: Session) -> list[Person]:
    return list(session.scalars(select(Person)))


def add_person(session: Session, name: str) -> Person:
    person = Person(name=name)
    session.add(person)
    session.flush()
    return person


def delete_person(session: Session, person_id: int) -> None:
    """Delete a person, and the automatic names they had: a face never keeps a source and a score without
    a person. (Names given by hand are the caller's to change first: the user's decisions.)"""
    session.execute(update(Face).where(Face.person_id == person_id, Face.label_source == LabelSource.AUTO)
                    .values(person_id=None, label_source=None, label_score=None))
    session.execute(delete(Person).where(Person.id == person_id))


def merge_people(session: Session, giving: Person, keeping: Person) -> tuple[int, int]:
    """Every face (and lost name) of ``giving`` becomes ``keeping``'s, and ``giving`` is deleted.
    Returns (faces moved, faces ``keeping`` has now)."""
    moved = session.execute(update(Face).where(Face.person_id == giving.id).values(person_id=keeping.id)).rowcount
    session.execute(update(LostName).where(LostName.person_id == giving.id).values(person_id=keeping.id))
    session.flush()
    session.expunge(giving)
    delete_person(session, giving.id)
    return moved, session.scalar(select(func.count()).select_from(Face).where(Face.person_id == keeping.id)) or 0


def show_person(session: Session, person_id: int, shown: bool) -> bool:
    """Show person ``person_id`` in the lists of people, or keep them out (``shown`` False); False when
    there is no such person."""
    return session.execute(update(Person).where(Person.id == person_id).values(hidden=not shown)).rowcount > 0


def set_cover(session: Session, person_id: int, face_id: int | None) -> bool:
    """Show person ``person_id`` by face ``face_id`` (None: their best face); False unless the face is theirs
    (or None) and the person exists."""
    if face_id is not None and session.scalar(select(Face.person_id).where(Face.id == face_id)) != person_id:
        return False
    return session.execute(update(Person).where(Person.id == person_id).values(cover_face_id=face_id)).rowcount > 0
