"""The history of names given by hand, and undo.

Every command that changes names by hand (``label``, ``enroll``, ``rename``, ``merge``, ``confirm``,
``reject``, ``split``) records one event in its own transaction: the rows it changed, before and after —
the name on each face (person, source, score), the people, the lost names and the rejections. ``undo`` puts the before back, newest event first, and
is recorded as an event too. Automatic names are not events (they follow from the manual ones): where an
event changed one, undo puts back the automatic name it found, and the next ``train`` or ``index``
decides such names again anyway.

A row is [person id, label source, label score] for a face, [name, created at] for a person, the whole
row for a lost name, and [created at] for a rejection (keyed "face:person"); None where the row did not
exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from indexer.db.models import Face, LostName, NameEvent, Person, Photo, Rejection
from indexer.db.reader import as_datetime
from indexer.errors import IndexerError
from indexer.library import Library

TABLES = ("faces", "people", "lost_names", "rejections")
_LOST_NAME_COLUMNS = ("photo_id", "person_id", "person_name", "box_x", "box_y", "box_w", "box_h", "reason", "lost_at")


class Recorder:
    """Records one event in ``session``: ``watch_faces`` the faces that may change before changing them;
    the people and lost names are compared whole. ``finish`` writes the event (nothing when nothing
    changed) and returns it."""

    def __init__(self, session: Session, action: str):
        self.session = session
        self.action = action
        self._faces: dict[int, list | None] = {}
        self._people = _people(session)
        self._lost = _lost_names(session)
        self._rejections = _rejections(session)

    def watch_faces(self, face_ids) -> None:
        new = [i for i in face_ids if i not in self._faces]
        if new:
            self._faces.update(_face_labels(self.session, new))

    def watch_photos(self, photo_ids) -> None:
        self.watch_faces(self.session.scalars(select(Face.id).where(Face.photo_id.in_(list(photo_ids)))).all())

    def watch_person(self, person_id: int) -> None:
        self.watch_faces(self.session.scalars(select(Face.id).where(Face.person_id == person_id)).all())

    def finish(self, description: str) -> NameEvent | None:
        self.session.flush()
        after_faces = _face_labels(self.session, list(self._faces))
        changes = {
            "faces": _diff(self._faces, after_faces),
            "people": _diff(self._people, _people(self.session)),
            "lost_names": _diff(self._lost, _lost_names(self.session)),
            "rejections": _diff(self._rejections, _rejections(self.session)),
        }
        if not any(changes.values()):
            return None
        event = NameEvent(action=self.action, description=description, changes=changes)
        self.session.add(event)
        self.session.flush()
        return event


@dataclass(frozen=True)
class Undone:
    event_id: int  # the event that was reverted
    description: str
    undo_id: int  # the event that records the undo
    faces: int  # faces whose name was put back
    faces_gone: int  # faces that were not there any more (their photo left the index)


def undo(library: Library, count: int = 1) -> list[Undone]:
    """Revert the newest ``count`` events that are neither undos nor undone yet, newest first, each in
    its own transaction and recorded as an undo event. IndexerError when there are fewer."""
    if count < 1:
        raise IndexerError("undo needs a number of events from 1 up")
    with library.session() as session:
        pending = session.scalars(
            select(NameEvent.id).where(NameEvent.action != "undo", NameEvent.undone_by.is_(None)).order_by(NameEvent.id.desc())
        ).all()
    if len(pending) < count:
        raise IndexerError(f"nothing to undo: {len(pending)} change(s) of names can be undone, not {count}"
                           if pending else "nothing to undo: no name has been given by hand since the history began")
    return [_undo_one(library, event_id) for event_id in pending[:count]]


def _undo_one(library: Library, event_id: int) -> Undone:
    with library.transaction() as session:
        event = session.get(NameEvent, event_id)
        if event is None or event.undone_by is not None:
            raise IndexerError(f"event {event_id} was undone meanwhile")
        changes = event.changes
        faces = {int(k): v for k, v in changes.get("faces", {}).items()}
        people = {int(k): v for k, v in changes.get("people", {}).items()}
        lost = {int(k): v for k, v in changes.get("lost_names", {}).items()}
        _check_people(session, people)
        recorder = Recorder(session, "undo")
        recorder.watch_faces(faces)
        for person_id, (before, after) in people.items():
            if after is None and before is not None:  # deleted (merged away): back first, faces point at it
                session.execute(insert(Person).values(id=person_id, name=before[0], created_at=as_datetime(before[1])))
            elif before is not None:
                session.execute(update(Person).where(Person.id == person_id).values(name=before[0]))
        present = set(session.scalars(select(Face.id).where(Face.id.in_(list(faces)))).all())
        for face_id, (before, _) in faces.items():
            if face_id in present and before is not None:
                session.execute(update(Face).where(Face.id == face_id).values(
                    person_id=before[0], label_source=before[1], label_score=before[2]))
        for lost_id, (before, _) in lost.items():
            session.execute(delete(LostName).where(LostName.id == lost_id))
            if before is not None:
                values = dict(zip(_LOST_NAME_COLUMNS, before, strict=True))
                if session.get(Photo, values["photo_id"]) is not None:  # else the photo left the index since
                    session.execute(insert(LostName).values(id=lost_id, **{**values, "lost_at": as_datetime(values["lost_at"])}))
        for key, (before, _) in changes.get("rejections", {}).items():
            face_id, person_id = (int(part) for part in key.split(":"))
            session.execute(delete(Rejection).where(Rejection.face_id == face_id, Rejection.person_id == person_id))
            if before is not None and session.get(Face, face_id) is not None:
                session.execute(insert(Rejection).values(face_id=face_id, person_id=person_id, created_at=as_datetime(before[0])))
        for person_id, (before, _) in people.items():
            if before is None:  # created by the event
                session.execute(delete(Person).where(Person.id == person_id))
        undo_event = recorder.finish(f"undo #{event.id}: {event.description}")
        if undo_event is None:  # nothing was left to change: still say it was undone
            undo_event = NameEvent(action="undo", description=f"undo #{event.id}: {event.description}",
                                   changes={table: {} for table in TABLES})
            session.add(undo_event)
            session.flush()
        event.undone_by = undo_event.id
        return Undone(event.id, event.description, undo_event.id, len(present), len(faces) - len(present))


def _check_people(session: Session, people: dict[int, list]) -> None:
    """Refuse an undo that would put back a name somebody else has now, or a person whose id is taken."""
    for person_id, (before, after) in people.items():
        if before is None:
            continue
        taken = session.scalars(select(Person).where(Person.name == before[0], Person.id != person_id)).first()
        if taken is not None:
            raise IndexerError(f"cannot undo: the name {before[0]!r} belongs to another person now (rename them first)")
        if after is None and session.get(Person, person_id) is not None:
            raise IndexerError(f"cannot undo: person {person_id} exists again")


def _face_labels(session: Session, face_ids: list[int]) -> dict[int, list]:
    found: dict[int, list] = {}
    for start in range(0, len(face_ids), 500):
        rows = session.execute(select(Face.id, Face.person_id, Face.label_source, Face.label_score)
                               .where(Face.id.in_(face_ids[start : start + 500])))
        found.update({row[0]: [row[1], row[2], row[3]] for row in rows})
    return found


def _people(session: Session) -> dict[int, list]:
    return {row[0]: [row[1], row[2].isoformat()] for row in session.execute(select(Person.id, Person.name, Person.created_at))}


def _lost_names(session: Session) -> dict[int, list]:
    columns = [getattr(LostName, c) for c in _LOST_NAME_COLUMNS]
    return {row[0]: [*row[1:-1], row[-1].isoformat()] for row in session.execute(select(LostName.id, *columns))}


def _rejections(session: Session) -> dict[str, list]:
    return {f"{row[0]}:{row[1]}": [row[2].isoformat()]
            for row in session.execute(select(Rejection.face_id, Rejection.person_id, Rejection.created_at))}


def _diff(before: dict[Any, Any], after: dict[Any, Any]) -> dict[str, list]:
    """{row id: [before, after]} for the rows that differ (None: absent), keys as text for JSON."""
    return {str(key): [before.get(key), after.get(key)] for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)}
