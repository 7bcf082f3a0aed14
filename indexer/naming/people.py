"""Naming people by hand, one command each: label a face (or clear it), rename, merge, split, and the names
lost on re-read photos. The rules and the history are ``naming.labels``'; each command is one event.

Answers come from the database alone: nothing here imports TensorFlow, FAISS or scikit-learn. A
person's name is unique regardless of case ("lloyd" finds "Lloyd").
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.db import queries
from indexer.errors import IndexerError
from indexer.library import Library
from indexer.naming.labels import by_hand
from indexer.naming.names import clean_name


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
    with by_hand(library, action) as naming:
        face = naming.face(face_id)
        previous = queries.person_by_id(naming.session, face.person_id).name if face.person_id is not None else None
        person = naming.person(name) if name is not None else None
        naming.name(face, person)
        naming.says(f"face {face.id}: {previous or 'unnamed'} → {person.name if person else 'nobody (cleared)'}, in {face.photo.path}")
        return FaceLabel(face.id, face.photo.path, face.box, person.name if person else None, previous)


def rename(library: Library, old: str, new: str) -> tuple[str, str]:
    """Rename a person; every face keeps its label. Returns (old name, new name)."""
    with by_hand(library, "rename") as naming:
        person = naming.existing_person(old)
        before = person.name
        after = naming.rename(person, new)
        naming.says(f"renamed {before!r} to {after!r}")
        return before, after


@dataclass(frozen=True)
class MergeResult:
    source: str
    target: str
    faces_moved: int
    target_faces: int


def merge(library: Library, source: str, target: str) -> MergeResult:
    """Make ``source`` and ``target`` one person, called ``target``: every face of ``source`` keeps its
    label source and score and is named ``target``; ``source`` is deleted."""
    with by_hand(library, "merge") as naming:
        giving, keeping = naming.existing_person(source), naming.existing_person(target)
        if giving.id == keeping.id:
            raise IndexerError(f"{giving.name!r} and {keeping.name!r} are the same person")
        giving_name = giving.name
        moved, total = naming.merge(giving, keeping)
        naming.says(f"merged {giving_name!r} into {keeping.name!r} ({moved} faces)")
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
    with by_hand(library, "split") as naming:
        person = naming.existing_person(name)
        wanted = list(dict.fromkeys(face_ids))
        faces = {face_id: queries.face_by_id(naming.session, face_id) if 0 < face_id < 2**63 else None for face_id in wanted}
        stray = [face_id for face_id, face in faces.items() if face is None or face.person_id != person.id]
        if not face_ids or stray:
            raise IndexerError(f"face {stray[0]} is not one of {person.name}'s faces" if stray else "name the faces to split off with --faces")
        target_name = clean_name(into) if into is not None else f"{person.name} (split)"
        created = naming.known_person(target_name) is None
        target = naming.person(target_name)
        if target.id == person.id:
            raise IndexerError(f"{target.name!r} is {person.name!r}: split into another person")
        naming.move(list(faces.values()), target)
        naming.says(f"split {len(faces)} face(s) of {person.name!r} into {target.name!r}")
        return SplitResult(person.name, target.name, len(faces), created)


def lost_names(library: Library) -> list[queries.LostNameRow]:
    """The names given by hand that no face of their re-read photo matched, by photo."""
    with library.session() as session:
        return queries.lost_names(session)
