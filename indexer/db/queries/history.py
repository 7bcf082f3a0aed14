"""The history of names given by hand: the rows an event compares before and after, the events, and
putting rows back on undo (``naming.history``, ``naming.labels``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from indexer.db.models import Face, FaceSuccession, LostName, NameEvent, Person, Photo, Rejection
from indexer.db.values import UNDO
from indexer.db.reader import chunks

__all__ = [
    "face_labels", "face_ids_of_photos", "face_ids_of_person", "people_rows", "lost_name_rows", "rejection_rows",
    "LOST_NAME_COLUMNS", "add_event", "undoable_events", "event_by_id", "events_after", "mark_undone", "put_person_back", "rename_person_to",
    "put_lost_name_back", "remove_lost_name", "put_rejection_back", "remove_rejection", "present_faces", "person_named",
    "record_successions", "succession", "lost_name_exists",
]

# The columns of a lost name as an event keeps it (besides its id).
LOST_NAME_COLUMNS = ("photo_id", "person_id", "person_name", "box_x", "box_y", "box_w", "box_h", "reason", "lost_at")


def face_labels(session: Session, face_ids: list[int]) -> dict[int, list]:
    """face id → [person id, label source, label score], for those of ``face_ids`` that exist."""
    found: dict[int, list] = {}
    for chunk in chunks(face_ids):
        rows = session.execute(select(Face.id, Face.person_id, Face.label_source, Face.label_score)
                               .where(Face.id.in_(chunk)))
        found.update({row[0]: [row[1], row[2], row[3]] for row in rows})
    return found


def present_faces(session: Session, face_ids: Iterable[int]) -> set[int]:
    """Which of ``face_ids`` exist."""
    return set(face_labels(session, list(face_ids)))


def face_ids_of_photos(session: Session, photo_ids: Iterable[int]) -> list[int]:
    photo_ids = list(photo_ids)
    found: list[int] = []
    for chunk in chunks(photo_ids):
        found += session.scalars(select(Face.id).where(Face.photo_id.in_(chunk))).all()
    return found


def face_ids_of_person(session: Session, person_id: int) -> list[int]:
    return list(session.scalars(select(Face.id).where(Face.person_id == person_id)))


def people_rows(session: Session) -> dict[int, list]:
    """person id → [name, created at (ISO)], for everyone."""
    return {row[0]: [row[1], row[2].isoformat()] for row in session.execute(select(Person.id, Person.name, Person.created_at))}


def lost_name_rows(session: Session) -> dict[int, list]:
    """lost name id → its LOST_NAME_COLUMNS (times in ISO), for every lost name."""
    columns = [getattr(LostName, c) for c in LOST_NAME_COLUMNS]
    return {row[0]: [*row[1:-1], row[-1].isoformat()] for row in session.execute(select(LostName.id, *columns))}


def rejection_rows(session: Session) -> dict[str, list]:
    """"face id:person id" → [created at (ISO)], for every rejection."""
    return {f"{row[0]}:{row[1]}": [row[2].isoformat()]
            for row in session.execute(select(Rejection.face_id, Rejection.person_id, Rejection.created_at))}


def add_event(session: Session, action: str, description: str, changes: dict[str, Any]) -> NameEvent:
    event = NameEvent(action=action, description=description, changes=changes)
    session.add(event)
    session.flush()
    return event


def undoable_events(session: Session) -> list[int]:
    """The ids of the events that are neither undos nor undone, newest first."""
    return list(session.scalars(
        select(NameEvent.id).where(NameEvent.action != UNDO, NameEvent.undone_by.is_(None)).order_by(NameEvent.id.desc())))


def event_by_id(session: Session, event_id: int) -> NameEvent | None:
    return session.get(NameEvent, event_id)


def events_after(session: Session, event_id: int) -> Iterable[NameEvent]:
    """The events newer than ``event_id`` that are neither undos nor undone, oldest first, streamed."""
    return session.scalars(select(NameEvent).where(NameEvent.id > event_id, NameEvent.action != UNDO,
                                                   NameEvent.undone_by.is_(None)).order_by(NameEvent.id)
                           .execution_options(yield_per=200))


def mark_undone(session: Session, event_id: int, undo_id: int) -> None:
    """Event ``event_id`` was reverted by the event ``undo_id``."""
    session.execute(update(NameEvent).where(NameEvent.id == event_id).values(undone_by=undo_id))


def person_named(session: Session, name: str, other_than: int) -> Person | None:
    """A person called exactly ``name`` other than ``other_than``."""
    return session.scalars(select(Person).where(Person.name == name, Person.id != other_than)).first()


def put_person_back(session: Session, person_id: int, name: str, created_at: datetime) -> None:
    session.execute(insert(Person).values(id=person_id, name=name, created_at=created_at))


def rename_person_to(session: Session, person_id: int, name: str) -> None:
    session.execute(update(Person).where(Person.id == person_id).values(name=name))


def remove_lost_name(session: Session, lost_id: int) -> None:
    session.execute(delete(LostName).where(LostName.id == lost_id))


def put_lost_name_back(session: Session, lost_id: int, values: dict[str, Any]) -> bool:
    """Insert a lost name as it was; False (nothing inserted) when its photo left the index since."""
    if session.get(Photo, values["photo_id"]) is None:
        return False
    session.execute(insert(LostName).values(id=lost_id, **values))
    return True


def remove_rejection(session: Session, face_id: int, person_id: int) -> None:
    session.execute(delete(Rejection).where(Rejection.face_id == face_id, Rejection.person_id == person_id))


def put_rejection_back(session: Session, face_id: int, person_id: int, created_at: datetime) -> bool:
    """Insert a rejection as it was; False when its face or person is gone."""
    if session.get(Face, face_id) is None or session.get(Person, person_id) is None:
        return False
    session.execute(insert(Rejection).values(face_id=face_id, person_id=person_id, created_at=created_at))
    return True


def record_successions(session: Session, photo_id: int, moves: Iterable[tuple[int, int | None, int | None]]) -> None:
    """Record, for faces of ``photo_id`` replaced by a re-read, where the user's word on each went: (old face
    id, new face id or None, lost name id or None); the first record of a face stands."""
    for old_face_id, new_face_id, lost_name_id in moves:
        if session.get(FaceSuccession, old_face_id) is None:
            session.add(FaceSuccession(old_face_id=old_face_id, photo_id=photo_id, new_face_id=new_face_id,
                                       lost_name_id=lost_name_id))
    session.flush()


def succession(session: Session, old_face_id: int) -> tuple[int | None, int | None] | None:
    """(new face id, lost name id) the face went to when its photo was read anew; None when it did not."""
    row = session.get(FaceSuccession, old_face_id)
    return None if row is None else (row.new_face_id, row.lost_name_id)


def lost_name_exists(session: Session, lost_id: int) -> bool:
    return session.get(LostName, lost_id) is not None
