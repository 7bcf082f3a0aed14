"""What the index holds of one photo (``indexer show``) and the files it could not read (``indexer
errors``), from the database alone (plain SQL, ``db.reads``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from indexer.db import reads
from indexer.config import LibraryConfig
from indexer.db.reader import Reader, as_datetime
from indexer.db.values import LimitHit
from indexer.errors import IndexerError
from indexer.files import absolute


@dataclass(frozen=True)
class StoredFace:
    """A face as stored: ``box`` [x, y, w, h] in pixels of the upright photo, detector confidence 0–1,
    the person's name (None: unnamed), the score 0–1 of that name, who gave it (a LabelSource, or None),
    and where the face comes from (a FaceOrigin: "detected", or "drawn" by hand). A face whose name was
    cleared by hand has no person and source "manual"."""

    face_id: int
    box: list[int]
    detection: float
    person: str | None
    score: float | None
    source: str | None
    origin: str
    time: float | None = None  # in a video: seconds from its start of the frame the box is from
    span: list[float] | None = None  # in a video: [from, to] seconds, the appearance

    def as_dict(self) -> dict:
        """As JSON shows it: a photo's face without the video fields."""
        shown = asdict(self)
        if self.time is None:
            del shown["time"], shown["span"]
        return shown


def stored_faces(reader: Reader, photo_id: int) -> list[StoredFace]:
    """The faces of one photo as stored, left to right (a video's in time)."""
    return [StoredFace(face.face_id, list(face.box), round(face.detection, 4), face.person,
                       face.score if face.person else None, face.source, face.origin, face.time,
                       list(face.span) if face.time is not None else None)
            for face in reads.faces_of_photo(reader, photo_id)]


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
    shot: list[str] = field(default_factory=list)  # every file of its shot, the one read for faces first
    faces_from: str | None = None  # the file of its shot its faces were read from, when not itself
    duration: float | None = None  # a video's length, seconds (None: a photo)

    def as_dict(self) -> dict:
        shown = asdict(self)
        shown["faces"] = [face.as_dict() for face in self.faces]
        if self.duration is None:
            del shown["duration"]
        return shown


def photo_id(reader: Reader, photo: str) -> int:
    """The id of ``photo`` (a path as the user typed it) in the index; IndexerError when it holds none."""
    row = reads.photo_by_path(reader, absolute(photo))
    if row is None:
        raise IndexerError(f"not in the index: {photo} (`indexer index` its folder first)")
    return row.id


def photo_record(reader: Reader, photo: str) -> PhotoRecord:
    """What the index holds of ``photo`` (a path as the user typed it); IndexerError when it holds nothing."""
    row = reads.photo_by_path(reader, absolute(photo))
    if row is None:
        raise IndexerError(f"not in the index: {photo} (`indexer index` its folder, or ask `indexer who-is`)")
    faces, shot, faces_from = faces_of_file(reader, row.id, row.width, row.height)
    return PhotoRecord(row.path, row.width, row.height, row.size, as_datetime(row.indexed_at), row.error, faces, shot,
                       faces_from, row.duration)


def faces_of_file(reader: Reader, photo_id: int, width: int | None, height: int | None,
                  ) -> tuple[list[StoredFace], list[str], str | None]:
    """The faces of one file (``width`` × ``height`` upright pixels) — its own, or, for a file of a shot
    whose faces were read from another file of it, those, in its own pixels —, every file of its shot, and
    the file they were read from when not itself."""
    lead_id, lead_path, lead_width, lead_height, shot = reads.shot_of_photo(reader, photo_id)
    faces = stored_faces(reader, lead_id)
    if lead_id == photo_id:
        return faces, shot, None
    if width and height and lead_width and lead_height:
        fx, fy = width / lead_width, height / lead_height
        faces = [replace(face, box=[round(face.box[0] * fx), round(face.box[1] * fy), round(face.box[2] * fx),
                                    round(face.box[3] * fy)]) for face in faces]
    return faces, shot, lead_path


@dataclass(frozen=True)
class FailedFile:
    path: str
    reason: str
    tried_at: datetime  # when it was last tried (UTC)
    indexed: bool = False  # indexed, but a limit cut its reading short (``reason`` says which)


def failed_files(reader: Reader, settings: LibraryConfig | None = None) -> list[FailedFile]:
    """The files that could not be indexed, and those a limit cut short (``settings``: the limits, to say
    them), by path."""
    cuts = settings.max_cut_samples_per_minute if settings is not None else LibraryConfig.max_cut_samples_per_minute
    cut_short = {LimitHit.SAMPLED: f"it has more cuts than [library] max_cut_samples_per_minute ({cuts}) allows to look "
                                   "at: indexed from fewer of its frames"}
    return [FailedFile(path, reason if reason is not None else cut_short.get(limit, limit), as_datetime(tried_at),
                       reason is None) for path, reason, tried_at, limit in reads.failed_photos(reader)]
