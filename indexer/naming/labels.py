"""A face's name — who the face is (``person_id``), who said so (``LabelSource``: by hand, or recognition)
and how sure (``label_score``, 0–1) — and the rules that guard it.

This module is the only code outside ``indexer.db`` that changes a face's name. Commands ask it:
- by hand, in one write transaction and one history event (``by_hand``): name, clear, reject, split,
  merge, rename, and the undo of any of them (``naming.undo``, which puts back the rows the history kept);
- automatically: the names recognition gives new faces (``name_new_faces``) and the whole library
  (``automatic_names`` then ``write_automatic``);
- carried over: the names given by hand on the faces of a photo read anew (``carry_over_names``).

The rules, here and nowhere else:
1. A name given by hand wins, and only the user removes it (a label, a clear, a split, a merge, an
   undo). Nothing automatic writes a face named by hand; the statements check that themselves, so a
   ``train`` that computed its names meanwhile cannot undo a label given since.
2. A person is named at most once per photo. A name given by hand takes that person's automatic name off
   the photo's other faces; of two automatic candidates in one photo, the higher score wins.
3. A face the user said is not somebody (a rejection) is never named so automatically.
4. A name given by hand follows its face when the photo is read anew, to the new face at the same place
   that looks like it (``carry_over``); with no such face it is kept as a lost name, never dropped or put
   on somebody else. A lost name goes when the user names a face of that photo after that person.
5. A person is removed only by the user (a merge, or the undo of the event that made them), and their
   automatic names go with them: a face never keeps a source and a score without a person (a face
   cleared by hand has source "manual" and neither person nor score).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session

from indexer.db import queries
from indexer.db.models import Face, NameEvent, Person
from indexer.db.values import FaceOrigin, LabelSource
from indexer.errors import IndexerError
from indexer.ids import is_id
from indexer.geometry import box_overlap, same_place
from indexer.naming.history import Recorder
from indexer.naming.names import clean_name, match_name

if TYPE_CHECKING:
    from indexer.library import Library
    from indexer.naming.recognize import Match, Recognizer

log = logging.getLogger(__name__)

# A name given by hand moves to a face of the re-read photo only when the two embeddings are at most this
# far apart (L2 between unit vectors, 0–2). bench/carry_over.py, facenet128 on the sample library: the
# same face after re-encoding, brightening, downscaling to 60 %, cropping, or with margin 0.2 or a 40 px
# minimum, is at most 0.86 from itself (medians 0.19–0.37); two different people are at least 1.05 apart.
SAME_FACE_DISTANCE = 0.9
# In a video read anew, an appearance is at the same time as a named one when their spans come within
# this many seconds of each other (two samples: the frames looked at may fall differently).
SAME_MOMENT = 2.0


class FaceNotFound(IndexerError):
    """No face has that id."""


class PersonGone(IndexerError):
    """No person has that id (any more)."""


# Whom faces are named after: a person's id, or a name — the person called so (ignoring case and Unicode
# form), made when there is none. (The CLI and the app turn the names of people who must exist into ids at
# their edge: ``answers.people.person_called``.)
Who = int | str


# --- people, by name ---------------------------------------------------------------------------------

def person_called(session: Session, name: str) -> Person | None:
    """The person called ``name``: exactly, else the one whose name matches ignoring case."""
    everyone = queries.everyone(session)
    found = match_name(name, [p.name for p in everyone])
    return next((p for p in everyone if p.name == found), None)


# --- by hand -----------------------------------------------------------------------------------------

class HandNaming:
    """The changes of names of one command, made by hand: each method applies the rules above and
    watches what it changes, so the history event holds every row before and after."""

    def __init__(self, session: Session, action: str):
        self.session = session
        self.action = action
        self.description = action  # one line, as `indexer history` shows it; set by the command
        self.event: NameEvent | None = None
        self._recorder = Recorder(session, action)
        self._finished = False

    def says(self, description: str) -> None:
        """What the command did, in one line, for the history."""
        self.description = description

    def watch_faces(self, face_ids) -> None:
        """Faces this event may change other than through the methods below (undo): recorded before and after."""
        self._recorder.watch_faces(face_ids)

    def face(self, face_id: int) -> Face:
        """The face with id ``face_id``; FaceNotFound when there is none."""
        return self._by_id(queries.face_by_id, face_id, FaceNotFound(
            f"no face with id {face_id} (`indexer who-is PHOTO` shows the faces of a photo with their ids)"))

    def _by_id(self, find, item_id: int, missing: IndexerError):
        """``find(session, item_id)``, or ``missing`` raised when nothing has that id."""
        found = find(self.session, item_id) if is_id(item_id) else None
        if found is None:
            raise missing
        return found

    def person(self, name: str) -> Person:
        """The person called ``name`` (ignoring case and Unicode form), made when there is none."""
        name = clean_name(name)
        person = person_called(self.session, name)
        return person if person is not None else queries.add_person(self.session, name)

    def person_by_id(self, person_id: int) -> Person:
        """The person with id ``person_id``; PersonGone when there is none (merged away, or undone)."""
        return self._by_id(queries.person_by_id, person_id, PersonGone(
            f"no person {person_id}: they were merged or removed (`indexer people` lists everyone)"))

    def who(self, who: Who) -> Person:
        """The person ``who`` means: by id (PersonGone when gone), or by name (made when new)."""
        return self.person_by_id(who) if isinstance(who, int) else self.person(who)

    def known_person(self, name: str) -> Person | None:
        """The person called ``name``, or None."""
        return person_called(self.session, name)

    def name(self, face: Face, person: Person | None) -> None:
        """Name ``face`` by hand: ``person``, or None for "nobody I have named" (cleared: recognition
        does not name it again). Rules 2 and 4: another face of the photo that recognition named this
        person loses that name, and a lost name of that person in the photo is found."""
        self.name_all([face], person)

    def name_all(self, faces: list[Face], person: Person | None) -> None:
        """``name`` for each of ``faces``, in a few statements whatever their number."""
        photo_ids = sorted({face.photo_id for face in faces})
        self._recorder.watch_photos(photo_ids)
        queries.set_labels(self.session, [face.id for face in faces], person.id if person is not None else None,
                           LabelSource.MANUAL, 1.0 if person is not None else None)
        if person is not None:
            queries.drop_automatic_names_given_by_hand_elsewhere(self.session, photo_ids)
            queries.resolve_lost_names(self.session, photo_ids, person.id)
        for face in faces:
            self.session.expire(face)

    def dismiss(self, faces: list[Face]) -> None:
        """``faces`` are no faces at all (``LabelSource.NOT_A_FACE``): no person, out of every list, count and
        cluster; recognition never names them, and a re-read photo keeps the word on the face at the same
        place. IndexerError for a face named by hand (clear or rename it first: a name is not undone here)."""
        named = [face for face in faces if face.person_id is not None and face.label_source == LabelSource.MANUAL]
        if named:
            raise IndexerError(f"face {named[0].id} was named by hand: clear its name first if it is no face")
        self._recorder.watch_faces([face.id for face in faces])
        queries.set_labels(self.session, [face.id for face in faces], None, LabelSource.NOT_A_FACE, None)
        for face in faces:
            self.session.expire(face)

    def add_face(self, photo_id: int, box: tuple[int, int, int, int], embedding: bytes, model: str,
                 person: Person | None = None, at: float | None = None) -> Face:
        """A face drawn by hand on photo ``photo_id`` (``box`` in pixels of the upright photo — of a
        video, of its frame at ``at`` seconds —, its ``embedding`` by ``model``), named ``person`` by hand
        when given. It is part of this event: undo removes it."""
        face = queries.add_drawn_face(self.session, photo_id, box, embedding, model, at)
        self._recorder.watch_new_face(face.id)
        if person is not None:
            self.name(face, person)
        return face

    def reject(self, face: Face, person: Person) -> None:
        """``face`` is not ``person`` (rule 3): recorded, and an automatic name of that person on it taken
        off. IndexerError when the user named it so by hand (that takes a label or a clear)."""
        if face.person_id == person.id and face.label_source == LabelSource.MANUAL:
            raise IndexerError(f"face {face.id} was named {person.name} by hand: `indexer label {face.id}` it otherwise, or --clear")
        self._recorder.watch_faces([face.id])
        queries.add_rejections(self.session, [(face.id, person.id)])
        if face.person_id == person.id:
            queries.set_labels(self.session, [face.id], None, None, None)
            self.session.expire(face)

    def move(self, faces: list[Face], person: Person) -> None:
        """Name ``faces`` ``person``, keeping who named them and how sure (a split of a person)."""
        self._recorder.watch_faces([face.id for face in faces])
        queries.set_person(self.session, [face.id for face in faces], person.id)
        for face in faces:
            self.session.expire(face)

    def merge(self, giving: Person, keeping: Person) -> tuple[int, int]:
        """Every face (and lost name) of ``giving`` becomes ``keeping``'s, keeping its source and score;
        ``giving`` is removed. Returns (faces moved, faces ``keeping`` has now)."""
        self._recorder.watch_person(giving.id)
        return queries.merge_people(self.session, giving, keeping)

    def rename(self, person: Person, new: str) -> str:
        """Rename ``person`` (every face keeps its label); IndexerError when another person has that name."""
        new = clean_name(new)
        other = person_called(self.session, new)
        if other is not None and other.id != person.id:
            raise IndexerError(
                f"{other.name!r} already exists: to make them one person, use `indexer merge {person.name!r} {other.name!r}`")
        person.name = new
        return new

    def finish(self) -> NameEvent | None:
        """Write the history event (once; nothing when nothing changed) and return it."""
        if not self._finished:
            self.event = self._recorder.finish(self.description)
            self._finished = True
        return self.event

    def finish_event(self) -> int | None:
        """``finish``, as the event's id (None: nothing changed): what a command returns, so that whoever
        asked knows which event it made."""
        event = self.finish()
        return event.id if event is not None else None


@contextmanager
def by_hand(library: Library, action: str) -> Iterator[HandNaming]:
    """One command's changes of names by hand: a write transaction (committed when the block ends without
    an error) holding one history event, ``action`` ("label", "merge", …) described by ``says``."""
    with library.transaction() as session:
        naming = HandNaming(session, action)
        yield naming
        naming.finish()


# --- automatically -----------------------------------------------------------------------------------

def refused(session: Session) -> set[tuple[int, int]]:
    """Rule 3: the (face id, person id) pairs the user said do not go together."""
    return queries.rejected_pairs(session)


Span = tuple[float, float] | None  # a video face's appearance (from, to seconds); None: a photo's face


def one_name_per_photo(
    candidates: Iterable[tuple],
    taken: Iterable[tuple] = (),
) -> dict[Hashable, Match | None]:
    """Rule 2 for automatic names. ``candidates``: (face key, photo key, match[, span]); ``taken``:
    (photo key, person id[, span]) already named by hand. A person is named once per photo; in a video,
    once per moment: two appearances of one person may both be named when their spans do not overlap.
    Returns face key → match, None where the name went to a better face or is the user's there."""
    used: dict[tuple[Hashable, int], list[Span]] = {}
    for photo, person, *span in taken:
        used.setdefault((photo, person), []).append(span[0] if span else None)
    result: dict[Hashable, Match | None] = {}
    ranked = sorted(candidates, key=lambda c: -(c[2].score if c[2] is not None else -1.0))
    for face, photo, match, *span in ranked:
        when = span[0] if span else None
        if match is not None:
            spans = used.setdefault((photo, match.person_id), [])
            if any(other is None or when is None or (other[0] <= when[1] and when[0] <= other[1]) for other in spans):
                match = None
            else:
                spans.append(when)
        result[face] = match
    return result


