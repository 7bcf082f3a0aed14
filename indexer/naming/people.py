"""Naming people by hand, one command each, by ids: label faces (or clear them), confirm or reject a
suggestion, rename, merge, split, name a cluster; and the names lost on re-read photos. The rules and the
history are ``naming.labels``'; each command is one event of the history, and says which (``event``: its
id, None when nothing changed), so nobody has to guess it from the newest id afterwards.

Faces, people and clusters are named by id; whom faces are named after is a ``labels.Who`` (a person's id,
or a name: made when new). The CLI and the app turn the names users type into ids at their edge
(``answers.people.person_called``). Nothing here imports TensorFlow, FAISS or scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.db import queries, reads
from indexer.db.reader import Reader
from indexer.errors import IndexerError
from indexer.ids import is_id
from indexer.library import Library
from indexer.naming.labels import PersonGone, Who, by_hand
from indexer.naming.names import clean_name


@dataclass(frozen=True)
class FaceLabel:
    face_id: int
    photo: str
    box: list[int]
    person: str | None
    previous: str | None
    event: int | None = None  # the history event it made (None: the face was so already)


def label_face(library: Library, face_id: int, who: Who | None, action: str = "label") -> FaceLabel:
    """Name face ``face_id`` by hand after ``who`` (a person's id, or a name: made when new); None clears
    its name and keeps recognition from naming it again."""
    return label_faces(library, [face_id], who, action)[0]


def label_faces(library: Library, face_ids: list[int], who: Who | None, action: str = "label") -> list[FaceLabel]:
    """``label_face`` for several faces at once: one event. FaceNotFound (changing nothing) for an id that
    names no face."""
    with by_hand(library, action) as naming:
        faces = [naming.face(face_id) for face_id in dict.fromkeys(face_ids)]
        names = reads.people_names(Reader.of_session(naming.session))
        previous = [names.get(face.person_id) for face in faces]
        person = naming.who(who) if who is not None else None
        naming.name_all(faces, person)
        after = person.name if person else "nobody (cleared)"
        if len(faces) == 1:
            naming.says(f"face {faces[0].id}: {previous[0] or 'unnamed'} → {after}, in {faces[0].photo.path}")
        else:
            naming.says(f"{len(faces)} faces ({', '.join(str(face.id) for face in faces[:5])}"
                        f"{', …' if len(faces) > 5 else ''}) → {after}")
        event = naming.finish_event()
        return [FaceLabel(face.id, face.photo.path, face.box, person.name if person else None, was, event)
                for face, was in zip(faces, previous, strict=True)]


def name_faces(library: Library, names: dict[int, Who], action: str = "label") -> list[FaceLabel]:
    """Name each face of ``names`` (face id → whom) by hand: several faces, several people, one event (the
    app's "accept the guesses"). FaceNotFound (changing nothing) for an id that names no face."""
    with by_hand(library, action) as naming:
        faces = {face_id: naming.face(face_id) for face_id in names}
        known = reads.people_names(Reader.of_session(naming.session))
        previous = {face_id: known.get(face.person_id) for face_id, face in faces.items()}
        people: dict[int, object] = {}
        for face_id, who in names.items():
            person = naming.who(who)
            people[face_id] = person
        for person_id in dict.fromkeys(person.id for person in people.values()):
            naming.name_all([faces[f] for f, person in people.items() if person.id == person_id],
                            next(person for person in people.values() if person.id == person_id))
        shown = ", ".join(f"face {face_id} → {people[face_id].name}" for face_id in list(names)[:4])
        naming.says(shown + (f", and {len(names) - 4} more" if len(names) > 4 else ""))
        event = naming.finish_event()
        return [FaceLabel(face_id, faces[face_id].photo.path, faces[face_id].box, people[face_id].name, previous[face_id],
                          event) for face_id in names]


@dataclass(frozen=True)
class Renamed:
    before: str
    after: str
    event: int | None


def rename(library: Library, person_id: int, new: str) -> Renamed:
    """Rename person ``person_id``; every face keeps its label. IndexerError when another person has that
    name (merge them instead)."""
    with by_hand(library, "rename") as naming:
        person = naming.person_by_id(person_id)
        before = person.name
        after = naming.rename(person, new)
        naming.says(f"renamed {before!r} to {after!r}")
        return Renamed(before, after, naming.finish_event())


@dataclass(frozen=True)
class MergeResult:
    source: str
    target: str
    faces_moved: int
    target_faces: int
    target_id: int = 0
    event: int | None = None


def merge(library: Library, giving_id: int, keeping_id: int) -> MergeResult:
    """Make people ``giving_id`` and ``keeping_id`` one person, ``keeping_id``: every face of the first keeps
    its label source and score and is named after the second; the first is removed."""
    with by_hand(library, "merge") as naming:
        giving, keeping = naming.person_by_id(giving_id), naming.person_by_id(keeping_id)
        if giving.id == keeping.id:
            raise IndexerError(f"{giving.name!r} and {keeping.name!r} are the same person")
        giving_name = giving.name
        moved, total = naming.merge(giving, keeping)
        naming.says(f"merged {giving_name!r} into {keeping.name!r} ({moved} faces)")
        return MergeResult(giving_name, keeping.name, moved, total, keeping.id, naming.finish_event())


@dataclass(frozen=True)
class SplitResult:
    source: str
    target: str
    faces_moved: int
    created: bool  # the target person is new
    target_id: int = 0
    event: int | None = None


def split(library: Library, person_id: int, face_ids: list[int], into: Who | None = None) -> SplitResult:
    """Undo a wrong merge by hand: faces ``face_ids`` of person ``person_id`` go to ``into`` (a person's id,
    or a name: made when new; default "<name> (split)"), keeping their label source and score. Every face
    must be one of the person's; one event in the history."""
    with by_hand(library, "split") as naming:
        person = naming.person_by_id(person_id)
        wanted = list(dict.fromkeys(face_ids))
        faces = {face_id: queries.face_by_id(naming.session, face_id) if is_id(face_id) else None for face_id in wanted}
        stray = [face_id for face_id, face in faces.items() if face is None or face.person_id != person.id]
        if not face_ids or stray:
            raise IndexerError(f"face {stray[0]} is not one of {person.name}'s faces" if stray else "name the faces to split off with --faces")
        target_name = clean_name(into) if isinstance(into, str) else None if into is not None else f"{person.name} (split)"
        created = target_name is not None and naming.known_person(target_name) is None
        target = naming.who(into if isinstance(into, int) else target_name)
        if target.id == person.id:
            raise IndexerError(f"{target.name!r} is {person.name!r}: split into another person")
        naming.move(list(faces.values()), target)
        naming.says(f"split {len(faces)} face(s) of {person.name!r} into {target.name!r}")
        return SplitResult(person.name, target.name, len(faces), created, target.id, naming.finish_event())


@dataclass(frozen=True)
class ClusterNaming:
    cluster: int
    person: str
    named: int  # faces named
    left_out: int  # faces left out with --except
    unsure: int  # faces the grouping is unsure of, left unnamed (unless ``include_unsure``)
    person_id: int = 0
    event: int | None = None


def name_cluster(library: Library, cluster_id: int, who: Who, leave_out: list[int] = (),
                 include_unsure: bool = False) -> ClusterNaming:
    """Name by hand after ``who`` the unnamed faces of cluster ``cluster_id`` that the grouping is sure of
    (all of them with ``include_unsure``), but ``leave_out``, which are recorded as not that person (as
    ``reject`` records it: never suggested or named so again); one event in the history. IndexerError for
    an unknown cluster or a face not in it."""
    with by_hand(library, "label") as naming:
        faces = queries.unnamed_faces_in_cluster(naming.session, cluster_id) if is_id(cluster_id) else []
        if not faces:
            raise IndexerError(f"cluster {cluster_id} has no unnamed faces"
                               if is_id(cluster_id) and queries.cluster_exists(naming.session, cluster_id)
                               else f"no cluster {cluster_id} (`indexer clusters` lists them)")
        stray = sorted(set(leave_out) - {f.id for f in faces})
        if stray:
            raise IndexerError(f"face {stray[0]} is not an unnamed face of cluster {cluster_id}")
        person = naming.who(who)
        unsure = [] if include_unsure else [f for f in faces if f.cluster_sure is False and f.id not in set(leave_out)]
        named = [f for f in faces if f.id not in set(leave_out) and f not in unsure]
        naming.name_all(named, person)
        for face in faces:
            if face.id in set(leave_out):
                naming.reject(face, person)
        naming.says(f"cluster {cluster_id}: {len(named)} face(s) named {person.name}"
                    + (f", {len(leave_out)} left out (not {person.name})" if leave_out else "")
                    + (f", {len(unsure)} unsure left unnamed" if unsure else ""))
        return ClusterNaming(cluster_id, person.name, len(named), len(leave_out), len(unsure), person.id,
                             naming.finish_event())


@dataclass(frozen=True)
class Rejected:
    face_id: int
    person: str  # the person it is not, as stored
    event: int | None


def confirm(library: Library, face_id: int, who: Who) -> FaceLabel:
    """Yes, face ``face_id`` is ``who`` (a person's id, or a name): named by hand (an event "confirm" in the
    history)."""
    return label_face(library, face_id, who, action="confirm")


def reject(library: Library, face_id: int, person_id: int) -> Rejected:
    """No, face ``face_id`` is not person ``person_id``: the pair is recorded (never suggested again, never
    named so automatically), and an automatic name of that person on the face is taken off. IndexerError
    when the user named the face so by hand (label it instead)."""
    with by_hand(library, "reject") as naming:
        face = naming.face(face_id)
        person = naming.person_by_id(person_id)
        naming.reject(face, person)
        naming.says(f"face {face.id}: not {person.name}")
        return Rejected(face.id, person.name, naming.finish_event())


@dataclass(frozen=True)
class Dismissed:
    face_ids: list[int]
    event: int | None


def not_a_face(library: Library, face_ids: list[int]) -> Dismissed:
    """Faces ``face_ids`` are no faces at all (a poster, a pattern): left out of every list, count and
    cluster from now on, kept so through re-reads; one event (undo gives them back). FaceNotFound for an
    id that names no face; IndexerError for a face named by hand (clear it first)."""
    with by_hand(library, "not a face") as naming:
        faces = [naming.face(face_id) for face_id in dict.fromkeys(face_ids)]
        naming.dismiss(faces)
        shown = ", ".join(str(face.id) for face in faces[:5]) + (", …" if len(faces) > 5 else "")
        naming.says(f"face{'s' if len(faces) > 1 else ''} {shown}: not a face" + (f", in {faces[0].photo.path}" if len(faces) == 1 else ""))
        return Dismissed([face.id for face in faces], naming.finish_event())


def show_person(library: Library, person_id: int, shown: bool) -> None:
    """Keep person ``person_id`` out of the lists of people (``shown`` False: the app's, the gallery's), or
    show them again; ``find`` finds them either way. A choice of display, not a change of names: no event.
    PersonGone when there is no such person."""
    with library.transaction() as session:
        if not queries.show_person(session, person_id, shown):
            raise PersonGone(f"no person {person_id}: they were merged or removed")


def choose_cover(library: Library, person_id: int, face_id: int) -> None:
    """Show person ``person_id`` by face ``face_id`` (one of theirs) on their tile. A choice of display,
    not a change of names: no event. IndexerError when the face is not theirs."""
    with library.transaction() as session:
        if not queries.set_cover(session, person_id, face_id):
            raise IndexerError(f"face {face_id} is not one of person {person_id}'s faces")


def lost_names(library: Library) -> list[queries.LostNameRow]:
    """The names given by hand that no face of their re-read photo matched, by photo."""
    with library.session() as session:
        return queries.lost_names(session)
