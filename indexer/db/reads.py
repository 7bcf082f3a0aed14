"""Named reads in plain SQL, run through a ``db.reader.Reader``: on SQLite through the standard library's
``sqlite3`` (no SQLAlchemy on the cold path of ``find`` and ``people``), elsewhere through SQLAlchemy's
connection, and inside a write transaction through its session (``Reader.of_session``): the same
statements everywhere, so a fact is read one way.

Parameters are always bound (``:name``); values of enum columns come from ``db.values``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from indexer.db.face_rows import A_FACE, UNNAMED, UNNAMED_IN_CLUSTER, FaceRow, face_rows, stream_face_rows
from indexer.db.reader import Reader, as_json, chunks, in_list
from indexer.db.values import UNDO, LabelSource

__all__ = [
    "people_with_counts", "person_ids_by_name", "PhotoRow", "photo_by_path", "faces_of_photo",
    "failed_photos", "Counts", "counts", "last_run", "last_training", "name_events", "faces_in_clusters",
    "faces_for_export", "faces_with_photos", "people_names", "advisory_lock_held",
    "shot_of_photo", "ShotFile", "indexed_stills", "faces_of_stills", "people_page", "person_summaries", "faces_of_person_page",
    "clusters_page", "faces_of_cluster_page", "faces_by_id", "faces_of_photos", "face_with_photo", "undoable_event", "change_marks",
    "people_names_of", "cluster_sizes", "name_event", "picture_keys",
    "photo_of_face", "photo_shown", "PEOPLE_ORDERS", "hidden_people", "person_settings", "photos_of_both", "unnamed_page", "not_faces", "events_since", "run_roots", "event_count", "newest_event", "still_open",
]

_BY_HAND_FIRST = f"CASE WHEN faces.label_source = '{LabelSource.MANUAL.value}' THEN 0 ELSE 1 END"
_SURE_FIRST = "CASE WHEN faces.cluster_sure IS NULL OR faces.cluster_sure THEN 0 ELSE 1 END"


def people_with_counts(reader: Reader) -> list[tuple[int, str, int, int, int]]:
    """Everyone, by name ignoring case: (id, name, faces, photos, faces named by hand)."""
    return reader.rows(
        "SELECT people.id, people.name, count(faces.id), count(DISTINCT faces.photo_id), "
        "       count(CASE WHEN faces.label_source = :manual THEN 1 END) "
        "FROM people LEFT JOIN faces ON faces.person_id = people.id "
        "GROUP BY people.id, people.name ORDER BY lower(people.name), people.name",
        manual=LabelSource.MANUAL.value,
    )


def person_ids_by_name(reader: Reader) -> dict[str, int]:
    """Name → person id, for everyone."""
    return {name: person_id for person_id, name in reader.rows("SELECT id, name FROM people")}


def people_names(reader: Reader) -> dict[int, str]:
    """Person id → name, for everyone."""
    return {person_id: name for person_id, name in reader.rows("SELECT id, name FROM people")}


def people_names_of(reader: Reader, person_ids: list[int]) -> dict[int, str]:
    """Person id → name, for those of ``person_ids`` who exist."""
    names, params = in_list("p", person_ids)
    return dict(reader.rows(f"SELECT id, name FROM people WHERE id IN ({names})", **params))


@dataclass(frozen=True)
class PhotoRow:
    """A file as the index holds it: its upright size in pixels (None when never decoded), its size in
    bytes, when it was last read (as stored), why it could not be (None: it could), a video's length."""

    id: int
    path: str
    width: int | None
    height: int | None
    size: int
    indexed_at: Any
    error: str | None
    duration: float | None


def photo_by_path(reader: Reader, path: str) -> PhotoRow | None:
    """The photo at ``path``, or None."""
    rows = reader.rows("SELECT id, path, width, height, size, indexed_at, error, duration FROM photos WHERE path = :path",
                       path=path)
    return PhotoRow(*rows[0]) if rows else None


def shot_of_photo(reader: Reader, photo_id: int) -> tuple[int, str, int | None, int | None, list[str]]:
    """The shot of a photo (``indexing.shots``): (the id, path, width and height of the file its faces are
    read from — the photo itself unless it is a companion —, every file of the shot, that one first)."""
    lead = reader.value("SELECT COALESCE(shot_lead_id, id) FROM photos WHERE id = :photo", photo=photo_id)
    lead_id, path, width, height = reader.rows("SELECT id, path, width, height FROM photos WHERE id = :lead", lead=lead)[0]
    others = [row[0] for row in reader.rows("SELECT path FROM photos WHERE shot_lead_id = :lead ORDER BY path", lead=lead)]
    return lead_id, path, width, height, [path, *others]


