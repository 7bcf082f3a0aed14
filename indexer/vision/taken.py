"""When a picture was taken, read from the file's own headers — never its pixels: EXIF DateTimeOriginal, else
CreateDate (DateTimeDigitized), else the TIFF DateTime, each with its offset from UTC where the file says it
(OffsetTimeOriginal, OffsetTimeDigitized, OffsetTime); the same tags in camera RAW files (the TIFF-based ones
read as TIFF, a CR3's in its CMT boxes, a RAF's in its embedded JPEG); a video's container creation time
(Apple's creation date first: it keeps the local time and its offset; a plain creation_time is UTC, told as
this machine's local time: ``here``); and, where the picture says nothing,
its XMP sidecar's exif:DateTimeOriginal, photoshop:DateCreated or xmp:CreateDate. ``taken`` says which
(``TakenFrom``), or None: then the caller falls back on the file's time.

Impossible values are not taken: a date that is no date ("0000:00:00 00:00:00", blanks), the first day of
1970 (what a camera with no clock set writes), a year before photography, a date in the future
(``Taken.possible``).
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from indexer.db.values import TakenFrom
from indexer.files import open_regular
from indexer.vision.media import RAW_FORMAT, ending, is_raw, read_as_video

# EXIF tags (in IFD0 and the Exif IFD)
_DATE_TIME, _EXIF_IFD = 0x0132, 0x8769
_ORIGINAL, _DIGITIZED = 0x9003, 0x9004
_OFFSET, _OFFSET_ORIGINAL, _OFFSET_DIGITIZED = 0x9010, 0x9011, 0x9012
HEADER_BYTES = 1 << 20  # the most of a RAW read to find its dates (they are in its first kilobytes)
FIRST_YEAR = 1826  # the oldest photograph there is


@dataclass(frozen=True)
class Taken:
    """A date taken: the local time as the camera wrote it (naive; None: not known), the offset from UTC
    where known (minutes east), and where it was read."""

    at: datetime | None
    offset: int | None
    source: TakenFrom

    def possible(self, now: datetime | None = None) -> bool:
        """Not a date a camera writes when it knows none: the first day of 1970, a year before photography,
        later than a day from ``now`` (UTC)."""
        now = now or datetime.now(UTC).replace(tzinfo=None)
        utc = self.at - timedelta(minutes=self.offset or 0)
        return self.at.year >= FIRST_YEAR and self.at.date() != datetime(1970, 1, 1).date() and utc <= now + timedelta(days=1)


@dataclass(frozen=True)
class Reading:
    """What a file's headers said: the date taken (None: none), and how many impossible dates were passed
    over to reach it."""

    taken: Taken | None
    ignored: int = 0


def taken(path: str | Path, formats: Iterable[str], sidecars: Iterable[bytes] = ()) -> Reading:
    """When the picture at ``path`` was taken (see the module), from its headers, else from ``sidecars``
    (the XMP of its sidecars, as read). Nothing is decoded; a file whose headers make no sense says
    nothing. OSError when the file cannot be opened (gone, unreadable, no regular file): nothing is known."""
    with open_regular(path):
        pass
    found: list[Taken | None] = []
    try:
        if read_as_video(path, formats):
            found = [_video_taken(path)]
        elif RAW_FORMAT in formats and is_raw(path):
            found = _raw_taken(path)
        else:
            found = _pillow_taken(path)
    except Exception:  # a file its decoder refuses, cut short, or no regular file: it says nothing
        found = []
    for sidecar in sidecars:
        found += _xmp_taken(sidecar)
    ignored = 0
    for candidate in found:
        if candidate is None:
            continue
        if candidate.possible():
            return Reading(candidate, ignored)
        ignored += 1
    return Reading(None, ignored)


def _exif_taken(tags: dict[int, object]) -> list[Taken | None]:
    """The dates of EXIF tags (a merged IFD0 and Exif IFD), best first."""
    return [_parsed(tags.get(date), tags.get(offset), TakenFrom.EXIF)
            for date, offset in ((_ORIGINAL, _OFFSET_ORIGINAL), (_DIGITIZED, _OFFSET_DIGITIZED), (_DATE_TIME, _OFFSET))]


def _parsed(value: object, offset: object, source: TakenFrom) -> Taken | None:
    """An EXIF date ("YYYY:MM:DD HH:MM:SS", maybe with sub-seconds or an ISO "T") and offset ("+02:00")."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    found = re.match(r"\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?", value)
    if found is None:
        return None
    try:
        at = datetime(*(int(part or 0) for part in found.groups()))
    except ValueError:  # 0000:00:00, a 13th month…: a date written, and impossible
        at = datetime.min  # which ``possible`` refuses, and the reading counts
    return Taken(at, _minutes(offset), source)


def _minutes(offset: object) -> int | None:
    """An offset from UTC ("+02:00", "-0530", "Z") in minutes east, or None."""
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if not isinstance(offset, str):
        return None
    if offset.strip() == "Z":
        return 0
    found = re.fullmatch(r"\s*([+-])(\d{2}):?(\d{2})\s*", offset)
    if found is None:
        return None
    minutes = int(found.group(2)) * 60 + int(found.group(3))
    return -minutes if found.group(1) == "-" else minutes


def _pillow_taken(path: str | Path) -> list[Taken | None]:
    """The EXIF dates of a picture Pillow reads (JPEG, HEIC, PNG, WebP, AVIF, TIFF), from its header."""
    from PIL import Image

    import indexer.vision.imaging  # noqa: F401  (Pillow reads HEIC once it is imported)

    with open_regular(path) as file, Image.open(file) as image:
        exif = image.getexif()
        tags = dict(exif) | dict(exif.get_ifd(_EXIF_IFD))
    return _exif_taken(tags)


