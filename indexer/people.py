"""People and the names on faces: labelling by hand, rename, merge, and the names lost on re-read photos.
(Who exists and which photos show whom are in ``indexer.answers``.)

Answers come from the database alone: nothing here imports TensorFlow, FAISS or scikit-learn.
A person's name is unique regardless of case ("lloyd" finds "Lloyd").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy.orm import Session

from indexer.answers import match_name, person_not_found
from indexer.db import queries
from indexer.db.models import Face, LabelSource, Person
from indexer.errors import IndexerError
from indexer.history import Recorder
from indexer.library import Library

MAX_NAME_LENGTH = 200


class FaceNotFound(IndexerError):
    """No face has that id."""


def clean_name(name: str) -> str:
    """``name`` with surrounding space removed; refuses empty, over-long or control-character names."""
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise IndexerError("a person's name cannot be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise IndexerError(f"a person's name can have at most {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise IndexerError(f"a person's name cannot contain control characters: {cleaned!r}")
    return cleaned


def lookup(session: Session, name: str) -> Person | None:
    """The person called ``name``: exactly, else the one whose name matches ignoring case."""
    everyone = queries.everyone(session)
    found = match_name(name, [p.name for p in everyone])
    return next((p for p in everyone if p.name == found), None)


def require(session: Session, name: str) -> Person:
    """The person called ``name``, or PersonNotFound naming the closest names."""
    person = lookup(session, name)
    if person is None:
        raise person_not_found(name, [p.name for p in queries.everyone(session)])
    return person


def get_or_create(session: Session, name: str) -> Person:
    """The person called ``name`` (ignoring case), created when there is none."""
    name = clean_name(name)
    person = lookup(session, name)
    return person if person is not None else queries.add_person(session, name)


def name_face(session: Session, face: Face, person: Person | None) -> None:
    """Label ``face`` by hand: ``person``, or None for "nobody I have named" (kept off automatic names).
    Another face of the same photo that recognition had given this person loses the name: a person is
    named once per photo, and a name given by hand wins."""
    face.person_id = person.id if person is not None else None
    face.label_source = LabelSource.MANUAL
    face.label_score = 1.0 if person is not None else None
    if person is not None:
        queries.take_automatic_name_off_others(session, face.photo_id, person.id, face.id)
        queries.resolve_lost_name(session, face.photo_id, person.id)


@dataclass(frozen=True)
class FaceLabel:
    face_id: int
    photo: str
    box: list[int]
    person: str | None
    previous: str | None


def label_face(library: Library, face_id: int, name: str | None, action: str = "label") -> FaceLabel:
    """Name face ``face_id`` by hand (creating the person if new); ``name`` None clears its name and
    keeps recognition from naming it again."""
    with library.transaction() as session:
        face = queries.face_by_id(session, face_id)
        if face is None:
            raise FaceNotFound(f"no face with id {face_id} (`indexer who-is PHOTO` shows the faces of a photo with their ids)")
        previous = queries.person_by_id(session, face.person_id).name if face.person_id is not None else None
        recorder = Recorder(session, action)
        recorder.watch_photos([face.photo_id])
        person = get_or_create(session, name) if name is not None else None
        name_face(session, face, person)
        recorder.finish(f"face {face.id}: {previous or 'unnamed'} → {person.name if person else 'nobody (cleared)'}, in {face.photo.path}")
        return FaceLabel(face.id, face.photo.path, face.box, person.name if person else None, previous)


def rename(library: Library, old: str, new: str) -> tuple[str, str]:
    """Rename a person; every face keeps its label. Returns (old name, new name)."""
    with library.transaction() as session:
        person = require(session, old)
        new = clean_name(new)
        other = lookup(session, new)
        if other is not None and other.id != person.id:
            raise IndexerError(
                f"{other.name!r} already exists: to make them one person, use `indexer merge {person.name!r} {other.name!r}`"
            )
        before = person.name
        recorder = Recorder(session, "rename")
        person.name = new
        recorder.finish(f"renamed {before!r} to {new!r}")
        return before, new


@dataclass(frozen=True)
class MergeResult:
    source: str
    target: str
    faces_moved: int
    target_faces: int


def merge(library: Library, source: str, target: str) -> MergeResult:
    """Make ``source`` and ``target`` one person, called ``target``: every face of ``source`` keeps its
    label source and score and is named ``target``; ``source`` is deleted."""
    with library.transaction() as session:
        giving, keeping = require(session, source), require(session, target)
        if giving.id == keeping.id:
            raise IndexerError(f"{giving.name!r} and {keeping.name!r} are the same person")
        giving_name = giving.name
        recorder = Recorder(session, "merge")
        recorder.watch_person(giving.id)
        moved, total = queries.merge_people(session, giving, keeping)
        recorder.finish(f"merged {giving_name!r} into {keeping.name!r} ({moved} faces)")
        return MergeResult(giving_name, keeping.name, moved, total)


@dataclass(frozen=True)
class SplitResult:
    source: str
    target: str
    faces_moved: int
    created: bool  # the target person is new


def split(library: Library, name: str, face_ids: list[int], into: str | None = None) -> SplitResult:
    """Undo a wrong merge by hand: faces ``face_ids`` of the person called ``name`` go to the person
    ``into`` (created if new; default "<name> (split)"), keeping their label source and score. Every face
    must be one of ``name``'s; one event in the history."""
    with library.transaction() as session:
        person = require(session, name)
        faces = [queries.face_by_id(session, face_id) for face_id in dict.fromkeys(face_ids)]
        stray = [face_id for face_id, face in zip(dict.fromkeys(face_ids), faces) if face is None or face.person_id != person.id]
        if not face_ids or stray:
            raise IndexerError(f"face {stray[0]} is not one of {person.name}'s faces" if stray else "name the faces to split off with --faces")
        target_name = clean_name(into) if into is not None else f"{person.name} (split)"
        recorder = Recorder(session, "split")
        recorder.watch_person(person.id)
        target = lookup(session, target_name)
        created = target is None
        if target is None:
            target = queries.add_person(session, target_name)
        if target.id == person.id:
            raise IndexerError(f"{target.name!r} is {person.name!r}: split into another person")
        for face in faces:
            face.person_id = target.id
        recorder.finish(f"split {len(faces)} face(s) of {person.name!r} into {target.name!r}")
        return SplitResult(person.name, target.name, len(faces), created)


def lost_names(library: Library) -> list[queries.LostNameRow]:
    """The names given by hand that no face of their re-read photo matched, by photo."""
    with library.session() as session:
        return queries.lost_names(session)