def faces_of_photo(reader: Reader, photo_id: int) -> list[FaceRow]:
    """The faces of one photo, left to right (a video's: in time, then left to right)."""
    return face_rows(reader, "faces.photo_id = :photo", "coalesce(faces.video_from, 0), faces.box_x, faces.box_y, faces.id",
                     photo=photo_id)


def failed_photos(reader: Reader) -> list[tuple[str, str | None, Any, str | None]]:
    """(path, reason, when last tried, the limit it hit) of every file that could not be indexed or whose
    reading hit a limit (then reason may be None: it was indexed), by path."""
    return reader.rows("SELECT path, error, indexed_at, limit_hit FROM photos WHERE error IS NOT NULL OR limit_hit IS NOT NULL "
                       "ORDER BY path")


@dataclass(frozen=True)
class Counts:
    photos: int  # files indexed successfully
    faces: int
    people: int
    labelled_faces: int  # faces with a person
    errors: int  # files that could not be indexed


def counts(reader: Reader) -> Counts:
    """How much the database holds."""
    photos, errors, faces, labelled, people = reader.rows(
        "SELECT (SELECT count(*) FROM photos WHERE error IS NULL), (SELECT count(*) FROM photos WHERE error IS NOT NULL), "
        "       (SELECT count(*) FROM faces), (SELECT count(*) FROM faces WHERE person_id IS NOT NULL), "
        "       (SELECT count(*) FROM people)"
    )[0]
    return Counts(photos, faces, people, labelled, errors)


def last_run(reader: Reader) -> tuple | None:
    """(started_at, finished_at, status, summary) of the newest index run, or None."""
    rows = reader.rows("SELECT started_at, finished_at, status, summary FROM runs ORDER BY id DESC LIMIT 1")
    return rows[0] if rows else None


def run_roots(reader: Reader) -> set[str]:
    """Every folder an index run was asked to walk (its roots)."""
    found: set[str] = set()
    for (roots,) in reader.rows("SELECT roots FROM runs"):
        found |= set(as_json(roots) or [])
    return found


def not_faces(reader: Reader) -> int:
    """How many faces the user said are no faces at all."""
    return reader.value(f"SELECT count(*) FROM faces WHERE NOT ({A_FACE})")


def events_since(reader: Reader, when: Any) -> int:
    """How many changes of names (undos included) were made after ``when`` (as stored), or ever (None)."""
    if when is None:
        return reader.value("SELECT count(*) FROM name_events")
    return reader.value("SELECT count(*) FROM name_events WHERE created_at > :when", when=when)


def last_training(reader: Reader, model: str) -> tuple | None:
    """(created_at, people) of the newest training of ``model``, or None."""
    rows = reader.rows("SELECT created_at, people FROM classifiers WHERE embedding_model = :model ORDER BY id DESC LIMIT 1",
                       model=model)
    return rows[0] if rows else None


def name_events(reader: Reader, limit: int, offset: int = 0) -> list[tuple]:
    """The newest ``limit`` events of the history after the ``offset`` newest, newest first: (id,
    created_at, action, description, changes, undone_by)."""
    return reader.rows("SELECT id, created_at, action, description, changes, undone_by FROM name_events "
                       "ORDER BY id DESC LIMIT :limit OFFSET :offset", limit=limit, offset=offset)


def name_event(reader: Reader, event_id: int) -> tuple | None:
    """(id, action, description, undone_by) of one event of the history, or None."""
    rows = reader.rows("SELECT id, action, description, undone_by FROM name_events WHERE id = :event", event=event_id)
    return rows[0] if rows else None


def picture_keys(reader: Reader) -> tuple[list[int], list[tuple]]:
    """(every face id, (id, content hash, size, mtime_ns) of every photo read for its faces, with faces or
    none: a search shows both): what the pictures made of the index may show."""
    return ([row[0] for row in reader.rows("SELECT id FROM faces")],
            reader.rows("SELECT id, content_hash, size, mtime_ns FROM photos WHERE shot_lead_id IS NULL"))


def newest_event(reader: Reader) -> int | None:
    """The id of the newest event of the history, or None."""
    return reader.value("SELECT max(id) FROM name_events")


def event_count(reader: Reader) -> int:
    """How many events the history holds."""
    return reader.value("SELECT count(*) FROM name_events")


