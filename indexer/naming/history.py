"""The history of names given by hand: one event per command that changed names by hand (``label``,
``enroll``, ``rename``, ``merge``, ``split``, ``confirm``, ``reject``, ``import-xmp``, ``undo``), with the
rows it changed, before and after — the name on each face (person, source, score), the people, the lost
names and the rejections. ``naming.labels`` records them (``by_hand``) and puts the before back (``undo``).

Automatic names are not events (they follow from the manual ones): where an event changed one, undo
puts back the automatic name it found, and the next ``train`` or ``index`` decides such names again anyway.

A row is [person id, label source, label score] for a face, [name, created at] for a person, the whole
row for a lost name (``queries.LOST_NAME_COLUMNS``), and [created at] for a rejection (keyed
"face:person"); None where the row did not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from indexer.db import queries
from indexer.db.models import NameEvent

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