def automatic_names(candidates: Iterable[tuple], taken: Iterable[tuple] = (),
                    rejected: set[tuple[Hashable, int]] = frozenset(),
                    allowed: Callable[[list[int]], set[int]] | None = None) -> dict[Hashable, Match | None]:
    """What recognition's answers (``candidates``: face key, photo key, match or None[, span]) become:
    rule 3 (``rejected``: (face key, person id) pairs the user refused), people that may still be named
    (``allowed``: given person ids, those still there; a person merged away since the rule was loaded is
    not), then rule 2 (``taken``: (photo key, person id[, span]) named by hand)."""
    candidates = [(face, photo, None if match is not None and (face, match.person_id) in rejected else match, *span)
                  for face, photo, match, *span in candidates]
    if allowed is not None:
        keep = allowed(sorted({c[2].person_id for c in candidates if c[2] is not None}))
        candidates = [(face, photo, m if m is not None and m.person_id in keep else None, *span)
                      for face, photo, m, *span in candidates]
    return one_name_per_photo(candidates, taken)


def name_new_faces(session: Session, faces: list[Face], vectors: np.ndarray, recognizer: Recognizer | None,
                   refused: set[tuple[int, int]] = frozenset()) -> int:
    """Name the new faces (flushed, with ``vectors`` in the same order) that are not named by hand with the
    trained rule (None: not trained yet), by rules 2 and 3 (``refused``: (face id, person id) pairs carried
    over from the photo as it was). Returns how many were named."""
    if not faces or recognizer is None:
        return 0
    open_rows = [i for i, face in enumerate(faces) if face.label_source is None]
    if not open_rows:
        return 0
    taken = {(face.photo_id, face.person_id, _span(face)) for face in faces
             if face.label_source == LabelSource.MANUAL and face.person_id}
    matches = recognizer.match(vectors[open_rows])
    decided = automatic_names(((faces[i].id, faces[i].photo_id, match, _span(faces[i]))
                               for i, match in zip(open_rows, matches, strict=True)),
                              taken, refused, allowed=lambda people: queries.existing_people(session, people))
    named = 0
    for i in open_rows:
        match = decided[faces[i].id]
        if match is not None:
            faces[i].person_id, faces[i].label_source, faces[i].label_score = match.person_id, LabelSource.AUTO, match.score
            named += 1
    return named


