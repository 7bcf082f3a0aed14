"""Everyone named (``indexer people``), who is with whom (``people --with``), and which person a name typed
means, from the database alone: plain SQL (``db.reads``, ``db.search``), no model, no FAISS and, on SQLite,
no SQLAlchemy, so a cold ``people`` takes a fraction of a second."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.db import reads, search
from indexer.db.reader import Reader
from indexer.naming.names import match_name, person_not_found


@dataclass(frozen=True)
class PersonCounts:
    id: int
    name: str
    faces: int
    photos: int
    manual_faces: int  # named by hand (the references recognition learns from)
    first_seen: int | None = None  # the year their first photo was taken (None: no date known)
    last_seen: int | None = None  # the year of their last


def people(reader: Reader) -> list[PersonCounts]:
    """Everyone, by name (ignoring case), with how many faces and photos show them and the years they were
    first and last seen."""
    years = search.years_seen(reader)
    return [PersonCounts(*row, *years.get(row[0], (None, None))) for row in reads.people_with_counts(reader)]


@dataclass(frozen=True)
class Companion:
    """Somebody shown with a person: their name, and in how many photos together."""

    person: str
    photos: int


def people_with(reader: Reader, name: str, min_score: float = 0.0) -> tuple[str, list[Companion]]:
    """(The name as stored of the person called ``name``, the people shown in photos with them: most
    photos shared first, then by name.) A face counts when it scores ``min_score`` or more (0–1).
    PersonNotFound, naming the closest names, when nobody is called ``name``."""
    person_id, found = person_called(reader, name)
    return found, [Companion(other, shared) for _, other, shared in search.shared_photos(reader, person_id, min_score)]


def person_called(reader: Reader, name: str, everyone: dict[str, int] | None = None) -> tuple[int, str]:
    """(id, name as stored) of the person called ``name`` (see ``match_name``: case and Unicode form aside);
    PersonNotFound, naming the closest names, when nobody is. How the CLI and the app turn a name typed into
    the id the naming commands take. ``everyone``: name → id of everyone, when already read."""
    everyone = everyone if everyone is not None else reads.person_ids_by_name(reader)
    found = match_name(name, list(everyone))
    if found is None:
        raise person_not_found(name, list(everyone))
    return everyone[found], found
