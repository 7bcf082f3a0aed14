"""The photos that answer a question (``answers.query``), in SQL on indexed columns: which people (all, any,
only them), who not, how many faces, when taken, under which folder, in which order; a page of them at a
time. The question arrives in ids (``Search``); what the photos are comes back as ``FoundRow``.

A photo here is what the index shows: a file read for its faces (a shot's other files are not photos of
their own), read well at least once (a file never read holds no answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from indexer.db.face_rows import A_FACE, FaceRow, face_rows
from indexer.db.reader import Reader, chunks, in_list

__all__ = ["Match", "Sort", "Search", "photo_ids", "photo_count", "FoundRow", "found_rows", "companions_of",
           "people_shown", "faces_of_people", "shared_photos", "years_seen"]


class Match(StrEnum):
    """How the people asked are matched: a photo showing ALL of them, ANY of them, or ONLY them (all of
    them, and no other face at all: an unnamed stranger is another face)."""

    ALL = "all"
    ANY = "any"
    ONLY = "only"


class Sort(StrEnum):
    """The order of the photos found: OLDEST taken first (unknown dates last), NEWEST first (unknown last),
    BEST: by the best score of a face of the people asked (names given by hand score 1), then oldest."""

    OLDEST = "oldest"
    NEWEST = "newest"
    BEST = "best"


@dataclass(frozen=True)
class Search:
    """A question in ids. ``people``: person ids matched by ``match``, a face of theirs counting when its
    score is ``min_score`` or more; ``without``: person ids no photo may show (at any score); ``faces``:
    (least, most) faces a photo has, ``most`` None for no bound; ``start``/``end``: taken at or after,
    before (local times as written, naive); ``folder``: a path prefix ending in the separator."""

    people: tuple[int, ...] = ()
    match: Match = Match.ALL
    without: tuple[int, ...] = ()
    min_score: float = 0.0
    faces: tuple[int, int | None] | None = None
    start: datetime | None = None
    end: datetime | None = None
    folder: str | None = None
    sort: Sort = Sort.OLDEST


_SCORE = "coalesce(f.label_score, 1.0)"
_A_FACE = A_FACE.replace("faces.", "f.")  # not said to be no face at all
# Not the other file of a shot, and read well once. ("+": never the way in — nearly every photo is no
# companion, and SQLite would otherwise read all of them through ix_photos_shot_lead_id.)
_SHOWN = "+photos.shot_lead_id IS NULL AND (photos.error IS NULL OR photos.width IS NOT NULL)"


def _where(reader: Reader, search: Search) -> tuple[str, dict[str, Any]]:
    """The WHERE of ``search`` and its parameters."""
    where, params = [_SHOWN], {"min_score": search.min_score}
    if search.match is Match.ANY and search.people:
        names, ids = in_list("p", list(search.people))
        params |= ids
        where.append(f"photos.id IN (SELECT f.photo_id FROM faces f WHERE f.person_id IN ({names}) AND {_SCORE} >= :min_score)")
    else:
        for i, person in enumerate(search.people):
            params[f"p{i}"] = person
            where.append(f"photos.id IN (SELECT f.photo_id FROM faces f WHERE f.person_id = :p{i} AND {_SCORE} >= :min_score)")
    if search.match is Match.ONLY:
        names, ids = in_list("o", list(search.people))
        params |= ids
        where.append(f"NOT EXISTS (SELECT 1 FROM faces f WHERE f.photo_id = photos.id AND {_A_FACE} "
                     f"AND (f.person_id IS NULL OR f.person_id NOT IN ({names})))")
    if search.without:
        names, ids = in_list("n", list(search.without))
        params |= ids
        where.append(f"photos.id NOT IN (SELECT f.photo_id FROM faces f WHERE f.person_id IN ({names}))")
    if search.faces is not None:
        least, most = search.faces
        count = f"(SELECT count(*) FROM faces f WHERE f.photo_id = photos.id AND {_A_FACE})"
        params["least"] = least
        where.append(f"{count} >= :least" if most is None else f"{count} BETWEEN :least AND :most")
        if most is not None:
            params["most"] = most
    if search.start is not None:
        params["start"] = reader.moment(search.start)
        where.append("photos.taken_at >= :start")
    if search.end is not None:
        params["end"] = reader.moment(search.end)
        where.append("photos.taken_at < :end")
    if search.folder is not None:
        params |= {"folder": search.folder, "folder_length": len(search.folder)}
        where.append("substr(photos.path, 1, :folder_length) = :folder")
    return " AND ".join(where), params


def _order(search: Search) -> str:
    unknown_last = "CASE WHEN photos.taken_at IS NULL THEN 1 ELSE 0 END"
    if search.sort is Sort.NEWEST:
        return f"{unknown_last}, photos.taken_at DESC, photos.path"
    oldest = f"{unknown_last}, photos.taken_at, photos.path"
    if search.sort is Sort.BEST and search.people:
        names, _ = in_list("p", list(search.people))
        best = f"(SELECT max({_SCORE}) FROM faces f WHERE f.photo_id = photos.id AND f.person_id IN ({names}))"
        return f"{best} DESC, {oldest}"
    return oldest


def photo_ids(reader: Reader, search: Search, limit: int | None = None, offset: int = 0) -> list[int]:
    """The ids of the photos answering ``search``, in its order; ``limit`` of them after the ``offset``
    first (None: all)."""
    where, params = _where(reader, search)  # binds the people as :p0, :p1 … which the BEST order uses too
    page = "" if limit is None else " LIMIT :limit OFFSET :offset"
    return [row[0] for row in reader.rows(f"SELECT photos.id FROM photos WHERE {where} ORDER BY {_order(search)}{page}",
                                          **params, limit=limit, offset=offset)]


def photo_count(reader: Reader, search: Search) -> int:
    """How many photos answer ``search``."""
    where, params = _where(reader, search)
    return reader.value(f"SELECT count(*) FROM photos WHERE {where}", **params)


@dataclass(frozen=True, slots=True)
class FoundRow:
    """A photo found: its path, when taken (the local time as written, as stored; its offset from UTC in
    minutes where known; a TakenFrom, None when not read yet), a video's length in seconds (None: a photo),
    its size in pixels (upright; None when never decoded)."""

    photo_id: int
    path: str
    taken_at: Any
    taken_offset: int | None
    taken_from: str | None
    duration: float | None
    width: int | None
    height: int | None


def found_rows(reader: Reader, ids: list[int]) -> dict[int, FoundRow]:
    """The photos of ``ids``, by id."""
    found: dict[int, FoundRow] = {}
    for chunk in chunks(ids):
        names, params = in_list("i", chunk)
        found |= {row[0]: FoundRow(*row) for row in reader.rows(
            "SELECT id, path, taken_at, taken_offset, taken_from, duration, width, height "
            f"FROM photos WHERE id IN ({names})", **params)}
    return found


def companions_of(reader: Reader, ids: list[int]) -> dict[int, list[str]]:
    """The other files of the shots of ``ids`` (a RAW beside the JPEG its faces were read from), by the id
    of the file read, by path."""
    found: dict[int, list[str]] = {}
    for chunk in chunks(ids):
        names, params = in_list("i", chunk)
        for lead, path in reader.rows(f"SELECT shot_lead_id, path FROM photos WHERE shot_lead_id IN ({names}) ORDER BY path",
                                      **params):
            found.setdefault(lead, []).append(path)
    return found


def people_shown(reader: Reader, ids: list[int]) -> dict[int, tuple[int, list[str]]]:
    """Photo id → (how many faces it has, the names of the people they show, each once), for ``ids``
    (a photo with no face is left out; a face said to be none is none)."""
    shown: dict[int, tuple[int, list[str]]] = {}
    for chunk in chunks(ids):
        names, params = in_list("i", chunk)
        for photo_id, faces, name in reader.rows(
                "SELECT faces.photo_id, count(*), people.name FROM faces LEFT JOIN people ON people.id = faces.person_id "
                f"WHERE faces.photo_id IN ({names}) AND {A_FACE} GROUP BY faces.photo_id, people.name", **params):
            count, found = shown.get(photo_id, (0, []))
            shown[photo_id] = (count + faces, found + [name] if name is not None else found)
    return shown


def faces_of_people(reader: Reader, ids: list[int], people: tuple[int, ...], min_score: float) -> list[FaceRow]:
    """The faces of ``people`` (person ids) scoring ``min_score`` or more in the photos of ``ids``."""
    found: list[FaceRow] = []
    who, asked = in_list("w", list(people))
    for chunk in chunks(ids):
        names, params = in_list("i", chunk)
        # "+person_id": found through the photos (ix_faces_photo_person), a few faces each, never through the
        # person's thousands of faces once per chunk (16× slower at a million faces: bench/queries.py).
        found += face_rows(reader, f"faces.photo_id IN ({names}) AND +faces.person_id IN ({who}) "
                           "AND coalesce(faces.label_score, 1.0) >= :min_score", **params, **asked, min_score=min_score)
    return found


def shared_photos(reader: Reader, person_id: int, min_score: float = 0.0) -> list[tuple[int, str, int]]:
    """The people shown in photos with ``person_id`` (a face of each scoring ``min_score`` or more): (id,
    name, how many photos they share), most shared first, then by name."""
    return reader.rows(
        "SELECT people.id, people.name, count(DISTINCT other.photo_id) AS shared "
        "FROM faces mine JOIN faces other ON other.photo_id = mine.photo_id AND other.person_id <> mine.person_id "
        "JOIN people ON people.id = other.person_id "
        "WHERE mine.person_id = :person AND coalesce(mine.label_score, 1.0) >= :min_score "
        "AND coalesce(other.label_score, 1.0) >= :min_score "
        "GROUP BY people.id, people.name ORDER BY shared DESC, lower(people.name), people.name",
        person=person_id, min_score=min_score)


def years_seen(reader: Reader) -> dict[int, tuple[int | None, int | None]]:
    """Person id → the years their photos were first and last taken (None: no date known)."""
    rows = reader.rows("SELECT faces.person_id, min(photos.taken_at), max(photos.taken_at) "
                       "FROM faces JOIN photos ON photos.id = faces.photo_id "
                       "WHERE faces.person_id IS NOT NULL GROUP BY faces.person_id")
    return {person: (_year(first), _year(last)) for person, first, last in rows}


def _year(value: Any) -> int | None:
    if value is None:
        return None
    return value.year if isinstance(value, datetime) else int(str(value)[:4])
