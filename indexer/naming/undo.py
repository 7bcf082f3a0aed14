"""Undo: an event of the history reverted exactly — a label taken back, a rename renamed back, a merge
un-merged, an enrolment un-named, a face drawn by hand removed — as an event of its own.

The rules, checked and applied in one write transaction (``labels.by_hand``: on SQLite the write lock is
held from its start, on PostgreSQL the naming lock), so that no change of names can come in between:
- ``undo_event`` reverts the event it is given, and refuses, changing nothing, when it is no longer in
  force (undone, or an undo itself) or when a later event in force touched the same names: the same face,
  person, lost name or rejection, or a person the event made (undo would remove them), or one whose name it
  would put back that a later event removed. (The app's Undo and ``indexer undo --event N`` name the event
  the user saw: another user's change since is never reverted in its place, nor overwritten.)
- ``undo_newest`` reverts the newest event in force, decided under the lock, and says which it was.
A face read anew since the event is followed to the face its name went to (``face_successions``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from indexer.db import queries
from indexer.db.reader import as_datetime
from indexer.db.values import FaceOrigin
from indexer.errors import IndexerError
from indexer.ids import is_id
from indexer.naming.history import TABLES, UNDO, Changes, Event, Label
from indexer.naming.labels import HandNaming, by_hand

if TYPE_CHECKING:
    from indexer.library import Library


@dataclass(frozen=True)
class Undone:
    event_id: int  # the event that was reverted
    description: str
    undo_id: int  # the event that records the undo
    faces: int  # faces whose name was put back
    faces_gone: int  # faces that were not there any more (their photo left the index)
    faces_removed: list[int] = field(default_factory=list)  # faces the event had drawn, removed now

    @property
    def event(self) -> int:
        """The history event this undo made (every naming action says which it made)."""
        return self.undo_id


class CannotUndo(IndexerError):
    """The event cannot be undone now (see the module); the message says why and what to do."""


def undo_event(library: Library, event_id: int) -> Undone:
    """Revert event ``event_id`` (see the module); CannotUndo when it is not in force or a later change
    touched its names. Faces it drew leave the vector file too."""
    with by_hand(library, UNDO) as naming:
        row = queries.event_by_id(naming.session, event_id) if is_id(event_id) else None
        event = Event.of(row) if row is not None else None
        if event is None or not event.in_force:
            raise CannotUndo(f"#{event_id} is no longer the newest change of its names, nor any change that can be "
                             "undone (see `indexer history`); nothing was undone")
        later = _later_change_of_the_same_names(naming.session, event)
        if later is not None:
            raise CannotUndo(f"#{event.id} is no longer the newest change of its names: #{later} changed them since "
                             f"(undo #{later} first, or name them by hand); nothing was undone")
        done = _revert(naming, event)
    return _vectors_follow(library, done)


def undo_newest(library: Library, count: int = 1) -> list[Undone]:
    """Revert the newest ``count`` events in force, newest first, each the newest when its transaction
    takes the lock. IndexerError when there are fewer."""
    if count < 1:
        raise IndexerError("undo needs a number of events from 1 up")
    done: list[Undone] = []
    for _ in range(count):
        with by_hand(library, UNDO) as naming:
            pending = queries.undoable_events(naming.session)
            if len(pending) < count - len(done):
                raise IndexerError(f"nothing to undo: {len(pending)} change(s) of names can be undone, not {count - len(done)}"
                                   if pending or done else
                                   "nothing to undo: no name has been given by hand since the history began")
            undone = _revert(naming, Event.of(queries.event_by_id(naming.session, pending[0])))
        done.append(_vectors_follow(library, undone))
    return done


def _vectors_follow(library: Library, done: Undone) -> Undone:
    if done.faces_removed:
        library.change_vectors(removed=done.faces_removed)
    return done


def _later_change_of_the_same_names(session: Session, event: Event) -> int | None:
    """The first later event in force whose changes meet ``event``'s (see the module), or None."""
    mine = _Touched.of(session, event.changes)
    for later in queries.events_after(session, event.id):
        theirs = Event.of(later)
        if theirs.in_force and mine.met_by(_Touched.of(session, theirs.changes)):
            return theirs.id
    return None


@dataclass(frozen=True)
class _Touched:
    """The rows an event changed, as they are now (faces followed through re-reads), and the people its
    rows rely on."""

    faces: set[int]
    people: set[int]
    lost_names: set[int]
    rejections: set[tuple[int, int]]
    made: set[int]  # people it created
    removed: set[int]  # people it removed
    relied_on: set[int]  # people its rows name
    relied_on_before: set[int]  # people the rows it changed named before it (undo names them again)

    @classmethod
    def of(cls, session: Session, changes: Changes) -> _Touched:
        def now(face_id: int) -> int:
            return _face_now(session, face_id)[0] or face_id

        before = Changes({k: (b, None) for k, (b, _) in changes.faces.items()}, {}, {}, {})
        return cls({now(face) for face in changes.faces}, set(changes.people), set(changes.lost_names),
                   {(now(face), person) for face, person in changes.rejections}, changes.people_made(),
                   {person for person, (b, a) in changes.people.items() if b is not None and a is None},
                   changes.people_relied_on(), before.people_relied_on())

    def met_by(self, later: _Touched) -> bool:
        return bool(self.faces & later.faces or self.people & later.people or self.lost_names & later.lost_names
                    or self.rejections & later.rejections or self.made & later.relied_on
                    or later.removed & self.relied_on_before)


