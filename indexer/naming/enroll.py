"""``indexer enroll``: name people from photos that show them — the largest face of each photo.

The photos are indexed like library photos (all their faces are stored and searchable), wherever they
are, and the largest face of each is labelled by hand with the person's name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.db import queries
from indexer.errors import IndexerError
from indexer.library import Library
from indexer.naming.labels import by_hand
from indexer.naming.names import clean_name
from indexer.indexing.run import index_files
from indexer.files import absolute


@dataclass
class EnrollReport:
    """``enrolled``: (person, photo path, face id) for each photo whose largest face was named;
    ``no_face``: photos in which no face was found; ``failed``: (photo path, reason) for photos that
    could not be read."""

    enrolled: list[tuple[str, str, int]] = field(default_factory=list)
    no_face: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def people(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for person, _, _ in self.enrolled:
            counts[person] = counts.get(person, 0) + 1
        return counts


def people_folders(folders: list[Path], extensions: frozenset[str]) -> dict[str, list[str]]:
    """The seed's layout: each sub-folder of each folder is a person (its name), and the photos under
    it (recursively, hidden files left out) show them."""
    found: dict[str, list[str]] = {}
    for folder in folders:
        if not folder.is_dir():
            raise IndexerError(f"not a folder: {folder}")
        subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not subfolders:
            raise IndexerError(f"{folder} has no sub-folders: make one folder per person, named after them")
        for person_dir in subfolders:
            found.setdefault(person_dir.name, []).extend(_photos_under(person_dir, extensions))
    return found


def _photos_under(folder: Path, extensions: frozenset[str]) -> list[str]:
    photos = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        photos += [os.path.join(dirpath, f) for f in sorted(filenames)
                   if not f.startswith(".") and os.path.splitext(f)[1][1:].lower() in extensions]
    return [absolute(p) for p in photos]


def enroll(library: Library, photos_by_person: dict[str, list[str]], progress: bool | None = None) -> EnrollReport:
    """Index the photos and name the largest face of each after its person (a manual label)."""
    cleaned = {clean_name(name): photos for name, photos in photos_by_person.items()}
    report = EnrollReport()
    paths = [path for photos in cleaned.values() for path in photos]
    if not paths:
        raise IndexerError("no photos to enroll (photo files end in " + ", ".join(sorted(library.config.library.extensions)) + ")")
    for path in paths:
        if not os.path.lexists(path):
            raise IndexerError(f"no such file: {path}")
    with library.writer_lock("enroll"):
        _index_and_name(library, cleaned, paths, report, progress)
    return report


def _index_and_name(library: Library, cleaned: dict[str, list[str]], paths: list[str], report: EnrollReport,
                    progress: bool | None) -> None:
    indexed = {result.path: result for result in index_files(library, paths, progress)}
    with by_hand(library, "enroll") as naming:
        for name, photos in cleaned.items():
            person = None
            for path in photos:
                result = indexed[path]
                if result.photo_id is None:
                    report.failed.append((path, result.error or "could not be indexed"))
                    continue
                faces = queries.faces_of_photo(naming.session, result.photo_id)
                if not faces:
                    report.no_face.append(path)
                    continue
                largest = max(faces, key=lambda f: (f.box_w * f.box_h, f.detection))
                person = person or naming.person(name)
                naming.name(largest, person)
                report.enrolled.append((person.name, path, largest.id))
        people = [f"{name} ({n})" for name, n in report.people().items()]
        shown = ", ".join(people[:5]) + (f" and {len(people) - 5} more" if len(people) > 5 else "")
        naming.says(f"enrolled {len(report.enrolled)} photo(s) of {shown}")
