"""The one question about photos the index answers (``Query``), as `indexer find`, the app's search page and
the gallery ask it: which people (all of them, any, only them; not these), how many faces, taken when,
under which folder, in which order. ``Query.of`` reads it as the user typed it, with a one-line error for
what cannot be asked; ``find`` answers it a page at a time, in SQL on indexed columns (``db.search``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from indexer.answers.people import person_called
from indexer.db import reads, search
from indexer.db.reader import Reader, as_datetime
from indexer.db.search import Match, Sort
from indexer.errors import IndexerError
from indexer.files import folder_prefix
from indexer.ids import plain_digits

__all__ = ["Match", "Sort", "QueryError", "Query", "period", "FoundFace", "Found", "find", "count", "taken_text",
           "folder_known", "Neighbours", "neighbours"]


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


class QueryError(IndexerError):
    """A question that cannot be asked: a date that is none, a period that ends before it starts, …"""


def period(text: str, option: str = "date") -> tuple[datetime, datetime]:
    """The period a date typed names, as (its first moment, the first moment after it): ``YYYY`` a year,
    ``YYYY-MM`` a month, ``YYYY-MM-DD`` a day. QueryError naming ``option`` for anything else."""
    found = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text.strip()) if text.isascii() else None
    if found is None:
        raise QueryError(f"{option} {text!r} is no date: give YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(part) if part else None for part in found.groups())
    try:
        if month is None:
            return datetime(year, 1, 1), datetime(year + 1, 1, 1)
        if day is None:
            start = datetime(year, month, 1)
            return start, datetime(year + month // 12, month % 12 + 1, 1)
        start = datetime(year, month, day)
        return start, start + timedelta(days=1)
    except (ValueError, OverflowError):
        raise QueryError(f"{option} {text!r} is no date: {_no_date_because(year, month, day)}") from None


def _no_date_because(year: int, month: int | None, day: int | None) -> str:
    if year < 1 or year >= 9999:
        return f"no year {year} is kept"
    if month is not None and not 1 <= month <= 12:
        return f"there is no month {month}"
    return f"{_MONTHS[month - 1]} {year} has no day {day}"


def _face_count(text: str) -> tuple[int, int | None]:
    """``N`` (exactly N faces), ``N-M`` or ``N-`` (a range) as (least, most or None)."""
    least, dash, most = text.strip().partition("-")
    low, high = plain_digits(least), plain_digits(most) if most else None
    if low is None or (most and high is None) or low > 10**6 or (high is not None and high > 10**6):
        raise QueryError(f"--faces {text!r} is no number of faces: give N, N-M or N- (like 2, 1-3 or 3-)")
    if not dash:
        return low, low
    if high is not None and high < low:
        raise QueryError(f"--faces {text!r}: {high} is fewer than {low}")
    return low, high


@dataclass(frozen=True)
class Query:
    """A question about photos, as typed (names are matched as `find` matches one, case aside): showing
    ``people`` by ``match``, none of ``without``, with ``faces`` (least, most or None) faces, taken from
    ``start`` (inclusive) to ``end`` (exclusive; local times as the cameras wrote them), under ``folder``
    (a path prefix ending in the separator), in ``sort`` order; a face of theirs counts when it scores
    ``min_score`` or more (0–1; names given by hand score 1)."""

    people: tuple[str, ...] = ()
    match: Match = Match.ALL
    without: tuple[str, ...] = ()
    faces: tuple[int, int | None] | None = None
    start: datetime | None = None
    end: datetime | None = None
    folder: str | None = None
    sort: Sort = Sort.OLDEST
    min_score: float = 0.0
    # As typed, for links and messages: the period's ends, the folder.
    typed: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, people: list[str] | tuple[str, ...] = (), match: str = "all", without: list[str] | tuple[str, ...] = (),
           faces: str | None = None, taken_from: str | None = None, taken_to: str | None = None,
           year: str | None = None, folder: str | None = None, sort: str = "oldest", min_score: float = 0.0) -> Query:
        """The question as typed (each part a string as the CLI or a URL gives it: "" counts as not
        given); QueryError, one line, when it cannot be asked."""
        people = tuple(dict.fromkeys(name for name in people if name.strip()))
        without = tuple(dict.fromkeys(name for name in without if name.strip()))
        if match not in set(Match):
            raise QueryError(f"match {match!r} is none of {', '.join(Match)}")
        if sort not in set(Sort):
            raise QueryError(f"--sort {sort!r} is none of {', '.join(Sort)}")
        if match == Match.ONLY and not people:
            raise QueryError("--only needs the names of the people to show")
        if year and (taken_from or taken_to):
            raise QueryError("--year is a period of its own: give it, or --from and --to, not both")
        start = end = None
        if year:
            start, end = period(year, "--year")
        if taken_from:
            start = period(taken_from, "--from")[0]
        if taken_to:
            end = period(taken_to, "--to")[1]
        if start is not None and end is not None and start >= end:
            raise QueryError(f"--from {taken_from} is after --to {taken_to}")
        prefix = None
        if folder:
            prefix = folder_prefix(Path(folder).expanduser().resolve())  # as the scan stores its roots
        typed = {key: value for key, value in (("from", taken_from), ("to", taken_to), ("year", year), ("in", folder),
                                               ("faces", faces)) if value}
        return cls(people, Match(match), without, _face_count(faces) if faces else None, start, end, prefix,
                   Sort(sort), min_score, typed)

    @classmethod
    def of_params(cls, params) -> Query:
        """The question of a page's address (``params``: a mapping with ``getlist``, as Starlette's query
        parameters): ``person`` (repeatable), ``match``, ``not`` (repeatable), ``from``, ``to``, ``year``,
        ``faces``, ``in``, ``sort`` — `indexer find`'s options by their names."""
        return cls.of(params.getlist("person"), params.get("match") or "all", params.getlist("not"), params.get("faces"),
                      params.get("from"), params.get("to"), params.get("year"), params.get("in"),
                      params.get("sort") or "oldest")

    @classmethod
    def of_query_string(cls, text: str) -> Query:
        """``of_params`` of a query string ("person=Ann&person=Bob&from=2019")."""
        from urllib.parse import parse_qs

        values = parse_qs(text, keep_blank_values=True)

        class Params:
            def getlist(self, key: str) -> list[str]:
                return values.get(key, [])

            def get(self, key: str) -> str | None:
                return values.get(key, [None])[0]

        return cls.of_params(Params())

    def asks(self) -> bool:
        """Whether it asks anything (a name or a filter): a question with neither would list everything."""
        return bool(self.people or self.without or self.faces or self.start or self.end or self.folder)

    def in_ids(self, reader: Reader) -> tuple[search.Search, list[str]]:
        """The question in ids for ``db.search``, and the names of its people as stored. PersonNotFound
        (naming the closest names) for a name nobody has; QueryError for one both asked and left out."""
        everyone = reads.person_ids_by_name(reader)
        found = [person_called(reader, name, everyone) for name in self.people]
        left_out = [person_called(reader, name, everyone) for name in self.without]
        both = {person_id for person_id, _ in found} & {person_id for person_id, _ in left_out}
        if both:
            name = next(name for person_id, name in found if person_id in both)
            raise QueryError(f"{name} is both asked for and left out (--not)")
        people = tuple(dict.fromkeys(person_id for person_id, _ in found))
        return search.Search(people, self.match, tuple(person_id for person_id, _ in left_out), self.min_score, self.faces,
                             self.start, self.end, self.folder, self.sort), [name for _, name in found]


