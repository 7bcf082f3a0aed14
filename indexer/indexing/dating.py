"""When each photo was taken: after a run has read its files, the photos with no date yet (new, changed, or
indexed before dates were kept) get one from their headers (``vision.taken``: no pixel decoded, no face
found again), a shot one date for all its files, a batch per transaction.

A shot's date is the best any of its files says (its EXIF before a sidecar's, a sidecar's before a video
container's), else the modification time of the file its faces are read from, told in this machine's zone
and marked "file". The impossible dates passed over on the way are counted (the run's ``dates_ignored``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from indexer.db import queries
from indexer.db.values import TakenFrom
from indexer.library import Library
from indexer.vision.imaging import photo_formats
from indexer.vision.taken import Reading, Taken, here, taken

log = logging.getLogger(__name__)

BATCH = 500  # shots dated per transaction
_BEST_FIRST = (TakenFrom.EXIF, TakenFrom.XMP, TakenFrom.VIDEO, TakenFrom.FILE)
# Not even the file's time could be told (it is none a calendar holds): recorded so, as unknown.
_UNKNOWN = Taken(None, None, TakenFrom.FILE)


@dataclass
class Dating:
    """What dating did: shots dated (an unknown date included), impossible dates passed over, shots whose
    file could not be opened (left for a later run), shots left for the next run (its time budget ran
    out)."""

    dated: int = 0
    ignored: int = 0
    unread: int = 0
    remaining: int = 0


def date_photos(library: Library, under: Iterable[str] | None = None, bars_disabled: bool | None = None,
                out_of_time: Callable[[], bool] = lambda: False) -> Dating:
    """Date the shots not dated yet whose first file's path starts with one of ``under`` (None: all), until
    ``out_of_time()``. The caller holds the writer lock."""
    with library.session() as session:
        shots = queries.undated_shots(session)
    if under is not None:
        prefixes = tuple(under)
        shots = [shot for shot in shots if shot.path.startswith(prefixes)]
    done = Dating()
    if not shots:
        return done
    formats = photo_formats(library.config.library.extensions)
    with tqdm(total=len(shots), desc="dating", unit=" photos", disable=bars_disabled, leave=False) as bar:
        for start in range(0, len(shots), BATCH):
            if out_of_time():
                done.remaining = len(shots) - start
                log.warning("time budget used up: the dates of %d photo(s) are left for the next run", done.remaining)
                break
            dates = []
            for shot in shots[start : start + BATCH]:
                bar.update()
                try:
                    reading = shot_date(shot, formats)
                except OSError:  # not to be seen now (a disk not mounted?): dated by a later run
                    done.unread += 1
                    continue
                done.ignored += reading.ignored
                when = reading.taken or _UNKNOWN
                dates += [(photo_id, when.at, when.offset, when.source.value) for photo_id, _, _ in shot.files]
                done.dated += 1
            with library.transaction() as session:
                queries.set_dates(session, dates)
    if done.unread:
        log.info("%d photo(s) could not be opened to read when they were taken: a later run dates them", done.unread)
    return done


def shot_date(shot: queries.ShotToDate, formats: Iterable[str]) -> Reading:
    """The date of a shot (see the module); Reading(None) when not even its file's time can be told (the
    date is unknown). OSError when the file its faces are read from cannot be opened now (a file of it
    that cannot be is passed over)."""
    formats = tuple(formats)
    found: list[Taken] = []
    ignored = 0
    for number, (_, path, _) in enumerate(shot.files):
        try:
            reading = taken(path, formats, _sidecars(path))
        except OSError:
            if number == 0:
                raise
            continue
        ignored += reading.ignored
        if reading.taken is not None:
            found.append(reading.taken)
            if reading.taken.source is TakenFrom.EXIF:
                break
    if found:
        return Reading(min(found, key=lambda t: _BEST_FIRST.index(t.source)), ignored)
    _, _, mtime_ns = shot.files[0]
    try:
        fallback = here(mtime_ns / 1e9, TakenFrom.FILE)
    except (OverflowError, OSError, ValueError):  # a time no calendar holds
        return Reading(None, ignored + 1)
    if not fallback.possible():
        return Reading(None, ignored + 1)
    return Reading(fallback, ignored)


def _sidecars(path: str) -> list[bytes]:
    """The XMP of the sidecars beside ``path`` (either naming: photo.jpg.xmp, photo.xmp), those that are
    regular files of a sane size."""
    from indexer.outputs.xmp.photos import SIDECAR_NAMINGS, read_sidecar, sidecar_path

    found = []
    for naming in SIDECAR_NAMINGS:
        sidecar = sidecar_path(Path(path), naming)
        if sidecar != Path(path) and os.path.lexists(sidecar):
            try:
                data = read_sidecar(sidecar)
            except OSError:  # unreadable, a link, a FIFO, too large (UnsafeFile): it says nothing
                continue
            if data:
                found.append(data)
    return found