def _span(face: Face) -> Span:
    return (face.video_from, face.video_to) if face.video_from is not None else None


def write_automatic(library: Library, decided: dict[int, Match | None],
                    current: dict[int, tuple[int | None, float | None]]) -> int:
    """Write the automatic names ``decided`` (face id → match or None) where they differ from ``current``
    (face id → (person id, score)), in one transaction; rules 1, 2 and 5 are checked by the statement
    itself, against what the database holds when it runs. Returns how many faces changed."""
    changes = []
    for face_id, match in decided.items():
        new = (match.person_id, match.score) if match is not None else (None, None)
        if new != current[face_id]:
            changes.append(queries.AutomaticName(face_id, *new))
    with library.transaction() as session:
        queries.set_automatic_names(session, changes)
    return len(changes)


# --- carried over to a photo read anew ----------------------------------------------------------------

def hand_over(session: Session, drawn: Face, detected: Face) -> None:
    """Rule 4 for a face drawn by hand where the detector now finds a face (other settings): the detected
    face becomes it — its name (if it has none of its own by hand), the people it is not — and the drawn
    face goes; never two faces for one. Where it went is recorded for undo."""
    if drawn.label_source is not None and detected.label_source != LabelSource.MANUAL:
        detected.person_id, detected.label_source, detected.label_score = drawn.person_id, drawn.label_source, drawn.label_score
    elif drawn.person_id is not None and drawn.label_source == LabelSource.MANUAL and detected.person_id != drawn.person_id:
        queries.record_lost_names(session, drawn.photo_id, [queries.ManualLabel(
            tuple(drawn.box), drawn.person_id, drawn.label_score, drawn.embedding, drawn.embedding_model,
            queries.person_by_id(session, drawn.person_id).name, drawn.id)],
            "a face was found where it had been drawn by hand, and it was named otherwise by hand")
    session.flush()
    queries.move_rejections(session, drawn.id, detected.id)
    queries.record_successions(session, drawn.photo_id, [(drawn.id, detected.id, None)])
    queries.delete_faces(session, [drawn.id])