@dataclass(frozen=True)
class FoundFace:
    """A face of the people asked in a photo found: its person, ``box`` [x, y, w, h] in pixels of the upright
    photo, score 0–1 (names given by hand score 1), who named it (a LabelSource), and in a video the time
    of its frame and the span of the appearance (seconds from the start)."""

    face_id: int
    person: str
    box: list[int]
    score: float
    source: str
    time: float | None = None
    span: tuple[float, float] | None = None

    def as_dict(self) -> dict:
        shown = {"face_id": self.face_id, "person": self.person, "box": self.box, "score": round(self.score, 4),
                 "source": self.source}
        return shown | ({"time": round(self.time, 3)} if self.time is not None else {})


@dataclass(frozen=True)
class Found:
    """A photo answering a question: its path, when it was taken (the local time as written; its offset
    from UTC in minutes where known; where it was read, a TakenFrom, None when not read yet), the names it
    shows (by name), how many faces it has, the faces of the people asked (best first; a video's in time),
    the other files of its shot, a video's length (seconds) and, for a video, the spans in which the people
    asked appear together (all of them at once; with --any, any of them), seconds from its start."""

    photo_id: int
    path: str
    taken: datetime | None
    offset: int | None
    taken_from: str | None
    people: list[str]
    faces: int
    matches: list[FoundFace]
    other_files: list[str] = field(default_factory=list)
    duration: float | None = None
    together: list[tuple[float, float]] | None = None

    def as_dict(self) -> dict:
        shown = {"photo": self.path, "taken": taken_text(self.taken, self.offset, iso=True),
                 "taken_from": self.taken_from, "people": self.people, "faces": self.faces,
                 "matches": [face.as_dict() for face in self.matches], "files": [self.path, *self.other_files]}
        if self.duration is not None:
            shown["duration"] = self.duration
            shown["together"] = [[round(start, 3), round(end, 3)] for start, end in self.together or []]
        return shown