def still_open(reader: Reader, suggestions: list[tuple[int, str]]) -> list[tuple[int, str, int]]:
    """Of ``suggestions`` (face id, person's name), those still to answer: the face unnamed (not named nor
    cleared, by hand or by recognition) and not rejected for that person, who still exists; with each the
    id of the face's photo."""
    names, ids = in_list("f", [face_id for face_id, _ in suggestions])
    unnamed = dict(reader.rows(f"SELECT id, photo_id FROM faces WHERE id IN ({names}) AND {UNNAMED}", **ids))
    people = {name for (name,) in reader.rows("SELECT name FROM people")}
    rejected = set(reader.rows("SELECT rejections.face_id, people.name FROM rejections JOIN people ON people.id = rejections.person_id "
                               f"WHERE rejections.face_id IN ({names})", **ids))
    return [(face_id, name, unnamed[face_id]) for face_id, name in suggestions
            if face_id in unnamed and name in people and (face_id, name) not in rejected]


def photo_of_face(reader: Reader, face_id: int) -> int | None:
    """The id of the photo face ``face_id`` is on, or None."""
    return reader.value("SELECT photo_id FROM faces WHERE id = :face", face=face_id)


def undoable_event(reader: Reader) -> int | None:
    """The id of the newest event that is neither an undo nor undone (what `indexer undo` reverts), or None."""
    return reader.value("SELECT max(id) FROM name_events WHERE action <> :undo AND undone_by IS NULL", undo=UNDO)


def change_marks(reader: Reader) -> tuple:
    """Marks that move whenever names or faces change (the newest event, run, training and face, and the
    number of faces): what a cache of answers over the whole index compares to know it is still true."""
    return tuple(reader.rows(
        "SELECT (SELECT max(id) FROM name_events), (SELECT max(id) FROM runs), (SELECT max(id) FROM classifiers), "
        "       (SELECT max(id) FROM faces), (SELECT count(*) FROM faces)")[0])


def faces_in_clusters(reader: Reader) -> list[FaceRow]:
    """Every face still unnamed in a cluster, by cluster and face."""
    return face_rows(reader, f"faces.cluster_id IS NOT NULL AND {UNNAMED}", "faces.cluster_id, faces.id")


def faces_for_export(reader: Reader) -> Iterator[FaceRow]:
    """Every face, streamed, by photo and face."""
    yield from stream_face_rows(reader, order="photos.path, faces.id")


def faces_with_photos(reader: Reader) -> list[FaceRow]:
    """Every face with its photo (those said to be no face left out), by face id."""
    return face_rows(reader, A_FACE)


def photo_shown(reader: Reader, photo_id: int) -> tuple | None:
    """(path, width, height, content hash, size, mtime_ns, duration) of a photo read for its faces (not
    the other file of a shot), or None."""
    rows = reader.rows("SELECT path, width, height, content_hash, size, mtime_ns, duration FROM photos "
                       "WHERE id = :photo AND shot_lead_id IS NULL", photo=photo_id)
    return rows[0] if rows else None


def face_with_photo(reader: Reader, face_id: int) -> FaceRow | None:
    """One face with its photo, or None."""
    rows = face_rows(reader, "faces.id = :face", face=face_id)
    return rows[0] if rows else None


def faces_by_id(reader: Reader, face_ids: list[int]) -> list[FaceRow]:
    """The faces of ``face_ids`` that exist, by id."""
    return _face_rows_in(reader, "faces.id", face_ids)


def faces_of_photos(reader: Reader, photo_ids: list[int]) -> list[FaceRow]:
    """The faces of some photos, by id."""
    return _face_rows_in(reader, "faces.photo_id", photo_ids)


def _face_rows_in(reader: Reader, column: str, ids: list[int]) -> list[FaceRow]:
    """The faces whose ``column`` is one of ``ids``, a chunk of ids a query."""
    found: list[FaceRow] = []
    for chunk in chunks(ids):
        names, params = in_list("i", chunk)
        found += face_rows(reader, f"{column} IN ({names})", **params)
    return found


# The orders of a list of people: by name (ignoring case), by faces (most first), by when last seen (the
# newest photo first; never seen last).
PEOPLE_ORDERS = {
    "name": "lower(people.name), people.name",
    "faces": "(SELECT count(*) FROM faces WHERE faces.person_id = people.id) DESC, lower(people.name), people.name",
    "seen": "CASE WHEN last_seen IS NULL THEN 1 ELSE 0 END, last_seen DESC, lower(people.name), people.name",
}
_LAST_SEEN = ("(SELECT max(photos.taken_at) FROM faces JOIN photos ON photos.id = faces.photo_id "
              "WHERE faces.person_id = people.id) AS last_seen")