def _raw_taken(path: str | Path) -> list[Taken | None]:
    """The EXIF dates of a camera RAW: TIFF-based (DNG, CR2, NEF, ARW, PEF, SRW, ORF, RW2), a CR3's CMT
    boxes, a RAF's embedded JPEG."""
    with open_regular(path) as file:
        head = file.read(HEADER_BYTES)
    if head.startswith(b"FUJIFILMCCD-RAW"):
        start, length = struct.unpack(">II", head[84:92])
        with open_regular(path) as file:
            file.seek(start)
            return _pillow_taken_of(file.read(min(length, HEADER_BYTES)))
    if ending(path) == "cr3":
        tags: dict[int, object] = {}
        for box in (b"CMT1", b"CMT2"):
            where = head.find(box)
            if where >= 0:
                tags |= _tiff_tags(head, where + 4, follow_exif=False)
        return _exif_taken(tags)
    return _exif_taken(_tiff_tags(head, 0, follow_exif=True))


def _pillow_taken_of(data: bytes) -> list[Taken | None]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return _exif_taken(dict(exif) | dict(exif.get_ifd(_EXIF_IFD)))


def _tiff_tags(data: bytes, start: int, follow_exif: bool) -> dict[int, object]:
    """The ASCII tags of the first IFD of a TIFF structure at ``data[start:]`` (offsets relative to it), and
    of its Exif IFD when ``follow_exif``. Any byte order and magic (ORF's "RO", RW2's "U")."""
    order = {b"II": "<", b"MM": ">"}.get(data[start : start + 2])
    if order is None:
        raise ValueError("not a TIFF structure")
    (first,) = struct.unpack(order + "I", data[start + 4 : start + 8])
    tags = _ifd(data, start, start + first, order)
    if follow_exif and isinstance(tags.get(_EXIF_IFD), int):
        tags |= _ifd(data, start, start + tags[_EXIF_IFD], order)
    return tags


def _ifd(data: bytes, start: int, at: int, order: str) -> dict[int, object]:
    """The ASCII values (and the Exif IFD pointer) of one IFD of a TIFF structure."""
    (count,) = struct.unpack(order + "H", data[at : at + 2])
    found: dict[int, object] = {}
    for entry in range(min(count, 1000)):
        tag, kind, number, value = struct.unpack(order + "HHII", data[at + 2 + 12 * entry : at + 14 + 12 * entry])
        if tag == _EXIF_IFD and kind in (4, 13):
            found[tag] = value
        elif kind == 2:  # ASCII: in the entry when 4 bytes or fewer, else at its offset
            raw = data[at + 10 + 12 * entry : at + 10 + 12 * entry + number] if number <= 4 else data[start + value : start + value + number]
            found[tag] = raw.split(b"\0", 1)[0].decode("ascii", "replace")
    return found


def _video_taken(path: str | Path) -> Taken | None:
    """A video's creation time from its container (Apple's creationdate keeps the local time and offset;
    creation_time is UTC)."""
    import av

    from indexer.files import regular_file

    with regular_file(path) as readable, av.open(readable, metadata_errors="ignore") as container:
        tags = {key.lower(): value for key, value in container.metadata.items()}
        for stream in container.streams:
            tags |= {key.lower(): value for key, value in stream.metadata.items() if key.lower() not in tags}
    local = tags.get("com.apple.quicktime.creationdate")
    if local and (found := _iso_taken(local, TakenFrom.VIDEO)) is not None:
        return found
    utc = _parsed(tags.get("creation_time"), "Z", TakenFrom.VIDEO)  # "2019-06-01T12:03:07.000000Z": UTC
    return here(utc.at.replace(tzinfo=UTC).timestamp(), TakenFrom.VIDEO) if utc is not None else None


def here(seconds: float, source: TakenFrom) -> Taken:
    """The moment ``seconds`` after the epoch (UTC) as a local time of this machine's zone, with its offset:
    how a time a file holds in UTC alone (a video's creation_time, a file's modification time) is told."""
    local = datetime.fromtimestamp(seconds).astimezone()
    offset = local.utcoffset()
    return Taken(local.replace(tzinfo=None, microsecond=0), round(offset.total_seconds() / 60) if offset is not None else None,
                 source)


_XMP_DATES = ("{http://ns.adobe.com/exif/1.0/}DateTimeOriginal", "{http://ns.adobe.com/photoshop/1.0/}DateCreated",
              "{http://ns.adobe.com/xap/1.0/}CreateDate")


def _xmp_taken(xmp: bytes) -> list[Taken | None]:
    """The dates of an XMP packet: exif:DateTimeOriginal, photoshop:DateCreated, xmp:CreateDate (ISO 8601:
    a date alone, or a time with or without seconds and offset), written as attributes or elements."""
    import defusedxml.ElementTree as safe

    try:
        root = safe.fromstring(xmp, forbid_dtd=True)
    except Exception:  # not XMP at all (or a DTD, an entity bomb): it says nothing
        return []
    found = []
    for name in _XMP_DATES:
        for node in root.iter():
            value = node.attrib.get(name) or (node.text if node.tag == name else None)
            if value:
                found.append(_iso_taken(value, TakenFrom.XMP))
                break
    return found


def _iso_taken(value: str, source: TakenFrom) -> Taken | None:
    """An ISO 8601 date ("2019-06-01", "2019-06-01T14:03", "2019-06-01T14:03:07.5+02:00"; a date alone is
    taken at midnight, its offset unknown)."""
    iso = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(:\d{2})?(?:\.\d+)?([+-]\d{2}:?\d{2}|Z)?)?\s*", value)
    if iso is None:
        return None
    day, clock, seconds, offset = iso.groups()
    return _parsed(f"{day}T{clock or '00:00'}{seconds or ':00'}", offset, source)