def carry_over(labels: list[queries.ManualLabel], boxes: list, vectors: np.ndarray, model_name: str,
               same_content: bool = False, max_distance: float = SAME_FACE_DISTANCE, spans: list | None = None,
               ) -> tuple[dict[int, queries.ManualLabel], list[queries.ManualLabel]]:
    """Rule 4: which new face (index into ``boxes`` / ``vectors``, embedded by ``model_name``) each label
    given by hand goes to: the face at the same place (boxes overlapping by half, or centred on each
    other; in a video, ``spans``: an appearance at the same time, its span within SAME_MOMENT seconds)
    whose embedding is within ``max_distance`` of the labelled one, nearest first. When ``same_content``
    (the photo's bytes are the ones it was named on: only the settings changed) a label goes by place
    alone (in a video, an appearance at the same time whose best frame is at its place), the
    nearest-looking face there first: new settings may embed the same face far from
    before (a face tilted 30° turned upright: 0.9–1.3 from its old crop), and a model's vectors cannot be
    compared with another's at all. Returns (face index → label, labels not placed)."""
    pairs = []
    for i, label in enumerate(labels):
        old = np.frombuffer(label.embedding, dtype="<f4")
        comparable = label.embedding_model == model_name and old.shape[0] == vectors.shape[1]
        if not comparable and not same_content:
            continue
        for j, box in enumerate(boxes):
            at_place = same_place(label.box, box)
            if label.span is not None and spans is not None and spans[j] is not None:
                (start, end), (new_start, new_end) = label.span, spans[j]
                if not (new_start - SAME_MOMENT <= end and start <= new_end + SAME_MOMENT):
                    continue
            elif not at_place:
                continue
            distance = float(np.linalg.norm(old - vectors[j])) if comparable else 1 - box_overlap(label.box, box)
            if distance <= max_distance or (same_content and at_place):
                pairs.append((distance, i, j))
    placed: dict[int, queries.ManualLabel] = {}
    used: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in used and j not in placed:
            placed[j] = labels[i]
            used.add(i)
    return placed, [label for i, label in enumerate(labels) if i not in used]