def people_page(reader: Reader, limit: int, offset: int, order: str = "name", containing: str | None = None,
                hidden: bool = False) -> tuple[int, list[tuple[int, str]]]:
    """(how many people there are, (id, name) of ``limit`` of them after the ``offset`` first) in ``order``
    (a key of PEOPLE_ORDERS), only those whose name holds ``containing`` (ignoring ASCII case), the hidden
    ones only when ``hidden``."""
    where, params = ([] if hidden else ["people.hidden = :hidden"]), ({} if hidden else {"hidden": False})
    if containing:
        where.append("lower(people.name) LIKE :containing ESCAPE '\\'")
        escaped = containing.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["containing"] = f"%{escaped}%"
    condition = " AND ".join(where) or "1 = 1"
    total = reader.value(f"SELECT count(*) FROM people WHERE {condition}", **params)
    seen = f", {_LAST_SEEN}" if order == "seen" else ""
    return total, [(row[0], row[1]) for row in reader.rows(
        f"SELECT people.id, people.name{seen} FROM people WHERE {condition} ORDER BY {PEOPLE_ORDERS[order]} "
        "LIMIT :limit OFFSET :offset", **params, limit=limit, offset=offset)]


def hidden_people(reader: Reader) -> set[int]:
    """The ids of the people kept out of the lists."""
    return {row[0] for row in reader.rows("SELECT id FROM people WHERE hidden = :hidden", hidden=True)}


def person_settings(reader: Reader, person_id: int) -> tuple[bool, int | None] | None:
    """(hidden, the cover face chosen — None: none) of person ``person_id``, or None when there is none."""
    rows = reader.rows("SELECT hidden, cover_face_id FROM people WHERE id = :person", person=person_id)
    return (bool(rows[0][0]), rows[0][1]) if rows else None


def photos_of_both(reader: Reader, first: int, second: int) -> list[tuple[int, str]]:
    """(id, path) of every photo with faces of both people, by path."""
    return reader.rows("SELECT DISTINCT photos.id, photos.path FROM faces a JOIN faces b ON b.photo_id = a.photo_id "
                       "JOIN photos ON photos.id = a.photo_id WHERE a.person_id = :first AND b.person_id = :second "
                       "ORDER BY photos.path", first=first, second=second)


def unnamed_page(reader: Reader, limit: int, offset: int) -> tuple[int, list[FaceRow]]:
    """(how many faces have no name at all, ``limit`` of them after the ``offset`` largest): largest first
    (by their box's area), then by id."""
    total = reader.value(f"SELECT count(*) FROM faces WHERE {UNNAMED}")
    return total, face_rows(reader, UNNAMED, "faces.box_w * faces.box_h DESC, faces.id LIMIT :limit OFFSET :offset",
                            limit=limit, offset=offset)


def person_summaries(reader: Reader, person_ids: list[int]) -> dict[int, tuple[int, int, int, int | None]]:
    """Person id → (faces, photos, faces named by hand, the id of the face that shows them — the one they
    chose, while it is theirs, else their best: named by hand first, then by score — or None), for
    ``person_ids``."""
    found = {}
    for person_id in person_ids:
        faces, photos, by_hand = reader.rows(
            "SELECT count(*), count(DISTINCT photo_id), count(CASE WHEN label_source = :manual THEN 1 END) "
            "FROM faces WHERE person_id = :person", person=person_id, manual=LabelSource.MANUAL.value)[0]
        cover = reader.value("SELECT faces.id FROM people JOIN faces ON faces.id = people.cover_face_id "
                             "AND faces.person_id = people.id WHERE people.id = :person", person=person_id)
        best = cover or reader.value(f"SELECT faces.id FROM faces WHERE person_id = :person ORDER BY {_BY_HAND_FIRST}, "
                                     "coalesce(label_score, 1.0) DESC, faces.id LIMIT 1", person=person_id)
        found[person_id] = (faces, photos, by_hand, best)
    return found


def faces_of_person_page(reader: Reader, person_id: int, limit: int, offset: int) -> list[FaceRow]:
    """``limit`` faces of the person after the ``offset`` newest: by the date their photo was taken, newest
    first (unknown dates last), then by photo and, in a video, by time."""
    return face_rows(reader, "faces.person_id = :person",
                     "CASE WHEN photos.taken_at IS NULL THEN 1 ELSE 0 END, photos.taken_at DESC, photos.path, "
                     "coalesce(faces.video_time, 0), faces.id LIMIT :limit OFFSET :offset",
                     person=person_id, limit=limit, offset=offset)