def _revert(naming: HandNaming, event: Event) -> Undone:
    """Put back what ``event`` changed, in ``naming``'s transaction, recorded as an undo of it."""
    session, changes = naming.session, event.changes
    _check_people(session, changes.people)
    drawn = {face_id: after for face_id, (before, after) in changes.faces.items() if before is None and after is not None}
    faces, lost_since, gone = _faces_now(session, {k: v for k, v in changes.faces.items() if k not in drawn})
    removed = _drawn_faces_now(session, drawn, faces)
    naming.watch_faces([*faces, *removed])
    for person_id, (before, after) in changes.people.items():
        if after is None and before is not None:  # removed (merged away): back first, faces point at it
            queries.put_person_back(session, person_id, before[0], as_datetime(before[1]))
        elif before is not None:
            queries.rename_person_to(session, person_id, before[0])
    for face_id, before in faces.items():
        queries.set_labels(session, [face_id], *before)
    for lost_id in lost_since:  # a name this event gave, lost when its photo was read anew: it goes too
        queries.remove_lost_name(session, lost_id)
    for lost_id, (before, _) in changes.lost_names.items():
        queries.remove_lost_name(session, lost_id)
        if before is not None:
            values = dict(zip(queries.LOST_NAME_COLUMNS, before, strict=True))
            queries.put_lost_name_back(session, lost_id, {**values, "lost_at": as_datetime(values["lost_at"])})
    for (face_id, person_id), (before, _) in changes.rejections.items():
        face_now = _face_now(session, face_id)[0] or face_id
        queries.remove_rejection(session, face_now, person_id)
        if before is not None:
            queries.put_rejection_back(session, face_now, person_id, as_datetime(before[0]))
    queries.delete_faces(session, removed)  # drawn by the event (wherever a re-read carried them)
    for person_id in changes.people_made():
        queries.delete_person(session, person_id)
    naming.says(f"undo #{event.id}: {event.description}")
    undo = naming.finish()
    if undo is None:  # nothing was left to change: still say it was undone
        undo = queries.add_event(session, UNDO, naming.description, {table: {} for table in TABLES})
    queries.mark_undone(session, event.id, undo.id)
    return Undone(event.id, event.description, undo.id, len(faces), gone, removed)


def _drawn_faces_now(session: Session, drawn: dict[int, Label], faces: dict[int, Label]) -> list[int]:
    """The faces an event drew (id → their label after it) that are still drawn faces now (wherever a
    re-read carried them): those undo removes. One the detector has found since is a detected face now and
    stays; the name the drawn face gave it goes (into ``faces``: face id → label to put back), unless it
    is named otherwise now."""
    removed = []
    for face_id, after in drawn.items():
        current = _face_now(session, face_id)[0]
        face = queries.face_by_id(session, current) if current is not None else None
        if face is None:
            continue
        if face.origin == FaceOrigin.DRAWN:
            removed.append(face.id)
        elif (face.person_id, face.label_source, face.label_score) == tuple(after) and face.label_source is not None:
            faces[face.id] = (None, None, None)
    return removed


def _face_now(session: Session, face_id: int) -> tuple[int | None, int | None]:
    """Where face ``face_id`` is now: (its id or that of the face its photo's re-read carried it to, None),
    (None, the lost name it became), or (None, None) when it left the index with its photo."""
    seen: set[int] = set()
    while face_id not in seen:
        seen.add(face_id)
        if queries.present_faces(session, [face_id]):
            return face_id, None
        went = queries.succession(session, face_id)
        if went is None:
            return None, None
        if went[0] is None:
            return None, went[1]
        face_id = went[0]
    return None, None


def _faces_now(session: Session, faces: dict[int, tuple]) -> tuple[dict[int, Label], list[int], int]:
    """An event's faces (id → (before, after)) as they are now: (face id now → its label before the event,
    the lost names its names became, how many left the index). CannotUndo, changing nothing, when a name
    the event took off a face cannot be put back because that face is no longer found."""
    now: dict[int, Label] = {}
    lost_since: list[int] = []
    gone = 0
    for face_id, (before, after) in faces.items():
        current, lost_id = _face_now(session, face_id)
        if current is not None:
            if before is not None:
                now[current] = before
        elif lost_id is not None and queries.lost_name_exists(session, lost_id):
            if before is not None and before[0] is not None:
                raise CannotUndo(
                    f"cannot undo: face {face_id}'s photo was read anew and the face is no longer found, so its name "
                    "before cannot be put back (`indexer lost-names`); name the face by hand instead")
            lost_since.append(lost_id)
        else:
            gone += 1
    return now, lost_since, gone


def _check_people(session: Session, people: dict[int, tuple]) -> None:
    """Refuse an undo that would put back a name somebody else has now, or a person whose id is taken."""
    for person_id, (before, after) in people.items():
        if before is None:
            continue
        if queries.person_named(session, before[0], other_than=person_id) is not None:
            raise CannotUndo(f"cannot undo: the name {before[0]!r} belongs to another person now (rename them first)")
        if after is None and queries.person_by_id(session, person_id) is not None:
            raise CannotUndo(f"cannot undo: person {person_id} exists again")