@dataclass(frozen=True)
class PhotoNames:
    """What the user said about the faces of a photo, read before its faces are replaced: the labels
    given by hand, and the faces they said are not somebody (with the people they are not)."""

    labels: list[queries.ManualLabel]
    rejections: list[tuple[queries.ManualLabel, set[int]]]

    def __bool__(self) -> bool:
        return bool(self.labels or self.rejections)

    def scaled(self, fx: float, fy: float) -> PhotoNames:
        """The same, with the boxes scaled by ``fx`` across and ``fy`` down: the photo is read in another
        size (saved smaller, or another file of its shot took its place)."""
        def moved(label: queries.ManualLabel) -> queries.ManualLabel:
            x, y, w, h = label.box
            return replace(label, box=(round(x * fx), round(y * fy), round(w * fx), round(h * fy)))

        return PhotoNames([moved(label) for label in self.labels], [(moved(label), people) for label, people in self.rejections])


def names_of_photo(session: Session, photo_id: int) -> PhotoNames:
    """The user's names and rejections on the detected faces of ``photo_id`` as they are now (those on
    faces drawn by hand stay with them)."""
    return PhotoNames(queries.manual_labels_of(session, photo_id, FaceOrigin.DETECTED),
                      queries.rejections_of(session, photo_id, FaceOrigin.DETECTED))


@dataclass(frozen=True)
class Carried:
    """What ``carry_over_names`` did: the names that found no face (kept as lost names), and the (new face,
    person id) pairs the user had refused, for naming the new faces."""

    lost: list[queries.ManualLabel]
    refused: set[tuple[int, int]]


def carry_over_names(session: Session, photo_id: int, kept: PhotoNames, rows: list[Face], vectors: np.ndarray,
                     model_name: str, same_content: bool, reason: str) -> Carried:
    """Put ``kept`` (``names_of_photo`` before the old faces went) on the new faces ``rows`` of ``photo_id``
    (embedded as ``vectors``) by rule 4: each name given by hand on the face at the same place that looks
    like it, else kept as a lost name with ``reason``; each rejection on the face a name would go to.
    Where each went is recorded (``queries.record_successions``), so an undo finds it."""
    boxes, spans = [face.box for face in rows], [_span(face) for face in rows]
    placed_rejections, _ = carry_over([label for label, _ in kept.rejections], boxes, vectors, model_name, same_content,
                                      spans=spans)
    people_of = {id(label): people for label, people in kept.rejections}
    placed, lost = carry_over(kept.labels, boxes, vectors, model_name, same_content, spans=spans)
    for j, label in placed.items():
        rows[j].person_id, rows[j].label_source, rows[j].label_score = label.person_id, label.source, label.score
    session.flush()
    lost_named = [label for label in lost if label.person_id is not None]
    lost_ids = queries.record_lost_names(session, photo_id, lost_named, reason)
    refused = {(rows[j].id, person) for j, label in placed_rejections.items() for person in people_of[id(label)]}
    queries.add_rejections(session, refused)
    moves = [(label.face_id, rows[j].id, None) for placed_now in (placed, placed_rejections) for j, label in placed_now.items()]
    moves += [(label.face_id, None, lost_id) for label, lost_id in zip(lost_named, lost_ids, strict=True)]
    queries.record_successions(session, photo_id, [move for move in moves if move[0] is not None])
    return Carried(lost_named, refused)