def clusters_page(reader: Reader, limit: int, offset: int, min_size: int) -> tuple[int, list[tuple]]:
    """(how many clusters hold ``min_size`` unnamed faces or more, ``limit`` of them after the ``offset``
    largest): (cluster id, unnamed faces, photos, faces the grouping is unsure of, the id of its first
    face — the first it is sure of), largest first, then by id."""
    total = reader.value(f"SELECT count(*) FROM (SELECT cluster_id FROM faces WHERE {UNNAMED_IN_CLUSTER} "
                         "GROUP BY cluster_id HAVING count(*) >= :size) AS shown", size=min_size)
    return total, reader.rows(
        "SELECT cluster_id, count(*), count(DISTINCT photo_id), "
        f"       count(CASE WHEN {_SURE_FIRST} = 1 THEN 1 END), "
        f"       coalesce(min(CASE WHEN {_SURE_FIRST} = 0 THEN faces.id END), min(faces.id)) "
        f"FROM faces WHERE {UNNAMED_IN_CLUSTER} GROUP BY cluster_id HAVING count(*) >= :size "
        "ORDER BY count(*) DESC, cluster_id LIMIT :limit OFFSET :offset", size=min_size, limit=limit, offset=offset)


def cluster_sizes(reader: Reader, cluster_ids: list[int]) -> dict[int, int]:
    """Cluster id → how many unnamed faces it holds, for ``cluster_ids``."""
    names, params = in_list("c", cluster_ids)
    return dict(reader.rows(f"SELECT cluster_id, count(*) FROM faces WHERE cluster_id IN ({names}) AND {UNNAMED_IN_CLUSTER} "
                            "GROUP BY cluster_id", **params))


def faces_of_cluster_page(reader: Reader, cluster_id: int, limit: int, offset: int) -> tuple[tuple[int, int, int], list[FaceRow]]:
    """((unnamed faces, photos, faces it is unsure of) of the cluster, ``limit`` of its unnamed faces
    after the ``offset`` first — those the grouping is sure of first, then by id)."""
    sizes = reader.rows(f"SELECT count(*), count(DISTINCT photo_id), count(CASE WHEN {_SURE_FIRST} = 1 THEN 1 END) "
                        f"FROM faces WHERE cluster_id = :cluster AND {UNNAMED}", cluster=cluster_id)[0]
    return tuple(sizes), face_rows(reader, f"faces.cluster_id = :cluster AND {UNNAMED}",
                                   f"{_SURE_FIRST}, faces.id LIMIT :limit OFFSET :offset", cluster=cluster_id, limit=limit,
                                   offset=offset)


@dataclass(frozen=True)
class ShotFile:
    """A still photo read successfully (a video is left out: XMP regions are for still pictures), and the
    file of its shot its faces were read from (itself unless it is a companion): ids and upright sizes."""

    photo_id: int
    path: str
    width: int
    height: int
    lead_id: int
    lead_width: int
    lead_height: int


def indexed_stills(reader: Reader) -> list[ShotFile]:
    """Every still photo read successfully, with the file its faces were read from, by path."""
    return [ShotFile(*row) for row in reader.rows(
        "SELECT photos.id, photos.path, photos.width, photos.height, lead.id, lead.width, lead.height "
        "FROM photos JOIN photos lead ON lead.id = COALESCE(photos.shot_lead_id, photos.id) "
        "WHERE photos.error IS NULL AND photos.width IS NOT NULL AND lead.error IS NULL AND lead.width IS NOT NULL "
        "  AND photos.duration IS NULL AND lead.duration IS NULL ORDER BY photos.path")]


def faces_of_stills(reader: Reader) -> list[FaceRow]:
    """The faces of every still photo read successfully, by photo and face."""
    return face_rows(reader, "photos.error IS NULL AND photos.width IS NOT NULL AND photos.duration IS NULL",
                     "faces.photo_id, faces.id")


def advisory_lock_held(reader: Reader) -> bool:
    """Whether some session holds indexer's writer lock in this PostgreSQL database (``db.lock``)."""
    from indexer.db.lock import ADVISORY_KEYS

    return bool(reader.value("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :a "
                             "AND objid = :b AND granted", a=ADVISORY_KEYS[0], b=ADVISORY_KEYS[1]))
