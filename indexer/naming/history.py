"""The history of names given by hand: one event per command that changed names by hand (``label``,
``enroll``, ``rename``, ``merge``, ``split``, ``confirm``, ``reject``, ``import-xmp``, ``add-face``,
``undo``), with the rows it changed, before and after — the name on each face (person, source, score), the
people, the lost names and the rejections. ``Recorder`` writes an event; ``Event`` reads one back, typed,
for ``naming.undo``. This module alone knows how an event's changes are kept (JSON in ``name_events``).

Automatic names are not events (they follow from the manual ones): where an event changed one, undo
puts back the automatic name it found, and the next ``train`` or ``index`` decides such names again anyway.

As kept: a face's row is [person id, label source, label score], a person's [name, created at (ISO)], a
lost name's its ``queries.LOST_NAME_COLUMNS``, a rejection's [created at] keyed "face:person"; None where
the row did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from indexer.db import queries
from indexer.db.models import NameEvent
from indexer.db.values import UNDO

TABLES = ("faces", "people", "lost_names", "rejections")


class Recorder:
    """Records one event in ``session``: ``watch_faces`` the faces that may change before changing them;
    the people, lost names and rejections are compared whole. ``finish`` writes the event (nothing when
    nothing changed) and returns it."""

    def __init__(self, session: Session, action: str):
        self.session = session
        self.action = action
        self._faces: dict[int, list | None] = {}
        self._people = queries.people_rows(session)
        self._lost = queries.lost_name_rows(session)
        self._rejections = queries.rejection_rows(session)

    def watch_faces(self, face_ids) -> None:
        new = [i for i in face_ids if i not in self._faces]
        if new:
            self._faces.update(queries.face_labels(self.session, new))

    def watch_new_face(self, face_id: int) -> None:
        """A face this event makes: it did not exist before (undo removes it)."""
        self._faces[face_id] = None

    def watch_photos(self, photo_ids) -> None:
        self.watch_faces(queries.face_ids_of_photos(self.session, photo_ids))

    def watch_person(self, person_id: int) -> None:
        self.watch_faces(queries.face_ids_of_person(self.session, person_id))

    def finish(self, description: str) -> NameEvent | None:
        self.session.flush()
        changes = {
            "faces": _diff(self._faces, queries.face_labels(self.session, list(self._faces))),
            "people": _diff(self._people, queries.people_rows(self.session)),
            "lost_names": _diff(self._lost, queries.lost_name_rows(self.session)),
            "rejections": _diff(self._rejections, queries.rejection_rows(self.session)),
        }
        if not any(changes.values()):
            return None
        return queries.add_event(self.session, self.action, description, changes)


def _diff(before: dict[Any, Any], after: dict[Any, Any]) -> dict[str, list]:
    """{row id: [before, after]} for the rows that differ (None: absent), keys as text for JSON."""
    return {str(key): [before.get(key), after.get(key)] for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)}


Label = tuple  # (person id or None, label source or None, score or None): a face's name as an event keeps it


@dataclass(frozen=True)
class Changes:
    """What one event changed, typed: for each table, row key → (before, after), None where the row did not
    exist. Faces by id (label rows), people by id ((name, created at ISO)), lost names by id (their
    LOST_NAME_COLUMNS), rejections by (face id, person id) ((created at ISO,))."""

    faces: dict[int, tuple[Label | None, Label | None]]
    people: dict[int, tuple[tuple | None, tuple | None]]
    lost_names: dict[int, tuple[tuple | None, tuple | None]]
    rejections: dict[tuple[int, int], tuple[tuple | None, tuple | None]]

    @classmethod
    def kept(cls, stored: dict[str, Any]) -> Changes:
        """The changes as ``Recorder`` kept them (the decoded JSON of ``name_events.changes``)."""

        def rows(table: str) -> dict[str, tuple]:
            return {key: tuple(_row(side) for side in pair) for key, pair in stored.get(table, {}).items()}

        return cls(faces={int(key): pair for key, pair in rows("faces").items()},
                   people={int(key): pair for key, pair in rows("people").items()},
                   lost_names={int(key): pair for key, pair in rows("lost_names").items()},
                   rejections={tuple(int(part) for part in key.split(":")): pair for key, pair in rows("rejections").items()})

    def people_relied_on(self) -> set[int]:
        """The people this event's rows name (on faces, lost names, rejections), before or after it."""
        lost_person = queries.LOST_NAME_COLUMNS.index("person_id")
        found = {label[0] for pair in self.faces.values() for label in pair if label is not None}
        found |= {row[lost_person] for pair in self.lost_names.values() for row in pair if row is not None}
        found |= {person for _, person in self.rejections}
        return found - {None}

    def people_made(self) -> set[int]:
        """The people this event created (undo removes them)."""
        return {person for person, (before, _) in self.people.items() if before is None}


def _row(side: Any) -> tuple | None:
    return None if side is None else tuple(side)


@dataclass(frozen=True)
class Event:
    """One event of the history, as ``naming.undo`` reads it."""

    id: int
    action: str
    description: str
    undone_by: int | None
    changes: Changes

    @classmethod
    def of(cls, row: NameEvent) -> Event:
        return cls(row.id, row.action, row.description, row.undone_by, Changes.kept(row.changes))

    @property
    def in_force(self) -> bool:
        """Neither an undo nor undone: what it did still stands (and may be undone)."""
        return self.action != UNDO and self.undone_by is None
