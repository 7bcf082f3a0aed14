"""Photos: what the database remembers of each file, moves, failures, removals, counts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from indexer.db.models import Face, LostName, Photo, Rejection
from indexer.db.values import USERS_WORD, FaceOrigin, TakenFrom
from indexer.db.reader import chunks

from indexer.db.queries.faces import delete_faces_of
from indexer.db.queries.rows import in_id_order

__all__ = [
    "add_photo", "photo_by_id",
    "forget_settings",
    "KnownPhoto", "known_photos", "count_photos_under", "photo_outcomes", "move_photos", "touch_photo",
    "mark_failed", "delete_photos", "indexed_photo_paths", "photo_paths",
    "holding_users_work", "record_companion", "record_shot_checks",
    "ShotToDate", "undated_shots", "set_dates",
]


@dataclass(frozen=True)
class KnownPhoto:
    """What the database remembers of a file, enough to tell whether it changed."""

    id: int
    path: str
    size: int
    mtime_ns: int
    failed: bool  # it could not be indexed last time
    face_settings: str | None  # the settings it was indexed with (Config.face_settings)
    content_hash: str | None  # sha256 of its bytes (None before schema 0003)
    lead_id: int | None = None  # the file of its shot its faces are read from (None: itself)
    shot_checked: str | None = None  # the digest of its name's files when its shot was last decided
    limit_hit: str | None = None  # the limit its last reading hit (a db.values.LimitHit)


def known_photos(session: Session, paths: Iterable[str] | None = None) -> dict[str, KnownPhoto]:
    """Every file the database knows (indexed or failed), by path; only ``paths`` when given."""
    query = select(
        Photo.id, Photo.path, Photo.size, Photo.mtime_ns, Photo.error.is_not(None), Photo.analysis, Photo.content_hash,
        Photo.shot_lead_id, Photo.shot_checked, Photo.limit_hit,
    )
    if paths is None:
        return {row[1]: KnownPhoto(*row) for row in session.execute(query)}
    paths = list(paths)
    found = {}
    for chunk in chunks(paths):
        found |= {row[1]: KnownPhoto(*row) for row in session.execute(query.where(Photo.path.in_(chunk)))}
    return found


def count_photos_under(session: Session, prefix: str) -> int:
    """How many photos (indexed or failed) have a path starting with ``prefix`` (a folder ending in "/")."""
    return session.scalar(select(func.count()).select_from(Photo).where(func.substr(Photo.path, 1, len(prefix)) == prefix)) or 0


def photo_outcomes(session: Session, paths: list[str]) -> dict[str, tuple[int | None, str | None]]:
    """path -> (photo id, None) for each of ``paths`` indexed, (None, reason) for each that failed."""
    found = {}
    for chunk in chunks(paths):
        rows = session.execute(select(Photo.path, Photo.id, Photo.error).where(Photo.path.in_(chunk)))
        found |= {path: (None, error) if error is not None else (photo_id, None) for path, photo_id, error in rows}
    return found


def move_photos(session: Session, moves: list[tuple[int, str, int, int]]) -> None:
    """Give photos new paths, sizes and modification times: (photo id, path, size, mtime_ns) each. Paths
    may be exchanged between the photos moved (a swap of two files): each first gets a path no file has
    (a relative one: every stored path is absolute; and no NUL, which PostgreSQL's text refuses)."""
    for photo_id, _, _, _ in moves:
        session.execute(update(Photo).where(Photo.id == photo_id).values(path=f"moving:{photo_id}"))
    for photo_id, path, size, mtime_ns in moves:
        session.execute(update(Photo).where(Photo.id == photo_id).values(path=path, size=size, mtime_ns=mtime_ns))


def touch_photo(session: Session, photo_id: int, size: int, mtime_ns: int) -> None:
    """A photo's file was found with the content it was indexed from, under a new size or time: record
    those, and that it reads (again)."""
    session.execute(update(Photo).where(Photo.id == photo_id).values(
        size=size, mtime_ns=mtime_ns, error=None,
        # a date that was the file's own time is read again: that time changed
        taken_from=case((Photo.taken_from == TakenFrom.FILE.value, None), else_=Photo.taken_from)))


def mark_failed(session: Session, photo_id: int, error: str, when: datetime, limit_hit: str | None = None) -> None:
    """A known photo could not be read this time: record why (and the limit it hit, a LimitHit), and keep
    everything it had (faces, names, size and content hash of the last good read), so it is read again
    next run (a stopped one when it changes) and nothing is lost."""
    session.execute(update(Photo).where(Photo.id == photo_id).values(error=error, indexed_at=when, limit_hit=limit_hit))


def delete_photos(session: Session, photo_ids: Iterable[int]) -> list[int]:
    """Delete these photos and their faces; returns the deleted face ids. A file that was one shot with
    a deleted photo is its own photo again (read for its faces by the next run)."""
    photo_ids = list(photo_ids)
    removed = delete_faces_of(session, photo_ids)
    for chunk in chunks(photo_ids):
        session.execute(delete(Photo).where(Photo.id.in_(chunk)))
        session.execute(update(Photo).where(Photo.shot_lead_id.in_(chunk)).values(shot_lead_id=None, analysis=None))
    return removed


def indexed_photo_paths(session: Session, chunk: int = 50_000) -> Iterator[list[tuple[int, str]]]:
    """(id, path) of every indexed photo (not failed), ``chunk`` at a time."""
    query = select(Photo.id, Photo.path).where(Photo.error.is_(None))
    for rows in in_id_order(session, query, Photo.id, chunk):
        yield [(r[0], r[1]) for r in rows]


def forget_settings(session: Session, photo_ids: list[int]) -> None:
    """Have these photos indexed again by the next run, as if indexed with other settings."""
    for chunk in chunks(photo_ids):
        session.execute(update(Photo).where(Photo.id.in_(chunk)).values(analysis=None))


def add_photo(session: Session, path: str) -> Photo:
    photo = Photo(path=path)
    session.add(photo)
    return photo


def photo_by_id(session: Session, photo_id: int) -> Photo | None:
    return session.get(Photo, photo_id)


def photo_paths(session: Session, photo_ids) -> dict[int, str]:
    """photo id -> path."""
    ids = list(photo_ids)
    found: dict[int, str] = {}
    for chunk in chunks(ids):
        found.update(session.execute(select(Photo.id, Photo.path).where(Photo.id.in_(chunk))).all())
    return found



def holding_users_work(session: Session, photo_ids: Iterable[int]) -> set[int]:
    """Which of these photos hold anything of the user's: a name given (or cleared) by hand, a face drawn
    by hand or said not to be somebody, a lost name."""
    ids = list(photo_ids)
    found: set[int] = set()
    for chunk in chunks(ids):
        found.update(session.scalars(select(Face.photo_id).where(
            Face.photo_id.in_(chunk), Face.label_source.in_(USERS_WORD) | (Face.origin == FaceOrigin.DRAWN))))
        found.update(session.scalars(select(Face.photo_id).join(Rejection, Rejection.face_id == Face.id)
                                     .where(Face.photo_id.in_(chunk))))
        found.update(session.scalars(select(LostName.photo_id).where(LostName.photo_id.in_(chunk))))
    return found


def record_companion(session: Session, photo_id: int | None, path: str, size: int, mtime_ns: int,
                     content_hash: str | None, lead_id: int, upright: tuple[int, int] | None, settings: str,
                     when: datetime) -> None:
    """A file of a shot whose faces are those of photo ``lead_id`` (``indexing.shots``): its record made
    (``photo_id`` None) or brought up to date; it has no faces of its own. ``upright``: its size once
    decoded upright (None: not known)."""
    photo = session.get(Photo, photo_id) if photo_id is not None else None
    if photo is None:
        photo = Photo(path=path)
        session.add(photo)
    photo.path, photo.size, photo.mtime_ns, photo.content_hash = path, size, mtime_ns, content_hash
    photo.width, photo.height = upright if upright is not None else (None, None)
    photo.shot_lead_id, photo.analysis, photo.error, photo.indexed_at, photo.limit_hit = lead_id, settings, None, when, None
    photo.taken_from = None  # its shot is dated again (indexing.dating): this file may say more than the others


def record_shot_checks(session: Session, checks: dict[str, str]) -> None:
    """Record on each photo at a path of ``checks`` the digest of its name's files (``indexing.shots``)."""
    for path, digest in checks.items():
        session.execute(update(Photo).where(Photo.path == path).values(shot_checked=digest))


@dataclass(frozen=True)
class ShotToDate:
    """A shot (a photo and the files of its shot) with a file whose date is not read yet: its files as
    (photo id, path, mtime_ns), the one its faces are read from first."""

    files: list[tuple[int, str, int]]

    @property
    def path(self) -> str:
        return self.files[0][1]


def undated_shots(session: Session) -> list[ShotToDate]:
    """Every shot with a file not dated yet (``photos.taken_from`` NULL), files that could not be read
    aside, by the path of its first file."""
    shot = func.coalesce(Photo.shot_lead_id, Photo.id)
    undated = select(shot).where(Photo.taken_from.is_(None), Photo.error.is_(None))
    rows = session.execute(select(shot, Photo.id, Photo.path, Photo.mtime_ns)
                           .where(Photo.error.is_(None), shot.in_(undated))
                           .order_by(shot, Photo.shot_lead_id.is_not(None), Photo.id))
    shots: dict[int, list[tuple[int, str, int]]] = {}
    for lead, photo_id, path, mtime_ns in rows:
        shots.setdefault(lead, []).append((photo_id, path, mtime_ns))
    return sorted((ShotToDate(files) for files in shots.values()), key=lambda shot: shot.path)


def set_dates(session: Session, dates: list[tuple[int, datetime | None, int | None, str]]) -> None:
    """Record when photos were taken: (photo id, local time as written, offset in minutes east or None,
    a TakenFrom) each."""
    if dates:
        session.execute(update(Photo), [{"id": photo_id, "taken_at": at, "taken_offset": offset, "taken_from": source}
                                        for photo_id, at, offset, source in dates])
