"""What the pages of the gallery and the app show — the read model they share: faces (``FaceRow``),
photos, people and clusters, whole or a page at a time, each read in a few statements whatever the size
of the index; and the facts of the history and the review the app's pages check. The app (``indexer.web``)
and the gallery (``outputs.gallery``) read through this module and nothing else of the database's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from indexer.answers.clusters import MIN_CLUSTER_SIZE, Cluster, Faces
from indexer.answers import query as questions
from indexer.db import reads, search
from indexer.db.face_rows import FaceRow
from indexer.db.reader import Reader, snapshot
from indexer.db.values import UNDO
from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer.library import Library

__all__ = ["FaceRow", "Reader", "reading", "Photo", "Person", "Cluster", "PersonSummary", "ClusterSummary",
           "photo_version", "pages", "person", "clusters_page", "cluster", "photo", "face", "everyone",
           "faces_with_photos", "picture_keys", "MIN_CLUSTER_SIZE", "PAGE_SIZE", "change_marks", "still_open",
           "EventShown", "event", "events", "photo_of_face", "ShownWith", "newest_first", "found_page", "SEARCH_PAGE", "SHOWN_WITH",
           "UNNAMED_PAGE", "unnamed_page", "people_list", "hidden_count", "hidden_people", "PersonShown", "person_shown",
           "Since", "since", "person_cover", "Context", "context", "photo_neighbours", "timeline_page", "MergePreview", "merge_preview", "shown_path", "library_roots"]

PAGE_SIZE = 240  # tiles on one page of a person or a cluster, in the gallery as in the app
SEARCH_PAGE = 60  # photos on one page of the app's search
SHOWN_WITH = 12  # the people a person's page names as shown with them (the most photos together first)


@contextmanager
def reading(library: Library) -> Iterator[Reader]:
    """One consistent read of ``library`` (``db.reader.snapshot``): what a page shows is one state of the
    index, however many statements it takes."""
    with snapshot(library.config, library.session) as reader:
        yield reader


def photo_version(content_hash: str | None, size: int | None, mtime_ns: int | None) -> str:
    """What names a photo's content in the names of its pictures (a new one when the photo changes)."""
    return (content_hash or f"{size}-{mtime_ns}")[:16]


@dataclass
class Photo:
    """A photo with faces: upright size in pixels (None when never decoded), and ``version``, which
    changes when its content does (so its preview is made again)."""

    photo_id: int
    path: str
    width: int | None
    height: int | None
    version: str
    faces: list[FaceRow] = field(default_factory=list)
    duration: float | None = None  # a video's length in seconds (its preview is the frame of its first face)

    @classmethod
    def of(cls, face: FaceRow) -> Photo:
        """The photo of ``face``, holding no face yet."""
        return cls(face.photo_id, face.photo, face.width, face.height,
                   photo_version(face.content_hash, face.size, face.mtime_ns), duration=face.duration)

    @property
    def preview_time(self) -> float | None:
        """A video's: the time of the frame its preview shows (its first face's); None for a photo."""
        return None if self.duration is None else min((f.time for f in self.faces if f.time is not None), default=0.0)

    def sort_faces(self) -> None:
        """Its faces in the order pages show them: in time, then left to right."""
        self.faces.sort(key=lambda f: (f.time or 0.0, f.box[0], f.box[1], f.face_id))


@dataclass(frozen=True)
class ShownWith:
    """Somebody shown in photos with a person, and in how many."""

    person_id: int
    name: str
    photos: int


def newest_first(face: FaceRow) -> tuple:
    """The order of a person's faces on their pages (``reads.faces_of_person_page`` reads them so): by when
    their photo was taken, newest first (unknown dates last), then by photo, time in a video, id."""
    return (face.taken is None, datetime.max - face.taken if face.taken else 0, face.photo, face.time or 0.0, face.face_id)


@dataclass
class Person(Faces):
    """Somebody named, with every face of theirs (``newest_first``), their best face the cover (named by
    hand first, then by score), and who is shown with them (most photos together first)."""

    person_id: int = 0
    name: str = ""
    shown_with: list[ShownWith] = field(default_factory=list)

    @property
    def cover_face_id(self) -> int | None:
        best = min(self.faces, key=lambda f: (not f.by_hand, -(f.score or 0.0), f.face_id), default=None)
        return best.face_id if best is not None else None


