"""What the pages of ``indexer serve`` show, one page at a time: a few statements per page, whatever the
size of the index (``db.reads``), into the objects the gallery's templates take."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from indexer.db import reads
from indexer.db.reader import Reader
from indexer.outputs.gallery.content import Face, Photo, photo_version

if TYPE_CHECKING:
    from indexer.library import Library
    from indexer.naming.review import Suggestion

log = logging.getLogger(__name__)

PAGE_SIZE = 240  # tiles on one page, as in the gallery (FACES_PER_PAGE)
HOME_TILES = 48  # people and clusters on the home page (all of them on their own pages)


@dataclass(frozen=True)
class PersonSummary:
    """A person as a tile shows them: counts, and their best face (None: they have none)."""

    person_id: int
    name: str
    face_count: int
    photos: int
    by_hand: int
    cover_face_id: int | None


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


def face_and_photo(row: tuple) -> tuple[Face, Photo]:
    """A row of ``reads.faces_with_photos`` as the gallery's Face and a Photo holding it alone."""
    (face_id, photo_id, x, y, w, h, person_id, source, score, cluster_id, sure, origin, time,
     path, width, height, content_hash, size, mtime_ns, duration) = row
    unnamed = person_id is None and source is None
    face = Face(face_id, photo_id, (x, y, w, h), person_id, source, score, cluster_id if unnamed else None,
                sure is None or bool(sure), origin, time)
    return face, Photo(photo_id, path, width, height, photo_version(content_hash, size, mtime_ns), [face], duration)


def people_page(reader: Reader, page: int, size: int | None = None) -> tuple[int, list[PersonSummary]]:
    """(how many people, those of page ``page`` (from 1) of ``size`` (default PAGE_SIZE)), by name ignoring case."""
    size = size or PAGE_SIZE
    total, rows = reads.people_page(reader, size, (page - 1) * size)
    summaries = reads.person_summaries(reader, [person_id for person_id, _ in rows])
    return total, [PersonSummary(person_id, name, *summaries[person_id]) for person_id, name in rows]


def person(reader: Reader, person_id: int, page: int) -> tuple[PersonSummary, list[Face]] | None:
    """A person and the faces of page ``page``, best first; None when nobody has that id."""
    name = reads.people_names_of(reader, [person_id]).get(person_id)
    if name is None:
        return None
    summary = PersonSummary(person_id, name, *reads.person_summaries(reader, [person_id])[person_id])
    rows = reads.faces_of_person_page(reader, person_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return summary, [face_and_photo(row)[0] for row in rows]


def clusters_page(reader: Reader, page: int, size: int | None = None) -> tuple[int, list[ClusterSummary]]:
    """(how many clusters of two unnamed faces or more, those of page ``page`` of ``size`` (default
    PAGE_SIZE)), largest first."""
    size = size or PAGE_SIZE
    total, rows = reads.clusters_page(reader, size, (page - 1) * size)
    return total, [ClusterSummary(*row) for row in rows]


def cluster(reader: Reader, cluster_id: int, page: int) -> tuple[ClusterSummary, list[Face]] | None:
    """A cluster and the unnamed faces of page ``page`` (those it is sure of first); None when it has no
    unnamed face."""
    (faces, photos, unsure), rows = reads.faces_of_cluster_page(reader, cluster_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    if not faces:
        return None
    shown = [face_and_photo(row)[0] for row in rows]
    return ClusterSummary(cluster_id, faces, photos, unsure, shown[0].face_id if shown else None), shown


def photo(reader: Reader, photo_id: int) -> tuple[Photo, dict[int, str], set[int]] | None:
    """A photo with its faces (in the gallery's order), the names of the people on it by id, and which of
    its faces' clusters hold two faces or more (shown as clusters); None when it has no face."""
    rows = reads.faces_of_photos(reader, [photo_id])
    if not rows:
        return None
    found = None
    for row in rows:
        face, alone = face_and_photo(row)
        if found is None:
            found = alone
        else:
            found.faces.append(face)
    found.faces.sort(key=lambda f: (f.time or 0.0, f.box[0], f.box[1], f.face_id))
    names = reads.people_names_of(reader, sorted({f.person_id for f in found.faces if f.person_id is not None}))
    clusters = {f.cluster_id for f in found.faces if f.cluster_id is not None}
    shown = {cluster_id for cluster_id, size in reads.cluster_sizes(reader, sorted(clusters)).items() if size >= 2}
    return found, names, shown


class SuggestionCache:
    """The review queue (``naming.review.suggestions``): it comes from every unnamed face, seconds of work
    at 100 000 faces (bench/serve.py), so it is computed in a background thread and kept while the index
    is as it was (``reads.change_marks``). A page shows the queue as last computed, each suggestion checked
    against the database as it is (``reads.still_open``), while a newer one is computed; an answer given
    here updates the queue in place (``answered``) instead of computing it again."""

    def __init__(self, library: Library):
        self.library = library
        self._lock = threading.Lock()
        self._marks: tuple | None = None
        self._found: list[Suggestion] | None = None
        self._computing = False

    def current(self, marks: tuple) -> list[Suggestion] | None:
        """The queue as last computed (None: not yet); computed again in the background when ``marks``
        (read with the page) differ from those it was computed for."""
        with self._lock:
            if marks != self._marks and not self._computing:
                self._computing = True
                threading.Thread(target=self._compute, args=(marks,), name="review queue", daemon=True).start()
            return self._found

    def up_to_date(self, marks: tuple) -> bool:
        with self._lock:
            return marks == self._marks

    def _compute(self, marks: tuple) -> None:
        from indexer.naming.review import suggestions

        try:
            found = suggestions(self.library, limit=1_000_000_000)
        except Exception:
            log.exception("could not compute the review queue")
            found = None
        with self._lock:
            self._computing = False
            if found is not None:
                self._found, self._marks = found, marks

    def peek(self) -> int | None:
        """How many suggestions wait, as last computed (None: not computed yet)."""
        with self._lock:
            return len(self._found) if self._found is not None else None

    def answered(self, face_id: int, marks_before: tuple, marks_after: tuple) -> None:
        """Face ``face_id`` was answered here, changing the index from ``marks_before`` to ``marks_after``
        (a new event, nothing else): when the queue was true before, it is true after without that face."""
        with self._lock:
            if self._found is not None and self._marks == marks_before and marks_before[1:] == marks_after[1:]:
                self._found = [s for s in self._found if s.face_id != face_id]
                self._marks = marks_after
