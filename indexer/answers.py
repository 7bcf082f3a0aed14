"""Answers from the database alone, for the commands a user runs by hand and waits for: everyone named
(``people``), the photos of one person (``find``), one photo (``show``), the files that failed
(``errors``) and the counts (``status``).

Plain SQL through ``db.reader.Reader``: no model, no FAISS, no scikit-learn and, on SQLite, no SQLAlchemy
is imported, so a cold ``find`` takes a fraction of a second.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from indexer.db.reader import Reader, as_datetime, as_json
from indexer.errors import IndexerError
from indexer.scanner import absolute

if TYPE_CHECKING:
    from indexer.config import Config


class PersonNotFound(IndexerError):
    """No person has that name; the message suggests the closest names."""


def match_name(name: str, names: list[str]) -> str | None:
    """Which of ``names`` ``name`` means: the same after Unicode normalisation and trimming, else the
    only one equal ignoring case; None when none is."""
    name = unicodedata.normalize("NFC", name).strip()
    if name in names:
        return name
    folded = [n for n in names if n.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def person_not_found(name: str, names: list[str]) -> PersonNotFound:
    """The error for a name nobody has, naming up to three close ones."""
    by_fold = {n.casefold(): n for n in names}
    close = [by_fold[n] for n in difflib.get_close_matches(name.casefold(), list(by_fold), n=3, cutoff=0.5)]
    if close:
        hint = "closest: " + ", ".join(close)
    elif names:
        hint = "`indexer people` lists everyone"
    else:
        hint = "nobody is named yet: use `indexer enroll` or `indexer label`"
    return PersonNotFound(f"no person named {name!r} ({hint})")


@dataclass(frozen=True)
class PersonCounts:
    id: int
    name: str
    faces: int
    photos: int
    manual_faces: int  # named by hand (the references recognition learns from)


def people(reader: Reader) -> list[PersonCounts]:
    """Everyone, by name (ignoring case), with how many faces and photos show them."""
    rows = reader.rows(
        "SELECT people.id, people.name, count(faces.id), count(DISTINCT faces.photo_id), "
        "       count(CASE WHEN faces.label_source = 'manual' THEN 1 END) "
        "FROM people LEFT JOIN faces ON faces.person_id = people.id "
        "GROUP BY people.id, people.name ORDER BY lower(people.name), people.name"
    )
    return [PersonCounts(*row) for row in rows]


@dataclass(frozen=True)
class FaceOfPerson:
    face_id: int
    photo_path: str
    box: list[int]  # [x, y, w, h] in pixels of the upright photo
    score: float  # 0–1; names given by hand score 1
    source: str  # "manual" or "auto"


@dataclass(frozen=True)
class PhotoOfPerson:
    """A photo showing the person: its path and their faces in it, best score first."""

    path: str
    faces: list[FaceOfPerson]

    @property
    def score(self) -> float:
        return self.faces[0].score


def photos_of(reader: Reader, name: str, min_score: float = 0.0) -> tuple[str, list[PhotoOfPerson]]:
    """The photos that show the person called ``name`` (see ``match_name``), best first (by their best
    face's score; manual names score 1.0). Returns (the person's name as stored, photos)."""
    everyone = dict((row[1], row[0]) for row in reader.rows("SELECT id, name FROM people"))
    found = match_name(name, list(everyone))
    if found is None:
        raise person_not_found(name, list(everyone))
    rows = reader.rows(
        "SELECT faces.id, photos.path, faces.box_x, faces.box_y, faces.box_w, faces.box_h, "
        "       coalesce(faces.label_score, 1.0) AS score, faces.label_source "
        "FROM faces JOIN photos ON photos.id = faces.photo_id "
        "WHERE faces.person_id = :person AND coalesce(faces.label_score, 1.0) >= :min_score "
        "ORDER BY score DESC, photos.path, faces.id",
        person=everyone[found], min_score=min_score,
    )
    grouped: dict[str, list[FaceOfPerson]] = {}
    for face_id, path, x, y, w, h, score, source in rows:
        grouped.setdefault(path, []).append(FaceOfPerson(face_id, path, [x, y, w, h], float(score), source))
    photos = [PhotoOfPerson(path, faces) for path, faces in grouped.items()]
    photos.sort(key=lambda p: (-p.score, p.path))
    return found, photos


@dataclass(frozen=True)
class StoredFace:
    """A face as stored: ``box`` [x, y, w, h] in pixels of the upright photo, detector confidence 0–1,
    the person's name (None: unnamed), the score 0–1 of that name, and who gave it (a LabelSource, or
    None). A face whose name was cleared by hand has no person and source "manual"."""

    face_id: int
    box: list[int]
    detection: float
    person: str | None
    score: float | None
    source: str | None


@dataclass(frozen=True)
class PhotoRecord:
    """One photo: size in pixels (upright) and bytes, when it was last read, why it could not be read
    (None: it could), and its faces left to right."""

    photo: str
    width: int | None
    height: int | None
    size: int
    indexed_at: datetime
    error: str | None
    faces: list[StoredFace]

    def as_dict(self) -> dict:
        return asdict(self)


def photo_record(reader: Reader, photo: str) -> PhotoRecord:
    """What the index holds of ``photo`` (a path as the user typed it); IndexerError when it holds nothing."""
    rows = reader.rows("SELECT id, path, width, height, size, indexed_at, error FROM photos WHERE path = :path",
                       path=absolute(photo))
    if not rows:
        raise IndexerError(f"not in the index: {photo} (`indexer index` its folder, or ask `indexer who-is`)")
    photo_id, path, width, height, size, indexed_at, error = rows[0]
    faces = [
        StoredFace(face_id, [x, y, w, h], round(detection, 4), name, score if name else None, source)
        for face_id, x, y, w, h, detection, name, score, source in reader.rows(
            "SELECT faces.id, box_x, box_y, box_w, box_h, detection, people.name, label_score, label_source "
            "FROM faces LEFT JOIN people ON people.id = faces.person_id "
            "WHERE faces.photo_id = :photo ORDER BY box_x, box_y, faces.id",
            photo=photo_id,
        )
    ]
    return PhotoRecord(path, width, height, size, as_datetime(indexed_at), error, faces)


@dataclass(frozen=True)
class FailedFile:
    path: str
    reason: str
    tried_at: datetime  # when it was last tried (UTC)


def failed_files(reader: Reader) -> list[FailedFile]:
    """The files that could not be indexed, by path."""
    rows = reader.rows("SELECT path, error, indexed_at FROM photos WHERE error IS NOT NULL ORDER BY path")
    return [FailedFile(path, reason, as_datetime(tried_at)) for path, reason, tried_at in rows]


@dataclass(frozen=True)
class LastRun:
    started_at: datetime
    finished_at: datetime | None
    status: str
    summary: dict[str, Any] | None


@dataclass(frozen=True)
class LibraryStatus:
    """Counts, as ``indexer status`` shows them. ``vectors`` is what the FAISS file of the model holds,
    so a mismatch with ``faces`` shows."""

    photos: int  # files indexed successfully
    faces: int
    people: int
    labelled_faces: int
    vectors: int
    errors: int  # files that could not be indexed
    last_run: LastRun | None
    trained_at: datetime | None  # when `indexer train` last ran for the model
    trained_people: int  # how many people it learnt


def status(reader: Reader, config: Config) -> LibraryStatus:
    """What the index holds for the configured embedding model; the vectors are counted from the header
    of its vector file (no FAISS)."""
    from indexer.vector_file import stored_vectors
    from indexer.weights import get_model

    spec = get_model(config.embedding.model)
    model = spec.name
    vectors = stored_vectors(config.storage.vectors_file(model), spec.dimensions) or 0
    photos, errors, faces, labelled, people_count = reader.rows(
        "SELECT (SELECT count(*) FROM photos WHERE error IS NULL), (SELECT count(*) FROM photos WHERE error IS NOT NULL), "
        "       (SELECT count(*) FROM faces), (SELECT count(*) FROM faces WHERE person_id IS NOT NULL), "
        "       (SELECT count(*) FROM people)"
    )[0]
    run = reader.rows("SELECT started_at, finished_at, status, summary FROM runs ORDER BY id DESC LIMIT 1")
    last_run = None
    if run:
        started, finished, state, summary = run[0]
        last_run = LastRun(as_datetime(started), as_datetime(finished), state, as_json(summary))
    trained = reader.rows(
        "SELECT created_at, people FROM classifiers WHERE embedding_model = :model ORDER BY id DESC LIMIT 1", model=model
    )
    trained_at, trained_people = (as_datetime(trained[0][0]), len(as_json(trained[0][1]))) if trained else (None, 0)
    return LibraryStatus(photos, faces, people_count, labelled, vectors, errors, last_run, trained_at, trained_people)


@dataclass(frozen=True)
class HistoryEvent:
    """One change of names made by hand (``indexer.history``): when (UTC), what, how many faces' names
    it changed, and the undo that reverted it (None: in force)."""

    id: int
    at: datetime
    action: str
    description: str
    faces: int
    undone_by: int | None


def history(reader: Reader, limit: int) -> list[HistoryEvent]:
    """The newest ``limit`` events, newest first."""
    rows = reader.rows("SELECT id, created_at, action, description, changes, undone_by FROM name_events "
                       "ORDER BY id DESC LIMIT :limit", limit=limit)
    return [HistoryEvent(event_id, as_datetime(at), action, description, len(as_json(changes).get("faces", {})), undone_by)
            for event_id, at, action, description, changes, undone_by in rows]


@dataclass(frozen=True)
class ClusterFace:
    face_id: int
    photo: str
    box: list[int]  # [x, y, w, h] in pixels of the upright photo


@dataclass(frozen=True)
class ClusterOfFaces:
    """A group of unnamed faces that are probably one person (``indexer.clusters``), faces by id."""

    cluster: int
    faces: list[ClusterFace]

    @property
    def photos(self) -> int:
        return len({face.photo for face in self.faces})


def clusters(reader: Reader, min_size: int = 2) -> list[ClusterOfFaces]:
    """The clusters with at least ``min_size`` faces still unnamed, largest first (then by id)."""
    rows = reader.rows(
        "SELECT faces.cluster_id, faces.id, photos.path, faces.box_x, faces.box_y, faces.box_w, faces.box_h "
        "FROM faces JOIN photos ON photos.id = faces.photo_id "
        "WHERE faces.cluster_id IS NOT NULL AND faces.person_id IS NULL AND faces.label_source IS NULL "
        "ORDER BY faces.cluster_id, faces.id"
    )
    grouped: dict[int, list[ClusterFace]] = {}
    for cluster_id, face_id, path, x, y, w, h in rows:
        grouped.setdefault(cluster_id, []).append(ClusterFace(face_id, path, [x, y, w, h]))
    found = [ClusterOfFaces(cluster_id, faces) for cluster_id, faces in grouped.items() if len(faces) >= min_size]
    return sorted(found, key=lambda c: (-len(c.faces), c.cluster))