@dataclass(frozen=True)
class PersonSummary:
    """A person as a tile shows them: counts, and their best face (None: they have none)."""

    person_id: int
    name: str
    face_count: int
    photos: int
    by_hand: int
    cover_face_id: int | None
    shown_with: tuple[ShownWith, ...] = ()


@dataclass(frozen=True)
class ClusterSummary:
    """A cluster of unnamed faces as a tile and its page show it: counts and its first face."""

    cluster_id: int
    face_count: int
    photos: int
    unsure: int  # faces the grouping is unsure of
    cover_face_id: int | None


def pages(total: int, size: int | None = None) -> int:
    """How many pages of ``size`` (default PAGE_SIZE) ``total`` items fill (at least one)."""
    return max(1, -(-total // (size or PAGE_SIZE)))


def person(reader: Reader, person_id: int, page: int) -> tuple[PersonSummary, list[FaceRow]] | None:
    """A person (with the SHOWN_WITH people shown with them most) and the faces of page ``page``, newest
    first (``newest_first``); None when nobody has that id."""
    name = reads.people_names_of(reader, [person_id]).get(person_id)
    if name is None:
        return None
    shown_with = tuple(ShownWith(*row) for row in search.shared_photos(reader, person_id)[:SHOWN_WITH])
    summary = PersonSummary(person_id, name, *reads.person_summaries(reader, [person_id])[person_id], shown_with)
    return summary, reads.faces_of_person_page(reader, person_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)


UNNAMED_PAGE = 120  # faces on one page of the faces nobody named


def unnamed_page(reader: Reader, page: int, size: int = UNNAMED_PAGE) -> tuple[int, list[FaceRow]]:
    """(how many faces have no name at all, those of page ``page`` of ``size``), largest first."""
    return reads.unnamed_page(reader, size, (page - 1) * size)


def people_list(reader: Reader, page: int, size: int | None = None, order: str = "name", containing: str | None = None,
                hidden: bool = False) -> tuple[int, list[PersonSummary]]:
    """(how many people, those of page ``page`` (from 1) of ``size`` (default PAGE_SIZE)) in ``order`` ("name",
    ignoring case; "faces"; or "seen": newest photo first), of those whose name holds ``containing``, the
    hidden ones too when ``hidden``."""
    size = size or PAGE_SIZE
    total, rows = reads.people_page(reader, size, (page - 1) * size, order if order in reads.PEOPLE_ORDERS else "name",
                                    containing, hidden)
    summaries = reads.person_summaries(reader, [person_id for person_id, _ in rows])
    return total, [PersonSummary(person_id, name, *summaries[person_id]) for person_id, name in rows]


@dataclass(frozen=True)
class Since:
    """What the home page says of the index beyond ``answers.status``: the faces said to be no faces (left
    out of its count), and the changes of names made since the last training (all of them: never trained)."""

    not_faces: int
    changes_since_training: int


def since(reader: Reader, trained_at) -> Since:
    return Since(reads.not_faces(reader), reads.events_since(reader, reader.moment(trained_at) if trained_at else None))


def person_cover(reader: Reader, person_id: int) -> int | None:
    """The face that shows person ``person_id`` (the one chosen, else their best), or None."""
    found = reads.person_summaries(reader, [person_id]) if reads.people_names_of(reader, [person_id]) else {}
    return found[person_id][3] if person_id in found else None


def hidden_count(reader: Reader) -> int:
    """How many people are kept out of the lists."""
    return len(reads.hidden_people(reader))


def hidden_people(reader: Reader) -> set[int]:
    return reads.hidden_people(reader)


@dataclass(frozen=True)
class PersonShown:
    """What a person's page shows besides their faces: kept out of the lists or not, the cover chosen."""

    hidden: bool
    cover_face_id: int | None


def person_shown(reader: Reader, person_id: int) -> PersonShown | None:
    found = reads.person_settings(reader, person_id)
    return PersonShown(*found) if found is not None else None


@dataclass(frozen=True)
class Context:
    """The list a photo was opened from (``?in=``, ``key``): ``kind`` "photos" (every photo, newest first;
    ``value`` a folder prefix or ""), "person" (``value`` their id) or "search" (``value`` the search's
    query string), and what to call it."""

    key: str
    kind: str
    value: str
    label: str


def context(reader: Reader, key: str) -> tuple[Context, search.Search] | None:
    """The list ``key`` names and its question (photos newest first, as the lists show them); None for a
    key that names none."""
    kind, _, value = key.partition(":")
    if kind == "photos":
        prefix = value or None
        label = f"photos under {value}" if prefix else "all photos"
        return Context(key, kind, value, label), search.Search(folder=prefix, sort=search.Sort.NEWEST)
    if kind == "person" and value.isascii() and value.isdigit():
        name = reads.people_names_of(reader, [int(value)]).get(int(value))
        if name is None:
            return None
        return Context(key, kind, value, f"{name}'s photos"), search.Search(people=(int(value),), sort=search.Sort.NEWEST)
    if kind == "search":
        try:
            asked, _ = questions.Query.of_query_string(value).in_ids(reader)
        except IndexerError:  # a search that cannot be asked any more (a person renamed): no list
            return None
        return Context(key, kind, value, "the search"), asked
    return None


def photo_neighbours(reader: Reader, key: str, photo_id: int) -> tuple[Context, questions.Neighbours] | None:
    """Photo ``photo_id`` in the list ``key`` names: the list, and the photos before and after it."""
    found = context(reader, key)
    if found is None:
        return None
    place = questions.neighbours(reader, found[1], photo_id)
    return (found[0], place) if place is not None else None


def timeline_page(reader: Reader, page: int, folder: str | None = None, size: int = 60) -> tuple[int, list[questions.Found]]:
    """(how many photos the index holds — under ``folder``, a path prefix, when given —, those of page
    ``page`` of ``size``), newest first: the app's /photos."""
    asked = questions.Query(folder=folder, sort=search.Sort.NEWEST)
    return found_page(reader, asked, page, size)


@dataclass(frozen=True)
class MergePreview:
    """What merging ``giving`` into ``keeping`` would do: their names, the faces that would move, and the
    photos in which both are named (the merged person would be there twice), (id, path) each."""

    giving_id: int
    giving: str
    keeping_id: int
    keeping: str
    faces: int
    twice: list[tuple[int, str]]


def merge_preview(reader: Reader, giving_id: int, keeping_id: int) -> MergePreview | None:
    """``MergePreview``; None when either person is gone."""
    names = reads.people_names_of(reader, [giving_id, keeping_id])
    if giving_id not in names or keeping_id not in names or giving_id == keeping_id:
        return None
    faces = reads.person_summaries(reader, [giving_id])[giving_id][0]
    return MergePreview(giving_id, names[giving_id], keeping_id, names[keeping_id], faces,
                        reads.photos_of_both(reader, giving_id, keeping_id))


def library_roots(reader: Reader, configured) -> list[str]:
    """The folders photos come from: those configured and those runs were asked to walk, the deepest first."""
    return sorted({str(root) for root in configured} | reads.run_roots(reader), key=len, reverse=True)


def shown_path(path: str, roots) -> str:
    """A photo's path as the pages name it: from its library root (``library_roots``; the last part of the
    root kept, so "Pictures/2019/party.jpg"), or whole when it is under none."""
    from pathlib import PurePath

    for root in roots:
        root = PurePath(root)
        if PurePath(path).is_relative_to(root):
            return str(PurePath(root.name) / PurePath(path).relative_to(root))
    return path


def found_page(reader: Reader, question: questions.Query, page: int, size: int = SEARCH_PAGE,
               ) -> tuple[int, list[questions.Found]]:
    """(how many photos answer ``question``, those of page ``page`` of ``size``), in its order: what
    `indexer find` answers, a page at a time."""
    total = questions.count(reader, question)
    return total, questions.find(reader, question, size, (page - 1) * size)


def clusters_page(reader: Reader, page: int, size: int | None = None) -> tuple[int, list[ClusterSummary]]:
    """(how many clusters of MIN_CLUSTER_SIZE unnamed faces or more, those of page ``page`` of ``size``
    (default PAGE_SIZE)), largest first."""
    size = size or PAGE_SIZE
    total, rows = reads.clusters_page(reader, size, (page - 1) * size, MIN_CLUSTER_SIZE)
    return total, [ClusterSummary(*row) for row in rows]


def cluster(reader: Reader, cluster_id: int, page: int) -> tuple[ClusterSummary, list[FaceRow]] | None:
    """A cluster and the unnamed faces of page ``page`` (those it is sure of first); None when it has no
    unnamed face."""
    (faces, photos, unsure), shown = reads.faces_of_cluster_page(reader, cluster_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    if not faces:
        return None
    return ClusterSummary(cluster_id, faces, photos, unsure, shown[0].face_id if shown else None), shown


def photo(reader: Reader, photo_id: int) -> tuple[Photo, dict[int, str], set[int]] | None:
    """A photo with its faces (in the pages' order; a search finds photos with none too), the names of the
    people on it by id, and which of its faces' clusters hold MIN_CLUSTER_SIZE faces or more (shown as
    clusters); None when the index holds no such photo (or it is the other file of a shot)."""
    rows = reads.faces_of_photos(reader, [photo_id])
    if not rows:
        alone = reads.photo_shown(reader, photo_id)
        if alone is None:
            return None
        path, width, height, content_hash, size, mtime_ns, duration = alone
        return Photo(photo_id, path, width, height, photo_version(content_hash, size, mtime_ns), duration=duration), {}, set()
    found = Photo.of(rows[0])
    found.faces = rows
    found.sort_faces()
    names = {face.person_id: face.person for face in rows if face.person_id is not None}
    clusters = sorted({face.shown_cluster for face in rows if face.shown_cluster is not None})
    shown = {cluster_id for cluster_id, size in reads.cluster_sizes(reader, clusters).items() if size >= MIN_CLUSTER_SIZE}
    return found, names, shown


def face(reader: Reader, face_id: int) -> tuple[FaceRow, Photo] | None:
    """One face, with its photo holding it alone; None when there is no such face."""
    row = reads.face_with_photo(reader, face_id)
    if row is None:
        return None
    found = Photo.of(row)
    found.faces = [row]
    return row, found


def everyone(reader: Reader) -> dict[int, str]:
    """Person id → name, for everyone."""
    return reads.people_names(reader)


def faces_with_photos(reader: Reader) -> list[FaceRow]:
    """Every face with its photo and person, by id (the whole library: the gallery)."""
    return reads.faces_with_photos(reader)


def picture_keys(reader: Reader) -> tuple[set[int], set[str]]:
    """What the pictures made of the index may show: every face id, and the preview file name
    ("PHOTO-VERSION.jpg") of every photo with faces."""
    face_ids, photos = reads.picture_keys(reader)
    return set(face_ids), {f"{photo_id}-{photo_version(*version)}.jpg" for photo_id, *version in photos}


# --- the facts the app's pages check --------------------------------------------------------------------

def change_marks(reader: Reader) -> tuple:
    """Marks that move whenever names or faces change (``db.reads.change_marks``): what a cache of answers
    over the whole index (the review queue) compares to know it is still true."""
    return reads.change_marks(reader)


def still_open(reader: Reader, suggestions: list[tuple[int, str]]) -> list[tuple[int, str, int]]:
    """Of ``suggestions`` (face id, person's name), those still to answer, each with its photo's id."""
    return reads.still_open(reader, suggestions)


@dataclass(frozen=True)
class EventShown:
    """A change of the history as a page shows it, with whether it is in force (may be undone)."""

    id: int
    description: str
    in_force: bool


def event(reader: Reader, event_id: int) -> EventShown | None:
    """Event ``event_id`` of the history, or None."""
    found = reads.name_event(reader, event_id)
    if found is None:
        return None
    event_id, action, description, undone_by = found
    return EventShown(event_id, description, undone_by is None and action != UNDO)


def events(reader: Reader, page: int, size: int):
    """(how many events the history holds, those of page ``page`` of ``size``, newest first, as
    ``answers.status.history`` gives them, the newest event in force)."""
    from indexer.answers.status import history

    return reads.event_count(reader), history(reader, size, (page - 1) * size), reads.undoable_event(reader)


def photo_of_face(reader: Reader, face_id: int) -> int | None:
    """The id of the photo face ``face_id`` is on, or None."""
    return reads.photo_of_face(reader, face_id)