def taken_text(at: datetime | None, offset: int | None, iso: bool = False) -> str | None:
    """A date taken as shown: ISO 8601 with its offset where known ("2019-06-01T14:03:07+02:00"), or for
    people "2019-06-01 14:03"; None when not known."""
    if at is None:
        return None
    if not iso:
        return at.strftime("%Y-%m-%d %H:%M")
    moment = at.replace(tzinfo=timezone(timedelta(minutes=offset))) if offset is not None else at
    return moment.isoformat()


def find(reader: Reader, query: Query, limit: int | None = None, offset: int = 0) -> list[Found]:
    """The photos answering ``query``, in its order: ``limit`` of them after the ``offset`` first (None:
    all). PersonNotFound or QueryError when it cannot be asked."""
    asked, _ = query.in_ids(reader)
    ids = search.photo_ids(reader, asked, limit, offset)
    return _described(reader, ids, asked)


def count(reader: Reader, query: Query) -> int:
    """How many photos answer ``query``."""
    asked, _ = query.in_ids(reader)
    return search.photo_count(reader, asked)


def _described(reader: Reader, ids: list[int], asked: search.Search) -> list[Found]:
    rows = search.found_rows(reader, ids)
    shown = search.people_shown(reader, ids)
    matches: dict[int, list[FoundFace]] = {}
    for face in search.faces_of_people(reader, ids, asked.people, asked.min_score) if asked.people else []:
        matches.setdefault(face.photo_id, []).append(
            FoundFace(face.face_id, face.person, list(face.box), 1.0 if face.score is None else float(face.score),
                      face.source, face.time, face.span))
    others = search.companions_of(reader, ids)
    found = []
    for photo_id in ids:
        row, (faces, names) = rows[photo_id], shown.get(photo_id, (0, []))
        video = row.duration is not None
        mine = sorted(matches.get(photo_id, []),
                      key=lambda face: (face.time or 0, face.face_id) if video else (-face.score, face.face_id))
        found.append(Found(photo_id, row.path, as_datetime(row.taken_at), row.taken_offset, row.taken_from,
                           sorted(names, key=lambda name: (name.lower(), name)), faces, mine, others.get(photo_id, []),
                           row.duration, _together(mine, asked) if video else None))
    return found


def _together(matches: list[FoundFace], asked: search.Search) -> list[tuple[float, float]]:
    """The spans of a video in which the people asked appear together: all of them at once (with ANY: any
    of them), each person's appearances merged."""
    by_person: dict[str, list[tuple[float, float]]] = {}
    for face in matches:
        if face.span is not None:
            by_person.setdefault(face.person, []).append(face.span)
    spans = [_merged(found) for found in by_person.values()]
    if not spans:
        return []
    if asked.match is Match.ANY:
        return _merged([span for found in spans for span in found])
    if len(spans) < len(asked.people):
        return []
    common = spans[0]
    for other in spans[1:]:
        common = [(max(a, c), min(b, d)) for a, b in common for c, d in other if max(a, c) <= min(b, d)]
    return common


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class Neighbours:
    """Where a photo is in the list it was opened from: the photos before and after it (None at an end),
    its place (from 1) among how many."""

    previous: int | None
    next: int | None
    position: int
    total: int


def neighbours(reader: Reader, asked: search.Search, photo_id: int) -> Neighbours | None:
    """Photo ``photo_id``'s neighbours among the photos answering ``asked``, in its order; None when it
    is not one of them."""
    ids = search.photo_ids(reader, asked)
    try:
        at = ids.index(photo_id)
    except ValueError:
        return None
    return Neighbours(ids[at - 1] if at > 0 else None, ids[at + 1] if at + 1 < len(ids) else None, at + 1, len(ids))


def folder_known(reader: Reader, query: Query) -> bool:
    """Whether ``query``'s folder is on disk or holds photos in the index (an unmounted disk's do)."""
    if query.folder is None or Path(query.folder).is_dir():
        return True
    return search.photo_count(reader, search.Search(folder=query.folder)) > 0
